"""The optimizers of theano_rnn.optim against NumPy loops of their formulas."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn import optim

A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
P0 = {"W": np.array([[0.3, -1.2], [0.7, 0.1], [-0.4, 2.0]]), "b": np.array([0.5, -0.25, 1.5])}


def quad_grads(values):
    """Gradients of 0.5 * tr(W' A W) + 0.5 * b' A b + sum(W**3)/3 (a non-trivial quadratic-ish loss)."""
    return {"W": A @ values["W"] + values["W"] ** 2, "b": A @ values["b"]}


def make_step(build, state=None, values=None):
    """Shared float64 params, a compiled step that applies ``build``'s updates, and the state."""
    values = P0 if values is None else values
    params = [pytensor.shared(values[k].copy(), name=k) for k in ("W", "b")]
    W, b = params
    loss = 0.5 * pt.sum(W * pt.dot(A, W)) + 0.5 * pt.dot(b, pt.dot(A, b)) + pt.sum(W**3) / 3
    grads = pt.grad(loss, params)
    updates, state = build(params, grads, state)
    step = pytensor.function([], loss, updates=updates, mode="FAST_COMPILE")
    return step, params, state


def numpy_run(update, steps, values=None, cache=None):
    values = {k: v.copy() for k, v in (P0 if values is None else values).items()}
    cache = {} if cache is None else cache
    for _ in range(steps):
        grads = quad_grads(values)
        for k in ("W", "b"):
            values[k] = update(k, values[k], grads[k], cache)
    return values, cache


def np_sgd(lr):
    def update(k, p, g, cache):
        return p - lr * g
    return update


def np_rmsprop_tutorial(lr, decay, eps=1e-6):
    def update(k, p, g, cache):
        m = decay * cache.get("m" + k, 0.0) + (1 - decay) * g**2
        cache["m" + k] = m
        return p - lr * g / np.sqrt(m + eps)
    return update


def np_adadelta(rho=0.95, eps=1e-6):
    def update(k, p, g, cache):
        rg2 = rho * cache.get("rg2" + k, 0.0) + (1 - rho) * g**2
        ru2 = cache.get("ru2" + k, 0.0)
        ud = -np.sqrt(ru2 + eps) / np.sqrt(rg2 + eps) * g
        cache["rg2" + k], cache["ru2" + k] = rg2, rho * ru2 + (1 - rho) * ud**2
        return p + ud
    return update


def np_rmsprop_graves(lr=1e-4, momentum=0.9, rho=0.95, eps=1e-4):
    def update(k, p, g, cache):
        rg = rho * cache.get("rg" + k, 0.0) + (1 - rho) * g
        rgg = rho * cache.get("rgg" + k, 0.0) + (1 - rho) * g**2
        ud = momentum * cache.get("ud" + k, 0.0) - lr * g / np.sqrt(rgg - rg**2 + eps)
        cache["rg" + k], cache["rgg" + k], cache["ud" + k] = rg, rgg, ud
        return p + ud
    return update


CASES = {
    "sgd": (lambda ps, gs, st: optim.sgd(ps, gs, 0.05), np_sgd(0.05), []),
    "rmsprop_tutorial": (
        lambda ps, gs, st: optim.rmsprop_tutorial(ps, gs, 0.01, 0.9, state=st),
        np_rmsprop_tutorial(0.01, 0.9),
        ["mW", "mb"],
    ),
    "adadelta": (
        lambda ps, gs, st: optim.adadelta(ps, gs, state=st),
        np_adadelta(),
        ["rg2W", "ru2W", "rg2b", "ru2b"],
    ),
    "adadelta_custom": (
        lambda ps, gs, st: optim.adadelta(ps, gs, rho=0.8, epsilon=1e-3, state=st),
        np_adadelta(0.8, 1e-3),
        ["rg2W", "ru2W", "rg2b", "ru2b"],
    ),
    "rmsprop_graves": (
        lambda ps, gs, st: optim.rmsprop_graves(ps, gs, state=st),
        np_rmsprop_graves(),
        ["rgW", "rggW", "udW", "rgb", "rggb", "udb"],
    ),
    "rmsprop_graves_custom": (
        lambda ps, gs, st: optim.rmsprop_graves(
            ps, gs, learning_rate=0.05, momentum=0.5, rho=0.7, epsilon=1e-3, state=st
        ),
        np_rmsprop_graves(0.05, 0.5, 0.7, 1e-3),
        ["rgW", "rggW", "udW", "rgb", "rggb", "udb"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_three_steps_match_numpy_then_state_reuse_continues(name):
    build, update, keys = CASES[name]
    step, params, state = make_step(build)
    assert list(state) == keys
    for _ in range(3):
        step()
    want, cache = numpy_run(update, 3)
    for p in params:
        assert p.get_value().dtype == np.float64
        np.testing.assert_allclose(p.get_value(), want[p.name], rtol=1e-12, atol=1e-12)
    assert not np.allclose(want["W"], P0["W"])  # the steps moved the parameters
    for key in keys:
        np.testing.assert_allclose(state[key].get_value(), cache[key], rtol=1e-12, atol=1e-12)
    # a new graph on fresh parameters (at the current values) reusing the caches continues the run
    now = {p.name: p.get_value() for p in params}
    step2, params2, state2 = make_step(build, state=state, values=now)
    assert state2 is state or not keys
    for key in keys:
        assert state2[key] is state[key]
    for _ in range(3):
        step2()
    want6, _ = numpy_run(update, 3, values=want, cache=cache)
    for p in params2:
        np.testing.assert_allclose(p.get_value(), want6[p.name], rtol=1e-12, atol=1e-12)


def test_graves_default_learning_rate_is_the_tutorials_constant():
    import inspect

    sig = inspect.signature(optim.rmsprop_graves)
    assert sig.parameters["learning_rate"].default == 1e-4
    assert sig.parameters["epsilon"].default == 1e-4
    assert "learning_rate" not in inspect.signature(optim.adadelta).parameters


def test_colliding_state_keys_are_refused():
    # "rg" + "gE" == "rgg" + "E": two parameters would share one cache
    params = [pytensor.shared(np.zeros(2), name="E"), pytensor.shared(np.zeros(2), name="gE")]
    grads = [pt.ones(2), pt.ones(2)]
    with pytest.raises(ValueError, match="claimed by two parameters"):
        optim.rmsprop_graves(params, grads)



@pytest.mark.parametrize("build", [
    lambda ps, gs: optim.rmsprop_tutorial(ps, gs, 0.1, 0.9),
    lambda ps, gs: optim.rmsprop_torch(ps, gs, 0.1),
    lambda ps, gs: optim.adam(ps, gs, 0.1),
], ids=["rmsprop_tutorial", "rmsprop_torch", "adam"])
def test_two_parameters_of_one_name_do_not_share_a_cache(build):
    # before, both would have updated the one cache "mW" (the second silently)
    params = [pytensor.shared(np.zeros(2), name="W"), pytensor.shared(np.zeros(2), name="W")]
    with pytest.raises(ValueError, match="claimed by two parameters"):
        build(params, [pt.ones(2), pt.ones(2)])


def test_new_functions_are_exported():
    assert {"adadelta", "rmsprop_graves"} <= set(optim.__all__)
