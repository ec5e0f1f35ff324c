"""The tutorial classes' surface, options, backends and float32."""

import numpy as np
import pytensor
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RecurrentLM, RNNTheano

C, H = 9, 4


def sent(seed, T=7):
    rng = np.random.RandomState(seed)
    return rng.randint(0, C, T).astype(np.int32), rng.randint(0, C, T).astype(np.int32)


@pytest.fixture(scope="module")
def rnn(shared_model):
    return shared_model(RNNTheano, C, H, seed=0)


@pytest.fixture(scope="module")
def gru(shared_model):
    return shared_model(GRUTheano, C, H, seed=0)


def test_tutorial_defaults_and_shapes():
    m = RNNTheano(C)
    assert (m.hidden_dim, m.bptt_truncate, m.num_layers, m.truncation) == (100, 4, 1, "scan")
    assert m.U.get_value().shape == (100, C) and m.V.get_value().shape == (C, 100)
    assert m.W.get_value().shape == (100, 100)
    g = GRUTheano(C)
    assert (g.hidden_dim, g.bptt_truncate, g.num_layers, g.gate_activation) == (128, -1, 2, "hard_sigmoid")
    assert g.U.get_value().shape == (6, 128, 128) and g.b.get_value().shape == (6, 128)
    assert not g.b.get_value().any() and not g.c.get_value().any()
    assert [k for k in g.optimizer_state] == ["mE", "mU", "mW", "mV", "mb", "mc"]
    lstm = LSTMTheano(C)
    assert (lstm.num_layers, lstm.gate_activation) == (1, "sigmoid")
    assert lstm.U.get_value().shape == (4, 128, 128) and lstm.E.get_value().shape == (128, C)


def test_rnn_predict_is_argmax_and_sgd_step_returns_loss(rnn):
    x, y = sent(1)
    probs = rnn.forward_propagation(x)
    assert probs.shape == (len(x), C)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(rnn.predict(x), probs.argmax(axis=1))
    before = rnn.get_params()
    loss = rnn.ce_error(x, y)
    assert rnn.sgd_step(x, y, 0.01) == pytest.approx(loss, rel=1e-12)
    assert rnn.ce_error(x, y) < loss  # one SGD step on this sentence lowers its loss
    rnn.set_params(before)
    assert rnn.calculate_loss([x], [y]) == pytest.approx(loss / len(y), rel=1e-12)
    assert rnn.calculate_total_loss([x, x], [y, y]) == pytest.approx(2 * loss, rel=1e-12)


def test_gru_predict_is_probabilities_and_decay_is_checked(gru):
    x, y = sent(2)
    probs = gru.predict(x)
    assert probs.shape == (len(x), C)
    np.testing.assert_array_equal(gru.predict_class(x), probs.argmax(axis=1))
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="decay"):
            gru.sgd_step(x, y, 0.001, bad)
    assert all(not v.any() for v in gru.get_optimizer_state().values())  # nothing applied
    # default decay = 0.9 (the tutorial's theano.Param default)
    start = gru.get_params()
    gru.sgd_step(x, y, 0.001)
    default_state = gru.get_optimizer_state()
    gru.set_params(start)
    gru.set_optimizer_state({k: np.zeros_like(v) for k, v in default_state.items()})
    gru.sgd_step(x, y, 0.001, 0.9)
    for k, v in gru.get_optimizer_state().items():
        np.testing.assert_array_equal(v, default_state[k])
    gru.set_params(start)
    gru.set_optimizer_state({k: np.zeros_like(v) for k, v in default_state.items()})


def test_bad_options_are_rejected_clearly():
    with pytest.raises(ValueError, match="unknown cell"):
        RecurrentLM(C, H, cell="tree")
    with pytest.raises(ValueError, match="truncation"):
        RNNTheano(C, H, truncation="sometimes")
    with pytest.raises(ValueError, match="gate activation"):
        GRUTheano(C, H, gate_activation="relu")
    with pytest.raises(ValueError, match="optimizer"):
        RNNTheano(C, H, optimizer="lbfgs")
    with pytest.raises(ValueError, match="positive"):
        RNNTheano(0, H)
    m = RNNTheano(C, H, rng=np.random.RandomState(0))
    with pytest.raises(ValueError, match="'V' has shape"):
        m.set_params({"U": np.zeros((H, C)), "V": np.zeros((C, H + 1)), "W": np.zeros((H, H))})
    with pytest.raises(ValueError, match="missing key 'W'"):
        m.set_params({"U": np.zeros((H, C)), "V": np.zeros((C, H))})


