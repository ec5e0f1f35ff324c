"""The tutorials' graphs for any cell: one scan, the per-token softmax, Theano's truncation.

:func:`scan_forward` is the tutorials' ``forward_prop_step`` scan: each step
takes the input column, advances every layer (:meth:`Cell.step`), forms the
output product and the softmax.  ``truncate_gradient=k`` back-propagates only
through the **last k steps of the whole sequence** (Theano's semantics).

:func:`per_output_cost` is the cost whose gradient is the NumPy tutorial's
``bptt``: each output's path truncated to its last ``k + 1`` steps, the
windows recomputed from the stop-gradient states (forward values unchanged).
See :mod:`theano_rnn.models.word` for how the models choose between them.
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad

from theano_rnn.compat import categorical_crossentropy, scan, softmax

__all__ = ["scan_forward", "per_output_cost"]


def scan_forward(cell, x, params, num_layers, gate, hidden_dim, dtype, truncate):
    """The tutorials' scan over int ``x`` ``(T,)``: returns ``(o, states)``;
    ``o`` is (T, C), ``states`` one ``(T, H)`` sequence per state."""
    L = num_layers
    names = list(params)
    n_states = cell.states_per_layer * L

    def forward_prop_step(x_t, *rest):
        states = list(rest[:n_states])
        p = dict(zip(names, rest[n_states:]))
        new, top = cell.step(x_t, states, p, L, gate)
        o_t = softmax(cell.logits(top, p))
        return [o_t[0]] + new

    # H read from V (C, H) instead of a constant: models that differ only in
    # size build the same graph, so runtime.compile reuses one compilation
    hidden = params["V"].shape[1] if "V" in params else hidden_dim
    init = [dict(initial=s) for s in cell.initial_states(hidden, L, dtype=dtype)]
    outputs, _ = scan(
        forward_prop_step,
        sequences=x,
        outputs_info=[None] + init,
        non_sequences=list(params.values()),
        truncate_gradient=truncate,
        strict=True,
    )
    return outputs[0], outputs[1:]


def per_output_cost(cell, x, y, params, states, num_layers, gate, k):
    """Sum of cross-entropies whose gradient is the NumPy tutorial's BPTT.

    For each output ``t`` the states are recomputed over the window
    ``t-k .. t`` from the stop-gradient state before it (``states``: the
    forward sequences of :func:`scan_forward`), all outputs at once (the
    cells' step functions accept a batch of positions).
    """
    L = num_layers
    T = x.shape[0]
    start = pt.arange(T) - k  # first step of each output's window
    windows = []
    for s in states:
        s = disconnected_grad(s)
        prev = pt.concatenate([pt.zeros_like(s[:1]), s[:-1]], axis=0)  # state before step t
        windows.append(pt.switch(pt.ge(start, 0)[:, None], prev[pt.maximum(start, 0)], 0))
    for j in range(k + 1):
        pos = start + j
        valid = pt.ge(pos, 0)[:, None]
        new, _ = cell.step(x[pt.maximum(pos, 0)], windows, params, L, gate)
        windows = [pt.switch(valid, n, w) for n, w in zip(new, windows)]
    top = windows[cell.states_per_layer * (L - 1)]
    probs = softmax(cell.logits(top, params))
    return pt.sum(categorical_crossentropy(probs, y))
