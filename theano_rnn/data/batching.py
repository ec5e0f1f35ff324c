"""The one batching module: padding (side by argument) and the data layer's batch builders.

All batches are **time-major**: ``(T, B)`` int32 token matrices with a
``(T, B)`` 0/1 mask.  The padding side is an argument because the models
need both, on purpose:

* ``side="left"`` (the word LMs, :func:`theano_rnn.graphs.fast.pad_batch`):
  sentence ``b`` fills rows ``T - len .. T - 1``, so every sentence *ends*
  at the last step.  Theano's ``truncate_gradient=k`` back-propagates
  through the last ``k`` steps of the whole scan; left padding makes those
  the last ``k`` steps of every sentence, as for one sentence alone.
* ``side="right"`` (the bidirectional cloze and classification models,
  :mod:`theano_rnn.models.bidir`): sentence ``b`` fills rows ``0 .. len - 1``;
  the backward direction starts from each sequence's own end via the mask.

Padding positions hold ``pad_value`` (masked, so its value never matters).
:func:`char_streams` is char-rnn's stream layout (no padding: the corpus is
cut to whole batches).  Nothing here imports PyTensor.
"""

from __future__ import annotations

import numpy as np

from theano_rnn.data.vocab import as_id_array
from theano_rnn.errors import DataError

__all__ = ["SIDES", "bucket_length", "pad", "pad_pairs", "cloze_batch", "class_batch",
           "char_streams"]

SIDES = ("left", "right")


