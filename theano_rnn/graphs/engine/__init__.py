"""The fused recurrent engine: one sequence op per cell kind, forward + backward.

A layer's whole recurrence is one op, :class:`~.ops.SequenceOp` (one call
per sequence, not a ``scan`` of small ops), whose gradient is a second op,
:class:`~.ops.SequenceGradOp`, running the cell's hand-derived BPTT over the
whole sequence in one call (equations in each kernel module,
:mod:`.kernels_rnn`, :mod:`.kernels_gru`, :mod:`.kernels_lstm`); the
rest of a graph (input products, output layer, loss) stays ordinary
PyTensor, so ``pytensor.grad`` works through it.  Kinds, equations and
outputs: :mod:`.spec`.

Call it through :func:`run_layer`::

    hs, = run_layer("rnn", None, pre, Wm, [h0], mask)
    hs, cs = run_layer(LSTM, "sigmoid", pre, Wm, [h0, c0], mask, truncate=4)

Backends (same numbers): the C backend (and ``PY``) run the op's
``perform``, which calls a cached numba kernel (:mod:`.kernels`) once per
sequence; ``NUMBA`` compiles the same kernels into its graph
(:mod:`.numba_backend`); ``JAX`` runs ``lax.scan`` versions
(:mod:`.jax_backend`).  The Numba and JAX registrations happen when
:func:`theano_rnn.runtime.modes.get_mode` first builds that mode (jax is
never imported before); :func:`register_backends` does it now, for modes
built elsewhere.
"""

from __future__ import annotations

import functools

import pytensor.tensor as pt

from theano_rnn.cells.base import Cell
from theano_rnn.cells.registry import get_cell
from theano_rnn.graphs.engine.ops import SequenceGradOp, SequenceOp
from theano_rnn.graphs.engine.scan_path import scan_layer
from theano_rnn.graphs.engine.spec import KINDS, spec_of
from theano_rnn.runtime.modes import on_backend_first_use

__all__ = [
    "run_layer", "scan_layer", "kernel_of", "has_kernel", "sequence_op", "register_backends",
    "SequenceOp", "SequenceGradOp", "KINDS",
]


def kernel_of(cell):
    """The engine kernel kind (``"rnn"``, ``"gru"``, ``"lstm"``) of ``cell``, or ``None``.

    A :class:`~theano_rnn.cells.base.Cell` declares its kernel with a class
    attribute ``engine_kernel`` in its own class body; it is not inherited,
    so a subclass with other equations (e.g. a ReLU RNN deriving from
    ``RNNCell``) has none until it declares one.  A kind's name is accepted
    as itself.
    """
    if isinstance(cell, str):
        return spec_of(cell).kind
    if not isinstance(cell, Cell):
        raise TypeError(f"expected a Cell or a kernel name, got {type(cell).__name__}")
    kind = vars(type(cell)).get("engine_kernel")
    return None if kind is None else spec_of(kind).kind


def has_kernel(cell) -> bool:
    """Whether :func:`run_layer` can run ``cell``."""
    return kernel_of(cell) is not None


def sequence_op(cell, gate=None, truncate=-1, backwards=False) -> SequenceOp:
    """The :class:`SequenceOp` of ``cell`` (a Cell or a kernel name); ``gate=None``
    gives the cell's default gate (for a kernel name: the tutorial cell's,
    ``hard_sigmoid`` for "gru", ``sigmoid`` for "lstm")."""
    kind = kernel_of(cell)
    if kind is None:
        raise ValueError(f"the {cell.name} cell has no engine kernel")
    if gate is None and spec_of(kind).gates:
        # the cell's default; for a kernel name, the tutorial cell's of that name
        gate = (cell if isinstance(cell, Cell) else get_cell(kind)).default_gate or "sigmoid"
    return SequenceOp(kind, gate, truncate, backwards)


def run_layer(cell, gate, pre, Wm, init_states, mask=None, truncate=-1, backwards=False,
              kernel=None):
    """One layer's state sequences, each ``(T, B, H)``, through the fused op.

    ``cell``: a Cell or a kernel name; a Cell without an engine kernel (or
    ``kernel=False``) runs the engine's generic path instead, a ``scan`` of
    its ``merged_step`` with the same contract (:func:`.scan_path.scan_layer`;
    ``kernel=True`` refuses that fallback); ``gate``:
    ``"sigmoid"``, ``"hard_sigmoid"`` or ``None`` (the cell's default);
    ``pre`` ``(T, B, blocks*H)``: input pre-activations incl. the bias;
    ``Wm`` ``(blocks*H, H)``: the merged recurrent matrix (applied as
    ``h_prev Wm^T``); ``init_states``: ``[h0]`` (``[h0, c0]`` for the LSTM),
    each ``(B, H)``; ``mask`` ``(T, B)`` of 0/1 (``None``: every step real);
    ``truncate = k > 0``: back-propagate through the last ``k`` steps run
    only (Theano's ``truncate_gradient``); ``backwards``: run ``t = T-1 ..
    0`` (outputs stay indexed by time).  Returns ``[hs]`` or ``[hs, cs]``.
    """
    if kernel is None:
        kernel = has_kernel(cell)
    if not kernel:
        if isinstance(cell, str):
            cell = get_cell(cell)
        if gate is None:
            gate = cell.default_gate
        return scan_layer(cell, gate, pre, Wm, init_states, mask, truncate, backwards)
    op = sequence_op(cell, gate, truncate, backwards)
    pre = pt.as_tensor_variable(pre)
    if mask is None:
        mask = pt.ones(pre.shape[:2], dtype=pre.dtype)
    init_states = list(init_states)
    if len(init_states) != op.spec.states:
        raise ValueError(f"{op}: needs {op.spec.states} initial state(s), got {len(init_states)}")
    outs = op(pre, Wm, *init_states, mask)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return list(outs[: op.spec.states])


def _register(backend):
    if backend == "NUMBA":
        from theano_rnn.graphs.engine import numba_backend

        numba_backend.register()
    else:
        from theano_rnn.graphs.engine import jax_backend

        jax_backend.register()


def register_backends(*backends):
    """Register the ops' Numba / JAX implementations now (default: both).

    Needed only for modes not built by :func:`theano_rnn.runtime.modes.get_mode`
    (which registers them itself when it builds the mode).  Imports the
    backend's packages (numba; jax).
    """
    for backend in backends or ("NUMBA", "JAX"):
        _register(str(backend).upper())


# the backends' own modules load only when their mode is first built
on_backend_first_use("NUMBA", functools.partial(_register, "NUMBA"))
on_backend_first_use("JAX", functools.partial(_register, "JAX"))
