"""Vectorisable ``exp`` for the numba kernels, and the activations built on it.

Numba compiles ``math.exp`` / ``np.exp`` / ``np.tanh`` of a scalar to a
call of the C library's scalar function, which blocks SIMD; on these
kernels that costs several times the GEMMs (../shared/REFERENCE.md,
"Engine feasibility").  :func:`exp_inplace` is plain arithmetic the compiler
vectorises: ``exp(x) = 2^k exp(r)`` with ``k = round(x / ln 2)`` (the
1.5 * 2^52 rounding trick), ``r = x - k ln 2`` in two parts (Cody-Waite),
``exp(r)`` by its Taylor polynomial of degree 13 (truncation error below
5e-18 relative for ``|r| <= ln(2)/2``) and ``2^k`` written into the
exponent bits through an int64 view.  Measured against NumPy's ``exp`` on
``[-700, 700]``: within 2 ulp.  ``x`` is clamped to ``[-708, 709]`` (the
result stays a normal number; the activations below only need that) and a
NaN stays NaN, so a diverging model still shows NaN.

All arithmetic is float64 (float32 data are widened on the way in), with
NumPy's error model and no fast-math, so results do not depend on the
compiler's reassociation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["exp_inplace", "sigmoid_from_exp", "tanh_from_exp", "JIT"]

#: the options every kernel is compiled with
JIT = dict(cache=True, error_model="numpy", fastmath=False, nogil=True)

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2**52: adding and subtracting it rounds to an integer
_X_MIN = -708.0
_X_MAX = 709.0
# 1/k! for k = 13 .. 2
_C13 = 1.0 / 6227020800.0
_C12 = 1.0 / 479001600.0
_C11 = 1.0 / 39916800.0
_C10 = 1.0 / 3628800.0
_C9 = 1.0 / 362880.0
_C8 = 1.0 / 40320.0
_C7 = 1.0 / 5040.0
_C6 = 1.0 / 720.0
_C5 = 1.0 / 120.0
_C4 = 1.0 / 24.0
_C3 = 1.0 / 6.0
_C2 = 0.5


@njit(**JIT)
def exp_inplace(x, bits):
    """``x[:n] = exp(x[:n])`` for a contiguous float64 vector ``x`` (``n =
    len(bits)``), ``bits`` an int64 scratch vector of length ``n``."""
    n = bits.shape[0]
    for j in range(n):
        v = x[j]
        w = min(max(v, _X_MIN), _X_MAX)  # NaN -> _X_MIN here; restored below
        k = (w * _LOG2E + _ROUND) - _ROUND
        r = (w - k * _LN2_HI) - k * _LN2_LO
        p = _C13
        p = p * r + _C12
        p = p * r + _C11
        p = p * r + _C10
        p = p * r + _C9
        p = p * r + _C8
        p = p * r + _C7
        p = p * r + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        p = p * r + 1.0
        p = p * r + 1.0
        x[j] = p if v == v else v
        bits[j] = (np.int64(k) + 1023) << 52
    scale = bits.view(np.float64)
    for j in range(n):
        x[j] *= scale[j]


@njit(**JIT)
def sigmoid_from_exp(e):
    """``1 / (1 + e)`` with ``e = exp(-a)``: ``sigmoid(a)``."""
    return 1.0 / (1.0 + e)


@njit(**JIT)
def tanh_from_exp(a, e):
    """``tanh(a)`` from ``e = exp(-2 |a|)``: ``sign(a) (1 - e) / (1 + e)``."""
    t = (1.0 - e) / (1.0 + e)
    return t if a >= 0 else -t
