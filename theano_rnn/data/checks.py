"""Argument checks shared by the data modules (each raises one-line :class:`DataError`)."""

from __future__ import annotations

import numbers

from theano_rnn.errors import DataError

__all__ = ["check_int"]


def check_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DataError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise DataError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
