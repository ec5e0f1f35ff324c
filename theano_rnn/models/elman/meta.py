r"""gwtaylor's ``MetaRNN`` estimator (theano-rnn ``rnn.py``) on PyTensor.

``MetaRNN(n_in=5, n_hidden=50, n_out=5, learning_rate=0.01, n_epochs=100,
L1_reg=0.00, L2_reg=0.00, learning_rate_decay=1, activation='tanh',
output_type='real', final_momentum=0.9, initial_momentum=0.5,
momentum_switchover=5, use_symbolic_softmax=False)`` -- his signature and
defaults.  ``fit`` trains one sequence per update with classical momentum
(``v = mom*v - lr*g; p = p + v``; ``mom`` is ``initial_momentum`` for epochs
1..``momentum_switchover``, then ``final_momentum``) and multiplies
``self.learning_rate`` by ``learning_rate_decay`` after every epoch -- *in
place*, as his does, so a second ``fit`` starts at the decayed rate.  Every
``validation_frequency`` updates it logs the mean train loss (and test loss
when ``X_test`` is given) in his format and appends it to ``history``.

Differences, none visible in the numbers:

* the training function takes the sequence, not an index into a shared copy
  of the data (``givens``), so :func:`compile_function` can reuse one
  compilation across models of the same shape (same arithmetic);
* ``predict``/``predict_proba`` compile on first use, not in ``ready()``;
* ``get_params``/``set_params`` follow scikit-learn's estimator protocol
  without importing scikit-learn (his class derived from ``BaseEstimator``);
* ``save``/``load`` write and read a self-describing ``.npz``
  (:mod:`.store`), never a pickle; :func:`.store.convert_pickle` imports
  his pickles and refuses unless told the file is trusted.

Keyword-only extras (defaults give his model): ``cell`` (``rnn``,
``lstm_seed``, ``lstm``), ``init_scale``, ``forget_bias``, ``rng`` (None:
NumPy's global generator, so ``np.random.seed(s)`` gives his weights) and
``mode`` (backend; default C).
"""

from __future__ import annotations

import inspect
import logging
import time

import numpy as np
import pytensor
import pytensor.tensor as pt

from theano_rnn.models.elman.rnn import RNN, get_activation
from theano_rnn.models.elman.store import read_state, target_path, write_state
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.modes import get_mode

__all__ = ["MetaRNN", "load_metarnn"]

log = logging.getLogger(__name__)


