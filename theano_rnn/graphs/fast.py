"""Fast word-level graphs: hoisted output, precomputed inputs, sparse embedding updates.

The tutorials' graphs (:mod:`theano_rnn.models.word`, ``graph="faithful"``) run
one ``scan`` whose step does everything: the input column, every layer, the
``(C, H)`` output product and the softmax, token by token.  The *fast* graph
computes the same numbers in the shape a BLAS likes:

* **inputs outside the loop** (Lasagne's ``precompute_input``): the first
  layer's input columns are gathered once for the whole ``(T, B)`` block --
  ``U.T[x]`` for the RNN, ``E.T[x]`` followed by ONE product with the merged
  first-layer ``U`` blocks (plus bias) for the gated "embedding" mode, the
  merged ``Ux`` columns for "onehot" -- and every deeper layer's input side
  is one product over the full state sequence of the layer below;
* **each layer's recurrence is one engine op**
  (:func:`theano_rnn.graphs.engine.run_layer`: the cell's fused sequence
  kernel, one call per sequence, forward and whole-sequence BPTT; a cell
  without a kernel runs the engine's generic ``scan`` of its
  :meth:`Cell.merged_step`);
* **output, softmax and loss hoisted out of the recurrence**: the stacked top
  states ``(T*B, H)`` meet ``V.T`` in one product; on the C backend the
  stable log-softmax, the loss and the logits' gradient ``softmax -
  onehot(y)`` are one NumPy pass (:class:`SoftmaxXent`; PyTensor's C
  ``exp`` and reductions are scalar loops, and its ``Softmax`` op runs a
  Python-level inner function there); ``pytensor.grad`` carries that
  gradient through the rest of the graph (:meth:`FastGraph.grads`);
* **sparse first-layer updates**: training steps take the gradient with
  respect to the gathered ``(T*B, width)`` block, not the ``(H, C)`` table,
  and update only the touched columns (``inc_subtensor``; duplicates
  accumulate).  RMSprop decays the whole cache (``m = decay * m``, exactly
  what the dense formula does where the gradient is 0) and sets the touched
  columns from the per-column summed gradient, so the update equals the
  dense one.

Batches are left-padded time-major blocks with a mask
(:mod:`theano_rnn.graphs.padding`).  Truncation "scan" back-propagates
through the last ``k`` steps only (the engine op's ``truncate``; the outputs
before them get no gradient, as in Theano's truncated scan); "per_output" recomputes each
output's window (:func:`theano_rnn.graphs.faithful.per_output_cost`) on the
merged, precomputed inputs, with the mask.

Every number equals the faithful graph's to float64 round-off (tests:
``tests/graphs/test_fast.py``, <= 1e-10 relative).
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad

from theano_rnn.graphs import sentence
from theano_rnn.graphs.cache import CompileCache
from theano_rnn.graphs.engine import run_layer
from theano_rnn.graphs.ops import SoftmaxXent, gather_rows, log_normaliser, xent_grad
from theano_rnn.graphs.padding import (
    LOSS_CHUNK_ELEMENTS, bucket_length, pad_batch, sentence_batches, unique_columns,
)
from theano_rnn.optim import check_decay

__all__ = [
    "GRAPHS", "pad_batch", "bucket_length", "sentence_batches", "unique_columns", "FastGraph",
    "SoftmaxXent", "LOSS_CHUNK_ELEMENTS", "gather_rows", "log_normaliser", "xent_grad",
]

log = logging.getLogger(__name__)

GRAPHS = ("faithful", "fast")

class FastGraph:
    """The fast graph of one :class:`~theano_rnn.models.word.RecurrentLM`.

    Every compiled function takes a left-padded time-major block: int32
    ``x``, ``y`` ``(T, B)`` and a float ``mask`` ``(T, B)``.  The model's
    per-sentence methods call them with ``B = 1`` and a mask of ones (as
    fast as a mask-free graph, measured), or padded to a length bucket for
    JAX; the batch methods with the caller's block.
    """

    def __init__(self, model):
        self.model = model
        self.cell = model.cell
        self.L = model.num_layers
        self.H = model.hidden_dim
        self.C = model.word_dim
        self.blocks = model.cell.blocks
        self.n = model.cell.states_per_layer
        self.shared = model.params
        k = model.bptt_truncate
        self.k = k if k > 0 else 0
        self.truncation = model.truncation if self.k else "none"
        self.table_name = self.cell.input_table(model.input_mode)
        #: width of the first layer's gathered columns
        self.width0 = self.blocks * self.H if self.table_name == "Ux" else self.H
        #: softmax cross-entropy through NumPy (:class:`SoftmaxXent`) on the
        #: C / Python backends; set False before compiling to use the graph
        self.numpy_xent = model.mode in ("C", "PY")
        #: compile per input shape (JAX needs static shapes)
        self.static_shapes = model.mode == "JAX"
        #: the parameters' shapes are constants in the graphs (JAX needs it;
        #: on C it folds their shape arithmetic away, fewer C modules)
        self.static_params = model.mode in ("JAX", "C")
        self._fns = CompileCache(model.dtype, self.static_shapes)
        self._static_vars = {}

    # ------------------------------------------------------------------
    # layout helpers
    # ------------------------------------------------------------------
    def var(self, shared):
        """``shared`` as used in the graphs: with its static shape for JAX
        (so every slice and reshape of a parameter has a constant shape)."""
        if not self.static_params:
            return shared
        if shared not in self._static_vars:
            # a static length-1 axis would be broadcastable, which the
            # shared variable's type (and so its update) is not
            shape = [None if d == 1 else d for d in shared.get_value(borrow=True).shape]
            self._static_vars[shared] = pt.specify_shape(shared, shape)
        return self._static_vars[shared]

    @property
    def params(self):
        """Parameter name -> the variable the graphs use (see :meth:`var`)."""
        return OrderedDict((n, self.var(p)) for n, p in self.shared.items())

    def table(self, p=None):
        """The first-layer input parameter as a ``(C, width)`` view."""
        p = self.params[self.table_name] if p is None else p
        if self.table_name == "Ux":
            return p.reshape((self.blocks * self.H, self.C)).T
        return p.T

    def untable(self, view):
        """Inverse of :meth:`table`: back to the parameter's tutorial layout."""
        if self.table_name == "Ux":
            return view.T.reshape((self.blocks, self.H, self.C))
        return view.T

    def input_matrix(self, layer):
        """``(blocks*H, H)`` input weights of ``layer`` acting on the layer
        below (or on the embedding for the first "embedding" layer), or
        ``None`` where the gathered columns are the pre-activations."""
        return self.cell.input_matrix(self.params, layer, self.H, self.model.input_mode)

    def bias(self, layer):
        if "b" not in self.params:
            return None
        k = self.blocks * layer
        return self.params["b"][k : k + self.blocks].reshape((-1,))

    def pre_activations(self, inputs, layer):
        """Input side ``(N, blocks*H)`` of ``layer`` (bias included) from its
        ``(N, width)`` input: one product for the whole block."""
        M = self.input_matrix(layer)
        out = inputs if M is None else pt.dot(inputs, M.T)
        b = self.bias(layer)
        return out if b is None else out + b

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def build(self, x, y, mask, scale=None):
        """Symbolic pieces for ``x``, ``y`` (``y=None``: logits only) and ``mask``;
        ``scale`` (a scalar) multiplies the gradients, not the loss.

        Returns a dict with ``gathered`` (the ``(N, width)`` first-layer
        columns, which sparse updates differentiate), ``layers`` (per layer:
        ``pre`` ``(N, blocks*H)``, merged recurrent ``Wm``, state sequences
        ``(T, B, H)``), ``logits`` ``(N, C)``, ``loss`` (summed
        cross-entropy of the real tokens), ``step_loss`` (the same value,
        from the graph the update uses) and ``seed``: ``(logits, dlogits)``,
        the truncated BPTT cost's gradient with respect to the logits it is
        computed from (see :meth:`grads`).
        """
        model, cell, L, H, n = self.model, self.cell, self.L, self.H, self.n
        T, B = x.shape[0], x.shape[1]
        N = T * B
        width = self.blocks * H
        xflat = x.reshape((N,))
        gathered = gather_rows(self.table(), xflat, self.width0)
        gate = model.gate_activation
        # the engine's truncation is Theano's truncate_gradient ("scan"); the
        # "per_output" windows are recomputed from stop-gradient states
        truncate = self.k if self.truncation == "scan" else -1

        layers = []
        below = gathered
        for layer in range(L):
            pre = self.pre_activations(below, layer)
            Wm = cell.merged_recurrent(self.params, layer, L)
            inits = [pt.zeros((B, H), dtype=model.dtype) for _ in range(n)]
            states = run_layer(cell, gate, pre.reshape((T, B, width)), Wm, inits, mask,
                               truncate=truncate)
            below = states[0].reshape((N, H))
            layers.append(dict(pre=pre, Wm=Wm, states=states))
        logits = self.logits(below)
        out = dict(x=x, y=y, mask=mask, gathered=gathered, layers=layers, logits=logits,
                   T=T, B=B, N=N, xflat=xflat)
        if y is None:
            return out
        yflat = y.reshape((N,))
        weight = mask.reshape((N,))
        out["loss"] = pt.sum(self.xent(logits, yflat) * weight)
        grad_weight = weight if scale is None else weight * scale
        if self.truncation == "per_output":
            logits_w = self.logits(self.per_output_top(out))
            lp_w, dlogits = self.xent(logits_w, yflat, grad_weight, with_grad=True)
            # the same value as "loss" (the recomputed states equal the forward ones)
            out["step_loss"] = pt.sum(lp_w * weight)
            out["seed"] = (logits_w, dlogits)
            return out
        if self.truncation == "scan":
            # Theano's truncated scan gives the outputs before T - k no gradient
            keep = pt.ge(pt.arange(T), T - self.k).astype(model.dtype)
            keep = pt.broadcast_to(keep.dimshuffle(0, "x"), (T, B)).reshape((N,))
            grad_weight = grad_weight * keep
        lp, dlogits = self.xent(logits, yflat, grad_weight, with_grad=True)
        out["step_loss"] = pt.sum(lp * weight)
        out["seed"] = (logits, dlogits)
        return out

    def logits(self, top):
        """Unnormalised scores ``(N, C)`` of the ``(N, H)`` top states: one product."""
        p = self.params
        logits = pt.dot(top, p["V"].T)
        if "c" in p:
            logits = logits + p["c"]
        return logits

    def xent(self, logits, yflat, grad_weight=None, with_grad=False):
        """Per-position ``-log softmax(logits)[y]`` ``(N,)`` (unweighted) and,
        ``with_grad``, the logits' gradient ``grad_weight * (softmax - onehot(y))``.

        The C backend runs both in one NumPy pass (:class:`SoftmaxXent`):
        PyTensor's C reductions and ``exp`` are scalar loops, several times
        slower over a ``(N, C)`` block than NumPy's vectorised ones.  Other
        backends (and ``numpy_xent = False``) get the same formula as a graph.
        """
        if self.numpy_xent:
            if not with_grad:
                return SoftmaxXent(with_grad=False)(logits, yflat)
            return SoftmaxXent(with_grad=True)(logits, yflat, grad_weight)
        xs, lse = log_normaliser(logits)
        lp = lse[:, 0] - xs[pt.arange(yflat.shape[0]), yflat]
        if not with_grad:
            return lp
        return lp, xent_grad(xs, lse, yflat, grad_weight)

    def probs(self, logits):
        """Softmax of the logits (``forward_propagation``)."""
        xs, lse = log_normaliser(logits)
        return pt.exp(xs - lse)

    def per_output_top(self, g):
        """Top states recomputed over each output's window of ``k + 1`` steps
        from the stop-gradient state before it (:func:`~theano_rnn.graphs.faithful.per_output_cost`,
        all positions at once, masked), as ``(N, H)``."""
        cell, L, H, n, k = self.cell, self.L, self.H, self.n, self.k
        T, B, N, mask = g["T"], g["B"], g["N"], g["mask"]
        width = self.blocks * H
        start = pt.arange(T) - k
        first = pt.maximum(start, 0)
        windows = []
        for lay in g["layers"]:
            for s in lay["states"]:
                s = disconnected_grad(s)
                prev = pt.concatenate([pt.zeros_like(s[:1]), s[:-1]], axis=0)
                w = pt.switch(pt.ge(start, 0).dimshuffle(0, "x", "x"), prev[first], 0)
                windows.append(w.reshape((N, H)))
        pre0 = g["layers"][0]["pre"].reshape((T, B, width))
        Wms = [lay["Wm"] for lay in g["layers"]]
        gate = self.model.gate_activation
        for j in range(k + 1):
            pos = start + j
            at = pt.maximum(pos, 0)
            # a window step counts where it exists and is a token
            keep = pt.and_(pt.ge(pos, 0).dimshuffle(0, "x"), pt.neq(mask[at], 0)).reshape((N, 1))
            pre = pre0[at].reshape((N, width))
            new = []
            h = None
            for layer in range(L):
                if layer > 0:
                    pre = self.pre_activations(h, layer)
                own = windows[n * layer : n * (layer + 1)]
                st, h = cell.merged_step(pre, own, Wms[layer], gate)
                new.extend(st)
            windows = [pt.switch(keep, a, w) for a, w in zip(new, windows)]
        return windows[n * (L - 1)]

    # ------------------------------------------------------------------
    # gradients and updates
    # ------------------------------------------------------------------
    def grads(self, g, wrt):
        """Gradients of the truncated BPTT cost with respect to ``wrt``.

        Seeded with the logits' gradient ``softmax - onehot(y)`` (weighted by
        mask and truncation, :meth:`build`) written out: PyTensor would turn a
        derived log-softmax gradient into its ``Softmax`` op, which the C
        backend runs through a Python-level inner function.  PyTensor carries
        it through the output layer, each layer's engine op (whose gradient
        is the engine's whole-sequence BPTT, truncated as the layer was
        built), the input products and the gathers; "per_output" reaches no
        recurrence (its windows start from stop-gradient states).
        """
        logits, dlogits = g["seed"]
        return pytensor.grad(None, wrt, known_grads={logits: dlogits})

    def updates(self, g, lr, decay=None, uniq=None, inv=None):
        """Update pairs of one optimizer step (``decay`` given: RMSprop).

        The first-layer table is updated sparsely from the gradient of the
        gathered columns; RMSprop needs ``uniq`` (the distinct indices of
        ``x``, possibly padded with untouched ones) and ``inv`` (each
        position's row in ``uniq``).
        """
        model = self.model
        dense_names = [name for name in model.param_names if name != self.table_name]
        params = self.params
        grads = self.grads(g, [g["gathered"]] + [params[name] for name in dense_names])
        dg, dense_grads = grads[0], grads[1:]
        table_p = self.shared[self.table_name]
        tab = self.table(params[self.table_name])
        updates = OrderedDict()
        if decay is None:
            for name, gp in zip(dense_names, dense_grads):
                updates[self.shared[name]] = params[name] - lr * gp  # a Gemm for products
            updates[table_p] = self.untable(pt.inc_subtensor(tab[g["xflat"]], -lr * dg))
            return updates
        eps = 1e-6  # optim.rmsprop_tutorial's epsilon
        for name, gp in zip(dense_names, dense_grads):
            m = model._opt_state["m" + name]
            m_new = decay * self.var(m) + (1 - decay) * gp**2
            # g * (lr / ...), not lr * g / ...: PyTensor would fold lr into a
            # second copy of the gradient's product (Dot22Scalar)
            updates[self.shared[name]] = params[name] - gp * (lr / pt.sqrt(m_new + eps))
            updates[m] = m_new
        # the table: per-column summed gradient; the whole cache decays (the
        # dense formula where g = 0), the touched columns get the full formula
        m = model._opt_state["m" + self.table_name]
        gu = pt.inc_subtensor(pt.zeros((uniq.shape[0], self.width0), dtype=dg.dtype)[inv], dg)
        m_dec = self.table(decay * self.var(m))
        m_cols = gather_rows(m_dec, uniq, self.width0) + (1 - decay) * gu**2
        updates[m] = self.untable(pt.set_subtensor(m_dec[uniq], m_cols))
        p_cols = gather_rows(tab, uniq, self.width0) - lr * gu / pt.sqrt(m_cols + eps)
        updates[table_p] = self.untable(pt.set_subtensor(tab[uniq], p_cols))
        return updates

    # ------------------------------------------------------------------
    # compiled functions
    # ------------------------------------------------------------------
    def function(self, kind):
        """The compiled function ``kind`` (cached), on ``(T, B)`` blocks.

        ``probs``: ``(x, mask) -> (N, C)`` probabilities (row ``t * B + b``);
        ``classes``: ``(x, mask) -> (N,)`` argmax; ``loss``: ``(x, y, mask)
        -> loss``; ``grads``: ``(x, y, mask) -> dense gradients`` in
        ``bptt_names`` order; ``sgd``: ``(x, y, mask, lr, scale) -> loss``
        and the update; ``rmsprop``: ``(x, y, mask, lr, scale, decay, uniq,
        inv) -> loss`` and the update (``scale`` multiplies the gradient).
        With static shapes (JAX) one function is compiled per block shape
        (and RMSprop column count).
        """
        if not self.static_shapes:
            return self._fns.compiled(kind, lambda _shape: self._compile_now(kind, (None, None), None))

        def by_shape(*args):
            shape, columns = np.shape(args[0]), len(args[-2]) if kind == "rmsprop" else None
            return self._fns.compiled(
                f"{kind}/shape", lambda _key: self._compile_now(kind, shape, columns),
                (shape, columns),
            )(*args)

        return self._fns.compiled(kind, lambda _shape: by_shape)

    def _compile_now(self, kind, shape, columns):
        model = self.model
        x = pt.tensor("x", dtype="int32", shape=shape)
        y = None if kind in ("probs", "classes") else pt.tensor("y", dtype="int32", shape=shape)
        mask = pt.tensor("mask", dtype=model.dtype, shape=shape)
        scale = pt.scalar("scale", dtype=model.dtype) if kind in ("sgd", "rmsprop") else None
        g = self.build(x, y, mask, scale)
        inputs = [x] + ([] if y is None else [y]) + [mask]
        updates = None
        if kind == "probs":
            outputs = self.probs(g["logits"])
        elif kind == "classes":
            outputs = pt.argmax(g["logits"], axis=1)
        elif kind == "loss":
            outputs = g["loss"]
        elif kind == "grads":
            outputs = self.grads(g, [self.params[name] for name in model.bptt_names])
        elif kind in ("sgd", "rmsprop"):
            lr = pt.scalar("learning_rate", dtype=model.dtype)
            inputs.extend([lr, scale])
            outputs = g["step_loss"]
            if kind == "sgd":
                updates = self.updates(g, lr)
            else:
                decay = pt.scalar("decay", dtype=model.dtype)
                uniq = pt.tensor("uniq", dtype="int32", shape=(columns,))
                N = None if shape[0] is None else shape[0] * shape[1]
                inv = pt.tensor("inv", dtype="int32", shape=(N,))
                inputs.extend([decay, uniq, inv])
                updates = self.updates(g, lr, decay, uniq, inv)
        else:  # pragma: no cover - internal
            raise ValueError(kind)
        return model._function(inputs, outputs, updates=updates, name=f"fast_{kind}")

    def step(self, x, y, mask, learning_rate, decay=0.9, scale=1.0):
        """One optimizer step (the model's) on a checked block along ``scale``
        times the summed loss's gradient; returns the summed loss."""
        if self.model.optimizer == "sgd":
            return float(self.function("sgd")(x, y, mask, learning_rate, scale))
        check_decay(decay)  # the training loops' check: (0, 1), one-line error
        pad_to = x.size if self.static_shapes else None
        uniq, inv = unique_columns(x, self.C, pad_to=pad_to)
        fn = self.function("rmsprop")
        return float(fn(x, y, mask, learning_rate, scale, decay, uniq, inv))

    # ------------------------------------------------------------------
    # the tutorial surface on one sentence
    # ------------------------------------------------------------------
    def sentence_method(self, name):
        """The per-sentence method ``name`` of the model on the fast graph
        (:func:`theano_rnn.graphs.sentence.sentence_method`)."""
        return sentence.sentence_method(self, name)

    # ------------------------------------------------------------------
    # batches
    # ------------------------------------------------------------------
    def check_batch(self, x, y, mask):
        """``(x, y, mask)`` as int32, int32, float arrays of one ``(T, B)``
        shape with indices in ``[0, C)``; ``ValueError`` otherwise."""
        x, y = np.asarray(x), np.asarray(y)
        mask = np.asarray(mask, dtype=self.model.dtype)
        if x.ndim != 2 or x.shape != y.shape or x.shape != mask.shape:
            raise ValueError(
                f"x, y and mask must be (T, B) arrays of one shape, got {x.shape}, "
                f"{y.shape}, {mask.shape}"
            )
        if x.size == 0:
            raise ValueError("empty batch")
        for name, a in (("x", x), ("y", y)):
            if a.dtype.kind not in "iu":
                raise ValueError(f"{name} must hold integer indices, got {a.dtype}")
            if a.min() < 0 or a.max() >= self.C:
                raise ValueError(f"{name} holds an index outside [0, {self.C})")
        return x.astype(np.int32, copy=False), y.astype(np.int32, copy=False), mask

    def batch_loss(self, x, y, mask):
        return float(self.function("loss")(*self.check_batch(x, y, mask)))

    def batch_grads(self, x, y, mask):
        return self.function("grads")(*self.check_batch(x, y, mask))

    def batch_step(self, x, y, mask, learning_rate, decay=0.9, scale=1.0):
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive finite number, got {scale}")
        return self.step(*self.check_batch(x, y, mask), learning_rate, decay, scale)

    def total_loss(self, X, Y):
        """Sum of the sentences' cross-entropies through length-sorted padded
        batches (empty sentences contribute 0)."""
        fn = self.function("loss")
        total = 0.0
        for idx in sentence_batches([len(x) for x in X], self.C):
            x, y, mask = pad_batch([X[i] for i in idx], [Y[i] for i in idx], dtype=self.model.dtype)
            total += float(fn(x, y, mask))
        return total


