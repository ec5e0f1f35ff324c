r"""MetaRNN files: a self-describing ``.npz``, and an importer for his pickles.

gwtaylor's ``MetaRNN.save`` pickled ``(params, weights)``: the constructor
arguments and the list ``[W, W_in, W_out, h0, bh, by]``.  Loading a pickle
runs whatever code it names, so this project never writes one.  The
``.npz`` holds the six arrays under their names plus ``__format__``
(``"theano_rnn.elman/1"``) and ``__params__`` (the constructor arguments as
JSON; ``rng`` is not stored); it is read with ``allow_pickle=False``.

:func:`convert_pickle` turns one of his pickles into that ``.npz``.  It
refuses to run unless ``trusted=True`` says the caller knows where the file
came from (unpickling an untrusted file can run arbitrary code).
"""

from __future__ import annotations

import datetime
import json
import os
import pickle
from pathlib import Path

import numpy as np

from theano_rnn.errors import CheckpointError
from theano_rnn.runtime.files import atomic_savez

__all__ = ["FORMAT", "WEIGHT_NAMES", "target_path", "read_state", "convert_pickle", "write_state"]

FORMAT = "theano_rnn.elman/1"
WEIGHT_NAMES = ("W", "W_in", "W_out", "h0", "bh", "by")
_NOT_STORED = ("rng",)


def _target(fpath, fname):
    """His naming: a path ending in the extension is the file; otherwise a
    dated ``MetaRNN.<date>.npz`` in the directory ``fpath``."""
    fpath = str(fpath)
    if os.path.splitext(fpath)[1] == ".npz":
        return Path(fpath)
    if fname is None:
        fname = "MetaRNN.%s.npz" % datetime.datetime.now().strftime("%Y-%m-%d-%H:%M:%S")
    return Path(fpath) / fname


def write_state(path, params, weights, *, overwrite=False):
    """Write ``params`` (dict) and ``weights`` (six arrays, his order) to ``path``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    params = {k: v for k, v in params.items() if k not in _NOT_STORED}
    if params.get("mode") is not None and not isinstance(params["mode"], str):
        params["mode"] = str(params["mode"])
    weights = list(weights)
    if len(weights) != len(WEIGHT_NAMES):
        raise ValueError(f"expected {len(WEIGHT_NAMES)} weight arrays, got {len(weights)}")
    arrays = {name: np.asarray(w) for name, w in zip(WEIGHT_NAMES, weights)}
    arrays["__format__"] = np.array(FORMAT)
    arrays["__params__"] = np.array(json.dumps(params, sort_keys=True))
    return atomic_savez(path, arrays)


def target_path(fpath=".", fname=None):
    """Where ``MetaRNN.save(fpath, fname)`` writes (his naming, ``.npz``)."""
    return _target(fpath, fname)


def read_state(path):
    """``(params, weights)`` from a MetaRNN ``.npz``; :class:`CheckpointError` if it is not one."""
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "__format__" not in keys or str(z["__format__"]) != FORMAT:
                raise CheckpointError(f"{path}: not a MetaRNN file (no __format__ {FORMAT!r})")
            missing = [k for k in WEIGHT_NAMES + ("__params__",) if k not in keys]
            if missing:
                raise CheckpointError(f"{path}: missing {', '.join(missing)}")
            params = json.loads(str(z["__params__"]))
            weights = [z[k] for k in WEIGHT_NAMES]
    except (OSError, ValueError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    return params, weights


def convert_pickle(pkl_path, npz_path, *, trusted=False, overwrite=False):
    """Convert a pickle written by gwtaylor's ``MetaRNN.save`` into a ``.npz``.

    ``trusted=True`` is required: the pickle is loaded with :mod:`pickle`
    (``encoding="latin1"`` for Python 2 files), which can run arbitrary code.
    Only the ``(params, weights)`` tuple his ``__getstate__`` writes is
    accepted.  Returns the ``.npz`` path.
    """
    if trusted is not True:
        raise PermissionError(
            f"refusing to unpickle {pkl_path}: unpickling runs code named in the file; "
            "pass trusted=True only for a pickle whose origin you trust")
    with open(pkl_path, "rb") as fh:
        state = pickle.load(fh, encoding="latin1")  # noqa: S301 - the caller vouched for it
    if not (isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict)):
        raise CheckpointError(f"{pkl_path}: not a MetaRNN state (params, weights)")
    params, weights = state
    return write_state(npz_path, dict(params), [np.asarray(w) for w in weights],
                       overwrite=overwrite)
