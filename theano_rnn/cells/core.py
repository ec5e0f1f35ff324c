r"""The math of the three cells: parameter layout, initialisation, one time step.

Every cell here is a small, interchangeable piece with one signature (the
char-rnn design): ``init_params`` draws the tutorial's weights in the
tutorial's order, ``step`` advances all layers by one token, ``logits``
turns the top hidden state into unnormalised output scores.  Graph building
(scan, losses, gradients, optimizers) lives in :mod:`theano_rnn.models.word` and is
shared by all cells; the word-level tutorial classes and the minibatched
char-level models use these same step functions.

States and inputs may be unbatched (a state is a vector ``(H,)``, a token a
scalar: the tutorials' graphs) or batched (states ``(B, H)``, tokens ``(B,)``).

RNN (WildML part 2, ``rnn_theano.py``)
    ``s_t = tanh(U[:, x_t] + W s_{t-1})``, ``o_t = softmax(V s_t)``.
    ``U`` (H, C), ``V`` (C, H), ``W`` (H, H); no biases.  With
    ``num_layers = L > 1``: ``W`` is (L, H, H) and layers 2..L read the layer
    below through ``Ud`` (L-1, H, H): ``s^l_t = tanh(Ud[l-1] s^{l-1}_t + W[l] s^l_{t-1})``.

GRU (WildML part 4, ``gru_theano.py``), gate blocks stacked layer-major
    ``U``, ``W`` (3L, H, H), ``b`` (3L, H); block ``3l + (0, 1, 2)`` is layer
    ``l``'s update gate z, reset gate r and candidate::

        z = g(U[3l] x + W[3l] s_prev + b[3l])
        r = g(U[3l+1] x + W[3l+1] s_prev + b[3l+1])
        h = tanh(U[3l+2] x + W[3l+2] (s_prev * r) + b[3l+2])
        s = (1 - z) * h + z * s_prev

    with ``x = E[:, x_t]`` for the first layer and the new state of the layer
    below otherwise; ``o_t = softmax(V s_top + c)``; ``g`` is Theano's
    ``hard_sigmoid`` by default.

LSTM (same conventions), blocks ``4l + (0, 1, 2, 3)`` = input gate i, forget
gate f, output gate o, candidate g::

        i = g(U[4l] x + W[4l] h_prev + b[4l])     (likewise f, o)
        g = tanh(U[4l+3] x + W[4l+3] h_prev + b[4l+3])
        c = f * c_prev + i * g
        h = o * tanh(c)

    States per layer: ``(h, c)``.  Gates use the logistic sigmoid by default.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

from theano_rnn.compat import gate_activation as _gate_activation

__all__ = ["Cell", "CELLS", "get_cell", "RNN", "GRU", "LSTM"]


def matvec(M, h):
    """``M h`` for a state vector, ``h M^T`` for a batch of states (rows)."""
    if h.ndim == 1:
        return M.dot(h)
    return h.dot(M.T)


def embed(E, x_t):
    """Column ``x_t`` of ``E`` (H, C); rows ``(B, H)`` for a batch of tokens."""
    if x_t.ndim == 0:
        return E[:, x_t]
    return E.T[x_t]


def _uniform(rng, bound, shape):
    """One draw from ``rng`` (the tutorial used ``np.random.uniform``)."""
    if rng is None:
        return np.random.uniform(-bound, bound, shape)
    return rng.uniform(-bound, bound, shape)


@dataclass(frozen=True)
class Cell:
    """Base class: a cell's name, gate blocks per layer and states per layer."""

    name: str = ""
    blocks: int = 1
    states_per_layer: int = 1
    default_gate: str | None = None

    input_modes = ("onehot",)

    # -- parameters -------------------------------------------------------
    def param_shapes(self, word_dim, hidden_dim, num_layers, input_mode=None):  # pragma: no cover
        raise NotImplementedError

    def init_params(self, word_dim, hidden_dim, num_layers=1, rng=None, input_mode=None):  # pragma: no cover
        raise NotImplementedError

    def check_input_mode(self, input_mode):
        """Validate ``input_mode``; ``None`` gives the cell's tutorial default."""
        mode = input_mode or self.input_modes[0]
        if mode not in self.input_modes:
            raise ValueError(
                f"{self.name} cells take input_mode {' or '.join(map(repr, self.input_modes))}, "
                f"not {input_mode!r}"
            )
        return mode

    def input_mode_of(self, keys):
        """The input mode of a parameter set (``Ux`` present -> "onehot")."""
        return "onehot" if "Ux" in keys or self.name == "rnn" else "embedding"

    # -- symbolic -----------------------------------------------------------
    def initial_states(self, hidden_dim, num_layers, batch_size=None, dtype="float64"):
        shape = (hidden_dim,) if batch_size is None else (batch_size, hidden_dim)
        return [pt.zeros(shape, dtype=dtype) for _ in range(self.states_per_layer * num_layers)]

    def first_projections(self, x, params):  # pragma: no cover
        """Input contributions of the first layer, one per gate block.

        ``x`` may be a token, a batch of tokens, or a whole (batched) sequence:
        the result has ``x``'s shape plus a trailing H axis.  Computing it for
        the whole sequence outside the loop is Lasagne's ``precompute_input``.
        """
        raise NotImplementedError

    def deep_projections(self, h_below, params, layer, num_layers):  # pragma: no cover
        """Input contributions of ``layer`` (>= 1) from the layer below's state."""
        raise NotImplementedError

    def layer_step(self, xp, states, params, layer, num_layers, gate):  # pragma: no cover
        """One layer, one step: ``(new states of the layer, its output h)``."""
        raise NotImplementedError

    def layers_step(self, xp, states, params, num_layers, gate):
        """Advance every layer given the first layer's input projections ``xp``."""
        n = self.states_per_layer
        new = []
        h = None
        for layer in range(num_layers):
            if layer > 0:
                xp = self.deep_projections(h, params, layer, num_layers)
            st, h = self.layer_step(xp, states[n * layer : n * (layer + 1)], params, layer, num_layers, gate)
            new.extend(st)
        return new, h

    def step(self, x_t, states, params, num_layers, gate=None):
        """Advance every layer by one token; returns ``(new_states, top)``."""
        return self.layers_step(self.first_projections(x_t, params), states, params, num_layers, gate)

    def logits(self, top, params):
        """Unnormalised output scores ``V s (+ c)``."""
        out = matvec(params["V"], top)
        if "c" in params:
            out = out + params["c"]
        return out

    def gate(self, name):
        return _gate_activation(name or self.default_gate or "sigmoid")

    def infer_layers(self, shapes):
        """``num_layers`` from a dict of parameter shapes (checkpoint loading)."""
        raise NotImplementedError  # pragma: no cover

    # -- merged ("fast") formulation ------------------------------------------
    # The same equations with each layer's gate blocks merged into one matrix
    # product per step and the input side (plus bias) computed for the whole
    # sequence outside the loop (Lasagne's precompute_input).  Values agree
    # with the block-by-block form to round-off.
    def merged_inputs(self, x, params, layer, num_layers, h_below=None):
        """``(..., blocks*H)`` input pre-activations of ``layer`` incl. its bias."""
        if layer == 0:
            xp = self.first_projections(x, params)
        else:
            xp = self.deep_projections(h_below, params, layer, num_layers)
        out = xp[0] if len(xp) == 1 else pt.concatenate(xp, axis=-1)
        if "b" in params:
            k = self.blocks * layer
            out = out + params["b"][k : k + self.blocks].reshape((-1,))
        return out

    def merged_recurrent(self, params, layer, num_layers):
        """The layer's recurrent blocks as one ``(blocks*H, H)`` matrix."""
        W = params["W"]
        if self.name == "rnn":
            return W if num_layers == 1 else W[layer]
        k = self.blocks * layer
        return W[k : k + self.blocks].reshape((-1, W.shape[-1]))

    def merged_step(self, pre_t, states, Wm, gate):  # pragma: no cover
        """One step from merged input pre-activations ``pre_t`` (B, blocks*H)."""
        raise NotImplementedError


