"""TakeRows / AddRows: the gather and its scatter-add gradient against PyTensor's own."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn.compat import get_mode
from theano_rnn.graphs.rows import AddRows, TakeRows, take_rows


@pytest.mark.parametrize("n", [1, 7])
def test_take_rows_and_its_gradient_equal_pytensor_gather(n):
    rng = np.random.default_rng(0)
    table = pt.matrix("table")
    idx = pt.ivector("idx")
    d = pt.matrix("d")
    ours = take_rows(table, idx)
    plain = take_rows(table, idx, numpy_ops=False)
    assert isinstance(ours.owner.op, TakeRows)
    g_ours = pytensor.grad(None, table, known_grads={ours: d})
    g_plain = pytensor.grad(None, table, known_grads={plain: d})
    assert isinstance(g_ours.owner.op, AddRows)
    f = pytensor.function([table, idx, d], [ours, plain, g_ours, g_plain], mode=get_mode("C"))
    T = rng.standard_normal((5, 3))
    i = rng.integers(0, 5, n).astype(np.int32)  # repeats when n = 7
    D = rng.standard_normal((n, 3))
    a, b, ga, gb = f(T, i, D)
    np.testing.assert_array_equal(a, T[i])
    np.testing.assert_array_equal(b, T[i])
    expect = np.zeros_like(T)
    np.add.at(expect, i, D)
    np.testing.assert_array_equal(ga, expect)  # the same order of additions
    np.testing.assert_allclose(gb, expect, rtol=1e-12)


def test_take_rows_refuses_bad_inputs():
    with pytest.raises(TypeError, match="integer"):
        TakeRows()(pt.matrix(), pt.vector())
