"""The fast graph's loss and gather ops: a stable softmax cross-entropy in NumPy, row gathers.

On the C backend the stable log-softmax, the loss and the logits' gradient
``softmax - onehot(y)`` are one NumPy pass (:class:`SoftmaxXent`; PyTensor's
C ``exp`` and reductions are scalar loops, and its ``Softmax`` op runs a
Python-level inner function there); other backends get the same formula as
a graph (:func:`log_normaliser`, :func:`xent_grad`).
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

__all__ = ["gather_rows", "log_normaliser", "xent_grad", "SoftmaxXent"]


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
    pass over the block, stable for any logits; a label outside ``[0, C)``
    raises ``IndexError``.  Not differentiable: the
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
        if len(y) and (y.min() < 0 or y.max() >= logits.shape[1]):  # -1 would wrap silently
            raise IndexError(
                f"SoftmaxXent: a label is outside [0, {logits.shape[1]}) (the number of classes)"
            )
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
