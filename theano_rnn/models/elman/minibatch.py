r"""The mini-batched estimator of gwtaylor's ``rnn_minibatch.py``, on PyTensor.

Sequences come as blocks ``X (T, N, n_in)`` (time first), targets
``(T, N, n_out)`` (labels ``(T, N)`` for softmax), with an optional
``mask (T, N)`` of 0/1 for sequences of unequal length: a masked step keeps
the hidden state and is left out of the loss, which is the mean over the
steps that exist.  Unmasked, the loss of one batch equals the mean of
:class:`~theano_rnn.models.elman.meta.MetaRNN`'s per-sequence losses.

``optimizer``:

* ``"sgd"``: his momentum SGD over mini-batches of ``batch_size``
  sequences (momentum switch and per-epoch lr decay as in MetaRNN);
* ``"L-BFGS-B"``, ``"CG"`` (also ``"BFGS"``): :func:`scipy.optimize.minimize`
  on the whole training set's cost as a function of the flattened
  parameters ``[W, W_in, W_out, h0, bh, by]``, with the exact gradient;
  ``n_epochs`` is its ``maxiter``.  SciPy is imported only then.
"""

from __future__ import annotations

import logging

import numpy as np
import pytensor
import pytensor.tensor as pt

from theano_rnn.models.elman.rnn import RNN, get_activation
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.modes import get_mode

__all__ = ["MetaRNNMinibatch", "SCIPY_METHODS"]

log = logging.getLogger(__name__)

SCIPY_METHODS = ("L-BFGS-B", "CG", "BFGS")


