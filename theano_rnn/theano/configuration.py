"""``theano.config``: the few Theano flags RNN scripts read or set.

``config.floatX``
    Reads PyTensor's ``floatX`` (float64 unless configured otherwise, as
    Theano's default).  Importing the namespace changes nothing; a script that
    *sets* ``theano.config.floatX = 'float32'`` asked for float32 graphs, so
    the assignment sets ``pytensor.config.floatX`` (it is the same setting).
``config.mode``
    The mode :func:`theano_rnn.theano.function` uses when given none:
    ``'FAST_RUN'`` (Theano's default, our C backend) unless set.  Kept on
    this object only: PyTensor's own default mode is untouched.
``config.device``
    ``'cpu'``.  Setting it to a GPU name raises one clear error: use the JAX
    backend (``mode='JAX'``) for accelerators.
Anything else is read from ``pytensor.config`` (``config.optimizer``,
``config.compute_test_value``...), and set there when a script sets it.

:meth:`TheanoConfig.apply_flags` reads a ``THEANO_FLAGS`` string
(``floatX=float32,mode=FAST_RUN,device=cpu``); ``theano-rnn legacy`` applies
``$THEANO_FLAGS`` before it runs a script (a library import never does).
"""

from __future__ import annotations

import logging

import pytensor

from theano_rnn.theano.modes import GPU_MESSAGE, resolve_mode

__all__ = ["TheanoConfig", "config", "GPU_MESSAGE"]

log = logging.getLogger(__name__)

_FLOAT_TYPES = ("float16", "float32", "float64")
#: flags that had a meaning only for Theano's own C compiler / GPU set-up
_IGNORED_FLAGS = ("force_device", "lib.cnmem", "gpuarray.preallocate", "nvcc.fastmath",
                  "cxx", "openmp", "blas.ldflags", "warn_float64", "exception_verbosity",
                  "cast_policy", "int_division", "allow_gc", "optimizer_including",
                  "optimizer_excluding", "base_compiledir", "compiledir")


class TheanoConfig:
    """The object behind ``theano.config`` (see the module docstring)."""

    def __init__(self):
        object.__setattr__(self, "_own", {"mode": "FAST_RUN", "device": "cpu"})

    # floatX is PyTensor's
    @property
    def floatX(self):
        return pytensor.config.floatX

    @floatX.setter
    def floatX(self, value):
        if value not in _FLOAT_TYPES:
            raise ValueError(f"floatX must be one of {', '.join(_FLOAT_TYPES)}, got {value!r}")
        pytensor.config.floatX = value

    def __getattr__(self, name):
        own = object.__getattribute__(self, "_own")
        if name in own:
            return own[name]
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(pytensor.config, name)
        except AttributeError:
            raise AttributeError(f"theano.config has no flag {name!r} on PyTensor") from None

    def __setattr__(self, name, value):
        if name == "floatX":
            object.__setattr__(self, name, value)  # the property
        elif name == "device":
            if str(value).split(":")[0] not in ("cpu",):
                raise ValueError(GPU_MESSAGE)
            self._own["device"] = "cpu"
        elif name == "mode":
            resolve_mode(value)  # an unknown mode fails here, not at the first function
            self._own["mode"] = value
        elif name in _IGNORED_FLAGS:
            log.info("theano.config.%s has no effect on PyTensor; ignored", name)
            self._own[name] = value
        else:
            setattr(pytensor.config, name, value)

    def apply_flags(self, text):
        """Apply a ``THEANO_FLAGS`` string: ``name=value`` pairs separated by commas."""
        for item in (text or "").split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"THEANO_FLAGS: {item!r} is not name=value")
            name, value = name.strip(), value.strip()
            if name == "floatX" or name == "mode" or name == "device" or name in _IGNORED_FLAGS:
                setattr(self, name, value)
            else:
                try:
                    setattr(pytensor.config, name, value)
                except (AttributeError, ValueError, TypeError) as exc:
                    log.warning("THEANO_FLAGS: %s=%s ignored (%s)", name, value, exc)

    def __repr__(self):
        return f"TheanoConfig(floatX={self.floatX!r}, mode={self.mode!r}, device={self.device!r})"


config = TheanoConfig()
