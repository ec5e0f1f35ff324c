"""The engine's generic path: a ``scan`` of the cell's own ``merged_step``.

Same contract as the fused op (:func:`theano_rnn.graphs.engine.run_layer`):
a masked step keeps the previous state exactly (``pt.switch``), ``truncate``
is Theano's ``truncate_gradient`` ("last k steps"), ``backwards`` runs
``t = T-1 .. 0`` with the outputs indexed by time.  PyTensor differentiates
it (its scan gradient).  It runs every cell that has no engine kernel (a
cell added outside the package needs only its ``merged_step``), and any cell
on request (``run_layer(..., kernel=False)``), which is how the fused op is
measured and tested against a plain scan.
"""

from __future__ import annotations

import pytensor.tensor as pt

from theano_rnn.compat import scan

__all__ = ["scan_layer"]


def scan_layer(cell, gate, pre, Wm, init_states, mask=None, truncate=-1, backwards=False):
    """State sequences ``(T, B, H)`` (time order) of ``cell.merged_step`` run by ``scan``."""
    init_states = list(init_states)
    n = len(init_states)
    pre = pt.as_tensor_variable(pre)

    def step(p_t, *rest):
        if mask is None:
            prev, W = list(rest[:n]), rest[n]
            new, _ = cell.merged_step(p_t, prev, W, gate)
            return new
        m_t, prev, W = rest[0], list(rest[1 : n + 1]), rest[n + 1]
        new, _ = cell.merged_step(p_t, prev, W, gate)
        # a masked (padding) step keeps the previous state exactly
        return [pt.switch(m_t, a, b) for a, b in zip(new, prev)]

    seqs = [pre] if mask is None else [pre, pt.as_tensor_variable(mask).dimshuffle(0, 1, "x")]
    outs, _ = scan(
        step,
        sequences=seqs,
        outputs_info=init_states,
        non_sequences=[Wm],
        go_backwards=backwards,
        truncate_gradient=truncate,
        strict=True,
        name=f"{cell.name}_layer",
    )
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    return [o[::-1] for o in outs] if backwards else outs
