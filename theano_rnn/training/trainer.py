"""The one training loop: guards, evaluation cadence, checkpoints, stop requests, exact resume.

:class:`Trainer` runs ``total`` steps of a task and owns everything the task
loops used to write each on its own:

* the **guards**: a non-finite training loss, or one above ``explode_factor``
  times the first loss (char-rnn's ``train.lua``: 3x), stops the run *before*
  the step is committed or anything is saved, so the last good checkpoint
  survives; the parameters are checked for finiteness before each save;
* the **evaluation cadence**: every ``eval_every`` steps and after the last
  (``None``: the task's ``after_step`` hook evaluates, e.g. at epoch ends);
* the **checkpoints**: the latest one at each evaluation, the best-validation
  one whenever the validation loss improves (the task writes them, atomically,
  through :mod:`theano_rnn.io`);
* **stop requests** (Ctrl-C in a CLI): ``should_stop()`` is polled after every
  step; when it answers True the trainer saves and returns ``"stopped"``;
* **exact resume**: :meth:`Trainer.state` is a JSON-serialisable dict of the
  counters, learning rate, first loss, loss histories and best validation
  loss, and :meth:`Trainer.set_state` restores it; the task's own state
  (data position, carried hidden states, random generators) goes through
  its ``get_state``/``set_state`` hooks, with random generators encoded by
  :func:`rng_state` / :func:`set_rng_state` (one encoding for both NumPy
  generator types);
* **progress**: ``progress(iteration, total, loss, items_per_second)``, the
  one progress signature (:mod:`theano_rnn.training.progress` draws it with
  tqdm);
* one result type, :class:`TrainResult`.

A task plugs in with a :class:`TrainHooks` object.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["TrainHooks", "TrainResult", "Trainer", "rng_state", "set_rng_state",
           "mt19937_state"]

log = logging.getLogger(__name__)


def rng_state(rng):
    """The state of a NumPy generator as a JSON-serialisable dict (the one encoding)."""
    if isinstance(rng, np.random.Generator):
        return {"type": "Generator", "state": rng.bit_generator.state}
    if isinstance(rng, np.random.RandomState):
        name, keys, pos, has_gauss, cached = rng.get_state()
        return mt19937_state(keys, pos, has_gauss, cached)
    raise TypeError(f"not a NumPy random generator: {type(rng).__name__}")


def mt19937_state(keys, pos, has_gauss, cached_gaussian):
    """:func:`rng_state`'s encoding of a ``RandomState`` from its five parts (how
    cloze and classifier checkpoints written before 2026-12-03 stored it: the
    keys as an array, the rest in the metadata)."""
    return {"type": "RandomState", "state": {
        "bit_generator": "MT19937", "key": [int(k) for k in keys], "pos": int(pos),
        "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}}


def set_rng_state(rng, state):
    """Restore a state written by :func:`rng_state` into ``rng`` (same generator type)."""
    kind = state.get("type")
    if kind is None and "bit_generator" in state:  # a raw bit_generator.state (older checkpoints)
        state, kind = {"state": state}, "Generator"
    if isinstance(rng, np.random.Generator) and kind == "Generator":
        rng.bit_generator.state = state["state"]
        return rng
    if isinstance(rng, np.random.RandomState) and kind == "RandomState":
        s = state["state"]
        rng.set_state((s["bit_generator"], np.asarray(s["key"], dtype=np.uint32), s["pos"],
                       s["has_gauss"], s["cached_gaussian"]))
        return rng
    raise ValueError(f"cannot restore a {kind} state into a {type(rng).__name__}")


@dataclass
class TrainResult:
    """How a run ended: ``reason`` is "done", "stopped", "nan", "exploded" or "max_iterations"."""

    reason: str
    iteration: int
    train_losses: list = field(default_factory=list)
    val_losses: list = field(default_factory=list)
    best_val_loss: float | None = None
    checkpoint: str | None = None
    items_per_second: float | None = None

    @property
    def chars_per_second(self):
        """``items_per_second`` under char-rnn's name (items are characters there)."""
        return self.items_per_second


class TrainHooks:
    """What a task gives the :class:`Trainer`.  Override the methods marked *required*."""

    #: items (characters, tokens, examples) one step consumes, for the rate
    items_per_step = 1

    def total_steps(self):  # required
        """The number of steps of the whole run (from iteration 0)."""
        raise NotImplementedError

    def next_batch(self):  # required
        """The next training batch (advances the data position)."""
        raise NotImplementedError

    def train_step(self, batch, learning_rate):  # required
        """One update; returns ``(loss, commit)``.

        ``commit()`` (or ``None``) is called only when the loss passes the
        guards, e.g. to adopt the carried hidden state.
        """
        raise NotImplementedError

    def evaluate(self):
        """The validation loss (``None``: no validation data)."""
        return None

    def schedule(self, iteration, learning_rate):
        """The learning rate after step ``iteration`` (default: unchanged)."""
        return learning_rate

    def params_finite(self):
        return True

    def after_step(self, iteration, loss):
        """Task work after step ``iteration`` (its own evaluations, epoch ends ...).

        Returns ``None`` to go on, or a reason ("nan": stop, save nothing).
        """
        return None

    def task_state(self):
        """The task's own resumable state (JSON-serialisable): data position, generators, ..."""
        return {}

    def set_task_state(self, state):
        pass

    def write_checkpoint(self, path, trainer):  # required when the trainer saves
        """Write a checkpoint of ``trainer`` to ``path``; returns the path written."""
        raise NotImplementedError

    def log_eval(self, iteration, total, loss, val):
        log.info("iteration %d/%d: train loss %.4f, val loss %.4f", iteration, total, loss, val)


