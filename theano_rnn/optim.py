"""Optimizers as plain functions returning update lists (the Lasagne style).

Each function takes the parameters (shared variables), their symbolic
gradients and hyper-parameters, and returns ``(updates, state)`` where
``updates`` is a list of ``(shared, new_value)`` pairs for
``pytensor.function(updates=...)`` and ``state`` is an ordered dict of the
optimizer's own shared variables (caches), keyed by name, so checkpoints can
save and restore them.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt

__all__ = ["sgd", "rmsprop_tutorial", "rmsprop_torch", "adam", "clip_elementwise", "OPTIMIZERS"]


def _zeros_like(p, name):
    value = p.get_value(borrow=True)
    return pytensor.shared(np.zeros(value.shape, dtype=value.dtype), name=name)


def sgd(params, grads, learning_rate):
    """``p -= learning_rate * g`` (WildML part 2's ``sgd_step``)."""
    updates = [(p, p - learning_rate * g) for p, g in zip(params, grads)]
    return updates, OrderedDict()


def rmsprop_tutorial(params, grads, learning_rate, decay, epsilon=1e-6, state=None):
    """WildML part 4's RMSprop (``gru_theano.py``).

    ``m = decay * m + (1 - decay) * g**2``; ``p -= lr * g / sqrt(m + 1e-6)``
    with the *updated* cache.  Caches are named ``m<param name>`` (``mE`` ...).
    ``state`` may pass existing cache shared variables to reuse.
    """
    state = OrderedDict() if state is None else state
    updates = []
    for p, g in zip(params, grads):
        key = "m" + p.name
        if key not in state:
            state[key] = _zeros_like(p, key)
        m = state[key]
        m_new = decay * m + (1 - decay) * g**2
        updates.append((p, p - learning_rate * g / pt.sqrt(m_new + epsilon)))
        updates.append((m, m_new))
    return updates, state


def rmsprop_torch(params, grads, learning_rate, alpha=0.95, epsilon=1e-8, state=None):
    """char-rnn's RMSprop (Torch ``optim.rmsprop``).

    ``m = alpha * m + (1 - alpha) * g**2``; ``p -= lr * g / (sqrt(m) + eps)``.
    """
    state = OrderedDict() if state is None else state
    updates = []
    for p, g in zip(params, grads):
        key = "m" + p.name
        if key not in state:
            state[key] = _zeros_like(p, key)
        m = state[key]
        m_new = alpha * m + (1 - alpha) * g**2
        updates.append((p, p - learning_rate * g / (pt.sqrt(m_new) + epsilon)))
        updates.append((m, m_new))
    return updates, state


def adam(params, grads, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8, state=None):
    """Adam (Kingma & Ba), bias-corrected, with its step counter in ``state["t"]``."""
    state = OrderedDict() if state is None else state
    if "t" not in state:
        state["t"] = pytensor.shared(np.asarray(0.0, dtype=pytensor.config.floatX), name="t")
    t = state["t"]
    t_new = t + 1
    updates = [(t, t_new)]
    a = learning_rate * pt.sqrt(1 - beta2**t_new) / (1 - beta1**t_new)
    for p, g in zip(params, grads):
        km, kv = "m" + p.name, "v" + p.name
        if km not in state:
            state[km] = _zeros_like(p, km)
            state[kv] = _zeros_like(p, kv)
        m, v = state[km], state[kv]
        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g**2
        updates.extend([(m, m_new), (v, v_new), (p, p - a * m_new / (pt.sqrt(v_new) + epsilon))])
    return updates, state


def clip_elementwise(grads, limit):
    """char-rnn's ``grad_clip``: clamp every gradient entry to ``[-limit, limit]``."""
    if limit is None or limit <= 0:
        return list(grads)
    return [pt.clip(g, -limit, limit) for g in grads]


OPTIMIZERS = ("sgd", "rmsprop", "rmsprop_torch", "adam")
