"""gwtaylor's RNN / MetaRNN: parameters, draws, L1 as written, estimator
protocol, files, the LSTM cells and the mini-batched estimator."""

import pickle

import numpy as np
import pytensor.tensor as pt
import pytest

from theano_rnn.errors import CheckpointError
from theano_rnn.models.elman import (RNN, MetaRNN, MetaRNNMinibatch, convert_pickle,
                                     get_seq_cell, load_metarnn, seq_cell_names)

N_IN, H, N_OUT = 3, 4, 2


def test_params_order_shapes_and_his_global_draw():
    np.random.seed(3)
    W = np.random.uniform(size=(H, H), low=-0.01, high=0.01)
    W_in = np.random.uniform(size=(N_IN, H), low=-0.01, high=0.01)
    W_out = np.random.uniform(size=(H, N_OUT), low=-0.01, high=0.01)
    np.random.seed(3)
    rnn = RNN(pt.matrix(), N_IN, H, N_OUT)
    assert [p.name for p in rnn.params] == ["W", "W_in", "W_out", "h0", "bh", "by"]
    got = [p.get_value() for p in rnn.params]
    np.testing.assert_array_equal(got[0], W)
    np.testing.assert_array_equal(got[1], W_in)
    np.testing.assert_array_equal(got[2], W_out)
    for z, n in zip(got[3:], (H, H, N_OUT)):
        np.testing.assert_array_equal(z, np.zeros(n))
    assert set(rnn.updates) == set(rnn.params)


def test_explicit_rng_leaves_the_global_generator_alone():
    np.random.seed(5)
    state = np.random.get_state()[1].copy()
    a = RNN(pt.matrix(), N_IN, H, N_OUT, rng=np.random.RandomState(1)).W.get_value()
    b = RNN(pt.matrix(), N_IN, H, N_OUT, rng=np.random.RandomState(1)).W.get_value()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_L1_is_abs_of_sum_as_written_and_L2_the_squares():
    rnn = RNN(pt.matrix(), N_IN, H, N_OUT, rng=np.random.RandomState(0), init_scale=1.0)
    Ws = [p.get_value() for p in rnn.params[:3]]
    assert abs(rnn.L1.eval() - sum(abs(w.sum()) for w in Ws)) < 1e-12
    assert abs(rnn.L1_abs.eval() - sum(np.abs(w).sum() for w in Ws)) < 1e-12
    assert rnn.L1.eval() < rnn.L1_abs.eval() - 1e-3
    assert abs(rnn.L2_sqr.eval() - sum((w ** 2).sum() for w in Ws)) < 1e-12


def test_output_types_and_errors():
    with pytest.raises(NotImplementedError):
        RNN(pt.matrix(), N_IN, H, N_OUT, output_type="poisson")
    real = RNN(pt.matrix(), N_IN, H, N_OUT)
    with pytest.raises(NotImplementedError):
        real.errors(pt.matrix())
    soft = RNN(pt.matrix(), N_IN, H, N_OUT, output_type="softmax")
    with pytest.raises(TypeError):
        soft.errors(pt.imatrix())
    assert soft.errors(pt.ivector()).ndim == 0
    with pytest.raises(NotImplementedError):
        MetaRNN(n_in=N_IN, n_hidden=H, n_out=N_OUT, activation="softplus")


def test_estimator_protocol_without_sklearn():
    m = MetaRNN(n_in=N_IN, n_hidden=H, n_out=N_OUT, rng=np.random.RandomState(0))
    p = m.get_params()
    assert p["n_hidden"] == H and p["learning_rate"] == 0.01 and p["momentum_switchover"] == 5
    assert list(p)[:14] == ["n_in", "n_hidden", "n_out", "learning_rate", "n_epochs", "L1_reg",
                            "L2_reg", "learning_rate_decay", "activation", "output_type",
                            "final_momentum", "initial_momentum", "momentum_switchover",
                            "use_symbolic_softmax"]
    clone = MetaRNN(**{**p, "rng": np.random.RandomState(0)})
    np.testing.assert_array_equal(clone.weights()[0], m.weights()[0])
    assert m.set_params(n_epochs=7) is m and m.n_epochs == 7
    with pytest.raises(ValueError):
        m.set_params(n_layers=2)


