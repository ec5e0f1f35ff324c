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

:class:`ProgressBar` is a small dependency-free progress display for command
line programs; the library loops only call a ``progress(done, total)``
function when given one.
"""

from __future__ import annotations

import logging
import math
import sys
import time
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
    "ProgressBar",
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


class ProgressBar:
    """A tiny progress display for command-line programs (no dependencies).

    On a terminal it redraws one line with ``\\r`` (at most every
    ``min_interval`` seconds, and always at the end); on anything else (a log
    file, a pipe) it writes a full line each time another ``percent_step``
    percent is done, so logs stay readable.

    ``update(n, **fields)`` sets the number of items done so far (absolute,
    as the loops' ``progress(done, total)`` passes it) and shows the fields
    (``loss=4.2``).  An instance is itself a ``progress(done, total)``
    callable.  Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self, total, stream=None, label="", min_interval=0.5, percent_step=10, width=30,
        clock=time.monotonic,
    ):
        self.total = max(int(total), 0)
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.min_interval = float(min_interval)
        self.percent_step = max(float(percent_step), 1e-9)
        self.width = int(width)
        self._clock = clock
        self._start = clock()
        self._last_draw = None
        self._next_percent = self.percent_step
        self._done = 0
        self._fields = {}
        self._closed = False
        self._written = None
        isatty = getattr(self.stream, "isatty", None)
        try:
            self.tty = bool(isatty()) if isatty else False
        except (ValueError, OSError):
            self.tty = False

    # -- display -----------------------------------------------------------
    def _percent(self):
        return 100.0 * self._done / self.total if self.total else 100.0

    def _text(self):
        elapsed = self._clock() - self._start
        pct = self._percent()
        parts = [self.label] if self.label else []
        if self.tty:
            filled = int(round(self.width * pct / 100.0))
            parts.append("[" + "#" * filled + "." * (self.width - filled) + "]")
        parts.append(f"{pct:5.1f}% {self._done}/{self.total}")
        if elapsed > 0 and self._done:
            rate = self._done / elapsed
            parts.append(f"{rate:.3g} it/s")
            if self.total > self._done:
                parts.append("eta " + _fmt_seconds((self.total - self._done) / rate))
        parts.append("elapsed " + _fmt_seconds(elapsed))
        parts.extend(f"{k}={_fmt_value(v)}" for k, v in self._fields.items())
        return " ".join(parts)

    def _write(self, text, end):
        self._written = self._done
        try:
            self.stream.write(text + end)
            self.stream.flush()
        except (ValueError, OSError):  # closed stream: a progress bar must never kill a run
            pass

    def update(self, n, **fields):
        """Set the count of items done to ``n`` and show ``fields``."""
        if self._closed:
            return
        self._done = max(0, min(int(n), self.total)) if self.total else int(n)
        self._fields.update(fields)
        now = self._clock()
        finished = self.total and self._done >= self.total
        if self.tty:
            if (
                finished
                or self._last_draw is None
                or now - self._last_draw >= self.min_interval
            ):
                self._write("\r" + self._text(), "")
                self._last_draw = now
        else:
            pct = self._percent()
            if pct >= self._next_percent or finished:
                self._write(self._text(), "\n")
                self._last_draw = now
                while self._next_percent <= pct:
                    self._next_percent += self.percent_step

    def __call__(self, done, total=None):
        if total is not None and int(total) != self.total:
            self.total = max(int(total), 0)
        self.update(done)

    def close(self):
        """Finish the display (a final newline on a terminal)."""
        if self._closed:
            return
        if self.tty:
            self._write("\r" + self._text(), "\n")
        elif self._written != self._done:
            self._write(self._text(), "\n")
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _fmt_seconds(seconds):
    seconds = int(round(max(seconds, 0)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


def _fmt_value(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