class MetaRNNMinibatch:
    def __init__(self, n_in=5, n_hidden=50, n_out=5, learning_rate=0.01, n_epochs=100,
                 batch_size=100, L1_reg=0.00, L2_reg=0.00, learning_rate_decay=1,
                 activation="tanh", output_type="real", final_momentum=0.9,
                 initial_momentum=0.5, momentum_switchover=5, optimizer="sgd", *,
                 cell="rnn", init_scale=0.01, forget_bias=0.0, rng=None, mode=None):
        if optimizer != "sgd" and optimizer not in SCIPY_METHODS:
            raise ValueError(f"optimizer {optimizer!r}: choose sgd or {', '.join(SCIPY_METHODS)}")
        self.__dict__.update(dict(
            n_in=int(n_in), n_hidden=int(n_hidden), n_out=int(n_out),
            learning_rate=float(learning_rate), n_epochs=int(n_epochs),
            batch_size=int(batch_size), L1_reg=float(L1_reg), L2_reg=float(L2_reg),
            learning_rate_decay=float(learning_rate_decay), activation=activation,
            output_type=output_type, final_momentum=final_momentum,
            initial_momentum=initial_momentum, momentum_switchover=int(momentum_switchover),
            optimizer=optimizer, cell=cell, init_scale=init_scale, forget_bias=forget_bias,
            rng=rng, mode=mode))
        floatX = pytensor.config.floatX
        self.x = pt.tensor3("x", dtype=floatX)
        self.mask = pt.matrix("mask", dtype=floatX)
        if output_type == "softmax":
            self.y = pt.matrix("y", dtype="int32")
        elif output_type == "binary":
            self.y = pt.tensor3("y", dtype="int32")
        else:
            self.y = pt.tensor3("y", dtype=floatX)
        self.rnn = RNN(self.x, self.n_in, self.n_hidden, self.n_out,
                       activation=get_activation(activation), output_type=output_type,
                       cell=cell, init_scale=init_scale, forget_bias=forget_bias, rng=rng,
                       mask=self.mask)
        self.cost = (self.rnn.loss(self.y) + self.L1_reg * self.rnn.L1
                     + self.L2_reg * self.rnn.L2_sqr)
        self._fns = {}
        self.history = []

    def _fn(self, key):
        if key in self._fns:
            return self._fns[key]
        mode = get_mode(self.mode)
        rnn, x, y, m = self.rnn, self.x, self.y, self.mask
        if key == "predict":
            out = rnn.y_pred if self.output_type == "real" else rnn.p_y_given_x
            fn = compile_function([x, m], out, mode=mode, name="elman_mb.predict")
        elif key == "cost_grad":
            grads = pytensor.grad(self.cost, rnn.params)
            fn = compile_function([x, y, m], [self.cost] + list(grads), mode=mode,
                                  name="elman_mb.cost_grad")
        else:
            l_r, mom = pt.scalar("l_r", dtype=x.dtype), pt.scalar("mom", dtype=x.dtype)
            updates = []
            for p, g in zip(rnn.params, pytensor.grad(self.cost, rnn.params)):
                v = rnn.updates[p]
                upd = mom * v - l_r * g
                updates += [(v, upd), (p, p + upd)]
            fn = compile_function([x, y, m, l_r, mom], self.cost, updates=updates, mode=mode,
                                  name="elman_mb.train")
        self._fns[key] = fn
        return fn

    def _data(self, X, Y, mask):
        X = np.asarray(X, dtype=pytensor.config.floatX)
        if X.ndim != 3:
            raise ValueError(f"X must be (T, N, n_in), got shape {X.shape}")
        Y = (np.asarray(Y, dtype=pytensor.config.floatX) if self.output_type == "real"
             else np.asarray(Y).astype("int32"))
        mask = (np.ones(X.shape[:2]) if mask is None else np.asarray(mask))
        return X, Y, mask.astype(pytensor.config.floatX)

    def predict(self, X, mask=None):
        """Outputs (``real``) or probabilities for blocks ``X (T, N, n_in)``."""
        X = np.asarray(X, dtype=pytensor.config.floatX)
        m = np.ones(X.shape[:2]) if mask is None else mask
        return self._fn("predict")(X, np.asarray(m, dtype=X.dtype))

    def cost_and_grads(self, X, Y, mask=None):
        out = self._fn("cost_grad")(*self._data(X, Y, mask))
        return float(out[0]), out[1:]

    # -- flattened parameters (for scipy) ---------------------------------
    def get_flat(self):
        return np.concatenate([p.get_value().ravel() for p in self.rnn.params])

    def set_flat(self, theta):
        i = 0
        for p in self.rnn.params:
            shape = p.get_value(borrow=True).shape
            n = int(np.prod(shape))
            p.set_value(np.asarray(theta[i:i + n], dtype=p.dtype).reshape(shape))
            i += n

    def fit(self, X, Y, mask=None):
        X, Y, mask = self._data(X, Y, mask)
        if self.optimizer == "sgd":
            return self._fit_sgd(X, Y, mask)
        from scipy.optimize import minimize

        fn = self._fn("cost_grad")

        def f(theta):
            self.set_flat(theta)
            out = fn(X, Y, mask)
            return float(out[0]), np.concatenate([g.ravel() for g in out[1:]])

        res = minimize(f, self.get_flat(), jac=True, method=self.optimizer,
                       options={"maxiter": self.n_epochs})
        self.set_flat(res.x)
        self.result = res
        log.info("%s: %s after %d iterations, cost %f", self.optimizer, res.message, res.nit,
                 res.fun)
        self.history.append(float(res.fun))
        return self

    def _fit_sgd(self, X, Y, mask):
        train = self._fn("train")
        N = X.shape[1]
        n_batches = max(1, int(np.ceil(N / self.batch_size)))
        for epoch in range(1, self.n_epochs + 1):
            mom = self.final_momentum if epoch > self.momentum_switchover else self.initial_momentum
            costs = []
            for b in range(n_batches):
                s = slice(b * self.batch_size, (b + 1) * self.batch_size)
                costs.append(train(X[:, s], Y[:, s], mask[:, s], self.learning_rate, mom))
            self.history.append(float(np.mean(costs)))
            log.info("epoch %i, mean batch cost %f lr: %f", epoch, self.history[-1],
                     self.learning_rate)
            self.learning_rate *= self.learning_rate_decay
        return self