class Trainer:
    """The loop over a task's :class:`TrainHooks`; see the module docstring."""

    def __init__(self, hooks, *, learning_rate, eval_every=1000, explode_factor=3.0,
                 checkpoint_path=None, best_path=None):
        self.hooks = hooks
        self.learning_rate = float(learning_rate)
        self.eval_every = None if eval_every is None else int(eval_every)
        if self.eval_every is not None and self.eval_every < 1:
            raise ValueError(f"eval_every must be >= 1, got {eval_every}")
        self.explode_factor = explode_factor
        self.checkpoint_path = str(checkpoint_path) if checkpoint_path else None
        self.best_path = str(best_path) if best_path else None
        self.iteration = 0
        self.loss0 = None
        self.train_losses = []  # (iteration, loss)
        self.val_losses = []  # (iteration, loss)
        self.best_val_loss = None

    # -- state -------------------------------------------------------------
    def state(self):
        return {
            "iteration": self.iteration,
            "learning_rate": self.learning_rate,
            "loss0": self.loss0,
            "train_losses": self.train_losses,
            "val_losses": self.val_losses,
            "best_val_loss": self.best_val_loss,
        }

    def full_state(self):
        """:meth:`state` plus the task's own state: everything an exact resume needs."""
        return {**self.state(), **self.hooks.task_state()}

    def set_state(self, st):
        """Restore the counters written by :meth:`state` (or :meth:`full_state`)."""
        self.iteration = int(st["iteration"])
        self.learning_rate = float(st["learning_rate"])
        self.loss0 = st["loss0"]
        self.train_losses = [tuple(v) for v in st["train_losses"]]
        self.val_losses = [tuple(v) for v in st["val_losses"]]
        self.best_val_loss = st["best_val_loss"]

    def save(self, path=None):
        """Write the latest checkpoint (or one to ``path``); returns its path or ``None``."""
        path = path or self.checkpoint_path
        if not path:
            return None
        return self.hooks.write_checkpoint(path, self)

    def record_eval(self, val):
        """Record validation loss ``val`` at this iteration; save latest (+ best); returns the path."""
        if val is not None:
            self.val_losses.append((self.iteration, val))
        checkpoint = self.save()
        if val is not None and (self.best_val_loss is None or val < self.best_val_loss):
            self.best_val_loss = val
            if self.best_path:
                self.save(self.best_path)
                checkpoint = self.save()  # record the new best in the latest, too
        return checkpoint

    # -- the loop ----------------------------------------------------------
    def run(self, max_iterations=None, progress=None, should_stop=None):
        """Train until the task's total (or ``max_iterations`` more steps, or a stop)."""
        hooks = self.hooks
        total = int(hooks.total_steps())
        if total < 1:
            raise ValueError("nothing to train: the training split has no batches")
        stop_at = total if max_iterations is None else min(total, self.iteration + int(max_iterations))
        start = time.perf_counter()
        done_here = 0
        reason = "done"
        checkpoint = None
        while self.iteration < stop_at:
            i = self.iteration + 1  # counted from 1, as char-rnn does
            batch = hooks.next_batch()
            loss, commit = hooks.train_step(batch, self.learning_rate)
            loss = float(loss)
            if not math.isfinite(loss):
                log.error("loss is %s at iteration %d: stopping; the last good checkpoint is kept", loss, i)
                reason = "nan"
                break
            if self.loss0 is None:
                self.loss0 = loss
            if self.explode_factor is not None and loss > self.loss0 * self.explode_factor:
                log.error("loss %.4f exceeds %g x the first loss %.4f at iteration %d: aborting",
                          loss, self.explode_factor, self.loss0, i)
                reason = "exploded"
                break
            if commit is not None:
                commit()
            self.iteration = i
            self.train_losses.append((i, loss))
            done_here += 1
            self.learning_rate = hooks.schedule(i, self.learning_rate)
            elapsed = time.perf_counter() - start
            ips = done_here * hooks.items_per_step / elapsed if elapsed > 0 else None
            if progress is not None:
                progress(i, total, loss, ips)
            if self.eval_every is not None and (i % self.eval_every == 0 or i == total):
                if not hooks.params_finite():
                    log.error("parameters are not finite after iteration %d: stopping; the last "
                              "good checkpoint is kept", i)
                    reason = "nan"
                    break
                val = hooks.evaluate()
                if val is not None:
                    hooks.log_eval(i, total, loss, val)
                checkpoint = self.record_eval(val)
            stopped = hooks.after_step(i, loss)
            if stopped is not None:
                reason = stopped
                break
            if should_stop is not None and should_stop():
                if not hooks.params_finite():
                    log.error("parameters are not finite after iteration %d: stopping; the last "
                              "good checkpoint is kept", i)
                    reason = "nan"
                    break
                reason = "stopped"
                checkpoint = self.save()
                log.info("stopped at iteration %d; checkpoint %s", i, checkpoint)
                break
        else:
            if self.iteration < total:
                reason = "max_iterations"
        elapsed = time.perf_counter() - start
        return TrainResult(
            reason=reason,
            iteration=self.iteration,
            train_losses=list(self.train_losses),
            val_losses=list(self.val_losses),
            best_val_loss=self.best_val_loss,
            checkpoint=checkpoint,
            items_per_second=(done_here * hooks.items_per_step / elapsed)
            if elapsed > 0 and done_here else None,
        )
