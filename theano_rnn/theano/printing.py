"""``theano.printing``: ``pp``, ``debugprint``, ``pydotprint``, ``Print`` (PyTensor's)."""

from __future__ import annotations

from pytensor.printing import Print, debugprint, min_informative_str, pp, pydotprint

__all__ = ["pp", "debugprint", "pydotprint", "Print", "min_informative_str"]
