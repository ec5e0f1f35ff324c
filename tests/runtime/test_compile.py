"""runtime.compile: a structurally equal graph reuses the earlier compilation,
with its own shared variables swapped in -- and anything else compiles anew."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn import RNNTheano
from theano_rnn.runtime import compile as rc


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv("THEANO_RNN_REUSE_COMPILED", raising=False)
    rc.clear_templates()
    yield
    rc.clear_templates()


def _recurrence(W, h0, truncate=-1, scale=0.5):
    """A small scan with a gradient: the kind of graph whose rewrites are slow."""
    x = pt.dmatrix("x")
    h = pytensor.scan(lambda x_t, h: pt.tanh(x_t + pt.dot(h, W) * scale),
                         sequences=x, outputs_info=h0, truncate_gradient=truncate, return_updates=False)
    cost = pt.sum(h[-1] ** 2)
    g = pytensor.grad(cost, W)
    return x, cost, {W: W - 0.1 * g}


def _pair(seed, truncate=-1, scale=0.5, shape=(3, 3)):
    rng = np.random.default_rng(seed)
    W = pytensor.shared(rng.normal(size=shape), name="W")
    h0 = pytensor.shared(np.zeros(shape[1]), name="h0")
    x, cost, updates = _recurrence(W, h0, truncate, scale)
    return W, x, cost, updates


X = np.arange(12.0).reshape(4, 3) / 10


def test_equal_graph_reuses_and_gives_the_fresh_compile_numbers(monkeypatch):
    W1, x1, c1, u1 = _pair(1)
    f1 = rc.compile_function([x1], c1, updates=u1, name="step")
    W2, x2, c2, u2 = _pair(2)
    f2 = rc.compile_function([x2], c2, updates=u2, name="step")
    assert rc.reuse_stats() == {"compiled": 1, "reused": 1, "differed": 0}
    monkeypatch.setenv("THEANO_RNN_REUSE_COMPILED", "0")
    W3, x3, c3, u3 = _pair(2)
    f3 = rc.compile_function([x3], c3, updates=u3, name="step")
    assert rc.reuse_stats()["compiled"] == 2
    before = W1.get_value()
    for _ in range(3):
        assert float(f2(X)) == float(f3(X))
    assert np.array_equal(W2.get_value(), W3.get_value())
    # the copy updated its own parameters, not the template's
    assert np.array_equal(W1.get_value(), before)
    f1(X)
    assert not np.array_equal(W1.get_value(), before)
    assert np.array_equal(W2.get_value(), W3.get_value())


@pytest.mark.parametrize("change", ["truncate", "constant", "shape", "name", "updates"])
def test_any_difference_in_the_graph_compiles_anew(change):
    W1, x1, c1, u1 = _pair(1)
    rc.compile_function([x1], c1, updates=u1, name="step")
    kwargs = {"truncate": dict(truncate=2), "constant": dict(scale=0.25)}.get(change, {})
    if change == "shape":
        W = pytensor.shared(np.ones((3, 3)), name="W", shape=(3, 3))  # static shape: other type
        h0 = pytensor.shared(np.zeros(3), name="h0")
        x, c, u = _recurrence(W, h0)
    else:
        _, x, c, u = _pair(2, **kwargs)
    name = "other" if change == "name" else "step"
    if change == "updates":
        (target, expr), = u.items()
        u = {target: expr * 1.0 + 0.0 * target}
    fn = rc.compile_function([x], c, updates=u, name=name)
    assert rc.reuse_stats() == {"compiled": 2, "reused": 0,
                                "differed": 0 if change in ("name", "shape") else 1}
    assert np.isfinite(fn(X))


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_random_generators_with_default_updates_are_never_shared():
    srng = pytensor.tensor.random.utils.RandomStream(seed=3)
    x = pt.dvector("x")
    out = x * srng.uniform(size=(3,))
    rc.compile_function([x], out, name="noise")
    srng2 = pytensor.tensor.random.utils.RandomStream(seed=3)
    rc.compile_function([x], x * srng2.uniform(size=(3,)), name="noise")
    assert rc.reuse_stats() == {"compiled": 2, "reused": 0, "differed": 0}


def test_templates_are_bounded(monkeypatch):
    monkeypatch.setattr(rc, "MAX_TEMPLATES", 2)
    for seed in range(4):
        x = pt.dvector("x")
        w = pytensor.shared(np.ones(3) * seed, name="w")
        rc.compile_function([x], x * w + seed, name="lin")  # different constant each time
    assert sum(len(v) for v in rc._templates.values()) == 2


def test_second_tutorial_model_reuses_and_trains_identically(monkeypatch):
    """The model-level contract: RNNTheano #2 (reused) == RNNTheano #3 (compiled with
    reuse off), bit for bit, over a few SGD steps."""
    x, y = np.array([0, 3, 5, 7, 2]), np.array([3, 5, 7, 2, 1])
    first = RNNTheano(12, 3, bptt_truncate=2, rng=np.random.RandomState(0))
    first.sgd_step(x, y, 0.1)
    reused = RNNTheano(12, 3, bptt_truncate=2, rng=np.random.RandomState(1))
    reused.sgd_step(x, y, 0.1)
    assert rc.reuse_stats()["reused"] >= 1
    monkeypatch.setenv("THEANO_RNN_REUSE_COMPILED", "0")
    fresh = RNNTheano(12, 3, bptt_truncate=2, rng=np.random.RandomState(1))
    fresh.sgd_step(x, y, 0.1)
    for _ in range(3):
        assert reused.sgd_step(x, y, 0.05) == fresh.sgd_step(x, y, 0.05)
    for name, value in reused.get_params().items():
        assert np.array_equal(value, fresh.get_params()[name]), name
