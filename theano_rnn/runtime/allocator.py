"""glibc ``malloc`` settings for a training process: reuse large buffers instead of faulting them in.

A training step allocates the same large arrays every call (a scan's
``(C, H)`` gradient accumulators, the ``(T·B, C)`` logits and their
gradient).  glibc serves blocks above its mmap threshold with a fresh
``mmap`` and returns them to the kernel on ``free``, and it trims the heap
whenever more than the trim threshold is free at its top; either way the next
step's buffer is new memory, and the kernel zero-fills every 4 KiB page of it
on first touch.  On the 2-core benchmark VM that page-fault cost was a third
to a half of the faithful WildML RNN step (BENCHMARKS.md, "Allocator").

:func:`tune_allocator` sets both thresholds once (``mallopt``), so that
freed blocks stay in the heap and the next step reuses them.  The price is
memory: the process keeps up to its peak heap (plus ``trim_threshold``)
instead of giving it back between steps.  It is a process-wide setting, so
the library never calls it on import: the command-line tools and the
benchmark scripts call it at start-up (``THEANO_RNN_MALLOC=default`` turns
it off there), and a user's own script may call it first thing.  On a
C library without ``mallopt`` (macOS, musl) it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

__all__ = ["tune_allocator", "allocator_state", "ENV_VAR"]

log = logging.getLogger(__name__)

ENV_VAR = "THEANO_RNN_MALLOC"

# glibc's <malloc.h> parameter numbers.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# mallopt(3)'s documented upper limit for the mmap threshold on 64-bit
# (DEFAULT_MMAP_THRESHOLD_MAX); glibc 2.36 here accepts more, older ones may not.
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 512 * 1024 * 1024

_STATE = {"tuned": False, "mmap_threshold": None, "trim_threshold": None, "reason": "not called"}


def _libc():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    return lib if hasattr(lib, "mallopt") else None


def tune_allocator(mmap_threshold=MMAP_THRESHOLD, trim_threshold=TRIM_THRESHOLD, env=None):
    """Raise glibc's mmap and trim thresholds for this process; True when both were set.

    ``env`` (default ``os.environ``): ``THEANO_RNN_MALLOC=default`` (or ``0``,
    ``off``) leaves the allocator alone.  Calling it again with the same values
    changes nothing.  Returns False, and logs why at INFO, where it did
    nothing.
    """
    env = os.environ if env is None else env
    choice = env.get(ENV_VAR, "").strip().lower()
    if choice in ("default", "0", "off", "no"):
        _STATE.update(tuned=False, reason=f"{ENV_VAR}={choice}")
        log.info("allocator left alone (%s=%s)", ENV_VAR, choice)
        return False
    if not all(0 < int(v) < 2 ** 31 for v in (mmap_threshold, trim_threshold)):
        raise ValueError("tune_allocator: the thresholds must be positive byte counts below 2 GiB")
    lib = _libc()
    if lib is None:
        _STATE.update(tuned=False, reason="no mallopt in this C library")
        log.info("allocator left alone: this C library has no mallopt")
        return False
    lib.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    lib.mallopt.restype = ctypes.c_int
    # The mmap threshold first: a raised trim threshold alone (glibc then stops
    # adapting its mmap threshold) makes every block above 128 KiB an mmap.
    if lib.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) != 1:
        _STATE.update(tuned=False, reason="mallopt refused the mmap threshold")
        log.info("allocator left alone: mallopt refused mmap threshold %d", mmap_threshold)
        return False
    if lib.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) != 1:
        _STATE.update(tuned=False, reason="mallopt refused the trim threshold")
        log.info("allocator: mallopt refused trim threshold %d", trim_threshold)
        return False
    _STATE.update(tuned=True, mmap_threshold=int(mmap_threshold),
                  trim_threshold=int(trim_threshold), reason="")
    log.debug("allocator: mmap threshold %d, trim threshold %d", mmap_threshold, trim_threshold)
    return True


def allocator_state():
    """What :func:`tune_allocator` did in this process (a dict; for benchmark records)."""
    return dict(_STATE)
