"""Argument checks shared by the data modules (each raises one-line :class:`DataError`)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from theano_rnn.errors import DataError

__all__ = ["check_int", "check_choice", "check_rng", "randint", "check_split_fractions", "too_long",
           "preview"]


def check_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DataError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise DataError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def preview(tokens, n: int = 6) -> str:
    """The first ``n`` tokens joined by spaces (``...`` when there are more)."""
    words = " ".join(str(t) for t in list(tokens)[:n])
    return words + (" ..." if len(tokens) > n else "")


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise DataError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_rng(rng):
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise DataError(
        "rng must be a numpy Generator or RandomState, or an integer seed, "
        f"got {type(rng).__name__}"
    )


def randint(rng, high: int) -> int:
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(high))
    return int(rng.randint(high))


def check_split_fractions(fractions) -> tuple[float, float, float]:
    try:
        fr = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise DataError(f"fractions must be 3 numbers (train, valid, test), got {fractions!r}") from None
    if len(fr) != 3:
        raise DataError(f"fractions must be 3 numbers (train, valid, test), got {fractions!r}")
    if not all(0.0 <= f <= 1.0 for f in fr):
        raise DataError(f"fractions must each be between 0 and 1, got {fr}")
    if fr[0] <= 0.0:
        raise DataError(f"the train fraction must be > 0, got {fr}")
    if abs(sum(fr) - 1.0) > 1e-6:
        raise DataError(f"fractions {fr} must add up to 1")
    return fr


def too_long(what: str, index: int, tokens, max_length: int, hint: str) -> DataError:
    return DataError(
        f"{what} {index} has {len(tokens)} tokens, more than max_length={max_length} "
        f"({preview(tokens)}){hint}"
    )
