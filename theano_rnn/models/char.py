"""Karpathy-style char-rnn on the project's cells: minibatched (time, batch) models.

:class:`CharRNN` stacks ``num_layers`` of any cell (``rnn``, ``gru``, ``lstm``)
from :mod:`theano_rnn.cells` -- the same step functions as the word-level
tutorial models -- over int32 batches of shape ``(seq_length, batch_size)``.
Each layer's recurrence goes through the recurrent engine
(:func:`theano_rnn.graphs.engine.run_layer`): one fused op for cells with an
engine kernel, the engine's generic ``scan`` of the cell's ``merged_step``
with ``engine=False`` (or for a cell without a kernel).  The first layer's
input pre-activations (one-hot: one gather of the merged input matrix's
rows; embedding: a gather then one product) and every deeper layer's (one
product) are computed for the whole sequence outside the loop, and the output
projection is one matrix product over the stacked top states; on the C
backend the softmax cross-entropy and its gradient are one NumPy pass
(:class:`~theano_rnn.graphs.ops.SoftmaxXent`).  Hidden states are inputs and
outputs of the compiled functions, so the trainer carries them across
consecutive batches (truncated BPTT of ``seq_length``) and checkpoints them.

Defaults follow char-rnn's ``train.lua``: 2 x 128 LSTM, one-hot input,
parameters uniform in [-0.08, 0.08] with the LSTM forget-gate biases at 1,
RMSprop (lr 2e-3, alpha 0.95, eps 1e-8, Torch's ``optim.rmsprop``),
element-wise gradient clipping at 5, dropout 0.  Per-character loss is the
mean cross-entropy in nats.

Differences from char-rnn, on purpose: one bias per gate instead of Torch's
two (``i2h`` and ``h2h``), so the default model on Tiny Shakespeare has
239,297 parameters instead of 240,321.  Under RMSprop two trained biases move
twice as fast as one; from the same weights CharRNN and PyTorch's ``nn.LSTM``
with ``bias_hh`` held at zero train identically (4e-15 over 40 iterations,
float64), and after 300 iterations on Tiny Shakespeare the validation loss of
the one-bias and the two-bias model differ by about 0.01 nats, while starting
the forget gates at 1 (char-rnn's choice, kept) costs about 0.09 nats that
early (``scripts/char_loss_gap.py``).
"""

from __future__ import annotations

import logging
import warnings
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt

from theano_rnn import optim
from theano_rnn.cells import GatedCell, get_cell, matvec
from theano_rnn.cells.rnn import RNNCell
from theano_rnn.compat import get_mode, mode_name
from theano_rnn.graphs import engine as fused
from theano_rnn.graphs.cache import CompileCache
from theano_rnn.graphs.ops import SoftmaxXent
from theano_rnn.graphs.rows import take_rows
from theano_rnn.models.layout import infer_layout
from theano_rnn.models.params import SharedParams
from theano_rnn.models.registry import register_model
from theano_rnn.runtime.compile import compile_function

__all__ = ["CharRNN", "CHAR_RNN_DEFAULTS", "SharedParams"]

log = logging.getLogger(__name__)

CHAR_RNN_DEFAULTS = dict(
    cell="lstm",
    num_layers=2,
    hidden_dim=128,
    input_mode="onehot",
    dropout=0.0,
    optimizer="rmsprop",
    learning_rate=2e-3,
    decay_rate=0.95,
    grad_clip=5.0,
    init_scale=0.08,
)


def _own(cell, cls):
    """Whether ``cell`` keeps ``cls``'s input projections (so its merged input
    matrix is the layout's own; a subclass that changes them is asked itself)."""
    return all(getattr(type(cell), name) is getattr(cls, name)
               for name in ("first_projections", "deep_projections", "join_projections"))


