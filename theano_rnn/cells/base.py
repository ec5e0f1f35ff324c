r"""The base of every cell: one signature, shared helpers, the gated layout.

A cell is a small, interchangeable piece (the char-rnn design): it names its
parameters and their shapes (:meth:`Cell.param_shapes`), draws them in its
tutorial's order (:meth:`Cell.init_params`), projects inputs onto its gate
blocks, and advances one layer by one step with ONE step function,
:meth:`Cell.merged_step`, on merged pre-activations ``(..., blocks*H)`` and
the layer's merged recurrent matrix ``(blocks*H, H)``.  The per-block form
the tutorials wrote (:meth:`Cell.layer_step`, used by the faithful graphs) is
derived from it: the blocks' input projections are joined, the bias added,
and the merged step applied.

Nothing else is needed for any graph: the faithful graphs scan the per-block
step, and the fast graphs run each layer through the recurrent engine
(:func:`theano_rnn.graphs.engine.run_layer`), which uses the fused sequence
kernel the cell declares (``engine_kernel``) or, for a cell without one, a
``scan`` of its :meth:`Cell.merged_step` differentiated by PyTensor.

It also says how to recognise its parameter layout in a file without
metadata (:meth:`Cell.fits_keys`, :meth:`Cell.layout_of`), which the model
layer's :func:`~theano_rnn.models.layout.infer_layout` asks of every
registered cell (:mod:`theano_rnn.cells.registry`).

States and inputs may be unbatched (a state ``(H,)``, a token a scalar: the
tutorials' graphs) or batched (states ``(B, H)``, tokens ``(B,)``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

from theano_rnn.compat import gate_activation as _gate_activation
from theano_rnn.errors import CheckpointError

__all__ = [
    "Cell", "GatedCell", "matvec", "embed", "uniform", "shape_of",
]


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


def uniform(rng, bound, shape):
    """One draw from ``rng`` (the tutorials used ``np.random.uniform``: ``rng=None``)."""
    if rng is None:
        return np.random.uniform(-bound, bound, shape)
    return rng.uniform(-bound, bound, shape)


def shape_of(shapes, key, ndim):
    """``shapes[key]`` as a tuple; :class:`CheckpointError` unless it has ``ndim`` axes."""
    shape = tuple(shapes[key])
    if len(shape) != ndim:
        raise CheckpointError(f"key {key!r} has shape {shape}, expected {ndim} dimensions")
    return shape


@dataclass(frozen=True)
class Cell:
    """Base class: a cell's name, gate blocks per layer and states per layer.

    ``tutorial``: one of the tutorials' cells; a file without metadata whose
    layout several registered cells fit is read as the tutorial cell.
    """

    name: str = ""
    blocks: int = 1
    states_per_layer: int = 1
    default_gate: str | None = None
    tutorial: bool = False

    input_modes = ("onehot",)
    #: the fused sequence kernel (``"rnn"``, ``"gru"``, ``"lstm"``) that
    #: computes exactly :meth:`merged_step`, declared in the cell's own class
    #: body (not inherited: :func:`theano_rnn.graphs.engine.kernel_of`);
    #: ``None``: the engine's generic path (a ``scan`` of :meth:`merged_step`)
    engine_kernel = None

    # -- parameters -------------------------------------------------------
    def param_shapes(self, word_dim, hidden_dim, num_layers, input_mode=None):  # pragma: no cover
        raise NotImplementedError

    def init_params(self, word_dim, hidden_dim, num_layers=1, rng=None, input_mode=None):  # pragma: no cover
        raise NotImplementedError

    def adjust_char_init(self, params, num_layers):
        """char-rnn's cell-specific change after its uniform init (in place); none here."""
        return params

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
        """The input mode of a parameter set."""
        return self.input_modes[0]

    @property
    def uses_gates(self):
        """Whether ``gate_activation`` means anything to this cell."""
        return self.default_gate is not None

    # -- layouts of files without metadata ----------------------------------
    def fits_keys(self, keys):  # pragma: no cover
        """Whether a set of parameter names is this cell's layout."""
        raise NotImplementedError

    def layout_of(self, shapes):  # pragma: no cover
        """``(word_dim, hidden_dim, num_layers, input_mode)`` read from the
        shapes of a key set that :meth:`fits_keys`, or ``None`` when the
        sizes cannot be this cell's (e.g. a block count it does not divide)."""
        raise NotImplementedError

    def layout_note(self, shapes):
        """A few words on what the layout holds, for error messages."""
        return "keys " + ", ".join(sorted(shapes))

    def layout_keys(self):
        """The key names of this cell's layout, for error messages."""
        return ", ".join(self.param_shapes(2, 1, 1))

    # -- the fast graph's input side ------------------------------------------
    def input_table(self, input_mode):
        """Name of the first-layer parameter whose columns are gathered by token."""
        return "U"

    def input_matrix(self, params, layer, hidden_dim, input_mode):
        """``(blocks*H, H)`` input weights of ``layer`` acting on the layer
        below (or on the embedding), or ``None`` where the gathered columns
        already are the pre-activations."""
        raise NotImplementedError  # pragma: no cover

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

    def join_projections(self, xp, params, layer):
        """Per-block input contributions ``xp`` as one ``(..., blocks*H)``
        pre-activation, the layer's bias added."""
        out = xp[0] if len(xp) == 1 else pt.concatenate(xp, axis=-1)
        if "b" in params:
            k = self.blocks * layer
            out = out + params["b"][k : k + self.blocks].reshape((-1,))
        return out

    def merged_inputs(self, x, params, layer, num_layers, h_below=None):
        """``(..., blocks*H)`` input pre-activations of ``layer`` incl. its bias."""
        if layer == 0:
            xp = self.first_projections(x, params)
        else:
            xp = self.deep_projections(h_below, params, layer, num_layers)
        return self.join_projections(xp, params, layer)

    def merged_recurrent(self, params, layer, num_layers):
        """The layer's recurrent blocks as one ``(blocks*H, H)`` matrix."""
        W = params["W"]
        k = self.blocks * layer
        return W[k : k + self.blocks].reshape((-1, W.shape[-1]))

    def merged_step(self, pre_t, states, Wm, gate):  # pragma: no cover
        """THE step: one layer, one step from merged input pre-activations
        ``pre_t`` ``(..., blocks*H)`` and the merged recurrent matrix ``Wm``;
        returns ``(new states of the layer, its output h)``."""
        raise NotImplementedError

    def layer_step(self, xp, states, params, layer, num_layers, gate):
        """The per-block form, derived from :meth:`merged_step`: one layer,
        one step from per-block input contributions ``xp``."""
        pre = self.join_projections(xp, params, layer)
        return self.merged_step(pre, states, self.merged_recurrent(params, layer, num_layers), gate)

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


