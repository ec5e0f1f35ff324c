r"""The Udacity deep-learning ``6_lstm.ipynb`` character LSTM (seed 003's listing), in PyTensor.

Parameters under the listing's names, in its order (V = ``vocabulary_size``,
N = ``num_nodes``)::

    ix (V, N)  im (N, N)  ib (1, N)     input gate
    fx (V, N)  fm (N, N)  fb (1, N)     forget gate
    cx (V, N)  cm (N, N)  cb (1, N)     memory cell ("update")
    ox (V, N)  om (N, N)  ob (1, N)     output gate
    w  (N, V)  b  (V,)                  classifier

The cell (``lstm_cell(i, o, state)``; ``i`` one-hot rows, ``o`` the previous
output, no peepholes)::

    input_gate  = sigmoid(i ix + o im + ib)
    forget_gate = sigmoid(i fx + o fm + fb)
    update      = i cx + o cm + cb
    state       = forget_gate * state + input_gate * tanh(update)
    output_gate = sigmoid(i ox + o om + ob)
    output      = output_gate * tanh(state)

Training (:meth:`UdacityLSTM.train_step`): ``num_unrollings + 1`` one-hot
batches, inputs the first ``num_unrollings``, labels the last ones; the cell
unrolled in Python (as the notebook builds its graph) from ``saved_output`` /
``saved_state``, which then take the last output and state (carried to the
next call, no gradient through them); logits ``concat(outputs) w + b``; loss
the mean softmax cross-entropy over the ``num_unrollings * batch_size`` rows;
SGD with ``lr = 10 * 0.1 ** floor(global_step / 5000)``
(``tf.train.exponential_decay(..., staircase=True)``, read before the step
increments it) on gradients clipped to global norm 1.25
(:func:`theano_rnn.optim.clip_global_norm`, ``tf.clip_by_global_norm``).

Sampling and validation (:meth:`UdacityLSTM.sample_prediction`): batch 1,
one character per call, the state kept in ``saved_sample_output`` /
``saved_sample_state`` until :meth:`UdacityLSTM.reset_sample_state`.

**Initialisation, as the listing behaves.**  ``tf.truncated_normal(shape,
-0.1, 0.1)`` passes ``-0.1`` and ``0.1`` positionally to ``(mean, stddev)``:
the weights are drawn from a normal of **mean -0.1**, stddev 0.1, redrawn
outside two standard deviations, i.e. within ``[-0.3, 0.1]`` -- not the
``(-0.1, 0.1)`` range the arguments look like.  ``init="listing"`` (default)
does exactly that; ``init="uniform"`` draws U(-0.1, 0.1) (what the arguments
read as, ``tf.random_uniform(shape, -0.1, 0.1)``); ``init="centred"`` a
truncated normal of mean 0, stddev 0.1.  Biases are zeros in every case.
Draw order: ix, im, fx, fm, cx, cm, ox, om, w, from the explicit ``rng``.

What differs from the notebook, on purpose: TensorFlow's random streams are
not reproduced (the weights come from ``rng``); float64 by default
(``floatX``); the sampler's randomness comes from an explicit generator, not
``random`` / ``np.random``.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt

from theano_rnn import optim
from theano_rnn.compat import get_mode, mode_name
from theano_rnn.data.text8 import id2char
from theano_rnn.models.params import SharedParams
from theano_rnn.models.registry import register_model
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.rng import resolve_rng

__all__ = [
    "UdacityLSTM", "UDACITY_DEFAULTS", "INITS", "truncated_normal", "logprob",
    "sample_distribution", "random_distribution", "train_notebook",
]

log = logging.getLogger(__name__)

#: the notebook's numbers
UDACITY_DEFAULTS = dict(
    vocabulary_size=27, num_nodes=64, batch_size=64, num_unrollings=10,
    learning_rate=10.0, decay_steps=5000, decay_rate=0.1, clip_norm=1.25,
)
#: the initialisations by name (module docstring)
INITS = ("listing", "uniform", "centred")
GATES = ("i", "f", "c", "o")
PARAM_NAMES = tuple(f"{g}{k}" for g in GATES for k in ("x", "m", "b")) + ("w", "b")
DRAWN = tuple(f"{g}{k}" for g in GATES for k in ("x", "m")) + ("w",)


def truncated_normal(rng, shape, mean=0.0, stddev=1.0):
    """``tf.truncated_normal(shape, mean, stddev)``: normal draws, those more than two
    standard deviations from the mean redrawn until none is (from ``rng``)."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return mean + stddev * z


def _softmax(logits):
    """Row softmax as ``exp`` of the log-probabilities (elementwise ops only)."""
    return pt.exp(logits - pt.logsumexp(logits, axis=1, keepdims=True))


