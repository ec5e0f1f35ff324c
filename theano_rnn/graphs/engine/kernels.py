"""The numba kernels behind one calling convention (imported on first use: numba).

``forward(kind)(pre, Wm, inits, mask, gate, backwards)`` returns the
forward op's outputs (state sequences, then ``saved`` where the kind has
one); ``backward(kind)(Wm, inits, mask, outs, douts, gate, backwards,
truncate)`` returns ``(dpre, dWm, *dinits)``, ``douts`` being the state
sequences' gradients.  Numba compiles each kernel once per dtype and
caches it on disk (``cache=True``: beside the package, or in numba's
user cache directory where the package is read-only).
"""

from __future__ import annotations

from theano_rnn.graphs.engine.kernels_gru import gru_backward, gru_forward
from theano_rnn.graphs.engine.kernels_lstm import lstm_backward, lstm_forward
from theano_rnn.graphs.engine.kernels_rnn import rnn_backward, rnn_forward

__all__ = ["forward", "backward", "KERNELS"]


def _rnn_f(pre, Wm, inits, mask, gate, backwards):
    return (rnn_forward(pre, Wm, inits[0], mask, backwards),)


def _gru_f(pre, Wm, inits, mask, gate, backwards):
    return gru_forward(pre, Wm, inits[0], mask, gate, backwards)


def _lstm_f(pre, Wm, inits, mask, gate, backwards):
    return lstm_forward(pre, Wm, inits[0], inits[1], mask, gate, backwards)


def _rnn_b(Wm, inits, mask, outs, douts, gate, backwards, truncate):
    return rnn_backward(Wm, inits[0], mask, outs[0], douts[0], backwards, truncate)


def _gru_b(Wm, inits, mask, outs, douts, gate, backwards, truncate):
    return gru_backward(Wm, inits[0], mask, outs[0], outs[1], douts[0], gate, backwards, truncate)


def _lstm_b(Wm, inits, mask, outs, douts, gate, backwards, truncate):
    return lstm_backward(Wm, inits[0], inits[1], mask, outs[0], outs[1], outs[2],
                         douts[0], douts[1], gate, backwards, truncate)


#: kind -> (the njit forward, the njit backward): for backends that call them directly
KERNELS = {
    "rnn": (rnn_forward, rnn_backward),
    "gru": (gru_forward, gru_backward),
    "lstm": (lstm_forward, lstm_backward),
}
_FORWARD = {"rnn": _rnn_f, "gru": _gru_f, "lstm": _lstm_f}
_BACKWARD = {"rnn": _rnn_b, "gru": _gru_b, "lstm": _lstm_b}


def forward(kind):
    return _FORWARD[kind]


def backward(kind):
    return _BACKWARD[kind]
