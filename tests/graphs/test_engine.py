"""The fused sequence ops (``theano_rnn.graphs.engine``) against a plain ``scan``.

Contract (issue 12, item 1): for every cell kind and gate, the op's state
sequences and every gradient (``pre``, ``Wm``, the initial states) equal a
``scan`` of the cell's own ``merged_step`` with ``pt.switch`` masking,
differentiated by ``pytensor.grad`` (Theano's ``truncate_gradient`` and
``go_backwards`` for truncation and direction), to ``<= 1e-10`` relative in
float64 (``max|a - b| <= 1e-10 * max(1, max|b|)``), for no padding, left and
right padding (one row full, one short, one empty); layers stacked through
ordinary PyTensor ops and a 5-step SGD trajectory agree too; the numeric
gradient check passes; float32 agrees with float64 to 1e-4.  T=5, B=3, H=4,
truncation k=2 < T.  The default run covers each cell x gate with two of the
four (truncation, direction) pairs, every pair at least twice; the whole
product is ``@pytest.mark.slow``.  Backends: ``test_engine_backends.py``.
"""

from dataclasses import dataclass

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad
from pytensor.graph.traversal import ancestors

from theano_rnn.cells import GRU, LSTM, RNN, get_cell
from theano_rnn.cells.rnn import RNNCell
from theano_rnn.compat import hard_sigmoid
from theano_rnn.graphs import engine
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.modes import get_mode
from tests.graphs import engine_ref as R

K = 2
CELL_GATES = [("rnn", None), ("gru", "hard_sigmoid"), ("gru", "sigmoid"),
              ("lstm", "sigmoid"), ("lstm", "hard_sigmoid")]
PAIRS = [(-1, False), (K, False), (-1, True), (K, True)]
DEFAULT = {
    ("rnn", None): [(-1, False), (K, True)],
    ("gru", "hard_sigmoid"): [(K, False), (-1, True)],
    ("gru", "sigmoid"): [(-1, False), (K, True)],
    ("lstm", "sigmoid"): [(K, False), (-1, True)],
    ("lstm", "hard_sigmoid"): [(-1, False), (K, True)],
}
CASES = [
    pytest.param(cell, gate, k, back,
                 marks=() if (k, back) in DEFAULT[(cell, gate)] else pytest.mark.slow,
                 id=f"{cell}-{gate or 'tanh'}-k{k}-{'bwd' if back else 'fwd'}")
    for cell, gate in CELL_GATES
    for k, back in PAIRS
]

_fns = {}


def fn(impl, cell, gate, k, back, mode="C", dtype="float64"):
    key = (impl, cell, gate, k, back, mode, dtype)
    if key not in _fns:
        # the reference runs on the Python backend: it compiles fastest
        _fns[key] = R.layer_function(impl, cell, gate, k, back,
                                     mode=mode if impl == "engine" else "PY", dtype=dtype)
    return _fns[key]


def names(cell):
    n = get_cell(cell).states_per_layer
    return ["hs", "cs"][:n] + ["dpre", "dWm"] + ["dh0", "dc0"][:n]


@pytest.mark.parametrize("cell,gate,k,back", CASES)
def test_states_and_gradients_equal_scan(cell, gate, k, back):
    (pre, Wm), inits, proj = R.layer_data(cell, seed=1)
    for mask_name, mask in R.masks().items():
        got = fn("engine", cell, gate, k, back)(pre, Wm, *inits, mask, *proj)
        want = fn("scan", cell, gate, k, back)(pre, Wm, *inits, mask, *proj)
        for name, a, b in zip(names(cell), got, want):
            R.assert_close(a, b, f"{name} ({mask_name} padding)")
            if name == "dWm":
                assert np.abs(b).max() > 0.01  # the comparison is not of zeros
        if k > 0:  # T > k: the initial states get nothing
            assert all(np.all(d == 0) for d in got[-len(inits):])


def test_truncation_at_least_the_length_is_full_bptt():
    (pre, Wm), inits, proj = R.layer_data("lstm", seed=2)
    mask = R.masks()["right"]
    full = fn("engine", "lstm", "sigmoid", -1, False)(pre, Wm, *inits, mask, *proj)
    for k in (R.T, R.T + 3):
        f = R.layer_function("engine", "lstm", "sigmoid", k, False)
        for name, a, b in zip(names("lstm"), f(pre, Wm, *inits, mask, *proj), full):
            R.assert_close(a, b, f"{name}, truncate={k}")
    assert np.abs(full[-2]).max() > 0.01  # dh0 flows


