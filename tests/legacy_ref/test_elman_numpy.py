"""Parity of gwtaylor's RNN on PyTensor with the per-step NumPy reference.

The gradient of every parameter is read off one training update with
``lr = 1, mom = 0`` (``p_new = p - g``), so each output type compiles one
function, shared with the 20-update momentum trajectory.
"""

import numpy as np
import pytest

from legacy_ref import elman_numpy as ref
from theano_rnn.models.elman import MetaRNN

N_IN, H, N_OUT, T = 3, 4, 2, 6


def data(output_type, n=5, seed=1):
    r = np.random.RandomState(seed)
    X = r.randn(n, T, N_IN)
    if output_type == "real":
        Y = r.randn(n, T, N_OUT)
    elif output_type == "binary":
        Y = (r.rand(n, T, N_OUT) > 0.5).astype(int)
    else:
        Y = r.randint(0, N_OUT, size=(n, T))
    return X, Y


def model(output_type, **kw):
    m = MetaRNN(n_in=N_IN, n_hidden=H, n_out=N_OUT, output_type=output_type,
                L1_reg=0.01, L2_reg=0.02, rng=np.random.RandomState(7), init_scale=0.5, **kw)
    return m


def as_dict(m):
    return dict(zip(ref.NAMES, m.weights()))


@pytest.mark.parametrize("output_type", ["real", "binary", "softmax"])
def test_cost_and_every_gradient_match_the_numpy_reference(output_type):
    m = model(output_type)
    X, Y = data(output_type)
    P = as_dict(m)
    cost, loss, G = ref.cost_and_grads(P, X[0], Y[0], output_type, "tanh", 0.01, 0.02)
    train = m._fn("train")
    got_cost = float(train(X[0], m._y(Y[0]), 1.0, 0.0))
    assert abs(got_cost - cost) <= 1e-10
    # the loss part: his cost minus the regularisers (L1 as written: |sum(W)|)
    reg = sum(0.01 * abs(P[k].sum()) + 0.02 * (P[k] ** 2).sum() for k in ("W", "W_in", "W_out"))
    assert abs((got_cost - reg) - loss) <= 1e-10
    for name, new in zip(ref.NAMES, m.weights()):
        g = P[name] - new
        assert np.abs(G[name]).max() > 1e-6, name  # the gradient is not trivially zero
        np.testing.assert_allclose(g, G[name], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("output_type", ["real", "binary", "softmax"])
def test_twenty_momentum_updates_follow_the_reference(output_type):
    # 5 sequences x 4 epochs = 20 updates; momentum switches after epoch 2, lr decays
    m = model(output_type, learning_rate=0.05, n_epochs=4, momentum_switchover=2,
              learning_rate_decay=0.9)
    X, Y = data(output_type)
    P0 = as_dict(m)
    m.fit(X, Y, validation_frequency=10 ** 6)
    P, costs = ref.fit(P0, X, Y, output_type, "tanh", learning_rate=0.05, n_epochs=4,
                       learning_rate_decay=0.9, momentum_switchover=2, L1_reg=0.01, L2_reg=0.02)
    assert len(costs) == 20
    assert abs(m.learning_rate - 0.05 * 0.9 ** 4) < 1e-15  # decayed in place, as his
    for name, w in zip(ref.NAMES, m.weights()):
        assert np.abs(w - P0[name]).max() > 1e-4, name  # it moved
        np.testing.assert_allclose(w, P[name], rtol=0, atol=1e-10, err_msg=name)


def test_reference_gradient_matches_finite_differences():
    X, Y = data("real")
    P = ref.init_params(N_IN, H, N_OUT, rng=np.random.RandomState(0), scale=0.5)
    for act in ("tanh", "sigmoid", "relu"):
        _, _, G = ref.cost_and_grads(P, X[0], Y[0], "real", act, 0.0, 0.03)
        for name in ref.NAMES:
            i = np.unravel_index(np.argmax(np.abs(G[name])), G[name].shape)
            Pp = {k: v.copy() for k, v in P.items()}
            Pm = {k: v.copy() for k, v in P.items()}
            Pp[name][i] += 1e-6
            Pm[name][i] -= 1e-6
            num = (ref.cost_and_grads(Pp, X[0], Y[0], "real", act, 0.0, 0.03)[0]
                   - ref.cost_and_grads(Pm, X[0], Y[0], "real", act, 0.0, 0.03)[0]) / 2e-6
            assert abs(num - G[name][i]) < 1e-6 * max(1.0, abs(num)), (act, name)
