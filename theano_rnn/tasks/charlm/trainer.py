"""char-rnn's training loop (``train.lua``) with exact, resumable checkpoints.

:class:`CharTrainer` runs minibatch training of a :class:`~theano_rnn.models.char.CharRNN`
on a :class:`~theano_rnn.data.chars.CharLoader`, carrying the hidden state
across consecutive batches, decaying the learning rate by
``learning_rate_decay`` at the end of every epoch from
``learning_rate_decay_after`` on, evaluating the validation split every
``eval_val_every`` iterations (and at the end), and stopping on a NaN loss or
when the loss exceeds 3x the first loss -- in both cases *before* anything is
saved, so the last good checkpoint survives.

A checkpoint (``.npz`` via :func:`theano_rnn.io.save`) holds everything the
loop needs to continue bit for bit: parameters, optimizer caches, the carried
hidden states, the loader's batch pointers, the dropout generator's state, the
iteration, the current learning rate, the first loss and the train/validation
loss histories, plus all options and the vocabulary.  ``CharTrainer.resume``
rebuilds the trainer from one; a run interrupted (even killed) and resumed
from its last checkpoint produces the same loss sequence as an uninterrupted
run.

Logging, not printing; ``progress`` and ``should_stop`` callbacks let a CLI
draw a progress bar and request a clean stop (Ctrl-C).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from theano_rnn import io
from theano_rnn.data.chars import CharVocab

__all__ = ["CharTrainOptions", "CharTrainer", "TrainResult"]

log = logging.getLogger(__name__)


@dataclass
class CharTrainOptions:
    """char-rnn's training options (defaults from ``train.lua``)."""

    learning_rate: float = 2e-3
    learning_rate_decay: float = 0.97
    learning_rate_decay_after: int = 10
    max_epochs: float = 50
    eval_val_every: int = 1000
    seed: int = 123
    explode_factor: float = 3.0

    def validate(self):
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0 < self.learning_rate_decay <= 1:
            raise ValueError(f"learning_rate_decay must lie in (0, 1], got {self.learning_rate_decay}")
        if self.eval_val_every < 1:
            raise ValueError(f"eval_val_every must be >= 1, got {self.eval_val_every}")
        if not self.max_epochs > 0:
            raise ValueError(f"max_epochs must be > 0, got {self.max_epochs}")


@dataclass
class TrainResult:
    reason: str  # "done", "stopped", "nan", "exploded", "max_iterations"
    iteration: int
    train_losses: list = field(default_factory=list)
    val_losses: list = field(default_factory=list)
    best_val_loss: float | None = None
    checkpoint: str | None = None
    chars_per_second: float | None = None


