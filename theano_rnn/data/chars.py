"""Character-level corpus pipeline of Karpathy's char-rnn, made Unicode-aware.

This is ``util/CharSplitLMMinibatchLoader.lua`` of ``karpathy/char-rnn``
(``text_to_tensor`` + ``create`` + ``next_batch``) with the change of its
Chinese forks: the text is read as *characters* (code points), not bytes, and
characters rarer than ``min_freq`` can be folded into one unknown symbol.

Pipeline::

    file bytes -> decode (strict, default UTF-8) -> CRLF to LF
               -> CharVocab (sorted by code point, min_freq) -> int32 ids
               -> CharLoader: trim to a multiple of batch_size * seq_length,
                  y = x shifted by one (y[-1] = x[0]), (batch_size, -1) streams
                  cut into seq_length chunks, train / val / test by batch counts

Behaviour kept from char-rnn:

* The vocabulary is every distinct character sorted by code point (Lua's
  ``table.sort`` on UTF-8 byte strings gives the same order).
* The data is cut to ``batch_size * seq_length * floor(len / (batch_size *
  seq_length))`` characters; ``ydata`` is ``xdata`` shifted left by one with
  ``ydata[-1] = xdata[0]``.  Both are viewed as ``batch_size`` contiguous
  streams and split along time into chunks of ``seq_length``, so batch
  ``i + 1`` continues every stream of batch ``i``: a trainer can carry the
  hidden state across consecutive batches (truncated BPTT of ``seq_length``).
* Split counts: ``ntrain = floor(nbatches * train_frac)``; when ``test_frac``
  is 0, ``nval = nbatches - ntrain`` and ``ntest = 0``; otherwise ``nval =
  floor(nbatches * val_frac)`` and ``ntest`` is the rest.  Val batches follow
  the train batches and test batches follow val.  ``next_batch`` cycles
  through a split with one pointer per split.

Differences from char-rnn, all deliberate:

* Characters, not bytes; ``\\r\\n`` is normalised to ``\\n`` (the 红楼梦 file
  has CRLF line endings) and a leading byte-order mark (U+FEFF) is dropped.
  Lone ``\\r`` characters are kept.
* Characters occurring fewer than ``min_freq`` times map to an unknown symbol
  (default U+FFFD REPLACEMENT CHARACTER), which is in the vocabulary only when
  something maps to it.  If the requested symbol already occurs in the text,
  the first private-use character (U+E000 upward) that does not occur is used
  instead, and a log message says so.
* A corpus must hold at least ``batch_size * seq_length + 1`` characters (one
  full batch whose targets are all real next characters); a shorter one is a
  :class:`DataError` rather than an empty loader.  (char-rnn accepts exactly
  ``batch_size * seq_length``; its only target would then wrap around.)
* Split guarantees on top of the counts above: when ``train_frac > 0`` the
  train split gets at least one batch (taken from val or test); when
  ``val_frac > 0`` and there are at least two batches, val gets at least one
  (taken from train if it has more than one, else from test).  char-rnn can
  produce an empty train split (one batch, ``train_frac`` 0.95) or an empty
  val split (e.g. 10 batches with fractions 0.9 / 0.05 / 0.05) and then crash
  or never validate.
* Batches are **time-major** int32 arrays ``x``, ``y`` of shape
  ``(seq_length, batch_size)`` (the models scan over time); char-rnn's are
  ``(batch_size, seq_length)``.
* Bad input raises :class:`~theano_rnn.data.words.DataError` with a one-line message.
* The preprocessed ids and vocabulary are cached as an ``.npz`` file (no
  pickle), keyed by the sha256 of the file's bytes, ``min_freq`` and the
  encoding, instead of char-rnn's ``vocab.t7`` / ``data.t7`` keyed by mtime;
  see :func:`load_corpus` for where the cache goes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import numbers
import os
import re
from collections import namedtuple
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from theano_rnn.data import text as text_io
from theano_rnn.data.batching import char_streams
from theano_rnn.data.cache import CACHE_FORMAT, CACHE_SUFFIX, cache_key, cache_path_for, read_cache
from theano_rnn.data.cache import user_cache_dir, write_cache
from theano_rnn.data.checks import check_int
from theano_rnn.data.vocab import DEFAULT_UNKNOWN, CharVocab, Vocab
from theano_rnn.errors import DataError

__all__ = [
    "DEFAULT_UNKNOWN",
    "SPLITS",
    "CACHE_SUFFIX",
    "CACHE_FORMAT",
    "SplitSizes",
    "CharVocab",
    "CharLoader",
    "read_chars",
    "decode_bytes",
    "load_corpus",
    "cache_path_for",
    "user_cache_dir",
    "read_poems_json",
    "strip_fortune_markup",
]

log = logging.getLogger(__name__)

#: Split names, in data order.
SPLITS = ("train", "val", "test")

_ENCODING_HINT = "; pass --encoding to read it with another encoding (e.g. --encoding gb18030)"

SplitSizes = namedtuple("SplitSizes", SPLITS)
SplitSizes.__doc__ = "Number of batches in each split: ``(train, val, test)``."


# --------------------------------------------------------------------------- reading


def decode_bytes(data: bytes, path: str | os.PathLike = "<bytes>", encoding: str = "utf-8") -> str:
    """Decode ``data`` strictly, normalise CRLF to LF and drop a leading BOM.

    Raises:
        DataError: naming ``path`` and the byte offset (and line) of the first
            byte that is not valid ``encoding`` (:func:`theano_rnn.data.text.decode_bytes`).
    """
    text = text_io.decode_bytes(data, path, encoding, hint=_ENCODING_HINT).replace("\r\n", "\n")
    if not text:
        raise DataError(f"{path} is empty")
    return text


def read_chars(path: str | os.PathLike, encoding: str = "utf-8", max_bytes: int | None = None) -> str:
    """Read a text file as characters (not bytes).

    The file is decoded strictly with ``encoding``; ``\\r\\n`` becomes ``\\n``
    (lone ``\\r`` is kept) and a leading byte-order mark is dropped.

    Raises:
        DataError: the file is missing, not a regular file, larger than
            ``max_bytes`` (default: :mod:`theano_rnn.data.text`'s limit),
            unreadable, empty (``"... is empty"``) or not valid ``encoding`` (the message gives the byte offset of the
            first bad byte and suggests ``--encoding``).
    """
    path = Path(path)
    return decode_bytes(text_io.read_bytes(path, max_bytes), path, encoding)


# --------------------------------------------------------------------------- loader


def _split_counts(nbatches: int, fractions: tuple[float, float, float]) -> SplitSizes:
    train_frac, val_frac, test_frac = fractions
    ntrain = math.floor(nbatches * train_frac)
    if test_frac == 0:
        nval = nbatches - ntrain
        ntest = 0
    else:
        nval = math.floor(nbatches * val_frac)
        ntest = nbatches - ntrain - nval
    if train_frac > 0 and ntrain == 0:
        if nval >= ntest and nval > 0:
            nval -= 1
        else:
            ntest -= 1
        ntrain = 1
    if val_frac > 0 and nval == 0 and nbatches >= 2:
        if ntrain > 1:
            ntrain -= 1
        else:
            ntest -= 1
        nval = 1
    assert ntrain + nval + ntest == nbatches and min(ntrain, nval, ntest) >= 0
    return SplitSizes(ntrain, nval, ntest)


def _check_fractions(split_fractions) -> tuple[float, float, float]:
    try:
        fr = [float(f) for f in split_fractions]
    except (TypeError, ValueError):
        raise DataError(f"split_fractions must be 2 or 3 numbers, got {split_fractions!r}") from None
    if len(fr) == 2:  # train.lua: test_frac = max(0, 1 - (train_frac + val_frac))
        test_frac = 1.0 - (fr[0] + fr[1])
        fr.append(test_frac if test_frac > 1e-12 else 0.0)
    if len(fr) != 3:
        raise DataError(f"split_fractions must be 2 or 3 numbers, got {split_fractions!r}")
    for name, f in zip(SPLITS, fr):
        if not 0.0 <= f <= 1.0:
            raise DataError(f"bad split fraction {f} for {name}, not between 0 and 1")
    if abs(sum(fr) - 1.0) > 1e-6:
        raise DataError(f"split fractions {tuple(fr)} must add up to 1")
    return fr[0], fr[1], fr[2]


class CharLoader:
    """char-rnn's minibatch loader over an encoded corpus.

    Args:
        text_or_ids: the corpus as a ``str`` (encoded with ``vocab``) or a 1-D
            integer array of ids.
        vocab: the :class:`CharVocab`.
        batch_size: number of parallel streams (>= 1).
        seq_length: time steps per batch, the truncated-BPTT length (>= 1).
        split_fractions: ``(train, val, test)`` fractions of the batches, each
            in [0, 1] and adding up to 1; ``(train, val)`` means test gets the
            rest, as in ``train.lua``.

    Batches are ``(x, y)`` int32 arrays of shape ``(seq_length, batch_size)``
    with ``y[t, b]`` the character after ``x[t, b]``.  Column ``b`` of batch
    ``i + 1`` continues column ``b`` of batch ``i`` in the text.
    """

    def __init__(
        self,
        text_or_ids,
        vocab: CharVocab,
        batch_size: int = 50,
        seq_length: int = 50,
        split_fractions: Sequence[float] = (0.95, 0.05, 0.0),
    ):
        if not isinstance(vocab, Vocab) or not vocab.chars:
            raise DataError(f"vocab must be a CharVocab, got {type(vocab).__name__}")
        self.batch_size = batch_size = check_int(batch_size, "batch_size")
        self.seq_length = seq_length = check_int(seq_length, "seq_length")
        self.split_fractions = _check_fractions(split_fractions)
        self.vocab = vocab
        data = self._as_ids(text_or_ids, vocab)

        n = len(data)
        per_batch = batch_size * seq_length
        if n < per_batch + 1:
            raise DataError(
                f"corpus of {n} characters is shorter than one batch (batch_size × seq_length + 1"
                f" = {batch_size} × {seq_length} + 1 = {per_batch + 1}); use a smaller batch_size"
                " or seq_length"
            )
        nbatches = n // per_batch
        used = nbatches * per_batch
        if used != n:
            log.debug("cutting off the last %d characters so the batches divide evenly", n - used)
        self._x, self._y = char_streams(data, batch_size, seq_length)
        self.n_chars = n
        self.n_used = used
        self.nbatches = nbatches
        self.split_sizes = _split_counts(nbatches, self.split_fractions)
        self._offsets = {
            "train": 0,
            "val": self.split_sizes.train,
            "test": self.split_sizes.train + self.split_sizes.val,
        }
        self._pointer = {s: 0 for s in SPLITS}
        if nbatches < 50:
            log.warning(
                "only %d batches in the data; with a corpus this small you probably want a "
                "smaller batch_size and/or seq_length", nbatches,
            )
        log.info(
            "char data: %d characters, %d batches of %d x %d; train %d, val %d, test %d",
            n, nbatches, seq_length, batch_size, *self.split_sizes,
        )

    @staticmethod
    def _as_ids(text_or_ids, vocab: CharVocab) -> np.ndarray:
        if isinstance(text_or_ids, str):
            return vocab.encode(text_or_ids)
        arr = np.asarray(text_or_ids)
        if arr.ndim != 1:
            raise DataError(f"ids must be a 1-D array, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise DataError(f"ids must be integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= len(vocab)):
            raise DataError(
                f"ids range over [{int(arr.min())}, {int(arr.max())}] but the vocabulary has "
                f"{len(vocab)} characters"
            )
        return arr.astype(np.int32)

    # ----------------------------------------------------------------- access

    def _split(self, split: str) -> str:
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return split

    def num_batches(self, split: str) -> int:
        """Number of batches in ``split`` (``"train"``, ``"val"`` or ``"test"``)."""
        return getattr(self.split_sizes, self._split(split))

    def batch(self, split: str, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``i`` of ``split`` as fresh ``(x, y)`` int32 arrays ``(seq_length, batch_size)``."""
        n = self.num_batches(split)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < n:
            raise DataError(f"batch index {i!r} is out of range for split {split!r} of {n} batches")
        ix = self._offsets[split] + int(i)
        return self._x[ix].copy(), self._y[ix].copy()

    def next_batch(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The batch at ``split``'s pointer; the pointer advances and wraps around."""
        n = self.num_batches(split)
        if n == 0:
            raise DataError(f"split {split!r} has no batches")
        i = self._pointer[split]
        self._pointer[split] = (i + 1) % n
        return self.batch(split, i)

    def batches(self, split: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All batches of ``split`` in order (the pointer is not touched)."""
        for i in range(self.num_batches(split)):
            yield self.batch(split, i)

    def reset(self, split: str | None = None) -> None:
        """Point ``split`` (every split when None) back at its first batch."""
        for s in SPLITS if split is None else (self._split(split),):
            self._pointer[s] = 0

    def state(self) -> dict:
        """The batch pointers (next batch index per split) plus the layout, for exact resume."""
        d = {s: self._pointer[s] for s in SPLITS}
        d.update(batch_size=self.batch_size, seq_length=self.seq_length, nbatches=self.nbatches)
        return d

    def set_state(self, d: dict) -> None:
        """Restore :meth:`state`; the layout keys, when present, must match this loader."""
        if not isinstance(d, dict):
            raise DataError(f"loader state must be a dict, got {type(d).__name__}")
        layout = {"batch_size": self.batch_size, "seq_length": self.seq_length, "nbatches": self.nbatches}
        unknown = set(d) - set(SPLITS) - set(layout)
        if unknown:
            raise DataError(f"unknown loader state keys: {', '.join(sorted(map(str, unknown)))}")
        for key, want in layout.items():
            if key in d and d[key] != want:
                raise DataError(f"loader state is for {key}={d[key]!r}, this loader has {want}")
        new = dict(self._pointer)
        for s in SPLITS:
            if s not in d:
                continue
            v, n = d[s], self.num_batches(s)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v < max(n, 1):
                raise DataError(f"loader state pointer {s}={v!r} is out of range for {n} batches")
            new[s] = int(v)
        self._pointer = new


# --------------------------------------------------------------------------- corpus files


def _preprocess(data: bytes, path: Path, encoding: str, min_freq: int) -> tuple[CharVocab, np.ndarray]:
    """Decode, build the vocabulary and encode: the work the cache saves."""
    text = decode_bytes(data, path, encoding)
    vocab = CharVocab.from_text(text, min_freq=min_freq)
    return vocab, vocab.encode(text)


def load_corpus(
    path: str | os.PathLike,
    batch_size: int = 50,
    seq_length: int = 50,
    min_freq: int = 1,
    encoding: str = "utf-8",
    cache_dir: str | os.PathLike | None = None,
    split_fractions: Sequence[float] = (0.95, 0.05, 0.0),
    max_bytes: int | None = None,
) -> tuple[CharVocab, CharLoader]:
    """Read, encode (cached) and batch a character corpus: ``(vocab, loader)``.

    The ids and vocabulary are cached in an ``.npz`` file (no pickle), keyed
    by the sha256 of the file's bytes, ``min_freq``, the encoding and the cache
    format, so a changed file (or option) is re-read automatically.  The cache
    goes into ``cache_dir`` when given, else the default cache directory
    (``$THEANO_RNN_CACHE_DIR``, ``$XDG_CACHE_HOME/theano_rnn`` or
    ``~/.cache/theano_rnn``; :mod:`theano_rnn.data.cache`), never beside the
    corpus; the log says where.  If no cache can be written the corpus is
    still loaded, with a warning.  Writes are atomic (temp file, fsync,
    ``os.replace``).  Files are read by :func:`theano_rnn.data.text.read_bytes`
    (regular files up to ``max_bytes``).
    """
    batch_size = check_int(batch_size, "batch_size")
    seq_length = check_int(seq_length, "seq_length")
    min_freq = check_int(min_freq, "min_freq")
    encoding = text_io.canonical_encoding(encoding)
    _check_fractions(split_fractions)
    path = Path(path)
    data = text_io.read_bytes(path, max_bytes)
    key = cache_key(hashlib.sha256(data).hexdigest(), min_freq, encoding)
    cache = cache_path_for(path, cache_dir)
    loaded = read_cache(cache, key)
    if loaded is None:
        vocab, ids = _preprocess(data, path, encoding, min_freq)
        write_cache(cache, key, vocab, ids)
    else:
        vocab, ids = loaded
    loader = CharLoader(ids, vocab, batch_size, seq_length, split_fractions)
    return vocab, loader


# --------------------------------------------------------------------------- special corpora


def read_poem_list(p: Path, max_bytes: int | None = None) -> list:
    """The JSON list of poem records in the chinese-poetry file ``p`` (errors name the file)."""
    text = text_io.read_text_file(p, "utf-8", max_bytes, name="UTF-8")
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{p} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(records, list):
        raise DataError(f"{p}: expected a JSON list of poems, got {type(records).__name__}")
    return records


def read_poems_json(paths, max_bytes: int | None = None) -> str:
    """chinese-poetry JSON files as one text.

    Each file is a JSON list of ``{"author", "paragraphs": [...], "title", ...}``.
    A poem is its paragraphs joined by ``"\\n"``; poems are separated by blank
    lines and the text ends with a newline.  Poems without paragraphs are
    skipped.

    Args:
        paths: one path or an iterable of paths, read in order.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    poems: list[str] = []
    n_files = 0
    for p in paths:
        n_files += 1
        p = Path(p)
        for i, rec in enumerate(read_poem_list(p, max_bytes)):
            paras = rec.get("paragraphs") if isinstance(rec, dict) else None
            if not isinstance(paras, list) or not all(isinstance(s, str) for s in paras):
                raise DataError(f"{p}: poem {i} has no 'paragraphs' list of strings")
            lines = [s.strip() for s in paras if s.strip()]
            if lines:
                poems.append("\n".join(lines))
            else:
                log.debug("%s: poem %d has empty paragraphs; skipped", p, i)
    if n_files == 0:
        raise DataError("read_poems_json needs at least one path")
    if not poems:
        raise DataError("no poems found in the JSON files")
    return "\n\n".join(poems) + "\n"


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_FORTUNE_SEP = re.compile(r"^%[ \t]*$", re.MULTILINE)


def strip_fortune_markup(text: str) -> str:
    """A Debian fortune file as plain text.

    ANSI escape sequences (``\\x1b[32m`` ... ``\\x1b[m``) are removed, CRLF
    becomes LF, the entries between ``%`` lines are stripped of surrounding
    blank lines and trailing spaces, empty ones are dropped, and the rest are
    joined with blank lines (ending with a newline).
    """
    text = _ANSI.sub("", text.replace("\r\n", "\n"))
    entries = []
    for chunk in _FORTUNE_SEP.split(text):
        lines = [line.rstrip() for line in chunk.split("\n")]
        entry = "\n".join(lines).strip("\n")
        if entry.strip():
            entries.append(entry)
    if not entries:
        return ""
    return "\n\n".join(entries) + "\n"
