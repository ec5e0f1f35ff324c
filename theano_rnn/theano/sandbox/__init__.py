"""``theano.sandbox``: ``rng_mrg`` (``MRG_RandomStreams``); ``cuda`` and
``gpuarray`` raise one ImportError naming the JAX backend."""

from __future__ import annotations

from theano_rnn.theano.modes import GPU_MESSAGE
from theano_rnn.theano.sandbox import rng_mrg

__all__ = ["rng_mrg"]


def __getattr__(name):
    if name in ("cuda", "gpuarray"):
        raise ImportError(GPU_MESSAGE)
    raise AttributeError(f"module 'theano.sandbox' has no attribute {name!r}")
