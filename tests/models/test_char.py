"""CharRNN (minibatched, time-major) against the NumPy references, per sequence."""

import warnings

import numpy as np
import pytest

from legacy_ref import GRUNumpy, LSTMNumpy, RNNNumpy
from theano_rnn import reference
from theano_rnn.cells.rnn import RNNCell
from theano_rnn.graphs.engine import has_kernel
from theano_rnn.models.char import CharRNN

C, H, T, B = 7, 4, 6, 3
RTOL = 1e-10


def rel_err(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(b)), 1e-300))


def batch(seed):
    rng = np.random.RandomState(seed)
    return rng.randint(0, C, (T, B)).astype(np.int32), rng.randint(0, C, (T, B)).astype(np.int32)


CASES = [("gru", 1, "hard_sigmoid"), ("gru", 2, "sigmoid"), ("lstm", 2, "sigmoid"), ("rnn", 1, None)]


@pytest.mark.parametrize("cell,layers,gate", CASES)
def test_batched_loss_and_gradients_equal_reference_per_sequence(cell, layers, gate):
    if cell == "rnn":
        ref = RNNNumpy(C, H, bptt_truncate=-1, rng=np.random.RandomState(1))
        names = ("U", "V", "W")
        model = CharRNN(C, "rnn", H, 1, params=ref.get_params())
    else:
        ref_cls = GRUNumpy if cell == "gru" else LSTMNumpy
        ref = ref_cls(C, H, -1, num_layers=layers, gate_activation=gate, rng=np.random.RandomState(1))
        params = ref.get_params()
        brng = np.random.RandomState(2)
        params["b"] = brng.uniform(-0.5, 0.5, params["b"].shape)
        params["c"] = brng.uniform(-0.5, 0.5, params["c"].shape)
        ref.set_params(params)
        names = ("E", "U", "W", "b", "V", "c")
        model = CharRNN(C, cell, H, layers, input_mode="embedding", gate_activation=gate, params=params)
    x, y = batch(3)
    loss, grads = model.loss_and_gradients(x, y, model.zero_states(B))
    ref_loss = sum(ref.calculate_total_loss([x[:, b]], [y[:, b]]) for b in range(B)) / (T * B)
    assert abs(loss - ref_loss) / ref_loss <= RTOL
    ref_grads = None
    for b in range(B):
        g = ref.bptt(x[:, b], y[:, b], truncation="none") if cell == "rnn" else ref.bptt(x[:, b], y[:, b])
        ref_grads = g if ref_grads is None else [a + c for a, c in zip(ref_grads, g)]
    for name, g_ref in zip(names, ref_grads):
        assert rel_err(grads[name], g_ref / (T * B)) <= RTOL, name


# slow for the LSTM: the same identity with another block count (the GRU's is the default run's)
@pytest.mark.parametrize("cell", ["gru", pytest.param("lstm", marks=pytest.mark.slow)])
def test_onehot_input_equals_embedding_times_input_weights(cell):
    emb = CharRNN(C, cell, H, 2, input_mode="embedding", seed=5)
    p = emb.get_params()
    blocks = 3 if cell == "gru" else 4
    onehot_params = {
        "Ux": np.stack([p["U"][j] @ p["E"] for j in range(blocks)]),
        "U": p["U"][blocks:],
        "W": p["W"], "V": p["V"], "b": p["b"], "c": p["c"],
    }
    one = CharRNN(C, cell, H, 2, input_mode="onehot", params=onehot_params)
    assert one.param_names == ("Ux", "U", "W", "V", "b", "c")
    x, y = batch(4)
    l1, g1 = emb.loss_and_gradients(x, y, emb.zero_states(B))
    l2, g2 = one.loss_and_gradients(x, y, one.zero_states(B))
    assert l1 == pytest.approx(l2, rel=1e-12)
    for name in ("W", "V", "b", "c"):
        assert rel_err(g2[name], g1[name]) <= 1e-10, name


def test_state_carried_across_batches_equals_one_long_sequence():
    model = CharRNN(C, "lstm", H, 2, seed=1)
    x, y = batch(5)
    full, _ = model.eval_loss(x, y, model.zero_states(B))
    first, states = model.eval_loss(x[:3], y[:3], model.zero_states(B))
    second, _ = model.eval_loss(x[3:], y[3:], states)
    assert (first + second) / 2 == pytest.approx(full, rel=1e-12)
    # without the carried state the second half differs
    alone, _ = model.eval_loss(x[3:], y[3:], model.zero_states(B))
    assert alone != pytest.approx(second, rel=1e-6)


