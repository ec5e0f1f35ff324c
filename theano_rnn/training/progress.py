"""The training progress bar: the one progress signature drawn with tqdm.

:class:`TrainProgress` is a ``progress(iteration, total, loss, items_per_second)``
callable (the :class:`~theano_rnn.training.trainer.Trainer`'s signature).
Until the first step it shows "compiling ..." (the first step compiles the
graphs, which can take tens of seconds); the rate and the ETA leave that
first step out; with a ``time_budget`` (seconds of training, counted from the
end of the first step) the ETA is the smaller of the budget left and the
rate-based estimate.  On anything but a terminal (a log file) it writes one
plain line each time another ``percent_step`` percent is done.  While it is open, log records written by handlers on
the bar's stream go through ``tqdm.write`` so they never break the bar (the
handlers keep their own levels, filters and formats, which
``tqdm.contrib.logging.logging_redirect_tqdm`` would replace).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time

from tqdm import tqdm

__all__ = ["TrainProgress", "format_seconds"]


def format_seconds(seconds):
    seconds = int(round(max(seconds, 0)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


class _TqdmStream:
    """A stream for logging handlers that writes through ``tqdm.write``."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        text = text.rstrip("\n")
        if text:
            tqdm.write(text, file=self.stream)

    def flush(self):
        with contextlib.suppress(ValueError, OSError):
            self.stream.flush()


class TrainProgress:
    """A tqdm bar for a training run; use as a context manager or call :meth:`close`.

    Args:
        total: the run's last iteration.
        initial: the iteration it starts from (a resumed run).
        label: the bar's label (the command name).
        time_budget: seconds of training after the first step, or ``None``.
        stream: where to draw (default ``sys.stderr``).
        unit: what ``items_per_second`` counts (shown as ``<unit>/s``).
    """

    COMPILING = "{label}: compiling ..."

    def __init__(self, total, initial=0, label="", time_budget=None, stream=None, unit="it",
                 clock=time.monotonic, percent_step=10):
        self.stream = sys.stderr if stream is None else stream
        self.total = int(total)
        self.label = label
        self.time_budget = time_budget
        self.unit = unit
        self._clock = clock
        self._first = None  # (time, iteration) at the end of the first step
        isatty = getattr(self.stream, "isatty", None)
        try:
            self.tty = bool(isatty()) if isatty else False
        except (ValueError, OSError):
            self.tty = False
        self.percent_step = max(float(percent_step), 1e-9)
        self._next_percent = self.percent_step
        self._start = clock()
        self.bar = tqdm(
            total=self.total, initial=int(initial), file=self.stream, dynamic_ncols=True,
            disable=not self.tty,  # a log file gets a line every percent_step percent instead
            desc=self.COMPILING.format(label=label) if label else "compiling ...", leave=True,
            bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]",
            mininterval=0.5,
        )
        self._redirected = []
        if self.tty:
            self._redirect_logging()
        else:
            self._write(self.COMPILING.format(label=label) if label else "compiling ...")

    def _write(self, text):
        with contextlib.suppress(ValueError, OSError):  # a closed stream never kills a run
            self.stream.write(text + "\n")
            self.stream.flush()

    def _redirect_logging(self):
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                self._redirected.append((handler, handler.stream))
                handler.stream = _TqdmStream(self.stream)

    def eta(self, iteration):
        """Seconds left: rate-based after the first step, capped by the time budget."""
        if self._first is None:
            return None
        t0, i0 = self._first
        elapsed = self._clock() - t0
        eta = None
        if iteration > i0 and elapsed > 0:
            eta = (self.total - iteration) * elapsed / (iteration - i0)
        if self.time_budget is not None:
            left = max(self.time_budget - elapsed, 0.0)
            eta = left if eta is None else min(eta, left)
        return eta

    def __call__(self, iteration, total, loss=None, items_per_second=None):
        now = self._clock()
        if self._first is None:
            self._first = (now, iteration)
            self.bar.set_description_str(self.label or "train", refresh=False)
        if int(total) != self.bar.total:
            self.bar.total = int(total)
        fields = {} if loss is None else {"loss": f"{float(loss):.4g}"}
        t0, i0 = self._first
        if iteration > i0 and now > t0:  # compilation excluded
            fields[f"{self.unit}/s"] = f"{(iteration - i0) / (now - t0):.3g}"
        eta = self.eta(iteration)
        if eta is not None:
            fields["eta"] = format_seconds(eta)
        if self.tty:
            self.bar.set_postfix(fields, refresh=False)
            self.bar.update(int(iteration) - self.bar.n)
        else:
            self._line(int(iteration), now, fields)

    def _line(self, iteration, now, fields):
        """Not a terminal: one full line each time another ``percent_step`` percent is done."""
        pct = 100.0 * iteration / self.total if self.total else 100.0
        if pct < self._next_percent and iteration < self.total:
            return
        while self._next_percent <= pct:
            self._next_percent += self.percent_step
        text = tqdm.format_meter(iteration, self.total, now - self._start, prefix=self.label,
                                 postfix=", ".join(f"{k}={v}" for k, v in fields.items()),
                                 bar_format="{desc} {percentage:3.0f}% {n_fmt}/{total_fmt} "
                                 "[{elapsed}{postfix}]")
        self._write(text.strip())

    def close(self):
        for handler, stream in self._redirected:
            handler.stream = stream
        self._redirected = []
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
