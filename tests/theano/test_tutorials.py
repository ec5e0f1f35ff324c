"""Tutorial-style models written against the namespace, checked against legacy_ref from the
same weights (float64, <= 1e-10): WildML's RNN, a GRU with hard_sigmoid and a Param-decay
RMSprop step, gwtaylor's Elman RNN (binary and softmax outputs), an LSTM with MRG dropout."""

import numpy as np
import pytest

import theano_rnn.theano as theano
import theano_rnn.theano.tensor as T
from legacy_ref import elman_numpy
from legacy_ref.gru_numpy import GRUNumpy
from legacy_ref.rnn_numpy import RNNNumpy
from theano_rnn.theano.sandbox.rng_mrg import MRG_RandomStreams

TOL = dict(rtol=1e-10, atol=1e-12)


class TutorialRNN:
    """WildML part 2's RNNTheano, as a user of the namespace writes it."""

    def __init__(self, U, V, W, bptt_truncate=-1):
        self.U = theano.shared(name="U", value=U)
        self.V = theano.shared(name="V", value=V)
        self.W = theano.shared(name="W", value=W)
        U, V, W = self.U, self.V, self.W
        x = T.ivector("x")
        y = T.ivector("y")

        def forward_prop_step(x_t, s_t_prev, U, V, W):
            s_t = T.tanh(U[:, x_t] + W.dot(s_t_prev))
            o_t = T.nnet.softmax(V.dot(s_t))
            return [o_t[0], s_t]

        [o, s], updates = theano.scan(
            forward_prop_step, sequences=x,
            outputs_info=[None, dict(initial=T.zeros(U.get_value().shape[0]))],
            non_sequences=[U, V, W], truncate_gradient=bptt_truncate, strict=True)
        o_error = T.sum(T.nnet.categorical_crossentropy(o, y))
        self.bptt = theano.function([x, y], [o, o_error] + T.grad(o_error, [U, V, W]))


@pytest.mark.parametrize("truncate,semantics", [(-1, "none"), (2, "scan")])
def test_rnn_matches_the_numpy_tutorial(truncate, semantics):
    ref = RNNNumpy(6, hidden_dim=4, bptt_truncate=truncate, rng=np.random.RandomState(1))
    model = TutorialRNN(ref.U, ref.V, ref.W, bptt_truncate=truncate)
    x = np.array([0, 3, 5, 1, 2], dtype=np.int32)
    y = np.array([3, 5, 1, 2, 4], dtype=np.int32)
    o, err, dU, dV, dW = model.bptt(x, y)
    np.testing.assert_allclose(o, ref.forward_propagation(x)[0], **TOL)
    assert err == pytest.approx(ref.calculate_total_loss([x], [y]), rel=1e-12)
    for got, want in zip((dU, dV, dW), ref.bptt(x, y, truncation=semantics)):
        np.testing.assert_allclose(got, want, **TOL)


class TutorialGRU:
    """WildML part 4's GRUTheano (one layer here), RMSprop with ``theano.Param(decay, default=0.9)``."""

    def __init__(self, E, U, W, b, V, c):
        names = ("E", "U", "W", "b", "V", "c")
        params = [theano.shared(name=n, value=v.copy()) for n, v in zip(names, (E, U, W, b, V, c))]
        caches = [theano.shared(name="m" + n, value=np.zeros(v.shape)) for n, v in zip(names, (E, U, W, b, V, c))]
        self.params = params
        E, U, W, b, V, c = params
        x = T.ivector("x")
        y = T.ivector("y")

        def forward_prop_step(x_t, s_prev):
            x_e = E[:, x_t]
            z = T.nnet.hard_sigmoid(U[0].dot(x_e) + W[0].dot(s_prev) + b[0])
            r = T.nnet.hard_sigmoid(U[1].dot(x_e) + W[1].dot(s_prev) + b[1])
            h = T.tanh(U[2].dot(x_e) + W[2].dot(s_prev * r) + b[2])
            s_t = (T.ones_like(z) - z) * h + z * s_prev
            return [T.nnet.softmax(V.dot(s_t) + c)[0], s_t]

        [o, s], updates = theano.scan(forward_prop_step, sequences=x,
                                      outputs_info=[None, dict(initial=T.zeros(E.get_value().shape[0]))])
        cost = T.sum(T.nnet.categorical_crossentropy(o, y))
        grads = T.grad(cost, params)
        learning_rate = T.scalar("learning_rate")
        decay = T.scalar("decay")
        new_m = [decay * m + (1 - decay) * g ** 2 for m, g in zip(caches, grads)]
        self.sgd_step = theano.function(
            [x, y, learning_rate, theano.Param(decay, default=0.9)], cost,
            updates=[(p, p - learning_rate * g / T.sqrt(m + 1e-6)) for p, g, m in zip(params, grads, new_m)]
            + list(zip(caches, new_m)))


