"""The C softmax ops (theano_rnn.runtime.softmax_c) and their installation in the C mode."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad
from pytensor.graph.fg import FunctionGraph
from pytensor.scan.op import Scan
from pytensor.tensor.special import LogSoftmax, Softmax, log_softmax, softmax

from theano_rnn.models.word import GRUTheano, RNNTheano
from theano_rnn.runtime.modes import c_scan_inner_mode, get_mode
from theano_rnn.runtime.softmax_c import (
    C_OPS,
    LogSoftmaxRows,
    SoftmaxRows,
    SoftmaxRowsGrad,
    log_softmax_rows,
    softmax_rows,
    softmax_rows_grad,
)

#: PyTensor's own FAST_RUN on the C VM, without theano_rnn's rewrites (the reference)
PLAIN = Mode(linker="cvm", optimizer="fast_run")
TOL = {"float64": 1e-13, "float32": 2e-6}


@pytest.fixture(autouse=True, scope="module")
def _blas_linked():
    """Build the C mode first: it links the BLAS that PLAIN's graphs use too."""
    get_mode("C")


def _c(inputs, outputs):
    return pytensor.function(inputs, outputs, mode=get_mode("C"))


def _plain(inputs, outputs):
    return pytensor.function(inputs, outputs, mode=PLAIN)


def _ops(fgraph, seen=None):
    """Op classes of a compiled graph, scan inner functions included."""
    found = set()
    for node in fgraph.apply_nodes:
        found.add(type(node.op))
        if isinstance(node.op, Scan):
            found |= _ops(node.op.fn.maker.fgraph)
    return found


def _close(a, b, dtype):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype == np.dtype(dtype)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=TOL[dtype], atol=TOL[dtype] * 1e-3)


