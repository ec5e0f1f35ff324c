"""The engine ops on PyTensor's JAX backend: ``lax.scan`` forward and backward.

The same equations and conventions as the numba kernels (:mod:`.spec`,
:mod:`.kernels_rnn`): ``lax.scan(..., reverse=backwards)`` keeps the
outputs indexed by time; the backward is a second scan in the opposite
order over the steps the truncation keeps (``T`` is static under JAX),
and the recurrent matrix's gradient one product after it.  Also the GPU
path.  :func:`register` adds the ``jax_funcify`` implementations; it is
called by the hook :mod:`theano_rnn.graphs.engine` installs for the JAX
mode (importing this module imports jax).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from pytensor.link.jax.dispatch import jax_funcify

from theano_rnn.graphs.engine.ops import SequenceGradOp, SequenceOp

__all__ = ["register", "forward_fn", "backward_fn"]

_done = []


def _gate(gate_id, x):
    """``(value, slope)`` of the gate at pre-activations ``x``."""
    if gate_id == 0:
        g = 1 / (1 + jnp.exp(-x))
        return g, g * (1 - g)
    y = x * jnp.asarray(0.2, x.dtype) + jnp.asarray(0.5, x.dtype)
    inside = (x >= -2.5) & (x <= 2.5)
    return jnp.clip(y, 0, 1), jnp.where(inside, jnp.asarray(0.2, x.dtype), jnp.zeros_like(x))


def _gate_from_saved(gate_id, v):
    if gate_id == 0:
        return v, v * (1 - v)
    return _gate(1, v)


def _on(m_t):
    return (m_t != 0)[:, None]


def forward_fn(op):
    """``f(pre, Wm, *inits, mask)`` -> the op's outputs, as JAX arrays."""
    kind, gate, backwards = op.kind, op.gate_id, op.backwards

    def run(step, inits, pre, mask):
        _, outs = jax.lax.scan(step, tuple(inits), (pre, mask), reverse=backwards)
        return outs

    if kind == "rnn":
        def rnn(pre, Wm, h0, mask):
            def step(carry, xs):
                (h,), (p, m) = carry, xs
                new = jnp.where(_on(m), jnp.tanh(p + h @ Wm.T), h)
                return (new,), new

            return run(step, [h0], pre, mask)

        return rnn

    if kind == "gru":
        def gru(pre, Wm, h0, mask):
            H = h0.shape[-1]

            def step(carry, xs):
                (h,), (p, m) = carry, xs
                a_zr = p[:, : 2 * H] + h @ Wm[: 2 * H].T
                zr, _ = _gate(gate, a_zr)
                z, r = zr[:, :H], zr[:, H:]
                c = jnp.tanh(p[:, 2 * H :] + (h * r) @ Wm[2 * H :].T)
                new = jnp.where(_on(m), (1 - z) * c + z * h, h)
                kept = jnp.concatenate([zr if gate == 0 else a_zr, c], axis=-1)
                return (new,), (new, kept)

            return run(step, [h0], pre, mask)

        return gru

    def lstm(pre, Wm, h0, c0, mask):
        H = h0.shape[-1]

        def step(carry, xs):
            (h, c), (p, m) = carry, xs
            a = p + h @ Wm.T
            ifo, _ = _gate(gate, a[:, : 3 * H])
            i, f, o = ifo[:, :H], ifo[:, H : 2 * H], ifo[:, 2 * H :]
            u = jnp.tanh(a[:, 3 * H :])
            c_new = f * c + i * u
            tc = jnp.tanh(c_new)
            on = _on(m)
            h_out = jnp.where(on, o * tc, h)
            c_out = jnp.where(on, c_new, c)
            kept = jnp.concatenate([ifo if gate == 0 else a[:, : 3 * H], u, tc], axis=-1)
            return (h_out, c_out), (h_out, c_out, kept)

        return run(step, [h0, c0], pre, mask)

    return lstm


def _window(op, T):
    """``(lo, hi)``: the time indices the backward visits (the truncation's)."""
    k = op.truncate
    if k <= 0 or k >= T:
        return 0, T
    return (0, k) if op.backwards else (T - k, T)


def _shifted(op, seq, first):
    """The state each step started from, by time index."""
    if op.backwards:
        return jnp.concatenate([seq[1:], first[None]], axis=0)
    return jnp.concatenate([first[None], seq[:-1]], axis=0)


