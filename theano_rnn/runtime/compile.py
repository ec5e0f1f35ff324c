"""``pytensor.function`` that reuses an earlier compilation of the same graph.

Building a recurrent model's training function spends almost all its time in
PyTensor's graph rewrites (the scan and its gradient: 10-20 s for a tiny GRU
on the 2-core VM), not in the C compiler -- so the on-disk compile cache does
not help the second model of a process.  :func:`compile_function` keeps the
functions it compiled (the last :data:`MAX_TEMPLATES`) and, when asked to
compile a graph that is *structurally equal* to one of them -- same ops, same
constants, same input and shared-variable types, same updates -- returns
``template.copy(swap=...)``: the already rewritten and linked function with
the new graph's shared variables (parameters, optimizer caches, random
generators) swapped in.  That takes milliseconds.  The copy has its own
storage; the two functions share nothing a call can see.

Equality is decided by :func:`pytensor.graph.basic.equal_computations` on the
outputs and update expressions, never by a key the caller supplies, so two
models that differ in anything that changes the graph (a truncation, a gate,
a size) never share a function.  ``THEANO_RNN_REUSE_COMPILED=0`` turns reuse
off (every call compiles, as ``pytensor.function`` does).

Before a graph is compiled on the C or PY backend, the numba kernels its
ops call from ``perform`` start compiling in background threads
(:mod:`theano_rnn.runtime.precompile`), beside PyTensor's rewrites and C
compiler.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable, equal_computations
from pytensor.graph.traversal import graph_inputs

from theano_rnn.runtime.precompile import precompile_for
from theano_rnn.runtime.switches import switched_off

__all__ = ["compile_function", "reuse_stats", "clear_templates", "MAX_TEMPLATES"]

log = logging.getLogger(__name__)

#: how many compiled functions are kept as templates (least recently used go)
MAX_TEMPLATES = 64

_templates: OrderedDict = OrderedDict()  # key -> list of _Template
_stats = {"compiled": 0, "reused": 0, "differed": 0}


class _Template:
    __slots__ = ("fn", "mode", "inputs", "shared", "outputs", "update_keys")

    def __init__(self, fn, mode, inputs, shared, outputs, update_keys):
        self.fn = fn
        self.mode = mode if mode is not None else "default"
        self.inputs = inputs
        self.shared = shared
        self.outputs = outputs
        self.update_keys = update_keys


def _enabled(environ=None) -> bool:
    return not switched_off("THEANO_RNN_REUSE_COMPILED", environ)


def _update_pairs(updates):
    if updates is None:
        return []
    if hasattr(updates, "items"):
        return list(updates.items())
    return list(updates)


def _shared_of(outputs, update_pairs):
    """Shared variables of the graph, in traversal order (update targets last)."""
    found = [v for v in graph_inputs(outputs) if isinstance(v, SharedVariable)]
    seen = set(found)
    for target, _ in update_pairs:
        if target not in seen:
            found.append(target)
            seen.add(target)
    return found


def _mode_key(mode):
    """Strings name PyTensor's registered modes; a Mode object is keyed by
    identity (runtime.modes builds one per backend per process)."""
    if mode is None or isinstance(mode, str):
        return ("name", str(mode))
    return ("object", id(mode))


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return None
    return value


def compile_function(inputs, outputs, *, updates=None, mode=None, name=None, **kwargs):
    """``pytensor.function(inputs, outputs, updates=..., mode=..., name=..., **kwargs)``,
    reusing a structurally equal graph compiled earlier in this process.

    ``inputs`` must be plain variables (no ``In``/``Param``); calls with
    ``givens`` or non-hashable keyword values always compile.
    """
    single = not isinstance(outputs, (list, tuple))
    out_list = [outputs] if single else list(outputs)
    pairs = _update_pairs(updates)
    shared = _shared_of(out_list + [expr for _, expr in pairs], pairs)
    extra = tuple(sorted((k, _hashable(v)) for k, v in kwargs.items()))
    reusable = (
        _enabled()
        and "givens" not in kwargs
        and all(v is not None for _, v in extra)
        and not any(getattr(s, "default_update", None) is not None for s in shared)
        and all(isinstance(v, Variable) and not isinstance(v, (SharedVariable, Constant))
                for v in inputs)
        and all(isinstance(v, Variable) for v in out_list)
    )
    key = None
    if reusable:
        key = (
            name,
            _mode_key(mode),
            pytensor.config.floatX,
            single,
            tuple(v.type for v in inputs),
            tuple(s.type for s in shared),
            len(out_list),
            len(pairs),
            extra,
        )
        for template in _templates.get(key, ()):
            fn = _reuse(template, inputs, shared, out_list, pairs, mode)
            if fn is None:
                _stats["differed"] += 1
                log.debug("%s: same signature as a compiled graph, but a different graph", name)
            else:
                _templates.move_to_end(key)
                _stats["reused"] += 1
                log.debug("reused the compiled %s", name or "function")
                return fn
    precompile_for(out_list + [expr for _, expr in pairs], mode)
    fn = pytensor.function(inputs, outputs, updates=updates, mode=mode, name=name, **kwargs)
    _stats["compiled"] += 1
    if key is not None:
        template = _Template(fn, mode, list(inputs), shared, out_list + [e for _, e in pairs],
                             [t for t, _ in pairs])
        _templates.setdefault(key, []).append(template)
        _templates.move_to_end(key)
        while sum(len(v) for v in _templates.values()) > MAX_TEMPLATES:
            oldest = next(iter(_templates))
            _templates[oldest].pop(0)
            if not _templates[oldest]:
                del _templates[oldest]
    return fn


def _reuse(template, inputs, shared, out_list, pairs, mode):
    """``template.fn`` with ``shared`` swapped in, or ``None`` if the graphs differ."""
    if any(a.type != b.type for a, b in zip(shared, template.shared)):
        return None
    new = out_list + [e for _, e in pairs]
    if not equal_computations(new, template.outputs,
                              in_xs=list(inputs) + shared,
                              in_ys=template.inputs + template.shared):
        return None
    index = {id(s): i for i, s in enumerate(shared)}
    if [index.get(id(t)) for t, _ in pairs] != [
            template.shared.index(t) for t in template.update_keys]:
        return None
    if not isinstance(template.mode, str) and template.mode is not mode:
        return None
    swap = dict(zip(template.shared, shared))
    known = {id(i.variable) for i in template.fn.maker.inputs}
    if any(id(s) not in known for s in template.shared):
        return None
    return template.fn.copy(swap=swap, name=template.fn.name)


def reuse_stats() -> dict:
    """Counts since the process started (or the last clear): ``compiled``,
    ``reused`` and ``differed`` (a kept function had the same signature but
    another graph, so this one compiled)."""
    return dict(_stats)


def clear_templates():
    """Forget every kept function (the next call of each graph compiles)."""
    _templates.clear()
    _stats.update(compiled=0, reused=0, differed=0)
