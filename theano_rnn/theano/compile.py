"""``theano.function``, ``theano.Param``/``theano.In`` and ``theano.Out``.

``function(inputs, outputs=None, mode=None, updates=None, givens=None,
no_default_updates=False, accept_inplace=False, name=None,
rebuild_strict=True, allow_input_downcast=None, profile=None,
on_unused_input=None)`` -- Theano's signature.  It compiles through
:func:`theano_rnn.runtime.compile.compile_function` and:

* takes ``Param(v, default=d)`` / ``In(v, value=d)`` inputs: the default is
  supplied at call time (PyTensor 3 refuses inputs with default values), by
  position from the right or by the input's name as keyword;
* takes ``updates`` as a dict (Theano's ``OrderedDict``) or a list of pairs,
  and ``givens`` likewise;
* resolves ``mode`` the Theano way (:mod:`theano_rnn.theano.modes`):
  ``None`` is ``theano.config.mode`` (``'FAST_RUN'``, the C backend).

Without defaults the result is PyTensor's compiled function itself
(``f.maker.fgraph``...); with defaults a :class:`DefaultsFunction` that
forwards everything else to it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import pytensor
from pytensor.compile.io import Out

from theano_rnn.compat import Param
from theano_rnn.runtime.compile import compile_function
from theano_rnn.theano.configuration import config
from theano_rnn.theano.modes import resolve_mode

__all__ = ["function", "Param", "In", "Out", "DefaultsFunction"]

_EMPTY = inspect.Parameter.empty


class In(Param):
    """``theano.In(variable, name=None, value=None, ...)``: Theano's input
    spec, with ``value`` as the default (a :class:`~theano_rnn.compat.Param`)."""

    def __init__(self, variable, name=None, value=None, update=None, mutable=None, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None, shared=False):
        if update is not None:
            raise NotImplementedError("In(update=...) (a stateful input) does not exist on "
                                      "PyTensor: use a shared variable with updates=")
        if isinstance(value, pytensor.compile.SharedVariable):
            raise NotImplementedError("In(value=shared variable): use the shared variable "
                                      "in the graph directly")
        super().__init__(variable, default=value, name=name if (name or not autoname) else None,
                         mutable=bool(mutable), strict=strict, allow_downcast=allow_downcast,
                         implicit=implicit, borrow=borrow)


class DefaultsFunction:
    """A compiled function whose trailing inputs have defaults (``Param``/``In``).

    ``f(*args, **kwargs)`` fills the missing inputs from their defaults;
    every other attribute (``maker``, ``copy``, ``trust_input``...) is the
    compiled PyTensor function's (``f.fn``).
    """

    def __init__(self, fn, names, defaults):
        self.fn = fn
        self.names = names
        self.defaults = {n: d for n, d in zip(names, defaults) if d is not _EMPTY}
        self._defaults = defaults

    def __call__(self, *args, **kwargs):
        args = list(args)
        n = len(self.names)
        if len(args) > n:
            raise TypeError(f"function takes at most {n} arguments, got {len(args)}")
        for i in range(len(args), n):
            name = self.names[i]
            if name is not None and name in kwargs:
                args.append(kwargs.pop(name))
            elif self._defaults[i] is not _EMPTY:
                args.append(self._defaults[i])
            else:
                raise TypeError(f"missing input {name or i!r} (it has no default)")
        if kwargs:
            raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
        return self.fn(*args)

    def __getattr__(self, name):
        return getattr(self.fn, name)


def _pairs(mapping_or_pairs):
    if mapping_or_pairs is None:
        return None
    if isinstance(mapping_or_pairs, Mapping):
        return list(mapping_or_pairs.items())
    return list(mapping_or_pairs)


def function(inputs, outputs=None, mode=None, updates=None, givens=None,
             no_default_updates=False, accept_inplace=False, name=None, rebuild_strict=True,
             allow_input_downcast=None, profile=None, on_unused_input=None):
    """``theano.function`` on PyTensor (see the module docstring)."""
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("Input variables of a Theano function should be contained in a list, "
                        "even when there is a single input.")
    variables, names, defaults = [], [], []
    for inp in inputs:
        if isinstance(inp, Param):
            variables.append(inp if (inp.strict or inp.allow_downcast is not None or inp.mutable)
                             else inp.variable)
            names.append(inp.name)
            defaults.append(_EMPTY if inp.default is None else inp.default)
        else:
            variables.append(inp)
            names.append(getattr(getattr(inp, "variable", inp), "name", None))
            defaults.append(_EMPTY)
    kwargs = {}
    if givens is not None:
        kwargs["givens"] = _pairs(givens)
    if no_default_updates:
        kwargs["no_default_updates"] = no_default_updates
    if accept_inplace:
        kwargs["accept_inplace"] = True
    if not rebuild_strict:
        kwargs["rebuild_strict"] = False
    if allow_input_downcast is not None:
        kwargs["allow_input_downcast"] = allow_input_downcast
    if profile:
        kwargs["profile"] = profile
    if on_unused_input is not None:
        kwargs["on_unused_input"] = on_unused_input
    fn = compile_function(
        variables, [] if outputs is None else outputs, updates=_pairs(updates),
        mode=resolve_mode(config.mode if mode is None else mode), name=name, **kwargs,
    )
    if all(d is _EMPTY for d in defaults):
        return fn
    return DefaultsFunction(fn, names, defaults)
