"""The NumPy reference of the Udacity 6_lstm LSTM (legacy_ref/udacity_lstm.py), on its own.

Contract: its hand-written gradients equal central finite differences of its
loss (every parameter, from a non-zero carried state); its clip is
``tf.clip_by_global_norm`` (direction kept, norm capped, untouched below the
cap); its init is the listing's truncated normal of mean -0.1, stddev 0.1;
its train step carries the state and follows the staircase rate.
"""

import numpy as np
import pytest

from legacy_ref import udacity_lstm as ref

V, N, B, T = 5, 4, 3, 3


def onehot_data(seed, T=T, B=B, V=V):
    rs = np.random.RandomState(seed)
    data = np.zeros((T + 1, B, V))
    idx = rs.randint(0, V, size=(T + 1, B))
    for t in range(T + 1):
        data[t, np.arange(B), idx[t]] = 1.0
    return data


def params(seed=0):
    p = ref.init_params(V, N, np.random.RandomState(seed))
    rs = np.random.RandomState(seed + 100)
    for k in ("ib", "fb", "cb", "ob", "b"):  # non-zero biases exercise their gradients
        p[k] = rs.uniform(-0.5, 0.5, p[k].shape)
    return p


def test_gradients_match_finite_differences():
    p = params()
    data = onehot_data(1)
    rs = np.random.RandomState(2)
    o0, s0 = rs.uniform(-0.5, 0.5, (B, N)), rs.uniform(-1, 1, (B, N))
    loss, _, _, g = ref.loss_and_grads(p, data, o0, s0)
    eps = 1e-6
    for name in ref.PARAM_NAMES:
        num = np.zeros_like(p[name])
        for ix in np.ndindex(p[name].shape):
            old = p[name][ix]
            p[name][ix] = old + eps
            lp, _ = ref.forward(p, data, o0, s0)
            p[name][ix] = old - eps
            lm, _ = ref.forward(p, data, o0, s0)
            p[name][ix] = old
            num[ix] = (lp - lm) / (2 * eps)
        err = np.max(np.abs(num - g[name])) / max(1e-8, np.max(np.abs(num)))
        assert err < 1e-6, (name, err)


def test_clip_by_global_norm():
    g = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = ref.clip_by_global_norm(g, 1.25)
    assert norm == pytest.approx(5.0)
    total = np.sqrt(sum(np.sum(v ** 2) for v in clipped.values()))
    assert total == pytest.approx(1.25)
    np.testing.assert_allclose(clipped["a"], [0.75, 0.0])
    same, _ = ref.clip_by_global_norm(g, 10.0)
    np.testing.assert_array_equal(same["a"], g["a"])


def test_listing_init_is_mean_minus_point_one():
    p = ref.init_params(27, 64, np.random.RandomState(0))
    w = np.concatenate([p[k].ravel() for k in ("ix", "im", "fx", "fm", "cx", "cm", "ox", "om", "w")])
    assert w.min() >= -0.3 and w.max() <= 0.1
    assert abs(w.mean() + 0.1) < 0.005
    assert not any(p[k].any() for k in ("ib", "fb", "cb", "ob", "b"))


def test_train_step_carries_state_and_decays():
    model = ref.UdacityLSTMNumpy(params(), B, decay_steps=2, clip_norm=0.05)
    data = onehot_data(3)
    _, o, s, _ = ref.loss_and_grads(model.p, data, model.saved_output, model.saved_state)
    loss, lr = model.train_step(data)
    assert lr == 10.0
    np.testing.assert_array_equal(model.saved_output, o)
    np.testing.assert_array_equal(model.saved_state, s)
    assert np.abs(s).max() > 0
    lrs = [model.train_step(onehot_data(4 + k))[1] for k in range(3)]
    assert lrs == pytest.approx([10.0, 1.0, 1.0])
    assert model.global_step == 4
