"""Numba kernels of the ``lstm`` kind (:mod:`theano_rnn.cells.lstm`; blocks i, f, o, u).

Forward per step: ``a = pre_t + h_prev Wm^T`` (one product), ``i, f, o =
g(a[:3H])``, ``u = tanh(a[3H:])``, ``c = f c_prev + i u``, ``h = o tanh(c)``;
``saved`` holds ``i, f, o`` (their pre-activations for ``hard_sigmoid``),
``u`` and ``tanh(c)``.

Backward, over the whole sequence (``dn_h``, ``dn_c``: the gradients
reaching the step's new ``h`` and ``c``, each its output's plus the carried
one; ``g'``: the gate's derivative)::

    dc  = dn_c + dn_h o (1 - tanh(c)^2)
    da  = [dc u g'(a_i), dc c_prev g'(a_f), dn_h tanh(c) g'(a_o), dc i (1 - u^2)]
    dh_prev = da Wm,   dc_prev = dc f

and ``dWm = sum_t da_t^T h_{t-1}`` as one product after the loop.
Conventions (order, truncation, masks): :mod:`.kernels_rnn`.  Every inner
loop writes one array (so the compiler vectorises it); the element-wise
work is float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from theano_rnn.graphs.engine.kernels_rnn import (
    first_step, order, prev_states, rows_copy, rows_transposed,
)
from theano_rnn.graphs.engine.kernels_gru import gate_block, saved_gates
from theano_rnn.graphs.engine.vecmath import JIT, exp_inplace, tanh_from_exp

__all__ = ["lstm_forward", "lstm_backward"]


@njit(**JIT)
def lstm_forward(pre, Wm, h0, c0, mask, gate, backwards):
    T, B, W = pre.shape
    H = W // 4
    G = 3 * H
    dt = pre.dtype
    pre = np.ascontiguousarray(pre)
    WT = rows_transposed(Wm, 0, W)  # (H, 4H)
    hs = np.empty((T, B, H), dt)
    cs = np.empty((T, B, H), dt)
    saved = np.empty((T, B, 5 * H), dt)
    a = np.empty((B, W), dt)
    z = np.empty(B * W)  # pre-activations
    eg = np.empty(B * G)  # gate values
    bits_g = np.empty(B * G, np.int64)
    eu = np.empty(B * H)  # candidate
    cn = np.empty(B * H)  # new cell state
    ec = np.empty(B * H)  # tanh(c)
    bits_h = np.empty(B * H, np.int64)
    ts = order(T, backwards)
    h_prev = rows_copy(h0, 0, B)
    c_prev = rows_copy(c0, 0, B)
    a1 = a.reshape(B * W)
    for s in range(T):
        t = ts[s]
        np.dot(h_prev, WT, a)
        p1 = pre[t].reshape(B * W)
        for k in range(B * W):
            z[k] = np.float64(a1[k]) + np.float64(p1[k])
        gate_block(z, W, 0, G, eg, bits_g, B, gate)
        for b in range(B):
            for j in range(H):
                eu[b * H + j] = -2.0 * abs(z[b * W + G + j])
        exp_inplace(eu, bits_h)
        for b in range(B):
            for j in range(H):
                eu[b * H + j] = tanh_from_exp(z[b * W + G + j], eu[b * H + j])
        for b in range(B):
            for j in range(H):
                cn[b * H + j] = eg[b * G + H + j] * c_prev[b, j] + eg[b * G + j] * eu[b * H + j]
        for k in range(B * H):
            ec[k] = -2.0 * abs(cn[k])
        exp_inplace(ec, bits_h)
        for k in range(B * H):
            ec[k] = tanh_from_exp(cn[k], ec[k])
        out_h = hs[t]
        out_c = cs[t]
        keep = saved[t]
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    out_h[b, j] = eg[b * G + 2 * H + j] * ec[b * H + j]
                for j in range(H):
                    out_c[b, j] = cn[b * H + j]
            else:
                for j in range(H):
                    out_h[b, j] = h_prev[b, j]
                for j in range(H):
                    out_c[b, j] = c_prev[b, j]
            if gate == 0:
                for j in range(G):
                    keep[b, j] = eg[b * G + j]
            else:
                for j in range(G):
                    keep[b, j] = z[b * W + j]
            for j in range(H):
                keep[b, G + j] = eu[b * H + j]
            for j in range(H):
                keep[b, 4 * H + j] = ec[b * H + j]
        h_prev = hs[t]
        c_prev = cs[t]
    return hs, cs, saved


@njit(**JIT)
def lstm_backward(Wm, h0, c0, mask, hs, cs, saved, dhs, dcs, gate, backwards, truncate):
    T, B, H = hs.shape
    G = 3 * H
    dt = hs.dtype
    Wm = rows_copy(Wm, 0, 4 * H)  # (4H, H)
    dpre = np.zeros((T, B, 4 * H), dt)
    carry_h = np.zeros((B, H), dt)
    carry_c = np.zeros((B, H), dt)
    back = np.empty((B, H), dt)
    gv = np.empty(B * G)  # gate values
    gs = np.empty(B * G)  # gate slopes
    dh = np.empty(H)
    dc = np.empty(H)
    ts = order(T, backwards)
    c_init = rows_copy(c0, 0, B)
    stop = first_step(T, truncate)
    for s in range(T - 1, stop - 1, -1):
        t = ts[s]
        cb = cs[ts[s - 1]] if s > 0 else c_init
        kp = saved[t]
        da = dpre[t]
        gh = dhs[t]
        gc = dcs[t]
        saved_gates(kp, 0, G, gv, gs, B, gate)
        for b in range(B):
            if mask[t, b] != 0:
                r = b * G
                for j in range(H):
                    dh[j] = np.float64(gh[b, j]) + carry_h[b, j]
                for j in range(H):
                    tc = np.float64(kp[b, 4 * H + j])
                    dc[j] = (np.float64(gc[b, j]) + carry_c[b, j]
                             + dh[j] * gv[r + 2 * H + j] * (1.0 - tc * tc))
                for j in range(H):
                    da[b, j] = dc[j] * kp[b, G + j] * gs[r + j]
                for j in range(H):
                    da[b, H + j] = dc[j] * cb[b, j] * gs[r + H + j]
                for j in range(H):
                    da[b, 2 * H + j] = dh[j] * kp[b, 4 * H + j] * gs[r + 2 * H + j]
                for j in range(H):
                    u = np.float64(kp[b, G + j])
                    da[b, G + j] = dc[j] * gv[r + j] * (1.0 - u * u)
                for j in range(H):
                    carry_c[b, j] = dc[j] * gv[r + H + j]
            else:
                for j in range(H):
                    carry_h[b, j] = carry_h[b, j] + gh[b, j]
                for j in range(H):
                    carry_c[b, j] = carry_c[b, j] + gc[b, j]
        np.dot(da, Wm, back)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    carry_h[b, j] = back[b, j]
    prev = prev_states(hs, h0, ts)
    N = T * B
    dWm = np.dot(dpre.reshape((N, 4 * H)).T, prev.reshape((N, H)))
    zero = stop != 0
    dh0 = np.zeros((B, H), dt) if zero else carry_h
    dc0 = np.zeros((B, H), dt) if zero else carry_c
    return dpre, dWm, dh0, dc0