class _RNN(Cell):
    """The RNN's ``U`` already acts on one-hot inputs (``U[:, x_t]``)."""

    input_modes = ("onehot",)

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
        p["U"] = _uniform(rng, np.sqrt(1.0 / word_dim), shapes["U"])
        p["V"] = _uniform(rng, np.sqrt(1.0 / hidden_dim), shapes["V"])
        p["W"] = _uniform(rng, np.sqrt(1.0 / hidden_dim), shapes["W"])
        if num_layers > 1:
            p["Ud"] = _uniform(rng, np.sqrt(1.0 / hidden_dim), shapes["Ud"])
        return p

    def first_projections(self, x, params):
        return [embed(params["U"], x)]

    def deep_projections(self, h_below, params, layer, num_layers):
        return [matvec(params["Ud"][layer - 1], h_below)]

    def layer_step(self, xp, states, params, layer, num_layers, gate=None):
        W = params["W"] if num_layers == 1 else params["W"][layer]
        s = pt.tanh(xp[0] + matvec(W, states[0]))
        return [s], s

    def infer_layers(self, shapes):
        W = shapes["W"]
        return 1 if len(W) == 2 else W[0]

    def merged_step(self, pre_t, states, Wm, gate=None):
        s = pt.tanh(pre_t + matvec(Wm, states[0]))
        return [s], s