class CharTrainer:
    """The char-rnn loop over a model, a vocabulary and a loader.

    Args:
        model: a :class:`~theano_rnn.models.char.CharRNN`.
        vocab: the loader's vocabulary (``to_list()`` is stored).
        loader: a :class:`~theano_rnn.data.chars.CharLoader`.
        options: :class:`CharTrainOptions`.
        checkpoint_path: where the latest checkpoint goes (written atomically
            at every evaluation); ``None`` disables saving.
        best_path: where the best-validation checkpoint goes (default:
            ``<checkpoint stem>_best.npz``).
        metadata: extra JSON-serialisable options recorded in checkpoints.
    """

    def __init__(self, model, vocab, loader, options=None, *, checkpoint_path=None,
                 best_path=None, metadata=None):
        self.model = model
        self.vocab = vocab
        self.loader = loader
        self.options = options or CharTrainOptions()
        self.options.validate()
        self.checkpoint_path = str(checkpoint_path) if checkpoint_path else None
        if best_path is None and checkpoint_path:
            p = Path(checkpoint_path)
            best_path = p.with_name(p.stem + "_best" + (p.suffix or ".npz"))
        self.best_path = str(best_path) if best_path else None
        self.metadata = dict(metadata or {})
        self.iteration = 0
        self.learning_rate = float(self.options.learning_rate)
        self.loss0 = None
        self.train_losses = []  # (iteration, loss)
        self.val_losses = []  # (iteration, loss)
        self.best_val_loss = None
        self.rng = np.random.default_rng(self.options.seed)
        self.states = model.zero_states(loader.batch_size)
        if len(vocab) != model.vocab_size:
            raise ValueError(
                f"vocabulary has {len(vocab)} symbols but the model expects {model.vocab_size}"
            )

    # ------------------------------------------------------------------
    @property
    def ntrain(self):
        return self.loader.num_batches("train")

    @property
    def total_iterations(self):
        return int(self.options.max_epochs * self.ntrain)

    @property
    def epoch(self):
        return self.iteration / self.ntrain

    def evaluate(self, split="val"):
        """Mean loss over all batches of ``split`` from a zero state (char-rnn's eval_split)."""
        n = self.loader.num_batches(split)
        if n == 0:
            return None
        states = self.model.zero_states(self.loader.batch_size)
        total = 0.0
        for i in range(n):
            x, y = self.loader.batch(split, i)
            loss, states = self.model.eval_loss(x, y, states)
            total += loss
        return total / n

    def run(self, max_iterations=None, progress=None, should_stop=None):
        """Train until ``max_epochs`` (or ``max_iterations`` more steps, or a stop).

        ``progress(iteration, total, loss, chars_per_second)`` is called after
        every step; ``should_stop()`` is polled after every step and, when it
        returns True, a checkpoint is saved and the run ends ("stopped").
        """
        opts = self.options
        total = self.total_iterations
        if total < 1:
            raise ValueError("nothing to train: the training split has no batches")
        stop_at = total if max_iterations is None else min(total, self.iteration + int(max_iterations))
        chars = self.loader.batch_size * self.loader.seq_length
        start = time.perf_counter()
        done_here = 0
        reason = "done"
        checkpoint = None
        while self.iteration < stop_at:
            i = self.iteration + 1  # char-rnn counts from 1
            x, y = self.loader.next_batch("train")
            loss, new_states = self.model.train_step(x, y, self.learning_rate, self.states, rng=self.rng)
            if not math.isfinite(loss):
                log.error("loss is %s at iteration %d: stopping; the last good checkpoint is kept", loss, i)
                reason = "nan"
                break
            if self.loss0 is None:
                self.loss0 = loss
            if loss > self.loss0 * opts.explode_factor:
                log.error(
                    "loss %.4f exceeds %g x the first loss %.4f at iteration %d: aborting",
                    loss, opts.explode_factor, self.loss0, i,
                )
                reason = "exploded"
                break
            self.states = new_states
            self.iteration = i
            self.train_losses.append((i, loss))
            done_here += 1
            if i % self.ntrain == 0 and opts.learning_rate_decay < 1:
                if i / self.ntrain >= opts.learning_rate_decay_after:
                    self.learning_rate *= opts.learning_rate_decay
                    log.info("decayed learning rate by %g to %g", opts.learning_rate_decay, self.learning_rate)
            elapsed = time.perf_counter() - start
            cps = done_here * chars / elapsed if elapsed > 0 else None
            if progress is not None:
                progress(i, total, loss, cps)
            if i % opts.eval_val_every == 0 or i == total:
                if not self._params_finite():
                    log.error(
                        "parameters are not finite after iteration %d: stopping; the last "
                        "good checkpoint is kept", i,
                    )
                    reason = "nan"
                    break
                val = self.evaluate("val")
                if val is not None:
                    self.val_losses.append((i, val))
                    log.info(
                        "iteration %d/%d (epoch %.2f): train loss %.4f, val loss %.4f (perplexity %.2f)",
                        i, total, self.epoch, loss, val, math.exp(min(val, 700)),
                    )
                checkpoint = self.save()
                if val is not None and (self.best_val_loss is None or val < self.best_val_loss):
                    self.best_val_loss = val
                    if self.best_path:
                        self.save(self.best_path)
                        checkpoint = self.save()  # record the new best in the latest, too
            if should_stop is not None and should_stop():
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
            chars_per_second=(done_here * chars / elapsed) if elapsed > 0 and done_here else None,
        )

    def _params_finite(self):
        return all(np.isfinite(v).all() for v in self.model.get_params().values())

    # ------------------------------------------------------------------
    def trainer_state(self):
        return {
            "iteration": self.iteration,
            "epoch": self.epoch,
            "learning_rate": self.learning_rate,
            "loss0": self.loss0,
            "train_losses": self.train_losses,
            "val_losses": self.val_losses,
            "best_val_loss": self.best_val_loss,
            "rng_state": self.rng.bit_generator.state,
            "loader_state": self.loader.state(),
        }

    def save(self, path=None):
        """Write a checkpoint (atomically); returns its path or ``None``."""
        path = path or self.checkpoint_path
        if not path:
            return None
        meta = {
            "kind": "char",
            "train_options": asdict(self.options),
            "loader": {
                "batch_size": self.loader.batch_size,
                "seq_length": self.loader.seq_length,
            },
            "trainer": self.trainer_state(),
            "options": self.metadata,
            "vocab_unknown": getattr(self.vocab, "unknown", None),
        }
        extra = {f"state{k}": s for k, s in enumerate(self.states)}
        return io.save(path, self.model, index_to_word=self.vocab.to_list(), metadata=meta, extra=extra)

    @classmethod
    def resume(cls, path, loader, vocab=None, *, mode=None, checkpoint_path=None, best_path=None,
               options=None):
        """Rebuild a trainer from a checkpoint written by :meth:`save`.

        ``loader`` must be built from the same text and vocabulary with the
        same batch size and sequence length (checked).  ``options`` may
        override the stored training options (e.g. a larger ``max_epochs``).
        """
        ck = io.load(path, mode=mode)
        meta = ck.metadata
        if meta.get("kind") != "char":
            raise io.CheckpointError(f"checkpoint {path} is not a char-rnn checkpoint")
        stored_vocab = ck.index_to_word
        if stored_vocab is None:
            raise io.CheckpointError(f"checkpoint {path} has no vocabulary")
        if vocab is not None and list(vocab.to_list()) != list(stored_vocab):
            raise io.CheckpointError(
                f"checkpoint {path} was trained on a different vocabulary "
                f"({len(stored_vocab)} symbols) than this corpus ({len(vocab)} symbols)"
            )
        geometry = meta.get("loader", {})
        if (geometry.get("batch_size"), geometry.get("seq_length")) != (loader.batch_size, loader.seq_length):
            raise io.CheckpointError(
                f"checkpoint {path} used batch_size={geometry.get('batch_size')}, "
                f"seq_length={geometry.get('seq_length')}; the loader has "
                f"{loader.batch_size}, {loader.seq_length}"
            )
        stored = CharTrainOptions(**meta.get("train_options", {}))
        if options is not None:
            stored = options
        if vocab is None:
            vocab = CharVocab.from_list(stored_vocab, unknown=meta.get("vocab_unknown"))
        trainer = cls(
            ck.model, vocab, loader, stored,
            checkpoint_path=checkpoint_path or path, best_path=best_path,
            metadata=meta.get("options"),
        )
        st = meta["trainer"]
        trainer.iteration = int(st["iteration"])
        trainer.learning_rate = float(st["learning_rate"])
        trainer.loss0 = st["loss0"]
        trainer.train_losses = [tuple(v) for v in st["train_losses"]]
        trainer.val_losses = [tuple(v) for v in st["val_losses"]]
        trainer.best_val_loss = st["best_val_loss"]
        trainer.rng.bit_generator.state = st["rng_state"]
        loader.set_state(st["loader_state"])
        trainer.states = [
            np.asarray(ck.extra[f"state{k}"], dtype=ck.model.dtype) for k in range(ck.model.n_states)
        ]
        return trainer
