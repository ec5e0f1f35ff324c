"""Row gathers with a cheap gradient: :class:`TakeRows` and its gradient :class:`AddRows`.

``TakeRows()(table, idx)`` is ``table[idx]`` for a ``(C, K)`` table and int
indices ``(N,)`` -- what PyTensor's ``AdvancedSubtensor1`` computes -- but
its gradient is one :class:`AddRows` node, a scatter-add of the ``(N, K)``
output gradient into ``(C, K)`` zeros run by a small cached numba loop.
PyTensor's own gradient of the gather, ``AdvancedIncSubtensor1``, runs
NumPy's ``np.add.at`` from Python on the C backend, about ten times slower
on a char-rnn batch (2,500 rows of 512).  Both add the rows in index
order, so the numbers are the same as ``np.add.at``'s.

For the C and Python backends (the ops' ``perform``); graphs for other
backends keep ``table[idx]``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import grad_undefined
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

__all__ = ["TakeRows", "AddRows", "take_rows"]


@functools.lru_cache(maxsize=None)
def _add_rows_kernel():
    import numba  # first use only

    @numba.njit(cache=True, nogil=True)
    def add_rows(out, idx, d):  # pragma: no cover - compiled
        K = d.shape[1]
        for n in range(idx.shape[0]):
            r = idx[n]
            for k in range(K):
                out[r, k] += d[n, k]

    return add_rows


class TakeRows(Op):
    """``table[idx]``: rows of a ``(C, K)`` table; gradient :class:`AddRows`."""

    __props__ = ()

    def make_node(self, table, idx):
        table = pt.as_tensor_variable(table)
        idx = pt.as_tensor_variable(idx)
        if table.ndim != 2 or idx.ndim != 1 or not idx.dtype.startswith("int"):
            raise TypeError("TakeRows needs a 2-d table and 1-d integer indices")
        shape = (idx.type.shape[0], table.type.shape[1])
        return Apply(self, [table, idx], [pt.matrix(dtype=table.dtype, shape=shape)])

    def perform(self, node, inputs, output_storage):
        table, idx = inputs
        output_storage[0][0] = np.take(table, idx, axis=0)

    def infer_shape(self, fgraph, node, shapes):
        return [(shapes[1][0], shapes[0][1])]

    def pullback(self, inputs, outputs, output_grads):
        table, idx = inputs
        return [AddRows()(output_grads[0], idx, table.shape[0]),
                grad_undefined(self, 1, idx, "integer indices have no gradient")]


class AddRows(Op):
    """``out = zeros((rows, K)); out[idx[n]] += d[n]`` for every ``n`` in order."""

    __props__ = ()

    def make_node(self, d, idx, rows):
        d = pt.as_tensor_variable(d)
        idx = pt.as_tensor_variable(idx)
        rows = pt.as_tensor_variable(rows)
        return Apply(self, [d, idx, rows], [pt.matrix(dtype=d.dtype, shape=(None, d.type.shape[1]))])

    def perform(self, node, inputs, output_storage):
        d, idx, rows = inputs
        out = np.zeros((int(rows), d.shape[1]), dtype=d.dtype)
        _add_rows_kernel()(out, np.ascontiguousarray(idx, dtype=np.int64), np.ascontiguousarray(d))
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, shapes):
        return [(node.inputs[2], shapes[0][1])]

    def pullback(self, inputs, outputs, output_grads):
        raise NotImplementedError("AddRows has no gradient (it is one)")


def take_rows(table, idx, numpy_ops=True):
    """``table[idx]`` through :class:`TakeRows` (``numpy_ops``) or PyTensor's gather."""
    if numpy_ops:
        return TakeRows()(table, idx)
    # the first index repeated and its row sliced off: with one index PyTensor
    # 3.0's AdvancedIncSubtensor1 (the gradient) trips its runtime-broadcast
    # check (see models/bidir.py); with >= 2 it never applies
    idx = pt.as_tensor_variable(idx)
    return pt.as_tensor_variable(table)[pt.concatenate([idx[:1], idx])][1:]
