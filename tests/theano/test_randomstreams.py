"""RandomStreams / MRG_RandomStreams: Theano's signatures, distributions, backends, scan."""

import numpy as np
import pytest

import theano_rnn.theano as theano
import theano_rnn.theano.tensor as T
from theano_rnn.theano.sandbox.rng_mrg import MRG_RandomStreams
from theano_rnn.theano.tensor.shared_randomstreams import RandomStreams

# C in the default run; Numba and JAX compile slowly (run with -m slow)
BACKENDS = ["FAST_RUN", pytest.param("NUMBA", marks=pytest.mark.slow),
            pytest.param("JAX", marks=pytest.mark.slow)]


def _backend(mode):
    if mode == "JAX":
        pytest.importorskip("jax")
    return mode


def test_the_tutorials_calls_with_theanos_signatures():
    x = T.dmatrix("x")
    trng = MRG_RandomStreams(123)
    # DeepLearningTutorials lstm.py: binomial(shape, p=, n=, dtype=) -- PyTensor's own
    # RandomStream.binomial(n, p, size=) raised "multiple values for 'n'" on this call
    mask = trng.binomial(x.shape, p=0.5, n=1, dtype=x.dtype)
    srng = RandomStreams(7)
    draws = [srng.uniform((2000,), 1.0, 3.0), srng.normal((2000,), 2.0, 0.5),
             srng.binomial(size=(2000,), n=5, p=0.3), trng.normal((2000,), avg=-1.0, std=2.0),
             trng.uniform(size=(2000,), low=-1.0, high=0.0),
             trng.multinomial(pvals=np.tile([[0.2, 0.8]], (2000, 1)))]
    f = theano.function([x], [mask] + draws)
    m, u, n, b, mn, mu, mult = f(np.ones((50, 40)))
    assert m.dtype == np.float64 and set(np.unique(m)) <= {0.0, 1.0} and abs(m.mean() - 0.5) < 0.03
    assert u.min() >= 1 and u.max() < 3 and abs(u.mean() - 2) < 0.05
    assert abs(n.mean() - 2) < 0.05 and abs(n.std() - 0.5) < 0.05
    assert b.dtype == np.int64 and abs(b.mean() - 1.5) < 0.1 and b.max() <= 5
    assert abs(mn.mean() + 1) < 0.15 and abs(mn.std() - 2) < 0.15
    assert mu.min() >= -1 and mu.max() < 0
    assert mult.shape == (2000, 2) and (mult.sum(axis=1) == 1).all() and abs(mult[:, 1].mean() - 0.8) < 0.03
    m2 = f(np.ones((50, 40)))[0]
    assert not np.array_equal(m, m2)  # the generators advance by themselves, as in Theano


def test_seed_restarts_every_stream_and_dtypes_follow_theano():
    srng = RandomStreams(3)
    u = srng.uniform((4,))
    r = srng.random_integers((500,), 0, 2)
    f = theano.function([], [u, r])
    first = f()
    srng.seed(3)
    again = f()
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert set(np.unique(first[1])) == {0, 1, 2}  # high included, as in Theano
    assert len(srng.updates()) == 2
    assert u.dtype == theano.config.floatX
    assert srng.binomial((3,), p=0.5).dtype == "int64"
    with pytest.raises(NotImplementedError):
        MRG_RandomStreams().choice(size=1, p=np.ones((2, 3)) / 3, replace=True)


@pytest.mark.parametrize("mode", BACKENDS)
def test_a_seed_gives_numpys_numbers_on_c_and_numba_and_repeats_on_jax(mode):
    trng = MRG_RandomStreams(99)
    x = T.dvector("x")
    y = x * trng.binomial(x.shape, p=0.3, dtype=x.dtype) + trng.normal((5,))
    f = theano.function([x], y, mode=_backend(mode))
    got = f(np.arange(5.0))
    if mode == "JAX":  # JAX draws from its own generator, keyed by the stream's
        trng.seed(99)
        np.testing.assert_array_equal(theano.function([x], y, mode="JAX")(np.arange(5.0)), got)
        return
    gen = np.random.SeedSequence(99).spawn(2)
    mask = np.random.default_rng(gen[0]).uniform(size=5) < 0.3
    noise = np.random.default_rng(gen[1]).normal(size=5)
    np.testing.assert_allclose(got, np.arange(5.0) * mask + noise, rtol=1e-12)


@pytest.mark.parametrize("mode", BACKENDS)
def test_scan_body_that_draws_random_numbers(mode):
    srng = RandomStreams(5)
    x = T.dmatrix("x")

    def step(x_t, h):
        keep = srng.binomial(size=x_t.shape, p=0.5, dtype=x_t.dtype)
        return h + x_t * keep

    h, updates = theano.scan(step, sequences=x, outputs_info=T.zeros_like(x[0]))
    assert len(updates) == 1
    f = theano.function([x], h, updates=updates, mode=_backend(mode))
    a = np.ones((200, 3))
    out1, out2 = f(a), f(a)
    steps = np.diff(np.vstack([np.zeros(3), out1]), axis=0)
    assert set(np.unique(steps)) == {0.0, 1.0} and abs(steps.mean() - 0.5) < 0.1
    assert not np.array_equal(out1, out2)  # updates advance the generator between calls


def test_gradient_through_a_random_draw_in_scan_names_the_workaround():
    srng = RandomStreams(5)
    w = theano.shared(np.ones(3), name="w")
    h, _ = theano.scan(lambda h: h * w * srng.binomial(size=(3,), p=0.5, dtype="float64"),
                       outputs_info=T.ones(3), n_steps=3)
    with pytest.raises(theano.gradient.NullTypeGradError, match="pass them in as a sequence"):
        theano.grad(h.sum(), w)
