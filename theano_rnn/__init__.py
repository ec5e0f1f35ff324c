"""theano_rnn: the classic Theano RNN / GRU / LSTM tutorials on PyTensor.

Importing the package has no side effects: nothing is compiled, downloaded,
seeded or configured until you call it.
"""

from theano_rnn.models.word import GRUTheano, LSTMTheano, RecurrentLM, RNNTheano

__version__ = "0.1.0"
__all__ = ["RNNTheano", "GRUTheano", "LSTMTheano", "RecurrentLM", "__version__"]
