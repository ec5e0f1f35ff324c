"""The reference the engine tests compare with: a plain ``scan`` of a cell's
``merged_step`` (``pt.switch`` masking, Theano's ``truncate_gradient``,
``go_backwards``), differentiated by ``pytensor.grad``; and the engine's
graph built the same way.  Test helpers, not package code.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from theano_rnn.cells import get_cell
from theano_rnn.compat import scan
from theano_rnn.graphs import engine
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.modes import get_mode

T, B, H = 5, 3, 4
#: row lengths per padding side (one full row, one short, one empty)
LENGTHS = (5, 2, 0)


def masks(dtype="float64"):
    """``{"none", "left", "right"}`` -> ``(T, B)`` masks of 0/1."""
    t = np.arange(T)[:, None]
    lengths = np.array(LENGTHS)[None, :]
    return {
        "none": np.ones((T, B), dtype),
        "left": (t >= T - lengths).astype(dtype),
        "right": (t < lengths).astype(dtype),
    }


def scan_states(cell, gate, pre, Wm, inits, mask, truncate=-1, backwards=False):
    """State sequences (indexed by time) of ``cell.merged_step`` run by ``scan``."""
    n = len(inits)

    def step(p_t, m_t, *rest):
        prev = list(rest[:n])
        new, _ = cell.merged_step(p_t, prev, rest[n], gate)
        return [pt.switch(m_t, a, b) for a, b in zip(new, prev)]

    outs, _ = scan(
        step,
        sequences=[pre, mask.dimshuffle(0, 1, "x")],
        outputs_info=list(inits),
        non_sequences=[Wm],
        go_backwards=backwards,
        truncate_gradient=truncate,
        strict=True,
        name="reference",
    )
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    return [o[::-1] for o in outs] if backwards else outs


def layer_inputs(cell_name, dtype="float64"):
    """Symbolic ``pre, Wm, inits, mask`` and the projections of the cost."""
    cell = get_cell(cell_name)
    n = cell.states_per_layer
    pre = pt.tensor3("pre", dtype=dtype)
    Wm = pt.matrix("Wm", dtype=dtype)
    inits = [pt.matrix(f"s0_{i}", dtype=dtype) for i in range(n)]
    mask = pt.matrix("mask", dtype=dtype)
    proj = [pt.tensor3(f"P{i}", dtype=dtype) for i in range(n)]
    return cell, pre, Wm, inits, mask, proj


def layer_function(impl, cell_name, gate, truncate, backwards, mode="C", dtype="float64"):
    """Compiled ``f(pre, Wm, *inits, mask, *proj) -> [*states, dpre, dWm, *dinits]``
    for the cost ``sum_i sum(states_i * proj_i)``; ``impl`` "engine" (the
    fused op), "generic" (the engine's own scan path, ``kernel=False``) or
    "scan" (the reference here)."""
    cell, pre, Wm, inits, mask, proj = layer_inputs(cell_name, dtype)
    if impl in ("engine", "generic"):
        states = engine.run_layer(cell, gate, pre, Wm, inits, mask, truncate, backwards,
                                  kernel=impl == "engine")
    else:
        states = scan_states(cell, gate, pre, Wm, inits, mask, truncate, backwards)
    cost = sum(pt.sum(s * p) for s, p in zip(states, proj))
    grads = pt.grad(cost, [pre, Wm, *inits])
    return compile_function(
        [pre, Wm, *inits, mask, *proj], states + grads, mode=get_mode(mode),
        name=f"{impl}_{cell_name}",
    )


def layer_data(cell_name, seed=0, dtype="float64", scale=1.0):
    """Random ``pre, Wm, inits, proj`` arrays for one layer."""
    cell = get_cell(cell_name)
    rng = np.random.default_rng(seed)
    n = cell.states_per_layer
    pre = rng.normal(0, scale, (T, B, cell.blocks * H))
    Wm = rng.normal(0, 0.6, (cell.blocks * H, H))
    inits = [rng.normal(0, 0.5, (B, H)) for _ in range(n)]
    proj = [rng.normal(0, 1, (T, B, H)) for _ in range(n)]
    return [np.asarray(a, dtype) for a in (pre, Wm)], [np.asarray(a, dtype) for a in inits], \
        [np.asarray(a, dtype) for a in proj]


def assert_close(a, b, what="", tol=1e-10):
    """``max|a - b| <= tol * max(1, max|b|)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    assert err <= tol * scale, f"{what}: max abs difference {err:.3g} (scale {scale:.3g})"