SHAPES = [(1, 1), (1, 9), (7, 1), (5, 13), (3, 257)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_grad_equal_pytensor(dtype, shape):
    rng = np.random.RandomState(sum(shape))
    a = (rng.randn(*shape) * 4).astype(dtype)
    g = rng.randn(*shape).astype(dtype)
    x = pt.matrix("x", dtype=dtype)
    gz = pt.matrix("gz", dtype=dtype)
    outs = [softmax(x, axis=-1), log_softmax(x, axis=-1)]
    outs += pytensor.grad(pt.sum(gz * outs[0]) + pt.sum(gz * outs[1] ** 2), x, return_disconnected="zero"),
    f, ref = _c([x, gz], outs), _plain([x, gz], outs)
    ops = _ops(f.maker.fgraph)
    assert {SoftmaxRows, LogSoftmaxRows, SoftmaxRowsGrad} <= ops
    assert not ops & {Softmax, LogSoftmax}
    assert not _ops(ref.maker.fgraph) & set(C_OPS)  # PyTensor's own FAST_RUN untouched
    for got, want in zip(f(a, g), ref(a, g)):
        _close(got, want, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_strided_and_vector_inputs(dtype):
    rng = np.random.RandomState(3)
    a = rng.randn(6, 11).astype(dtype)
    v = rng.randn(10).astype(dtype)
    x = pt.matrix("x", dtype=dtype)
    xv = pt.vector("v", dtype=dtype)
    views = [x.T, x[::-2, 1::3], x[:, ::-1], x[2:3], x[:, 4:5]]
    outs = []
    for view in views:
        outs += [softmax(view, axis=-1), log_softmax(view, axis=-1)]
    outs += [softmax(xv[::2], axis=None), log_softmax(xv, axis=0), softmax(xv, axis=-1)]
    f, ref = _c([x, xv], outs), _plain([x, xv], outs)
    n_c = sum(isinstance(n.op, (SoftmaxRows, LogSoftmaxRows)) for n in f.maker.fgraph.apply_nodes)
    assert n_c == len(outs)
    for got, want in zip(f(a, v), ref(a, v)):
        _close(got, want, dtype)
    # a strided array handed to the op directly (no copy in between)
    s = a[::2, ::3]
    assert not s.flags.c_contiguous
    direct = _c([x], [softmax_rows(x), log_softmax_rows(x)])
    for got, want in zip(direct(s), _plain([x], [softmax(x, axis=-1), log_softmax(x, axis=-1)])(s)):
        _close(got, want, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_huge_values_stay_finite(dtype):
    big = np.finfo(dtype).max / 2
    a = np.array([[big, -big, 0.0, big], [-big, -big, -big, -big],
                  [1e4, 0.0, -1e4, 1e4], [-1e4, -1e4 + 1, -1e4, -1e4]], dtype=dtype)
    x = pt.matrix("x", dtype=dtype)
    sm, lsm = _c([x], [softmax(x, axis=-1), log_softmax(x, axis=-1)])(a)
    assert np.isfinite(sm).all() and np.isfinite(lsm[:, [0, 3]]).all()
    np.testing.assert_allclose(sm.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(sm[0], np.array([0.5, 0.0, 0.0, 0.5], dtype=dtype))
    np.testing.assert_allclose(sm[1], 0.25, rtol=1e-6)
    np.testing.assert_allclose(lsm[2, 0], -np.log(2.0), rtol=1e-6)
    ref_sm, ref_lsm = _plain([x], [softmax(x, axis=-1), log_softmax(x, axis=-1)])(a)
    np.testing.assert_allclose(sm, ref_sm, rtol=TOL[dtype])
    np.testing.assert_allclose(lsm, ref_lsm, rtol=TOL[dtype])


def test_empty_rows_and_shape_errors():
    x = pt.matrix("x")
    f = _c([x], [softmax_rows(x), log_softmax_rows(x)])
    for got in f(np.zeros((0, 4))) + f(np.zeros((3, 0))):
        assert got.size == 0
    dy, sm = pt.matrices("dy", "sm")
    g = _c([dy, sm], softmax_rows_grad(dy, sm))
    with pytest.raises(ValueError, match="different shapes"):
        g(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(TypeError, match="vector or a matrix"):
        softmax_rows(pt.tensor3())
    with pytest.raises(TypeError, match="float32 or float64"):
        softmax_rows(pt.imatrix())


def test_perform_matches_c_code():
    rng = np.random.RandomState(5)
    a, g = rng.randn(4, 6), rng.randn(4, 6)
    x, gz = pt.matrices("x", "gz")
    outs = [softmax_rows(x), log_softmax_rows(x), softmax_rows_grad(gz, softmax_rows(x))]
    py = pytensor.function([x, gz], outs, mode=Mode(linker="py", optimizer=None))
    for got, want in zip(py(a, g), _c([x, gz], outs)(a, g)):
        np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("op", [softmax_rows, log_softmax_rows])
def test_verify_grad_forward_ops(op):
    rng = np.random.RandomState(7)
    verify_grad(op, [rng.randn(3, 5)], rng=rng, mode=get_mode("C"))
    verify_grad(op, [rng.randn(4)], rng=rng, mode=get_mode("C"))


def test_verify_grad_of_grad_op():
    rng = np.random.RandomState(8)
    e = np.exp(rng.randn(3, 5))
    sm = e / e.sum(axis=1, keepdims=True)
    verify_grad(softmax_rows_grad, [rng.randn(3, 5), sm], rng=rng, mode=get_mode("C"))


def test_grad_with_broadcast_output_gradient():
    x = pt.matrix("x")
    gz = pt.row("gz")  # broadcast against sm; the gradient graph allocates it to sm's shape
    dx = pytensor.grad(pt.sum(gz * softmax(x, axis=-1)), x)
    f = _c([x, gz], dx)
    assert SoftmaxRowsGrad in _ops(f.maker.fgraph)
    a, g = np.random.RandomState(2).randn(3, 4), np.random.RandomState(3).randn(1, 4)
    np.testing.assert_allclose(f(a, g), _plain([x, gz], dx)(a, g), rtol=1e-13)


def _tiny_rnn(mode, **kwargs):
    return RNNTheano(23, 6, -1, mode=mode, rng=np.random.RandomState(10), **kwargs)


def test_faithful_rnn_inner_scans_get_the_c_ops_and_numbers_are_unchanged():
    x = np.array([0, 5, 3, 22, 7, 1], dtype=np.int32)
    y = np.array([5, 3, 22, 7, 1, 2], dtype=np.int32)
    c_model, plain_model = _tiny_rnn("C"), _tiny_rnn(PLAIN)
    got, want = c_model.bptt(x, y), plain_model.bptt(x, y)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(c_model.ce_error(x, y), plain_model.ce_error(x, y), rtol=1e-13)
    fg = c_model.bptt.maker.fgraph
    scans = [n.op for n in fg.apply_nodes if isinstance(n.op, Scan)]
    assert len(scans) == 2 and all(op.mode is c_scan_inner_mode() for op in scans)
    inner = [_ops(op.fn.maker.fgraph) for op in scans]
    assert all(SoftmaxRows in ops and Softmax not in ops for ops in inner)
    assert any(SoftmaxRowsGrad in ops for ops in inner)  # the gradient scan
    plain_ops = _ops(plain_model.bptt.maker.fgraph)
    assert Softmax in plain_ops and not plain_ops & set(C_OPS)


def test_faithful_gru_truncated_numbers_unchanged():
    x = np.array([0, 5, 3, 12, 7, 1, 4], dtype=np.int32)
    y = np.array([5, 3, 12, 7, 1, 2, 9], dtype=np.int32)

    def gru(mode):
        return GRUTheano(13, 4, 2, num_layers=1, mode=mode, rng=np.random.RandomState(4))

    c_model, plain_model = gru("C"), gru(PLAIN)
    for a, b in zip(c_model.bptt(x, y), plain_model.bptt(x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert SoftmaxRowsGrad in _ops(c_model.bptt.maker.fgraph)


@pytest.mark.filterwarnings("ignore:.*Supervisor:UserWarning")
def test_other_backends_and_pytensor_modes_do_not_get_the_ops():
    x = pt.matrix("x")
    h0 = pt.vector("h0")
    sm = softmax(x, axis=-1)
    seq = pytensor.scan(lambda r, h: softmax(r + h, axis=-1), sequences=x, outputs_info=h0,
                        return_updates=False)
    outs = [sm, pytensor.grad(pt.sum(sm[:, 0]), x), seq]
    for mode in (get_mode("NUMBA"), PLAIN, pytensor.compile.mode.get_default_mode()):
        fg = FunctionGraph([x, h0], outs, clone=True)
        mode.optimizer.rewrite(fg)
        ops = {type(n.op) for n in fg.apply_nodes}
        assert not ops & set(C_OPS)
        assert all(n.op.mode is None for n in fg.apply_nodes if isinstance(n.op, Scan))
    fg = FunctionGraph([x, h0], outs, clone=True)
    get_mode("C").optimizer.rewrite(fg)
    assert {SoftmaxRows, SoftmaxRowsGrad} <= {type(n.op) for n in fg.apply_nodes}
    assert [n.op.mode for n in fg.apply_nodes if isinstance(n.op, Scan)] == [c_scan_inner_mode()]
