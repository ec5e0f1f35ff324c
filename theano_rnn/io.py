"""Checkpoints: one ``.npz`` per model, readable with plain ``np.load``.

Layout of a file written by :func:`save`:

* the parameters under the tutorials' names (``U``, ``V``, ``W`` for the RNN;
  ``E``, ``U``, ``W``, ``V``, ``b``, ``c`` for the GRU/LSTM), so
  ``np.load(f)["U"]`` works as in the tutorials;
* ``optimizer/<name>``: optimizer state (RMSprop caches ``mE`` ...);
* ``__meta__``: a 0-d unicode array holding JSON (format version, model
  config, caller metadata such as loss history and options);
* ``__vocab__``: the vocabulary as a unicode array (index order);
* ``extra/<name>``: any further arrays the caller passes (RNG state ...).

No pickle is used anywhere (``np.load(allow_pickle=False)`` reads it all).
Files are written to a temporary file in the same directory, flushed,
fsynced and renamed over the target, so a crash never leaves a half-written
checkpoint and never destroys the previous one.

:func:`load` also reads files in the tutorials' original layout (keys
``U, V, W`` only, e.g. the shipped float32 ``trained-model-theano.npz``; or
``E, U, W, V, b, c`` of the GRU/LSTM tutorial) into a model of the right size,
inferring the cell from the keys and the sizes from the shapes.
"""

from __future__ import annotations

import json
import logging
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theano_rnn.cells import get_cell
from theano_rnn.errors import CheckpointError
from theano_rnn.models.catalog import build_model
from theano_rnn.models.layout import infer_layout
from theano_rnn.models.word import model_from_config
from theano_rnn.runtime import files

__all__ = [
    "FORMAT_VERSION",
    "CheckpointError",
    "Checkpoint",
    "save",
    "load",
    "atomic_savez",
    "infer_layout",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
META_KEY = "__meta__"
VOCAB_KEY = "__vocab__"
OPT_PREFIX = "optimizer/"
EXTRA_PREFIX = "extra/"

@dataclass
class Checkpoint:
    """What :func:`load` returns: a ready model plus what was stored with it."""

    model: object
    index_to_word: list | None = None
    metadata: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    path: str | None = None

    @property
    def word_to_index(self):
        if self.index_to_word is None:
            return None
        return {w: i for i, w in enumerate(self.index_to_word)}


def atomic_savez(path, arrays):
    """``np.savez`` through :func:`theano_rnn.runtime.files.atomic_savez` (temp file, fsync, rename).

    A missing directory raises :class:`CheckpointError`; a failed write (disk
    full, ``ulimit -f``, no permission) one :class:`OSError` with a one-line
    message (``cannot write X: No space left on device (the previous X is
    unchanged)``), the previous file left as it was and no temp file behind.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CheckpointError(f"cannot write checkpoint {path}: directory {directory} does not exist")
    return files.atomic_savez(path, arrays)


def save(path, model, *, index_to_word=None, metadata=None, extra=None, optimizer_state=True):
    """Write ``model`` (and its vocabulary, metadata, optimizer state) atomically.

    Args:
        path: target file; ``.npz`` is *not* appended (unlike ``np.savez``).
        model: a :class:`~theano_rnn.models.word.RecurrentLM` (or anything with
            ``config()``, ``get_params()`` and ``get_optimizer_state()``).
        index_to_word: the vocabulary in index order (words or characters).
        metadata: JSON-serialisable dict (options, loss history, epoch ...).
        extra: further arrays, stored as ``extra/<name>``.
        optimizer_state: also store the optimizer's caches (default True).
    Returns the path written.
    """
    arrays = dict(model.get_params())
    if optimizer_state and hasattr(model, "get_optimizer_state"):
        for name, value in model.get_optimizer_state().items():
            arrays[OPT_PREFIX + name] = value
    meta = {"format": "theano_rnn", "format_version": FORMAT_VERSION, "model": model.config()}
    if metadata:
        meta["metadata"] = metadata
    try:
        arrays[META_KEY] = np.array(json.dumps(meta, sort_keys=True))
    except TypeError as exc:
        raise CheckpointError(f"checkpoint metadata is not JSON-serialisable: {exc}") from None
    if index_to_word is not None:
        if len(index_to_word) != model.word_dim:
            raise CheckpointError(
                f"vocabulary has {len(index_to_word)} entries but the model's word_dim is "
                f"{model.word_dim}"
            )
        arrays[VOCAB_KEY] = np.array([str(w) for w in index_to_word], dtype=str)
    for name, value in (extra or {}).items():
        arrays[EXTRA_PREFIX + name] = np.asarray(value)
    return atomic_savez(path, arrays)


def _damage(path, exc):
    """What is wrong with a checkpoint file ``np.load`` could not read, in a few words."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
        size = path.stat().st_size
    except OSError as err:
        return f"cannot read it ({err.strerror or err})"
    if size == 0:
        return "the file is empty (0 bytes)"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not a .npz checkpoint"
    if not head.startswith(b"PK"):
        return f"not a .npz checkpoint (not a zip archive; {size} bytes)"
    if isinstance(exc, zipfile.BadZipFile) and "not a zip file" in str(exc):
        return f"the file is truncated ({size} bytes; a zip archive without its end)"
    return (f"the file is corrupt ({size} bytes; a damaged zip archive: "
            f"{' '.join(str(exc).split()) or type(exc).__name__})")


def _open(path):
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such checkpoint: {path}")
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):  # a .npy file
            raise ValueError("not an .npz archive")
        with data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {_damage(path, exc)}") from None


