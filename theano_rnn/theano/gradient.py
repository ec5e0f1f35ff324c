"""``theano.gradient``: ``grad`` and the gradient helpers RNN code used.

``grad_clip(x, lower, upper)`` (identity forward, gradient clipped),
``disconnected_grad``, ``zero_grad``, ``consider_constant``,
``undefined_grad``, ``jacobian``, ``hessian``, ``Rop``, ``Lop``,
``grad_not_implemented``, ``grad_undefined``, ``verify_grad`` are
PyTensor's, which kept Theano's semantics.  :func:`grad` is PyTensor's with
one addition: a gradient through a random draw *inside* a ``scan`` loop
(which PyTensor cannot trace back) fails with a hint to draw the random
numbers outside the loop and pass them in as a sequence.
"""

from __future__ import annotations

import pytensor.gradient as ptg
from pytensor.gradient import (
    DisconnectedType, Lop, NullType, Rop, disconnected_grad, grad_clip, grad_not_implemented,
    grad_undefined, hessian, jacobian, undefined_grad, verify_grad, zero_grad,
)

__all__ = [
    "grad", "grad_clip", "disconnected_grad", "zero_grad", "consider_constant", "undefined_grad",
    "jacobian", "hessian", "Rop", "Lop", "grad_not_implemented", "grad_undefined", "verify_grad",
    "DisconnectedType", "NullType", "NullTypeGradError", "DisconnectedInputError",
]

NullTypeGradError = ptg.NullTypeGradError
DisconnectedInputError = ptg.DisconnectedInputError

RANDOM_IN_SCAN_HINT = (
    " -- a random draw inside a scan loop cannot be differentiated through on PyTensor: draw "
    "the random numbers (e.g. dropout masks) before the loop and pass them in as a sequence"
)


def consider_constant(x):
    """Theano's ``consider_constant``: ``x`` whose gradient is zero (``zero_grad``)."""
    return zero_grad(x)


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """``theano.grad`` (Theano's signature; see the module docstring)."""
    try:
        return ptg.grad(cost, wrt, consider_constant=consider_constant,
                        disconnected_inputs=disconnected_inputs, add_names=add_names,
                        known_grads=known_grads, return_disconnected=return_disconnected,
                        null_gradients=null_gradients)
    except NullTypeGradError as exc:
        if "untraced" in str(exc):
            raise NullTypeGradError(str(exc) + RANDOM_IN_SCAN_HINT) from exc
        raise
