"""Minibatched word-level training: padded batches with masks, tokens per second.

The tutorials train one sentence per ``sgd_step``.  Here several sentences
go through one step: they are left-padded into a time-major ``(T, B)`` block
with a mask (:func:`theano_rnn.graphs.fast.pad_batch`) and the model's batched
fast graph (``model.batch_step``) computes the summed cross-entropy of the
real tokens, its gradient and the update in one call.  Padding is exact:
masked positions keep the previous hidden state and contribute no loss and no
gradient, so a batch's loss is the sum of its sentences' losses, and the
per-token loss reported here is the same number per-sentence evaluation gives
(``model.calculate_loss``) on the same examples.

Gradient scale (``reduction``): ``"sum"`` steps along the sum of the
sentences' gradients (the tutorials' per-sentence loss, added up);
``"mean"`` (default) along their mean over the batch's sentences, so the
learning rate means about the same for every batch size.

Sentences are visited in a new random order every epoch (an explicit ``rng``);
with ``sort_window`` > 1 the order is locally sorted by length within windows
of that many batches, so batches hold similar lengths and carry less padding
(the usual bucketing trick).  ``multiple`` rounds the padded length up to a
multiple (a few static shapes for the JAX backend).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from theano_rnn.optim import check_decay
from theano_rnn.runtime.rng import resolve_rng
from theano_rnn.training.checks import (
    check_count, check_data, check_params_finite, check_positive_number, is_rmsprop,
)
from theano_rnn.errors import NonFiniteLossError
from theano_rnn.graphs.fast import pad_batch
from theano_rnn.training.trainer import TrainHooks, Trainer

__all__ = ["MinibatchStats", "iterate_minibatches", "batched_loss", "train_minibatches", "REDUCTIONS"]

log = logging.getLogger(__name__)

REDUCTIONS = ("mean", "sum")


@dataclass
class MinibatchStats:
    """What :func:`train_minibatches` measured.

    ``tokens``: real (unpadded) target tokens trained on; ``padded_tokens``:
    positions computed including padding; ``seconds``: wall time of the
    steps (compilation excluded: the step is compiled before the clock
    starts); ``epoch_losses``: mean per-token training loss of each epoch
    (the losses the steps returned, i.e. before each update).
    """

    batches: int = 0
    examples: int = 0
    tokens: int = 0
    padded_tokens: int = 0
    seconds: float = 0.0
    epoch_losses: list = field(default_factory=list)

    @property
    def tokens_per_s(self):
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    @property
    def padding_fraction(self):
        return 1.0 - self.tokens / self.padded_tokens if self.padded_tokens else 0.0


def _check_sentences(X, Y):
    for i, (x, y) in enumerate(zip(X, Y)):
        if len(x) != len(y):
            raise ValueError(f"sentence {i}: x has {len(x)} tokens but y has {len(y)}")
        if len(x) == 0:
            raise ValueError(f"sentence {i} is empty")


def iterate_minibatches(X, Y, batch_size, rng=None, shuffle=True, sort_window=0):
    """Index arrays of the batches of one epoch.

    ``shuffle``: a random order from ``rng`` (else the given order);
    ``sort_window`` > 1: sort by length within windows of
    ``sort_window * batch_size`` sentences, then shuffle the batches again so
    long and short batches alternate.  The last batch may be smaller.
    """
    n = check_data(X, Y)
    batch_size = check_count("batch_size", batch_size, 1)
    sort_window = check_count("sort_window", sort_window, 0)
    rng = resolve_rng(rng) if shuffle else None
    order = rng.permutation(n) if shuffle else np.arange(n)
    if sort_window > 1:
        span = sort_window * batch_size
        lengths = np.fromiter((len(Y[i]) for i in order), dtype=np.int64, count=n)
        chunks = []
        for start in range(0, n, span):
            part = order[start : start + span]
            chunks.append(part[np.argsort(lengths[start : start + span], kind="stable")])
        order = np.concatenate(chunks)
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if shuffle and sort_window > 1:
        batches = [batches[int(j)] for j in rng.permutation(len(batches))]
    return batches


def _pad(X, Y, idx, multiple):
    return pad_batch([X[i] for i in idx], [Y[i] for i in idx], multiple=multiple)


def batched_loss(model, X, Y, batch_size=64, multiple=None):
    """Mean cross-entropy per word over ``(X, Y)`` through the batched graph.

    Equals ``model.calculate_loss(X, Y)`` (to round-off), usually much faster.
    """
    n = check_data(X, Y)
    _check_sentences(X, Y)
    total, words = 0.0, 0
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(n, start + batch_size))
        x, y, mask = _pad(X, Y, idx, multiple)
        total += float(model.batch_loss(x, y, mask))
        words += int(sum(len(Y[i]) for i in idx))
    return total / words


def train_minibatches(
    model,
    X_train,
    y_train,
    batch_size=32,
    learning_rate=0.005,
    nepoch=1,
    decay=None,
    rng=None,
    reduction="mean",
    shuffle=True,
    sort_window=0,
    multiple=None,
    callback=None,
    callback_every=None,
    progress=None,
):
    """Train ``model`` on minibatches of sentences; returns :class:`MinibatchStats`.

    One ``model.batch_step`` per batch (``decay`` is passed to an RMSprop
    model, default 0.9).  ``callback(model, num_examples_seen)`` runs each
    time ``num_examples_seen`` passes a multiple of ``callback_every``
    (checked after each batch); ``progress(done, total)`` after each batch.
    A non-finite batch loss raises :class:`NonFiniteLossError` before any
    callback sees the model.
    """
    check_data(X_train, y_train)
    _check_sentences(X_train, y_train)
    batch_size = check_count("batch_size", batch_size, 1)
    learning_rate = check_positive_number("learning_rate", learning_rate)
    nepoch = check_count("nepoch", nepoch, 0)
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if callback_every is not None:
        callback_every = check_count("callback_every", callback_every, 1)
    rmsprop = is_rmsprop(model)
    if decay is not None and not rmsprop:
        raise ValueError(
            f"decay={decay!r} is only meaningful for an RMSprop model; this model's "
            f"optimizer is {getattr(model, 'optimizer', None)!r}"
        )
    decay = check_decay(0.9 if decay is None else decay) if rmsprop else None
    rng = resolve_rng(rng)
    run = _MinibatchHooks(model, X_train, y_train, batch_size, nepoch, rng, reduction, shuffle,
                          sort_window, multiple, (decay,) if rmsprop else (), callback,
                          callback_every, progress)
    if nepoch:
        # no exploding-loss guard: this loop never had one; its errors stay NonFiniteLossError
        result = Trainer(run, learning_rate=learning_rate, eval_every=None,
                         explode_factor=None).run()
        if result.reason == "nan":
            epoch, idx, loss, seen = run.failed
            raise NonFiniteLossError(
                f"non-finite loss {loss} at epoch {epoch}, batch of sentences "
                f"{int(idx[0])}..(num_examples_seen={seen})",
                epoch=epoch, index=int(idx[0]), loss=loss, num_examples_seen=seen,
            )
        check_params_finite(model, nepoch - 1)
    return run.stats


class _MinibatchHooks(TrainHooks):
    """:func:`train_minibatches` as hooks of the :class:`~theano_rnn.training.trainer.Trainer`."""

    def __init__(self, model, X, Y, batch_size, nepoch, rng, reduction, shuffle, sort_window,
                 multiple, step_args, callback, callback_every, progress):
        self.model, self.X, self.Y, self.batch_size, self.nepoch = model, X, Y, batch_size, nepoch
        self.rng, self.reduction, self.shuffle, self.sort_window = rng, reduction, shuffle, sort_window
        self.multiple, self.step_args = multiple, step_args
        self.callback, self.callback_every, self.progress = callback, callback_every, progress
        self.step = model.batch_step  # compile before the clock starts
        self.stats = MinibatchStats()
        self.n = len(X)
        self.per_epoch = -(-self.n // batch_size)
        self.epoch, self.batches, self.seen = 0, [], 0
        self.epoch_loss, self.epoch_words = 0.0, 0
        self.failed = None

    def total_steps(self):
        return self.nepoch * self.per_epoch

    def next_batch(self):
        if not self.batches:  # a new epoch: its order from the generator
            self.batches = iterate_minibatches(self.X, self.Y, self.batch_size, self.rng,
                                               self.shuffle, self.sort_window)
            self.epoch_loss, self.epoch_words = 0.0, 0
        return self.batches.pop(0)

    def train_step(self, idx, learning_rate):
        x, y, mask = _pad(self.X, self.Y, idx, self.multiple)
        scale = 1.0 / len(idx) if self.reduction == "mean" else 1.0
        t0 = time.perf_counter()
        loss = self.step(x, y, mask, learning_rate, *self.step_args, scale=scale)
        self.stats.seconds += time.perf_counter() - t0
        loss = float(loss)
        if not math.isfinite(loss):
            self.failed = (self.epoch, idx, loss, self.seen)

        def commit():
            words = int(sum(len(self.Y[i]) for i in idx))
            stats = self.stats
            self.before, self.seen = self.seen, self.seen + len(idx)
            stats.batches += 1
            stats.examples += len(idx)
            stats.tokens += words
            stats.padded_tokens += int(x.size)
            self.epoch_loss += loss
            self.epoch_words += words

        return loss, commit

    def after_step(self, i, loss):
        seen, every = self.seen, self.callback_every
        if self.progress is not None:
            self.progress(seen, self.nepoch * self.n)
        if self.callback and every and seen // every > self.before // every:
            self.callback(self.model, seen)
        if not self.batches:  # the end of an epoch
            stats = self.stats
            stats.epoch_losses.append(self.epoch_loss / max(self.epoch_words, 1))
            log.info(
                "Epoch %d: mean training loss %.6f, %.0f tokens/s (%d batches of <= %d, %.0f%% "
                "padding)", self.epoch, stats.epoch_losses[-1], stats.tokens_per_s,
                stats.batches, self.batch_size, 100 * stats.padding_fraction,
            )
            self.epoch += 1
        return None