def _draw(init, rng, shape):
    if init == "listing":  # tf.truncated_normal(shape, -0.1, 0.1): mean -0.1, stddev 0.1
        return truncated_normal(rng, shape, -0.1, 0.1)
    if init == "centred":
        return truncated_normal(rng, shape, 0.0, 0.1)
    return rng.uniform(-0.1, 0.1, shape)


def logprob(predictions, labels):
    """The notebook's ``logprob``: mean over rows of ``-sum(labels * log(p))``, p clipped at 1e-10."""
    predictions = np.array(predictions, dtype=np.float64)
    predictions[predictions < 1e-10] = 1e-10
    return float(np.sum(np.multiply(labels, -np.log(predictions))) / labels.shape[0])


def sample_distribution(distribution, rng):
    """Index drawn from a normalised ``distribution`` (the notebook's cumulative walk)."""
    r = rng.uniform(0, 1)
    s = 0.0
    for i in range(len(distribution)):
        s += distribution[i]
        if s >= r:
            return i
    return len(distribution) - 1


def random_distribution(vocabulary_size, rng):
    """A random (1, V) row of probabilities."""
    b = rng.uniform(0.0, 1.0, size=[1, vocabulary_size])
    return b / np.sum(b, 1)[:, None]


class UdacityLSTM(SharedParams):
    """The notebook's LSTM graph: parameters, ``train_step``, ``sample_prediction``.

    Args (the notebook's values by default): ``vocabulary_size``, ``num_nodes``,
    ``batch_size``, ``num_unrollings``, ``learning_rate`` (10), ``decay_steps``
    (5000), ``decay_rate`` (0.1, staircase), ``clip_norm`` (1.25); ``init``
    (``"listing"``, ``"uniform"``, ``"centred"``: module docstring); ``rng``
    (seed or generator for the weights); ``mode`` (backend); ``params``
    (name -> array, instead of drawing).
    """

    def __init__(self, vocabulary_size=27, num_nodes=64, batch_size=64, num_unrollings=10, *,
                 learning_rate=10.0, decay_steps=5000, decay_rate=0.1, clip_norm=1.25,
                 init="listing", rng=None, mode=None, params=None):
        V, N = int(vocabulary_size), int(num_nodes)
        if V < 2 or N < 1 or int(batch_size) < 1 or int(num_unrollings) < 1:
            raise ValueError("vocabulary_size >= 2 and num_nodes, batch_size, num_unrollings >= 1")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        if float(clip_norm) <= 0 or int(decay_steps) < 1:
            raise ValueError("clip_norm must be > 0 and decay_steps >= 1")
        self.vocab_size, self.num_nodes = V, N
        self.batch_size, self.num_unrollings = int(batch_size), int(num_unrollings)
        self.learning_rate, self.decay_steps = float(learning_rate), int(decay_steps)
        self.decay_rate, self.clip_norm = float(decay_rate), float(clip_norm)
        self.init = init
        self.mode = mode_name(mode)
        self._mode = get_mode(mode)
        self.dtype = pytensor.config.floatX
        shapes = self.param_shapes()
        if params is None:
            rng = resolve_rng(rng)
            params = {n: np.zeros(s) for n, s in shapes.items()}
            for name in DRAWN:
                params[name] = _draw(init, rng, shapes[name])
        self._hold(params, shapes, attributes=True)
        for g in GATES:  # the (1, N) biases broadcast over the batch, as in TensorFlow
            name = g + "b"
            bias = pytensor.shared(self._shared[name].get_value(), name=name, shape=(1, None))
            self._shared[name] = bias
            setattr(self, name, bias)
        self._opt_state = OrderedDict()
        zeros = np.zeros((self.batch_size, N), dtype=self.dtype)
        self.saved_output = pytensor.shared(zeros.copy(), name="saved_output")
        self.saved_state = pytensor.shared(zeros.copy(), name="saved_state")
        self.saved_sample_output = pytensor.shared(np.zeros((1, N), self.dtype), name="saved_sample_output")
        self.saved_sample_state = pytensor.shared(np.zeros((1, N), self.dtype), name="saved_sample_state")
        self.global_step = pytensor.shared(np.asarray(0, dtype="int64"), name="global_step")
        self._fns = {}

    # ----------------------------------------------------------------- layout
    def param_shapes(self):
        V, N = self.vocab_size, self.num_nodes
        shapes = OrderedDict()
        for g in GATES:
            shapes[g + "x"], shapes[g + "m"], shapes[g + "b"] = (V, N), (N, N), (1, N)
        shapes["w"], shapes["b"] = (N, V), (V,)
        return shapes

    def config(self):
        return {"class": "UdacityLSTM", "vocabulary_size": self.vocab_size,
                "num_nodes": self.num_nodes, "batch_size": self.batch_size,
                "num_unrollings": self.num_unrollings, "learning_rate": self.learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "clip_norm": self.clip_norm, "init": self.init}

    @classmethod
    def from_config(cls, config, params=None, mode=None):
        kwargs = {k: v for k, v in config.items() if k != "class"}
        return cls(params=params, mode=mode, **kwargs)

    def training_state(self):
        """The non-parameter state a resume needs: step count and carried states."""
        return {"global_step": np.asarray(self.global_step.get_value()),
                "saved_output": self.saved_output.get_value(),
                "saved_state": self.saved_state.get_value()}

    def set_training_state(self, arrays):
        self.global_step.set_value(np.asarray(arrays["global_step"], dtype="int64"))
        self.saved_output.set_value(np.asarray(arrays["saved_output"], dtype=self.dtype))
        self.saved_state.set_value(np.asarray(arrays["saved_state"], dtype=self.dtype))

    def reset_saved_state(self):
        """Zero ``saved_output`` / ``saved_state`` (the notebook never does during training)."""
        zeros = np.zeros((self.batch_size, self.num_nodes), dtype=self.dtype)
        self.saved_output.set_value(zeros.copy())
        self.saved_state.set_value(zeros.copy())

    # ------------------------------------------------------------------ graph
    def lstm_cell(self, i, o, state):
        """The listing's ``lstm_cell``: ``(output, state)`` of one step."""
        p = self._shared
        input_gate = pt.sigmoid(pt.dot(i, p["ix"]) + pt.dot(o, p["im"]) + p["ib"])
        forget_gate = pt.sigmoid(pt.dot(i, p["fx"]) + pt.dot(o, p["fm"]) + p["fb"])
        update = pt.dot(i, p["cx"]) + pt.dot(o, p["cm"]) + p["cb"]
        state = forget_gate * state + input_gate * pt.tanh(update)
        output_gate = pt.sigmoid(pt.dot(i, p["ox"]) + pt.dot(o, p["om"]) + p["ob"])
        return output_gate * pt.tanh(state), state

    def _unrolled(self, data, output, state):
        """Loss, logits, last output and state of the unrolled loop over ``data`` (T+1, B, V)."""
        outputs = []
        for t in range(self.num_unrollings):
            output, state = self.lstm_cell(data[t], output, state)
            outputs.append(output)
        logits = pt.dot(pt.concatenate(outputs, axis=0), self._shared["w"]) + self._shared["b"]
        labels = data[1:].reshape((-1, self.vocab_size))  # tf.concat(0, train_labels)
        log_p = logits - pt.logsumexp(logits, axis=1, keepdims=True)
        loss = pt.mean(-pt.sum(labels * log_p, axis=1))
        return loss, logits, output, state

    def _data_var(self):
        return pt.tensor3("train_data", dtype=self.dtype)

    def _function(self, key):
        if key in self._fns:
            return self._fns[key]
        params = list(self._shared.values())
        data = self._data_var()
        if key == "train":
            loss, logits, output, state = self._unrolled(data, self.saved_output, self.saved_state)
            grads, _ = optim.clip_global_norm(pytensor.grad(loss, params), self.clip_norm)
            lr = self.learning_rate * self.decay_rate ** pt.floor_div(self.global_step, self.decay_steps)
            lr = pt.cast(lr, self.dtype)
            updates, _ = optim.sgd(params, grads, lr)
            updates += [(self.saved_output, output), (self.saved_state, state),
                        (self.global_step, self.global_step + 1)]
            fn = compile_function([data], [loss, _softmax(logits), lr],
                                  updates=updates, mode=self._mode, name="udacity_train_step")
        elif key == "grads":
            o0 = pt.matrix("output0", dtype=self.dtype)
            s0 = pt.matrix("state0", dtype=self.dtype)
            loss, _, output, state = self._unrolled(data, o0, s0)
            grads = pytensor.grad(loss, params)
            fn = compile_function([data, o0, s0], [loss, output, state] + grads,
                                  mode=self._mode, name="udacity_loss_grads")
        elif key == "sample":
            feed = pt.matrix("sample_input", dtype=self.dtype)
            output, state = self.lstm_cell(feed, self.saved_sample_output, self.saved_sample_state)
            logits = pt.dot(output, self._shared["w"]) + self._shared["b"]
            fn = compile_function(
                [feed], _softmax(logits),
                updates=[(self.saved_sample_output, output), (self.saved_sample_state, state)],
                mode=self._mode, name="udacity_sample_prediction")
        else:
            raise KeyError(key)
        self._fns[key] = fn
        return fn

    def _as_data(self, batches):
        data = np.asarray(np.stack(batches) if isinstance(batches, (list, tuple)) else batches,
                          dtype=self.dtype)
        want = (self.num_unrollings + 1, self.batch_size, self.vocab_size)
        if data.shape != want:
            raise ValueError(f"batches have shape {data.shape}, expected {want}")
        return data

    # ---------------------------------------------------------------- calls
    def train_step(self, batches):
        """One SGD step on ``num_unrollings + 1`` one-hot batches -> ``(loss, predictions, lr)``.

        ``predictions`` (softmax of the logits, before the update) as the
        notebook's ``train_prediction``; ``saved_output``/``saved_state`` and
        ``global_step`` advance."""
        loss, predictions, lr = self._function("train")(self._as_data(batches))
        return float(loss), predictions, float(lr)

    def loss_and_grads(self, batches, output0=None, state0=None):
        """``(loss, last output, last state, OrderedDict of unclipped gradients)`` from
        the given initial output/state (default: zeros); nothing is updated."""
        data = self._as_data(batches)
        zeros = np.zeros((self.batch_size, self.num_nodes), dtype=self.dtype)
        o0 = zeros if output0 is None else np.asarray(output0, dtype=self.dtype)
        s0 = zeros if state0 is None else np.asarray(state0, dtype=self.dtype)
        loss, output, state, *grads = self._function("grads")(data, o0, s0)
        return float(loss), output, state, OrderedDict(zip(self.param_names, grads))

    def learning_rate_at(self, step):
        """The staircase learning rate at ``global_step == step``."""
        return self.learning_rate * self.decay_rate ** (int(step) // self.decay_steps)

    def reset_sample_state(self):
        zeros = np.zeros((1, self.num_nodes), dtype=self.dtype)
        self.saved_sample_output.set_value(zeros.copy())
        self.saved_sample_state.set_value(zeros.copy())

    def sample_prediction(self, feed):
        """Softmax (1, V) after one character ``feed`` (1, V); the sample state advances."""
        return self._function("sample")(np.asarray(feed, dtype=self.dtype).reshape(1, -1))

    def validation_perplexity(self, valid_batches, valid_size):
        """The notebook's measure: reset the sample state, then ``valid_size`` times take
        ``b = valid_batches.next()`` (batch 1, 1 unrolling), predict ``b[1]`` from ``b[0]``;
        ``exp`` of the mean :func:`logprob`."""
        self.reset_sample_state()
        total = 0.0
        for _ in range(int(valid_size)):
            b = valid_batches.next()
            total += logprob(self.sample_prediction(b[0]), b[1])
        return float(np.exp(total / valid_size))

    def sample_text(self, rng, length=80):
        """One sentence as the notebook samples it: a random first character, then
        ``length - 1`` characters each drawn from the prediction (state reset first)."""
        rng = resolve_rng(rng)
        V = self.vocab_size
        index = sample_distribution(random_distribution(V, rng)[0], rng)
        chars = [id2char(index)]
        self.reset_sample_state()
        for _ in range(int(length) - 1):
            feed = np.zeros((1, V))
            feed[0, index] = 1.0
            index = sample_distribution(self.sample_prediction(feed)[0], rng)
            chars.append(id2char(index))
        return "".join(chars)


def train_notebook(model, train_batches, valid_batches, valid_size, num_steps=7001,
                   summary_frequency=100, rng=None, num_samples=5, callback=None):
    """The notebook's training loop; returns a list of summary dicts.

    Every ``summary_frequency`` steps (and at step 0): the mean loss of the
    last ``summary_frequency`` steps (step 0: its own loss), the minibatch
    perplexity of the step's predictions, the learning rate and the
    validation perplexity; every ``10 * summary_frequency`` steps also
    ``num_samples`` sampled sentences.  ``callback(summary)`` after each.
    """
    rng = resolve_rng(rng)
    history, mean_loss = [], 0.0
    for step in range(int(num_steps)):
        batches = train_batches.next()
        loss, predictions, lr = model.train_step(batches)
        if not math.isfinite(loss):
            raise FloatingPointError(f"loss is {loss} at step {step}")
        mean_loss += loss
        if step % summary_frequency == 0:
            if step > 0:
                mean_loss = mean_loss / summary_frequency
            labels = np.concatenate(list(batches)[1:])
            summary = {"step": step, "mean_loss": mean_loss, "learning_rate": lr,
                       "minibatch_perplexity": float(np.exp(logprob(predictions, labels)))}
            mean_loss = 0.0
            if step % (summary_frequency * 10) == 0 and num_samples:
                summary["samples"] = [model.sample_text(rng) for _ in range(num_samples)]
            summary["valid_perplexity"] = model.validation_perplexity(valid_batches, valid_size)
            log.info("step %d: loss %.4f lr %g minibatch ppl %.2f valid ppl %.2f", step,
                     summary["mean_loss"], lr, summary["minibatch_perplexity"],
                     summary["valid_perplexity"])
            history.append(summary)
            if callback is not None:
                callback(summary)
    return history


register_model(UdacityLSTM)
