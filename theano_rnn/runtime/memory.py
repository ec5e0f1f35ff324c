"""How much memory the machine can still give: the basis of the "absurd sizes" checks.

:func:`available_memory` reads ``MemAvailable`` from ``/proc/meminfo`` (Linux),
else physical pages from ``os.sysconf``, and takes the smaller of that and a
``RLIMIT_AS`` address-space limit (``ulimit -v``) when one is set.  ``None``
when nothing can be read: callers then check nothing.
"""

from __future__ import annotations

import os

__all__ = ["available_memory", "nbytes_of_shapes"]


def _meminfo_available(path="/proc/meminfo"):
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sysconf_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _address_space_limit():
    try:
        import resource
    except ImportError:  # not on every platform
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY or soft < 0 else soft


def available_memory(meminfo="/proc/meminfo"):
    """Bytes of memory available to this process now (None: unknown)."""
    found = [m for m in (_meminfo_available(meminfo) or _sysconf_memory(), _address_space_limit())
             if m is not None]
    return min(found) if found else None


def nbytes_of_shapes(shapes, itemsize=8):
    """Bytes of arrays of the given shapes (a dict name -> shape, or an iterable of shapes)."""
    values = shapes.values() if hasattr(shapes, "values") else shapes
    total = 0
    for shape in values:
        n = 1
        for d in shape:
            n *= int(d)
        total += n
    return total * itemsize