def test_gradient_of_the_final_states_only():
    """A cost on ``hs[-1]`` and ``cs[-1]`` alone (the carried states): the
    gradient flows from there, and an unused ``cs`` counts as zero."""
    cell_, pre, Wm, inits, mask, proj = R.layer_inputs("lstm")
    (pre_v, Wm_v), init_v, proj_v = R.layer_data("lstm", seed=8)
    mask_v = R.masks()["right"]
    results = {}
    for impl, mode in (("engine", "C"), ("scan", "PY")):
        if impl == "engine":
            hs, cs = engine.run_layer(LSTM, "sigmoid", pre, Wm, inits, mask)
        else:
            hs, cs = R.scan_states(LSTM, "sigmoid", pre, Wm, inits, mask)
        cost_both = pt.sum(hs[-1] * proj[0][0]) + pt.sum(cs[-1] * proj[1][0])
        cost_h = pt.sum(hs[-1] * proj[0][0])
        wrt = [pre, Wm, *inits]
        f = compile_function([pre, Wm, *inits, mask, *proj],
                             pt.grad(cost_both, wrt) + pt.grad(cost_h, wrt),
                             mode=get_mode(mode), name=f"final_{impl}")
        results[impl] = f(pre_v, Wm_v, *init_v, mask_v, *proj_v)
    for i, (a, b) in enumerate(zip(results["engine"], results["scan"])):
        R.assert_close(a, b, f"gradient {i}")
    assert np.abs(results["scan"][0]).max() > 0.01


def test_masked_steps_keep_the_state_exactly():
    (pre, Wm), inits, proj = R.layer_data("gru", seed=3)
    mask = R.masks()["left"]
    hs = fn("engine", "gru", "hard_sigmoid", K, False)(pre, Wm, *inits, mask, *proj)[0]
    # row 2 is empty (all padding), row 1 real for the last two steps only
    assert np.array_equal(hs[:, 2], np.broadcast_to(inits[0][2], (R.T, R.H)))
    assert np.array_equal(hs[: R.T - 2, 1], np.broadcast_to(inits[0][1], (R.T - 2, R.H)))
    assert not np.array_equal(hs[-1, 1], inits[0][1])


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_hard_sigmoid_boundaries_follow_pytensors_gradient(cell):
    """With ``Wm = 0`` the gate pre-activations are exactly ``pre``: values at
    and around +-2.5 must get compat.hard_sigmoid's own gradient."""
    x = pt.dvector("x")
    slope = compile_function([x], pytensor.grad(pt.sum(hard_sigmoid(x)), x), mode=get_mode("C"),
                             name="hard_sigmoid_slope")
    probe = np.array([-2.5000001, -2.5, -2.4999999, 0.0, 2.4999999, 2.5, 2.5000001])
    # what PyTensor's gradient of Theano's hard_sigmoid says (boundaries included)
    np.testing.assert_array_equal(slope(probe), [0, 0.2, 0.2, 0.2, 0.2, 0.2, 0])
    (pre, Wm), inits, proj = R.layer_data(cell, seed=4)
    Wm = np.zeros_like(Wm)
    flat = pre.reshape(-1)
    flat[: 5 * len(probe)] = np.tile(probe, 5)
    mask = R.masks()["none"]
    got = fn("engine", cell, "hard_sigmoid", -1, False)(pre, Wm, *inits, mask, *proj)
    want = fn("scan", cell, "hard_sigmoid", -1, False)(pre, Wm, *inits, mask, *proj)
    for name, a, b in zip(names(cell), got, want):
        R.assert_close(a, b, name)


@pytest.mark.parametrize("cell,gate,back", [
    ("rnn", None, False), ("gru", "hard_sigmoid", True), ("gru", "sigmoid", False),
    ("lstm", "sigmoid", True), ("lstm", "hard_sigmoid", False),
])
def test_verify_grad(cell, gate, back):
    (pre, Wm), inits, _ = R.layer_data(cell, seed=5)
    mask = pt.constant(R.masks()["left"])
    op = engine.sequence_op(cell, gate, backwards=back)

    def outputs(pre, Wm, *inits):
        outs = op(pre, Wm, *inits, mask)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        # one output: the states (both of the LSTM's, weighted apart)
        return sum((i + 1.0) * o for i, o in enumerate(outs[: len(inits)]))

    verify_grad(outputs, [pre, Wm, *inits], rng=np.random.default_rng(0),
                mode=get_mode("C"), abs_tol=1e-6, rel_tol=1e-6)


