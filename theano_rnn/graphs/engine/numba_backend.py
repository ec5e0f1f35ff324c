"""The engine ops on PyTensor's Numba backend: the same numba kernels, in the graph.

:func:`register` adds ``numba_funcify`` implementations for
:class:`~.ops.SequenceOp` and :class:`~.ops.SequenceGradOp` (PyTensor's
documented extension point; the cache key is the op's props), so a Numba
function calls the kernels of :mod:`.kernels` directly, without a trip
through Python.  Called by the hook :mod:`theano_rnn.graphs.engine` installs
for the NUMBA mode; safe to call again.
"""

from __future__ import annotations

from pytensor.link.numba.dispatch.basic import (
    numba_njit,
    register_funcify_default_op_cache_key,
)

from theano_rnn.graphs.engine.kernels import KERNELS
from theano_rnn.graphs.engine.ops import SequenceGradOp, SequenceOp

__all__ = ["register"]

#: bump when the kernels' calling convention changes (part of the cache key)
VERSION = 1

_done = []


def _forward(op):
    fwd = KERNELS[op.kind][0]
    gate, backwards = op.gate_id, op.backwards
    if op.kind == "rnn":
        @numba_njit
        def rnn_sequence(pre, Wm, h0, mask):
            return fwd(pre, Wm, h0, mask, backwards)

        return rnn_sequence
    if op.kind == "gru":
        @numba_njit
        def gru_sequence(pre, Wm, h0, mask):
            return fwd(pre, Wm, h0, mask, gate, backwards)

        return gru_sequence

    @numba_njit
    def lstm_sequence(pre, Wm, h0, c0, mask):
        return fwd(pre, Wm, h0, c0, mask, gate, backwards)

    return lstm_sequence


def _backward(op):
    bwd = KERNELS[op.kind][1]
    gate, backwards, truncate = op.gate_id, op.backwards, op.truncate
    if op.kind == "rnn":
        @numba_njit
        def rnn_sequence_grad(Wm, h0, mask, hs, dhs):
            return bwd(Wm, h0, mask, hs, dhs, backwards, truncate)

        return rnn_sequence_grad
    if op.kind == "gru":
        @numba_njit
        def gru_sequence_grad(Wm, h0, mask, hs, saved, dhs):
            return bwd(Wm, h0, mask, hs, saved, dhs, gate, backwards, truncate)

        return gru_sequence_grad

    @numba_njit
    def lstm_sequence_grad(Wm, h0, c0, mask, hs, cs, saved, dhs, dcs):
        return bwd(Wm, h0, c0, mask, hs, cs, saved, dhs, dcs, gate, backwards, truncate)

    return lstm_sequence_grad


def register():
    """Register the ops' Numba implementations (once)."""
    if _done:
        return

    @register_funcify_default_op_cache_key(SequenceOp)
    def numba_funcify_SequenceOp(op, node=None, **kwargs):
        return _forward(op), VERSION

    @register_funcify_default_op_cache_key(SequenceGradOp)
    def numba_funcify_SequenceGradOp(op, node=None, **kwargs):
        return _backward(op), VERSION

    _done.append(True)
