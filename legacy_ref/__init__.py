"""NumPy-only reference implementations of the WildML / seed-GRU tutorial models.

Readable, float64, one Python loop iteration per time step; each function names the
notebook cell or file it reproduces.  Used by the tests of ``theano_rnn`` as the
ground truth its PyTensor graphs are compared with.  Imports nothing but NumPy and
the standard library, and does nothing at import time.

* :class:`RNNNumpy`, :func:`softmax`, :func:`train_with_sgd` - WildML part 2,
  ``RNNLM.ipynb`` (dennybritz/rnn-tutorial-rnnlm).
* :class:`GRUNumpy`, :func:`hard_sigmoid` - WildML part 4, ``gru_theano.py``
  (dennybritz/rnn-tutorial-gru-lstm).
* :class:`LSTMNumpy` - the LSTM equations in ``gru_theano.py``'s layout.
* :mod:`legacy_ref.seed002_gru` - seed 002's NumPy GRU exactly as printed (``GRU``,
  bugs included) and ``CorrectedGRU`` (the listing with its two gradient bugs fixed).
* :class:`CharGRU`, :func:`abcdefg_demo` - an independently written, corrected character
  GRU for the same "abcdefg" demo (not the published code; ``legacy_ref/char_gru.py``
  lists every difference).
* :mod:`legacy_ref.bidir_numpy` - the issue-6 (deep) bidirectional RNN / GRU / LSTM
  stack with its cloze and mean-pooling classification heads (functions, not a class).
"""

from . import bidir_numpy, seed002_gru
from .char_gru import CharGRU, abcdefg_demo
from .common import hard_sigmoid, hard_sigmoid_grad, sigmoid
from .gru_numpy import GRUNumpy
from .lstm_numpy import LSTMNumpy
from .rnn_numpy import GradientCheckResult, RNNNumpy, softmax, train_with_sgd

__all__ = [
    "RNNNumpy",
    "GRUNumpy",
    "LSTMNumpy",
    "CharGRU",
    "GradientCheckResult",
    "softmax",
    "hard_sigmoid",
    "hard_sigmoid_grad",
    "sigmoid",
    "train_with_sgd",
    "abcdefg_demo",
    "bidir_numpy",
    "seed002_gru",
]
