"""The generic word-level language model :class:`RecurrentLM` (any cell).

The tutorial classes ``RNNTheano``, ``GRUTheano``, ``LSTMTheano`` built on it,
and the cell -> class table, are in :mod:`theano_rnn.models.word`.

One generic word-level language model (:class:`RecurrentLM`) builds the
tutorials' graphs for any cell of :mod:`theano_rnn.cells`; the three tutorial
classes fix the cell and keep the tutorials' names, signatures, defaults and
public surface.

Truncated back-propagation -- read this
---------------------------------------
The tutorials pass ``bptt_truncate`` to ``theano.scan(truncate_gradient=k)``.
Theano (and PyTensor) then back-propagate only through the **last k steps of
the whole sequence**: outputs earlier than step ``T - k`` contribute no
gradient at all, not even to ``V``.  The NumPy tutorial's ``bptt`` instead
truncates *each output's* path to its last ``k + 1`` steps.  The two differ for
sentences longer than ``k``.  ``RNNTheano(bptt_truncate=4)`` was trained with
the scan semantics, so that is the default here (``truncation="scan"``).  The
NumPy tutorial's per-output semantics are available by name:
``truncation="per_output"`` (each output's window is recomputed from the
stop-gradient state before it, so forward values are unchanged).
``bptt_truncate=-1`` (or ``<= 0``) means full back-propagation.

Graphs
------
``graph="faithful"`` (default) builds the tutorials' graphs: one scan whose
step computes the input column, every layer, the output product and the
softmax.  ``graph="fast"`` builds :mod:`theano_rnn.graphs.fast`'s: inputs
precomputed outside the loop, merged gate products, the output product and
loss hoisted out of the scan, sparse updates of the embedding/one-hot
columns.  Every public method returns the same numbers (to round-off) with
the same signature.  The batch methods (``batch_loss``, ``batch_grads``,
``batch_step`` on left-padded ``(T, B)`` blocks, see
:func:`theano_rnn.graphs.fast.pad_batch`) always use the fast formulation.

With ``mode="JAX"`` (static shapes) the per-sentence methods pad each
sentence on the left to a multiple of ``jax_bucket`` tokens and run the
masked fast graph with one sequence, for either ``graph`` setting (the
numbers are the same).
"""

from __future__ import annotations

import logging

import numpy as np
import pytensor
import pytensor.tensor as pt

from theano_rnn import optim
from theano_rnn.cells import get_cell
from theano_rnn.compat import Param, categorical_crossentropy, function_with_defaults, get_mode, mode_name
from theano_rnn.models.layout import infer_layout
from theano_rnn.models.params import SharedParams
from theano_rnn.graphs.cache import CompileCache
from theano_rnn.graphs.fast import GRAPHS, FastGraph, bucket_length
from theano_rnn.graphs.faithful import per_output_cost, scan_forward
from theano_rnn.runtime.compile import compile_function

__all__ = ["RecurrentLM", "TRUNCATIONS", "GRAPHS"]

log = logging.getLogger(__name__)

TRUNCATIONS = ("scan", "per_output")


class _Compiled:
    """Descriptor: the method's function, compiled on first use into the model's
    :class:`~theano_rnn.graphs.cache.CompileCache` under the method's name."""

    def __init__(self, builder):
        self.builder = builder
        self.name = builder.__name__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj._fns.compiled(self.name, lambda _shape: self.builder(obj))


