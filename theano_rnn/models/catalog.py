"""The built-in models, registered: importing this module imports every model
module, each of which registers its classes in :mod:`theano_rnn.models.registry`.

``build_model(config, params, mode)`` (the registry's) then rebuilds any
checkpoint's model by the class it names; :func:`theano_rnn.io.load` uses it.
"""

from __future__ import annotations

from theano_rnn.models import bidir, char, udacity, word
from theano_rnn.models.registry import build_model, model_names, register_model

__all__ = ["build_model", "model_names", "register_model", "BUILTIN_MODULES"]

#: the modules whose classes are registered here
BUILTIN_MODULES = (word, char, bidir, udacity)
