"""Theano's two random-stream classes with their call signatures, on PyTensor.

``RandomStreams(seed=None)`` (``theano.tensor.shared_randomstreams``) and
``MRG_RandomStreams(seed=12345)`` (``theano.sandbox.rng_mrg``) keep Theano's
method signatures -- ``binomial(size=None, n=1, p=0.5, ndim=None,
dtype='int64')``, ``uniform(size, low=0.0, high=1.0, ndim=None, dtype=None)``,
``normal(size, avg=0.0, std=1.0, ...)``, ``multinomial(size=None, n=1,
pvals=...)``... -- so ``trng.binomial(x.shape, p=0.5, n=1, dtype=x.dtype)``
works as written (PyTensor's own ``binomial(n, p, size=)`` would take the
shape as ``n``).

Each draw gets its own shared NumPy generator (spawned from the stream's
``SeedSequence``, so a seed gives the same numbers on every backend) whose
``default_update`` advances it, as Theano's shared random states did: a
function compiled with the draw gets new numbers on every call without any
``updates`` argument.  ``seed(s)`` re-seeds every generator of the stream;
``updates()`` lists the ``(generator, next generator)`` pairs.

Differences from Theano, on purpose: the numbers come from NumPy's PCG64 (via
PyTensor's random variables), not from Theano's MRG31k3p or RandomState, so
the same seed gives other -- identically distributed -- values; ``dtype`` of
an integer draw (``binomial``) may be a float type (the draw is cast, as
Theano's MRG ``binomial`` did); the ``nstreams`` and ``target`` arguments
(GPU stream layout) are accepted and ignored.  The draws work on the C
(falling back to each draw's Python implementation inside the C virtual
machine), Numba and JAX backends.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytensor.tensor.random.basic as ptr
from pytensor.tensor.random.variable import shared_rng

__all__ = ["RandomStreamsBase", "RandomStreams", "MRG_RandomStreams"]


def _float_dtype(dtype, *values):
    """Theano's rule: ``dtype`` or the upcast of floatX and the arguments' dtypes
    (Python numbers count as floatX)."""
    if dtype is not None:
        return dtype
    dtypes = [pytensor.config.floatX]
    for v in values:
        if not isinstance(v, (int, float, np.number)) or isinstance(v, np.floating):
            dtypes.append(pt.as_tensor_variable(v).dtype)
    return pytensor.scalar.upcast(*dtypes)


def _size(size):
    """Theano's ``size``: ``None``, an int, a tuple/list of ints or variables, or a
    symbolic vector such as ``x.shape``."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    if isinstance(size, (tuple, list)):
        if any(isinstance(s, (int, np.integer)) and s <= 0 for s in size):
            raise ValueError(f"The specified size contains a dimension with value <= 0: {size}")
        return tuple(size)
    size = pt.as_tensor_variable(size)
    if size.ndim != 1:
        raise TypeError(f"size must be a tuple of ints or a vector variable, got ndim={size.ndim}")
    return size


class RandomStreamsBase:
    """What both stream classes share: one seeded shared generator per draw."""

    def __init__(self, seed=None):
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.SeedSequence(seed)
        self.state_updates = []

    def updates(self):
        """The ``(generator, next generator)`` pairs of every draw so far."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Re-seed every generator of this stream (``None``: the construction seed)."""
        if seed is None:
            seed = self.default_instance_seed
        self.gen_seedgen = np.random.SeedSequence(seed)
        for (rng, _), child in zip(self.state_updates, self.gen_seedgen.spawn(len(self.state_updates))):
            rng.set_value(np.random.default_rng(child), borrow=True)

    def gen(self, op, *args, **kwargs):
        """Draw from PyTensor's random function ``op`` (e.g. ``ptr.normal``) with a
        new generator of this stream; returns the draw."""
        (child,) = self.gen_seedgen.spawn(1)
        rng = shared_rng(np.random.default_rng(child), borrow=True)
        next_rng, draw = op(*args, rng=rng, return_next_rng=True, **kwargs)
        with warnings.catch_warnings():
            # PyTensor 3 deprecates default_update, but it is what gives Theano's
            # behaviour: functions and scan loops advance the generator by themselves
            warnings.filterwarnings("ignore", "Setting default_update", DeprecationWarning)
            rng.default_update = next_rng
        rng.tag.is_rng = True
        self.state_updates.append((rng, next_rng))
        return draw

    @staticmethod
    def _cast(draw, dtype):
        return draw if dtype is None or draw.dtype == dtype else pt.cast(draw, dtype)

    # the shared draws of both classes
    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, **kwargs):
        """Uniform on ``[low, high)``; dtype: floatX or wider (Theano's rule)."""
        dtype = _float_dtype(dtype, low, high)
        low = pt.cast(pt.as_tensor_variable(low), dtype)
        high = pt.cast(pt.as_tensor_variable(high), dtype)
        return self._cast(self.gen(ptr.uniform, low, high, size=_size(size)), dtype)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, **kwargs):
        """Normal with mean ``avg`` and standard deviation ``std``."""
        dtype = _float_dtype(dtype, avg, std)
        avg = pt.cast(pt.as_tensor_variable(avg), dtype)
        std = pt.cast(pt.as_tensor_variable(std), dtype)
        return self._cast(self.gen(ptr.normal, avg, std, size=_size(size)), dtype)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None, **kwargs):
        """``n`` trials of probability ``p`` (``n=1``: Bernoulli, drawn as
        ``uniform < p`` like Theano's MRG); cast to ``dtype``."""
        if prob is not None:  # Theano's deprecated name of p
            p = prob
        if isinstance(n, (int, np.integer)) and n == 1:
            p = pt.as_tensor_variable(p)
            u = self.uniform(size=size, dtype=_float_dtype(None, p))
            return pt.cast(pt.lt(u, p), dtype)
        return self._cast(self.gen(ptr.binomial, n, p, size=_size(size)), dtype)


