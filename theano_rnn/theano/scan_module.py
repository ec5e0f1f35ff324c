"""``theano.scan_module``: ``scan`` (Theano's return, see :mod:`theano_rnn.theano`) and ``until``."""

from __future__ import annotations

from pytensor.scan.utils import until

from theano_rnn.compat import scan

__all__ = ["scan", "until"]
