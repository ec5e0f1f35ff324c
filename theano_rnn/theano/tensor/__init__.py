"""``theano.tensor`` (``import theano_rnn.theano.tensor as T``).

Every name of ``pytensor.tensor`` is available here unchanged (``T.matrix``,
``T.ivector``, ``T.dot``, ``T.tanh``, ``T.argmax``, ``T.switch``,
``T.alloc``, ``T.concatenate``, ``T.set_subtensor``...): PyTensor kept
Theano's names and semantics for them.  Defined here, where Theano's
differ from PyTensor's or PyTensor dropped the name:

``nnet``                  Theano's ``tensor.nnet`` (:mod:`.nnet`)
``shared_randomstreams``  ``RandomStreams`` with Theano's signatures
``grad``                  :func:`theano_rnn.theano.gradient.grad`
``stack(*tensors)``       Theano's old form as well as ``stack(list, axis)``
``flatten(x, outdim=1)``  Theano's keyword (PyTensor calls it ``ndim``)
``TensorType(dtype, broadcastable)``  Theano's positional broadcastable pattern
``addbroadcast``, ``unbroadcast``, ``patternbroadcast``  (dropped by PyTensor)
``abs_``, ``inv``         Theano's names of ``abs`` and ``reciprocal``
``sigmoid``, ``softplus`` also reachable as ``T.nnet.sigmoid``...
"""

from __future__ import annotations

import pytensor.tensor as _pt
from pytensor.compile.ops import ViewOp
from pytensor.graph.basic import Apply
from pytensor.tensor.type import TensorType as _PTTensorType

from theano_rnn.theano.gradient import Lop, Rop, grad, hessian, jacobian
from theano_rnn.theano.tensor import nnet, shared_randomstreams

# the names defined here (Theano's where PyTensor differs or dropped them)
__all__ = [
    "nnet", "shared_randomstreams", "grad", "jacobian", "hessian", "Rop", "Lop", "stack",
    "flatten", "TensorType", "addbroadcast", "unbroadcast", "patternbroadcast", "abs_", "inv",
    "Unbroadcast",
]
#: the names defined here, before PyTensor's are added to ``__all__``
THEANO_NAMES = tuple(__all__)
# ``from theano.tensor import *`` gets PyTensor's public names too
__all__ += sorted(
    n for n in dir(_pt)
    if not n.startswith("_") and n not in THEANO_NAMES and not isinstance(getattr(_pt, n), type(_pt))
)


def stack(*tensors, **kwargs):
    """``stack(tensors, axis=0)`` or Theano's older ``stack(t1, t2, ...)``."""
    if "tensors" in kwargs or (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))):
        seq = kwargs.pop("tensors", None) or tensors[0]
        return _pt.stack(list(seq), axis=kwargs.pop("axis", 0))
    if len(tensors) == 2 and isinstance(tensors[0], (list, tuple)):
        return _pt.stack(list(tensors[0]), axis=tensors[1])
    return _pt.stack(list(tensors), axis=kwargs.pop("axis", 0))


def flatten(x, outdim=1, ndim=None):
    """``x`` reshaped to ``outdim`` dimensions, the last one holding the rest."""
    return _pt.flatten(x, ndim=outdim if ndim is None else ndim)


def TensorType(dtype, broadcastable=None, name=None, shape=None):
    """Theano's ``TensorType(dtype, broadcastable)``: ``True`` = a dimension of 1."""
    if shape is None and broadcastable is not None:
        shape = tuple(1 if b else None for b in broadcastable)
    return _PTTensorType(dtype, shape=shape, name=name)


def addbroadcast(x, *axes):
    """``x`` with ``axes`` marked broadcastable (length 1)."""
    return _pt.specify_broadcastable(x, *axes)


class Unbroadcast(ViewOp):
    """The identity, whose output forgets that ``axes`` have length 1 (Theano's
    ``Rebroadcast``).  The rewrites remove it once the graph is built."""

    __props__ = ("axes",)

    def __init__(self, *axes):
        self.axes = tuple(sorted(set(axes)))

    def make_node(self, x):
        x = _pt.as_tensor_variable(x)
        shape = tuple(None if i in self.axes else s for i, s in enumerate(x.type.shape))
        return Apply(self, [x], [x.type.clone(shape=shape)()])

    def pullback(self, args, outputs, g_outs):
        (x,), (g,) = args, g_outs
        ones = [i for i in self.axes if x.type.shape[i] == 1]
        return [_pt.specify_broadcastable(g, *ones) if ones else g]


def unbroadcast(x, *axes):
    """``x`` with ``axes`` no longer known to be of length 1 (Theano's ``unbroadcast``,
    used to give a scan state the type of the step's output); values unchanged."""
    x = _pt.as_tensor_variable(x)
    axes = [a % x.ndim for a in axes if x.type.shape[a % x.ndim] == 1]
    return Unbroadcast(*axes)(x) if axes else x


def patternbroadcast(x, broadcastable):
    """``x`` with Theano's broadcastable pattern ``broadcastable``."""
    x = _pt.as_tensor_variable(x)
    on = [i for i, b in enumerate(broadcastable) if b and x.type.shape[i] != 1]
    off = [i for i, b in enumerate(broadcastable) if not b and x.type.shape[i] == 1]
    if on:
        x = addbroadcast(x, *on)
    if off:
        x = unbroadcast(x, *off)
    return x


abs_ = _pt.abs
inv = _pt.reciprocal


def __getattr__(name):
    """Every other name: PyTensor's ``pytensor.tensor`` (Theano's name and meaning)."""
    try:
        return getattr(_pt, name)
    except AttributeError:
        raise AttributeError(f"module 'theano.tensor' (theano_rnn.theano.tensor) has no "
                             f"attribute {name!r}: PyTensor has no such name") from None


def __dir__():
    return sorted(set(globals()) | {n for n in dir(_pt) if not n.startswith("_")})
