"""OpenBLAS thread pins: one thread per command unless the user chose otherwise.

:func:`blas_threads` pins every OpenBLAS already loaded (NumPy's, SciPy's)
for a block; a BLAS loaded later inside the block (the one
:mod:`theano_rnn.runtime.blas` links into PyTensor's C backend) gets the same
count through :func:`pin_loaded_library`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os

__all__ = ["blas_threads", "pin_loaded_library"]

log = logging.getLogger(__name__)


# One entry per blas_threads block in progress: [threads, restore list, pinned paths].
_ACTIVE_PINS = []


def _pin_library(path, n, restore):
    """Set ``path``'s OpenBLAS thread count to ``n``; remember the old one in ``restore``."""
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return
    for prefix in ("scipy_openblas", "openblas"):
        for suffix in ("64_", ""):
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                old = int(getter())
                if old != n:
                    setter(ctypes.c_int(n))
                    restore.append((setter, old))
                    log.debug("OpenBLAS %s: %d -> %d threads", path, old, n)
                return


@contextlib.contextmanager
def blas_threads(n):
    """Set the OpenBLAS thread count of the loaded BLAS libraries for the block.

    ``n`` None: 1 unless ``$OPENBLAS_NUM_THREADS`` / ``$OMP_NUM_THREADS`` is
    set (then nothing is changed); 0: nothing is changed.  Works with
    NumPy's bundled (scipy-)OpenBLAS through ctypes; silently does nothing
    where the library or its symbols are not found.  A BLAS library loaded
    later inside the block (SciPy's OpenBLAS, which :mod:`theano_rnn.runtime.blas`
    links into PyTensor's C backend) gets the same count through
    :func:`pin_loaded_library`.
    """
    if n is None:
        n = 0 if (os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")) else 1
    restore = []
    pinned = set()
    if n > 0:
        try:
            with open("/proc/self/maps") as fh:
                libs = sorted({ln.split()[-1] for ln in fh
                               if "openblas" in ln.lower() and ln.split()[-1].startswith("/")})
        except OSError:
            libs = []
        for path in libs:
            pinned.add(os.path.realpath(path))
            _pin_library(path, n, restore)
    entry = [n, restore, pinned]
    _ACTIVE_PINS.append(entry)
    try:
        yield
    finally:
        _ACTIVE_PINS[:] = [e for e in _ACTIVE_PINS if e is not entry]
        for setter, old in reversed(restore):
            setter(ctypes.c_int(old))


def pin_loaded_library(path):
    """Give a BLAS library loaded inside a :func:`blas_threads` block that block's thread count.

    Does nothing outside such a block (library use stays unpinned) or when
    the innermost block leaves the thread counts alone.
    """
    if not _ACTIVE_PINS:
        return
    n, restore, pinned = _ACTIVE_PINS[-1]
    real = os.path.realpath(path)
    if n > 0 and real not in pinned:
        pinned.add(real)
        _pin_library(real, n, restore)
