"""``theano.tensor.shared_randomstreams`` (also importable from here)."""

from __future__ import annotations

from theano_rnn.theano.randomstreams import RandomStreams

__all__ = ["RandomStreams"]
