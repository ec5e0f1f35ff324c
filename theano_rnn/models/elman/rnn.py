r"""gwtaylor's symbolic ``RNN`` (theano-rnn ``rnn.py``) on PyTensor.

``RNN(input, n_in, n_hidden, n_out, activation=tanh, output_type='real',
use_symbolic_softmax=False)``: scans ``h_t = act(x_t·W_in + h_tm1·W + bh)``,
``y_t = h_t·W_out + by`` over ``input`` (T, n_in) from the trained initial
state ``h0``.  ``params = [W, W_in, W_out, h0, bh, by]``; ``updates`` maps
each to a zero momentum buffer, as in the original.

Outputs as he defined them:

* ``real``: ``y_pred`` is the prediction, ``loss(y)`` the MSE (mean over
  steps and outputs); ``errors`` is not defined for it (NotImplementedError).
* ``binary``: ``p_y_given_x = sigmoid(y_pred)``, ``y_out = round(p)``,
  ``loss`` the mean binary cross-entropy.
* ``softmax``: one softmax per step, ``y_out = argmax``, ``loss`` the mean
  NLL of integer labels.
* ``L1 = |sum(W)| + |sum(W_in)| + |sum(W_out)|`` -- *as written*: the
  absolute value of each matrix's sum, not the sum of absolute values (a
  slip in the original, kept by name); :attr:`RNN.L1_abs` is the usual
  ``sum(|W|)``.  ``L2_sqr = sum(W**2) + ...``.

Beyond the listing (keyword-only, defaults give his model): ``cell``
(:mod:`.cells`: ``rnn``, the seed's ``lstm_seed``, a standard ``lstm``),
``init_scale`` (0.01), ``forget_bias``, ``rng`` (default: NumPy's global
generator, his draw) and ``mask``.  ``input`` may also be a batch
``(T, B, n_in)`` (rnn_minibatch.py); then targets are ``(T, B, n_out)``
(``(T, B)`` labels for softmax) and an optional ``mask (T, B)`` of 0/1 marks
the steps that exist: masked steps keep the state and leave the loss.
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt

from theano_rnn.compat import scan
from theano_rnn.models.elman.cells import get_seq_cell

__all__ = ["RNN", "ACTIVATIONS", "get_activation", "OUTPUT_TYPES"]

OUTPUT_TYPES = ("real", "binary", "softmax")


def _relu(x):
    return x * (x > 0)


def _cappedrelu(x):
    return pt.minimum(x * (x > 0), 6)


#: MetaRNN's activation names (his lambdas for relu / cappedrelu)
ACTIVATIONS = {"tanh": pt.tanh, "sigmoid": pt.sigmoid, "relu": _relu, "cappedrelu": _cappedrelu}


def get_activation(name):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise NotImplementedError(f"unknown activation {name!r}; choose one of "
                                  f"{', '.join(ACTIVATIONS)}") from None


def _softmax(x):
    e = pt.exp(x - pt.max(x, axis=-1, keepdims=True))
    return e / pt.sum(e, axis=-1, keepdims=True)


def _symbolic_softmax(x):
    """His ``symbolic_softmax``: ``exp(x) / sum(exp(x))`` with no max shift."""
    e = pt.exp(x)
    return e / pt.sum(e, axis=-1, keepdims=True)


class RNN:
    """Elman RNN over a real-valued sequence (see the module docstring)."""

    def __init__(self, input, n_in, n_hidden, n_out, activation=pt.tanh,
                 output_type="real", use_symbolic_softmax=False, *, cell="rnn",
                 init_scale=0.01, forget_bias=0.0, rng=None, mask=None):
        if output_type not in OUTPUT_TYPES:
            raise NotImplementedError(f"output_type {output_type!r}; choose one of "
                                      f"{', '.join(OUTPUT_TYPES)}")
        self.input = input
        self.activation = activation
        self.output_type = output_type
        self.cell = get_seq_cell(cell)
        self.mask = mask
        self.softmax = _symbolic_softmax if use_symbolic_softmax else _softmax
        floatX = pytensor.config.floatX
        values = self.cell.init(n_in, n_hidden, n_out, rng=rng, init_scale=init_scale,
                                forget_bias=forget_bias)
        self.P = {k: pytensor.shared(np.asarray(v, dtype=floatX), name=k) for k, v in values.items()}
        self.W, self.W_in, self.W_out = self.P["W"], self.P["W_in"], self.P["W_out"]
        self.h0, self.bh, self.by = self.P["h0"], self.P["bh"], self.P["by"]
        self.params = [self.W, self.W_in, self.W_out, self.h0, self.bh, self.by]
        self.updates = {p: pytensor.shared(np.zeros(p.get_value(borrow=True).shape, dtype=floatX),
                                           name=f"v_{p.name}") for p in self.params}

        batched = input.ndim == 3
        h0 = self.h0
        if batched:
            h0 = pt.alloc(self.h0, input.shape[1], n_hidden)
        init = [h0] + [pt.zeros_like(h0) for _ in range(self.cell.states - 1)]
        P, act, step_cell = self.P, activation, self.cell

        def step(x_t, *rest):
            if mask is not None:
                m_t, states = rest[0], list(rest[1:])
            else:
                m_t, states = None, list(rest)
            new = step_cell.step(x_t, states, P, act)
            if m_t is not None:
                m = m_t[:, None]
                new = [m * n + (1 - m) * s for n, s in zip(new, states)]
            return new

        seqs = [input] if mask is None else [input, mask]
        outs, _ = scan(step, sequences=seqs, outputs_info=init)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        self.h = outs[0]
        self.states = list(outs)
        self.y_pred = pt.dot(self.h, self.W_out) + self.by

        self.L1 = 0
        self.L1 += abs(self.W.sum())
        self.L1 += abs(self.W_in.sum())
        self.L1 += abs(self.W_out.sum())
        self.L1_abs = abs(self.W).sum() + abs(self.W_in).sum() + abs(self.W_out).sum()
        self.L2_sqr = 0
        self.L2_sqr += (self.W ** 2).sum()
        self.L2_sqr += (self.W_in ** 2).sum()
        self.L2_sqr += (self.W_out ** 2).sum()

        if output_type == "real":
            self.loss = self.mse
        elif output_type == "binary":
            self.p_y_given_x = pt.sigmoid(self.y_pred)
            self.y_out = pt.round(self.p_y_given_x)
            self.loss = self.nll_binary
        else:
            self.p_y_given_x = self.softmax(self.y_pred)
            self.y_out = pt.argmax(self.p_y_given_x, axis=-1)
            self.loss = self.nll_multiclass

    # -- losses -----------------------------------------------------------
    def _mean(self, per_entry):
        """Mean over all entries; with a mask, over the steps that exist."""
        if self.mask is None:
            return pt.mean(per_entry)
        m = self.mask
        if per_entry.ndim == 3:
            return pt.sum(per_entry * m[:, :, None]) / (pt.sum(m) * per_entry.shape[2])
        return pt.sum(per_entry * m) / pt.sum(m)

    def mse(self, y):
        return self._mean((self.y_pred - y) ** 2)

    def nll_binary(self, y):
        p = self.p_y_given_x
        return self._mean(-(y * pt.log(p) + (1 - y) * pt.log(1 - p)))

    def nll_multiclass(self, y):
        logp = pt.log(self.p_y_given_x)
        if logp.ndim == 2:
            return self._mean(-logp[pt.arange(y.shape[0]), y])
        T, B = y.shape[0], y.shape[1]
        flat = logp.reshape((T * B, logp.shape[2]))
        picked = flat[pt.arange(T * B), y.flatten()].reshape((T, B))
        return self._mean(-picked)

    def errors(self, y):
        """Fraction of wrong labels (binary, softmax; integer targets).

        ``real`` has no ``y_out``: his version fails there with an
        AttributeError; this one raises NotImplementedError."""
        if self.output_type == "real":
            raise NotImplementedError("errors is defined for binary and softmax outputs")
        if y.ndim != self.y_out.ndim:
            raise TypeError("y should have the same shape as self.y_out",
                            ("y", y.type, "y_out", self.y_out.type))
        if self.output_type in ("binary", "softmax"):
            if y.dtype.startswith("int"):
                return self._mean(pt.neq(self.y_out, y))
            raise NotImplementedError()
        raise NotImplementedError()
