"""``theano.tensor.nnet.nnet``: softmax and the cross-entropies, Theano's semantics.

``softmax(x)`` normalises **each row** (a vector gives a ``(1, n)`` row, as
Theano's ``Softmax`` op did): never the whole matrix, which is what
``pytensor.tensor.special.softmax`` does with its default ``axis=None``.
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.tensor.special import log_softmax

from theano_rnn.compat import categorical_crossentropy, softmax
from theano_rnn.theano.tensor.nnet.sigm import softplus

__all__ = [
    "softmax", "softmax_graph", "softmax_with_bias", "logsoftmax", "softmax_op",
    "categorical_crossentropy", "binary_crossentropy", "sigmoid_binary_crossentropy",
    "crossentropy_categorical_1hot", "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias", "crossentropy_softmax_argmax_1hot_with_bias",
    "relu", "elu", "selu", "softsign",
]

#: the op-level name scripts sometimes call
softmax_op = softmax


def _rows(x, what):
    x = pt.as_tensor_variable(x)
    if x.ndim == 1:
        return x.dimshuffle("x", 0)
    if x.ndim != 2:
        raise ValueError(f"{what} expects a vector or a matrix, got ndim={x.ndim}")
    return x


def softmax_graph(c):
    """Theano's symbolic ``exp(c) / exp(c).sum(axis=-1, keepdims=True)`` (no max shift)."""
    e = pt.exp(c)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_with_bias(x, b):
    """``softmax(x + b)`` row by row (``x`` a matrix, ``b`` a vector)."""
    return softmax(_rows(x, "softmax_with_bias") + b)


def logsoftmax(c):
    """``log(softmax(c))`` row by row, computed stably (a vector gives a row)."""
    return log_softmax(_rows(c, "logsoftmax"), axis=-1)


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))``, elementwise."""
    return -(target * pt.log(output) + (1.0 - target) * pt.log(1.0 - output))


def sigmoid_binary_crossentropy(output, target):
    """``binary_crossentropy(sigmoid(output), target)``, computed stably from the logits."""
    return softplus(-abs(output)) + output * (pt.gt(output, 0) - target)


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """``-log(coding_dist[arange(n), true_one_of_n])``."""
    coding_dist = pt.as_tensor_variable(coding_dist)
    return -pt.log(coding_dist[pt.arange(coding_dist.shape[0]), true_one_of_n])


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx, **kwargs):
    """``(nll, softmax(x + b), argmax)`` with ``nll[i] = -log softmax(x + b)[i, y_idx[i]]``."""
    z = _rows(x, "crossentropy_softmax_1hot") + b
    logp = log_softmax(z, axis=-1)
    nll = -logp[pt.arange(z.shape[0]), y_idx]
    return nll, softmax(z), pt.argmax(z, axis=-1)


def crossentropy_softmax_1hot_with_bias(x, b, y_idx, **kwargs):
    """``(nll, softmax(x + b))`` (Theano's pair)."""
    return crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx)[:2]


def crossentropy_softmax_1hot(x, y_idx, **kwargs):
    """``(nll, softmax(x))`` for integer targets ``y_idx``."""
    x = pt.as_tensor_variable(x)
    return crossentropy_softmax_1hot_with_bias(x, pt.zeros_like(x[0, :]), y_idx)


def relu(x, alpha=0):
    """Theano's ``relu``: ``0.5 * (x + |x|)`` (gradient 0.5 at 0, as Theano's),
    leaky with slope ``alpha`` below 0."""
    if isinstance(alpha, (int, float)) and alpha == 0:
        return 0.5 * (x + abs(x))
    alpha = pt.as_tensor_variable(alpha)
    return 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * abs(x)


def elu(x, alpha=1):
    """``x`` above 0, ``alpha * (exp(x) - 1)`` below."""
    return pt.switch(pt.gt(x, 0), x, alpha * pt.expm1(x))


_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717


def selu(x):
    """Scaled ELU with the self-normalising constants."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def softsign(x):
    """``x / (1 + |x|)``."""
    return x / (1.0 + abs(x))
