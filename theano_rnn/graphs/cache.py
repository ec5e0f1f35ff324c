"""One compile cache for every model: compiled functions keyed by kind and shape.

A model (or :class:`~theano_rnn.graphs.fast.FastGraph`) keeps one
:class:`CompileCache`.  ``cache.compiled(kind, build, shape)`` returns the
function compiled for ``kind`` -- building it with ``build(shape)`` the first
time, under ``floatX`` = the model's float type (so Python float constants in
the graph take that type whatever the flag is now).

Other backends compile one function per kind for any shape (``shape`` is
ignored, the key is ``kind``).  With static shapes (JAX) one function is
compiled per ``(kind, shape)``; ``cache[kind]`` is then the one used last.
:meth:`CompileCache.clear` drops everything (a model that changes size).
Other per-size objects a model builds lazily (its symbolic graph, its fast
graph) live here too, under their own kinds, so one ``clear`` invalidates all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytensor

__all__ = ["CompileCache"]

log = logging.getLogger(__name__)


def _shape_key(shape):
    shape = tuple(shape)
    if all(isinstance(n, int) or hasattr(n, "__index__") for n in shape):
        return tuple(int(n) for n in shape)
    return shape


class CompileCache(Mapping):
    """Kind (and, with static shapes, ``(kind, shape)``) -> compiled function.

    Args:
        dtype: the model's float type (``floatX`` while building); ``None``
            builds under the current flag.
        static_shapes: compile one function per input shape (JAX).
    """

    def __init__(self, dtype=None, static_shapes=False):
        self.dtype = dtype
        self.static_shapes = bool(static_shapes)
        self._fns = {}

    def key(self, kind, shape=None):
        """The cache key of ``kind`` for inputs of ``shape``."""
        if not self.static_shapes or shape is None:
            return kind
        return (kind, _shape_key(shape))

    def compiled(self, kind, build, shape=None):
        """The ``kind`` function for ``shape``; ``build(shape or None)`` makes it once."""
        key = self.key(kind, shape)
        if key not in self._fns:
            static = key[1] if isinstance(key, tuple) else None
            log.debug("compiling %s%s", kind, "" if static is None else f" for shape {static}")
            if self.dtype is None:
                self._fns[key] = build(static)
            else:
                with pytensor.config.change_flags(floatX=self.dtype):
                    self._fns[key] = build(static)
        self._fns[kind] = self._fns[key]
        return self._fns[key]

    def clear(self):
        """Forget every compiled function (the next call compiles again)."""
        self._fns.clear()

    def __getitem__(self, key):
        return self._fns[key]

    def __iter__(self):
        return iter(self._fns)

    def __len__(self):
        return len(self._fns)

    def __repr__(self):
        return f"CompileCache({sorted(map(str, self._fns))})"
