"""One parameter holder for every model: parameters and optimizer state in shared variables.

:class:`SharedParams` is the base of the word-level models
(:class:`~theano_rnn.models.recurrent.RecurrentLM`), the char-level one
(:class:`~theano_rnn.models.char.CharRNN`) and the bidirectional stacks
(:class:`~theano_rnn.models.bidir.BiStackModel`).  A model sets ``mode``
and ``dtype``, then calls :meth:`SharedParams._hold` with its initial arrays
and their expected shapes (name -> shape, in the model's parameter order) and
:meth:`SharedParams._new_optimizer_state` for its optimizer's caches.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytensor

__all__ = ["SharedParams"]


class SharedParams:
    """Parameters (``_shared``) and optimizer state (``_opt_state``), name -> shared variable."""

    @property
    def word_dim(self):
        """The vocabulary size (``vocab_size``; io.save checks a vocabulary against it)."""
        return self.vocab_size

    @word_dim.setter
    def word_dim(self, value):
        self.vocab_size = value

    @property
    def static_shapes(self):
        """Whether functions are compiled per input shape (JAX needs static shapes)."""
        return self.mode == "JAX"

    def _new_shared(self, value, name):
        """A shared variable; under JAX with its static shape, so that every
        shape in the graph is a constant (JAX cannot trace data-dependent
        shapes).  Shapes never change: ``set_params`` checks them."""
        if self.static_shapes:
            return pytensor.shared(value, name=name, shape=value.shape)
        return pytensor.shared(value, name=name)

    @staticmethod
    def _check_arrays(arrays, shapes, source="parameters"):
        """Raise ``ValueError`` naming the first missing key, else the first bad shape."""
        missing = [n for n in shapes if n not in arrays]
        if missing:
            raise ValueError(f"{source}: missing key {missing[0]!r}")
        for name, shape in shapes.items():
            got = tuple(np.shape(arrays[name]))
            if got != tuple(shape):
                raise ValueError(f"{source}: key {name!r} has shape {got}, expected {tuple(shape)}")

    def _hold(self, arrays, shapes, *, static=True, attributes=False):
        """Check ``arrays`` against ``shapes`` and hold them as the parameters.

        ``static``: shared variables of static shape under JAX
        (:meth:`_new_shared`); ``attributes``: also set each as an attribute
        (``model.U`` ...).
        """
        self._check_arrays(arrays, shapes)
        self.param_names = tuple(shapes)
        self._shared = OrderedDict()
        for name in self.param_names:
            value = np.asarray(arrays[name], dtype=self.dtype)
            shared = self._new_shared(value, name) if static else pytensor.shared(value, name=name)
            self._shared[name] = shared
            if attributes:
                setattr(self, name, shared)

    def _new_optimizer_state(self, prefixes, *, counter=False, by_param=False, static=True,
                             attributes=False):
        """Zero caches ``<prefix><param>`` for every prefix and parameter.

        ``counter``: first a scalar step count ``t`` (Adam); ``by_param``:
        ordered parameter-major (``m_E, v_E, m_U ...``) instead of
        prefix-major; ``static``/``attributes`` as in :meth:`_hold`.
        Created eagerly, so checkpoints restore them without compiling.
        """
        state = OrderedDict()
        if counter:
            state["t"] = pytensor.shared(np.asarray(0.0, dtype=self.dtype), name="t")
        pairs = ([(p, n) for n in self._shared for p in prefixes] if by_param
                 else [(p, n) for p in prefixes for n in self._shared])
        for prefix, name in pairs:
            zeros = np.zeros(self._shared[name].get_value(borrow=True).shape, dtype=self.dtype)
            key = prefix + name
            state[key] = self._new_shared(zeros, key) if static else pytensor.shared(zeros, name=key)
            if attributes:
                setattr(self, key, state[key])
        return state

    def num_params(self):
        return int(sum(s.get_value(borrow=True).size for s in self._shared.values()))

    @property
    def params(self):
        """Ordered dict name -> shared variable, in the model's parameter order."""
        return OrderedDict(self._shared)

    def get_params(self):
        """Copies of the parameter values, name -> ndarray."""
        return OrderedDict((n, s.get_value()) for n, s in self._shared.items())

    def set_params(self, arrays):
        """Set parameter values from ``name -> array`` (keys and shapes are checked)."""
        self._check_arrays(arrays, self._shapes(self._shared))
        for n, s in self._shared.items():
            s.set_value(np.asarray(arrays[n], dtype=self.dtype))

    @property
    def optimizer_state(self):
        """Ordered dict of the optimizer's shared caches (``mE`` ... for RMSprop)."""
        return OrderedDict(self._opt_state)

    def get_optimizer_state(self):
        return OrderedDict((n, s.get_value()) for n, s in self._opt_state.items())

    def set_optimizer_state(self, arrays):
        self._check_arrays(arrays, self._shapes(self._opt_state), "optimizer state")
        for n, s in self._opt_state.items():
            s.set_value(np.asarray(arrays[n], dtype=self.dtype))

    @staticmethod
    def _shapes(shared):
        return OrderedDict((n, s.get_value(borrow=True).shape) for n, s in shared.items())
