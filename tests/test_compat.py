"""One NumPy-checked test per Theano name in theano_rnn.compat."""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn import compat


def _np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_vector_gives_row_like_theano():
    v = pt.dvector("v")
    out = compat.softmax(v)
    assert out.ndim == 2
    f = pytensor.function([v], [out, out[0]], mode=compat.get_mode("C"))
    a = np.array([1.0, -2.0, 0.5, 3.0])
    row, first = f(a)
    assert row.shape == (1, 4)
    np.testing.assert_allclose(row[0], _np_softmax(a), rtol=1e-14)
    np.testing.assert_allclose(first, _np_softmax(a), rtol=1e-14)


def test_softmax_matrix_rowwise():
    m = pt.dmatrix("m")
    f = pytensor.function([m], compat.softmax(m), mode=compat.get_mode("C"))
    a = np.random.RandomState(0).randn(3, 5)
    np.testing.assert_allclose(f(a), _np_softmax(a), rtol=1e-14)
    with pytest.raises(ValueError):
        compat.softmax(pt.dtensor3())


def test_hard_sigmoid_values_and_gradient():
    v = pt.dvector("v")
    hs = compat.hard_sigmoid(v)
    g = pytensor.grad(hs.sum(), v)
    f = pytensor.function([v], [hs, g], mode=compat.get_mode("C"))
    a = np.array([-4.0, -2.5000001, -2.5, -1.0, 0.0, 1.7, 2.5, 2.5000001, 4.0])
    val, grad = f(a)
    np.testing.assert_allclose(val, np.clip(0.2 * a + 0.5, 0, 1), rtol=0, atol=1e-15)
    # Theano's clip gradient: 0.2 on [-2.5, 2.5] inclusive, 0 outside
    np.testing.assert_array_equal(grad, [0, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0])
    assert val[4] == 0.5 and val[0] == 0.0 and val[-1] == 1.0


def test_sigmoid_is_logistic():
    v = pt.dvector("v")
    f = pytensor.function([v], compat.sigmoid(v), mode=compat.get_mode("C"))
    a = np.linspace(-6, 6, 7)
    np.testing.assert_allclose(f(a), 1 / (1 + np.exp(-a)), rtol=1e-14)


def test_categorical_crossentropy_integer_and_onehot_targets():
    p = pt.dmatrix("p")
    t = pt.ivector("t")
    onehot = pt.dmatrix("oh")
    f = pytensor.function(
        [p, t, onehot],
        [compat.categorical_crossentropy(p, t), compat.categorical_crossentropy(p, onehot)],
        mode=compat.get_mode("C"),
    )
    probs = _np_softmax(np.random.RandomState(1).randn(4, 6))
    targets = np.array([0, 5, 2, 2], dtype=np.int32)
    a, b = f(probs, targets, np.eye(6)[targets])
    expected = -np.log(probs[np.arange(4), targets])
    np.testing.assert_allclose(a, expected, rtol=1e-14)
    np.testing.assert_allclose(b, expected, rtol=1e-14)
    with pytest.raises(TypeError):
        compat.categorical_crossentropy(p, pt.dvector())


def test_scan_keeps_theano_return_shape_without_deprecation_warning():
    x = pt.dvector("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any DeprecationWarning fails the test
        result = compat.scan(
            lambda a, h: pt.tanh(a + h),
            sequences=x,
            outputs_info=pt.constant(0.0, dtype="float64"),
        )
    assert isinstance(result, tuple) and len(result) == 2
    outputs, updates = result
    assert len(updates) == 0
    f = pytensor.function([x], outputs, mode=compat.get_mode("C"))
    a = np.array([0.1, -0.3, 0.7])
    expected, h = [], 0.0
    for v in a:
        h = np.tanh(v + h)
        expected.append(h)
    np.testing.assert_allclose(f(a), expected, rtol=1e-14)


def test_param_default_like_theano_param():
    x = pt.dvector("x")
    decay = pt.dscalar("decay")
    fn = compat.function_with_defaults(
        [x, compat.Param(decay, default=0.9)], (x * decay).sum(), mode="C"
    )
    a = np.array([1.0, 2.0, 3.0])
    assert fn(a) == pytest.approx(6 * 0.9, rel=1e-15)
    assert fn(a, 0.5) == pytest.approx(3.0, rel=1e-15)
    assert fn(a, decay=0.25) == pytest.approx(1.5, rel=1e-15)
    assert fn.defaults == {"decay": 0.9}
    with pytest.raises(TypeError):
        fn()


def test_modes_resolve_to_backends():
    from pytensor.link.numba.linker import NumbaLinker
    from pytensor.link.vm import VMLinker

    assert compat.mode_name(None) == "C"
    assert compat.mode_name("FAST_RUN") == "C"  # Theano's meaning
    assert isinstance(compat.get_mode("FAST_RUN").linker, VMLinker)
    assert isinstance(compat.get_mode("numba").linker, NumbaLinker)
    assert compat.mode_name(compat.get_mode("NUMBA")) == "NUMBA"
    with pytest.raises(ValueError, match="unknown mode"):
        compat.get_mode("GPU9000")
    with pytest.raises(ValueError, match="gate activation"):
        compat.gate_activation("relu")


def test_scan_with_a_random_drawing_body_returns_its_updates():
    # before the fix: ValueError "return_updates=False but Scan produced updates"
    made = []

    def step(h):  # draws as Theano's RandomStreams did: a new shared generator in the body
        rng = pt.random.shared_rng(seed=7, name="rng")
        made.append(rng)
        next_rng, u = rng.uniform(size=(3,))
        with warnings.catch_warnings():  # Theano's way (RandomStreams set it for you)
            warnings.simplefilter("ignore", DeprecationWarning)
            rng.default_update = next_rng
        return h + u

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, updates = compat.scan(step, outputs_info=pt.zeros(3), n_steps=4)
    assert list(updates) == made  # the generator's update, to pass to the function
    f = pytensor.function([], h, updates=updates, mode=compat.get_mode("C"))
    first, second = f(), f()
    expected = np.cumsum(np.random.default_rng(7).uniform(size=(4, 3)), axis=0)
    np.testing.assert_allclose(first, expected, rtol=1e-14)  # the generator's own draws
    assert not np.allclose(first, second)  # advanced between calls
    assert np.all(np.diff(first, axis=0) > 0) and np.all(first[-1] < 4)


def test_param_is_an_ordinary_input_of_a_plain_pytensor_function():
    # before: TypeError from pytensor.function; a Param is a pytensor.In now.  PyTensor
    # cannot know its default, so there it is a required input.
    x = pt.dvector("x")
    decay = pt.dscalar("decay")
    f = pytensor.function([x, compat.Param(decay, default=0.9)], (x * decay).sum(),
                          mode=compat.get_mode("C"))
    assert f(np.ones(2), 0.5) == 1.0
    assert f(np.ones(2), decay=0.25) == 0.5
    with pytest.raises(TypeError):
        f(np.ones(2))
    # with function_with_defaults the default applies; default=None means none (Theano)
    g = compat.function_with_defaults([x, compat.Param(decay)], (x * decay).sum(), mode="C")
    with pytest.raises(TypeError, match="missing"):
        g(np.ones(2))