def test_char_rnn_defaults_and_parameter_count():
    m = CharRNN(reference.value("charrnn.tinyshakespeare.vocabulary"))  # 65 symbols
    assert (m.cell.name, m.num_layers, m.hidden_dim, m.input_mode) == ("lstm", 2, 128, "onehot")
    # char-rnn reports 240,321 with Torch's two biases per gate; we keep one
    assert m.num_params() == reference.value("charrnn.default_model.parameters") - 2 * 4 * 128
    p = m.get_params()
    assert np.abs(p["W"]).max() <= 0.08
    np.testing.assert_array_equal(p["b"][1], 1.0)  # forget-gate bias, layer 1
    np.testing.assert_array_equal(p["b"][5], 1.0)  # layer 2
    assert list(m.get_optimizer_state())[:2] == ["mUx", "mU"]
    with pytest.raises(ValueError, match="dropout"):
        CharRNN(65, dropout=1.0)
    with pytest.raises(ValueError, match="unknown cell"):
        CharRNN(65, cell="transformer")


def test_training_step_clips_and_dropout_is_reproducible():
    x, y = batch(6)
    a = CharRNN(C, "gru", H, 2, dropout=0.3, seed=2)
    b = CharRNN(C, "gru", H, 2, dropout=0.3, seed=2)  # not compiled: the seed gives the same model
    for name, value in a.get_params().items():
        np.testing.assert_array_equal(b.get_params()[name], value)
    start, state = a.get_params(), a.get_optimizer_state()
    la = [a.train_step(x, y, 0.01, a.zero_states(B), rng=np.random.default_rng(9))[0] for _ in range(3)]
    a.set_params(start)  # the same compiled step again, from the same weights and caches
    a.set_optimizer_state(state)
    lb = [a.train_step(x, y, 0.01, a.zero_states(B), rng=np.random.default_rng(9))[0] for _ in range(3)]
    assert la == lb
    assert len(set(la)) == 3  # the steps did train
    with pytest.raises(ValueError, match="rng"):
        a.train_step(x, y, 0.01, a.zero_states(B))