@pytest.mark.parametrize("cell,gate", [("rnn", None), ("gru", "hard_sigmoid"),
                                       ("lstm", "sigmoid")])
def test_float32_matches_float64(cell, gate):
    data = R.layer_data(cell, seed=6)
    mask = R.masks()["right"]
    args64 = [*data[0], *data[1], mask, *data[2]]
    args32 = [a.astype("float32") for a in args64]
    f64 = fn("engine", cell, gate, K, True)
    with pytensor.config.change_flags(floatX="float32"):
        f32 = fn("engine", cell, gate, K, True, dtype="float32")
    for name, a, b in zip(names(cell), f32(*args32), f64(*args64)):
        assert a.dtype == np.float32, name
        R.assert_close(a, b, name, tol=1e-4)


# ------------------------------------------------------------------ stacks, training

def stack_graph(impl, cell_name, gate, layers, k, params):
    """``layers`` layers of one cell on ``params`` (variables by name); layer
    l+1's pre = states_l . U_l + b_l; loss = 0.5 * sum((top . V)^2 * mask).
    Returns the inputs ``x`` (the first layer's pre), ``mask`` and the loss."""
    cell = get_cell(cell_name)
    x = pt.tensor3("x")
    mask = pt.matrix("mask")
    pre, states = x, None
    for layer in range(layers):
        if layer:
            pre = pt.dot(states[0], params[f"U{layer}"]) + params[f"b{layer}"]
        inits = [pt.zeros((x.shape[1], R.H))] * cell.states_per_layer
        if impl == "engine":
            states = engine.run_layer(cell, gate, pre, params[f"W{layer}"], inits, mask, k)
        else:
            states = R.scan_states(cell, gate, pre, params[f"W{layer}"], inits, mask, k)
    out = pt.dot(states[0], params["V"])
    return x, mask, 0.5 * pt.sum(pt.sqr(out) * mask.dimshuffle(0, 1, "x"))


def stack_values(cell_name, layers, rng):
    cell = get_cell(cell_name)
    width = cell.blocks * R.H
    vals = {"V": rng.normal(0, 0.5, (R.H, 3))}
    for layer in range(layers):
        vals[f"W{layer}"] = rng.normal(0, 0.5, (width, R.H))
        if layer:
            vals[f"U{layer}"] = rng.normal(0, 0.5, (R.H, width))
            vals[f"b{layer}"] = rng.normal(0, 0.1, width)
    return vals


@pytest.mark.parametrize("cell,gate,layers", [
    ("rnn", None, 3),
    pytest.param("gru", "hard_sigmoid", 2, marks=pytest.mark.slow),
    ("lstm", "sigmoid", 2),
])
def test_sgd_trajectory_through_a_stack_equals_scan(cell, gate, layers):
    """5 SGD steps (lr 0.1) on a stacked model, left padding, truncation k."""
    rng = np.random.default_rng(7)
    init = stack_values(cell, layers, rng)
    x_val = rng.normal(0, 1, (R.T, R.B, get_cell(cell).blocks * R.H))
    mask_val = R.masks()["left"]
    result = {}
    for impl in ("engine", "scan"):
        names_ = sorted(init)
        shared = {n: pytensor.shared(init[n].copy(), name=n) for n in names_}
        x, mask, loss_s = stack_graph(impl, cell, gate, layers, K, shared)
        grads = pt.grad(loss_s, [shared[n] for n in names_])
        updates = [(shared[n], shared[n] - 0.1 * g) for n, g in zip(names_, grads)]
        step = compile_function([x, mask], loss_s, updates=updates,
                                mode=get_mode("C" if impl == "engine" else "PY"),
                                name=f"sgd_{impl}")
        losses = [step(x_val, mask_val) for _ in range(5)]
        result[impl] = (losses, {n: shared[n].get_value() for n in names_})
    (l_e, p_e), (l_s, p_s) = result["engine"], result["scan"]
    R.assert_close(l_e, l_s, "losses")
    assert l_e[-1] < l_e[0]  # it trains
    for n in p_s:
        R.assert_close(p_e[n], p_s[n], n)
        assert not np.allclose(p_s[n], init[n])  # every parameter moved


