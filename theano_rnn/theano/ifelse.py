"""``theano.ifelse``: ``ifelse(condition, then, else)`` (PyTensor's, unchanged)."""

from __future__ import annotations

from pytensor.ifelse import IfElse, ifelse

__all__ = ["ifelse", "IfElse"]
