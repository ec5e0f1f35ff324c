"""The tutorial classes ``RNNTheano``, ``GRUTheano``, ``LSTMTheano``.

They fix the cell of the generic :class:`~theano_rnn.models.recurrent.RecurrentLM`
(re-exported here, with its module's notes on truncated back-propagation and on
the ``faithful``/``fast`` graphs) and keep the tutorials' names, signatures,
defaults and public surface.  :data:`MODEL_CLASSES` maps every registered cell
to its word-level class; the classes are registered in
:mod:`theano_rnn.models.registry` (checkpoints name them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from theano_rnn.cells import cell_names, get_cell
from theano_rnn.models.recurrent import GRAPHS, TRUNCATIONS, RecurrentLM
from theano_rnn.models.registry import register_model

__all__ = [
    "RecurrentLM", "RNNTheano", "GRUTheano", "LSTMTheano", "TRUNCATIONS", "GRAPHS", "MODEL_CLASSES",
    "TUTORIAL_CLASSES", "ModelClasses", "model_from_config",
]


class RNNTheano(RecurrentLM):
    """WildML part 2's ``RNNTheano`` (``rnn_theano.py``).

    ``s_t = tanh(U[:, x_t] + W s_{t-1})``, ``o_t = softmax(V s_t)``;
    ``U`` (H, C), ``V`` (C, H), ``W`` (H, H), drawn in the order U, V, W from
    ``U(-1/sqrt(C), 1/sqrt(C))`` and ``U(-1/sqrt(H), 1/sqrt(H))``.

    Surface: ``forward_propagation(x)`` (probabilities), ``predict(x)``
    (argmax), ``ce_error(x, y)``, ``bptt(x, y) -> [dU, dV, dW]``,
    ``sgd_step(x, y, learning_rate)``, ``calculate_total_loss(X, Y)``,
    ``calculate_loss(X, Y)``.

    ``bptt_truncate=4`` is passed to ``scan(truncate_gradient=4)``: only the
    last 4 steps of each sentence are back-propagated (Theano's semantics,
    reproduced; see :mod:`theano_rnn.models.word`).  ``truncation="per_output"``
    gives the NumPy tutorial's per-output truncation instead.
    """

    cell_name = "rnn"
    default_optimizer = "sgd"

    def __init__(self, word_dim, hidden_dim=100, bptt_truncate=4, **kwargs):
        kwargs.setdefault("num_layers", 1)
        super().__init__(word_dim, hidden_dim, bptt_truncate, cell="rnn", **kwargs)

    @property
    def predict(self):
        """Part 2: ``predict`` is the argmax (``predict_class``)."""
        return self.predict_class


class _GatedTutorialModel(RecurrentLM):
    default_optimizer = "rmsprop"

    @property
    def predict(self):
        """Part 4: ``predict`` returns the probabilities (``forward_propagation``)."""
        return self.forward_propagation


class GRUTheano(_GatedTutorialModel):
    """WildML part 4's ``GRUTheano`` (``gru_theano.py``): two GRU layers.

    Embedding ``E`` (H, C); ``U``, ``W`` (6, H, H) and ``b`` (6, H), slices
    0-2 = layer 1's update gate z, reset gate r, candidate, 3-5 = layer 2's;
    ``V`` (C, H), ``c`` (C,).  Gates use Theano's ``hard_sigmoid``.  Init from
    the global NumPy generator (or ``rng``) in the order E, U, W, V; b, c zero.

    Surface: ``predict(x)`` = probabilities, ``predict_class(x)`` = argmax,
    ``ce_error``, ``bptt -> [dE, dU, dW, db, dV, dc]``,
    ``sgd_step(x, y, learning_rate, decay=0.9)`` (RMSprop with caches
    ``mE mU mW mV mb mc``), ``calculate_total_loss``, ``calculate_loss``.
    """

    cell_name = "gru"

    def __init__(self, word_dim, hidden_dim=128, bptt_truncate=-1, **kwargs):
        kwargs.setdefault("num_layers", 2)
        super().__init__(word_dim, hidden_dim, bptt_truncate, cell="gru", **kwargs)

    @property
    def bptt_names(self):
        """Parameter names in ``bptt``'s order: the tutorial's E, U, W, b, V, c
        (``Ux`` in place of ``E`` for one-hot input; no ``U`` for a one-layer
        one-hot model)."""
        order = ("E", "Ux", "U", "W", "b", "V", "c")
        return tuple(n for n in order if n in self.param_names)


class LSTMTheano(GRUTheano):
    """An LSTM in the GRU tutorial's conventions (one layer by default).

    ``E`` (H, C); ``U``, ``W`` (4L, H, H), ``b`` (4L, H) with block order
    input gate i, forget gate f, output gate o, candidate g; ``U`` multiplies
    the embedded input, ``W`` the previous hidden state::

        i, f, o = sigmoid(U x + W h_prev + b)     g = tanh(U x + W h_prev + b)
        c_t = f * c_prev + i * g                  h_t = o * tanh(c_t)

    output ``softmax(V h_t + c)``; same init order, surface and RMSprop as
    :class:`GRUTheano`.
    """

    cell_name = "lstm"

    def __init__(self, word_dim, hidden_dim=128, bptt_truncate=-1, **kwargs):
        kwargs.setdefault("num_layers", 1)
        RecurrentLM.__init__(self, word_dim, hidden_dim, bptt_truncate, cell="lstm", **kwargs)


#: the tutorials' classes of their cells
TUTORIAL_CLASSES = {"rnn": RNNTheano, "gru": GRUTheano, "lstm": LSTMTheano}


class ModelClasses(Mapping):
    """Cell name -> word-level model class, for every registered cell.

    A cell with a tutorial class gets it (:data:`TUTORIAL_CLASSES`); any
    other registered cell gets a :class:`RecurrentLM` bound to it (same
    constructor signature as the tutorial classes, ``RecurrentLM``'s
    defaults).  Read from the registry at each lookup, so a cell registered
    at run time is here at once.
    """

    def __init__(self):
        self._generic = {}

    def __getitem__(self, name):
        try:
            cell = get_cell(name)
        except ValueError:
            raise KeyError(name) from None
        if cell.name in TUTORIAL_CLASSES and cell is get_cell(cell.name):
            return TUTORIAL_CLASSES[cell.name]
        if self._generic.get(cell.name, (None,))[0] is not cell:
            bound = type("RecurrentLM", (RecurrentLM,), {
                "cell_name": cell.name,
                "__doc__": f"{RecurrentLM.__doc__}\n    (bound to the registered cell {cell.name!r})",
                "__module__": __name__,
            })
            self._generic[cell.name] = (cell, bound)
        return self._generic[cell.name][1]

    def __iter__(self):
        return iter(cell_names())

    def __len__(self):
        return len(cell_names())


MODEL_CLASSES = ModelClasses()


def model_from_config(config, params=None, mode=None, graph=None):
    """Rebuild a word-level model from :meth:`RecurrentLM.config` (and optional parameters).

    The class is the config's cell's (:data:`MODEL_CLASSES`); ``graph``
    overrides the config's (``None``: the config's, default "faithful").  A
    config without ``bptt_truncate`` (a file without metadata) gets the model
    class's default (``RNNTheano``'s 4, the others' -1).
    """
    cls = MODEL_CLASSES[get_cell(config["cell"]).name]
    config = {"num_layers": 1, **config}  # a config without it: one layer, as before
    return cls.from_config(config, params=params, mode=mode, graph=graph)


# checkpoints name these classes; every one is rebuilt through its cell's class
for _name in ("RecurrentLM", "RNNTheano", "GRUTheano", "LSTMTheano"):
    register_model(_name, model_from_config)


def expected_loss_random(word_dim):
    """Expected per-word loss of uniform predictions, ``ln C``."""
    return math.log(word_dim)
