r"""Bidirectional and deep bidirectional RNNs over any cell (WildML part 1, 4.1-4.2).

A *bidirectional layer* runs the recurrence once forward in time and once
backward over the same inputs and concatenates the two hidden
states of each time step, forward first: ``[h_f(t), h_b(t)]``.  A *deep*
bidirectional stack feeds each layer the concatenated states of the layer
below.  ``directions=1`` gives the forward-only (unidirectional) stack of the
same size -- the baseline the tasks compare against.

Parameters (one set per layer ``l`` and direction ``d`` in ``f``/``b``), for a
cell with ``k`` gate blocks (rnn 1, gru 3 = z, r, candidate, lstm 4 = i, f, o,
candidate -- the orders of :mod:`theano_rnn.cells`)::

    E      (D, C)            embedding, token x -> E[:, x]
    Wx_dl  (k*H, D_l)        input weights, D_0 = D, D_l = dirs*H above
    Wh_dl  (k*H, H)          recurrent weights
    b_dl   (k*H,)            biases
    V      (K, dirs*H), c (K,)   the task's output layer

One step is the cells' merged step (:meth:`Cell.merged_step`) on
``pre = Wx x + b``, which is computed for the whole sequence outside the loop.

Batches are time-major ``(T, B)`` int32 tokens with a 0/1 mask ``(T, B)`` and
**right** padding.  A padded step keeps every state exactly (the recurrent
engine's mask), so the forward pass ignores the tail and the
backward pass stays at its zero initial state until the last real token: a
padded batch gives each sequence exactly its own results (tested against
:mod:`legacy_ref.bidir_numpy` and against unpadded runs).

The stack's layout, initialisation and masked directions are
:mod:`theano_rnn.graphs.stack`'s (re-exported here); each direction of each
layer is one op of the recurrent engine
(:func:`theano_rnn.graphs.engine.run_layer`: forward and whole-sequence
backward in one call each).  The task models built
on this stack live in :class:`ClozeModel` (fill in a missing word) and :class:`SequenceClassifier` (the Theano LSTM sentiment
tutorial's mean-pooled classifier).
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt

from theano_rnn import optim
from theano_rnn.cells import get_cell
from theano_rnn.graphs.stack import (
    bidirectional_stack, check_dims, init_stack_params, stack_param_shapes,
)
from theano_rnn.compat import get_mode, mode_name
from theano_rnn.graphs.cache import CompileCache
from theano_rnn.models.params import SharedParams
from theano_rnn.models.registry import register_model
from theano_rnn.runtime.compile import compile_function

__all__ = [
    "stack_param_shapes",
    "init_stack_params",
    "bidirectional_stack",
    "BiStackModel",
    "ClozeModel",
    "SequenceClassifier",
    "OPTIMIZER_STATE",
    "model_from_config",
]

log = logging.getLogger(__name__)

#: algorithm (:data:`theano_rnn.optim.OPTIMIZERS`) -> prefixes of its per-parameter
#: state (plus a scalar "t" for adam); "rmsprop" here is the LSTM tutorial's
#: (Graves') RMSprop, "rmsprop_tutorial" WildML part 4's with its decay 0.9
OPTIMIZER_STATE = {
    "sgd": (),
    "adadelta": ("rg2", "ru2"),
    "rmsprop_graves": ("rg", "rgg", "ud"),
    "rmsprop_tutorial": ("m",),
    "adam": ("m", "v"),
}


def _log_softmax(logits):
    return logits - pt.logsumexp(logits, axis=-1, keepdims=True)


class BiStackModel(SharedParams):
    """A (deep, bi)directional stack plus an output layer, with compiled functions.

    Subclasses define the head and their compiled functions (``_build_<kind>``
    methods, compiled lazily by :meth:`_compiled`); this class owns the parameters (shared variables in the model's dtype), the
    optimizer and its state, the backend, and the config used by checkpoints.
    """

    kind = "stack"
    default_init = "uniform"
    default_optimizer = "sgd"

    def __init__(self, vocab_size, num_outputs, cell="lstm", embed_dim=64, hidden_dim=64,
                 num_layers=1, directions=2, *, gate_activation=None, init=None,
                 optimizer=None, seed=1234, rng=None, mode=None, params=None):
        self.cell = get_cell(cell)
        check_dims(vocab_size, embed_dim, hidden_dim, num_layers, directions, num_outputs)
        self.vocab_size, self.num_outputs = int(vocab_size), int(num_outputs)
        self.embed_dim, self.hidden_dim = int(embed_dim), int(hidden_dim)
        self.num_layers, self.directions = int(num_layers), int(directions)
        self.gate_activation = gate_activation or self.cell.default_gate
        if self.cell.uses_gates:
            self.cell.gate(self.gate_activation)  # validates the name
        self.init = init or self.default_init
        #: the update rule, one of :data:`theano_rnn.optim.OPTIMIZERS` (stored in checkpoints)
        self.algorithm = optim.resolve("stack", optimizer or self.default_optimizer)
        self.optimizer = optim.display_name("stack", self.algorithm)  # Graves' is "rmsprop"
        self.seed = seed
        self.mode = mode_name(mode)
        self._mode = get_mode(mode)
        self.dtype = pytensor.config.floatX
        shapes = stack_param_shapes(self.cell, vocab_size, embed_dim, hidden_dim, num_layers,
                                    directions, num_outputs)
        if params is None:
            params = init_stack_params(
                self.cell, vocab_size, embed_dim, hidden_dim, num_layers, directions, num_outputs,
                rng=rng if rng is not None else np.random.RandomState(seed), init=self.init,
            )
        self._hold(params, shapes)
        self._opt_state = self._new_optimizer_state(OPTIMIZER_STATE[self.algorithm],
                                                    counter=self.algorithm == "adam")
        self._fns = CompileCache(self.dtype, self.static_shapes)

    # -- bookkeeping (parameters, optimizer state, word_dim: SharedParams) -----
    #: under JAX (static shapes) batches are padded in time to a multiple of this
    jax_bucket = 16

    def _pad_time(self, X, M):
        """Under JAX, right-pad ``(T, B)`` to a multiple of :attr:`jax_bucket` steps.

        Padded steps are masked, which keeps every state exactly (see the module
        docstring), so results do not change; only the number of distinct shapes
        (one compiled function each) does.
        """
        X = np.asarray(X, dtype=np.int32)
        M = np.asarray(M, dtype=self.dtype)
        if X.ndim != 2 or M.shape != X.shape:
            raise ValueError(f"X and M must both be (T, B); got {X.shape} and {M.shape}")
        if not self.static_shapes or X.shape[0] % self.jax_bucket == 0:
            return X, M
        T = -(-X.shape[0] // self.jax_bucket) * self.jax_bucket
        pad = ((0, T - X.shape[0]), (0, 0))
        return np.pad(X, pad), np.pad(M, pad)

    def config(self):
        return {
            "class": type(self).__name__,
            "cell": self.cell.name,
            "word_dim": self.vocab_size,
            "num_outputs": self.num_outputs,
            "embed_dim": self.embed_dim,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "directions": self.directions,
            "gate_activation": self.gate_activation,
            "init": self.init,
            "optimizer": self.optimizer,
            "algorithm": self.algorithm,
            "seed": self.seed,
            "dtype": self.dtype,
        }

    @classmethod
    def _config_args(cls, config):
        """The constructor's positional arguments and its head's own keywords, from ``config``."""
        return (config["word_dim"], config["num_outputs"]), {}

    @classmethod
    def from_config(cls, config, params=None, mode=None):
        args, head_kwargs = cls._config_args(config)
        return cls(
            *args, cell=config["cell"],
            embed_dim=config["embed_dim"], hidden_dim=config["hidden_dim"],
            num_layers=config["num_layers"], directions=config["directions"],
            gate_activation=config.get("gate_activation"), init=config.get("init"),
            optimizer=config.get("optimizer") or config.get("algorithm"),
            seed=config.get("seed", 1234), mode=mode,
            params=params, **head_kwargs,
        )

    def _updates(self, loss, lr):
        params = list(self._shared.values())
        grads = pytensor.grad(loss, params)
        st = self._opt_state
        if self.algorithm == "sgd":
            updates, _ = optim.sgd(params, grads, lr)
        elif self.algorithm == "adadelta":
            updates, _ = optim.adadelta(params, grads, state=st)
        elif self.algorithm == "rmsprop_graves":
            updates, _ = optim.rmsprop_graves(params, grads, learning_rate=lr, state=st)
        elif self.algorithm == "rmsprop_tutorial":
            updates, _ = optim.rmsprop_tutorial(params, grads, lr, 0.9, state=st)
        else:
            updates, _ = optim.adam(params, grads, lr, state=st)
        return updates

    # -- graphs -------------------------------------------------------------
    def _inputs(self, shape):
        """Symbolic ``X`` (T, B) int32 and mask ``M`` (T, B) in the model dtype."""
        shp = (None, None) if shape is None else tuple(shape)
        return (pt.tensor("X", dtype="int32", shape=shp), pt.tensor("M", dtype=self.dtype, shape=shp))

    def top_states(self, X, M):
        """Symbolic top-layer states ``(T, B, directions*H)``."""
        return bidirectional_stack(self.cell, self.params, X, M, self.num_layers, self.directions,
                                   self.gate_activation)

    def _compiled(self, kind, shape):
        """``kind`` from the model's :class:`~theano_rnn.graphs.cache.CompileCache` (per shape under JAX)."""
        return self._fns.compiled(kind, getattr(self, "_build_" + kind), shape)

    def _fn(self, inputs, outputs, updates=None, name=None):
        # adadelta ignores the learning rate input (the tutorial's lrate): allow it unused
        return compile_function(inputs, outputs, updates=updates, mode=self._mode,
                                 allow_input_downcast=True, name=name, on_unused_input="ignore")

    def _build_states(self, shape):
        X, M = self._inputs(shape)
        return self._fn([X, M], self.top_states(X, M), name="top_states")

    def states(self, X, M):
        """Numeric top-layer states ``(T, B, directions*H)`` (padding is masked, see docs)."""
        T = np.shape(X)[0]
        X, M = self._pad_time(X, M)
        return self._compiled("states", X.shape)(X, M)[:T]

    def __repr__(self):
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, num_outputs={self.num_outputs}, "
            f"cell={self.cell.name!r}, embed_dim={self.embed_dim}, hidden_dim={self.hidden_dim}, "
            f"num_layers={self.num_layers}, directions={self.directions}, mode={self.mode!r})"
        )