class RandomStreams(RandomStreamsBase):
    """``theano.tensor.shared_randomstreams.RandomStreams(seed=None)``."""

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers in ``[low, high]`` (``high`` included, as in Theano)."""
        high = pt.as_tensor_variable(high) + 1
        return self._cast(self.gen(ptr.integers, low, high, size=_size(size)), dtype)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Samples of ``arange(a)`` (or of the vector ``a``), optionally weighted by ``p``."""
        return self._cast(self.gen(ptr.choice, a, size=_size(size), replace=replace, p=p), dtype)

    def poisson(self, size=None, lam=1.0, ndim=None, dtype="int64"):
        """Poisson counts of rate ``lam``."""
        return self._cast(self.gen(ptr.poisson, lam, size=_size(size)), dtype)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """A permutation of ``arange(n)`` (one per row when ``size`` is given)."""
        if size is None or size == () or size == (1,):
            return self._cast(self.gen(ptr.permutation, n), dtype)
        keys = self.uniform(size=tuple(_size(size)) + (n,))
        return self._cast(pt.argsort(keys, axis=-1), dtype)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        """Counts of ``n`` draws over the categories of ``pvals`` (last axis)."""
        return self._cast(self.gen(ptr.multinomial, n, pt.as_tensor_variable(pvals),
                                   size=_size(size)), dtype)

    def shuffle_row_elements(self, input):
        """``input`` with the elements of each row shuffled independently."""
        input = pt.as_tensor_variable(input)
        keys = self.uniform(size=input.shape)
        order = pt.argsort(keys, axis=-1)
        return pt.take_along_axis(input, order, axis=-1)


class MRG_RandomStreams(RandomStreamsBase):
    """``theano.sandbox.rng_mrg.MRG_RandomStreams(seed=12345)``: Theano's MRG
    signatures (``size`` first; ``nstreams`` accepted and ignored)."""

    def __init__(self, seed=12345):
        super().__init__(seed)

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Uniform on ``(low, high)`` of shape ``size``."""
        return super().uniform(size=size, low=low, high=high, dtype=dtype)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
               truncate=False, **kwargs):
        """Normal draws; ``truncate=True`` keeps them within 2 standard deviations."""
        if truncate:
            return self.truncated_normal(size, avg, std, dtype=dtype)
        return super().normal(size=size, avg=avg, std=std, dtype=dtype)

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
                         **kwargs):
        """Normal draws conditioned on ``|x - avg| < 2 std`` (inverse CDF of a
        uniform on the central interval)."""
        dtype = _float_dtype(dtype, avg, std)
        lo = 0.5 * (1.0 + math.erf(-2.0 / math.sqrt(2.0)))  # Phi(-2)
        u = super().uniform(size=size, low=lo, high=1.0 - lo, dtype=dtype)
        z = pt.sqrt(pt.constant(2.0, dtype=dtype)) * pt.erfinv(2 * u - 1)
        return pt.cast(pt.cast(avg, dtype) + pt.cast(std, dtype) * z, dtype)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """Binomial draws of shape ``size`` (Theano's MRG had only ``n=1``)."""
        return super().binomial(size=size, n=n, p=p, dtype=dtype)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None,
                    **kwargs):
        """One multinomial draw of ``n`` trials per row of the matrix ``pvals``
        (output shaped like ``pvals``); ``size`` and ``ndim`` must be None, as in Theano."""
        if pvals is None:
            raise TypeError("You have to specify pvals")
        if size is not None or ndim is not None:
            raise ValueError("MRG_RandomStreams.multinomial takes its shape from pvals: "
                             "size and ndim must be None")
        pvals = pt.as_tensor_variable(pvals)
        if pvals.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.multinomial only implemented for pvals.ndim = 2")
        return self._cast(self.gen(ptr.multinomial, n, pvals), dtype)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64",
               nstreams=None, **kwargs):
        """``size`` indices per row of the matrix ``p``, without replacement
        (Theano implemented only ``replace=False``, ``a=None``)."""
        if replace:
            raise NotImplementedError("MRG_RandomStreams.choice only works without replacement")
        if a is not None:
            raise TypeError("For now, a has to be None in MRG_RandomStreams.choice")
        if p is None:
            raise TypeError("For now, p has to be specified in MRG_RandomStreams.choice")
        p = pt.as_tensor_variable(p)
        if p.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.choice is only implemented for p.ndim = 2")
        # Gumbel top-k: successive sampling without replacement, row by row
        u = super().uniform(size=p.shape, dtype=_float_dtype(None, p))
        keys = pt.log(p) - pt.log(-pt.log(u))
        order = pt.argsort(-keys, axis=1)
        return self._cast(order[:, :size], dtype)

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                                   nstreams=None, **kwargs):
        """Theano's deprecated name of ``choice(size=n, replace=False, p=pvals)``."""
        if size is not None:
            raise ValueError("size must be None")
        return self.choice(size=n, replace=False, p=pvals, dtype=dtype)
