"""Tests for theano_rnn.data.batching: one padder, the side by argument (issue 11, item 5)."""

from __future__ import annotations

import numpy as np
import pytest

from theano_rnn.data import batching, seq
from theano_rnn.errors import DataError
from theano_rnn.graphs.fast import pad_batch


def test_left_and_right_padding():
    X, M = batching.pad([[1, 2, 3], [4]], "right", pad_value=9)
    np.testing.assert_array_equal(X, [[1, 4], [2, 9], [3, 9]])
    np.testing.assert_array_equal(M, [[1, 1], [1, 0], [1, 0]])
    X, M = batching.pad([[1, 2, 3], [4]], "left", pad_value=9)
    np.testing.assert_array_equal(X, [[1, 9], [2, 9], [3, 4]])
    np.testing.assert_array_equal(M, [[1, 0], [1, 0], [1, 1]])
    assert X.dtype == np.int32 and M.dtype == np.float64
    assert batching.pad([[1]], length=5, multiple=4)[0].shape == (8, 1)
    with pytest.raises(DataError, match="padding side must be 'left' or 'right', got 'top'"):
        batching.pad([[1]], "top")
    with pytest.raises(DataError, match="sequence 1 of the batch is empty"):
        batching.pad([[1], []])
    with pytest.raises(DataError, match="at least one sequence"):
        batching.pad([])


def test_pad_batch_is_left_padded_pairs():
    X, Y = [[1, 2, 3], [4]], [[2, 3, 5], [6]]
    for got, want in zip(pad_batch(X, Y, dtype="float64"),
                         batching.pad_pairs(X, Y, "left", dtype="float64")):
        np.testing.assert_array_equal(got, want)
    x, y, m = batching.pad_pairs(X, Y, "right")
    np.testing.assert_array_equal(x, [[1, 4], [2, 0], [3, 0]])
    np.testing.assert_array_equal(m, [[1, 1], [1, 0], [1, 0]])


def test_seq_batches_are_right_padded_through_batching():
    assert seq.cloze_batch is batching.cloze_batch and seq.class_batch is batching.class_batch
    X, M, pos, y = batching.cloze_batch([[5, 6, 7], [8, 9]], [1, 0], blank_index=0)
    np.testing.assert_array_equal(X, [[5, 0], [0, 9], [7, 0]])
    np.testing.assert_array_equal(M, [[1, 1], [1, 1], [1, 0]])
    assert pos.tolist() == [1, 0] and y.tolist() == [6, 8]


def test_char_streams_continue_across_batches():
    ids = np.arange(13, dtype=np.int32)
    x, y = batching.char_streams(ids, batch_size=2, seq_length=3)
    assert x.shape == y.shape == (2, 3, 2) and not x.flags.writeable
    np.testing.assert_array_equal(x[:, :, 0].ravel(), [0, 1, 2, 3, 4, 5])  # stream 0
    np.testing.assert_array_equal(x[:, :, 1].ravel(), [6, 7, 8, 9, 10, 11])  # stream 1
    np.testing.assert_array_equal(y[1, :, 1], [10, 11, 0])  # y[-1] = x[0]
