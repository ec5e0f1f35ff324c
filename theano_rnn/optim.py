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

__all__ = [
    "sgd",
    "rmsprop_tutorial",
    "rmsprop_torch",
    "adam",
    "adadelta",
    "rmsprop_graves",
    "clip_elementwise",
    "clip_global_norm",
    "OPTIMIZERS",
    "FAMILIES",
    "resolve",
    "display_name",
    "choices",
    "name_type",
    "check_decay",
]


def _zeros_like(p, name):
    value = p.get_value(borrow=True)
    return pytensor.shared(np.zeros(value.shape, dtype=value.dtype), name=name)


def _cache(state, key, p, claimed):
    """``state[key]`` (created as zeros like ``p`` if absent), refusing a key two params share."""
    if key in claimed:
        raise ValueError(f"optimizer state key {key!r} is claimed by two parameters; rename one")
    claimed.add(key)
    if key not in state:
        state[key] = _zeros_like(p, key)
    return state[key]


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
    updates, claimed = [], set()
    for p, g in zip(params, grads):
        m = _cache(state, "m" + p.name, p, claimed)
        m_new = decay * m + (1 - decay) * g**2
        updates.append((p, p - learning_rate * g / pt.sqrt(m_new + epsilon)))
        updates.append((m, m_new))
    return updates, state


def rmsprop_torch(params, grads, learning_rate, alpha=0.95, epsilon=1e-8, state=None):
    """char-rnn's RMSprop (Torch ``optim.rmsprop``).

    ``m = alpha * m + (1 - alpha) * g**2``; ``p -= lr * g / (sqrt(m) + eps)``.
    """
    state = OrderedDict() if state is None else state
    updates, claimed = [], set()
    for p, g in zip(params, grads):
        m = _cache(state, "m" + p.name, p, claimed)
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
    claimed = set()
    for p, g in zip(params, grads):
        m = _cache(state, "m" + p.name, p, claimed)
        v = _cache(state, "v" + p.name, p, claimed)
        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g**2
        updates.extend([(m, m_new), (v, v_new), (p, p - a * m_new / (pt.sqrt(v_new) + epsilon))])
    return updates, state


def adadelta(params, grads, rho=0.95, epsilon=1e-6, state=None):
    """ADADELTA (Zeiler 2012) as in the Theano LSTM sentiment tutorial (``lstm.py``).

    ``rg2 = rho * rg2 + (1 - rho) * g**2``;
    ``ud = -sqrt(ru2 + eps) / sqrt(rg2_new + eps) * g``;
    ``ru2 = rho * ru2 + (1 - rho) * ud**2``; ``p += ud``.
    There is no learning rate: the tutorial passes ``lrate`` to its adadelta
    and never uses it.  (The tutorial's two compiled functions -- gradients
    then update -- are one update list here, with the same arithmetic.)
    Caches are named ``rg2<param name>`` and ``ru2<param name>``.
    """
    state = OrderedDict() if state is None else state
    updates, claimed = [], set()
    for p, g in zip(params, grads):
        rg2 = _cache(state, "rg2" + p.name, p, claimed)
        ru2 = _cache(state, "ru2" + p.name, p, claimed)
        rg2_new = rho * rg2 + (1 - rho) * g**2
        ud = -pt.sqrt(ru2 + epsilon) / pt.sqrt(rg2_new + epsilon) * g
        updates.extend([(rg2, rg2_new), (ru2, rho * ru2 + (1 - rho) * ud**2), (p, p + ud)])
    return updates, state


def rmsprop_graves(
    params, grads, learning_rate=1e-4, momentum=0.9, rho=0.95, epsilon=1e-4, state=None
):
    """RMSprop with momentum (Graves 2013) as in the Theano LSTM sentiment tutorial.

    ``rg = rho * rg + (1 - rho) * g``; ``rgg = rho * rgg + (1 - rho) * g**2``;
    ``ud = momentum * ud - learning_rate * g / sqrt(rgg_new - rg_new**2 + epsilon)``;
    ``p += ud_new``.  The tutorial hard-codes the step 1e-4 and ignores its
    ``lrate`` argument: the default ``learning_rate=1e-4`` reproduces it.
    Caches are named ``rg<param name>``, ``rgg<param name>`` and ``ud<param name>``.
    """
    state = OrderedDict() if state is None else state
    updates, claimed = [], set()
    for p, g in zip(params, grads):
        rg = _cache(state, "rg" + p.name, p, claimed)
        rgg = _cache(state, "rgg" + p.name, p, claimed)
        ud = _cache(state, "ud" + p.name, p, claimed)
        rg_new = rho * rg + (1 - rho) * g
        rgg_new = rho * rgg + (1 - rho) * g**2
        ud_new = momentum * ud - learning_rate * g / pt.sqrt(rgg_new - rg_new**2 + epsilon)
        updates.extend([(rg, rg_new), (rgg, rgg_new), (ud, ud_new), (p, p + ud_new)])
    return updates, state


