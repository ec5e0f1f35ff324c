"""Theano names that PyTensor dropped, with Theano's exact semantics.

The WildML tutorials were written against ``theano.tensor.nnet`` and the
Theano 0.x ``scan``/``function`` API.  PyTensor (Theano's maintained
successor) removed ``tensor.nnet``, changed ``softmax`` on vectors, changed
``scan``'s return value and refuses inputs with default values.  This module
gives the tutorial code the names it expects, behaving as Theano did:

``softmax(x)``
    Theano's ``T.nnet.softmax`` always returned a *matrix*: a vector ``(n,)``
    gives a ``(1, n)`` row (the tutorials index ``o_t[0]``).  A matrix is
    normalised row by row.
``hard_sigmoid(x)``
    ``clip(0.2 * x + 0.5, 0, 1)`` -- Theano's slope 0.2, *not* the 1/6 slope of
    newer libraries.  Its gradient is 0.2 for ``-2.5 <= x <= 2.5`` (inclusive,
    as Theano's ``clip`` gradient) and 0 outside.
``sigmoid(x)``
    The logistic function.
``categorical_crossentropy(probs, targets)``
    With integer targets: ``-log(probs[arange(n), targets])`` per row.  With a
    one-hot/probability matrix of targets: ``-sum(targets * log(probs), axis=-1)``.
``scan(...)``
    Always returns Theano's ``(outputs, updates)`` pair and never triggers
    PyTensor's "return signature will change" deprecation warning
    (feature-detected, no version comparisons).
``function_with_defaults(inputs, outputs, defaults=..., ...)``
    The ``theano.Param(decay, default=0.9)`` pattern: PyTensor 3 refuses
    compiled inputs with default values, so the compiled function is wrapped
    in a Python function that supplies the default.
``get_mode(name)``
    Backend names: ``"C"`` (also ``"FAST_RUN"``/``"CVM"``: Theano's meaning of
    FAST_RUN, the C virtual machine), ``"NUMBA"``, ``"JAX"``, ``"PY"``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import warnings

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad
from pytensor.tensor.special import softmax as _pt_softmax

from theano_rnn.runtime.modes import BACKENDS, get_mode, mode_name
from theano_rnn.runtime.compile import compile_function

__all__ = [
    "softmax",
    "hard_sigmoid",
    "sigmoid",
    "categorical_crossentropy",
    "scan",
    "Param",
    "function_with_defaults",
    "get_mode",
    "mode_name",
    "BACKENDS",
]

log = logging.getLogger(__name__)


def softmax(x):
    """Theano's ``T.nnet.softmax``: a vector gives a ``(1, n)`` row.

    A matrix is normalised along its last axis, row by row, as in Theano.
    """
    x = pt.as_tensor_variable(x)
    if x.ndim == 1:
        x = x.dimshuffle("x", 0)
    elif x.ndim != 2:
        raise ValueError(f"softmax expects a vector or a matrix, got ndim={x.ndim}")
    return _pt_softmax(x, axis=-1)


def hard_sigmoid(x):
    """Theano's ``T.nnet.hard_sigmoid``: ``clip(0.2 * x + 0.5, 0, 1)``.

    Gradient: 0.2 on ``[-2.5, 2.5]`` (boundaries included), 0 outside.
    """
    x = pt.as_tensor_variable(x)
    slope = pt.constant(0.2, dtype=x.dtype)
    shift = pt.constant(0.5, dtype=x.dtype)
    y = x * slope + shift
    value = pt.clip(y, 0, 1)
    # Theano's gradient is clip's ``(y >= 0) & (y <= 1)`` mask times 0.2.  A C
    # compiler that fuses ``0.2 * x + 0.5`` into one FMA makes y = -1.4e-17 at
    # x = -2.5, which would drop the boundary; so the mask is taken on x
    # itself (exact comparisons) while the value stays the formula above.
    inside = pt.and_(pt.ge(x, -2.5), pt.le(x, 2.5))
    return disconnected_grad(value) + inside * (y - disconnected_grad(y))


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))`` (``T.nnet.sigmoid``)."""
    return pt.sigmoid(x)


GATE_ACTIVATIONS = {"hard_sigmoid": hard_sigmoid, "sigmoid": sigmoid}


def gate_activation(name):
    """Look up a gate activation by name (``"hard_sigmoid"`` or ``"sigmoid"``)."""
    try:
        return GATE_ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown gate activation {name!r}; choose one of {sorted(GATE_ACTIVATIONS)}"
        ) from None


