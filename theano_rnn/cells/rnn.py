r"""The RNN of WildML part 2 (``rnn_theano.py``).

Equations::

    s_t = tanh(U[:, x_t] + W s_{t-1})        o_t = softmax(V s_t)

Parameters: ``U`` (H, C), ``V`` (C, H), ``W`` (H, H); no biases.  With
``num_layers = L > 1``: ``W`` is (L, H, H) and layers 2..L read the layer
below through ``Ud`` (L-1, H, H): ``s^l_t = tanh(Ud[l-1] s^{l-1}_t + W[l] s^l_{t-1})``.

Initialisation, in the tutorial's draw order: ``U`` from
``U(-1/sqrt(C), 1/sqrt(C))``, then ``V`` and ``W`` from ``U(-1/sqrt(H),
1/sqrt(H))`` (then ``Ud`` for deep RNNs).

The fast graphs run it on the engine's ``"rnn"`` kernel
(:mod:`theano_rnn.graphs.engine.kernels_rnn`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

from theano_rnn.cells.base import Cell, embed, matvec, shape_of, uniform

__all__ = ["RNNCell", "RNN"]


@dataclass(frozen=True)
class RNNCell(Cell):
    """The RNN's ``U`` already acts on one-hot inputs (``U[:, x_t]``)."""

    input_modes = ("onehot",)
    engine_kernel = "rnn"

    def param_shapes(self, word_dim, hidden_dim, num_layers, input_mode=None):
        self.check_input_mode(input_mode)
        H, C, L = hidden_dim, word_dim, num_layers
        shapes = OrderedDict(U=(H, C), V=(C, H), W=(H, H) if L == 1 else (L, H, H))
        if L > 1:
            shapes["Ud"] = (L - 1, H, H)
        return shapes

    def init_params(self, word_dim, hidden_dim, num_layers=1, rng=None, input_mode=None):
        """U, V, W drawn in the tutorial's order (then Ud for deep RNNs)."""
        shapes = self.param_shapes(word_dim, hidden_dim, num_layers, input_mode)
        p = OrderedDict()
        p["U"] = uniform(rng, np.sqrt(1.0 / word_dim), shapes["U"])
        p["V"] = uniform(rng, np.sqrt(1.0 / hidden_dim), shapes["V"])
        p["W"] = uniform(rng, np.sqrt(1.0 / hidden_dim), shapes["W"])
        if num_layers > 1:
            p["Ud"] = uniform(rng, np.sqrt(1.0 / hidden_dim), shapes["Ud"])
        return p

    def fits_keys(self, keys):
        """Keys U, V, W, unless the set is a gated cell's (E or Ux with W, V, b, c)."""
        keys = set(keys)
        gated = {"W", "V", "b", "c"} <= keys and ("E" in keys or "Ux" in keys)
        return {"U", "V", "W"} <= keys and not gated

    def layout_of(self, shapes):
        H, C = shape_of(shapes, "U", 2)
        W = tuple(shapes["W"])
        return C, H, 1 if len(W) == 2 else int(W[0]), "onehot"

    def layout_note(self, shapes):
        return "keys U, V, W"

    def input_matrix(self, params, layer, hidden_dim, input_mode):
        return None if layer == 0 else params["Ud"][layer - 1]

    def first_projections(self, x, params):
        return [embed(params["U"], x)]

    def deep_projections(self, h_below, params, layer, num_layers):
        return [matvec(params["Ud"][layer - 1], h_below)]

    def merged_recurrent(self, params, layer, num_layers):
        W = params["W"]
        return W if num_layers == 1 else W[layer]

    def merged_step(self, pre_t, states, Wm, gate=None):
        s = pt.tanh(pre_t + matvec(Wm, states[0]))
        return [s], s


RNN = RNNCell(name="rnn", blocks=1, states_per_layer=1, default_gate=None, tutorial=True)
