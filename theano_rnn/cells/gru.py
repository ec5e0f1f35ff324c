r"""The GRU of WildML part 4 (``gru_theano.py``).

Gate blocks stacked layer-major: ``U``, ``W`` (3L, H, H), ``b`` (3L, H);
block ``3l + (0, 1, 2)`` is layer ``l``'s update gate z, reset gate r and
candidate::

    z = g(U[3l] x + W[3l] s_prev + b[3l])
    r = g(U[3l+1] x + W[3l+1] s_prev + b[3l+1])
    h = tanh(U[3l+2] x + W[3l+2] (s_prev * r) + b[3l+2])
    s = (1 - z) * h + z * s_prev

with ``x = E[:, x_t]`` for the first layer and the new state of the layer
below otherwise; ``o_t = softmax(V s_top + c)``; ``g`` is Theano's
``hard_sigmoid`` by default.  ``E`` (H, C) (or ``Ux`` (3, H, C) for one-hot
input, see :class:`~theano_rnn.cells.base.GatedCell`), ``V`` (C, H), ``c`` (C,).

Initialisation, in the tutorial's draw order: ``E`` from ``U(-1/sqrt(C),
1/sqrt(C))``, then ``U``, ``W``, ``V`` from ``U(-1/sqrt(H), 1/sqrt(H))``;
``b``, ``c`` zero.

The step works on merged blocks: ``zr = g(pre_zr + Wm_zr s_prev)`` is one
product, the candidate a second, smaller one (it needs ``r`` first).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytensor.tensor as pt

from theano_rnn.cells.base import GatedCell, matvec

__all__ = ["GRUCell", "GRU"]


@dataclass(frozen=True)
class GRUCell(GatedCell):
    engine_kernel = "gru"

    def merged_step(self, pre_t, states, Wm, gate):
        g = self.gate(gate)
        s_prev = states[0]
        H = s_prev.shape[-1]
        zr = g(pre_t[..., : 2 * H] + matvec(Wm[: 2 * H], s_prev))
        z, r = zr[..., :H], zr[..., H:]
        h = pt.tanh(pre_t[..., 2 * H :] + matvec(Wm[2 * H :], s_prev * r))
        s = (pt.ones_like(z) - z) * h + z * s_prev
        return [s], s


GRU = GRUCell(name="gru", blocks=3, states_per_layer=1, default_gate="hard_sigmoid", tutorial=True)