class RecurrentLM(SharedParams):
    """A word-level recurrent language model on one sentence at a time.

    Parameters are PyTensor shared variables named as in the tutorials and
    exposed as attributes (``model.U`` ...).  Compiled functions are built on
    first use.

    Args:
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        word_dim: vocabulary size C.
        hidden_dim: hidden size H.
        bptt_truncate: ``truncate_gradient`` of the scan; ``-1`` = full BPTT.
        num_layers: stacked layers (gate blocks stacked layer-major).
        gate_activation: ``"hard_sigmoid"`` or ``"sigmoid"`` (ignored by the
            gate-less RNN, which only validates it).
        rng: ``np.random.RandomState``/``Generator`` for the initial weights;
            ``None`` draws from NumPy's global generator as the tutorials did
            (so ``np.random.seed(10)`` reproduces their weights).
        mode: backend, ``"C"`` (= Theano's ``FAST_RUN``), ``"NUMBA"``, ``"JAX"``
            or a ``pytensor.compile.Mode``.
        truncation: ``"scan"`` (Theano's semantics, default) or
            ``"per_output"`` (the NumPy tutorial's); see the module docstring.
        optimizer: ``"sgd"`` (``sgd_step(x, y, learning_rate)``) or
            ``"rmsprop_tutorial"`` = ``"rmsprop"`` (WildML part 4's RMSprop,
            ``sgd_step(x, y, learning_rate, decay=0.9)``).  ``optimizer`` is
            then ``"sgd"`` or ``"rmsprop"``, ``algorithm`` the unambiguous name
            (:data:`theano_rnn.optim.FAMILIES`).
        graph: ``"faithful"`` (the tutorials' graph, default) or ``"fast"``
            (:mod:`theano_rnn.graphs.fast`; same numbers, much faster).
        jax_bucket: with ``mode="JAX"``, sentences are left-padded to a
            multiple of this many tokens (one compiled shape per bucket).
    """

    cell_name = "rnn"
    default_optimizer = "sgd"

    def __init__(
        self,
        word_dim,
        hidden_dim=100,
        bptt_truncate=-1,
        *,
        cell=None,
        num_layers=1,
        gate_activation=None,
        rng=None,
        mode=None,
        truncation="scan",
        optimizer=None,
        params=None,
        input_mode=None,
        graph="faithful",
        jax_bucket=16,
    ):
        self.cell = get_cell(cell or self.cell_name)
        if graph not in GRAPHS:
            raise ValueError(f"graph must be one of {GRAPHS}, got {graph!r}")
        self.graph = graph
        self.jax_bucket = bucket_length(1, jax_bucket)  # validates: a positive integer
        #: run the per-sentence methods through the padded masked graph even
        #: outside JAX (set before the first call; for tests)
        self._pad_to_bucket = False
        self.input_mode = self.cell.check_input_mode(input_mode)
        word_dim, hidden_dim, num_layers = int(word_dim), int(hidden_dim), int(num_layers)
        if word_dim < 1 or hidden_dim < 1 or num_layers < 1:
            raise ValueError(
                f"word_dim, hidden_dim and num_layers must be positive, got "
                f"{word_dim}, {hidden_dim}, {num_layers}"
            )
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
        optimizer = optimizer or self.default_optimizer
        #: the update rule, one of :data:`theano_rnn.optim.OPTIMIZERS` (stored in checkpoints)
        self.algorithm = optim.resolve("word", optimizer)
        optimizer = optim.display_name("word", optimizer)  # "sgd" or "rmsprop" (the tutorial's)
        gate_activation = gate_activation or self.cell.default_gate or "hard_sigmoid"
        self.cell.gate(gate_activation)  # validates the name
        self.word_dim = word_dim
        self.hidden_dim = hidden_dim
        self.bptt_truncate = int(bptt_truncate)
        self.num_layers = num_layers
        self.gate_activation = gate_activation
        self.truncation = truncation
        self.optimizer = optimizer
        self.mode = mode_name(mode)
        self._mode = get_mode(mode)
        self.dtype = pytensor.config.floatX
        if params is None:
            params = self.cell.init_params(word_dim, hidden_dim, num_layers, rng, self.input_mode)
        shapes = self.cell.param_shapes(word_dim, hidden_dim, num_layers, self.input_mode)
        self._hold(params, shapes, static=False, attributes=True)
        #: compiled functions, the symbolic graph and the fast graph (dropped by ``resize``)
        self._fns = CompileCache(self.dtype)
        prefixes = ("m",) if optimizer == "rmsprop" else ()
        self._opt_state = self._new_optimizer_state(prefixes, static=False, attributes=True)

    # ------------------------------------------------------------------
    # configuration, parameters, state
    # ------------------------------------------------------------------
    def config(self):
        """Everything needed to rebuild this model (stored in checkpoints)."""
        return {
            "cell": self.cell.name,
            "class": type(self).__name__,
            "word_dim": self.word_dim,
            "hidden_dim": self.hidden_dim,
            "bptt_truncate": self.bptt_truncate,
            "num_layers": self.num_layers,
            "gate_activation": self.gate_activation,
            "truncation": self.truncation,
            "optimizer": self.optimizer,
            "algorithm": self.algorithm,
            "input_mode": self.input_mode,
            "dtype": self.dtype,
            "graph": self.graph,
        }

    @classmethod
    def from_config(cls, config, params=None, mode=None, graph=None):
        """A ``cls`` rebuilt from :meth:`config` (and optional parameters).

        The cell is the class's own (``cell_name``); ``graph`` overrides the
        config's (``None``: the config's, default "faithful").  A config
        without ``bptt_truncate`` (a file without metadata) gets the class's
        default (``RNNTheano``'s 4, the others' -1).
        """
        if params is not None:  # the arrays must be in the config's cell's layout
            infer_layout({k: np.shape(v) for k, v in params.items()}, config.get("cell"))
        kwargs = {
            k: config[k]
            for k in ("num_layers", "gate_activation", "truncation", "optimizer", "input_mode")
            if config.get(k) is not None
        }
        if "optimizer" not in kwargs and config.get("algorithm"):
            kwargs["optimizer"] = config["algorithm"]
        kwargs["graph"] = graph or config.get("graph") or "faithful"
        if "bptt_truncate" in config:
            kwargs["bptt_truncate"] = config["bptt_truncate"]
        return cls(config["word_dim"], config["hidden_dim"], mode=mode, params=params, **kwargs)

    def check_shapes(self, arrays, source="parameters"):
        """Raise ``ValueError`` naming the first array whose shape does not fit."""
        expected = self.cell.param_shapes(
            self.word_dim, self.hidden_dim, self.num_layers, self.input_mode
        )
        self._check_arrays(arrays, expected, source)

    def resize(self, arrays):
        """Adopt parameters of a different size: dims are inferred, graphs rebuilt.

        Unlike the tutorial's ``load_model_parameters_theano`` (which changed
        ``hidden_dim``/``word_dim`` without rebuilding anything), this
        re-creates the shared variables, resets the optimizer caches and drops
        every compiled function, so the next call compiles for the new size.
        """
        cell, C, H, L = infer_layout({k: np.shape(v) for k, v in arrays.items()}, self.cell.name)
        config = self.config()
        config.update(
            word_dim=C, hidden_dim=H, num_layers=L, input_mode=self.cell.input_mode_of(arrays)
        )
        fresh = type(self).from_config(config, params=arrays, mode=self._mode)
        fresh.jax_bucket, fresh._pad_to_bucket = self.jax_bucket, self._pad_to_bucket
        self._fns.clear()  # compiled for the old size
        self.__dict__.update(fresh.__dict__)
        return self

    # ------------------------------------------------------------------
    # graphs
    # ------------------------------------------------------------------
    def _scan_forward(self, x, params, truncate):
        """The tutorials' scan (:func:`theano_rnn.graphs.faithful.scan_forward`)."""
        return scan_forward(self.cell, x, params, self.num_layers, self.gate_activation,
                            self.hidden_dim, self.dtype, truncate)

    def _per_output_cost(self, x, y, params, states):
        """The NumPy tutorial's truncated BPTT cost (:func:`theano_rnn.graphs.faithful.per_output_cost`)."""
        return per_output_cost(self.cell, x, y, params, states, self.num_layers,
                               self.gate_activation, self.bptt_truncate)

    def _graph(self):
        """Symbolic inputs, probabilities, cost and gradients (built once)."""
        return self._fns.compiled("graph", lambda _shape: self._build_graph())

    def _build_graph(self):
        x = pt.ivector("x")
        y = pt.ivector("y")
        params = self.params
        truncated = self.bptt_truncate > 0
        use_scan_truncation = truncated and self.truncation == "scan"
        o, states = self._scan_forward(x, params, self.bptt_truncate if use_scan_truncation else -1)
        o_error = pt.sum(categorical_crossentropy(o, y))
        if truncated and self.truncation == "per_output":
            cost = self._per_output_cost(x, y, params, states)
        else:
            cost = o_error
        grads = pytensor.grad(cost, list(params.values()))
        return dict(x=x, y=y, o=o, o_error=o_error, cost=cost, grads=grads)

    def _function(self, inputs, outputs, **kwargs):
        return compile_function(
            inputs, outputs, mode=self._mode, allow_input_downcast=True, **kwargs
        )

    @property
    def _fast(self):
        """The :class:`~theano_rnn.graphs.fast.FastGraph` of this model (built once)."""
        return self._fns.compiled("fast_graph", lambda _shape: FastGraph(self))

    @property
    def _padded(self):
        """Per-sentence methods pad to ``jax_bucket`` (JAX needs static shapes)."""
        return self.mode == "JAX" or bool(self._pad_to_bucket)

    def _fast_method(self, name):
        """``name`` from the fast graph, or ``None`` for the faithful one."""
        if self.graph == "fast" or self._padded:
            return self._fast.sentence_method(name)
        return None

    # ------------------------------------------------------------------
    # compiled functions (tutorial surface)
    # ------------------------------------------------------------------
    @_Compiled
    def forward_propagation(self):
        """Output probabilities (T, C) for a sentence ``x``."""
        fast = self._fast_method("forward_propagation")
        if fast is not None:
            return fast
        g = self._graph()
        return self._function([g["x"]], g["o"], name="forward_propagation")

    @_Compiled
    def predict_class(self):
        """Most likely next word at every position (argmax of the probabilities)."""
        fast = self._fast_method("predict_class")
        if fast is not None:
            return fast
        g = self._graph()
        return self._function([g["x"]], pt.argmax(g["o"], axis=1), name="predict_class")

    @_Compiled
    def ce_error(self):
        """Summed cross-entropy of one sentence."""
        fast = self._fast_method("ce_error")
        if fast is not None:
            return fast
        g = self._graph()
        return self._function([g["x"], g["y"]], g["o_error"], name="ce_error")

    @property
    def bptt_names(self):
        """Parameter names in the order ``bptt`` returns their gradients."""
        return self.param_names

    @_Compiled
    def bptt(self):
        """Gradients of the (truncated) cost, in the order of ``bptt_names``."""
        fast = self._fast_method("bptt")
        if fast is not None:
            return fast
        g = self._graph()
        d = dict(zip(self.param_names, g["grads"]))
        return self._function([g["x"], g["y"]], [d[n] for n in self.bptt_names], name="bptt")

    @_Compiled
    def sgd_step(self):
        """One training step; returns the sentence's loss before the update.

        ``sgd``: ``sgd_step(x, y, learning_rate)``.  ``rmsprop``:
        ``sgd_step(x, y, learning_rate, decay=0.9)`` with the tutorial's
        RMSprop (``decay`` must lie in (0, 1)).
        """
        fast = self._fast_method("sgd_step")
        if fast is not None:
            return fast
        g = self._graph()
        lr = pt.scalar("learning_rate", dtype=self.dtype)
        params = list(self._shared.values())
        if self.optimizer == "sgd":
            updates, _ = optim.sgd(params, g["grads"], lr)
            step = self._function(
                [g["x"], g["y"], lr], g["o_error"], updates=updates, name="sgd_step"
            )

            def sgd_step(x, y, learning_rate):
                return float(step(x, y, learning_rate))

            sgd_step.fn = step
            return sgd_step
        decay = pt.scalar("decay", dtype=self.dtype)
        updates, _ = optim.rmsprop_tutorial(params, g["grads"], lr, decay, state=self._opt_state)
        step = function_with_defaults(
            [g["x"], g["y"], lr, Param(decay, default=0.9)],
            g["o_error"],
            updates=updates,
            mode=self._mode,
            name="sgd_step",
            allow_input_downcast=True,
        )

        def sgd_step(x, y, learning_rate, decay=0.9):
            if not (0.0 < float(decay) < 1.0):
                raise ValueError(f"RMSprop decay must lie in (0, 1), got {decay}")
            return float(step(x, y, learning_rate, decay))

        sgd_step.fn = step.fn
        return sgd_step

    def next_word_probs(self, prefix):
        """Probabilities of the next word after ``prefix`` (a list of indices)."""
        return np.asarray(self.forward_propagation(np.asarray(prefix, dtype=np.int32))[-1])

    def calculate_total_loss(self, X, Y):
        """Sum of the sentences' cross-entropies.

        The fast graph (outside JAX) evaluates length-sorted padded batches.
        """
        if self.graph == "fast" and not self._padded:
            X, Y = list(X), list(Y)
            if len(X) != len(Y):
                raise ValueError(f"calculate_total_loss: {len(X)} inputs but {len(Y)} targets")
            return self._fast.total_loss(X, Y)
        return float(np.sum([self.ce_error(x, y) for x, y in zip(X, Y)]))

    # ------------------------------------------------------------------
    # batches (always the fast formulation)
    # ------------------------------------------------------------------
    def batch_loss(self, x, y, mask):
        """Summed cross-entropy over the real tokens of a left-padded batch.

        ``x``, ``y``: int ``(T, B)``, time-major; ``mask``: float ``(T, B)``,
        1 on tokens, 0 on (leading) padding -- see
        :func:`theano_rnn.graphs.fast.pad_batch`.
        """
        return self._fast.batch_loss(x, y, mask)

    def batch_grads(self, x, y, mask):
        """Dense gradients (``bptt_names`` order) of :meth:`batch_loss`'s sum,
        truncated per sequence as :meth:`bptt` truncates one sentence."""
        return self._fast.batch_grads(x, y, mask)

    def batch_step(self, x, y, mask, learning_rate, decay=0.9, scale=1.0):
        """One optimizer step along ``scale`` times the gradient of the
        batch's summed loss (the sum of its sentences' gradients; ``scale =
        1/B`` steps along the mean); returns the summed loss before the
        update.  ``decay`` is RMSprop's (ignored by ``sgd``)."""
        return self._fast.batch_step(x, y, mask, learning_rate, decay, scale)

    def calculate_loss(self, X, Y):
        """Mean cross-entropy per word."""
        num_words = int(np.sum([len(y) for y in Y]))
        if num_words == 0:
            raise ValueError("calculate_loss: no words")
        return self.calculate_total_loss(X, Y) / float(num_words)

    def __repr__(self):
        graph = ", graph='fast'" if self.graph == "fast" else ""
        return (
            f"{type(self).__name__}(word_dim={self.word_dim}, hidden_dim={self.hidden_dim}, "
            f"bptt_truncate={self.bptt_truncate}, num_layers={self.num_layers}, "
            f"mode={self.mode!r}{graph})"
        )