def _finite_difference(model, x, y, name, index, h=1e-6):
    p = getattr(model, name)
    value = p.get_value()
    orig = value[index]
    value[index] = orig + h
    p.set_value(value)
    plus = model.ce_error(x, y)
    value[index] = orig - h
    p.set_value(value)
    minus = model.ce_error(x, y)
    value[index] = orig
    p.set_value(value)
    return (plus - minus) / (2 * h)


@pytest.mark.parametrize("cls,layers", [(RNNTheano, 3), pytest.param(GRUTheano, 3, marks=pytest.mark.slow),
                                        pytest.param(LSTMTheano, 2, marks=pytest.mark.slow)])
def test_deep_models_gradients_match_finite_differences(cls, layers):
    """Layers beyond the tutorials' (no reference class): check against central differences."""
    m = cls(C, H, -1, num_layers=layers, rng=np.random.RandomState(4))
    x, y = sent(3, T=6)
    grads = dict(zip(m.param_names, m._function([m._graph()["x"], m._graph()["y"]], m._graph()["grads"])(x, y)))
    rng = np.random.RandomState(0)
    for name in m.param_names:
        g = grads[name]
        for _ in range(3):
            index = tuple(rng.randint(0, s) for s in g.shape)
            if name in ("U",) and cls is RNNTheano:
                index = (index[0], int(x[0]))  # a touched column
            num = _finite_difference(m, x, y, name, index)
            assert g[index] == pytest.approx(num, rel=1e-5, abs=1e-8), (name, index)


def test_gate_activation_option_changes_the_model():
    weights = GRUTheano(C, H, rng=np.random.RandomState(1)).get_params()
    x, y = sent(5)
    hard = GRUTheano(C, H, params=weights, gate_activation="hard_sigmoid")
    soft = GRUTheano(C, H, params=weights, gate_activation="sigmoid")
    assert hard.ce_error(x, y) != pytest.approx(soft.ce_error(x, y), rel=1e-6)


def test_abcdefg_demo_with_pytensor_gru():
    """The GRU article's demo on the port: from "a" it writes "abcdefg abcdefg ..."."""
    text = " ".join(["abcdefg"] * 12)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text], dtype=np.int32)
    model = GRUTheano(len(vocab), 16, num_layers=1, rng=np.random.RandomState(0))
    seq_length = 6
    for epoch in range(15):
        for s in range(0, len(ids) - 1, seq_length):
            x, y = ids[s : s + seq_length], ids[s + 1 : s + seq_length + 1]
            n = min(len(x), len(y))
            model.sgd_step(x[:n], y[:n], 0.01)
    out = [index["a"]]
    for _ in range(30):
        out.append(int(np.argmax(model.next_word_probs(out))))
    assert "".join(vocab[i] for i in out) == "abcdefg abcdefg abcdefg abcdefg"


# slow: the default run has it, stronger, in test_float32.py::test_word_model_float32_tracks_float64[gru-faithful]
@pytest.mark.slow
def test_float32_trajectory_stays_close_to_float64():
    x, y = sent(6, T=8)
    weights = GRUTheano(C, H, rng=np.random.RandomState(2)).get_params()
    m64 = GRUTheano(C, H, params=weights)
    with pytensor.config.change_flags(floatX="float32"):
        m32 = GRUTheano(C, H, params=weights)
        assert m32.U.get_value().dtype == np.float32
        losses32 = [float(m32.sgd_step(x, y, 0.01)) for _ in range(5)]
    losses64 = [float(m64.sgd_step(x, y, 0.01)) for _ in range(5)]
    np.testing.assert_allclose(losses32, losses64, rtol=1e-4)


# slow: the default run has it, stronger, in runtime/test_backends.py::test_word_models_agree_with_c[rnn-scan-k2-NUMBA]
@pytest.mark.slow
def test_numba_backend_gives_the_same_numbers():
    weights = RNNTheano(C, H, rng=np.random.RandomState(3)).get_params()
    x, y = sent(7, T=8)
    c_model = RNNTheano(C, H, params=weights, mode="C")
    nb_model = RNNTheano(C, H, params=weights, mode="NUMBA")
    assert nb_model.mode == "NUMBA"
    assert nb_model.ce_error(x, y) == pytest.approx(c_model.ce_error(x, y), rel=1e-12)
    for a, b in zip(nb_model.bptt(x, y), c_model.bptt(x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
