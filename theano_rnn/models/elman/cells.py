r"""Recurrent steps for the real-valued sequence predictor (gwtaylor's ``RNN``).

A small registry of its own, not :mod:`theano_rnn.cells.registry`: those
cells embed *token indices* (``word_dim`` columns of ``U``, ``input_mode``
``onehot``) and put parameters in the WildML layout (``U, W, V, b, c``,
blocks stacked along axis 0, ``M h``).  gwtaylor's model multiplies a
real-valued input row from the left (``x_t · W_in``), names its parameters
``W, W_in, W_out, h0, bh, by`` and trains ``h0``; forcing it through the
token cells' ``param_shapes(word_dim, ...)`` would change the names and
orientation the listing (and its pickles) rely on.

Each cell says which parameters it has (shapes from ``n_in, n_hidden,
n_out``), draws them, and steps one time step.  Steps accept one step
``x_t (n_in,)`` with states ``(H,)`` or a batch ``(B, n_in)`` / ``(B, H)``.

``rnn``
    gwtaylor's Elman step: ``h_t = act(x_t·W_in + h_tm1·W + bh)``.
``lstm_seed``
    Seed 004's swap, as written: ONE ``preact = x_t·W_in + h_tm1·W + bh``
    feeds the forget gate, input gate, candidate and output gate::

        f = i = o = sigmoid(preact); C = i*tanh(preact) + f*C_tm1; h = o*tanh(C)

    (so ``f``, ``i`` and ``o`` are the same numbers).  Same parameters as
    ``rnn``; ``C0`` is a zero constant, not trained (the post does not show
    how its ``self.C0`` was made).  ``activation`` is not used.
``lstm``
    A standard LSTM: separate gate weights as 4 blocks ``i, f, o, g`` of
    ``W (H, 4H)``, ``W_in (n_in, 4H)``, ``bh (4H,)``; the forget block of
    ``bh`` starts at ``forget_bias``.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

__all__ = ["SeqCell", "register_seq_cell", "get_seq_cell", "seq_cell_names", "draw"]


def draw(rng, scale, shape):
    """``U(-scale, scale)`` of ``shape``; ``rng=None`` is NumPy's global
    generator (gwtaylor's ``np.random.uniform``, the one documented use of it)."""
    if rng is None:
        return np.random.uniform(size=shape, low=-scale, high=scale)
    return rng.uniform(size=shape, low=-scale, high=scale)


class SeqCell:
    """Base: ``name``, hidden blocks (1 or 4) and states (1: h; 2: h, C)."""

    name = ""
    blocks = 1
    states = 1

    def shapes(self, n_in, n_hidden, n_out):
        """Parameter name -> shape, in ``params`` order (gwtaylor's)."""
        G = self.blocks * n_hidden
        return {"W": (n_hidden, G), "W_in": (n_in, G), "W_out": (n_hidden, n_out),
                "h0": (n_hidden,), "bh": (G,), "by": (n_out,)}

    def init(self, n_in, n_hidden, n_out, rng=None, init_scale=0.01, forget_bias=0.0):
        """Values in gwtaylor's order: W, W_in, W_out uniform, then h0, bh, by zero."""
        shapes = self.shapes(n_in, n_hidden, n_out)
        values = {}
        for key in ("W", "W_in", "W_out"):
            values[key] = np.asarray(draw(rng, init_scale, shapes[key]), dtype=np.float64)
        for key in ("h0", "bh", "by"):
            values[key] = np.zeros(shapes[key])
        if self.blocks == 4 and forget_bias:
            values["bh"][n_hidden: 2 * n_hidden] = forget_bias
        elif forget_bias:
            raise ValueError(f"forget_bias needs a cell with a forget gate, not {self.name!r}")
        return values

    def step(self, x_t, states, P, activation):  # pragma: no cover - abstract
        raise NotImplementedError


class ElmanCell(SeqCell):
    name = "rnn"

    def step(self, x_t, states, P, activation):
        (h_tm1,) = states
        h_t = activation(pt.dot(x_t, P["W_in"]) + pt.dot(h_tm1, P["W"]) + P["bh"])
        return [h_t]


class SeedLSTMCell(SeqCell):
    name = "lstm_seed"
    states = 2

    def step(self, x_t, states, P, activation):
        h_tm1, C_tm1 = states
        preact = pt.dot(x_t, P["W_in"]) + pt.dot(h_tm1, P["W"]) + P["bh"]
        f_t = pt.sigmoid(preact)
        i_t = pt.sigmoid(preact)
        hatC_t = pt.tanh(preact)
        C_t = i_t * hatC_t + f_t * C_tm1
        o_t = pt.sigmoid(preact)
        h_t = o_t * pt.tanh(C_t)
        return [h_t, C_t]


class StandardLSTMCell(SeqCell):
    name = "lstm"
    blocks = 4
    states = 2

    def step(self, x_t, states, P, activation):
        h_tm1, C_tm1 = states
        H = h_tm1.shape[-1]
        a = pt.dot(x_t, P["W_in"]) + pt.dot(h_tm1, P["W"]) + P["bh"]
        ifo = pt.sigmoid(a[..., : 3 * H])
        i_t, f_t, o_t = ifo[..., :H], ifo[..., H: 2 * H], ifo[..., 2 * H:]
        C_t = f_t * C_tm1 + i_t * pt.tanh(a[..., 3 * H:])
        h_t = o_t * pt.tanh(C_t)
        return [h_t, C_t]


_CELLS = {c.name: c for c in (ElmanCell(), SeedLSTMCell(), StandardLSTMCell())}


def register_seq_cell(cell, replace=False):
    """Make ``cell`` (a :class:`SeqCell` instance) available under ``cell.name``."""
    if not isinstance(cell, SeqCell) or not cell.name:
        raise TypeError("register_seq_cell takes a named SeqCell instance")
    if cell.name in _CELLS and not replace:
        raise ValueError(f"a sequence cell named {cell.name!r} is already registered")
    _CELLS[cell.name] = cell
    return cell


def seq_cell_names():
    return tuple(_CELLS)


def get_seq_cell(name):
    if isinstance(name, SeqCell):
        return name
    try:
        return _CELLS[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown sequence cell {name!r}; choose one of "
                         f"{', '.join(_CELLS)}") from None