def test_save_load_npz_roundtrip_and_refusals(tmp_path):
    m = MetaRNN(n_in=N_IN, n_hidden=H, n_out=N_OUT, output_type="binary", L2_reg=0.5,
                rng=np.random.RandomState(2))
    path = m.save(tmp_path / "m.npz")
    with pytest.raises(FileExistsError):
        m.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as z:
        assert str(z["__format__"]) == "theano_rnn.elman/1"
    back = load_metarnn(path, rng=np.random.RandomState(9))
    assert back.output_type == "binary" and back.L2_reg == 0.5
    for a, b in zip(back.weights(), m.weights()):
        np.testing.assert_array_equal(a, b)
    other = MetaRNN(n_in=1, n_hidden=1, n_out=1).load(path)
    assert other.n_hidden == H
    np.testing.assert_array_equal(other.weights()[1], m.weights()[1])
    np.savez(tmp_path / "x.npz", W=np.zeros(2))
    with pytest.raises(CheckpointError):
        load_metarnn(tmp_path / "x.npz")
    assert m.save(tmp_path).endswith(".npz")  # his dated name inside a directory


def test_convert_pickle_needs_trusted(tmp_path):
    m = MetaRNN(n_in=N_IN, n_hidden=H, n_out=N_OUT, rng=np.random.RandomState(4))
    params = {k: v for k, v in m.get_params().items() if k not in ("cell", "init_scale",
                                                                     "forget_bias", "rng", "mode")}
    pkl = tmp_path / "MetaRNN.pkl"
    pkl.write_bytes(pickle.dumps((params, m.weights()), protocol=2))
    with pytest.raises(PermissionError):
        convert_pickle(pkl, tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()
    out = convert_pickle(pkl, tmp_path / "out.npz", trusted=True)
    back = load_metarnn(out)
    np.testing.assert_array_equal(back.weights()[2], m.weights()[2])
    pkl.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(CheckpointError):
        convert_pickle(pkl, tmp_path / "o2.npz", trusted=True)


def _np_forward(cell, P, x):
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    h, C = P["h0"], np.zeros(H)
    hs = []
    for t in range(len(x)):
        a = x[t] @ P["W_in"] + h @ P["W"] + P["bh"]
        if cell == "lstm_seed":
            C = sig(a) * np.tanh(a) + sig(a) * C
            h = sig(a) * np.tanh(C)
        else:
            i, f, o, g = sig(a[:H]), sig(a[H:2 * H]), sig(a[2 * H:3 * H]), np.tanh(a[3 * H:])
            C = f * C + i * g
            h = o * np.tanh(C)
        hs.append(h)
    return np.array(hs) @ P["W_out"] + P["by"]


@pytest.mark.parametrize("cell", ["lstm_seed", "lstm"])
def test_lstm_cells_step_as_documented(cell):
    assert set(seq_cell_names()) >= {"rnn", "lstm_seed", "lstm"}
    x = pt.matrix()
    rnn = RNN(x, N_IN, H, N_OUT, cell=cell, init_scale=0.5, rng=np.random.RandomState(1),
              forget_bias=1.0 if cell == "lstm" else 0.0)
    P = {p.name: p.get_value() for p in rnn.params}
    if cell == "lstm":
        assert P["W"].shape == (H, 4 * H) and P["W_in"].shape == (N_IN, 4 * H)
        np.testing.assert_array_equal(P["bh"][H:2 * H], np.ones(H))
        assert not P["bh"][:H].any() and not P["bh"][2 * H:].any()
    else:
        assert P["W"].shape == (H, H)
    X = np.random.RandomState(0).randn(5, N_IN)
    np.testing.assert_allclose(rnn.y_pred.eval({x: X}), _np_forward(cell, P, X), atol=1e-12)
    with pytest.raises(ValueError):
        get_seq_cell("rnn").init(N_IN, H, N_OUT, forget_bias=1.0)


def test_minibatch_masks_and_scipy():
    r = np.random.RandomState(0)
    X = r.randn(6, 4, N_IN)
    Y = r.randn(6, 4, N_OUT)
    mask = np.ones((6, 4))
    mask[4:, 1] = 0  # sequence 1 has 4 steps
    mb = MetaRNNMinibatch(n_in=N_IN, n_hidden=H, n_out=N_OUT, optimizer="L-BFGS-B", n_epochs=15,
                          rng=np.random.RandomState(3), init_scale=0.3)
    c_full, _ = mb.cost_and_grads(X, Y, mask)
    Y2 = Y.copy()
    Y2[4:, 1] += 100.0  # what is masked cannot change the cost
    assert abs(mb.cost_and_grads(X, Y2, mask)[0] - c_full) < 1e-12
    # masked loss = mean squared error over the existing steps
    pred = mb.predict(X, mask)
    err = ((pred - Y) ** 2).sum(axis=2) * mask
    assert abs(err.sum() / (mask.sum() * N_OUT) - c_full) < 1e-12
    theta0 = mb.get_flat()
    mb.fit(X, Y, mask)
    assert mb.result.fun < c_full - 0.05
    assert not np.allclose(mb.get_flat(), theta0)
    with pytest.raises(ValueError):
        MetaRNNMinibatch(optimizer="adam")
