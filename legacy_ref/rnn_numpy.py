"""The WildML part-2 NumPy RNN language model, assembled into one class.

Source: dennybritz/rnn-tutorial-rnnlm, ``RNNLM.ipynb`` ("Recurrent Neural Networks
Tutorial, Part 2 - Implementing a Language Model RNN with Python, Numpy and Theano"),
and ``utils.py`` for ``softmax``.  The notebook defines ``RNNNumpy.__init__`` and then
attaches ``forward_propagation``, ``predict``, ``calculate_total_loss``,
``calculate_loss``, ``bptt``, ``gradient_check`` and ``sgd_step`` to the class in later
cells; here they are ordinary methods of one class.

Equations (notebook, cell "Building the RNN")::

    s_t = tanh(U x_t + W s_{t-1})        U (H, C), W (H, H), x_t one-hot
    o_t = softmax(V s_t)                 V (C, H)

Deliberate differences from the notebook, each documented where it happens:

* ``bptt`` offers two truncation semantics by name (the notebook's per-output
  truncation and Theano's ``scan(truncate_gradient=k)``), plus ``"none"``.
* ``gradient_check`` returns records instead of printing, uses ``self`` (the notebook
  cell uses a global ``model``), and refuses a truncated model on a sentence longer than
  the truncation instead of silently checking a truncated gradient.
* ``train_with_sgd`` logs instead of printing and takes an optional ``callback``.

Everything is float64 and loops over time steps in Python: this is a readable
reference, not fast code.
"""

import logging
from collections import OrderedDict, namedtuple

import numpy as np

__all__ = [
    "softmax",
    "RNNNumpy",
    "GradientCheckResult",
    "train_with_sgd",
    "TRUNCATION_MODES",
]

logger = logging.getLogger(__name__)

#: Names accepted by ``RNNNumpy.bptt(..., truncation=...)``.
TRUNCATION_MODES = ("per_output", "scan", "none")

#: One checked parameter element (``RNNNumpy.gradient_check``).
GradientCheckResult = namedtuple(
    "GradientCheckResult",
    [
        "parameter",  # parameter name, e.g. "U"
        "index",  # multi-index of the element, e.g. (3, 0)
        "backprop_gradient",  # value from bptt
        "estimated_gradient",  # (L(p + h) - L(p - h)) / (2 h)
        "relative_error",  # |b - e| / (|b| + |e|), 0 when both are 0
        "passed",  # relative_error <= error_threshold
    ],
)


def softmax(x):
    """Numerically shifted softmax of a vector (``utils.py``, ``softmax``).

    ``exp(x - max(x)) / sum(exp(x - max(x)))``; returns a 1-D array like its input
    (unlike Theano's ``T.nnet.softmax``, which returns a one-row matrix).
    """
    x = np.asarray(x, dtype=np.float64)
    xt = np.exp(x - np.max(x))
    return xt / np.sum(xt)


