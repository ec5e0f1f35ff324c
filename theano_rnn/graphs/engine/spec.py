"""What each fused sequence kernel computes and keeps: one table, no numerics.

Every kind runs one layer in one direction over a whole ``(T, B)`` block:

``rnn``  (:mod:`theano_rnn.cells.rnn`, WildML part 2)::

    s_t = tanh(pre_t + s_{t-1} Wm^T)

``gru``  (:mod:`theano_rnn.cells.gru`, WildML part 4; blocks z, r, candidate)::

    [z, r] = g(pre_t[:2H] + s_{t-1} Wm[:2H]^T)
    c      = tanh(pre_t[2H:] + (s_{t-1} r) Wm[2H:]^T)
    s_t    = (1 - z) c + z s_{t-1}

``lstm`` (:mod:`theano_rnn.cells.lstm`; blocks i, f, o, candidate u)::

    a = pre_t + h_{t-1} Wm^T;  i, f, o = g(a[:3H]);  u = tanh(a[3H:])
    c_t = f c_{t-1} + i u;     h_t = o tanh(c_t)

``pre`` ``(T, B, blocks*H)`` already holds the input product and the bias;
``Wm`` ``(blocks*H, H)`` is the layer's merged recurrent matrix; ``g`` is the
gate: ``sigmoid`` or Theano's ``hard_sigmoid`` = ``clip(0.2 a + 0.5, 0, 1)``
whose slope is 0.2 on ``-2.5 <= a <= 2.5`` (boundaries included, as
:func:`theano_rnn.compat.hard_sigmoid`'s gradient) and 0 outside.  A step
whose mask is 0 keeps the previous state(s) exactly (``switch(m, new, prev)``).

Outputs: the state sequences (``hs``; ``hs, cs`` for the LSTM), each
``(T, B, H)`` and indexed by time, plus ``saved`` ``(T, B, saved*H)``, what
the backward needs besides the states: per gate its value (``sigmoid``) or
its pre-activation (``hard_sigmoid``, whose slope at the boundaries cannot be
told from its value), then the candidate ``tanh``; the LSTM also keeps
``tanh(c_t)``.  ``saved`` is an implementation detail: it has no gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KernelSpec", "KINDS", "GATES", "gate_code", "spec_of"]

#: gate name -> the integer the kernels take (-1: the cell has no gates)
GATES = {"sigmoid": 0, "hard_sigmoid": 1}


@dataclass(frozen=True)
class KernelSpec:
    """One kind of fused sequence kernel.

    ``blocks``: gate blocks of ``pre`` and ``Wm``; ``states``: state sequences
    per layer (``h``, and ``c`` for the LSTM); ``saved``: width of ``saved``
    in units of ``H`` (0: no ``saved`` output); ``gates``: whether the gate
    activation matters.
    """

    kind: str
    blocks: int
    states: int
    saved: int
    gates: bool


KINDS = {
    "rnn": KernelSpec("rnn", blocks=1, states=1, saved=0, gates=False),
    "gru": KernelSpec("gru", blocks=3, states=1, saved=3, gates=True),
    "lstm": KernelSpec("lstm", blocks=4, states=2, saved=5, gates=True),
}


def spec_of(kind) -> KernelSpec:
    """The :class:`KernelSpec` of ``kind`` (``"rnn"``, ``"gru"``, ``"lstm"``)."""
    try:
        return KINDS[str(kind)]
    except KeyError:
        raise ValueError(f"no engine kernel {kind!r}; choose one of {', '.join(KINDS)}") from None


def gate_code(spec: KernelSpec, gate) -> int:
    """The kernels' integer for ``gate`` (``-1`` for a kind without gates)."""
    if not spec.gates:
        return -1
    try:
        return GATES[gate]
    except KeyError:
        raise ValueError(
            f"unknown gate activation {gate!r}; choose one of {', '.join(GATES)}"
        ) from None
