"""``theano.gpuarray``: does not exist on PyTensor; importing it says what to use."""

from theano_rnn.theano.modes import GPU_MESSAGE

raise ImportError(GPU_MESSAGE)