def test_fused_gates_is_deprecated_and_changes_nothing():
    plain = CharRNN(C, "gru", H, 2, seed=3, engine=False)
    with pytest.warns(DeprecationWarning, match="fused_gates"):
        old = CharRNN(C, "gru", H, 2, params=plain.get_params(), fused_gates=True, engine=False)
    x, y = batch(8)
    l1, g1 = plain.loss_and_gradients(x, y, plain.zero_states(B))
    l2, g2 = old.loss_and_gradients(x, y, old.zero_states(B))
    assert l1 == l2  # the same graph
    for name in plain.param_names:
        np.testing.assert_array_equal(g2[name], g1[name])
    # an old checkpoint's config (fused_gates stored) loads without a warning and keeps the field
    config = old.config()
    assert config["fused_gates"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        again = CharRNN.from_config(config, params=old.get_params())
    assert again.config()["fused_gates"] is True and again.engine is False


class PlainRNN(RNNCell):
    """The RNN's equations without an engine kernel (kernel_of reads the class body only)."""


def test_a_cell_without_kernel_runs_the_engines_scan_path():
    cell = PlainRNN(name="plain_rnn", blocks=1, states_per_layer=1, default_gate=None)
    assert not has_kernel(cell)
    ref = CharRNN(C, "rnn", H, 2, seed=6)
    model = CharRNN(C, cell, H, 2, params=ref.get_params())
    assert model.engine is False
    with pytest.raises(ValueError, match="no engine kernel"):
        CharRNN(C, cell, H, 2, engine=True)
    x, y = batch(9)
    l1, g1 = ref.loss_and_gradients(x, y, ref.zero_states(B))
    l2, g2 = model.loss_and_gradients(x, y, model.zero_states(B))
    assert l2 == pytest.approx(l1, rel=1e-12)
    for name in ref.param_names:
        assert rel_err(g2[name], g1[name]) <= 1e-10, name


@pytest.mark.parametrize("input_mode", ["onehot", "embedding"])
def test_numpy_ops_equal_the_plain_graph(input_mode):
    # the C backend's NumPy loss (SoftmaxXent) and gather (TakeRows) against the
    # PyTensor graph the other backends run; one token (T = B = 1) included
    a = CharRNN(C, "lstm", H, 2, input_mode=input_mode, seed=7)
    b = CharRNN(C, "lstm", H, 2, input_mode=input_mode, params=a.get_params())
    assert a.numpy_ops
    b.numpy_ops = False
    for x, y in (batch(10), (np.array([[2]], np.int32), np.array([[5]], np.int32))):
        states = a.zero_states(x.shape[1])
        l1, g1 = a.loss_and_gradients(x, y, states)
        l2, g2 = b.loss_and_gradients(x, y, states)
        assert l1 == pytest.approx(l2, rel=1e-12)
        for name in a.param_names:
            assert rel_err(g1[name], g2[name]) <= 1e-10, name
    e1, _ = a.eval_loss(*batch(11), a.zero_states(B))
    e2, _ = b.eval_loss(*batch(11), b.zero_states(B))
    assert e1 == pytest.approx(e2, rel=1e-12)


@pytest.mark.parametrize("cell, gate", [("rnn", None), ("gru", "hard_sigmoid"), ("lstm", None)])
def test_engine_equals_the_scan_recurrence(cell, gate):
    # the default (engine) CharRNN against the scan one: loss, every gradient,
    # final states and three RMSprop steps carrying the states, 2 layers, dropout
    kw = dict(gate_activation=gate, dropout=0.2)
    scan_model = CharRNN(C, cell, H, 2, seed=4, engine=False, **kw)
    eng = CharRNN(C, cell, H, 2, params=scan_model.get_params(), **kw)
    assert eng.engine and eng.config()["engine"] is True
    x, y = batch(8)
    l1, g1 = scan_model.loss_and_gradients(x, y, scan_model.zero_states(B))
    l2, g2 = eng.loss_and_gradients(x, y, eng.zero_states(B))
    assert l2 == pytest.approx(l1, rel=1e-12)
    for name in scan_model.param_names:
        assert rel_err(g2[name], g1[name]) <= 1e-10, name
    s1, s2 = scan_model.zero_states(B), eng.zero_states(B)
    for _ in range(3):
        out1 = scan_model.train_step(x, y, 0.01, s1, rng=np.random.default_rng(1))
        out2 = eng.train_step(x, y, 0.01, s2, rng=np.random.default_rng(1))
        assert out2[0] == pytest.approx(out1[0], rel=1e-12)
        s1, s2 = out1[1], out2[1]
        for a, b in zip(s1, s2):
            assert rel_err(b, a) <= 1e-10
    for name, value in scan_model.get_params().items():
        assert rel_err(eng.get_params()[name], value) <= 1e-10, name


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_sampling_step_equals_the_sequence(cell):
    # one step at a time (the sampler's function) gives the sequence's loss and final states
    model = CharRNN(C, cell, H, 2, seed=12)
    x, y = batch(12)
    loss, finals = model.eval_loss(x, y, model.zero_states(B))
    states, total = model.zero_states(B), 0.0
    for t in range(T):
        logits, states = model.step(x[t], states)
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= logp[np.arange(B), y[t]].sum()
    assert total / (T * B) == pytest.approx(loss, rel=1e-12)
    for a, b in zip(states, finals):
        assert rel_err(a, b) <= 1e-10


def test_c_backend_compiles_per_shape_with_constant_shapes():
    """On C the functions get static input shapes: no run-time shape
    arithmetic is left in the graph (that halves a cold compile), each batch
    shape has its own function, and the numbers are NUMBA's (dynamic shapes)."""
    model = CharRNN(C, "lstm", H, 1, seed=4)
    other = CharRNN(C, "lstm", H, 1, seed=4, mode="NUMBA")
    assert model.static_shapes and not other.static_shapes
    x, y = batch(5)
    for m in (model, other):
        m.train_step(x, y, 0.01, m.zero_states(B))
    train = model._fns["train"]
    ops = {type(n.op).__name__ for n in train.maker.fgraph.toposort()}
    assert not ops & {"Shape_i", "MakeVector", "Assert"}, ops
    short = x[:2, :2], y[:2, :2]
    loss_c, _ = model.eval_loss(*short, model.zero_states(2))
    loss_n, _ = other.eval_loss(*short, other.zero_states(2))
    assert abs(loss_c - loss_n) <= 1e-12 * abs(loss_n)
    assert ("eval", (2, 2)) in model._fns and model._fns["train"] is train
    for a, b in zip(model.get_params().values(), other.get_params().values()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
