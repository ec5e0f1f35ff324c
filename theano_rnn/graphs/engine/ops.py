"""The fused sequence ops: :class:`SequenceOp` (forward) and :class:`SequenceGradOp`.

``SequenceOp(kind, gate, truncate, backwards)(pre, Wm, *inits, mask)`` runs
one layer in one direction over the whole ``(T, B)`` block in one call and
returns the state sequences (and ``saved``, see :mod:`.spec`).  Its
gradient (:meth:`SequenceOp.pullback`) is one :class:`SequenceGradOp` node: the
hand-derived back-propagation through time over the whole sequence, giving
the gradients of ``pre``, ``Wm`` and the initial states from those of the
state sequences (an unused output's gradient counts as zero; the final
state's gradient is part of the sequence's).  The mask has no gradient.

Backends: ``perform`` (the C backend, i.e. the ``cvm`` linker, and Python)
calls the numba kernels of :mod:`.kernels` once per call; the Numba and JAX
backends get their own implementations registered by
:mod:`.numba_backend` and :mod:`.jax_backend` when their modes are built.
"""

from __future__ import annotations

import functools

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.scalar import upcast
from pytensor.tensor.type import TensorType

from theano_rnn.graphs.engine.spec import gate_code, spec_of

__all__ = ["SequenceOp", "SequenceGradOp", "warm_kernels"]


def _static(dim):
    return dim if isinstance(dim, int) else None


def warm_kernels(kind, dtype, gate_id):
    """Call the forward and backward kernels of ``kind`` once, on a one-step,
    one-row, one-unit sequence of ``dtype``: this compiles (or loads from
    numba's disk cache) the specialisation the ops' calls use -- their
    arrays are C-contiguous of the graph's float type, the flags Python
    ``int`` / ``bool``."""
    from theano_rnn.graphs.engine.kernels import backward, forward  # numba

    spec = spec_of(kind)
    one = np.ones((1, 1), dtype)
    Wm = np.zeros((spec.blocks, 1), dtype)
    inits = tuple(np.zeros((1, 1), dtype) for _ in range(spec.states))
    outs = forward(kind)(np.zeros((1, 1, spec.blocks), dtype), Wm, inits, one, int(gate_id), False)
    douts = tuple(np.zeros((1, 1, 1), dtype) for _ in range(spec.states))
    backward(kind)(Wm, inits, one, tuple(outs), douts, int(gate_id), False, -1)


class _EngineOp(Op):
    """Shared props and checks: ``kind``, ``gate``, ``truncate``, ``backwards``."""

    __props__ = ("kind", "gate", "truncate", "backwards")

    def __init__(self, kind, gate=None, truncate=-1, backwards=False):
        self.spec = spec_of(kind)
        self.kind = self.spec.kind
        self.gate = gate if self.spec.gates else None
        self.gate_id = gate_code(self.spec, self.gate)
        self.truncate = int(truncate) if int(truncate) > 0 else -1
        self.backwards = bool(backwards)

    def __str__(self):
        extra = [self.gate] if self.gate else []
        if self.truncate > 0:
            extra.append(f"truncate={self.truncate}")
        if self.backwards:
            extra.append("backwards")
        return f"{type(self).__name__}{{{self.kind}{''.join(', ' + e for e in extra)}}}"

    def _tensors(self, values, ndims, names):
        """Tensor variables of one float dtype (the inputs' upcast), checked."""
        values = [pt.as_tensor_variable(v) for v in values]
        for v, nd, name in zip(values, ndims, names):
            if v.ndim != nd:
                raise TypeError(f"{self}: {name} must have {nd} dimensions, got {v.ndim}")
        floats = [v.dtype for v, name in zip(values, names) if name != "mask"]
        dtype = upcast(*floats)
        if dtype not in ("float32", "float64"):
            raise TypeError(f"{self}: needs float32 or float64 inputs, got {dtype}")
        return [v if v.dtype == dtype else pt.cast(v, dtype) for v in values], dtype

    def background_compile(self, node):
        """``(key, fn)``: ``fn()`` compiles the kernels this node's calls use
        (:mod:`theano_rnn.runtime.precompile`); the forward and the gradient
        op of a kind and dtype share one key."""
        kind, dtype, gate = self.kind, node.outputs[0].dtype, self.gate_id
        return ("engine", kind, dtype), functools.partial(warm_kernels, kind, dtype, gate)

    def _check_shapes(self, T, B, H, arrays, names):
        for arr, name in zip(arrays, names):
            want = {"Wm": (self.spec.blocks * H, H), "mask": (T, B)}.get(name, (B, H))
            if name in ("pre", "dpre"):
                want = (T, B, self.spec.blocks * H)
            elif name in ("hs", "cs", "dhs", "dcs"):
                want = (T, B, H)
            elif name == "saved":
                want = (T, B, self.spec.saved * H)
            if arr.shape != want:
                raise ValueError(f"{self}: {name} has shape {arr.shape}, expected {want}")


