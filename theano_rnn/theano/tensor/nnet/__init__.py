"""``theano.tensor.nnet``: Theano's neural-network functions with Theano's semantics.

From :mod:`.nnet`: ``softmax`` (row-wise; a vector gives a ``(1, n)`` row),
``softmax_with_bias``, ``softmax_graph``, ``logsoftmax``,
``categorical_crossentropy``, ``binary_crossentropy``,
``sigmoid_binary_crossentropy``, ``crossentropy_categorical_1hot``,
``crossentropy_softmax_1hot`` (``_with_bias``, ``argmax_..._with_bias``),
``relu``, ``elu``, ``selu``, ``softsign``.  From :mod:`.sigm`: ``sigmoid``,
``hard_sigmoid``, ``ultra_fast_sigmoid``, ``softplus``.  Theano's
convolutions (``conv2d``...) are not provided: use
``pytensor.tensor.conv`` directly.
"""

from __future__ import annotations

from theano_rnn.theano.tensor.nnet import nnet, sigm
from theano_rnn.theano.tensor.nnet.nnet import (
    binary_crossentropy, categorical_crossentropy, crossentropy_categorical_1hot,
    crossentropy_softmax_1hot, crossentropy_softmax_1hot_with_bias,
    crossentropy_softmax_argmax_1hot_with_bias, elu, logsoftmax, relu, selu,
    sigmoid_binary_crossentropy, softmax, softmax_graph, softmax_op, softmax_with_bias, softsign,
)
from theano_rnn.theano.tensor.nnet.sigm import (
    hard_sigmoid, scalar_sigmoid, sigmoid, softplus, ultra_fast_sigmoid,
)

__all__ = [
    "softmax", "softmax_graph", "softmax_with_bias", "logsoftmax", "softmax_op",
    "categorical_crossentropy", "binary_crossentropy", "sigmoid_binary_crossentropy",
    "crossentropy_categorical_1hot", "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias", "crossentropy_softmax_argmax_1hot_with_bias",
    "relu", "elu", "selu", "softsign",
    "sigmoid", "hard_sigmoid", "ultra_fast_sigmoid", "softplus", "scalar_sigmoid",
    "nnet", "sigm",
]
