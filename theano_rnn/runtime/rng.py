"""Explicit random generators: the one place a seed becomes a generator."""

from __future__ import annotations

import numpy as np

__all__ = ["resolve_rng"]


def resolve_rng(rng):
    """An explicit random generator from ``rng``; never NumPy's global one.

    ``None`` -> a fresh ``np.random.RandomState`` seeded from OS entropy; an
    int -> ``np.random.RandomState(seed)`` (the stream ``np.random.seed(seed)``
    gave the tutorials); a ``RandomState`` or ``np.random.Generator`` is used
    as is.
    """
    if rng is None:
        return np.random.RandomState()
    if isinstance(rng, (np.random.RandomState, np.random.Generator)):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.RandomState(int(rng))
    raise TypeError(
        f"rng must be None, an int seed, a np.random.RandomState or a np.random.Generator, "
        f"got {type(rng).__name__}"
    )
