"""Pieces shared by the ``theano-rnn`` commands (:mod:`theano_rnn.cli`, :mod:`theano_rnn.charcli`).

One-line errors, an argparse parser whose usage errors are one line, and the
argument types both command modules use.
"""

from __future__ import annotations

import argparse

from theano_rnn.compat import mode_name

__all__ = ["PROG", "CLIError", "Parser", "int_at_least", "mode_type", "seed_type", "one_line"]

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
