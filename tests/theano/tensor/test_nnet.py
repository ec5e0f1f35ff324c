"""T.nnet: every function against NumPy, with Theano's semantics where PyTensor's differ."""

import numpy as np
import pytest

import theano_rnn.theano as theano
import theano_rnn.theano.tensor as T


def _softmax_rows(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_normalises_each_row_never_the_whole_matrix():
    m = T.dmatrix("m")
    v = T.dvector("v")
    f = theano.function([m, v], [T.nnet.softmax(m), T.nnet.softmax(v), T.nnet.softmax_graph(m),
                                 T.nnet.softmax_with_bias(m, v[:4]), T.nnet.logsoftmax(m)])
    a = np.random.RandomState(0).randn(5, 4)
    rows, vec, graph, biased, logsm = f(a, a[0])
    np.testing.assert_allclose(rows, _softmax_rows(a), rtol=1e-14)
    np.testing.assert_allclose(rows.sum(axis=1), np.ones(5), rtol=1e-14)  # every row sums to 1
    whole = np.exp(a) / np.exp(a).sum()  # pytensor.tensor.special.softmax(axis=None)
    assert np.abs(rows - whole).max() > 0.1 and abs(rows.sum() - 5) < 1e-12
    assert vec.shape == (1, 4)  # Theano: a vector gives a (1, n) row
    np.testing.assert_allclose(vec[0], _softmax_rows(a[0]), rtol=1e-14)
    np.testing.assert_allclose(graph, rows, rtol=1e-13)
    np.testing.assert_allclose(biased, _softmax_rows(a + a[0]), rtol=1e-14)
    np.testing.assert_allclose(logsm, np.log(_softmax_rows(a)), rtol=1e-13)
    with pytest.raises(ValueError):
        T.nnet.softmax(T.dtensor3())


def test_sigmoid_family():
    x = T.dvector("x")
    hs = T.nnet.hard_sigmoid(x)
    r = T.nnet.relu(x)
    f = theano.function([x], [T.nnet.sigmoid(x), hs, theano.grad(hs.sum(), x),
                              T.nnet.ultra_fast_sigmoid(x), T.nnet.softplus(x), r,
                              theano.grad(r.sum(), x), T.nnet.relu(x, 0.1), T.nnet.elu(x),
                              T.nnet.softsign(x)])
    a = np.array([-7.0, -3.1, -2.5, -1.0, 0.0, 0.4, 2.5, 3.5, 8.0])
    sg, h, dh, ufs, sp, rl, drl, leaky, elu, ss = f(a)
    np.testing.assert_allclose(sg, 1 / (1 + np.exp(-a)), rtol=1e-14)
    np.testing.assert_allclose(h, np.clip(0.2 * a + 0.5, 0, 1), atol=1e-15)
    np.testing.assert_array_equal(dh, [0, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0])  # Theano's inclusive clip

    def theano_ultra_fast(v):  # Theano's UltraFastScalarSigmoid.st_impl, written out
        t = abs(0.5 * v)
        z = 1.5 * t / (1 + t) if t < 1.7 else (0.935409070603099 + 0.0458812946797165 * (t - 1.7)
                                               if t < 3 else 0.99505475368673)
        return 0.5 * ((z if v >= 0 else -z) + 1.0)

    np.testing.assert_allclose(ufs, [theano_ultra_fast(v) for v in a], rtol=1e-14)
    assert np.abs(ufs - sg).max() < 0.03
    np.testing.assert_allclose(sp, np.log1p(np.exp(a)), rtol=1e-13)
    np.testing.assert_array_equal(rl, np.maximum(a, 0))
    assert drl[4] == 0.5 and drl[0] == 0 and drl[-1] == 1  # 0.5 * (x + |x|): 0.5 at 0
    np.testing.assert_allclose(leaky, np.where(a > 0, a, 0.1 * a), rtol=1e-14)
    np.testing.assert_allclose(elu, np.where(a > 0, a, np.expm1(a)), rtol=1e-14)
    np.testing.assert_allclose(ss, a / (1 + np.abs(a)), rtol=1e-14)


def test_crossentropies():
    p = T.dmatrix("p")
    t = T.dmatrix("t")
    z = T.dmatrix("z")
    y = T.ivector("y")
    nll, sm = T.nnet.crossentropy_softmax_1hot(z, y)
    f = theano.function([p, t, z, y], [
        T.nnet.binary_crossentropy(p, t), T.nnet.sigmoid_binary_crossentropy(z, t),
        T.nnet.categorical_crossentropy(T.nnet.softmax(z), y), nll, sm,
        T.nnet.crossentropy_categorical_1hot(T.nnet.softmax(z), y)])
    rs = np.random.RandomState(3)
    probs = rs.uniform(0.05, 0.95, (4, 3))
    targets = (rs.rand(4, 3) > 0.5).astype(float)
    logits = rs.randn(4, 3) * 3
    labels = np.array([0, 2, 1, 2], dtype=np.int32)
    bce, sbce, cce, nll_v, sm_v, c1h = f(probs, targets, logits, labels)
    np.testing.assert_allclose(bce, -(targets * np.log(probs) + (1 - targets) * np.log(1 - probs)),
                               rtol=1e-14)
    s = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(sbce, -(targets * np.log(s) + (1 - targets) * np.log(1 - s)),
                               rtol=1e-12)
    expected = -np.log(_softmax_rows(logits)[np.arange(4), labels])
    for got in (cce, nll_v, c1h):
        np.testing.assert_allclose(got, expected, rtol=1e-13)
    np.testing.assert_allclose(sm_v, _softmax_rows(logits), rtol=1e-14)
