"""``theano.tensor.nnet.sigm``: the sigmoid family with Theano's formulas.

``sigmoid``           the logistic function (Theano clamped to exactly 0/1
                      beyond |x| > 30; PyTensor computes the exact value,
                      a difference below 1e-13)
``hard_sigmoid``      ``clip(0.2 x + 0.5, 0, 1)``, Theano's slope 0.2 and its
                      inclusive-boundary gradient (:func:`theano_rnn.compat.hard_sigmoid`)
``ultra_fast_sigmoid`` Theano's piecewise approximation (max error ~0.02);
                      Theano gave it no gradient, here it has the
                      approximation's piecewise derivative
``softplus``          ``log(1 + exp(x))``, computed stably
"""

from __future__ import annotations

import pytensor.tensor as pt

from theano_rnn.compat import hard_sigmoid, sigmoid

__all__ = ["sigmoid", "hard_sigmoid", "ultra_fast_sigmoid", "softplus", "scalar_sigmoid"]

# Theano's tanh approximation behind ultra_fast_sigmoid, on |x| / 2
_KNEE1, _KNEE2 = 1.7, 3.0
_MID_OFFSET, _MID_SLOPE, _TOP = 0.935409070603099, 0.0458812946797165, 0.99505475368673


def ultra_fast_sigmoid(x):
    """Theano's ``ultra_fast_sigmoid``: ``0.5 * (t(x / 2) + 1)`` with Theano's
    piecewise tanh approximation ``t``."""
    x = pt.as_tensor_variable(x)
    dtype = x.dtype if x.dtype.startswith("float") else "float64"
    half = pt.cast(x, dtype) * pt.constant(0.5, dtype=dtype)
    a = abs(half)
    z = pt.switch(pt.lt(a, _KNEE1), 1.5 * a / (1 + a),
                  pt.switch(pt.lt(a, _KNEE2), _MID_OFFSET + _MID_SLOPE * (a - _KNEE1), _TOP))
    z = pt.switch(pt.ge(half, 0), z, -z)
    return pt.cast(0.5 * (z + 1.0), dtype)


def softplus(x):
    """``log(1 + exp(x))`` (Theano's ``T.nnet.softplus``)."""
    return pt.softplus(x)


#: Theano's scalar op name of the sigmoid
scalar_sigmoid = sigmoid