def as_index_vector(x, name="x"):
    """A 1-D ``intp`` array of word indices (lists, tuples and int arrays accepted)."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError("%s must be a 1-D sequence of word indices, got shape %s" % (name, arr.shape))
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError("%s must hold integer word indices, got dtype %s" % (name, arr.dtype))
    return arr.astype(np.intp)


class RNNNumpy:
    """Vanilla RNN language model in NumPy (``RNNLM.ipynb``, cell "class RNNNumpy").

    Parameters
    ----------
    word_dim : int
        Vocabulary size C.
    hidden_dim : int
        Hidden size H (notebook default 100).
    bptt_truncate : int
        Truncation length k used by ``bptt`` (notebook default 4).  ``k <= 0`` (e.g.
        ``-1``) means no truncation.
    rng : numpy.random.RandomState or numpy.random.Generator, optional
        Source of the initial weights.  ``None`` draws from NumPy's global generator,
        exactly like the notebook, so ``np.random.seed(10); RNNNumpy(8000)``
        reproduces the tutorial's weights.  Passing ``np.random.RandomState(10)``
        gives the same numbers without touching global state.

    Attributes
    ----------
    U : ndarray (H, C), V : ndarray (C, H), W : ndarray (H, H)
        Drawn in the order U, V, W from ``uniform(-1/sqrt(n), 1/sqrt(n))`` with
        n = C for U and n = H for V and W.
    """

    param_names = ("U", "V", "W")

    def __init__(self, word_dim, hidden_dim=100, bptt_truncate=4, rng=None):
        # RNNLM.ipynb, cell "class RNNNumpy: def __init__"
        self.word_dim = int(word_dim)
        self.hidden_dim = int(hidden_dim)
        self.bptt_truncate = int(bptt_truncate)
        uniform = np.random.uniform if rng is None else rng.uniform
        self.U = np.asarray(
            uniform(-np.sqrt(1.0 / word_dim), np.sqrt(1.0 / word_dim), (hidden_dim, word_dim)),
            dtype=np.float64,
        )
        self.V = np.asarray(
            uniform(-np.sqrt(1.0 / hidden_dim), np.sqrt(1.0 / hidden_dim), (word_dim, hidden_dim)),
            dtype=np.float64,
        )
        self.W = np.asarray(
            uniform(-np.sqrt(1.0 / hidden_dim), np.sqrt(1.0 / hidden_dim), (hidden_dim, hidden_dim)),
            dtype=np.float64,
        )

    # ------------------------------------------------------------------ params
    def get_params(self, copy=True):
        """Return ``OrderedDict(U=..., V=..., W=...)`` (the order of ``bptt``'s result)."""
        return OrderedDict(
            (name, getattr(self, name).copy() if copy else getattr(self, name))
            for name in self.param_names
        )

    def set_params(self, params):
        """Copy arrays from a mapping ``name -> array`` into the model (float64).

        Only the names present are replaced; every name must be one of U, V, W and
        every shape must match the model's (so a mis-sized checkpoint fails loudly).
        """
        for name, value in params.items():
            if name not in self.param_names:
                raise KeyError("unknown parameter %r (expected one of %s)" % (name, self.param_names))
            value = np.array(value, dtype=np.float64)
            current = getattr(self, name)
            if value.shape != current.shape:
                raise ValueError("parameter %s: shape %s does not match model shape %s" % (name, value.shape, current.shape))
            setattr(self, name, value)

    # ----------------------------------------------------------------- forward
    def forward_propagation(self, x):
        """Forward pass (``RNNLM.ipynb``, cell "def forward_propagation").

        Returns ``[o, s]``: ``o`` (T, C) output probabilities and ``s`` (T + 1, H)
        hidden states, where the extra last row ``s[-1]`` is the zero initial state
        (so ``s[t - 1]`` at ``t = 0`` reads it).
        """
        x = as_index_vector(x, "x")
        T = len(x)
        s = np.zeros((T + 1, self.hidden_dim))
        s[-1] = np.zeros(self.hidden_dim)
        o = np.zeros((T, self.word_dim))
        for t in np.arange(T):
            # Indexing U by x[t] is the same as multiplying U with a one-hot vector.
            s[t] = np.tanh(self.U[:, x[t]] + self.W.dot(s[t - 1]))
            o[t] = softmax(self.V.dot(s[t]))
        return [o, s]

    def predict(self, x):
        """Index of the most probable next word at each step (cell "def predict")."""
        o, s = self.forward_propagation(x)
        return np.argmax(o, axis=1)

    def calculate_total_loss(self, X, Y):
        """Summed cross-entropy over sentences (cell "def calculate_total_loss").

        ``X`` and ``Y`` are sequences of sentences (lists of index arrays).
        """
        L = 0.0
        for i in np.arange(len(Y)):
            o, s = self.forward_propagation(X[i])
            yi = as_index_vector(Y[i], "Y[%d]" % i)
            correct_word_predictions = o[np.arange(len(yi)), yi]
            L += -1 * np.sum(np.log(correct_word_predictions))
        return L

    def calculate_loss(self, X, Y):
        """Mean cross-entropy per word: total loss / number of words (cell "def calculate_loss")."""
        N = np.sum([len(y_i) for y_i in Y])
        return self.calculate_total_loss(X, Y) / N

    # ---------------------------------------------------------------- backward
    def _is_full_bptt(self, T, truncation):
        """True when ``bptt(x, y, truncation)`` is the exact gradient for length T."""
        k = self.bptt_truncate
        if truncation == "none" or k <= 0:
            return True
        if truncation == "per_output":
            # output t goes back to max(0, t - k); the last output t = T - 1 reaches 0
            return k >= T - 1
        if truncation == "scan":
            return k >= T
        raise ValueError("truncation must be one of %s, got %r" % (TRUNCATION_MODES, truncation))

    def bptt(self, x, y, truncation="per_output"):
        """Backpropagation through time; returns ``[dLdU, dLdV, dLdW]`` of the summed loss.

        ``truncation`` selects what ``bptt_truncate = k`` means:

        ``"per_output"`` (default) - the notebook's algorithm (``RNNLM.ipynb``, cell
            "def bptt"): every output ``t`` back-propagates through the steps
            ``t, t-1, ..., max(0, t - k)`` (k + 1 steps), independently of the other
            outputs.  Every output contributes to ``dLdV``.
        ``"scan"`` - Theano's ``scan(truncate_gradient=k)`` as used by
            ``rnn_theano.py``: only the last k steps of the whole sequence are
            back-propagated at all.  Outputs ``t < T - k`` contribute **no** gradient,
            not even to ``V``; the gradient of an output ``t >= T - k`` flows back to
            step ``T - k`` and stops there.
        ``"none"`` - full BPTT whatever ``bptt_truncate`` is.

        ``k <= 0`` (e.g. -1) means full BPTT in every mode (the notebook's own
        per-output loop would use a single step for ``k = 0``; here 0 means "off", as
        in the brief of this reference).  For ``k >= T`` both semantics are full BPTT
        and agree.
        """
        if truncation not in TRUNCATION_MODES:
            raise ValueError("truncation must be one of %s, got %r" % (TRUNCATION_MODES, truncation))
        x = as_index_vector(x, "x")
        y = as_index_vector(y, "y")
        if len(x) != len(y):
            raise ValueError("x and y must have the same length, got %d and %d" % (len(x), len(y)))
        if truncation == "per_output":
            return self._bptt_per_output(x, y)
        T = len(y)
        k = self.bptt_truncate
        if truncation == "none" or k <= 0 or k >= T:
            start = 0
        else:
            start = T - k
        return self._bptt_scan(x, y, start)

    def _bptt_per_output(self, x, y):
        # RNNLM.ipynb, cell "def bptt", kept line for line (plus "k <= 0 means full").
        T = len(y)
        o, s = self.forward_propagation(x)
        dLdU = np.zeros(self.U.shape)
        dLdV = np.zeros(self.V.shape)
        dLdW = np.zeros(self.W.shape)
        delta_o = o
        delta_o[np.arange(len(y)), y] -= 1.0
        for t in np.arange(T)[::-1]:
            dLdV += np.outer(delta_o[t], s[t].T)
            # Initial delta calculation
            delta_t = self.V.T.dot(delta_o[t]) * (1 - (s[t] ** 2))
            lowest = 0 if self.bptt_truncate <= 0 else max(0, t - self.bptt_truncate)
            # Backpropagation through time (for at most self.bptt_truncate steps)
            for bptt_step in np.arange(lowest, t + 1)[::-1]:
                dLdW += np.outer(delta_t, s[bptt_step - 1])
                dLdU[:, x[bptt_step]] += delta_t
                # Update delta for next step
                delta_t = self.W.T.dot(delta_t) * (1 - s[bptt_step - 1] ** 2)
        return [dLdU, dLdV, dLdW]

    def _bptt_scan(self, x, y, start):
        # Theano scan(truncate_gradient=k) semantics (rnn_theano.py): the reverse scan
        # runs over steps T-1 .. start only; earlier outputs are never visited.
        T = len(y)
        o, s = self.forward_propagation(x)
        dLdU = np.zeros(self.U.shape)
        dLdV = np.zeros(self.V.shape)
        dLdW = np.zeros(self.W.shape)
        delta_o = o
        delta_o[np.arange(T), y] -= 1.0
        dh_next = np.zeros(self.hidden_dim)
        for t in range(T - 1, start - 1, -1):
            dLdV += np.outer(delta_o[t], s[t])
            delta_t = (self.V.T.dot(delta_o[t]) + dh_next) * (1 - s[t] ** 2)
            dLdW += np.outer(delta_t, s[t - 1])  # s[-1] is the zero initial state
            dLdU[:, x[t]] += delta_t
            dh_next = self.W.T.dot(delta_t)
        return [dLdU, dLdV, dLdW]

    def sgd_step(self, x, y, learning_rate, truncation="per_output"):
        """One plain SGD step (``RNNLM.ipynb``, cell "def numpy_sdg_step")."""
        dLdU, dLdV, dLdW = self.bptt(x, y, truncation=truncation)
        self.U -= learning_rate * dLdU
        self.V -= learning_rate * dLdV
        self.W -= learning_rate * dLdW

    def gradient_check(self, x, y, h=0.001, error_threshold=0.01, truncation="per_output"):
        """Compare ``bptt`` with central differences (``RNNLM.ipynb``, cell "def gradient_check").

        Returns a list of :class:`GradientCheckResult`, one per element of U, V and W
        (in that order), instead of printing; ``all(r.passed for r in results)`` is the
        notebook's "Gradient check for parameter ... passed".  Unlike the notebook it
        uses ``self`` (not a global ``model``), checks every element instead of stopping
        at the first failure, and counts ``0 / 0`` as relative error 0.

        Raises ``ValueError`` if ``bptt(x, y, truncation)`` would be truncated for this
        sentence (the numerical gradient is always the full one, so such a check is
        meaningless).  The notebook avoided this by building the model with
        ``bptt_truncate=1000``; its Theano twin ``gradient_check_theano`` set
        ``model.bptt_truncate = 1000`` after compiling, which changed nothing.
        """
        x = as_index_vector(x, "x")
        y = as_index_vector(y, "y")
        if not self._is_full_bptt(len(y), truncation):
            raise ValueError(
                "gradient_check: bptt_truncate=%d truncates the gradient of a %d-step "
                "sentence (truncation=%r); build the model with bptt_truncate=-1 (or >= the "
                "sentence length) to check gradients" % (self.bptt_truncate, len(y), truncation)
            )
        bptt_gradients = self.bptt(x, y, truncation=truncation)
        results = []
        for pidx, pname in enumerate(self.param_names):
            parameter = getattr(self, pname)
            it = np.nditer(parameter, flags=["multi_index"], op_flags=["readwrite"])
            while not it.finished:
                ix = it.multi_index
                original_value = parameter[ix]
                parameter[ix] = original_value + h
                gradplus = self.calculate_total_loss([x], [y])
                parameter[ix] = original_value - h
                gradminus = self.calculate_total_loss([x], [y])
                estimated_gradient = (gradplus - gradminus) / (2 * h)
                parameter[ix] = original_value
                backprop_gradient = bptt_gradients[pidx][ix]
                denom = np.abs(backprop_gradient) + np.abs(estimated_gradient)
                relative_error = 0.0 if denom == 0 else float(np.abs(backprop_gradient - estimated_gradient) / denom)
                passed = relative_error <= error_threshold
                if not passed:
                    logger.warning(
                        "Gradient check ERROR: parameter=%s ix=%s +h loss %f -h loss %f "
                        "estimated %f backprop %f relative error %f",
                        pname, ix, gradplus, gradminus, estimated_gradient, backprop_gradient, relative_error,
                    )
                results.append(
                    GradientCheckResult(pname, ix, float(backprop_gradient), float(estimated_gradient), relative_error, passed)
                )
                it.iternext()
            logger.debug("Gradient check for parameter %s done (%d elements).", pname, parameter.size)
        return results


def train_with_sgd(model, X_train, y_train, learning_rate=0.005, nepoch=100, evaluate_loss_after=5, callback=None):
    """Outer SGD loop (``RNNLM.ipynb``, cell "def train_with_sgd").

    For every epoch: if ``epoch % evaluate_loss_after == 0``, first evaluate
    ``model.calculate_loss`` on the whole training set, append
    ``(num_examples_seen, loss)`` and halve the learning rate when the loss rose
    since the previous evaluation; then one ``model.sgd_step(x, y, learning_rate)`` per
    example, in order.  Works with any model that has ``calculate_loss`` and
    ``sgd_step`` (RNNNumpy, GRUNumpy, LSTMNumpy).

    ``callback``, if given, is called after each evaluation as
    ``callback(epoch, num_examples_seen, loss, learning_rate)`` (the learning rate after
    any halving).  Progress is logged at INFO level instead of printed.

    Returns the list of ``(num_examples_seen, loss)``.
    """
    losses = []
    num_examples_seen = 0
    for epoch in range(nepoch):
        if epoch % evaluate_loss_after == 0:
            loss = model.calculate_loss(X_train, y_train)
            losses.append((num_examples_seen, loss))
            logger.info("Loss after num_examples_seen=%d epoch=%d: %f", num_examples_seen, epoch, loss)
            # Adjust the learning rate if loss increases
            if len(losses) > 1 and losses[-1][1] > losses[-2][1]:
                learning_rate = learning_rate * 0.5
                logger.info("Setting learning rate to %f", learning_rate)
            if callback is not None:
                callback(epoch, num_examples_seen, loss, learning_rate)
        for i in range(len(y_train)):
            model.sgd_step(X_train[i], y_train[i], learning_rate)
            num_examples_seen += 1
    return losses