def backward_fn(op):
    """``f(Wm, *inits, mask, *outs, *douts)`` -> ``(dpre, dWm, *dinits)``."""
    kind, gate, backwards = op.kind, op.gate_id, op.backwards

    def reverse_scan(step, carry, xs, lo, hi):
        xs = tuple(x[lo:hi] for x in xs)
        return jax.lax.scan(step, carry, xs, reverse=not backwards)

    def finish(da_parts, T, lo, hi, carry):
        full = []
        for part in da_parts:
            pad = [(lo, T - hi)] + [(0, 0)] * (part.ndim - 1)
            full.append(jnp.pad(part, pad))
        inits = [c if (lo, hi) == (0, T) else jnp.zeros_like(c) for c in carry]
        return full, inits

    if kind == "rnn":
        def rnn(Wm, h0, mask, hs, dhs):
            T = hs.shape[0]
            lo, hi = _window(op, T)

            def step(carry, xs):
                (dh,), (g, m, s) = carry, xs
                total = g + dh
                on = _on(m)
                da = jnp.where(on, total * (1 - s * s), 0)
                return (jnp.where(on, da @ Wm, total),), da

            carry, da = reverse_scan(step, (jnp.zeros_like(h0),), (dhs, mask, hs), lo, hi)
            (da,), inits = finish([da], T, lo, hi, carry)
            prev = _shifted(op, hs, h0)
            dWm = jnp.einsum("tbi,tbj->ij", da, prev)
            return (da, dWm, *inits)

        return rnn

    if kind == "gru":
        def gru(Wm, h0, mask, hs, saved, dhs):
            T, H = hs.shape[0], hs.shape[-1]
            lo, hi = _window(op, T)
            prev = _shifted(op, hs, h0)

            def step(carry, xs):
                (dh,), (g, m, kept, sp) = carry, xs
                z, zs = _gate_from_saved(gate, kept[:, :H])
                r, rs = _gate_from_saved(gate, kept[:, H : 2 * H])
                c = kept[:, 2 * H :]
                total = g + dh
                on = _on(m)
                dn = jnp.where(on, total, 0)
                dc = dn * (1 - z) * (1 - c * c)
                dsr = dc @ Wm[2 * H :]
                dzr = jnp.concatenate([dn * (sp - c) * zs, dsr * sp * rs], axis=-1)
                ds = dn * z + dsr * r + dzr @ Wm[: 2 * H]
                return (jnp.where(on, ds, total),), (dzr, dc, sp * r)

            carry, (dzr, dc, srs) = reverse_scan(step, (jnp.zeros_like(h0),),
                                                 (dhs, mask, saved, prev), lo, hi)
            (dzr, dc, srs), inits = finish([dzr, dc, srs], T, lo, hi, carry)
            dWm = jnp.concatenate([jnp.einsum("tbi,tbj->ij", dzr, prev),
                                   jnp.einsum("tbi,tbj->ij", dc, srs)], axis=0)
            return (jnp.concatenate([dzr, dc], axis=-1), dWm, *inits)

        return gru

    def lstm(Wm, h0, c0, mask, hs, cs, saved, dhs, dcs):
        T, H = hs.shape[0], hs.shape[-1]
        lo, hi = _window(op, T)
        c_prev = _shifted(op, cs, c0)

        def step(carry, xs):
            (dh_c, dc_c), (gh, gc, m, kept, cp) = carry, xs
            i, i_s = _gate_from_saved(gate, kept[:, :H])
            f, f_s = _gate_from_saved(gate, kept[:, H : 2 * H])
            o, o_s = _gate_from_saved(gate, kept[:, 2 * H : 3 * H])
            u, tc = kept[:, 3 * H : 4 * H], kept[:, 4 * H :]
            dh = gh + dh_c
            dcn = gc + dc_c
            dc = dcn + dh * o * (1 - tc * tc)
            da = jnp.concatenate([dc * u * i_s, dc * cp * f_s, dh * tc * o_s,
                                  dc * i * (1 - u * u)], axis=-1)
            on = _on(m)
            da = jnp.where(on, da, 0)
            return (jnp.where(on, da @ Wm, dh), jnp.where(on, dc * f, dcn)), da

        zeros = jnp.zeros_like(h0)
        carry, da = reverse_scan(step, (zeros, zeros), (dhs, dcs, mask, saved, c_prev), lo, hi)
        (da,), inits = finish([da], T, lo, hi, carry)
        dWm = jnp.einsum("tbi,tbj->ij", da, _shifted(op, hs, h0))
        return (da, dWm, *inits)

    return lstm


def register():
    """Register the ops' JAX implementations (once)."""
    if _done:
        return

    @jax_funcify.register(SequenceOp)
    def jax_funcify_SequenceOp(op, node=None, **kwargs):
        return forward_fn(op)

    @jax_funcify.register(SequenceGradOp)
    def jax_funcify_SequenceGradOp(op, node=None, **kwargs):
        return backward_fn(op)

    _done.append(True)