class MetaRNN:
    """Estimator around :class:`~theano_rnn.models.elman.rnn.RNN` (see module docstring)."""

    def __init__(self, n_in=5, n_hidden=50, n_out=5, learning_rate=0.01,
                 n_epochs=100, L1_reg=0.00, L2_reg=0.00, learning_rate_decay=1,
                 activation="tanh", output_type="real", final_momentum=0.9,
                 initial_momentum=0.5, momentum_switchover=5,
                 use_symbolic_softmax=False, *, cell="rnn", init_scale=0.01,
                 forget_bias=0.0, rng=None, mode=None):
        self.n_in = int(n_in)
        self.n_hidden = int(n_hidden)
        self.n_out = int(n_out)
        self.learning_rate = float(learning_rate)
        self.learning_rate_decay = float(learning_rate_decay)
        self.n_epochs = int(n_epochs)
        self.L1_reg = float(L1_reg)
        self.L2_reg = float(L2_reg)
        self.activation = activation
        self.output_type = output_type
        self.initial_momentum = initial_momentum
        self.final_momentum = final_momentum
        self.momentum_switchover = int(momentum_switchover)
        self.use_symbolic_softmax = use_symbolic_softmax
        self.cell = cell
        self.init_scale = init_scale
        self.forget_bias = forget_bias
        self.rng = rng
        self.mode = mode
        self.history = []
        self.ready()

    # -- scikit-learn estimator protocol ----------------------------------
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [n for n in sig.parameters if n != "self"]

    def get_params(self, deep=True):
        """Constructor arguments by name (``rng`` and ``mode`` included)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor arguments; call :meth:`ready` to rebuild the graph."""
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for estimator MetaRNN")
            setattr(self, key, value)
        return self

    # -- graph ------------------------------------------------------------
    def ready(self):
        """Build the symbolic model (new weights from ``rng`` / the global generator)."""
        floatX = pytensor.config.floatX
        self.x = pt.matrix(name="x", dtype=floatX)
        if self.output_type == "real":
            self.y = pt.matrix(name="y", dtype=floatX)
        elif self.output_type == "binary":
            self.y = pt.matrix(name="y", dtype="int32")
        elif self.output_type == "softmax":
            self.y = pt.vector(name="y", dtype="int32")
        else:
            raise NotImplementedError(f"output_type {self.output_type!r}")
        act = get_activation(self.activation)
        self.rnn = RNN(input=self.x, n_in=self.n_in, n_hidden=self.n_hidden, n_out=self.n_out,
                       activation=act, output_type=self.output_type,
                       use_symbolic_softmax=self.use_symbolic_softmax, cell=self.cell,
                       init_scale=self.init_scale, forget_bias=self.forget_bias, rng=self.rng)
        self._fns = {}

    def _fn(self, key):
        if key in self._fns:
            return self._fns[key]
        mode = get_mode(self.mode)
        rnn, x, y = self.rnn, self.x, self.y
        if key == "predict":
            out = rnn.y_pred if self.output_type == "real" else (
                pt.round(rnn.p_y_given_x) if self.output_type == "binary" else rnn.y_out)
            fn = compile_function([x], out, mode=mode, name="elman.predict")
        elif key == "predict_proba":
            if self.output_type == "real":
                raise NotImplementedError("predict_proba needs output_type binary or softmax")
            fn = compile_function([x], rnn.p_y_given_x, mode=mode, name="elman.predict_proba")
        elif key == "loss":
            fn = compile_function([x, y], rnn.loss(y), mode=mode, name="elman.loss")
        elif key == "train":
            l_r = pt.scalar("l_r", dtype=pytensor.config.floatX)
            mom = pt.scalar("mom", dtype=pytensor.config.floatX)
            cost = self.cost(y)
            gparams = [pytensor.grad(cost, p) for p in rnn.params]
            updates = []
            for param, gparam in zip(rnn.params, gparams):
                weight_update = rnn.updates[param]
                upd = mom * weight_update - l_r * gparam
                updates.append((weight_update, upd))
                updates.append((param, param + upd))
            fn = compile_function([x, y, l_r, mom], cost, updates=updates, mode=mode,
                                  name="elman.train")
        else:  # pragma: no cover - internal
            raise KeyError(key)
        self._fns[key] = fn
        return fn

    def cost(self, y):
        """His training cost: ``loss + L1_reg * L1 + L2_reg * L2_sqr``."""
        return self.rnn.loss(y) + self.L1_reg * self.rnn.L1 + self.L2_reg * self.rnn.L2_sqr

    # -- use --------------------------------------------------------------
    def _x(self, X):
        return np.asarray(X, dtype=pytensor.config.floatX)

    def _y(self, Y):
        if self.output_type == "real":
            return np.asarray(Y, dtype=pytensor.config.floatX)
        return np.asarray(Y).astype("int32")  # his T.cast(shared_y, 'int32')

    def predict(self, X):
        """Outputs for one sequence ``X (T, n_in)``: values, rounded probabilities or labels."""
        return self._fn("predict")(self._x(X))

    def predict_proba(self, X):
        return self._fn("predict_proba")(self._x(X))

    def loss(self, X, Y):
        """Mean of the per-sequence loss over sequences ``X (N, T, n_in)``, ``Y``."""
        fn = self._fn("loss")
        return float(np.mean([fn(self._x(x), self._y(y)) for x, y in zip(X, Y)]))

    def weights(self):
        """Copies of ``W, W_in, W_out, h0, bh, by`` (``params`` order)."""
        return [p.get_value() for p in self.rnn.params]

    def _set_weights(self, weights):
        weights = list(weights)
        if len(weights) != len(self.rnn.params):
            raise ValueError(f"expected {len(self.rnn.params)} weight arrays, got {len(weights)}")
        for param, value in zip(self.rnn.params, weights):
            value = np.asarray(value, dtype=param.dtype)
            if value.shape != param.get_value(borrow=True).shape:
                raise ValueError(f"{param.name}: shape {value.shape}, expected "
                                 f"{param.get_value(borrow=True).shape}")
            param.set_value(value)

    def fit(self, X_train, Y_train, X_test=None, Y_test=None, validation_frequency=100,
            callback=None):
        """Train on the sequences ``X_train (N, T, n_in)`` one at a time (his loop)."""
        if X_test is not None:
            assert Y_test is not None
            self.interactive = True
            test_x, test_y = self._x(X_test), self._y(Y_test)
        else:
            self.interactive = False
        train_x, train_y = self._x(X_train), self._y(Y_train)
        n_train = train_x.shape[0]
        log.info("... building the model")
        train_model = self._fn("train")
        log.info("... training")
        t0 = time.perf_counter()
        epoch = 0
        while epoch < self.n_epochs:
            epoch = epoch + 1
            for idx in range(n_train):
                effective_momentum = (self.final_momentum if epoch > self.momentum_switchover
                                      else self.initial_momentum)
                train_model(train_x[idx], train_y[idx], self.learning_rate, effective_momentum)
                it = (epoch - 1) * n_train + idx + 1
                if it % validation_frequency == 0:
                    this_train_loss = self.loss(train_x, train_y)
                    if self.interactive:
                        this_test_loss = self.loss(test_x, test_y)
                        log.info("epoch %i, seq %i/%i, tr loss %f te loss %f lr: %f",
                                 epoch, idx + 1, n_train, this_train_loss, this_test_loss,
                                 self.learning_rate)
                    else:
                        this_test_loss = None
                        log.info("epoch %i, seq %i/%i, train loss %f lr: %f",
                                 epoch, idx + 1, n_train, this_train_loss, self.learning_rate)
                    self.history.append((epoch, idx + 1, this_train_loss, this_test_loss))
                    if callback is not None:
                        callback(epoch, this_train_loss, this_test_loss)
            self.learning_rate *= self.learning_rate_decay
        self.fit_seconds = time.perf_counter() - t0
        return self

    # -- files ------------------------------------------------------------
    def save(self, fpath=".", fname=None, *, overwrite=False):
        """Write a self-describing ``.npz`` (:mod:`.store`); returns the path.

        His naming: ``fpath`` ending in ``.npz`` is the file, otherwise a dated
        ``MetaRNN.<date>.npz`` inside ``fpath``.  An existing file is refused
        unless ``overwrite`` (his pickles were replaced silently)."""
        return write_state(target_path(fpath, fname), self.get_params(), self.weights(),
                           overwrite=overwrite)

    def load(self, path):
        """Replace this estimator's settings and weights with those in ``path`` (``.npz``)."""
        params, weights = read_state(path)
        self.set_params(**params)
        self.ready()
        self._set_weights(weights)
        return self


def load_metarnn(path, **overrides):
    """A new :class:`MetaRNN` from a ``.npz`` written by :meth:`MetaRNN.save`."""
    params, weights = read_state(path)
    params.update(overrides)
    model = MetaRNN(**params)
    model._set_weights(weights)
    return model