def test_gru_hard_sigmoid_and_param_decay_rmsprop_match_the_numpy_gru():
    ref = GRUNumpy(7, hidden_dim=3, num_layers=1, rng=np.random.RandomState(2))
    ref.b = np.random.RandomState(3).uniform(-3, 3, ref.b.shape)  # reach hard_sigmoid's flat parts
    model = TutorialGRU(ref.E, ref.U, ref.W, ref.b, ref.V, ref.c)
    x = np.array([1, 4, 6, 0, 2, 2], dtype=np.int32)
    y = np.array([4, 6, 0, 2, 2, 5], dtype=np.int32)
    for decay in (None, 0.5):  # the Param default 0.9, then a given decay
        before = ref.ce_error(x, y)
        cost = model.sgd_step(x, y, 0.01) if decay is None else model.sgd_step(x, y, 0.01, decay)
        assert cost == pytest.approx(before, rel=1e-12)
        ref.sgd_step(x, y, 0.01, 0.9 if decay is None else decay)
        for p, name in zip(model.params, ("E", "U", "W", "b", "V", "c")):
            np.testing.assert_allclose(p.get_value(), getattr(ref, name), **TOL)


class TutorialElman:
    """gwtaylor's RNN (rnn.py) with both of his classification outputs on one scan:
    ``binary`` (sigmoid + binary cross-entropy) and ``softmax`` (one softmax per step)."""

    def __init__(self, P):
        self.params = [theano.shared(P[k].copy(), name=k) for k in elman_numpy.NAMES]
        W, W_in, W_out, h0, bh, by = self.params
        x = T.matrix()

        def step(x_t, h_tm1):
            h_t = T.tanh(T.dot(x_t, W_in) + T.dot(h_tm1, W) + bh)
            return h_t, T.dot(h_t, W_out) + by

        [h, y_pred], _ = theano.scan(step, sequences=x, outputs_info=[h0, None])
        y_bin = T.matrix(name="y", dtype="int32")
        y_cls = T.vector(name="y", dtype="int32")
        p_y_given_x = T.nnet.softmax(y_pred)
        nll_binary = T.mean(T.nnet.binary_crossentropy(T.nnet.sigmoid(y_pred), y_bin))
        nll_multiclass = -T.mean(T.log(p_y_given_x)[T.arange(y_cls.shape[0]), y_cls])
        self.f = theano.function(
            [x, y_bin, y_cls],
            [nll_binary, nll_multiclass, p_y_given_x]
            + [T.grad(loss, q) for loss in (nll_binary, nll_multiclass) for q in self.params],
            mode=theano.Mode(linker="cvm"))  # his mode


def test_elman_binary_and_softmax_outputs_match_the_numpy_reference():
    rs = np.random.RandomState(4)
    P = elman_numpy.init_params(3, 5, 4, rng=rs, scale=0.5)
    x = rs.randn(6, 3)
    binary = (rs.rand(6, 4) > 0.5).astype(np.int32)
    labels = rs.randint(0, 4, 6).astype(np.int32)
    loss_b, loss_s, probs, *grads = TutorialElman(P).f(x, binary, labels)
    np.testing.assert_allclose(probs.sum(axis=1), np.ones(6), rtol=1e-14)  # one softmax per step
    for k, (loss, target, output_type) in enumerate([(loss_b, binary, "binary"),
                                                     (loss_s, labels, "softmax")]):
        _, want_loss, G = elman_numpy.cost_and_grads(P, x, target, output_type)
        assert loss == pytest.approx(want_loss, rel=1e-12)
        for got, name in zip(grads[6 * k:6 * k + 6], elman_numpy.NAMES):
            np.testing.assert_allclose(got, G[name], **TOL)