class GatedCell(Cell):
    """Gated cells' shared layout; ``input_mode`` "embedding" (the tutorial) or "onehot" (char-rnn).

    Gate blocks stacked layer-major: ``U``, ``W`` ``(blocks*L, H, H)``, ``b``
    ``(blocks*L, H)``, ``V`` ``(C, H)``, ``c`` ``(C,)``.
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
                p[name] = uniform(rng, np.sqrt(1.0 / word_dim), shapes[name])
        for name in ("U", "W", "V"):
            if name in shapes:
                p[name] = uniform(rng, np.sqrt(1.0 / hidden_dim), shapes[name])
        p["b"] = np.zeros(shapes["b"])
        p["c"] = np.zeros(shapes["c"])
        return OrderedDict((k, p[k]) for k in shapes)

    def input_mode_of(self, keys):
        """``Ux`` present -> "onehot", else "embedding"."""
        return "onehot" if "Ux" in keys else "embedding"

    def fits_keys(self, keys):
        keys = set(keys)
        return {"W", "V", "b", "c"} <= keys and ("E" in keys or "Ux" in keys)

    def layout_of(self, shapes):
        C, H = shape_of(shapes, "V", 2)
        n = shape_of(shapes, "W", 3)[0]
        if n <= 0 or n % self.blocks:
            return None
        return C, H, n // self.blocks, self.input_mode_of(shapes)

    def layout_note(self, shapes):
        return f"W has {tuple(shapes['W'])[0]} gate blocks"

    def layout_keys(self):
        return "E, U, W, V, b, c"

    def input_table(self, input_mode):
        return "E" if input_mode == "embedding" else "Ux"

    def input_matrix(self, params, layer, hidden_dim, input_mode):
        b, H = self.blocks, hidden_dim
        onehot = input_mode != "embedding"
        if layer == 0 and onehot:
            return None
        base = b * (layer - 1 if onehot else layer)
        return params["U"][base : base + b].reshape((b * H, H))

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

