"""Numba kernels of the ``gru`` kind (WildML part 4; :mod:`theano_rnn.cells.gru`).

Forward per step: ``a_zr = pre_zr + s_prev Wzr^T`` (one product),
``[z, r] = g(a_zr)``, ``c = tanh(pre_c + (s_prev r) Wc^T)`` (a second,
smaller product: it needs ``r``), ``s = (1 - z) c + z s_prev``.  ``saved``
holds ``z``, ``r`` (their pre-activations for ``hard_sigmoid``) and ``c``.

Backward (:class:`theano_rnn.cells.gru.GRUBackward`, whole sequence)::

    da_c  = dn (1 - z)(1 - c^2)
    dsr   = da_c Wc
    da_z  = dn (s_prev - c) g'(a_z);   da_r = dsr s_prev g'(a_r)
    ds_prev = dn z + dsr r + [da_z, da_r] Wzr

and after the loop ``dWzr = sum da_zr^T s_prev``, ``dWc = sum da_c^T (s_prev r)``.
Conventions (order, truncation, masks): :mod:`.kernels_rnn`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from theano_rnn.graphs.engine.kernels_rnn import first_step, order, prev_states
from theano_rnn.graphs.engine.vecmath import JIT, exp_inplace, sigmoid_from_exp, tanh_from_exp

__all__ = ["gru_forward", "gru_backward", "gate_values"]


@njit(**JIT)
def gate_values(x, e, bits, n, gate):
    """Gate values of pre-activations ``x[:n]`` into ``e[:n]`` (float64 scratch):
    ``gate`` 0 = sigmoid, 1 = Theano's hard_sigmoid ``clip(0.2 x + 0.5, 0, 1)``."""
    if gate == 0:
        for j in range(n):
            e[j] = -x[j]
        exp_inplace(e, bits[:n])
        for j in range(n):
            e[j] = sigmoid_from_exp(e[j])
    else:
        for j in range(n):
            y = x[j] * 0.2 + 0.5
            e[j] = min(max(y, 0.0), 1.0) if y == y else y


@njit(**JIT)
def gate_slope_of(saved, gate):
    """``(value, slope)`` of a gate from what ``saved`` holds for it."""
    if gate == 0:
        g = np.float64(saved)
        return g, g * (1.0 - g)
    x = np.float64(saved)
    y = x * 0.2 + 0.5
    g = min(max(y, 0.0), 1.0)
    slope = 0.2 if (x >= -2.5 and x <= 2.5) else 0.0
    return g, slope


@njit(**JIT)
def gru_forward(pre, Wm, h0, mask, gate, backwards):
    T, B, W = pre.shape
    H = W // 3
    dt = pre.dtype
    pre = np.ascontiguousarray(pre)
    WzrT = np.ascontiguousarray(Wm[: 2 * H].T)  # (H, 2H)
    WcT = np.ascontiguousarray(Wm[2 * H :].T)  # (H, H)
    hs = np.empty((T, B, H), dt)
    saved = np.empty((T, B, 3 * H), dt)
    azr = np.empty((B, 2 * H), dt)
    ac = np.empty((B, H), dt)
    sr = np.empty((B, H), dt)
    x = np.empty(B * 2 * H, np.float64)
    g = np.empty(B * 2 * H, np.float64)
    xc = np.empty(B * H, np.float64)
    e = np.empty(B * H, np.float64)
    bits = np.empty(B * 2 * H, np.int64)
    ts = order(T, backwards)
    h_prev = np.ascontiguousarray(h0).astype(dt)
    for s in range(T):
        t = ts[s]
        np.dot(h_prev, WzrT, azr)
        for b in range(B):
            for j in range(2 * H):
                x[b * 2 * H + j] = np.float64(azr[b, j] + pre[t, b, j])
        gate_values(x, g, bits, B * 2 * H, gate)
        for b in range(B):
            for j in range(H):
                sr[b, j] = h_prev[b, j] * g[b * 2 * H + H + j]
        np.dot(sr, WcT, ac)
        for b in range(B):
            for j in range(H):
                y = np.float64(ac[b, j] + pre[t, b, 2 * H + j])
                xc[b * H + j] = y
                e[b * H + j] = -2.0 * abs(y)
        exp_inplace(e, bits[: B * H])
        out = hs[t]
        keep = saved[t]
        for b in range(B):
            for j in range(2 * H):
                keep[b, j] = g[b * 2 * H + j] if gate == 0 else x[b * 2 * H + j]
            for j in range(H):
                c = tanh_from_exp(xc[b * H + j], e[b * H + j])
                keep[b, 2 * H + j] = c
                z = g[b * 2 * H + j]
                if mask[t, b] != 0:
                    out[b, j] = (1.0 - z) * c + z * h_prev[b, j]
                else:
                    out[b, j] = h_prev[b, j]
        h_prev = hs[t]
    return hs, saved


@njit(**JIT)
def gru_backward(Wm, h0, mask, hs, saved, dhs, gate, backwards, truncate):
    T, B, H = hs.shape
    dt = hs.dtype
    Wzr = np.ascontiguousarray(Wm[: 2 * H]).astype(dt)  # (2H, H)
    Wc = np.ascontiguousarray(Wm[2 * H :]).astype(dt)  # (H, H)
    dzr = np.zeros((T, B, 2 * H), dt)
    dc = np.zeros((T, B, H), dt)
    srs = np.zeros((T, B, H), dt)  # s_prev * r, for dWc
    carry = np.zeros((B, H), dt)
    dn = np.zeros((B, H), np.float64)
    dsr = np.empty((B, H), dt)
    back = np.empty((B, H), dt)
    ts = order(T, backwards)
    prev = prev_states(hs, np.ascontiguousarray(h0).astype(dt), ts)
    stop = first_step(T, truncate)
    for s in range(T - 1, stop - 1, -1):
        t = ts[s]
        for b in range(B):
            on = mask[t, b] != 0
            for j in range(H):
                d = np.float64(dhs[t, b, j] + carry[b, j])
                dn[b, j] = d if on else 0.0
                if not on:
                    carry[b, j] = d
                z = gate_slope_of(saved[t, b, j], gate)[0]
                c = np.float64(saved[t, b, 2 * H + j])
                dc[t, b, j] = dn[b, j] * (1.0 - z) * (1.0 - c * c)
        np.dot(dc[t], Wc, dsr)
        for b in range(B):
            for j in range(H):
                zg, zs = gate_slope_of(saved[t, b, j], gate)
                rg, rs = gate_slope_of(saved[t, b, H + j], gate)
                sp = np.float64(prev[t, b, j])
                c = np.float64(saved[t, b, 2 * H + j])
                dzr[t, b, j] = dn[b, j] * (sp - c) * zs
                dzr[t, b, H + j] = dsr[b, j] * sp * rs
                srs[t, b, j] = sp * rg
                # the part of ds_prev that does not go through Wzr
                dn[b, j] = dn[b, j] * zg + dsr[b, j] * rg
        np.dot(dzr[t], Wzr, back)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    carry[b, j] = dn[b, j] + back[b, j]
    N = T * B
    dWm = np.empty((3 * H, H), dt)
    dWm[: 2 * H] = np.dot(dzr.reshape((N, 2 * H)).T, prev.reshape((N, H)))
    dWm[2 * H :] = np.dot(dc.reshape((N, H)).T, srs.reshape((N, H)))
    dpre = np.empty((T, B, 3 * H), dt)
    dpre[:, :, : 2 * H] = dzr
    dpre[:, :, 2 * H :] = dc
    dh0 = carry if stop == 0 else np.zeros((B, H), dt)
    return dpre, dWm, dh0
