"""theano_rnn.runtime.perform_ops: structural ops outside scans run their Python perform."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.scan.op import Scan
from pytensor.tensor.subtensor import IncSubtensor

from theano_rnn.runtime import perform_ops
from theano_rnn.runtime.modes import c_mode_rewrites, get_mode
from theano_rnn.runtime.perform_ops import STRUCTURAL_OPS, PerformOnly

#: the C mode as it was before: every op compiled to C
ALL_C = Mode(linker="cvm", optimizer="fast_run").register(*c_mode_rewrites())


def _graph():
    x = pt.dmatrix("x")
    v = pt.dvector("v")
    n = x.shape[0]
    y = pt.specify_shape(x, (None, 4)) * 2.0  # an intermediate: IncSubtensor may go inplace
    z = pt.inc_subtensor(y[1:3], v)
    parts = pt.split(z.reshape((-1,)), [6, z.size - 6], n_splits=2)
    joined = pt.join(0, parts[1], parts[0])
    alloc = pt.alloc(pt.sum(v), n, 2)
    seq = pytensor.scan(lambda r, h: pt.tanh(r[::-1].dimshuffle(0) + h), sequences=z,
                        outputs_info=v, return_updates=False)
    outs = [z.T, joined, alloc, pt.arange(n) * 1.5, seq, z[:, 1:].sum()]
    return [x, v], outs


@pytest.fixture(scope="module")
def compiled():
    inputs, outs = _graph()
    return (pytensor.function(inputs, outs, mode=get_mode("C")),
            pytensor.function(inputs, outs, mode=ALL_C))


def _outer_ops(fn):
    return [n.op for n in fn.maker.fgraph.apply_nodes]


def test_same_numbers_as_compiled_c(compiled):
    wrapped, plain = compiled
    rng = np.random.RandomState(0)
    x, v = rng.randn(5, 4), rng.randn(4)
    x_before = x.copy()
    for a, b in zip(wrapped(x, v), plain(x, v), strict=True):
        np.testing.assert_array_equal(a, b)  # views and copies: bit for bit
    np.testing.assert_array_equal(x, x_before)  # nothing written into an input
    if perform_ops.enabled():
        assert any(isinstance(op, PerformOnly) for op in _outer_ops(wrapped))
    assert not any(isinstance(op, PerformOnly) for op in _outer_ops(plain))


@pytest.mark.skipif(not perform_ops.enabled(), reason=f"{perform_ops.ENV_VAR} is off")
def test_outer_structural_ops_are_wrapped_and_scan_inner_ones_are_not(compiled):
    wrapped, _ = compiled
    ops = _outer_ops(wrapped)
    bare = [op for op in ops if isinstance(op, STRUCTURAL_OPS)]
    assert not bare, bare
    (scan,) = [op for op in ops if isinstance(op, Scan)]
    inner = [n.op for n in scan.fn.maker.fgraph.apply_nodes]
    assert not any(isinstance(op, PerformOnly) for op in inner)
    assert any(isinstance(op, STRUCTURAL_OPS) for op in inner)  # the DimShuffle, the slice


@pytest.mark.skipif(not perform_ops.enabled(), reason=f"{perform_ops.ENV_VAR} is off")
def test_wrapping_changes_ops_only_never_the_graph(compiled):
    # one pass over the whole graph: each wrapped node must be built from its
    # inputs as rewired by the replacements before it, or the old nodes come back
    wrapped, plain = compiled

    def unwrapped(fn):
        return sorted(str(n.op.op if isinstance(n.op, PerformOnly) else n.op)
                      for n in fn.maker.fgraph.apply_nodes)

    assert len(wrapped.maker.fgraph.apply_nodes) == len(plain.maker.fgraph.apply_nodes)
    assert unwrapped(wrapped) == unwrapped(plain)


@pytest.mark.skipif(not perform_ops.enabled(), reason=f"{perform_ops.ENV_VAR} is off")
def test_inplace_ops_keep_their_destroy_map(compiled):
    wrapped, _ = compiled
    incs = [op for op in _outer_ops(wrapped)
            if isinstance(op, PerformOnly) and isinstance(op.op, IncSubtensor)]
    assert incs and all(op.destroy_map == op.op.destroy_map for op in incs)
    assert any(op.destroy_map for op in incs)  # the intermediate was updated in place


def test_a_failed_check_still_raises():
    x = pt.dvector("x")
    f = pytensor.function([x], pt.specify_shape(x, (3,)) + 1.0, mode=get_mode("C"))
    np.testing.assert_array_equal(f(np.zeros(3)), np.ones(3))
    with pytest.raises(AssertionError):
        f(np.zeros(4))


def test_opt_out(monkeypatch):
    for value in ("0", "off", "no", "FALSE"):
        monkeypatch.setenv(perform_ops.ENV_VAR, value)
        assert perform_ops.enabled() is False
    monkeypatch.setenv(perform_ops.ENV_VAR, "1")
    assert perform_ops.enabled() is True
    monkeypatch.delenv(perform_ops.ENV_VAR)
    assert perform_ops.enabled() is True


@pytest.mark.skipif(not perform_ops.enabled(), reason=f"{perform_ops.ENV_VAR} is off")
def test_a_fast_model_compiles_no_structural_op_outside_its_engine(shared_model):
    from theano_rnn.models.word import RNNTheano

    model = shared_model(RNNTheano, 11, 5, seed=3, graph="fast", mode="C")
    model.sgd_step(np.array([1, 2, 3], np.int32), np.array([2, 3, 4], np.int32), 0.005)
    bare = [n.op for n in model.sgd_step.fn.maker.fgraph.apply_nodes
            if isinstance(n.op, STRUCTURAL_OPS)]
    assert not bare, bare
