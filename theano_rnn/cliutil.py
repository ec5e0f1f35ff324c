"""Pieces shared by the ``theano-rnn`` commands (:mod:`theano_rnn.cli`, :mod:`theano_rnn.charcli`).

One-line errors, an argparse parser whose usage errors are one line, and the
argument types both command modules use.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import sys

from theano_rnn.compat import mode_name

__all__ = [
    "PROG", "CLIError", "Parser", "int_at_least", "mode_type", "seed_type", "one_line",
    "blas_threads", "pin_loaded_library", "LogFilter", "command_logging",
]

log = logging.getLogger(__name__)

PROG = "theano-rnn"


class CLIError(Exception):
    """A one-line error for the user (bad options, conflicting settings).

    ``status`` is the exit status: 1, or 2 for usage errors.
    """

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``theano-rnn: error: ...``)."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def int_at_least(minimum, what="value"):
    """An argparse type: an integer ``>= minimum``."""

    def convert(text):
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}, got {value}")
        return value

    convert.__name__ = "integer"
    return convert


def mode_type(text):
    """An argparse type: a backend name (C, FAST_RUN, NUMBA, JAX, ...)."""
    try:
        return mode_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seed_type(text):
    """An argparse type: a seed in ``[0, 2**32)``."""
    value = int_at_least(0, "seed")(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"seed must be < 2**32, got {value}")
    return value


def one_line(exc):
    """An exception's message squeezed onto one line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


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
    later inside the block (SciPy's OpenBLAS, which :mod:`theano_rnn.blas`
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


class LogFilter(logging.Filter):
    """Show this package's records at the chosen level, other libraries' only from WARNING.

    (Below DEBUG everything passes.)  PyTensor's per-compile "NumPy C-API
    based implementation for BLAS" record is dropped.
    """

    def __init__(self, level):
        super().__init__()
        self.level = level

    def filter(self, record):
        if record.name.startswith("pytensor") and "C-API based implementation" in str(record.msg):
            return False
        if self.level <= logging.DEBUG or record.name.startswith("theano_rnn"):
            return True
        return record.levelno >= logging.WARNING


@contextlib.contextmanager
def command_logging(level):
    """A stderr handler on the root logger for the duration of one command.

    Logging is configured only here, inside a command's ``main``; the handler
    and the root level are restored afterwards.
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    handler.addFilter(LogFilter(getattr(logging, level)))
    handler.setLevel(level)
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, getattr(logging, level)))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