class ClozeModel(BiStackModel):
    """Fill in a missing word from both sides.

    The sentence is read with the missing word replaced by the ``<blank>``
    token (an ordinary vocabulary entry); the top layer's concatenated state
    at the blank's position predicts the word through ``softmax(V s + c)``.
    With ``directions=2`` that state has read the whole left context (forward
    direction) and the whole right context (backward direction); with
    ``directions=1`` (the baseline) only the left context.  Deep stacks are
    safe: the blank token, not the answer, is what every layer sees.

    The loss is the mean negative log-likelihood of the missing words.
    Defaults: LSTM, 1 layer, 64 units, uniform (WildML) initialisation, Adam
    -- change any of them by keyword.
    """

    kind = "cloze"
    default_init = "uniform"
    default_optimizer = "adam"

    def __init__(self, vocab_size, cell="lstm", embed_dim=64, hidden_dim=64, num_layers=1,
                 directions=2, **kwargs):
        kwargs.pop("num_outputs", None)
        super().__init__(vocab_size, vocab_size, cell, embed_dim, hidden_dim, num_layers,
                         directions, **kwargs)

    @classmethod
    def _config_args(cls, config):
        return (config["word_dim"],), {}

    def _blank_logp(self, X, M, pos):
        top = self.top_states(X, M)
        B = X.shape[1]
        at = top[pos, pt.arange(B)]  # (B, dirs*H)
        return _log_softmax(at.dot(self.params["V"].T) + self.params["c"])

    def _cloze_inputs(self, shape):
        X, M = self._inputs(shape)
        bshape = (None,) if shape is None else (shape[1],)
        pos = pt.tensor("pos", dtype="int32", shape=bshape)
        y = pt.tensor("y", dtype="int32", shape=bshape)
        return X, M, pos, y

    def _nll(self, X, M, pos, y):
        logp = self._blank_logp(X, M, pos)
        return -pt.mean(logp[pt.arange(X.shape[1]), y]), logp

    def _build_train(self, shape):
        X, M, pos, y = self._cloze_inputs(shape)
        lr = pt.scalar("learning_rate", dtype=self.dtype)
        loss, _ = self._nll(X, M, pos, y)
        return self._fn([X, M, pos, y, lr], loss, updates=self._updates(loss, lr), name="cloze_train")

    def _build_grads(self, shape):
        X, M, pos, y = self._cloze_inputs(shape)
        loss, _ = self._nll(X, M, pos, y)
        return self._fn([X, M, pos, y], [loss, *pytensor.grad(loss, list(self._shared.values()))])

    def _build_logp(self, shape):
        X, M, pos, _ = self._cloze_inputs(shape)
        return self._fn([X, M, pos], self._blank_logp(X, M, pos), name="cloze_logp")

    def _args(self, X, M, pos, y=None):
        X, M = self._pad_time(X, M)
        args = [X, M, np.asarray(pos, dtype=np.int32)]
        if y is not None:
            args.append(np.asarray(y, dtype=np.int32))
        return X.shape, args

    def train_step(self, X, M, pos, y, learning_rate):
        """One optimizer step on a batch; returns the batch's mean loss before it."""
        shape, args = self._args(X, M, pos, y)
        return float(self._compiled("train", shape)(*args, learning_rate))

    def loss_and_gradients(self, X, M, pos, y):
        """Mean loss and gradients (``param_names`` order); for tests and gradcheck."""
        shape, args = self._args(X, M, pos, y)
        out = self._compiled("grads", shape)(*args)
        return float(out[0]), OrderedDict(zip(self.param_names, out[1:]))

    def log_probs(self, X, M, pos):
        """Log-probabilities ``(B, C)`` of every word at each sequence's blank."""
        shape, args = self._args(X, M, pos)
        return self._compiled("logp", shape)(*args)


