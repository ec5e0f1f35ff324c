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
  is one product over the full state sequence of the layer below (one
  ``scan`` per layer, as :mod:`theano_rnn.models.char` does);
* **one merged recurrent product per step** inside each layer's scan
  (:meth:`Cell.merged_step`; the GRU's candidate needs a second, smaller one);
* **output, softmax and loss hoisted out of the scan**: the stacked top
  states ``(T*B, H)`` meet ``V.T`` in one product; on the C backend the
  stable log-softmax, the loss and the logits' gradient ``softmax -
  onehot(y)`` are one NumPy pass (:class:`SoftmaxXent`; PyTensor's C
  ``exp`` and reductions are scalar loops, and its ``Softmax`` op runs a
  Python-level inner function there);
* **hand-derived back-propagation through time**: PyTensor differentiates
  everything outside the recurrences, but each layer's recurrence is
  reversed by a scan of its own (:meth:`FastGraph.layer_backward`) that
  holds only the recurrent products -- the gate values are recomputed for
  the whole sequence at once, and the recurrent matrix's gradient is one
  product after the loop.  PyTensor's own scan gradient would recompute the
  gates and accumulate that matrix step by step inside the loop;
* **sparse first-layer updates**: training steps take the gradient with
  respect to the gathered ``(T*B, width)`` block, not the ``(H, C)`` table,
  and update only the touched columns (``inc_subtensor``; duplicates
  accumulate).  RMSprop decays the whole cache (``m = decay * m``, exactly
  what the dense formula does where the gradient is 0) and sets the touched
  columns from the per-column summed gradient, so the update equals the
  dense one.

Batches are time-major ``(T, B)`` int32 blocks with a float mask (1 = token,
0 = padding), **left padded**: sequences end at the last row, so a truncated
scan ("only the last k steps") still sees the last k real tokens of every
sequence.  A masked step keeps the previous state exactly
(``switch(mask, new, prev)``), so leading padding leaves the zero initial
state untouched, and masked positions add exactly 0 to the loss and to every
gradient.  :func:`pad_batch` builds such blocks.  One sentence is the
``(T, 1)`` block with a mask of ones.

Truncation
    ``"scan"`` (Theano's ``truncate_gradient=k``): the reverse scans run
    over the last ``k`` steps only, and the hoisted loss of the positions
    before ``T - k`` gets no gradient (weight 0 in the logits' gradient,
    same value), which is what Theano's truncated scan did to outputs
    computed inside the loop.
    ``"per_output"``: the faithful graph's window recomputation
    (``models._per_output_cost``) on the merged, precomputed inputs, with the
    mask; the step's loss is taken from the recomputed top states.

Every number equals the faithful graph's to float64 round-off (tests:
``tests/test_fastgraph.py``, <= 1e-10 relative).
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from theano_rnn.compat import scan
from theano_rnn.data.batching import pad_pairs
from theano_rnn.optim import check_decay

__all__ = ["GRAPHS", "pad_batch", "bucket_length", "FastGraph"]

log = logging.getLogger(__name__)

GRAPHS = ("faithful", "fast")

#: logits elements per chunk when ``calculate_total_loss`` batches sentences
LOSS_CHUNK_ELEMENTS = 1 << 22


def bucket_length(n, multiple):
    """``n`` rounded up to a multiple of ``multiple`` (at least ``multiple``)."""
    multiple = int(multiple)
    if multiple < 1:
        raise ValueError(f"bucket multiple must be a positive integer, got {multiple}")
    return max(1, -(-int(n) // multiple)) * multiple


def pad_batch(X, Y, length=None, multiple=None, dtype=None):
    """Left-pad sentences into a time-major batch.

    Args:
        X, Y: sequences of equally long integer sequences (inputs, targets).
        length: force ``T`` (``ValueError`` if a sentence is longer).
        multiple: round ``T`` up to a multiple of this (length buckets, for
            backends that need static shapes).
        dtype: the mask's dtype (default ``pytensor.config.floatX``).
    Returns ``(x, y, mask)``: int32 ``(T, B)``, int32 ``(T, B)`` and a float
    ``(T, B)`` mask, 1 on the tokens, 0 on the padding; sentence ``b`` fills
    rows ``T - len(X[b]) .. T - 1`` of column ``b`` (right-aligned).
    """
    return pad_pairs(X, Y, "left", length=length, multiple=multiple,
                     dtype=dtype or pytensor.config.floatX)


def sentence_batches(lengths, word_dim, elements=LOSS_CHUNK_ELEMENTS):
    """Index lists grouping sentences of similar length (sorted by length)
    so that each batch's padded logits, ``T * B * word_dim``, stay within
    ``elements`` (one sentence at least).  Empty sentences are left out."""
    order = sorted((i for i, n in enumerate(lengths) if n > 0), key=lambda i: lengths[i])
    batches, current, longest = [], [], 0
    for i in order:
        n = lengths[i]
        if current and max(longest, n) * (len(current) + 1) * word_dim > elements:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    return batches


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
        self.table_name = {"rnn": "U"}.get(self.cell.name) or (
            "E" if model.input_mode == "embedding" else "Ux"
        )
        #: width of the first layer's gathered columns
        self.width0 = self.blocks * self.H if self.table_name == "Ux" else self.H
        #: softmax cross-entropy through NumPy (:class:`SoftmaxXent`) on the
        #: C / Python backends; set False before compiling to use the graph
        self.numpy_xent = model.mode in ("C", "PY")
        #: compile per input shape (JAX needs static shapes)
        self.static_shapes = model.mode == "JAX"
        self._fns = {}
        self._static_vars = {}

    # ------------------------------------------------------------------
    # layout helpers
    # ------------------------------------------------------------------
    def var(self, shared):
        """``shared`` as used in the graphs: with its static shape for JAX
        (so every slice and reshape of a parameter has a constant shape)."""
        if not self.static_shapes:
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
        p, b, H = self.params, self.blocks, self.H
        if self.cell.name == "rnn":
            return None if layer == 0 else p["Ud"][layer - 1]
        if layer == 0 and self.table_name == "Ux":
            return None
        base = b * (layer - 1 if self.table_name == "Ux" else layer)
        return p["U"][base : base + b].reshape((b * H, H))

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
        ``(T, B, H)``, and ``cut``, the top state sequence ``(N, H)`` behind
        a gradient cut), ``logits`` ``(N, C)``, ``loss`` (summed
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
        mask3 = mask.dimshuffle(0, 1, "x")
        gate = model.gate_activation

        def step(pre_t, m_t, *rest):
            prev = list(rest[:n])
            new, _ = cell.merged_step(pre_t, prev, rest[n], gate)
            # a masked (padding) step keeps the previous state exactly
            return [pt.switch(m_t, a, b) for a, b in zip(new, prev)]

        layers = []
        below = gathered
        for layer in range(L):
            pre = self.pre_activations(below, layer)
            Wm = cell.merged_recurrent(self.params, layer, L)
            outs, _ = scan(
                step,
                sequences=[pre.reshape((T, B, width)), mask3],
                outputs_info=[pt.zeros((B, H), dtype=model.dtype) for _ in range(n)],
                non_sequences=[Wm],
                strict=True,
                name=f"fast_layer{layer}",
            )
            outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
            # the recurrences are back-propagated by hand (grads()): nothing
            # downstream differentiates into the scan
            below = disconnected_grad(outs[0].reshape((N, H)))
            layers.append(dict(pre=pre, Wm=Wm, states=outs, cut=below))
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
        from the stop-gradient state before it (``models._per_output_cost``,
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
        mask and truncation) written out: PyTensor would turn a derived
        log-softmax gradient into its ``Softmax`` op, which the C backend
        runs through a Python-level inner function.  PyTensor differentiates
        everything outside the recurrences (output, input products, gathers,
        parameter slices); :meth:`layer_backward` goes through each layer's
        recurrence by hand, top layer first.  Truncation "per_output" needs
        no recurrence: its windows are recomputed from stop-gradient states.
        """
        logits, dlogits = g["seed"]
        known = {logits: dlogits}
        if self.truncation == "per_output":
            return pytensor.grad(None, wrt, known_grads=known)
        T, B, N, H, layers = g["T"], g["B"], g["N"], self.H, g["layers"]
        dh = pytensor.grad(None, [layers[-1]["cut"]], known_grads=known)[0]
        for layer in reversed(range(self.L)):
            lay = layers[layer]
            da, dWm = self.layer_backward(lay, dh.reshape((T, B, H)), g["mask"], T, B)
            known[lay["pre"]] = da.reshape((N, self.blocks * H))
            known[lay["Wm"]] = dWm
            if layer > 0:
                below = layers[layer - 1]["cut"]
                dh = pytensor.grad(None, [below], known_grads={lay["pre"]: known[lay["pre"]]})[0]
        return pytensor.grad(None, wrt, known_grads=known)

    def layer_backward(self, lay, dh, mask, T, B):
        """Back-propagation through one layer's recurrence, by hand.

        ``dh`` ``(T, B, H)``: the loss's gradient with respect to the layer's
        output sequence (from the output or the layer above).  Returns the
        gradients of the merged pre-activations ``(T, B, blocks*H)`` (which
        PyTensor then carries into the input side) and of the merged
        recurrent matrix ``Wm``.  The gates are recomputed for the whole
        sequence at once, so the reverse scan holds only the recurrent
        products; ``Wm``'s gradient is one product after it.  Truncation
        "scan" runs the reverse scan over the last ``k`` steps only, as
        Theano's ``truncate_gradient`` does.
        """
        H, width = self.H, self.blocks * self.H
        Wm = lay["Wm"]
        back = BACKWARD[self.cell.name](self.cell, self.model.gate_activation, H)
        prev = [pt.concatenate([pt.zeros_like(s[:1]), s[:-1]], axis=0) for s in lay["states"]]
        factors = back.factors(lay["pre"].reshape((T, B, width)), lay["states"], prev, Wm)
        start = pt.maximum(T - self.k, 0) if self.truncation == "scan" else 0
        seqs = [v[start:][::-1] for v in [dh, mask.dimshuffle(0, 1, "x")] + factors]
        nf = len(factors)

        def step(dh_t, m_t, *rest):
            return back.step(dh_t, m_t, rest[:nf], rest[nf:-1], rest[-1])

        outs, _ = scan(
            step,
            sequences=seqs,
            outputs_info=[None] + [pt.zeros((B, H), dtype=dh.dtype) for _ in range(back.carries)],
            non_sequences=[Wm],
            strict=True,
            name="fast_backward",
        )
        da = outs[0][::-1]
        if self.truncation == "scan":
            da = pt.concatenate([pt.zeros((start, B, width), dtype=da.dtype), da], axis=0)
        flat_prev = [p.reshape((T * B, H)) for p in prev]
        return da, back.grad_Wm(da.reshape((T * B, width)), flat_prev, factors)

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
        if kind in self._fns:
            return self._fns[kind]
        if not self.static_shapes:
            self._fns[kind] = self._compile(kind)
            return self._fns[kind]
        compiled = {}

        def by_shape(*args):
            shape = (np.shape(args[0]), len(args[-2]) if kind == "rmsprop" else None)
            if shape not in compiled:
                log.debug("fast graph: compiling %s for shape %s", kind, shape)
                compiled[shape] = self._compile(kind, *shape)
            return compiled[shape](*args)

        self._fns[kind] = by_shape
        return by_shape

    def _compile(self, kind, shape=(None, None), columns=None):
        # built under the model's float type, whatever floatX is now
        with pytensor.config.change_flags(floatX=self.model.dtype):
            return self._compile_now(kind, shape, columns)

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
        """The per-sentence method ``name`` of the model on the fast graph.

        The sentence is the ``(T, 1)`` block with a mask of ones; with
        ``model._padded`` (the JAX backend, which needs static shapes, or
        ``model._pad_to_bucket``) it is left-padded to a multiple of
        ``model.jax_bucket`` first, and only the real positions are returned.
        """
        model = self.model
        bucket = model.jax_bucket if model._padded else None

        def block(x, y=None):
            x = np.asarray(x, dtype=np.int32)
            if x.ndim != 1 or x.size == 0:
                raise ValueError(
                    f"{name}: x must be a non-empty index sequence, got shape {x.shape}"
                )
            if bucket is None:
                xb = x[:, None]
                yb = None if y is None else np.asarray(y, dtype=np.int32)[:, None]
                return xb, yb, np.ones(xb.shape, dtype=model.dtype), len(x)
            xb, yb, mb = pad_batch([x], [x if y is None else y], multiple=bucket, dtype=model.dtype)
            return xb, yb, mb, len(x)

        if name in ("forward_propagation", "predict_class"):
            fn = self.function("probs" if name == "forward_propagation" else "classes")

            def method(x):
                xb, _, mb, T = block(x)
                return fn(xb, mb)[len(xb) - T :]

        elif name in ("ce_error", "bptt"):
            fn = self.function("loss" if name == "ce_error" else "grads")

            def method(x, y):
                xb, yb, mb, _ = block(x, y)
                return fn(xb, yb, mb)

        elif name == "sgd_step" and model.optimizer == "sgd":
            fn = self.function("sgd")

            def method(x, y, learning_rate):
                xb, yb, mb, _ = block(x, y)
                return self.step(xb, yb, mb, learning_rate)

        elif name == "sgd_step":
            fn = self.function("rmsprop")

            def method(x, y, learning_rate, decay=0.9):
                xb, yb, mb, _ = block(x, y)
                return self.step(xb, yb, mb, learning_rate, decay)

        else:  # pragma: no cover - internal
            raise ValueError(name)
        method.__name__ = name
        method.fn = fn  # the compiled function (a per-shape dispatcher under JAX)
        return method

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


def gather_rows(view, idx, width):
    """``view[idx]`` for a ``(rows, width)`` view, as a 2-d advanced index.

    PyTensor's ``AdvancedSubtensor1`` first copies a non-contiguous input
    whole (NumPy's ``take``); on the transposed ``(C, H)`` view of a
    ``(H, C)`` table that is a copy of the table per step.  Indexing both
    axes gathers just the rows.
    """
    return view[idx.dimshuffle(0, "x"), pt.arange(width).dimshuffle("x", 0)]


def log_normaliser(logits):
    """``(logits - max, log-sum-exp of that)``: a stable log-softmax in two parts."""
    xs = logits - pt.max(logits, axis=1, keepdims=True)
    return xs, pt.log(pt.sum(pt.exp(xs), axis=1, keepdims=True))


def xent_grad(xs, lse, yflat, weight):
    """Gradient of ``sum(weight * -log softmax[y])`` w.r.t. the logits:
    ``weight * (softmax - onehot(y))``."""
    probs = pt.exp(xs - lse)  # no exp/sum division: PyTensor would make it its Softmax op
    rows = pt.arange(yflat.shape[0])
    return pt.inc_subtensor((probs * weight.dimshuffle(0, "x"))[rows, yflat], -weight)


class SoftmaxXent(Op):
    """``lp = -log softmax(logits)[y]`` per row and (``with_grad``)
    ``dlogits = weight * (softmax(logits) - onehot(y))``, in NumPy.

    Inputs ``logits`` ``(N, C)``, int ``y`` ``(N,)`` and (``with_grad``)
    ``weight`` ``(N,)``.  One max, one ``exp`` (in place) and one scaling
    pass over the block, stable for any logits.  Not differentiable: the
    fast graph injects ``dlogits`` as the logits' known gradient.
    """

    __props__ = ("with_grad",)

    def __init__(self, with_grad=True):
        self.with_grad = bool(with_grad)

    def make_node(self, logits, y, weight=None):  # weight: with_grad only
        logits = pt.as_tensor_variable(logits)
        y = pt.as_tensor_variable(y)
        inputs = [logits, y]
        outputs = [pt.vector(dtype=logits.dtype)]
        if self.with_grad:
            inputs.append(pt.as_tensor_variable(weight).astype(logits.dtype))
            outputs.append(logits.type())
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        logits, y = inputs[0], inputs[1]
        rows = np.arange(len(y))
        m = logits.max(axis=1, keepdims=True)
        e = np.subtract(logits, m)
        np.exp(e, out=e)
        s = e.sum(axis=1)
        # -log(e_y / s) = log(s) + m - logit_y
        lp = np.log(s) + m[:, 0] - logits[rows, y]
        output_storage[0][0] = np.asarray(lp, dtype=logits.dtype)
        if self.with_grad:
            w = inputs[2]
            e *= (w / s)[:, None]
            e[rows, y] -= w
            output_storage[1][0] = e

    def infer_shape(self, fgraph, node, shapes):
        out = [(shapes[0][0],)]
        if self.with_grad:
            out.append(shapes[0])
        return out

    def L_op(self, inputs, outputs, output_grads):
        raise NotImplementedError(
            "SoftmaxXent is not differentiable; pass its dlogits as known_grads"
        )


def _masked(total, m_t):
    """Switch's gradient: ``(to the new state, to the kept previous state)``."""
    return total * m_t, total * (1 - m_t)


def _gate_slope(gate, a):
    """Elementwise derivative of the gate activation at ``a`` (PyTensor's own
    gradient of it, so Theano's ``hard_sigmoid`` boundaries carry over)."""
    return pytensor.grad(pt.sum(gate(a)), a)


class _RNNBackward:
    """``s = tanh(pre + s_prev Wm^T)``: ``da = dn (1 - s^2)``,
    ``ds_prev = da Wm``, ``dWm = da^T s_prev``."""

    carries = 1

    def __init__(self, cell, gate, H):
        self.H = H

    def factors(self, pre, states, prev, Wm):
        s = states[0]
        return [1 - s**2]

    def step(self, dh_t, m_t, facts, carry, Wm):
        dn, keep = _masked(dh_t + carry[0], m_t)
        da = dn * facts[0]
        return [da, pt.dot(da, Wm) + keep]

    def grad_Wm(self, da, prev, factors):
        return pt.dot(da.T, prev[0])


class _GatedBackward:
    """Shared by the gated cells' hand-written backward passes: the gate
    activation ``g`` and the hidden size."""

    def __init__(self, cell, gate, H):
        self.g = cell.gate(gate)
        self.H = H


class _GRUBackward(_GatedBackward):
    """The GRU of :meth:`Cell.merged_step`, differentiated by hand:
    ``zr = g(pre_zr + s_prev Wzr^T)``, ``h = tanh(pre_h + (s_prev r) Wh^T)``,
    ``s = (1 - z) h + z s_prev``."""

    carries = 1

    def factors(self, pre, states, prev, Wm):
        H = self.H
        s_prev = prev[0]
        a_zr = pre[..., : 2 * H] + pt.dot(s_prev, Wm[: 2 * H].T)
        zr = self.g(a_zr)
        slope = _gate_slope(self.g, a_zr)
        z, r = zr[..., :H], zr[..., H:]
        h = pt.tanh(pre[..., 2 * H :] + pt.dot(s_prev * r, Wm[2 * H :].T))
        # d(s)/d(a_h), d(s)/d(a_z); d(s_prev r)/d(a_r) per unit of d(s_prev r)
        return [(1 - z) * (1 - h**2), (s_prev - h) * slope[..., :H], s_prev * slope[..., H:], z, r]

    def step(self, dh_t, m_t, facts, carry, Wm):
        H = self.H
        f_h, f_z, f_r, z, r = facts
        dn, keep = _masked(dh_t + carry[0], m_t)
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


class _LSTMBackward(_GatedBackward):
    """The LSTM of :meth:`Cell.merged_step`: ``a = pre + h_prev Wm^T``;
    ``i, f, o = g(a)``, ``u = tanh(a)`` (blocks in that order);
    ``c = f c_prev + i u``, ``h = o tanh(c)``.  Carries ``(dh, dc)``."""

    carries = 2

    def factors(self, pre, states, prev, Wm):
        H = self.H
        h_prev, c_prev = prev
        a = pre + pt.dot(h_prev, Wm.T)
        a_ifo = a[..., : 3 * H]
        ifo = self.g(a_ifo)
        slope = _gate_slope(self.g, a_ifo)
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
        dn_h, keep_h = _masked(dh_t + carry[0], m_t)
        dn_c, keep_c = _masked(carry[1], m_t)
        dc = dn_c + dn_h * f_c
        da = pt.concatenate([dc * f_i, dc * f_f, dn_h * f_o, dc * f_u], axis=-1)
        return [da, pt.dot(da, Wm) + keep_h, dc * f + keep_c]

    def grad_Wm(self, da, prev, factors):
        return pt.dot(da.T, prev[0])


BACKWARD = {"rnn": _RNNBackward, "gru": _GRUBackward, "lstm": _LSTMBackward}


def unique_columns(x, word_dim, pad_to=None):
    """``(uniq, inv)`` for RMSprop's sparse update of a token block ``x``.

    ``pad_to`` (static shapes) extends ``uniq`` with distinct *untouched*
    columns up to ``min(pad_to, word_dim)`` entries; their gradient is 0, so
    their update is the dense formula's (cache decays, parameter unchanged).
    """
    flat = np.asarray(x, dtype=np.int32).reshape(-1)
    uniq, inv = np.unique(flat, return_inverse=True)
    if pad_to is not None:
        want = min(int(pad_to), int(word_dim))
        if len(uniq) < want:
            spare = np.setdiff1d(np.arange(word_dim, dtype=uniq.dtype), uniq, assume_unique=True)
            uniq = np.concatenate([uniq, spare[: want - len(uniq)]])
    return uniq.astype(np.int32), inv.reshape(-1).astype(np.int32)
