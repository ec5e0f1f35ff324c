"""Argument and finiteness checks shared by the training loops.

Each raises ``ValueError`` with a one-line message (or
:class:`~theano_rnn.errors.NonFiniteLossError` for non-finite parameters), so
every loop rejects bad input the same way before any work is done.
"""

from __future__ import annotations

import math

import numpy as np

from theano_rnn.errors import NonFiniteLossError

__all__ = ["check_data", "check_positive_number", "check_count", "is_rmsprop", "is_finite",
           "check_params_finite"]


def check_data(X_train, y_train):
    try:
        nx, ny = len(X_train), len(y_train)
    except TypeError:
        raise ValueError("X_train and y_train must be sequences of sentences") from None
    if nx != ny:
        raise ValueError(f"X_train has {nx} sentences but y_train has {ny}")
    if nx == 0:
        raise ValueError("no training examples")
    return nx


def check_positive_number(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def is_rmsprop(model):
    return getattr(model, "optimizer", None) == "rmsprop"


def is_finite(value):
    """``True`` for a finite scalar; ``None`` (a step that returns nothing) counts as finite."""
    if value is None:
        return True
    return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))


def check_params_finite(model, epoch):
    get_params = getattr(model, "get_params", None)
    if get_params is None:
        return
    bad = [n for n, v in get_params().items() if not np.all(np.isfinite(v))]
    if bad:
        raise NonFiniteLossError(
            f"parameters {', '.join(bad)} became non-finite in the last step of epoch {epoch}",
            epoch=epoch,
        )
