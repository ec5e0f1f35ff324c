"""Shared pieces of the NumPy GRU / LSTM references (WildML part 4, ``gru_theano.py``).

* the gate nonlinearities with the derivatives Theano's autodiff would use
  (``T.nnet.hard_sigmoid`` and ``T.nnet.sigmoid``);
* :class:`GatedRNNBase`, the parameter layout, initialisation, losses, RMSprop step,
  truncation rule and finite-difference helper that ``GRUNumpy`` and ``LSTMNumpy``
  share.  Each subclass writes its own ``forward`` and hand-written ``bptt``.

NumPy only, float64, no global state touched unless ``rng`` is ``None`` (the tutorial
drew from ``np.random`` directly).
"""

from collections import OrderedDict

import numpy as np

from .rnn_numpy import as_index_vector, softmax

__all__ = [
    "softmax",
    "sigmoid",
    "sigmoid_grad",
    "hard_sigmoid",
    "hard_sigmoid_grad",
    "GATE_ACTIVATIONS",
    "GatedRNNBase",
]

_HS_SLOPE = 0.2
_HS_SHIFT = 0.5


def hard_sigmoid(x):
    """Theano's ``T.nnet.hard_sigmoid``: ``clip(0.2 * x + 0.5, 0, 1)``.

    (Theano 0.7-1.0, ``theano/tensor/nnet/sigm.py``; *not* the slope-1/6 version of
    newer libraries.)  Computed in Theano's order: ``x * 0.2 + 0.5``, then clip.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.clip(x * _HS_SLOPE + _HS_SHIFT, 0.0, 1.0)


def hard_sigmoid_grad(x):
    """d hard_sigmoid / dx as Theano's graph gradient computes it.

    ``0.2`` where ``0 <= 0.2 x + 0.5 <= 1`` and ``0`` elsewhere.  The test is
    **inclusive** at both ends (x = +-2.5 give 0.2), because Theano's ``clip`` gradient
    is ``gz * ((x >= lo) & (x <= hi))``.
    """
    x = np.asarray(x, dtype=np.float64)
    u = x * _HS_SLOPE + _HS_SHIFT
    return np.where((u >= 0.0) & (u <= 1.0), _HS_SLOPE, 0.0)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` (``T.nnet.sigmoid``), overflow-free."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def sigmoid_grad(x):
    """d sigmoid / dx = sigmoid(x) * (1 - sigmoid(x))."""
    sx = sigmoid(x)
    return sx * (1.0 - sx)


#: name -> (function, derivative with respect to the pre-activation)
GATE_ACTIVATIONS = {
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
}


class GatedRNNBase:
    """Parameter layout, init, losses and RMSprop shared by ``GRUNumpy`` / ``LSTMNumpy``.

    Layout (``gru_theano.py``, ``GRUTheano.__init__``, generalised to L layers and G
    gate blocks per layer, G = 3 for the GRU and 4 for the LSTM):

    ``E`` (H, C) embedding; ``U``, ``W`` (G*L, H, H); ``b`` (G*L, H); ``V`` (C, H);
    ``c`` (C,).  Drawn in the order E, U, W, V with ``uniform(-1/sqrt(n), 1/sqrt(n))``
    (n = C for E, n = H otherwise), from ``np.random`` when ``rng`` is None or from
    ``rng.uniform``; ``b`` and ``c`` are zeros.  RMSprop caches ``mE mU mW mV mb mc``
    start at zero.
    """

    gates_per_layer = None  # set by subclasses
    #: order of ``bptt``'s result, as in gru_theano.py: [dE, dU, dW, db, dV, dc]
    param_names = ("E", "U", "W", "b", "V", "c")

    def __init__(self, word_dim, hidden_dim, bptt_truncate, num_layers, gate_activation, rng):
        if gate_activation not in GATE_ACTIVATIONS:
            raise ValueError("gate_activation must be one of %s, got %r" % (sorted(GATE_ACTIVATIONS), gate_activation))
        if int(num_layers) < 1:
            raise ValueError("num_layers must be >= 1, got %r" % (num_layers,))
        self.word_dim = int(word_dim)
        self.hidden_dim = int(hidden_dim)
        self.bptt_truncate = int(bptt_truncate)
        self.num_layers = int(num_layers)
        self.gate_activation = gate_activation
        self._gate, self._gate_grad = GATE_ACTIVATIONS[gate_activation]
        C, H, G = self.word_dim, self.hidden_dim, self.gates_per_layer * self.num_layers
        uniform = np.random.uniform if rng is None else rng.uniform
        rc, rh = np.sqrt(1.0 / C), np.sqrt(1.0 / H)
        self.E = np.asarray(uniform(-rc, rc, (H, C)), dtype=np.float64)
        self.U = np.asarray(uniform(-rh, rh, (G, H, H)), dtype=np.float64)
        self.W = np.asarray(uniform(-rh, rh, (G, H, H)), dtype=np.float64)
        self.V = np.asarray(uniform(-rh, rh, (C, H)), dtype=np.float64)
        self.b = np.zeros((G, H))
        self.c = np.zeros(C)
        self.reset_rmsprop_cache()

    # ------------------------------------------------------------------ params
    def reset_rmsprop_cache(self):
        """Zero the RMSprop caches ``mE, mU, mW, mV, mb, mc``."""
        for name in self.param_names:
            setattr(self, "m" + name, np.zeros_like(getattr(self, name)))

    def get_params(self, copy=True):
        """``OrderedDict`` name -> array in ``bptt`` order (E, U, W, b, V, c)."""
        return OrderedDict(
            (name, getattr(self, name).copy() if copy else getattr(self, name))
            for name in self.param_names
        )

    def get_rmsprop_cache(self, copy=True):
        """``OrderedDict`` ``mE, mU, mW, mb, mV, mc`` -> array."""
        return OrderedDict(
            ("m" + name, getattr(self, "m" + name).copy() if copy else getattr(self, "m" + name))
            for name in self.param_names
        )

    def set_params(self, params):
        """Copy arrays from a mapping into the model (float64, shapes must match).

        Keys may be parameter names (``E U W b V c``) or cache names
        (``mE mU mW mb mV mc``); only the keys present are replaced.
        """
        allowed = set(self.param_names) | {"m" + n for n in self.param_names}
        for name, value in params.items():
            if name not in allowed:
                raise KeyError("unknown parameter %r (expected one of %s)" % (name, sorted(allowed)))
            value = np.array(value, dtype=np.float64)
            current = getattr(self, name)
            if value.shape != current.shape:
                raise ValueError("parameter %s: shape %s does not match model shape %s" % (name, value.shape, current.shape))
            setattr(self, name, value)

    # ----------------------------------------------------------------- helpers
    def truncation_start(self, T):
        """First time step that ``bptt`` back-propagates into, for a T-step sentence.

        Theano ``scan(truncate_gradient=k)`` semantics: 0 (full BPTT) when ``k <= 0``
        (``-1`` is the tutorial's "no truncation") or ``k >= T``, else ``T - k``:
        outputs before that step contribute nothing, and no gradient flows into the
        state entering it.
        """
        k = self.bptt_truncate
        if k <= 0 or k >= T:
            return 0
        return T - k

    def _check_xy(self, x, y):
        x = as_index_vector(x, "x")
        y = as_index_vector(y, "y")
        if len(x) != len(y):
            raise ValueError("x and y must have the same length, got %d and %d" % (len(x), len(y)))
        return x, y

    # ------------------------------------------------------------------ losses
    def predict(self, x):
        """Output probabilities (T, C) (``gru_theano.py``: ``self.predict = theano.function([x], o)``).

        Note: in the part-4 code ``predict`` means probabilities; the part-2 RNNNumpy's
        ``predict`` is the argmax (here ``predict_class``).
        """
        return self.forward(x)[0]

    def predict_class(self, x):
        """Argmax of the output at each step (``gru_theano.py``: ``predict_class``)."""
        return np.argmax(self.predict(x), axis=1)

    def ce_error(self, x, y):
        """Summed cross-entropy of one sentence (``gru_theano.py``: ``ce_error``, ``o_error``)."""
        x, y = self._check_xy(x, y)
        o = self.forward(x)[0]
        return float(-np.sum(np.log(o[np.arange(len(y)), y])))

    def calculate_total_loss(self, X, Y):
        """Sum of ``ce_error`` over sentences (``gru_theano.py``: ``calculate_total_loss``)."""
        return float(np.sum([self.ce_error(x, y) for x, y in zip(X, Y)]))

    def calculate_loss(self, X, Y):
        """Total loss / number of words (``gru_theano.py``: ``calculate_loss``)."""
        num_words = np.sum([len(y) for y in Y])
        return self.calculate_total_loss(X, Y) / float(num_words)

    # --------------------------------------------------------------- optimiser
    def sgd_step(self, x, y, learning_rate, decay=0.9):
        """One RMSprop step (``gru_theano.py``: ``sgd_step``, "rmsprop cache updates").

        All gradients are computed first; then for each parameter p with cache m::

            m = decay * m + (1 - decay) * g ** 2
            p = p - learning_rate * g / sqrt(m + 1e-6)      # the *updated* m
        """
        grads = self.bptt(x, y)
        for name, g in zip(self.param_names, grads):
            m = decay * getattr(self, "m" + name) + (1.0 - decay) * g ** 2
            setattr(self, "m" + name, m)
            setattr(self, name, getattr(self, name) - learning_rate * g / np.sqrt(m + 1e-6))

    # ------------------------------------------------------------------- tests
    def numerical_gradient(self, x, y, name, h=1e-5):
        """Central-difference gradient of ``ce_error(x, y)`` with respect to parameter ``name``.

        Always the gradient of the full (untruncated) loss; the parameter is restored.
        """
        if name not in self.param_names:
            raise KeyError("unknown parameter %r" % (name,))
        param = getattr(self, name)
        grad = np.zeros_like(param)
        it = np.nditer(param, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            ix = it.multi_index
            orig = param[ix]
            param[ix] = orig + h
            fp = self.ce_error(x, y)
            param[ix] = orig - h
            fm = self.ce_error(x, y)
            param[ix] = orig
            grad[ix] = (fp - fm) / (2.0 * h)
            it.iternext()
        return grad