def _lstm_model(dim, n_words, seed, shape=(None, None)):
    """DeepLearningTutorials lstm.py's graph (embedding, masked LSTM, mean pool, dropout);
    ``shape`` gives x and mask static shapes (the JAX backend needs them)."""
    rs = np.random.RandomState(seed)
    Wemb = theano.shared(0.3 * rs.randn(n_words, dim), name="Wemb")
    W = theano.shared(0.5 * rs.randn(dim, 4 * dim), name="lstm_W")
    U = theano.shared(0.5 * rs.randn(dim, 4 * dim), name="lstm_U")
    b = theano.shared(0.1 * rs.randn(4 * dim), name="lstm_b")
    trng = MRG_RandomStreams(123)
    use_noise = theano.shared(np.float64(1.0))
    x = T.tensor("x", dtype="int64", shape=shape)
    mask = T.tensor("mask", dtype="float64", shape=shape)
    n_timesteps, n_samples = x.shape[0], x.shape[1]
    emb = Wemb[x.flatten()].reshape([n_timesteps, n_samples, dim])

    def _slice(_x, n):
        return _x[:, n * dim:(n + 1) * dim]

    def _step(m_, x_, h_, c_):
        preact = T.dot(h_, U) + x_
        i = T.nnet.sigmoid(_slice(preact, 0))
        f = T.nnet.sigmoid(_slice(preact, 1))
        o = T.nnet.sigmoid(_slice(preact, 2))
        c = f * c_ + i * T.tanh(_slice(preact, 3))
        c = m_[:, None] * c + (1. - m_)[:, None] * c_
        h = o * T.tanh(c)
        return m_[:, None] * h + (1. - m_)[:, None] * h_, c

    rval, _ = theano.scan(_step, sequences=[mask, T.dot(emb, W) + b],
                          outputs_info=[T.alloc(np.float64(0.), n_samples, dim)] * 2,
                          n_steps=n_timesteps)
    proj = (rval[0] * mask[:, :, None]).sum(axis=0) / mask.sum(axis=0)[:, None]
    keep = trng.binomial(proj.shape, p=0.5, n=1, dtype=proj.dtype)
    dropped = T.switch(use_noise, proj * keep, proj * 0.5)
    params = [p.get_value() for p in (Wemb, W, U, b)]
    return x, mask, dropped, keep, use_noise, params


def _np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _np_lstm(params, xv, mv):
    Wemb, W, U, b = params
    dim = W.shape[0]
    h = np.zeros((xv.shape[1], dim))
    c = np.zeros_like(h)
    hs = []
    for t in range(xv.shape[0]):
        pre = h.dot(U) + Wemb[xv[t]].dot(W) + b
        i, f, o = (_np_sigmoid(pre[:, k * dim:(k + 1) * dim]) for k in range(3))
        cn = f * c + i * np.tanh(pre[:, 3 * dim:])
        m = mv[t][:, None]
        c = m * cn + (1 - m) * c
        h = m * (o * np.tanh(c)) + (1 - m) * h
        hs.append(h)
    return (np.array(hs) * mv[:, :, None]).sum(axis=0) / mv.sum(axis=0)[:, None]


@pytest.mark.parametrize("mode", ["FAST_RUN", pytest.param("NUMBA", marks=pytest.mark.slow),
                                  pytest.param("JAX", marks=pytest.mark.slow)])
def test_lstm_with_mrg_dropout_matches_numpy_given_its_mask(mode):
    if mode == "JAX":
        pytest.importorskip("jax")
    # lstm.py's symbolic reshape needs static shapes on JAX (it traces shapes as values)
    shape = (5, 4) if mode == "JAX" else (None, None)
    x, mask, dropped, keep, use_noise, params = _lstm_model(dim=3, n_words=9, seed=5, shape=shape)
    f = theano.function([x, mask], [dropped, keep], mode=mode)
    rs = np.random.RandomState(6)
    xv = rs.randint(0, 9, (5, 4)).astype(np.int64)
    mv = np.ones((5, 4))
    mv[3:, 1] = 0.0
    mv[4:, 2] = 0.0
    out, m1 = f(xv, mv)
    pooled = _np_lstm(params, xv, mv)
    np.testing.assert_allclose(out, pooled * m1, **TOL)
    assert set(np.unique(m1)) <= {0.0, 1.0}
    draws = np.array([f(xv, mv)[1] for _ in range(40)])
    assert abs(draws.mean() - 0.5) < 0.1  # p = 0.5, a new mask every call
    use_noise.set_value(0.0)
    np.testing.assert_allclose(f(xv, mv)[0], pooled * 0.5, **TOL)