class _GRU(Cell):
    """Gated cells; ``input_mode`` "embedding" (the tutorial) or "onehot" (char-rnn).

    "embedding": ``x = E[:, x_t]`` feeds ``U[block]`` like every other layer.
    "onehot": the first layer's input weights act on the one-hot vector
    directly, ``Ux[j][:, x_t]`` (``Ux`` (blocks, H, C)), as in char-rnn; ``U``
    then holds the blocks of layers 2..L only (absent for one layer).
    """

    input_modes = ("embedding", "onehot")

    def param_shapes(self, word_dim, hidden_dim, num_layers, input_mode=None):
        mode = self.check_input_mode(input_mode)
        H, C, n = hidden_dim, word_dim, self.blocks * num_layers
        if mode == "embedding":
            return OrderedDict(E=(H, C), U=(n, H, H), W=(n, H, H), V=(C, H), b=(n, H), c=(C,))
        shapes = OrderedDict(Ux=(self.blocks, H, C))
        if num_layers > 1:
            shapes["U"] = (n - self.blocks, H, H)
        shapes.update(W=(n, H, H), V=(C, H), b=(n, H), c=(C,))
        return shapes

    def init_params(self, word_dim, hidden_dim, num_layers=1, rng=None, input_mode=None):
        """E (or Ux), U, W, V drawn in the tutorial's order; b and c zero."""
        shapes = self.param_shapes(word_dim, hidden_dim, num_layers, input_mode)
        p = OrderedDict()
        for name in ("E", "Ux"):
            if name in shapes:
                p[name] = _uniform(rng, np.sqrt(1.0 / word_dim), shapes[name])
        for name in ("U", "W", "V"):
            if name in shapes:
                p[name] = _uniform(rng, np.sqrt(1.0 / hidden_dim), shapes[name])
        p["b"] = np.zeros(shapes["b"])
        p["c"] = np.zeros(shapes["c"])
        return OrderedDict((k, p[k]) for k in shapes)

    def first_projections(self, x, params):
        if "Ux" in params:
            Ux = params["Ux"]
            return [embed(Ux[j], x) for j in range(self.blocks)]
        x_e = embed(params["E"], x)
        U = params["U"]
        return [matvec(U[j], x_e) for j in range(self.blocks)]

    def deep_projections(self, h_below, params, layer, num_layers=None):
        U = params["U"]
        base = self.blocks * (layer - 1 if "Ux" in params else layer)
        return [matvec(U[base + j], h_below) for j in range(self.blocks)]

    def layer(self, xp, s_prev, W, b, k, g):
        z = g(xp[0] + matvec(W[k], s_prev) + b[k])
        r = g(xp[1] + matvec(W[k + 1], s_prev) + b[k + 1])
        h = pt.tanh(xp[2] + matvec(W[k + 2], s_prev * r) + b[k + 2])
        return (pt.ones_like(z) - z) * h + z * s_prev

    def layer_step(self, xp, states, params, layer, num_layers, gate):
        s = self.layer(xp, states[0], params["W"], params["b"], 3 * layer, self.gate(gate))
        return [s], s

    def merged_step(self, pre_t, states, Wm, gate):
        g = self.gate(gate)
        s_prev = states[0]
        H = s_prev.shape[-1]
        zr = g(pre_t[..., : 2 * H] + matvec(Wm[: 2 * H], s_prev))
        z, r = zr[..., :H], zr[..., H:]
        h = pt.tanh(pre_t[..., 2 * H :] + matvec(Wm[2 * H :], s_prev * r))
        s = (pt.ones_like(z) - z) * h + z * s_prev
        return [s], s

    def infer_layers(self, shapes):
        n = shapes["W"][0]
        if n % self.blocks:
            raise ValueError(f"W has {n} gate blocks, not a multiple of {self.blocks}")
        return n // self.blocks


class _LSTM(_GRU):
    def layer(self, xp, h_prev, c_prev, W, b, k, g):
        i = g(xp[0] + matvec(W[k], h_prev) + b[k])
        f = g(xp[1] + matvec(W[k + 1], h_prev) + b[k + 1])
        o = g(xp[2] + matvec(W[k + 2], h_prev) + b[k + 2])
        cand = pt.tanh(xp[3] + matvec(W[k + 3], h_prev) + b[k + 3])
        c = f * c_prev + i * cand
        return o * pt.tanh(c), c

    def layer_step(self, xp, states, params, layer, num_layers, gate):
        W, b = params["W"], params["b"]
        h, c = self.layer(xp, states[0], states[1], W, b, 4 * layer, self.gate(gate))
        return [h, c], h

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


RNN = _RNN(name="rnn", blocks=1, states_per_layer=1, default_gate=None)
GRU = _GRU(name="gru", blocks=3, states_per_layer=1, default_gate="hard_sigmoid")
LSTM = _LSTM(name="lstm", blocks=4, states_per_layer=2, default_gate="sigmoid")
CELLS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}


def get_cell(name) -> Cell:
    """The cell called ``name`` (``"rnn"``, ``"gru"`` or ``"lstm"``)."""
    if isinstance(name, Cell):
        return name
    try:
        return CELLS[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown cell {name!r}; choose one of rnn, gru, lstm") from None
