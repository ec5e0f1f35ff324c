"""Numba kernels of the ``gru`` kind (WildML part 4; :mod:`theano_rnn.cells.gru`).

Forward per step: ``a_zr = pre_zr + s_prev Wzr^T`` (one product),
``[z, r] = g(a_zr)``, ``c = tanh(pre_c + (s_prev r) Wc^T)`` (a second,
smaller product: it needs ``r``), ``s = (1 - z) c + z s_prev``.  ``saved``
holds ``z``, ``r`` (their pre-activations for ``hard_sigmoid``) and ``c``.

Backward, over the whole sequence (``dn``: the gradient reaching the
step's new state, its output's plus the carried one; ``g'``: the gate's
derivative, Theano's ``hard_sigmoid`` boundaries as PyTensor's gradient)::

    da_c  = dn (1 - z)(1 - c^2)
    dsr   = da_c Wc
    da_z  = dn (s_prev - c) g'(a_z);   da_r = dsr s_prev g'(a_r)
    ds_prev = dn z + dsr r + [da_z, da_r] Wzr

and after the loop ``dWzr = sum da_zr^T s_prev``, ``dWc = sum da_c^T (s_prev r)``.
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
from theano_rnn.graphs.engine.vecmath import JIT, exp_inplace, sigmoid_from_exp, tanh_from_exp

__all__ = ["gru_forward", "gru_backward", "gate_block", "saved_gates"]


@njit(**JIT)
def gate_block(z, W, off, n, out, bits, B, gate):
    """Gate values of the pre-activations ``z[b*W + off + j]`` (``j < n``) into
    ``out[b*n + j]``: ``gate`` 0 = sigmoid, 1 = Theano's hard_sigmoid
    ``clip(0.2 x + 0.5, 0, 1)``; ``bits``: int64 scratch of ``len(out)``."""
    if gate == 0:
        for b in range(B):
            for j in range(n):
                out[b * n + j] = -z[b * W + off + j]
        exp_inplace(out, bits)
        for k in range(B * n):
            out[k] = sigmoid_from_exp(out[k])
    else:
        for b in range(B):
            for j in range(n):
                y = z[b * W + off + j] * 0.2 + 0.5
                out[b * n + j] = min(max(y, 0.0), 1.0) if y == y else y


@njit(**JIT)
def saved_gates(kp, off, n, gv, gs, B, gate):
    """Values ``gv`` and slopes ``gs`` (``[b*n + j]``) of the gates that
    ``kp[b, off + j]`` holds (values for sigmoid, pre-activations for
    hard_sigmoid, whose slope is 0.2 on [-2.5, 2.5] and 0 outside)."""
    if gate == 0:
        for b in range(B):
            for j in range(n):
                gv[b * n + j] = kp[b, off + j]
        for k in range(B * n):
            gs[k] = gv[k] * (1.0 - gv[k])
    else:
        for b in range(B):
            for j in range(n):
                y = np.float64(kp[b, off + j]) * 0.2 + 0.5
                gv[b * n + j] = min(max(y, 0.0), 1.0)
        for b in range(B):
            for j in range(n):
                x = kp[b, off + j]
                gs[b * n + j] = 0.2 if (x >= -2.5 and x <= 2.5) else 0.0


@njit(**JIT)
def gru_forward(pre, Wm, h0, mask, gate, backwards):
    T, B, W = pre.shape
    H = W // 3
    G = 2 * H
    dt = pre.dtype
    pre = np.ascontiguousarray(pre)
    WzrT = rows_transposed(Wm, 0, G)  # (H, 2H)
    WcT = rows_transposed(Wm, G, W)  # (H, H)
    hs = np.empty((T, B, H), dt)
    saved = np.empty((T, B, W), dt)
    azr = np.empty((B, G), dt)
    ac = np.empty((B, H), dt)
    sr = np.empty((B, H), dt)
    z = np.empty(B * G)  # gate pre-activations
    g = np.empty(B * G)  # gate values
    bits_g = np.empty(B * G, np.int64)
    xc = np.empty(B * H)  # candidate pre-activations
    e = np.empty(B * H)  # candidate
    bits_h = np.empty(B * H, np.int64)
    ts = order(T, backwards)
    h_prev = rows_copy(h0, 0, B)
    a1 = azr.reshape(B * G)
    for s in range(T):
        t = ts[s]
        np.dot(h_prev, WzrT, azr)
        p = pre[t]
        for b in range(B):
            for j in range(G):
                z[b * G + j] = np.float64(a1[b * G + j]) + np.float64(p[b, j])
        gate_block(z, G, 0, G, g, bits_g, B, gate)
        for b in range(B):
            for j in range(H):
                sr[b, j] = h_prev[b, j] * g[b * G + H + j]
        np.dot(sr, WcT, ac)
        for b in range(B):
            for j in range(H):
                xc[b * H + j] = np.float64(ac[b, j]) + np.float64(p[b, G + j])
        for k in range(B * H):
            e[k] = -2.0 * abs(xc[k])
        exp_inplace(e, bits_h)
        for k in range(B * H):
            e[k] = tanh_from_exp(xc[k], e[k])
        out = hs[t]
        keep = saved[t]
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    zz = g[b * G + j]
                    out[b, j] = (1.0 - zz) * e[b * H + j] + zz * h_prev[b, j]
            else:
                for j in range(H):
                    out[b, j] = h_prev[b, j]
            if gate == 0:
                for j in range(G):
                    keep[b, j] = g[b * G + j]
            else:
                for j in range(G):
                    keep[b, j] = z[b * G + j]
            for j in range(H):
                keep[b, G + j] = e[b * H + j]
        h_prev = hs[t]
    return hs, saved


@njit(**JIT)
def gru_backward(Wm, h0, mask, hs, saved, dhs, gate, backwards, truncate):
    T, B, H = hs.shape
    G = 2 * H
    dt = hs.dtype
    Wzr = rows_copy(Wm, 0, G)  # (2H, H)
    Wc = rows_copy(Wm, G, 3 * H)  # (H, H)
    dzr = np.zeros((T, B, G), dt)
    dcs = np.zeros((T, B, H), dt)
    srs = np.zeros((T, B, H), dt)  # s_prev * r, for dWc
    carry = np.zeros((B, H), dt)
    dn = np.zeros((B, H))
    rest = np.zeros((B, H))  # the part of ds_prev that does not go through Wzr
    gv = np.empty(B * G)
    gs = np.empty(B * G)
    dsr = np.empty((B, H), dt)
    back = np.empty((B, H), dt)
    ts = order(T, backwards)
    prev = prev_states(hs, h0, ts)
    stop = first_step(T, truncate)
    for s in range(T - 1, stop - 1, -1):
        t = ts[s]
        kp = saved[t]
        sp = prev[t]
        gh = dhs[t]
        dc = dcs[t]
        saved_gates(kp, 0, G, gv, gs, B, gate)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    dn[b, j] = np.float64(gh[b, j]) + carry[b, j]
                for j in range(H):
                    c = np.float64(kp[b, G + j])
                    dc[b, j] = dn[b, j] * (1.0 - gv[b * G + j]) * (1.0 - c * c)
            else:
                for j in range(H):
                    dn[b, j] = 0.0
                for j in range(H):
                    carry[b, j] = carry[b, j] + gh[b, j]
        np.dot(dc, Wc, dsr)
        d = dzr[t]
        for b in range(B):
            if mask[t, b] != 0:
                r = b * G
                for j in range(H):
                    d[b, j] = dn[b, j] * (sp[b, j] - kp[b, G + j]) * gs[r + j]
                for j in range(H):
                    d[b, H + j] = dsr[b, j] * sp[b, j] * gs[r + H + j]
                for j in range(H):
                    srs[t, b, j] = sp[b, j] * gv[r + H + j]
                for j in range(H):
                    rest[b, j] = dn[b, j] * gv[r + j] + dsr[b, j] * gv[r + H + j]
        np.dot(d, Wzr, back)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(H):
                    carry[b, j] = rest[b, j] + back[b, j]
    N = T * B
    dWzr = np.dot(dzr.reshape((N, G)).T, prev.reshape((N, H)))
    dWc = np.dot(dcs.reshape((N, H)).T, srs.reshape((N, H)))
    # element loops below: slice assignment compiles slowly
    dWm = np.empty((3 * H, H), dt)
    for i in range(G):
        for j in range(H):
            dWm[i, j] = dWzr[i, j]
    for i in range(H):
        for j in range(H):
            dWm[G + i, j] = dWc[i, j]
    dpre = np.empty((T, B, 3 * H), dt)
    for t in range(T):
        for b in range(B):
            for j in range(G):
                dpre[t, b, j] = dzr[t, b, j]
            for j in range(H):
                dpre[t, b, G + j] = dcs[t, b, j]
    dh0 = carry if stop == 0 else np.zeros((B, H), dt)
    return dpre, dWm, dh0
