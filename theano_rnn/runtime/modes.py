"""Backend modes: one PyTensor ``Mode`` per backend name, built once.

``"C"`` (also ``"FAST_RUN"``/``"CVM"``: Theano's meaning of FAST_RUN, the C
virtual machine, with a BLAS linked by :mod:`theano_rnn.runtime.blas` and the
C softmax ops of :mod:`theano_rnn.runtime.softmax_c`),
``"NUMBA"``, ``"JAX"`` (x64 chosen per compiled function) and ``"PY"``.

Higher layers that extend a backend (e.g. register how their own ops run
under JAX, whose dispatch imports jax) ask to be called when that backend's
mode is first built: :func:`on_backend_first_use`.  This keeps optional
backends unimported until someone uses them, and keeps this layer free of
imports from above.
"""

from __future__ import annotations

import functools

from pytensor.compile.mode import Mode
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.link.jax.linker import JAXLinker  # jax itself is imported only when used
from pytensor.scan.op import Scan

from theano_rnn.runtime.blas import ensure_blas
from theano_rnn.runtime import perform_ops
from theano_rnn.runtime.pch import ensure_precompiled_header
from theano_rnn.runtime.softmax_c import (
    SOFTMAX_C_POSITION,
    SOFTMAX_GRAD_C_POSITION,
    softmax_c_rewriter,
    softmax_grad_c_rewriter,
)

__all__ = ["BACKENDS", "mode_name", "get_mode", "on_backend_first_use", "c_mode_rewrites",
           "c_scan_inner_mode"]

BACKENDS = ("C", "NUMBA", "JAX", "PY")
_ALIASES = {
    "C": "C",
    "CVM": "C",
    "FAST_RUN": "C",  # Theano's FAST_RUN was the C backend
    "NUMBA": "NUMBA",
    "JAX": "JAX",
    "PY": "PY",
    "PYTHON": "PY",
    "FAST_COMPILE": "PY",
}


def mode_name(mode) -> str:
    """Canonical backend name for ``mode`` (``None`` -> ``"C"``)."""
    if mode is None:
        return "C"
    if isinstance(mode, Mode):
        linker = type(mode.linker).__name__.lower()
        if "numba" in linker:
            return "NUMBA"
        if "jax" in linker:
            return "JAX"
        return "C"
    key = str(mode).upper()
    if key not in _ALIASES:
        raise ValueError(
            f"unknown mode {mode!r}; choose one of C (FAST_RUN), NUMBA, JAX, PY"
        )
    return _ALIASES[key]


def _needs_x64(fgraph) -> bool:
    """Whether a graph (scan inner graphs included) holds any 64-bit float."""
    seen = set()
    todo = [fgraph]
    while todo:
        g = todo.pop()
        if id(g) in seen:
            continue
        seen.add(id(g))
        if any(getattr(v.type, "dtype", None) in ("float64", "complex128") for v in g.variables):
            return True
        todo.extend(n.op.fgraph for n in g.apply_nodes if getattr(n.op, "fgraph", None) is not None)
    return False


class _ScopedX64JAXLinker(JAXLinker):
    """PyTensor's JAX linker with JAX's x64 mode chosen per compiled function.

    PyTensor sets the process-global ``jax_enable_x64`` once, from ``floatX``
    at the first import of its JAX dispatch: imported under float32, every
    later float64 graph silently computes in float32; imported under float64,
    float32 graphs get float64 values wherever a Python scalar is broadcast
    (``Alloc`` of a constant), which breaks scans.  :func:`get_mode` turns
    the global flag on (float64 results are JAX arrays that callers compute
    with), and this linker converts, traces and runs each function inside
    ``jax.enable_x64(...)``: on for graphs with float64 variables, off for
    float32 graphs.
    """

    _x64 = True

    def fgraph_convert(self, fgraph, *args, **kwargs):
        import jax

        self._x64 = _needs_x64(fgraph)
        with jax.enable_x64(self._x64):
            return super().fgraph_convert(fgraph, *args, **kwargs)

    def jit_compile(self, fn):
        import jax

        x64 = self._x64
        with jax.enable_x64(x64):
            jitted = super().jit_compile(fn)

        def call(*args):
            with jax.enable_x64(x64):
                return jitted(*args)

        return call


#: backend name -> hooks waiting for its mode to be built (each runs once)
_hooks: dict = {name: [] for name in BACKENDS}
#: backends whose mode has been built in this process
_built: set = set()


def on_backend_first_use(backend, fn):
    """Call ``fn()`` when the mode of ``backend`` (any name :func:`mode_name`
    accepts) is first built by :func:`get_mode`, or now if it already was.

    Each hook runs once.  Meant for registrations that need the backend's
    own modules (``numba_funcify`` / ``jax_funcify`` of a package's ops):
    they happen exactly when the backend is used, never at import.
    """
    name = mode_name(backend)
    if name in _built:
        fn()
    else:
        _hooks[name].append(fn)


