"""``theano.tensor.shared_randomstreams.RandomStreams`` (Theano's signatures, see :mod:`theano_rnn.theano.randomstreams`)."""

from __future__ import annotations

from theano_rnn.theano.randomstreams import RandomStreams

__all__ = ["RandomStreams"]
