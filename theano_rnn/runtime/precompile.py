"""Compile the numba kernels a graph's ops call, in background threads, while the graph compiles.

Some of the package's ops run a numba kernel from ``perform`` (the recurrent
engine's sequence ops).  Numba
compiles a kernel on its first call -- on an empty cache about 8 s for the
LSTM's forward and backward on the 2-core VM -- which on the C backend
comes after PyTensor's rewrites and its C compilation of the rest of the
graph.  Both mostly wait on a compiler (gcc in a subprocess; LLVM through
ctypes), so they overlap well: before :func:`~theano_rnn.runtime.compile.compile_function`
compiles a graph for the C or PY backend it calls :func:`precompile_for`,
which asks every op of the graph for ``op.background_compile(node)`` and
starts one thread per key not started before in this process.

The protocol: ``background_compile(node)`` returns ``None`` or ``(key,
fn)``, ``key`` hashable (say ``("lstm", "float32")``), ``fn()`` compiling
exactly the specialisation the op's calls will use (for instance by calling
the kernel once on tiny arrays of the same types; a compiled kernel loads from
numba's disk cache instead).  A failure in ``fn`` is logged at DEBUG and
changes nothing: the op's own call compiles, and raises, as without this.
The other backends compile the kernels into their own graphs (NUMBA) or do
not use them (JAX), so nothing starts there.

``THEANO_RNN_PRECOMPILE=0`` turns this off.
"""

from __future__ import annotations

import logging
import threading

from pytensor.graph.traversal import ancestors

from theano_rnn.runtime.modes import mode_name
from theano_rnn.runtime.switches import switched_off

__all__ = ["precompile_for", "start", "wait", "enabled"]

log = logging.getLogger(__name__)

_lock = threading.Lock()
_threads: dict = {}  # key -> Thread


def enabled(environ=None) -> bool:
    return not switched_off("THEANO_RNN_PRECOMPILE", environ)


def _perform_backend(mode) -> bool:
    """Whether ``mode`` runs the ops' ``perform`` (the C and PY backends)."""
    try:
        return mode_name(mode) in ("C", "PY")
    except ValueError:  # a mode name of PyTensor's own (DebugMode ...)
        return False


def _run(key, fn):
    try:
        fn()
        log.debug("background compile %s done", key)
    except Exception:
        log.debug("background compile %s failed", key, exc_info=True)


def start(key, fn):
    """Run ``fn`` in a thread, once per ``key`` in this process; returns the thread."""
    with _lock:
        thread = _threads.get(key)
        if thread is None:
            thread = threading.Thread(target=_run, args=(key, fn),
                                      name=f"theano_rnn-precompile-{key}")
            _threads[key] = thread
            thread.start()
    return thread


def precompile_for(outputs, mode):
    """Start the background compiles that the graph of ``outputs`` asks for, if
    ``mode`` runs the ops' ``perform``; returns the threads (else ``[]``)."""
    if not enabled() or not _perform_backend(mode):
        return []
    wanted = {}
    for var in ancestors(list(outputs)):
        node = var.owner
        ask = getattr(node.op, "background_compile", None) if node is not None else None
        if ask is not None:
            job = ask(node)
            if job is not None:
                wanted.setdefault(job[0], job[1])
    return [start(key, fn) for key, fn in wanted.items()]


def wait(timeout=None):
    """Join every background compile started so far (for tests)."""
    for thread in list(_threads.values()):
        thread.join(timeout)
