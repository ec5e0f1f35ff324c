"""Theano's mode names and ``theano.Mode`` on the project's backends.

==========================  ==============================================
Theano                      here
==========================  ==============================================
``'FAST_RUN'`` (default)    the C backend (``cvm`` linker, ``fast_run``
                            rewrites), :func:`theano_rnn.runtime.modes.get_mode`
``'FAST_COMPILE'``          the Python backend (``py`` linker)
``'DebugMode'``             PyTensor's ``DebugMode`` (slow self-checks)
``'ProfileMode'``           the C backend (profile with ``profile=True``)
``'NUMBA'``, ``'JAX'``...   the project's other backends
``Mode(linker='cvm')``      the C backend (any ``c``/``cvm``/``vm`` linker)
``Mode(linker='py')``       the Python backend
``Mode(optimizer=...)``     that rewrite set on the chosen linker
==========================  ==============================================

Linkers ``'c'`` and ``'c|py'`` name Theano's pure C linkers; they are run
as the C virtual machine, which runs an op without C code (the random
variables) through its Python implementation instead of refusing the
graph.  GPU names raise :data:`GPU_MESSAGE`.
"""

from __future__ import annotations

from pytensor.compile.mode import Mode as PyTensorMode
from pytensor.compile.mode import get_mode as pytensor_get_mode

from theano_rnn.runtime.modes import get_mode

__all__ = ["Mode", "resolve_mode", "GPU_MESSAGE", "C_LINKERS"]

#: the one error for Theano's GPU back-ends
GPU_MESSAGE = (
    "Theano's GPU back-ends (theano.sandbox.cuda, theano.gpuarray, device=cuda/gpu) do not "
    "exist on PyTensor: compile with mode='JAX' (the JAX backend runs on accelerators)"
)

#: Theano linker names that mean "compiled C", all run by the C virtual machine
C_LINKERS = ("cvm", "c", "c|py", "c|py_nogc", "cvm_nogc", "vm", "vm_nogc")
_OPTIMIZERS = {"default": "fast_run", "fast_run": "fast_run", "o4": "fast_run",
               "fast_compile": "fast_compile", "o1": "fast_compile", "None": None, None: None,
               "merge": "merge", "stabilize": "stabilize", "unsafe": "unsafe"}


class Mode(PyTensorMode):
    """``theano.Mode(linker=None, optimizer='default')`` with Theano's meanings.

    ``linker=None`` or any C/VM linker name gives the C virtual machine
    (``cvm``); ``'py'`` the Python linker; ``'numba'``/``'jax'`` those
    backends.  ``optimizer='default'`` is ``'fast_run'`` (Theano's default).
    """

    def __init__(self, linker=None, optimizer="default"):
        if linker is None or linker in C_LINKERS:
            linker = "cvm"
        elif isinstance(linker, str) and linker.lower() in ("gpu", "cuda", "gpuarray"):
            raise ValueError(GPU_MESSAGE)
        if isinstance(optimizer, str) or optimizer is None:
            if optimizer not in _OPTIMIZERS:
                raise ValueError(f"unknown optimizer {optimizer!r}; Theano's were "
                                 f"{', '.join(k for k in _OPTIMIZERS if isinstance(k, str))}")
            optimizer = _OPTIMIZERS[optimizer]
        if linker == "cvm" and optimizer == "fast_run":
            # the C backend (it links its BLAS on first use): its rewrites too,
            # incl. the C softmax ops (theano_rnn.runtime.softmax_c)
            optimizer = get_mode("C").provided_optimizer
        super().__init__(linker=linker, optimizer=optimizer)


def resolve_mode(mode):
    """A PyTensor ``Mode`` for a Theano mode (a name, a :class:`Mode`, a PyTensor mode)."""
    if isinstance(mode, PyTensorMode):
        return mode
    if mode is None:
        raise ValueError("resolve_mode(None): use theano.config.mode")
    name = str(mode)
    key = name.upper().replace("_", "")
    if key in ("DEBUGMODE",):
        return pytensor_get_mode("DebugMode")
    if key in ("PROFILEMODE",):
        return get_mode("C")
    if key in ("GPU", "CUDA", "GPUARRAY"):
        raise ValueError(GPU_MESSAGE)
    return get_mode(name)  # FAST_RUN -> C, FAST_COMPILE -> PY, NUMBA, JAX...
