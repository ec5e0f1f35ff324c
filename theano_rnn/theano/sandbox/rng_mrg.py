"""``theano.sandbox.rng_mrg.MRG_RandomStreams`` (see :mod:`theano_rnn.theano.randomstreams`)."""

from __future__ import annotations

from theano_rnn.theano.randomstreams import MRG_RandomStreams

__all__ = ["MRG_RandomStreams"]