def bucket_length(n, multiple):
    """``n`` rounded up to a multiple of ``multiple`` (at least ``multiple``)."""
    multiple = int(multiple)
    if multiple < 1:
        raise DataError(f"bucket multiple must be a positive integer, got {multiple}")
    return max(1, -(-int(n) // multiple)) * multiple


def _length(longest: int, length, multiple, prefix: str) -> int:
    T = longest
    if length is not None:
        T = int(length)
        if longest > T:
            raise DataError(f"{prefix}a sentence has {longest} tokens, longer than length={T}")
    if multiple is not None:
        T = bucket_length(T, multiple)
    return T


def _place(out: np.ndarray, b: int, seq, T: int, side: str) -> None:
    n = len(seq)
    if side == "left":
        out[T - n :, b] = seq
    else:
        out[:n, b] = seq


def _check_side(side) -> str:
    if side not in SIDES:
        raise DataError(f"padding side must be 'left' or 'right', got {side!r}")
    return side


def pad(seqs, side: str = "right", pad_value: int = 0, *, length=None, multiple=None,
        dtype="float64") -> tuple[np.ndarray, np.ndarray]:
    """Integer sequences as a padded ``(X, M)``: ``X`` int32 ``(T, B)``, mask ``M`` ``(T, B)``.

    ``T`` is the longest sequence, or ``length``, rounded up to a multiple
    of ``multiple`` when given.  Every sequence needs at least one token.
    """
    _check_side(side)
    seqs = [as_id_array(s, f"sequence {i}") for i, s in enumerate(seqs)]
    if not seqs:
        raise DataError("a batch needs at least one sequence")
    lengths = [len(s) for s in seqs]
    if min(lengths) == 0:
        raise DataError(f"sequence {lengths.index(0)} of the batch is empty")
    T = _length(max(lengths), length, multiple, "")
    X = np.full((T, len(seqs)), pad_value, dtype=np.int32)
    M = np.zeros((T, len(seqs)), dtype=dtype)
    for b, s in enumerate(seqs):
        _place(X, b, s, T, side)
        _place(M, b, np.ones(len(s)), T, side)
    return X, M


def pad_pairs(X, Y, side: str = "left", *, length=None, multiple=None, dtype="float64"):
    """Input/target sentence pairs as ``(x, y, mask)``, each ``(T, B)`` (padding 0).

    The word LMs' batches (:func:`theano_rnn.graphs.fast.pad_batch`, left
    padding).  Each pair must have equally long, non-empty, non-negative
    integer sequences; errors name the sentence.
    """
    _check_side(side)
    X, Y = list(X), list(Y)
    if len(X) != len(Y):
        raise DataError(f"pad_batch: {len(X)} input sequences but {len(Y)} target sequences")
    if not X:
        raise DataError("pad_batch: empty batch (no sentences)")
    xs, ys = [], []
    for i, (a, b) in enumerate(zip(X, Y)):
        a = np.asarray(a)
        b = np.asarray(b)
        if a.ndim != 1 or b.ndim != 1:
            raise DataError(f"pad_batch: sentence {i} is not a 1-d index sequence")
        if len(a) != len(b):
            raise DataError(f"pad_batch: sentence {i} has {len(a)} inputs but {len(b)} targets")
        if len(a) == 0:
            raise DataError(f"pad_batch: sentence {i} is empty (a sentence needs >= 1 token)")
        for arr in (a, b):
            if arr.dtype.kind not in "iu":
                raise DataError(f"pad_batch: sentence {i} holds non-integer values ({arr.dtype})")
            if arr.min() < 0:
                raise DataError(f"pad_batch: sentence {i} holds a negative index")
        xs.append(a)
        ys.append(b)
    T = _length(max(len(a) for a in xs), length, multiple, "pad_batch: ")
    B = len(xs)
    x = np.zeros((T, B), dtype=np.int32)
    y = np.zeros((T, B), dtype=np.int32)
    mask = np.zeros((T, B), dtype=dtype)
    for j, (a, b) in enumerate(zip(xs, ys)):
        _place(x, j, a, T, side)
        _place(y, j, b, T, side)
        _place(mask, j, np.ones(len(a)), T, side)
    return x, y, mask


def cloze_batch(encoded_sentences, positions, blank_index: int = 0):
    """A right-padded, time-major cloze batch.

    Returns ``(X, M, pos, y)``: ``X`` ``(T, B)`` int32 with ``blank_index`` at
    each sentence's blank position (and as padding, masked), ``M`` ``(T, B)``
    float64 0/1, ``pos`` ``(B,)`` int32 and ``y`` ``(B,)`` int32, the original
    token at each blank.
    """
    seqs = [as_id_array(s, f"sentence {i}") for i, s in enumerate(encoded_sentences)]
    pos = np.asarray(positions)
    if pos.ndim != 1 or len(pos) != len(seqs) or (pos.size and pos.dtype.kind not in "iu"):
        raise DataError(
            f"positions must be {len(seqs)} integers (one per sentence), got shape {pos.shape}"
        )
    X, M = pad(seqs, "right", blank_index)
    y = np.empty(len(seqs), dtype=np.int32)
    for b, (s, p) in enumerate(zip(seqs, pos.tolist())):
        if not 0 <= p < len(s):
            raise DataError(f"blank position {p} is outside sentence {b} of {len(s)} tokens")
        if s[p] == blank_index:
            raise DataError(f"sentence {b} already has the blank token at position {p}")
        y[b] = s[p]
        X[p, b] = blank_index
    return X, M, pos.astype(np.int32), y


def class_batch(encoded_seqs, label_ids):
    """A right-padded, time-major classification batch ``(X, M, y)``.

    ``X`` ``(T, B)`` int32 (padding 0, masked), ``M`` ``(T, B)`` float64 0/1,
    ``y`` ``(B,)`` int32.  Every sequence needs at least one token.
    """
    seqs = [as_id_array(s, f"sequence {i}") for i, s in enumerate(encoded_seqs)]
    y = np.asarray(label_ids)
    if y.ndim != 1 or len(y) != len(seqs) or (y.size and y.dtype.kind not in "iu"):
        raise DataError(
            f"label_ids must be {len(seqs)} integers (one per sequence), got shape {y.shape}"
        )
    X, M = pad(seqs, "right", 0)
    return X, M, y.astype(np.int32)


def char_streams(ids: np.ndarray, batch_size: int, seq_length: int) -> tuple[np.ndarray, np.ndarray]:
    """char-rnn's batches of a 1-D id array: ``(x, y)``, each ``(nbatches, seq_length, batch_size)``.

    The ids are cut to ``nbatches * batch_size * seq_length``; ``y`` is ``x``
    shifted left by one with ``y[-1] = x[0]``; both are viewed as
    ``batch_size`` contiguous streams split along time, so batch ``i + 1``
    continues every stream of batch ``i``.  The arrays are read-only.
    """
    nbatches = len(ids) // (batch_size * seq_length)
    xdata = ids[: nbatches * batch_size * seq_length]
    ydata = np.empty_like(xdata)
    ydata[:-1] = xdata[1:]
    ydata[-1] = xdata[0]

    def streams(d: np.ndarray) -> np.ndarray:
        # (B, nbatches * S) streams -> (nbatches, S, B), time-major
        out = np.ascontiguousarray(d.reshape(batch_size, nbatches, seq_length).transpose(1, 2, 0))
        out.flags.writeable = False
        return out

    return streams(xdata), streams(ydata)
