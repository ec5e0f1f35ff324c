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

from theano_rnn.cells.base import GatedBackward, GatedCell, gate_slope, masked_split, matvec

__all__ = ["GRUCell", "GRUBackward", "GRU"]


class GRUBackward(GatedBackward):
    """The GRU of :meth:`GRUCell.merged_step`, differentiated by hand:
    ``zr = g(pre_zr + s_prev Wzr^T)``, ``h = tanh(pre_h + (s_prev r) Wh^T)``,
    ``s = (1 - z) h + z s_prev``."""

    carries = 1

    def factors(self, pre, states, prev, Wm):
        H = self.H
        s_prev = prev[0]
        a_zr = pre[..., : 2 * H] + pt.dot(s_prev, Wm[: 2 * H].T)
        zr = self.g(a_zr)
        slope = gate_slope(self.g, a_zr)
        z, r = zr[..., :H], zr[..., H:]
        h = pt.tanh(pre[..., 2 * H :] + pt.dot(s_prev * r, Wm[2 * H :].T))
        # d(s)/d(a_h), d(s)/d(a_z); d(s_prev r)/d(a_r) per unit of d(s_prev r)
        return [(1 - z) * (1 - h**2), (s_prev - h) * slope[..., :H], s_prev * slope[..., H:], z, r]

    def step(self, dh_t, m_t, facts, carry, Wm):
        H = self.H
        f_h, f_z, f_r, z, r = facts
        dn, keep = masked_split(dh_t + carry[0], m_t)
        da_h = dn * f_h
        dsr = pt.dot(da_h, Wm[2 * H :])
        da_zr = pt.concatenate([dn * f_z, dsr * f_r], axis=-1)
        ds_prev = dn * z + dsr * r + pt.dot(da_zr, Wm[: 2 * H])
        return [pt.concatenate([da_zr, da_h], axis=-1), ds_prev + keep]

    def grad_Wm(self, da, prev, factors):
        H = self.H
        r = factors[4].reshape((-1, H))
        return pt.concatenate(
            [pt.dot(da[:, : 2 * H].T, prev[0]), pt.dot(da[:, 2 * H :].T, prev[0] * r)], axis=0
        )


@dataclass(frozen=True)
class GRUCell(GatedCell):
    backward = GRUBackward
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