class SequenceClassifier(BiStackModel):
    """The Theano LSTM sentiment tutorial's classifier on a (bi)directional stack.

    ``lstm.py``: embed, run the recurrent layer(s) under the padding mask,
    mean-pool the top states over the real time steps, apply dropout to the
    pooled vector, ``softmax(V pooled + c)``; the cost is
    ``-log(p[y] + 1e-8)`` averaged over the batch plus ``decay_c * sum(V**2)``.

    Dropout is the tutorial's non-inverted kind: while training the pooled
    vector is multiplied by a 0/1 mask that keeps each unit with probability
    ``1 - dropout`` (the mask comes from the trainer's generator, so runs
    repeat exactly); at evaluation it is multiplied by ``1 - dropout``.  The
    tutorial's defaults (``use_dropout=True``) mean ``dropout=0.5``.

    Defaults follow the tutorial where it has one: LSTM, ``dim_proj`` 128 for
    both the embedding and the hidden size, orthogonal initialisation, the
    Adadelta optimizer.  ``directions=2`` makes it bidirectional.
    """

    kind = "classify"
    default_init = "orthogonal"
    default_optimizer = "adadelta"

    def __init__(self, vocab_size, num_classes, cell="lstm", embed_dim=128, hidden_dim=128,
                 num_layers=1, directions=2, *, dropout=0.5, decay_c=0.0, **kwargs):
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        if float(decay_c) < 0:
            raise ValueError(f"decay_c must be >= 0, got {decay_c}")
        if int(num_classes) < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
        self.dropout, self.decay_c = float(dropout), float(decay_c)
        super().__init__(vocab_size, num_classes, cell, embed_dim, hidden_dim, num_layers,
                         directions, **kwargs)

    def config(self):
        cfg = super().config()
        cfg.update(dropout=self.dropout, decay_c=self.decay_c)
        return cfg

    @classmethod
    def _config_args(cls, config):
        return ((config["word_dim"], config["num_outputs"]),
                {"dropout": config.get("dropout", 0.5), "decay_c": config.get("decay_c", 0.0)})

    @property
    def num_classes(self):
        return self.num_outputs

    def _probs(self, X, M, drop):
        top = self.top_states(X, M)
        pooled = (top * M.dimshuffle(0, 1, "x")).sum(axis=0) / M.sum(axis=0).dimshuffle(0, "x")
        if drop is not None:
            pooled = pooled * drop
        logits = pooled.dot(self.params["V"].T) + self.params["c"]
        return pt.exp(_log_softmax(logits))

    def _cost(self, probs, y):
        cost = -pt.mean(pt.log(probs[pt.arange(y.shape[0]), y] + 1e-8))
        if self.decay_c > 0:
            cost = cost + self.decay_c * pt.sum(self.params["V"] ** 2)
        return cost

    def _cls_inputs(self, shape):
        X, M = self._inputs(shape)
        bshape = (None,) if shape is None else (shape[1],)
        y = pt.tensor("y", dtype="int32", shape=bshape)
        dshape = (None, None) if shape is None else (shape[1], self.directions * self.hidden_dim)
        drop = pt.tensor("drop", dtype=self.dtype, shape=dshape)
        return X, M, y, drop

    def _build_train(self, shape):
        X, M, y, drop = self._cls_inputs(shape)
        lr = pt.scalar("learning_rate", dtype=self.dtype)
        cost = self._cost(self._probs(X, M, drop), y)
        return self._fn([X, M, y, drop, lr], cost, updates=self._updates(cost, lr), name="classify_train")

    def _build_grads(self, shape):
        X, M, y, drop = self._cls_inputs(shape)
        cost = self._cost(self._probs(X, M, drop), y)
        return self._fn([X, M, y, drop], [cost, *pytensor.grad(cost, list(self._shared.values()))])

    def _build_probs(self, shape):
        X, M, _, _ = self._cls_inputs(shape)
        keep = 1.0 - self.dropout
        return self._fn([X, M], self._probs(X, M, keep if self.dropout > 0 else None), name="classify_probs")

    def dropout_mask(self, rng, batch_size):
        """The training multiplier ``(B, dirs*H)``: 0/1 keeps with probability ``1 - dropout``."""
        shape = (int(batch_size), self.directions * self.hidden_dim)
        if self.dropout <= 0:
            return np.ones(shape, dtype=self.dtype)
        return (rng.random_sample(shape) < 1.0 - self.dropout).astype(self.dtype)

    def _xm(self, X, M):
        return self._pad_time(X, M)

    def train_step(self, X, M, y, learning_rate, rng=None, drop=None):
        """One optimizer step; the dropout mask is drawn from ``rng`` unless given."""
        X, M = self._xm(X, M)
        if drop is None:
            if self.dropout > 0 and rng is None:
                raise ValueError("dropout needs the trainer's rng (or an explicit drop mask)")
            drop = self.dropout_mask(rng, X.shape[1])
        fn = self._compiled("train", X.shape)
        return float(fn(X, M, np.asarray(y, dtype=np.int32), np.asarray(drop, dtype=self.dtype),
                        learning_rate))

    def loss_and_gradients(self, X, M, y, drop=None):
        """Cost and gradients (``param_names`` order) with a given multiplier (default ones)."""
        X, M = self._xm(X, M)
        if drop is None:
            drop = np.ones((X.shape[1], self.directions * self.hidden_dim), dtype=self.dtype)
        out = self._compiled("grads", X.shape)(X, M, np.asarray(y, dtype=np.int32),
                                                np.asarray(drop, dtype=self.dtype))
        return float(out[0]), OrderedDict(zip(self.param_names, out[1:]))

    def predict_proba(self, X, M):
        """Class probabilities ``(B, K)`` (evaluation: dropout scaled by ``1 - dropout``)."""
        X, M = self._xm(X, M)
        return self._compiled("probs", X.shape)(X, M)

    def predict(self, X, M):
        """The most probable class of each sequence (the tutorial's ``f_pred``)."""
        return self.predict_proba(X, M).argmax(axis=1)


_CLASSES = {"ClozeModel": ClozeModel, "SequenceClassifier": SequenceClassifier}
for _cls in _CLASSES.values():
    register_model(_cls)


def model_from_config(config, params=None, mode=None):
    """Rebuild a :class:`ClozeModel` or :class:`SequenceClassifier` from its ``config()``."""
    try:
        cls = _CLASSES[config["class"]]
    except KeyError:
        raise ValueError(f"not a bidirectional-stack model: class {config.get('class')!r}") from None
    return cls.from_config(config, params=params, mode=mode)