class SequenceOp(_EngineOp):
    """Forward: inputs ``pre`` ``(T, B, blocks*H)``, ``Wm`` ``(blocks*H, H)``,
    the initial state(s) ``(B, H)`` (``h0``; ``h0, c0`` for the LSTM) and
    ``mask`` ``(T, B)`` (1 = a real step, 0 = padding); outputs the state
    sequence(s) ``(T, B, H)`` and, for the gated kinds, ``saved``."""

    def input_names(self):
        return ["pre", "Wm"] + (["h0", "c0"] if self.spec.states == 2 else ["h0"]) + ["mask"]

    def output_names(self):
        names = ["hs", "cs"][: self.spec.states]
        return names + (["saved"] if self.spec.saved else [])

    def make_node(self, pre, Wm, *rest):
        names = self.input_names()
        if len(rest) != len(names) - 2:
            raise TypeError(f"{self}: takes inputs {', '.join(names)}")
        inputs, dtype = self._tensors([pre, Wm, *rest], [3, 2] + [2] * len(rest), names)
        T, B = (_static(d) for d in inputs[0].type.shape[:2])
        H = _static(inputs[1].type.shape[1]) or _static(inputs[2].type.shape[1])
        seq = TensorType(dtype, shape=(T, B, H))
        outs = [seq() for _ in range(self.spec.states)]
        if self.spec.saved:
            width = None if H is None else self.spec.saved * H
            outs.append(TensorType(dtype, shape=(T, B, width))())
        return Apply(self, inputs, outs)

    def perform(self, node, inputs, output_storage):
        from theano_rnn.graphs.engine.kernels import forward  # numba, on first use

        pre, Wm = inputs[0], inputs[1]
        T, B = pre.shape[:2]
        self._check_shapes(T, B, Wm.shape[1], inputs, self.input_names())
        inits = tuple(np.ascontiguousarray(v) for v in inputs[2:-1])
        outs = forward(self.kind)(
            np.ascontiguousarray(pre), np.ascontiguousarray(Wm), inits,
            np.ascontiguousarray(inputs[-1]), self.gate_id, self.backwards,
        )
        for store, value in zip(output_storage, outs):
            store[0] = value

    def infer_shape(self, fgraph, node, shapes):
        T, B = shapes[0][0], shapes[0][1]
        H = shapes[1][1]
        out = [(T, B, H)] * self.spec.states
        if self.spec.saved:
            out.append((T, B, H * self.spec.saved))
        return out

    def connection_pattern(self, node):
        n_out = len(node.outputs)
        return [[True] * n_out] * (len(node.inputs) - 1) + [[False] * n_out]

    def pullback(self, inputs, outputs, output_grads):
        n = self.spec.states
        if self.spec.saved and not isinstance(output_grads[n].type, DisconnectedType):
            raise NotImplementedError(
                f"{self}: its 'saved' output is for the backward only and has no gradient"
            )
        douts = [
            pt.zeros_like(out) if isinstance(g.type, DisconnectedType) else g
            for out, g in zip(outputs[:n], output_grads[:n])
        ]
        grad_op = SequenceGradOp(self.kind, self.gate, self.truncate, self.backwards)
        grads = grad_op(inputs[1], *inputs[2:-1], inputs[-1], *outputs, *douts)
        return list(grads) + [disconnected_type()]


class SequenceGradOp(_EngineOp):
    """Backward of :class:`SequenceOp` with the same props: inputs ``Wm``,
    the initial state(s), ``mask``, the forward's outputs and the state
    sequences' gradients; outputs ``dpre``, ``dWm`` and the initial states'
    gradients.  Not differentiable itself."""

    def input_names(self):
        inits = ["h0", "c0"] if self.spec.states == 2 else ["h0"]
        outs = ["hs", "cs"][: self.spec.states] + (["saved"] if self.spec.saved else [])
        return ["Wm"] + inits + ["mask"] + outs + ["dhs", "dcs"][: self.spec.states]

    def make_node(self, *inputs):
        names = self.input_names()
        if len(inputs) != len(names):
            raise TypeError(f"{self}: takes inputs {', '.join(names)}")
        ndims = [3 if n in ("hs", "cs", "saved", "dhs", "dcs") else 2 for n in names]
        inputs, dtype = self._tensors(inputs, ndims, names)
        Wm = inputs[0]
        seq = inputs[names.index("hs")].type
        T, B, H = seq.shape
        width = None if H is None else self.spec.blocks * H
        outs = [TensorType(dtype, shape=(T, B, width))(), Wm.type()]
        outs += [inputs[1 + i].type() for i in range(self.spec.states)]
        return Apply(self, inputs, outs)

    def perform(self, node, inputs, output_storage):
        from theano_rnn.graphs.engine.kernels import backward  # numba, on first use

        names = self.input_names()
        n = self.spec.states
        arrays = [np.ascontiguousarray(v) for v in inputs]
        hs = arrays[names.index("hs")]
        self._check_shapes(hs.shape[0], hs.shape[1], hs.shape[2], arrays, names)
        n_outs = n + (1 if self.spec.saved else 0)
        first = 2 + n
        grads = backward(self.kind)(
            arrays[0], tuple(arrays[1 : 1 + n]), arrays[1 + n],
            tuple(arrays[first : first + n_outs]), tuple(arrays[first + n_outs :]),
            self.gate_id, self.backwards, self.truncate,
        )
        for store, value in zip(output_storage, grads):
            store[0] = value

    def infer_shape(self, fgraph, node, shapes):
        names = self.input_names()
        T, B, H = shapes[names.index("hs")]
        return [(T, B, H * self.spec.blocks), shapes[0]] + [
            shapes[1 + i] for i in range(self.spec.states)
        ]

    def pullback(self, inputs, outputs, output_grads):
        raise NotImplementedError(f"{self} has no gradient (no second derivatives)")
