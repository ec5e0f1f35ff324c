"""runtime.precompile: before a C graph compiles, the numba kernels its ops
call (the engine's sequence ops) start compiling in background
threads -- exactly the specialisations the ops' calls use; other backends
start nothing, and a failing background compile changes nothing."""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
import pytest

from theano_rnn.graphs.engine import run_layer
from theano_rnn.graphs.engine.kernels import KERNELS
from theano_rnn.runtime import precompile
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.modes import get_mode

BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}


def _graph(kind, dtype):
    """An engine layer and its gradients."""
    pre = pt.tensor3("pre", dtype=dtype)
    Wm = pt.matrix("Wm", dtype=dtype)
    inits = [pt.matrix(f"s{i}", dtype=dtype) for i in range(2 if kind == "lstm" else 1)]
    outs = run_layer(kind, None, pre, Wm, inits)
    cost = pt.sum(outs[0] ** 2)
    return [pre, Wm, *inits], [cost, *pt.grad(cost, [pre, Wm])]


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.delenv("THEANO_RNN_PRECOMPILE", raising=False)
    monkeypatch.setattr(precompile, "_threads", {})


@pytest.mark.parametrize("mode,expected", [("C", 1), ("PY", 1), ("NUMBA", 0), ("JAX", 0)])
def test_only_perform_backends_start_compiles(fresh, mode, expected):
    _, outputs = _graph("gru", "float64")
    threads = precompile.precompile_for(outputs, mode)
    assert len(threads) == expected  # one for the kind and dtype (forward and gradient)
    assert list(precompile._threads) == [("engine", "gru", "float64")][:expected]
    precompile.wait(300)
    assert not any(t.is_alive() for t in threads)


def test_switched_off_by_the_environment(fresh, monkeypatch):
    monkeypatch.setenv("THEANO_RNN_PRECOMPILE", "0")
    _, outputs = _graph("rnn", "float64")
    assert precompile.precompile_for(outputs, "C") == []


def test_the_warm_up_compiles_what_the_calls_use(fresh):
    """After the background compiles, running the function adds no numba
    specialisation: the warm-ups' argument types are the ops' own."""
    inputs, outputs = _graph("lstm", "float32")
    fn = compile_function(inputs, outputs, mode=get_mode("C"))  # starts the threads
    precompile.wait(300)
    kernels = KERNELS["lstm"]
    before = [list(k.signatures) for k in kernels]
    assert all(before)
    rng = np.random.default_rng(0)
    T, B, H = 3, 2, 5
    args = [rng.normal(size=(T, B, 4 * H)), rng.normal(size=(4 * H, H)) * 0.3,
            rng.normal(size=(B, H)), rng.normal(size=(B, H))]
    out = fn(*[a.astype("float32") for a in args])
    assert all(np.all(np.isfinite(o)) for o in out)
    assert [list(k.signatures) for k in kernels] == before


def test_a_failing_background_compile_changes_nothing(fresh):
    def boom():
        raise RuntimeError("no compiler today")

    thread = precompile.start(("engine", "rnn", "float64"), boom)
    thread.join(10)
    assert not thread.is_alive()
    inputs, outputs = _graph("rnn", "float64")
    fn = compile_function(inputs, outputs, mode=get_mode("C"))
    out = fn(np.ones((2, 1, 3)), np.eye(3) * 0.1, np.zeros((1, 3)))
    assert all(np.all(np.isfinite(o)) for o in out)
