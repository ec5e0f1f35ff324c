"""On/off environment switches: the one spelling of "off" for every ``THEANO_RNN_*`` switch."""

from __future__ import annotations

import os

__all__ = ["OFF_VALUES", "switched_off"]

#: values (case and surrounding blanks ignored) that turn a switch off
OFF_VALUES = frozenset({"0", "off", "no", "false"})


def switched_off(name, environ=None) -> bool:
    """Whether the environment variable ``name`` is set to one of :data:`OFF_VALUES`."""
    value = (os.environ if environ is None else environ).get(name, "")
    return value.strip().lower() in OFF_VALUES
