"""Left-padded time-major batches for the fast graph, length buckets, sparse-update columns.

Batches are time-major ``(T, B)`` int32 blocks with a float mask (1 = token,
0 = padding), **left padded**: sequences end at the last row, so a truncated
scan ("only the last k steps") still sees the last k real tokens of every
sequence.  A masked step keeps the previous state exactly
(``switch(mask, new, prev)``), so leading padding leaves the zero initial
state untouched, and masked positions add exactly 0 to the loss and to every
gradient.  :func:`pad_batch` builds such blocks.  One sentence is the
``(T, 1)`` block with a mask of ones.
"""

from __future__ import annotations

import numpy as np
import pytensor

from theano_rnn.data.batching import bucket_length, pad_pairs

__all__ = ["LOSS_CHUNK_ELEMENTS", "bucket_length", "pad_batch", "sentence_batches", "unique_columns"]

#: logits elements per chunk when ``calculate_total_loss`` batches sentences
LOSS_CHUNK_ELEMENTS = 1 << 22


def pad_batch(X, Y, length=None, multiple=None, dtype=None):
    """Left-pad sentences into a time-major batch.

    Args:
        X, Y: sequences of equally long integer sequences (inputs, targets).
        length: force ``T`` (``ValueError`` if a sentence is longer).
        multiple: round ``T`` up to a multiple of this (length buckets, for
            backends that need static shapes).
        dtype: the mask's dtype (default ``pytensor.config.floatX``).
    Returns ``(x, y, mask)``: int32 ``(T, B)``, int32 ``(T, B)`` and a float
    ``(T, B)`` mask, 1 on the tokens, 0 on the padding; sentence ``b`` fills
    rows ``T - len(X[b]) .. T - 1`` of column ``b`` (right-aligned).
    """
    return pad_pairs(X, Y, "left", length=length, multiple=multiple,
                     dtype=dtype or pytensor.config.floatX)


def sentence_batches(lengths, word_dim, elements=LOSS_CHUNK_ELEMENTS):
    """Index lists grouping sentences of similar length (sorted by length)
    so that each batch's padded logits, ``T * B * word_dim``, stay within
    ``elements`` (one sentence at least).  Empty sentences are left out."""
    order = sorted((i for i, n in enumerate(lengths) if n > 0), key=lambda i: lengths[i])
    batches, current, longest = [], [], 0
    for i in order:
        n = lengths[i]
        if current and max(longest, n) * (len(current) + 1) * word_dim > elements:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    return batches


def unique_columns(x, word_dim, pad_to=None):
    """``(uniq, inv)`` for RMSprop's sparse update of a token block ``x``.

    ``pad_to`` (static shapes) extends ``uniq`` with distinct *untouched*
    columns up to ``min(pad_to, word_dim)`` entries; their gradient is 0, so
    their update is the dense formula's (cache decays, parameter unchanged).
    """
    flat = np.asarray(x, dtype=np.int32).reshape(-1)
    uniq, inv = np.unique(flat, return_inverse=True)
    if pad_to is not None:
        want = min(int(pad_to), int(word_dim))
        if len(uniq) < want:
            spare = np.setdiff1d(np.arange(word_dim, dtype=uniq.dtype), uniq, assume_unique=True)
            uniq = np.concatenate([uniq, spare[: want - len(uniq)]])
    return uniq.astype(np.int32), inv.reshape(-1).astype(np.int32)
