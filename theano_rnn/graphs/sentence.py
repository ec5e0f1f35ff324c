"""The tutorials' per-sentence methods (``forward_propagation``, ``bptt``, ``sgd_step`` ...) on the fast graph."""

from __future__ import annotations

import numpy as np

from theano_rnn.graphs.padding import pad_batch

__all__ = ["sentence_method"]


def sentence_method(fast, name):
    """The per-sentence method ``name`` of the model on the fast graph.

    The sentence is the ``(T, 1)`` block with a mask of ones; with
    ``model._padded`` (the JAX backend, which needs static shapes, or
    ``model._pad_to_bucket``) it is left-padded to a multiple of
    ``model.jax_bucket`` first, and only the real positions are returned.
    """
    model = fast.model
    bucket = model.jax_bucket if model._padded else None

    def block(x, y=None):
        x = np.asarray(x, dtype=np.int32)
        if x.ndim != 1 or x.size == 0:
            raise ValueError(
                f"{name}: x must be a non-empty index sequence, got shape {x.shape}"
            )
        if bucket is None:
            xb = x[:, None]
            yb = None if y is None else np.asarray(y, dtype=np.int32)[:, None]
            return xb, yb, np.ones(xb.shape, dtype=model.dtype), len(x)
        xb, yb, mb = pad_batch([x], [x if y is None else y], multiple=bucket, dtype=model.dtype)
        return xb, yb, mb, len(x)

    if name in ("forward_propagation", "predict_class"):
        fn = fast.function("probs" if name == "forward_propagation" else "classes")

        def method(x):
            xb, _, mb, T = block(x)
            return fn(xb, mb)[len(xb) - T :]

    elif name in ("ce_error", "bptt"):
        fn = fast.function("loss" if name == "ce_error" else "grads")

        def method(x, y):
            xb, yb, mb, _ = block(x, y)
            return fn(xb, yb, mb)

    elif name == "sgd_step" and model.optimizer == "sgd":
        fn = fast.function("sgd")

        def method(x, y, learning_rate):
            xb, yb, mb, _ = block(x, y)
            return fast.step(xb, yb, mb, learning_rate)

    elif name == "sgd_step":
        fn = fast.function("rmsprop")

        def method(x, y, learning_rate, decay=0.9):
            xb, yb, mb, _ = block(x, y)
            return fast.step(xb, yb, mb, learning_rate, decay)

    else:  # pragma: no cover - internal
        raise ValueError(name)
    method.__name__ = name
    method.fn = fn  # the compiled function (a per-shape dispatcher under JAX)
    return method
