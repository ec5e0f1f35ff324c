r"""An LSTM in the GRU tutorial's conventions (``gru_theano.py``'s layout).

Blocks ``4l + (0, 1, 2, 3)`` = input gate i, forget gate f, output gate o,
candidate g::

    i = g(U[4l] x + W[4l] h_prev + b[4l])     (likewise f, o)
    g = tanh(U[4l+3] x + W[4l+3] h_prev + b[4l+3])
    c = f * c_prev + i * g
    h = o * tanh(c)

States per layer: ``(h, c)``.  Gates use the logistic sigmoid by default.
Parameters and initialisation as the GRU's (:mod:`theano_rnn.cells.gru`)
with 4 blocks per layer; char-rnn's init then sets the forget-gate biases
to 1 (:meth:`LSTMCell.adjust_char_init`).

The step computes all four pre-activations with one product and splits
them (char-rnn's ``all_input_sums:split(4)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytensor.tensor as pt

from theano_rnn.cells.base import GatedBackward, GatedCell, gate_slope, masked_split, matvec

__all__ = ["LSTMCell", "LSTMBackward", "LSTM"]


class LSTMBackward(GatedBackward):
    """The LSTM of :meth:`LSTMCell.merged_step`: ``a = pre + h_prev Wm^T``;
    ``i, f, o = g(a)``, ``u = tanh(a)`` (blocks in that order);
    ``c = f c_prev + i u``, ``h = o tanh(c)``.  Carries ``(dh, dc)``."""

    carries = 2

    def factors(self, pre, states, prev, Wm):
        H = self.H
        h_prev, c_prev = prev
        a = pre + pt.dot(h_prev, Wm.T)
        a_ifo = a[..., : 3 * H]
        ifo = self.g(a_ifo)
        slope = gate_slope(self.g, a_ifo)
        i, f = ifo[..., :H], ifo[..., H : 2 * H]
        o = ifo[..., 2 * H :]
        u = pt.tanh(a[..., 3 * H :])
        tc = pt.tanh(states[1])
        return [
            tc * slope[..., 2 * H :],  # dh -> da_o
            o * (1 - tc**2),  # dh -> dc
            u * slope[..., :H],  # dc -> da_i
            c_prev * slope[..., H : 2 * H],  # dc -> da_f
            i * (1 - u**2),  # dc -> da_u
            f,  # dc -> dc_prev
        ]

    def step(self, dh_t, m_t, facts, carry, Wm):
        f_o, f_c, f_i, f_f, f_u, f = facts
        dn_h, keep_h = masked_split(dh_t + carry[0], m_t)
        dn_c, keep_c = masked_split(carry[1], m_t)
        dc = dn_c + dn_h * f_c
        da = pt.concatenate([dc * f_i, dc * f_f, dn_h * f_o, dc * f_u], axis=-1)
        return [da, pt.dot(da, Wm) + keep_h, dc * f + keep_c]

    def grad_Wm(self, da, prev, factors):
        return pt.dot(da.T, prev[0])


@dataclass(frozen=True)
class LSTMCell(GatedCell):
    backward = LSTMBackward
    engine_kernel = "lstm"

    def adjust_char_init(self, params, num_layers):
        """char-rnn: the forget-gate biases start at 1."""
        for layer in range(num_layers):
            params["b"][4 * layer + 1, :] = 1.0
        return params

    def merged_step(self, pre_t, states, Wm, gate):
        g = self.gate(gate)
        h_prev, c_prev = states
        H = h_prev.shape[-1]
        pre = pre_t + matvec(Wm, h_prev)
        ifo = g(pre[..., : 3 * H])
        i, f, o = ifo[..., :H], ifo[..., H : 2 * H], ifo[..., 2 * H :]
        c = f * c_prev + i * pt.tanh(pre[..., 3 * H :])
        h = o * pt.tanh(c)
        return [h, c], h


LSTM = LSTMCell(name="lstm", blocks=4, states_per_layer=2, default_gate="sigmoid", tutorial=True)