class CharRNN(SharedParams):
    """A multi-layer character-level language model over ``(time, batch)``.

    Args:
        vocab_size: number of symbols C.
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        hidden_dim: char-rnn's ``rnn_size``.
        num_layers: stacked layers.
        input_mode: ``"onehot"`` (char-rnn) or ``"embedding"`` (the tutorial
            GRU's ``E``; gated cells only).
        dropout: dropout probability on the inputs of layers 2..L and on the
            top layer's output (char-rnn's placement); masks come from the
            trainer's generator, so runs repeat exactly.
        gate_activation: ``"sigmoid"`` (default for char models) or
            ``"hard_sigmoid"``.
        optimizer: ``"rmsprop_torch"`` = ``"rmsprop"`` (Torch's
            ``optim.rmsprop``, char-rnn's) or ``"adam"``; ``optimizer`` is then
            ``"rmsprop"`` or ``"adam"``, ``algorithm`` the unambiguous name.
        decay_rate: RMSprop's alpha.
        grad_clip: element-wise gradient clip (0 disables).
        seed / rng: initial weights, drawn uniform in ``[-init_scale, init_scale]``.
        mode: backend (``"C"``, ``"NUMBA"``, ``"JAX"``).
        fused_gates: deprecated, changes nothing.  It chose between two
            inline scan steps, which are gone: ``engine=False`` runs the
            engine's generic ``scan`` of :meth:`Cell.merged_step`.  Kept (and
            stored in checkpoints) so old code and checkpoints load; passing
            True or False warns (``DeprecationWarning``).
        engine: run each layer's recurrence as one fused op of the recurrent
            engine (:mod:`theano_rnn.graphs.engine`: one call per sequence,
            hand-derived BPTT) instead of a ``scan``; ``None`` (default): when
            the cell has an engine kernel (rnn, gru, lstm).  ``False``: the
            engine's generic path (``run_layer(..., kernel=False)``, a
            ``scan``), which is also what a cell without a kernel runs.  The
            same values to round-off.
    """

    def __init__(
        self,
        vocab_size,
        cell="lstm",
        hidden_dim=128,
        num_layers=2,
        *,
        input_mode="onehot",
        dropout=0.0,
        gate_activation=None,
        optimizer="rmsprop",
        decay_rate=0.95,
        grad_clip=5.0,
        init_scale=0.08,
        seed=123,
        rng=None,
        mode=None,
        params=None,
        fused_gates=None,
        engine=None,
    ):
        self.cell = get_cell(cell)
        if fused_gates is not None:
            warnings.warn(
                "CharRNN(fused_gates=...) is deprecated and changes nothing: engine=False "
                "runs the engine's generic scan path", DeprecationWarning, stacklevel=2,
            )
        #: deprecated, no effect (stored in checkpoints for old readers)
        self.fused_gates = bool(fused_gates)
        if engine and not fused.has_kernel(self.cell):
            raise ValueError(f"the {self.cell.name} cell has no engine kernel; use engine=False")
        self.engine = fused.has_kernel(self.cell) if engine is None else bool(engine)
        vocab_size, hidden_dim, num_layers = int(vocab_size), int(hidden_dim), int(num_layers)
        if vocab_size < 2 or hidden_dim < 1 or num_layers < 1:
            raise ValueError(
                f"vocab_size must be >= 2 and hidden_dim, num_layers >= 1; got "
                f"{vocab_size}, {hidden_dim}, {num_layers}"
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        #: the update rule, one of :data:`theano_rnn.optim.OPTIMIZERS` (stored in checkpoints)
        self.algorithm = optim.resolve("char", optimizer)
        optimizer = optim.display_name("char", optimizer)  # "rmsprop" (Torch's) or "adam"
        if not 0.0 < float(decay_rate) < 1.0:
            raise ValueError(f"decay_rate must lie in (0, 1), got {decay_rate}")
        # a cell with one input mode (the RNN: one-hot) takes it whatever is asked
        self.input_mode = self.cell.check_input_mode(
            input_mode if len(self.cell.input_modes) > 1 else None
        )
        self.gate_activation = gate_activation or "sigmoid"
        self.cell.gate(self.gate_activation)
        self.vocab_size = vocab_size
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = float(dropout)
        self.optimizer = optimizer
        self.decay_rate = float(decay_rate)
        self.grad_clip = float(grad_clip or 0.0)
        self.init_scale = float(init_scale)
        self.seed = seed
        self.mode = mode_name(mode)
        self._mode = get_mode(mode)
        #: the C / Python backends run the loss and the input gather through
        #: NumPy ops (SoftmaxXent, TakeRows); set False before compiling for
        #: the plain PyTensor graph (what the other backends get)
        self.numpy_ops = self.mode in ("C", "PY")
        self.dtype = pytensor.config.floatX
        shapes = self.cell.param_shapes(vocab_size, hidden_dim, num_layers, self.input_mode)
        if params is None:
            params = self.init_params(rng if rng is not None else np.random.RandomState(seed))
        self._hold(params, shapes)
        adam = optimizer == "adam"
        self._opt_state = self._new_optimizer_state(("m", "v") if adam else ("m",), counter=adam,
                                                    by_param=True)
        self._fns = CompileCache(self.dtype, self.static_shapes)

    # ------------------------------------------------------------------
    def init_params(self, rng):
        """char-rnn's init: every parameter uniform in ``[-s, s]`` in
        ``param_names`` order, then the cell's own adjustment
        (:meth:`Cell.adjust_char_init`: the LSTM's forget-gate biases set to 1)."""
        shapes = self.cell.param_shapes(
            self.vocab_size, self.hidden_dim, self.num_layers, self.input_mode
        )
        s = self.init_scale
        params = OrderedDict((n, rng.uniform(-s, s, shape)) for n, shape in shapes.items())
        return self.cell.adjust_char_init(params, self.num_layers)

    def config(self):
        return {
            "class": "CharRNN",
            "cell": self.cell.name,
            "word_dim": self.vocab_size,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "input_mode": self.input_mode,
            "dropout": self.dropout,
            "gate_activation": self.gate_activation,
            "optimizer": self.optimizer,
            "algorithm": self.algorithm,
            "decay_rate": self.decay_rate,
            "grad_clip": self.grad_clip,
            "init_scale": self.init_scale,
            "seed": self.seed,
            "fused_gates": self.fused_gates,
            "engine": self.engine,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config, params=None, mode=None):
        if params is not None:  # the arrays must be in the config's cell's layout
            infer_layout({k: np.shape(v) for k, v in params.items()}, config.get("cell"))
        model = cls(
            config["word_dim"],
            cell=config["cell"],
            hidden_dim=config["hidden_dim"],
            num_layers=config["num_layers"],
            input_mode=config.get("input_mode", "onehot"),
            dropout=config.get("dropout", 0.0),
            gate_activation=config.get("gate_activation"),
            optimizer=config.get("optimizer") or config.get("algorithm") or "rmsprop",
            decay_rate=config.get("decay_rate", 0.95),
            grad_clip=config.get("grad_clip", 5.0),
            init_scale=config.get("init_scale", 0.08),
            seed=config.get("seed", 123),
            mode=mode,
            params=params,
            engine=config.get("engine"),
        )
        model.fused_gates = bool(config.get("fused_gates", False))  # no effect; kept
        return model

    def _compiled(self, kind, shape):
        """The compiled ``kind`` function ("train", "eval", "grads", "step"),
        from the model's :class:`~theano_rnn.graphs.cache.CompileCache`.

        Under JAX and C (:attr:`static_shapes`) every input gets the static
        shape of this call's batch (``shape`` = ``x``'s) and one function is
        compiled per shape (a trainer's batches all share one; sampling has
        its own); ``_fns[kind]`` is then the one used last.  NUMBA and PY
        compile one function for any shape.
        """
        return self._fns.compiled(kind, getattr(self, "_build_" + kind), shape)

    @property
    def static_shapes(self):
        """Whether functions are compiled per input shape: under JAX (which
        needs it) and C.  On C, static shapes let PyTensor fold the graph's
        shape arithmetic into constants, which halves the C modules a cold
        compile builds (37 -> 15 for the main job's LSTM; 16 s -> 8 s on the
        2-core VM); a new batch shape costs one more compile from the cached
        modules (about a second).  NUMBA compiles a whole function per graph,
        so there shapes stay dynamic."""
        return self.mode in ("JAX", "C")

    # ------------------------------------------------------------------
    @property
    def n_states(self):
        return self.cell.states_per_layer * self.num_layers

    def zero_states(self, batch_size):
        """Initial hidden (and cell) states, a list of ``(batch_size, H)`` arrays."""
        return [np.zeros((batch_size, self.hidden_dim), dtype=self.dtype) for _ in range(self.n_states)]

    def _state_inputs(self, batch_size=None):
        shape = (batch_size, self.hidden_dim) if batch_size is not None else (None, None)
        return [pt.tensor(f"s{i}", dtype=self.dtype, shape=shape) for i in range(self.n_states)]

    @staticmethod
    def _int_input(name, shape, ndim=2):
        """int32 tokens: ``(T, B)`` (or ``(B,)``), static shape when ``shape`` is given."""
        return pt.tensor(name, dtype="int32", shape=shape if shape is not None else (None,) * ndim)

    def _input_weights(self, layer):
        """The layer's input weights as one ``(blocks*H, D)`` matrix (applied
        as ``v M^T``) for the package's own cell layouts, else ``None``."""
        cell, p = self.cell, self.params
        if isinstance(cell, GatedCell) and _own(cell, GatedCell):
            k = cell.blocks
            if layer == 0:
                W = p["Ux"] if "Ux" in p else p["U"][:k]
            else:
                base = k * (layer - 1 if "Ux" in p else layer)
                W = p["U"][base : base + k]
            return W.reshape((-1, W.shape[-1]))
        if isinstance(cell, RNNCell) and _own(cell, RNNCell):
            return p["U"] if layer == 0 else p["Ud"][layer - 1]
        return None

    def _layer_inputs(self, x, layer, below):
        """``(T, B, blocks*H)`` input pre-activations of ``layer`` incl. its bias.

        One gather (one-hot input: rows of the merged input matrix; embedding:
        rows of ``E``) or one matrix product for the whole sequence; the same
        values as the cell's per-block :meth:`~theano_rnn.cells.base.Cell.merged_inputs`.
        """
        cell, p = self.cell, self.params
        M = self._input_weights(layer)
        if M is None:  # a cell of other equations: its own per-block projections
            if layer > 0:
                return cell.merged_inputs(x, p, layer, self.num_layers, h_below=below)
            x_pad = pt.concatenate([x[:1], x], axis=0)  # see take_rows
            return cell.merged_inputs(x_pad, p, 0, self.num_layers)[1:]
        if layer == 0:
            T, B = x.shape
            flat = x.reshape((T * B,))
            if "E" in p:
                rows = take_rows(p["E"].T, flat, self.numpy_ops).dot(M.T)
            else:
                rows = take_rows(M.T, flat, self.numpy_ops)
            out = rows.reshape((T, B, -1))
        else:
            out = below.dot(M.T)
        return cell.join_projections([out], p, layer)

    def _forward(self, x, init_states, masks=None):
        """Logits ``(T, B, C)`` and final states for int32 ``x`` ``(T, B)``.

        Each layer: its input pre-activations for the whole sequence, then
        its recurrence through the engine (:func:`~theano_rnn.graphs.engine.run_layer`:
        the fused op, or with ``engine=False`` the engine's generic ``scan``).
        """
        cell, L, p, gate = self.cell, self.num_layers, self.params, self.gate_activation
        n = cell.states_per_layer
        finals = []
        h_seq = None
        for layer in range(L):
            below = None
            if layer > 0:
                below = h_seq if masks is None else h_seq * masks[layer - 1]
            pre = self._layer_inputs(x, layer, below)
            outs = fused.run_layer(cell, gate, pre, cell.merged_recurrent(p, layer, L),
                                   init_states[n * layer : n * (layer + 1)], kernel=self.engine)
            finals.extend(o[-1] for o in outs)
            h_seq = outs[0]
        top = h_seq if masks is None else h_seq * masks[L - 1]
        logits = matvec(p["V"], top) + p["c"] if "c" in p else matvec(p["V"], top)
        return logits, finals

    def _loss(self, logits, y, with_grad=False):
        """Mean cross-entropy per character and (``with_grad``) the known
        gradient of the flattened logits, ``(flat logits, its gradient)``.

        On the C / Python backends one NumPy pass (:class:`~theano_rnn.graphs.ops.SoftmaxXent`,
        the word-level fast graph's); elsewhere the graph of :meth:`_mean_nll`.
        """
        T, B, C = logits.shape
        flat = logits.reshape((T * B, C))
        yflat = y.reshape((T * B,))
        if not self.numpy_ops:
            return self._mean_nll(logits, y), None
        if not with_grad:
            return pt.mean(SoftmaxXent(with_grad=False)(flat, yflat)), None
        N = T * B
        weight = pt.alloc(pt.constant(1.0, dtype=self.dtype), N) / pt.cast(N, self.dtype)
        lp, dflat = SoftmaxXent(with_grad=True)(flat, yflat, weight)
        return pt.mean(lp), (flat, dflat)

    def _gradients(self, logits, y, params):
        """``(mean loss, its gradients w.r.t. params)``."""
        loss, known = self._loss(logits, y, with_grad=True)
        if known is None:
            return loss, pytensor.grad(loss, params)
        return loss, pytensor.grad(None, params, known_grads={known[0]: known[1]})

    @staticmethod
    def _mean_nll(logits, y):
        T, B, C = logits.shape
        flat = logits.reshape((T * B, C))
        logp = flat - pt.logsumexp(flat, axis=1, keepdims=True)
        return -pt.mean(logp[pt.arange(T * B), y.reshape((T * B,))])

    def _build_train(self, shape=None):
        x = self._int_input("x", shape)
        y = self._int_input("y", shape)
        lr = pt.scalar("learning_rate", dtype=self.dtype)
        init = self._state_inputs(None if shape is None else shape[1])
        masks = None
        extra_inputs = []
        if self.dropout > 0:
            mshape = (None, None, None) if shape is None else (*shape, self.hidden_dim)
            masks = [
                pt.tensor(f"mask{i}", dtype=self.dtype, shape=mshape) for i in range(self.num_layers)
            ]
            extra_inputs = masks
        logits, finals = self._forward(x, init, masks)
        params = list(self._shared.values())
        loss, grads = self._gradients(logits, y, params)
        grads = optim.clip_elementwise(grads, self.grad_clip)
        if self.algorithm == "rmsprop_torch":
            updates, _ = optim.rmsprop_torch(
                params, grads, lr, alpha=self.decay_rate, state=self._opt_state
            )
        else:
            updates, _ = optim.adam(params, grads, lr, state=self._opt_state)
        return compile_function(
            [x, y, lr, *init, *extra_inputs],
            [loss, *finals],
            updates=updates,
            mode=self._mode,
            allow_input_downcast=True,
            name="char_train_step",
        )

    def _build_grads(self, shape=None):
        xs, ys = self._int_input("x", shape), self._int_input("y", shape)
        init = self._state_inputs(None if shape is None else shape[1])
        logits, _ = self._forward(xs, init)
        loss, grads = self._gradients(logits, ys, list(self._shared.values()))
        return compile_function(
            [xs, ys, *init], [loss, *grads], mode=self._mode, allow_input_downcast=True
        )

    def loss_and_gradients(self, x, y, states):
        """Mean loss and *unclipped* gradients (``param_names`` order); for tests."""
        out = self._compiled("grads", np.shape(x))(x, y, *states)
        return float(out[0]), OrderedDict(zip(self.param_names, out[1:]))

    def _build_eval(self, shape=None):
        x = self._int_input("x", shape)
        y = self._int_input("y", shape)
        init = self._state_inputs(None if shape is None else shape[1])
        logits, finals = self._forward(x, init)
        return compile_function(
            [x, y, *init], [self._loss(logits, y)[0], *finals],
            mode=self._mode, allow_input_downcast=True, name="char_eval",
        )

    def _build_step(self, shape=None):
        x = self._int_input("x_t", shape, ndim=1)
        init = self._state_inputs(None if shape is None else shape[0])
        # a sequence of one step through the same layers as training (the
        # engine's op, the same input gather): few ops the other functions lack
        logits, new = self._forward(x.dimshuffle("x", 0), init)
        return compile_function(
            [x, *init], [logits[0], *new], mode=self._mode, allow_input_downcast=True,
            name="char_step",
        )

    # ------------------------------------------------------------------
    def dropout_masks(self, rng, seq_length, batch_size):
        """Inverted-dropout masks (one per layer input above the first, plus the top)."""
        keep = 1.0 - self.dropout
        shape = (self.num_layers, seq_length, batch_size, self.hidden_dim)
        masks = (rng.random(shape) < keep).astype(self.dtype) / keep
        return list(masks)

    def train_step(self, x, y, learning_rate, states, rng=None):
        """One optimizer step on a batch; returns ``(loss, final states)``."""
        train = self._compiled("train", np.shape(x))
        extra = []
        if self.dropout > 0:
            if rng is None:
                raise ValueError("dropout needs the trainer's rng for its masks")
            extra = self.dropout_masks(rng, x.shape[0], x.shape[1])
        out = train(x, y, learning_rate, *states, *extra)
        return float(out[0]), list(out[1:])

    def eval_loss(self, x, y, states):
        """Mean loss per character of a batch (no dropout, no update)."""
        out = self._compiled("eval", np.shape(x))(x, y, *states)
        return float(out[0]), list(out[1:])

    def step(self, x_t, states):
        """One time step for sampling: ``(logits (B, C), new states)``."""
        x_t = np.asarray(x_t, dtype=np.int32)
        out = self._compiled("step", x_t.shape)(x_t, *states)
        return out[0], list(out[1:])

    def __repr__(self):
        return (
            f"CharRNN(vocab_size={self.vocab_size}, cell={self.cell.name!r}, "
            f"hidden_dim={self.hidden_dim}, num_layers={self.num_layers}, mode={self.mode!r})"
        )


register_model(CharRNN)
