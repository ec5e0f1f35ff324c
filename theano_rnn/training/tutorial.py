"""The tutorials' training loops, with callbacks and logging instead of prints.

Part 2 (``RNNLM.ipynb`` / ``train-theano.py``): :func:`train_with_sgd`.
    Examples in order; at the start of every ``evaluate_loss_after``-th epoch
    the mean per-word loss is evaluated on the training set, recorded, logged,
    the learning rate is halved when it rose since the previous evaluation,
    and the callback runs (where the tutorial saved its checkpoint).

Part 4 (``rnn-tutorial-gru-lstm/utils.py``): :func:`train_part4`.
    Examples reshuffled every epoch with an explicit random generator, one
    RMSprop step each, ``callback(model, num_examples_seen)`` every
    ``callback_every`` examples.

Guard rails the tutorials lacked (char-rnn's "stop on NaN"): a non-finite
evaluated loss, or a non-finite loss returned by ``sgd_step``, raises
:class:`NonFiniteLossError` *before* any callback sees it, so a checkpoint
written by an earlier callback is never overwritten with diverged weights.

The loops only call a ``progress(done, total)`` function when given one
(the commands draw it with :class:`theano_rnn.training.progress.TrainProgress`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from theano_rnn.errors import NonFiniteLossError, TrainingError
from theano_rnn.optim import check_decay
from theano_rnn.runtime.rng import resolve_rng
from theano_rnn.training.checks import (
    check_count, check_data, check_params_finite, check_positive_number, is_finite, is_rmsprop,
)

__all__ = [
    "TrainingError",
    "NonFiniteLossError",
    "EvalInfo",
    "train_with_sgd",
    "train_part2",
    "train_part4",
    "resolve_rng",
]

log = logging.getLogger(__name__)


@dataclass
class EvalInfo:
    """What the part-2 loop passes to ``callback(model, info)`` after an evaluation.

    ``learning_rate`` is the rate the coming epoch uses (after any halving);
    ``losses`` is a copy of the ``(num_examples_seen, loss)`` history so far.
    """

    epoch: int
    num_examples_seen: int
    loss: float
    learning_rate: float
    losses: list = field(default_factory=list)
    halved: bool = False


def _guarded_step(model, x, y, learning_rate, step_args, epoch, index, num_examples_seen):
    """One ``sgd_step``; a non-finite loss raises :class:`NonFiniteLossError`."""
    out = model.sgd_step(x, y, learning_rate, *step_args)
    if not is_finite(out):
        raise NonFiniteLossError(
            f"non-finite loss {float(np.asarray(out))} at epoch {epoch}, example {index} "
            f"(num_examples_seen={num_examples_seen})",
            epoch=epoch, index=index, loss=float(np.asarray(out)),
            num_examples_seen=num_examples_seen,
        )
    return out


def train_with_sgd(
    model,
    X_train,
    y_train,
    learning_rate=0.005,
    nepoch=100,
    evaluate_loss_after=5,
    callback=None,
    progress=None,
    decay=None,
):
    """The part-2 outer loop (``RNNLM.ipynb``, ``def train_with_sgd``).

    For every epoch: if ``epoch % evaluate_loss_after == 0``, evaluate
    ``model.calculate_loss(X_train, y_train)``, append
    ``(num_examples_seen, loss)``, log it, halve the learning rate when the
    loss rose versus the previous evaluation, then call
    ``callback(model, info)`` (:class:`EvalInfo`) -- the notebook saved its
    checkpoint here.  Then one ``model.sgd_step(x, y, learning_rate)`` per
    example, in order (``sgd_step(x, y, learning_rate, decay)`` when the
    model's optimizer is RMSprop and ``decay`` is given).  As in the
    notebook, no evaluation follows the last epoch.

    Differences from the notebook: logging instead of prints, the checkpoint
    is the caller's callback, :class:`NonFiniteLossError` (one line, with the
    epoch and example index) on a non-finite evaluated or step loss, raised
    before any callback is called for it (and also when the parameters are
    non-finite after the very last step, which no later loss would reveal);
    ``progress(done, total)`` after each step; inputs validated
    (``ValueError``).

    Returns the list of ``(num_examples_seen, loss)``.
    """
    n = check_data(X_train, y_train)
    learning_rate = check_positive_number("learning_rate", learning_rate)
    nepoch = check_count("nepoch", nepoch, 0)
    evaluate_loss_after = check_count("evaluate_loss_after", evaluate_loss_after, 1)
    step_args = ()
    if decay is not None:
        if not is_rmsprop(model):
            raise ValueError(
                f"decay={decay!r} is only meaningful for an RMSprop model; this model's "
                f"optimizer is {getattr(model, 'optimizer', None)!r}"
            )
        step_args = (check_decay(decay),)
    total = nepoch * n
    losses = []
    num_examples_seen = 0
    for epoch in range(nepoch):
        if epoch % evaluate_loss_after == 0:
            loss = float(model.calculate_loss(X_train, y_train))
            if not math.isfinite(loss):
                raise NonFiniteLossError(
                    f"non-finite training loss {loss} evaluated at the start of epoch {epoch} "
                    f"(num_examples_seen={num_examples_seen})",
                    epoch=epoch, loss=loss, num_examples_seen=num_examples_seen,
                )
            losses.append((num_examples_seen, loss))
            log.info(
                "Loss after num_examples_seen=%d epoch=%d: %f", num_examples_seen, epoch, loss
            )
            halved = len(losses) > 1 and losses[-1][1] > losses[-2][1]
            if halved:
                learning_rate *= 0.5
                log.info("Setting learning rate to %f", learning_rate)
            if callback is not None:
                callback(
                    model,
                    EvalInfo(epoch, num_examples_seen, loss, learning_rate, list(losses), halved),
                )
        for i in range(n):
            _guarded_step(model, X_train[i], y_train[i], learning_rate, step_args,
                          epoch, i, num_examples_seen)
            num_examples_seen += 1
            if progress is not None:
                progress(num_examples_seen, total)
    if nepoch:
        check_params_finite(model, nepoch - 1)
    return losses


#: Alias naming the tutorial the loop comes from.
train_part2 = train_with_sgd


def train_part4(
    model,
    X_train,
    y_train,
    learning_rate=0.001,
    nepoch=20,
    decay=0.9,
    callback_every=10000,
    callback=None,
    rng=None,
    progress=None,
):
    """The part-4 loop (``rnn-tutorial-gru-lstm/utils.py``, ``train_with_sgd``).

    Every epoch visits the examples in the order ``rng.permutation(len(y_train))``
    (the tutorial used ``np.random.permutation``, the global generator; here
    ``rng`` is explicit, see :func:`resolve_rng`), one
    ``model.sgd_step(x, y, learning_rate, decay)`` each (``decay`` is not
    passed to a plain-SGD model), and ``callback(model, num_examples_seen)``
    whenever ``num_examples_seen`` is a multiple of ``callback_every``.

    Raises :class:`NonFiniteLossError` on a non-finite step loss (before any
    callback), ``ValueError`` on bad arguments (``decay`` outside (0, 1) ...).
    Returns the model, as the tutorial did.
    """
    n = check_data(X_train, y_train)
    learning_rate = check_positive_number("learning_rate", learning_rate)
    nepoch = check_count("nepoch", nepoch, 0)
    decay = check_decay(decay)
    if callback_every is not None:
        callback_every = check_count("callback_every", callback_every, 0)
    rng = resolve_rng(rng)
    step_args = (decay,) if is_rmsprop(model) else ()
    total = nepoch * n
    num_examples_seen = 0
    for epoch in range(nepoch):
        for i in rng.permutation(n):
            i = int(i)
            _guarded_step(model, X_train[i], y_train[i], learning_rate, step_args,
                          epoch, i, num_examples_seen)
            num_examples_seen += 1
            if progress is not None:
                progress(num_examples_seen, total)
            if callback and callback_every and num_examples_seen % callback_every == 0:
                callback(model, num_examples_seen)
        log.info("Epoch %d done (num_examples_seen=%d)", epoch, num_examples_seen)
    if nepoch:
        check_params_finite(model, nepoch - 1)
    return model