def load_arrays(path):
    """All arrays of a checkpoint, name -> ndarray (no model built)."""
    return _open(path)


def read_metadata(path):
    """The JSON metadata of a checkpoint written by :func:`save` (``{}`` if none)."""
    arrays = _open(path)
    if META_KEY not in arrays:
        return {}
    return json.loads(str(arrays[META_KEY]))


def load(path, *, mode=None, cell=None, model_class=None, **overrides):
    """Load a checkpoint into a ready model.

    Args:
        path: a file written by :func:`save`, or in a tutorial's layout.
        mode: backend for the rebuilt model (``"C"``, ``"NUMBA"``, ``"JAX"``).
        cell: expected cell (``"rnn"``/``"gru"``/``"lstm"``); a mismatch
            raises :class:`CheckpointError`.  For tutorial files it also
            resolves layouts that fit both a GRU and an LSTM.
        model_class: build this class (``model_class.from_config``) instead
            of the one recorded; by default the class recorded in the file is
            looked up in :mod:`theano_rnn.models.registry`.
        overrides: model keyword arguments to override (e.g.
            ``bptt_truncate``) when rebuilding.
    Returns a :class:`Checkpoint` with ``.model``, ``.index_to_word``,
    ``.metadata`` and ``.extra``.
    """
    arrays = _open(path)
    if cell is None and model_class is not None:
        cell = getattr(model_class, "cell_name", None)
    meta = None
    if META_KEY in arrays:
        try:
            meta = json.loads(str(arrays[META_KEY]))
            config = dict(meta["model"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"checkpoint {path}: unreadable metadata ({exc})") from None
    params = {
        k: v for k, v in arrays.items() if not k.startswith(("__", OPT_PREFIX, EXTRA_PREFIX))
    }
    shapes = {k: v.shape for k, v in params.items()}
    if meta is not None:
        recorded = config.get("cell")
        if cell is not None and get_cell(cell).name != recorded:
            raise CheckpointError(
                f"checkpoint {path} holds a {str(recorded).upper()}, not a "
                f"{get_cell(cell).name.upper()}"
            )
    else:
        try:
            cell_name, C, H, L = infer_layout(shapes, cell)
        except CheckpointError as exc:
            raise CheckpointError(f"checkpoint {path}: {exc}") from None
        config = {
            "cell": cell_name,
            "word_dim": C,
            "hidden_dim": H,
            "num_layers": L,
            "input_mode": get_cell(cell_name).input_mode_of(shapes),
        }
        # a word-level model of the inferred cell; no bptt_truncate: the model
        # class's default applies (RNNTheano's 4)
        log.info(
            "%s: tutorial layout without metadata: %s, word_dim=%d, hidden_dim=%d, layers=%d",
            path, cell_name.upper(), C, H, L,
        )
    config.update(overrides)
    try:  # each model checks its parameters' layout (word and char models: infer_layout)
        if model_class is not None:
            model = model_class.from_config(config, params=params, mode=mode)
        elif meta is None:  # a tutorial layout
            model = model_from_config(config, params=params, mode=mode)
        else:  # the class recorded in the file, from the registry
            model = build_model(config, params=params, mode=mode)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path}: {exc}") from None
    opt = {k[len(OPT_PREFIX):]: v for k, v in arrays.items() if k.startswith(OPT_PREFIX)}
    if opt and model.get_optimizer_state():
        try:
            model.set_optimizer_state(opt)
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {path}: {exc}") from None
    vocab = None
    if VOCAB_KEY in arrays:
        vocab = [str(w) for w in arrays[VOCAB_KEY].tolist()]
    extra = {k[len(EXTRA_PREFIX):]: v for k, v in arrays.items() if k.startswith(EXTRA_PREFIX)}
    metadata = (meta or {}).get("metadata", {})
    return Checkpoint(model=model, index_to_word=vocab, metadata=metadata, extra=extra, path=str(path))
