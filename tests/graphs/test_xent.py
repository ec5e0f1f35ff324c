"""SoftmaxXent (the C backend's loss op, one NumPy pass) against the
plain NumPy formula, on extreme and non-finite logits, and bad labels."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn.graphs.ops import SoftmaxXent
from theano_rnn.runtime.modes import get_mode


def reference(logits, y, w):
    """float64 NumPy: ``-log softmax[y]`` and ``w (softmax - onehot(y))``."""
    x = logits.astype(np.float64)
    xs = x - x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(xs).sum(axis=1))
    rows = np.arange(len(y))
    p = np.exp(xs - lse[:, None])
    d = p * w[:, None]
    d[rows, y] -= w
    return lse - xs[rows, y], d


def _fn(dtype, with_grad):
    logits = pt.matrix("logits", dtype=dtype)
    y = pt.lvector("y")
    w = pt.vector("w", dtype=dtype)
    if with_grad:
        outs = SoftmaxXent(True)(logits, y, w)
        return pytensor.function([logits, y, w], outs, mode=get_mode("C"))
    return pytensor.function([logits, y], SoftmaxXent(False)(logits, y), mode=get_mode("C"))


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-13), ("float32", 2e-6)])
@pytest.mark.parametrize("N,C", [(5, 8003), (7, 3), (4, 1)])
def test_equals_the_numpy_formula(dtype, tol, N, C):
    rng = np.random.default_rng(N * C)
    logits = (rng.normal(size=(N, C)) * 20).astype(dtype)
    logits[0] += 300  # a large shift changes nothing (stable)
    y = rng.integers(0, C, N)
    w = rng.random(N).astype(dtype)
    lp, d = _fn(dtype, True)(logits, y, w)
    lp0, d0 = reference(logits, y, w)
    assert lp.dtype == d.dtype == np.dtype(dtype) and d.shape == (N, C)
    np.testing.assert_allclose(lp, lp0, rtol=tol, atol=tol)
    np.testing.assert_allclose(d, d0, rtol=tol, atol=tol)
    np.testing.assert_allclose(_fn(dtype, False)(logits, y), lp, rtol=0, atol=0)


def test_non_finite_logits_give_nan_losses_in_their_rows_only():
    logits = np.zeros((3, 4))
    logits[0, 2] = np.nan
    logits[1, 1] = np.inf
    with np.errstate(invalid="ignore"):
        lp, d = _fn("float64", True)(logits, np.array([0, 1, 2]), np.ones(3))
    assert np.isnan(lp[0]) and np.isnan(lp[1]) and np.isnan(d[0]).all()
    assert lp[2] == pytest.approx(np.log(4.0), rel=1e-15)


def test_a_label_out_of_range_raises():
    with pytest.raises(IndexError, match="label"):
        _fn("float64", False)(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(IndexError, match="label"):
        _fn("float64", False)(np.zeros((2, 3)), np.array([-1, 0]))