def _run_hooks(name):
    _built.add(name)
    pending = _hooks[name]
    while pending:
        pending.pop(0)()


@functools.lru_cache(maxsize=None)
def _mode_for(name: str) -> Mode:
    mode = _build_mode(name)
    _run_hooks(name)
    return mode


#: where :data:`scan_inner_c_mode` runs: after every scan rewrite that builds
#: new ``Scan`` ops from old ones (they copy the mode), before fusion (49)
SCAN_MODE_POSITION = 48.5


@node_rewriter([Scan])
def local_scan_inner_c_mode(fgraph, node):
    """Compile a scan's inner graph with theano_rnn's C mode.

    A ``Scan`` built without ``mode=`` (all of theano_rnn's and the
    tutorials') compiles its inner function with PyTensor's own
    ``Mode("cvm", "fast_run")``, which lacks this mode's rewrites (the C
    softmax).  Inside the C mode such a scan gets the C mode instead -- the
    same linker and rewrites (including this one, for nested scans).  A scan
    given an explicit mode keeps it.
    """
    op = node.op
    if op.mode not in (None, "FAST_RUN"):
        return None
    new_op = op.clone()
    new_op.mode = c_scan_inner_mode()
    return new_op.make_node(*node.inputs).outputs


scan_inner_c_mode = dfs_rewriter(local_scan_inner_c_mode)


def c_mode_rewrites():
    """The ``(rewriter, position)`` pairs the C mode adds to PyTensor's
    ``fast_run``: the C softmax ops (:mod:`theano_rnn.runtime.softmax_c`) and
    the scan inner graphs compiled with the C mode.  For a ``cvm`` mode built
    elsewhere: ``Mode(linker="cvm", optimizer="fast_run").register(*c_mode_rewrites())``."""
    return (
        (softmax_grad_c_rewriter, SOFTMAX_GRAD_C_POSITION),
        (softmax_c_rewriter, SOFTMAX_C_POSITION),
        (scan_inner_c_mode, SCAN_MODE_POSITION),
    )


@functools.lru_cache(maxsize=None)
def c_scan_inner_mode() -> Mode:
    """The C mode of scan inner graphs: the C mode without
    :mod:`~theano_rnn.runtime.perform_ops` (an inner op runs once per step)."""
    _mode_for("C")  # the BLAS link and the precompiled header first
    return Mode(linker="cvm", optimizer="fast_run").register(*c_mode_rewrites())


def _build_mode(name: str) -> Mode:
    if name == "C":
        ensure_blas()  # links a BLAS once, on first use
        ensure_precompiled_header()  # then g++ loads the modules' common headers precompiled
        # PyTensor's FAST_RUN plus, in this mode only (nothing registered in
        # PyTensor's global optdb): the C softmax ops, also inside scans, and,
        # outside scans, cheap structural ops through their Python perform
        # instead of one C module each
        rewrites = c_mode_rewrites()
        if perform_ops.enabled():
            rewrites += ((perform_ops.perform_structural, perform_ops.POSITION),)
        return Mode(linker="cvm", optimizer="fast_run").register(*rewrites)
    if name == "NUMBA":
        return Mode(linker="numba", optimizer="fast_run")
    if name == "JAX":
        try:
            import jax
        except ImportError:
            raise RuntimeError(
                "mode 'JAX' needs the jax package: pip install jax jaxlib "
                "(or install theano_rnn with its [jax] extra)"
            ) from None
        # PyTensor's dispatch sets the global flag from floatX at its first
        # import; float64 must win globally (outputs are JAX arrays that users
        # compute with), float32 graphs get x64 off inside the linker.
        import pytensor.link.jax.dispatch  # noqa: F401

        jax.config.update("jax_enable_x64", True)
        jax_rewrites = pytensor.compile.mode.JAX.provided_optimizer
        return Mode(linker=_ScopedX64JAXLinker(), optimizer=jax_rewrites)
    if name == "PY":
        return Mode(linker="py", optimizer="fast_compile")
    raise ValueError(name)  # pragma: no cover


def get_mode(mode):
    """A PyTensor ``Mode`` for a backend name, or ``mode`` itself if it is one.

    ``None``, ``"C"``, ``"CVM"`` and ``"FAST_RUN"`` give PyTensor's C backend
    (the ``cvm`` linker with the ``fast_run`` rewrites), which is what
    ``FAST_RUN`` meant in Theano.  (In PyTensor 3 the string ``"FAST_RUN"``
    would otherwise select Numba.)
    """
    if isinstance(mode, Mode):
        return mode
    return _mode_for(mode_name(mode))