# ------------------------------------------------------------------ the generic path

def ops_in(*outputs):
    """Names of the op classes in the graph of ``outputs``."""
    return {type(v.owner.op).__name__ for v in ancestors(outputs) if v.owner is not None}


@pytest.mark.parametrize("cell,gate", [("rnn", None), ("gru", "hard_sigmoid"),
                                       ("lstm", "sigmoid")])
def test_generic_path_equals_the_kernel(cell, gate):
    """``run_layer(..., kernel=False)`` (a scan of ``merged_step``) gives the
    fused op's states and gradients: padded, truncated, backwards."""
    _, pre, Wm, inits, mask, _ = R.layer_inputs(cell)
    assert "SequenceOp" in ops_in(*engine.run_layer(cell, gate, pre, Wm, inits, mask))
    generic = engine.run_layer(cell, gate, pre, Wm, inits, mask, K, True, kernel=False)
    assert "Scan" in ops_in(*generic) and "SequenceOp" not in ops_in(*generic)
    (pre_v, Wm_v), init_v, proj_v = R.layer_data(cell, seed=9)
    f_generic = R.layer_function("generic", cell, gate, K, True, mode="PY")
    for mask_name in ("left", "right"):
        mask_v = R.masks()[mask_name]
        got = f_generic(pre_v, Wm_v, *init_v, mask_v, *proj_v)
        want = fn("engine", cell, gate, K, True)(pre_v, Wm_v, *init_v, mask_v, *proj_v)
        for name, a, b in zip(names(cell), got, want):
            R.assert_close(a, b, f"{name} ({mask_name} padding)")
            if name == "dWm":
                assert np.abs(b).max() > 0.01


# ------------------------------------------------------------------ declarations

def test_cells_declare_their_kernels():
    assert [engine.kernel_of(c) for c in (RNN, GRU, LSTM)] == ["rnn", "gru", "lstm"]
    assert engine.kernel_of("lstm") == "lstm"
    assert engine.sequence_op("gru").gate == "hard_sigmoid"  # the tutorial cell's default
    assert engine.sequence_op(LSTM).gate == "sigmoid"
    assert engine.sequence_op("rnn", "sigmoid").gate is None  # no gates

    @dataclass(frozen=True)
    class OtherRNN(RNNCell):  # other equations: does not inherit the kernel
        pass

    other = OtherRNN(name="other_rnn", blocks=1, states_per_layer=1)
    assert engine.kernel_of(other) is None and not engine.has_kernel(other)
    with pytest.raises(ValueError, match="no engine kernel"):
        engine.run_layer(other, None, pt.tensor3(), pt.matrix(), [pt.matrix()], kernel=True)
    # without kernel=True it falls back to the generic path (a scan)
    hs, = engine.run_layer(other, None, pt.tensor3(), pt.matrix(), [pt.matrix()])
    assert ops_in(hs) >= {"Scan"} and "SequenceOp" not in ops_in(hs)
    with pytest.raises(ValueError, match="no engine kernel"):
        engine.kernel_of("elman")


def test_bad_inputs_give_clear_errors():
    op = engine.sequence_op("lstm")
    with pytest.raises(TypeError, match="takes inputs pre, Wm, h0, c0, mask"):
        op(pt.tensor3(), pt.matrix(), pt.matrix(), pt.matrix())
    with pytest.raises(TypeError, match="pre must have 3 dimensions"):
        op(pt.matrix(), pt.matrix(), pt.matrix(), pt.matrix(), pt.matrix())
    with pytest.raises(ValueError, match="initial state"):
        engine.run_layer(LSTM, None, pt.tensor3(), pt.matrix(), [pt.matrix()])
    f = fn("engine", "rnn", None, -1, False)
    (pre, Wm), inits, proj = R.layer_data("rnn")
    with pytest.raises(ValueError, match=r"h0 has shape \(2, 4\), expected \(3, 4\)"):
        f(pre, Wm, inits[0][:2], R.masks()["none"], *proj)
    # the saved gate values are not differentiable
    outs = op(pt.tensor3(), pt.matrix(), pt.matrix(), pt.matrix(), pt.matrix())
    with pytest.raises(NotImplementedError, match="saved"):
        pt.grad(pt.sum(outs[2]), outs[0].owner.inputs[0])
