"""The model registry: checkpoint class name -> builder.

A checkpoint written by :func:`theano_rnn.io.save` records its model's
``config()``, whose ``"class"`` entry names the model class.  Rebuilding a
model is one lookup here: ``build_model(config, params, mode)`` calls the
builder registered under that name.  The model modules register their own
classes when imported (:mod:`theano_rnn.models.catalog` imports the built-in
ones); any other class registers with :func:`register_model` and then loads
through ``io.load`` like the built-in ones.

A builder is ``builder(config, params=None, mode=None) -> model``; a class
with a ``from_config`` classmethod of that signature can be registered
directly.  Configs without a ``"class"`` (files in the tutorials' layouts,
rebuilt from their shapes) are word-level language models:
:data:`DEFAULT_CLASS`.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_CLASS", "register_model", "unregister_model", "model_builder", "model_names",
    "build_model",
]

#: the class of a config that names none (a tutorial-layout file)
DEFAULT_CLASS = "RecurrentLM"

#: class name -> builder(config, params=None, mode=None), in registration order
_BUILDERS = {}


def register_model(name, builder=None, *, replace=False):
    """Register ``builder`` (a callable, or a class with ``from_config``) under ``name``.

    ``register_model(cls)`` registers a class under its own ``__name__``.
    Returns what was registered (so it also works as a class decorator).
    """
    if builder is None and isinstance(name, type):
        name, builder = name.__name__, name
    if not isinstance(name, str) or not name:
        raise ValueError(f"a model's registered name must be a non-empty string, got {name!r}")
    target = getattr(builder, "from_config", builder)
    if not callable(target):
        raise TypeError(f"register_model({name!r}): the builder is not callable")
    if name in _BUILDERS and not replace and _BUILDERS[name] is not target:
        raise ValueError(f"a model class named {name!r} is already registered")
    _BUILDERS[name] = target
    return builder


def unregister_model(name):
    """Remove the builder registered under ``name``."""
    if name not in _BUILDERS:
        raise ValueError(f"no model class named {name!r} is registered")
    del _BUILDERS[name]


def model_names():
    """The registered class names, in registration order."""
    return tuple(_BUILDERS)


def model_builder(name):
    """The builder registered under ``name`` (``ValueError`` naming the known ones if none)."""
    try:
        return _BUILDERS[name]
    except KeyError:
        known = ", ".join(_BUILDERS) or "none"
        raise ValueError(f"unknown model class {name!r}; registered: {known}") from None


def build_model(config, params=None, mode=None):
    """Rebuild the model described by ``config`` (a model's ``config()``)."""
    return model_builder(config.get("class") or DEFAULT_CLASS)(config, params=params, mode=mode)