def clip_elementwise(grads, limit):
    """char-rnn's ``grad_clip``: clamp every gradient entry to ``[-limit, limit]``."""
    if limit is None or limit <= 0:
        return list(grads)
    return [pt.clip(g, -limit, limit) for g in grads]


def clip_global_norm(grads, clip_norm):
    """TensorFlow's ``tf.clip_by_global_norm`` (the Udacity ``6_lstm`` notebook's clip).

    ``global_norm = sqrt(sum_k sum(g_k**2))``; every gradient is multiplied by
    ``clip_norm * min(1 / global_norm, 1 / clip_norm)``, so the list keeps its
    direction and has global norm at most ``clip_norm``.  Returns
    ``(clipped, global_norm)``.
    """
    grads = list(grads)
    global_norm = pt.sqrt(sum(pt.sum(pt.sqr(g)) for g in grads))
    scale = clip_norm * pt.minimum(1.0 / global_norm, 1.0 / clip_norm)
    return [g * pt.cast(scale, g.dtype) for g in grads], global_norm


#: the algorithms, one per name (the functions above)
OPTIMIZERS = ("sgd", "rmsprop_tutorial", "rmsprop_torch", "rmsprop_graves", "adam", "adadelta")

#: the one table of optimizer names: model family -> the algorithms its models
#: run (in the order the commands list them) and the one its tutorial calls
#: "rmsprop".  ``word``: RNNTheano/GRUTheano/LSTMTheano (WildML part 4's RMSprop);
#: ``char``: CharRNN (char-rnn's Torch optim.rmsprop); ``stack``: the cloze and
#: classification models (the Theano LSTM tutorial's Graves RMSprop).
FAMILIES = {
    "word": (("sgd", "rmsprop_tutorial"), "rmsprop_tutorial"),
    "char": (("rmsprop_torch", "adam"), "rmsprop_torch"),
    "stack": (("adam", "sgd", "adadelta", "rmsprop_graves", "rmsprop_tutorial"), "rmsprop_graves"),
}

ALIAS = "rmsprop"


def _family(family):
    try:
        return FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown model family {family!r}; one of {', '.join(FAMILIES)}") from None


def resolve(family, name):
    """The algorithm (a name in :data:`OPTIMIZERS`) that ``name`` means for ``family``'s models.

    ``"rmsprop"`` is the family's tutorial's RMSprop; any other accepted name is
    an algorithm's own.  An algorithm the family does not run raises ``ValueError``.
    """
    algorithms, rmsprop = _family(family)
    algorithm = rmsprop if name == ALIAS else name
    if algorithm not in algorithms:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(choices(family))}")
    return algorithm


def display_name(family, name):
    """The name ``family``'s models and commands use for ``name``: ``"rmsprop"``
    for their tutorial's RMSprop (under either name), else the algorithm's."""
    algorithm = resolve(family, name)
    return ALIAS if algorithm == _family(family)[1] else algorithm


def choices(family, algorithms=None):
    """Every name ``family`` accepts (of ``algorithms``, default all it runs), in
    order, ``"rmsprop"`` just before its algorithm's own name: a command's
    ``--optimizer`` choices."""
    runs, rmsprop = _family(family)
    names = []
    for algorithm in (runs if algorithms is None else algorithms):
        resolve(family, algorithm)  # validates
        names.extend((ALIAS, algorithm) if algorithm == rmsprop else (algorithm,))
    return tuple(names)


def name_type(family):
    """An argparse ``type`` mapping every accepted name to :func:`display_name`
    (so ``--optimizer rmsprop_graves`` and ``--optimizer rmsprop`` are one choice)."""
    def convert(name):
        try:
            return display_name(family, name)
        except ValueError:
            return name  # argparse's choices check reports it
    convert.__name__ = "optimizer"
    return convert


def check_decay(decay):
    try:
        d = float(decay)
    except (TypeError, ValueError):
        raise ValueError(f"decay must be a number in (0, 1), got {decay!r}") from None
    if not (0.0 < d < 1.0):
        raise ValueError(f"RMSprop decay must lie in (0, 1), got {decay!r}")
    return d
