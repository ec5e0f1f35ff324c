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
VERSION = 2

_done = []


@numba_njit
def _runtime(value, arr):
    """``value`` as a run-time integer (not a literal: the kernels then reuse
    the compilation that the C backend's calls made, instead of compiling one
    per constant)."""
    return arr.shape[0] * 0 + value


def _forward(op):
    fwd = KERNELS[op.kind][0]
    gate, backwards = op.gate_id, int(op.backwards)
    if op.kind == "rnn":
        @numba_njit
        def rnn_sequence(pre, Wm, h0, mask):
            return fwd(pre, Wm, h0, mask, _runtime(backwards, pre) != 0)

        return rnn_sequence
    if op.kind == "gru":
        @numba_njit
        def gru_sequence(pre, Wm, h0, mask):
            return fwd(pre, Wm, h0, mask, _runtime(gate, pre), _runtime(backwards, pre) != 0)

        return gru_sequence

    @numba_njit
    def lstm_sequence(pre, Wm, h0, c0, mask):
        return fwd(pre, Wm, h0, c0, mask, _runtime(gate, pre), _runtime(backwards, pre) != 0)

    return lstm_sequence


def _backward(op):
    bwd = KERNELS[op.kind][1]
    gate, backwards, truncate = op.gate_id, int(op.backwards), op.truncate
    if op.kind == "rnn":
        @numba_njit
        def rnn_sequence_grad(Wm, h0, mask, hs, dhs):
            return bwd(Wm, h0, mask, hs, dhs, _runtime(backwards, hs) != 0,
                       _runtime(truncate, hs))

        return rnn_sequence_grad
    if op.kind == "gru":
        @numba_njit
        def gru_sequence_grad(Wm, h0, mask, hs, saved, dhs):
            return bwd(Wm, h0, mask, hs, saved, dhs, _runtime(gate, hs),
                       _runtime(backwards, hs) != 0, _runtime(truncate, hs))

        return gru_sequence_grad

    @numba_njit
    def lstm_sequence_grad(Wm, h0, c0, mask, hs, cs, saved, dhs, dcs):
        return bwd(Wm, h0, c0, mask, hs, cs, saved, dhs, dcs, _runtime(gate, hs),
                   _runtime(backwards, hs) != 0, _runtime(truncate, hs))

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
