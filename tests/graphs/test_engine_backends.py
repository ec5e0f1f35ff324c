"""The engine ops on every backend, and the kernels' own arithmetic.

Contract: the C backend (the ops' ``perform``: numba kernels called once per
sequence), Numba (``numba_funcify``: the same kernels inside the compiled
graph) and JAX (``jax_funcify``: ``lax.scan``) give the same states and
gradients to ``<= 1e-10`` relative in float64, for every cell kind, with
padding, truncation and both directions; the Numba and JAX implementations
are registered when theano_rnn builds those modes, and importing the
package imports neither jax nor numba; the vectorised ``exp`` of the
kernels is within 2 ulp of NumPy's and keeps NaN.  The graphs hold only the
two engine ops (``SequenceOp`` and its gradient op fed with given output
gradients), so each backend compiles little.
"""

import subprocess
import sys

import numpy as np
import pytest

from theano_rnn.graphs import engine
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.modes import get_mode
from tests.graphs import engine_ref as R

CASES = [("rnn", None, 2, False), ("gru", "hard_sigmoid", -1, True), ("lstm", "sigmoid", 2, True)]


def ops_function(cell, gate, k, back, mode):
    """``f(pre, Wm, *inits, mask, *dstates)`` -> forward outputs + (dpre, dWm, *dinits)."""
    cell_, pre, Wm, inits, mask, dstates = R.layer_inputs(cell)
    op = engine.sequence_op(cell, gate, k, back)
    outs = op(pre, Wm, *inits, mask)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    grad_op = engine.SequenceGradOp(op.kind, op.gate, op.truncate, op.backwards)
    grads = grad_op(Wm, *inits, mask, *outs, *dstates)
    return compile_function([pre, Wm, *inits, mask, *dstates], outs + list(grads),
                            mode=get_mode(mode), name=f"engine_ops_{mode}")


@pytest.mark.parametrize("cell,gate,k,back", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", ["NUMBA", "JAX"])
def test_backends_agree_with_c(cell, gate, k, back, mode):
    if mode == "JAX":
        pytest.importorskip("jax")
    (pre, Wm), inits, dstates = R.layer_data(cell, seed=11)
    mask = R.masks()["left"]
    args = [pre, Wm, *inits, mask, *dstates]
    want = ops_function(cell, gate, k, back, "C")(*args)
    got = ops_function(cell, gate, k, back, mode)(*args)
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want)):
        R.assert_close(np.asarray(a), b, f"{mode} output {i}")
    dh0 = want[-len(inits)]
    assert np.abs(dh0).max() == 0 if k > 0 else np.abs(dh0).max() > 0  # truncation bites


def test_backend_modules_load_only_with_their_mode():
    """A fresh process: importing theano_rnn and the engine loads neither jax
    nor numba; building the JAX mode registers the ops' JAX implementation."""
    code = (
        "import sys\n"
        "import theano_rnn\n"
        "from theano_rnn.graphs import engine\n"
        "assert 'jax' not in sys.modules and 'numba' not in sys.modules, 'imported at import'\n"
        "from theano_rnn.runtime.modes import get_mode\n"
        "get_mode('JAX')\n"
        "from pytensor.link.jax.dispatch import jax_funcify\n"
        "assert jax_funcify.dispatch(engine.SequenceOp) is not jax_funcify.dispatch(object)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


def test_first_use_hook_runs_once_and_late_hooks_run_at_once():
    from theano_rnn.runtime import modes

    calls = []
    get_mode("PY")  # built: a hook registered now runs immediately
    modes.on_backend_first_use("PYTHON", lambda: calls.append("now"))
    assert calls == ["now"]
    with pytest.raises(ValueError, match="unknown mode"):
        modes.on_backend_first_use("CUDA", lambda: None)


def test_vectorised_exp_within_2_ulp_and_keeps_nan():
    from theano_rnn.graphs.engine.vecmath import exp_inplace

    x = np.concatenate([np.linspace(-700, 700, 20001),
                        np.random.default_rng(0).normal(0, 3, 5000), [0.0, -0.0, 1e-300]])
    got = x.copy()
    exp_inplace(got, np.empty(len(x), np.int64))
    want = np.exp(x)
    ulps = np.abs(got - want) / np.spacing(want)
    assert ulps.max() <= 2, ulps.max()
    special = np.array([np.nan, np.inf, 1000.0, 709.0, -np.inf, -1000.0, -708.0])
    exp_inplace(special, np.empty(len(special), np.int64))
    assert np.isnan(special[0])
    assert special[1] == special[2] == special[3] < np.inf  # clamped to exp(709)
    assert special[4] == special[5] == special[6] > 0  # clamped to exp(-708)
