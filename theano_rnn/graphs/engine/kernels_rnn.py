"""Numba kernels of the ``rnn`` kind: ``s_t = tanh(pre_t + s_{t-1} Wm^T)``.

Forward: one ``(B, H) x (H, H)`` product per step (BLAS through ``np.dot``
on contiguous arrays), the tanh over the block in one vectorised pass.
Backward, over the whole sequence, with ``dn`` the gradient reaching the
step's new state (its output's plus the one carried from the next step):
``da = dn (1 - s^2)``, ``ds_prev = da Wm``, and ``dWm = sum_t da_t^T
s_{t-1}`` as one product after the loop.

Conventions of every kernel module: time index ``t`` of the outputs is the
time index of ``pre``; with ``backwards`` the steps run ``t = T-1 .. 0``.
``truncate = k > 0`` back-propagates through the last ``k`` steps run
only (Theano's ``truncate_gradient``): earlier steps get zero ``dpre`` and
the initial state's gradient is zero unless ``T <= k``.  A step with mask 0
keeps the previous state; its gradient passes to the previous state whole.
Every inner loop writes one array (so the compiler vectorises it); the
element-wise work is float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from theano_rnn.graphs.engine.vecmath import JIT, exp_inplace, tanh_from_exp

__all__ = ["rnn_forward", "rnn_backward", "order", "prev_states", "first_step",
           "rows_transposed", "rows_copy"]


# The small helpers below write element loops on purpose: numba compiles
# them much faster than np.arange / slicing / ascontiguousarray of a view.


@njit(**JIT)
def order(T, backwards):
    """The time indices in the order the steps run."""
    ts = np.empty(T, np.int64)
    for s in range(T):
        ts[s] = T - 1 - s if backwards else s
    return ts


@njit(**JIT)
def rows_transposed(M, r0, r1):
    """``M[r0:r1].T`` as a new C-contiguous array."""
    n = M.shape[1]
    out = np.empty((n, r1 - r0), M.dtype)
    for i in range(r1 - r0):
        for j in range(n):
            out[j, i] = M[r0 + i, j]
    return out


@njit(**JIT)
def rows_copy(M, r0, r1):
    """``M[r0:r1]`` as a new C-contiguous array."""
    n = M.shape[1]
    out = np.empty((r1 - r0, n), M.dtype)
    for i in range(r1 - r0):
        for j in range(n):
            out[i, j] = M[r0 + i, j]
    return out


@njit(**JIT)
def prev_states(hs, h0, ts):
    """``(T, B, H)``: the state each step started from, by time index."""
    T, B, H = hs.shape
    prev = np.empty_like(hs)
    p = h0
    for s in range(T):
        t = ts[s]
        q = prev[t]
        for b in range(B):  # element loops: slice assignment compiles slowly
            for j in range(H):
                q[b, j] = p[b, j]
        p = hs[t]
    return prev


@njit(**JIT)
def first_step(T, truncate):
    """Index (in run order) of the first step the backward visits."""
    return max(T - truncate, 0) if truncate > 0 else 0


@njit(**JIT)
def rnn_forward(pre, Wm, h0, mask, backwards):
    T, B, H = pre.shape
    dt = pre.dtype
    pre = np.ascontiguousarray(pre)
    WT = rows_transposed(Wm, 0, H)  # (H, H)
    hs = np.empty((T, B, H), dt)
    a = np.empty((B, H), dt)
    e = np.empty(B * H, np.float64)
    v = np.empty(B * H, np.float64)
    bits = np.empty(B * H, np.int64)
    ts = order(T, backwards)
    h_prev = rows_copy(h0, 0, B)
    a1 = a.reshape(B * H)
    for s in range(T):
        t = ts[s]
        np.dot(h_prev, WT, a)
        p1 = pre[t].reshape(B * H)
        for k in range(B * H):
            v[k] = np.float64(a1[k]) + np.float64(p1[k])
        for k in range(B * H):
            e[k] = -2.0 * abs(v[k])
        exp_inplace(e, bits)
        out = hs[t]
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    out[b, j] = tanh_from_exp(v[b * H + j], e[b * H + j])
            else:
                for j in range(H):
                    out[b, j] = h_prev[b, j]
        h_prev = hs[t]
    return hs


@njit(**JIT)
def rnn_backward(Wm, h0, mask, hs, dhs, backwards, truncate):
    T, B, H = hs.shape
    dt = hs.dtype
    Wm = rows_copy(Wm, 0, H)
    dpre = np.zeros((T, B, H), dt)
    carry = np.zeros((B, H), dt)
    back = np.empty((B, H), dt)
    ts = order(T, backwards)
    stop = first_step(T, truncate)
    for s in range(T - 1, stop - 1, -1):
        t = ts[s]
        da = dpre[t]
        y = hs[t]
        g = dhs[t]
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    da[b, j] = (g[b, j] + carry[b, j]) * (1 - y[b, j] * y[b, j])
        np.dot(da, Wm, back)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    carry[b, j] = back[b, j]
            else:
                for j in range(H):
                    carry[b, j] = carry[b, j] + g[b, j]
    prev = prev_states(hs, h0, ts)
    dWm = np.dot(dpre.reshape((T * B, H)).T, prev.reshape((T * B, H)))
    dh0 = carry if stop == 0 else np.zeros((B, H), dt)
    return dpre, dWm, dh0
