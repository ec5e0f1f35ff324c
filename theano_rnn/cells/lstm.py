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

from theano_rnn.cells.base import GatedCell, matvec

__all__ = ["LSTMCell", "LSTM"]


@dataclass(frozen=True)
class LSTMCell(GatedCell):
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