def categorical_crossentropy(coding_dist, true_dist):
    """Theano's ``T.nnet.categorical_crossentropy``.

    ``coding_dist`` is a matrix of probabilities (one row per example).  If
    ``true_dist`` is an integer vector, the result is
    ``-log(coding_dist[arange(n), true_dist])``; if it is a matrix of the same
    shape, ``-sum(true_dist * log(coding_dist), axis=1)``.
    """
    coding_dist = pt.as_tensor_variable(coding_dist)
    true_dist = pt.as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -pt.sum(true_dist * pt.log(coding_dist), axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype.startswith(("int", "uint")):
        return -pt.log(coding_dist[pt.arange(coding_dist.shape[0]), true_dist])
    raise TypeError(
        "categorical_crossentropy: targets must be integer indices (one fewer dimension "
        "than the probabilities) or a distribution of the same shape"
    )


@functools.lru_cache(maxsize=1)
def _scan_has_return_updates() -> bool:
    try:
        return "return_updates" in inspect.signature(pytensor.scan).parameters
    except (TypeError, ValueError):  # pragma: no cover - exotic builds
        return False


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, **kwargs):
    """``theano.scan`` with Theano's ``(outputs, updates)`` return value.

    Newer PyTensor warns unless ``return_updates`` is passed and will stop
    returning the updates; older PyTensor has no such argument.  This wrapper
    detects which one is installed and always returns ``(outputs, updates)``
    without the warning.  ``updates`` holds the random-generator updates of a
    loop body that draws random numbers (empty otherwise): pass it to the
    compiled function, as in Theano, to advance the generators between calls.
    (A ``return_updates`` argument is ignored: the pair is always returned.)
    """
    kwargs.pop("return_updates", None)
    if _scan_has_return_updates():
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Scan return signature will change", category=DeprecationWarning
            )
            # scan clears the default updates of generators made in a random body
            warnings.filterwarnings(
                "ignore", message="Setting default_update is deprecated", category=DeprecationWarning
            )
            result = pytensor.scan(
                fn,
                sequences=sequences,
                outputs_info=outputs_info,
                non_sequences=non_sequences,
                return_updates=True,
                **kwargs,
            )
        outputs, updates = result
        return outputs, updates
    return pytensor.scan(  # pragma: no cover - older PyTensor
        fn,
        sequences=sequences,
        outputs_info=outputs_info,
        non_sequences=non_sequences,
        **kwargs,
    )


class Param(pytensor.In):
    """``theano.Param(variable, default=value)``: an input with a default value.

    PyTensor 3 refuses compiled inputs with default values
    (``pytensor.In(v, value=d)`` raises), so the default lives on this object
    (``.default``) and :func:`function_with_defaults` (and
    :func:`theano_rnn.theano.function`) supply it at call time.  A ``Param``
    is a ``pytensor.In`` without a value, so a plain ``pytensor.function``
    accepts it as an ordinary, required input (it cannot know the default:
    calling that function without the argument is PyTensor's TypeError).
    ``default=None`` means no default, as in Theano.
    """

    def __init__(self, variable, default=None, name=None, mutable=False, strict=False,
                 allow_downcast=None, implicit=None, borrow=None):
        if implicit:
            raise ValueError("Param(implicit=True) (a hidden input) is not supported on PyTensor")
        super().__init__(variable, name=name, mutable=mutable, strict=strict,
                         allow_downcast=allow_downcast, borrow=borrow)
        self.default = default
        if self.name is None:
            self.name = getattr(variable, "name", None)


def function_with_defaults(inputs, outputs=None, updates=None, mode=None, name=None, **kwargs):
    """``theano.function`` accepting :class:`Param` inputs with defaults.

    Returns a plain Python callable with the same positional order; inputs
    given as ``Param(v, default=d)`` may be omitted (positionally from the
    right, or by their name as keyword).  The compiled function is available
    as ``.fn``.
    """
    variables = []
    defaults = []
    names = []
    for inp in inputs:
        if isinstance(inp, Param):
            variables.append(inp.variable)
            defaults.append(inspect.Parameter.empty if inp.default is None else inp.default)
            names.append(inp.name)
        else:
            variables.append(inp)
            defaults.append(inspect.Parameter.empty)
            names.append(getattr(inp, "name", None))
    seen_default = False
    for n, d in zip(names, defaults):
        if d is not inspect.Parameter.empty:
            seen_default = True
        elif seen_default:
            raise ValueError(f"input {n!r} without a default follows one with a default")
    compiled = compile_function(
        variables, outputs, updates=updates, mode=get_mode(mode), name=name, **kwargs
    )

    def wrapper(*args, **kw):
        args = list(args)
        if len(args) > len(variables):
            raise TypeError(f"expected at most {len(variables)} arguments, got {len(args)}")
        for i in range(len(args), len(variables)):
            if names[i] is not None and names[i] in kw:
                args.append(kw.pop(names[i]))
            elif defaults[i] is not inspect.Parameter.empty:
                args.append(defaults[i])
            else:
                raise TypeError(f"missing argument {names[i] or i!r}")
        if kw:
            raise TypeError(f"unexpected keyword arguments {sorted(kw)}")
        return compiled(*args)

    wrapper.fn = compiled
    wrapper.defaults = dict(
        (n, d) for n, d in zip(names, defaults) if d is not inspect.Parameter.empty
    )
    return wrapper
