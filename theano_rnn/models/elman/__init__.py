"""gwtaylor's real-valued sequence predictor (theano-rnn): ``RNN``, ``MetaRNN``,
the mini-batched ``MetaRNNMinibatch`` and the cells it can run."""

from theano_rnn.models.elman.cells import get_seq_cell, register_seq_cell, seq_cell_names
from theano_rnn.models.elman.meta import MetaRNN, load_metarnn
from theano_rnn.models.elman.minibatch import MetaRNNMinibatch
from theano_rnn.models.elman.rnn import RNN
from theano_rnn.models.elman.store import convert_pickle

__all__ = ["RNN", "MetaRNN", "MetaRNNMinibatch", "get_seq_cell", "register_seq_cell", "seq_cell_names",
           "convert_pickle", "load_metarnn"]
