"""Numba kernels of the ``lstm`` kind (:mod:`theano_rnn.cells.lstm`; blocks i, f, o, u).

Forward per step: ``a = pre_t + h_prev Wm^T`` (one product), ``i, f, o =
g(a[:3H])``, ``u = tanh(a[3H:])``, ``c = f c_prev + i u``, ``h = o tanh(c)``;
``saved`` holds ``i, f, o`` (their pre-activations for ``hard_sigmoid``),
``u`` and ``tanh(c)``.

Backward (:class:`theano_rnn.cells.lstm.LSTMBackward`, whole sequence; the
cell state's own output gradient ``dcs`` joins the carried ``dc``)::

    dc  = dn_c + dn_h o (1 - tanh(c)^2)
    da  = [dc u g'(a_i), dc c_prev g'(a_f), dn_h tanh(c) g'(a_o), dc i (1 - u^2)]
    dh_prev = da Wm,   dc_prev = dc f

and ``dWm = sum_t da_t^T h_{t-1}`` as one product after the loop.
Conventions (order, truncation, masks): :mod:`.kernels_rnn`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from theano_rnn.graphs.engine.kernels_gru import gate_slope_of, gate_values
from theano_rnn.graphs.engine.kernels_rnn import first_step, order, prev_states
from theano_rnn.graphs.engine.vecmath import JIT, exp_inplace, tanh_from_exp

__all__ = ["lstm_forward", "lstm_backward"]


@njit(**JIT)
def lstm_forward(pre, Wm, h0, c0, mask, gate, backwards):
    T, B, W = pre.shape
    H = W // 4
    dt = pre.dtype
    pre = np.ascontiguousarray(pre)
    WT = np.ascontiguousarray(Wm.T)  # (H, 4H)
    hs = np.empty((T, B, H), dt)
    cs = np.empty((T, B, H), dt)
    saved = np.empty((T, B, 5 * H), dt)
    a = np.empty((B, W), dt)
    x = np.empty(B * 3 * H, np.float64)
    g = np.empty(B * 3 * H, np.float64)
    xu = np.empty(B * H, np.float64)
    eu = np.empty(B * H, np.float64)
    cn = np.empty(B * H, np.float64)
    ec = np.empty(B * H, np.float64)
    bits = np.empty(B * 3 * H, np.int64)
    ts = order(T, backwards)
    h_prev = np.ascontiguousarray(h0).astype(dt)
    c_prev = np.ascontiguousarray(c0).astype(dt)
    for s in range(T):
        t = ts[s]
        np.dot(h_prev, WT, a)
        for b in range(B):
            for j in range(3 * H):
                x[b * 3 * H + j] = np.float64(a[b, j] + pre[t, b, j])
            for j in range(H):
                y = np.float64(a[b, 3 * H + j] + pre[t, b, 3 * H + j])
                xu[b * H + j] = y
                eu[b * H + j] = -2.0 * abs(y)
        gate_values(x, g, bits, B * 3 * H, gate)
        exp_inplace(eu, bits[: B * H])
        for b in range(B):
            for j in range(H):
                k = b * 3 * H + j
                u = tanh_from_exp(xu[b * H + j], eu[b * H + j])
                eu[b * H + j] = u
                c = g[k + H] * np.float64(c_prev[b, j]) + g[k] * u
                cn[b * H + j] = c
                ec[b * H + j] = -2.0 * abs(c)
        exp_inplace(ec, bits[: B * H])
        out_h = hs[t]
        out_c = cs[t]
        keep = saved[t]
        for b in range(B):
            on = mask[t, b] != 0
            for j in range(3 * H):
                keep[b, j] = g[b * 3 * H + j] if gate == 0 else x[b * 3 * H + j]
            for j in range(H):
                c = cn[b * H + j]
                tc = tanh_from_exp(c, ec[b * H + j])
                keep[b, 3 * H + j] = eu[b * H + j]
                keep[b, 4 * H + j] = tc
                if on:
                    out_h[b, j] = g[b * 3 * H + 2 * H + j] * tc
                    out_c[b, j] = c
                else:
                    out_h[b, j] = h_prev[b, j]
                    out_c[b, j] = c_prev[b, j]
        h_prev = hs[t]
        c_prev = cs[t]
    return hs, cs, saved


@njit(**JIT)
def lstm_backward(Wm, h0, c0, mask, hs, cs, saved, dhs, dcs, gate, backwards, truncate):
    T, B, H = hs.shape
    dt = hs.dtype
    Wm = np.ascontiguousarray(Wm).astype(dt)  # (4H, H)
    dpre = np.zeros((T, B, 4 * H), dt)
    carry_h = np.zeros((B, H), dt)
    carry_c = np.zeros((B, H), dt)
    back = np.empty((B, H), dt)
    ts = order(T, backwards)
    c_init = np.ascontiguousarray(c0).astype(dt)
    stop = first_step(T, truncate)
    for s in range(T - 1, stop - 1, -1):
        t = ts[s]
        c_before = cs[ts[s - 1]] if s > 0 else c_init
        da = dpre[t]
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    ig, i_s = gate_slope_of(saved[t, b, j], gate)
                    fg, f_s = gate_slope_of(saved[t, b, H + j], gate)
                    og, o_s = gate_slope_of(saved[t, b, 2 * H + j], gate)
                    u = np.float64(saved[t, b, 3 * H + j])
                    tc = np.float64(saved[t, b, 4 * H + j])
                    dh = np.float64(dhs[t, b, j] + carry_h[b, j])
                    dc = np.float64(dcs[t, b, j] + carry_c[b, j]) + dh * og * (1.0 - tc * tc)
                    da[b, j] = dc * u * i_s
                    da[b, H + j] = dc * np.float64(c_before[b, j]) * f_s
                    da[b, 2 * H + j] = dh * tc * o_s
                    da[b, 3 * H + j] = dc * ig * (1.0 - u * u)
                    carry_c[b, j] = dc * fg
            else:
                for j in range(H):
                    carry_h[b, j] = carry_h[b, j] + dhs[t, b, j]
                    carry_c[b, j] = carry_c[b, j] + dcs[t, b, j]
        np.dot(da, Wm, back)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    carry_h[b, j] = back[b, j]
    prev = prev_states(hs, np.ascontiguousarray(h0).astype(dt), ts)
    N = T * B
    dWm = np.dot(dpre.reshape((N, 4 * H)).T, prev.reshape((N, H)))
    zero = stop != 0
    dh0 = np.zeros((B, H), dt) if zero else carry_h
    dc0 = np.zeros((B, H), dt) if zero else carry_c
    return dpre, dWm, dh0, dc0
