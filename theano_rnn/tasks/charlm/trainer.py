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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from theano_rnn import io
from theano_rnn.data.chars import CharVocab
from theano_rnn.training.trainer import TrainHooks, Trainer, TrainResult, rng_state, set_rng_state

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


class CharTrainer(TrainHooks, Trainer):
    """The char-rnn loop over a model, a vocabulary and a loader.

    A :class:`~theano_rnn.training.trainer.Trainer` whose hooks are char-rnn's:
    consecutive batches with the hidden state carried across them, the
    learning rate decayed at the end of every epoch from
    ``learning_rate_decay_after`` on, the validation split as the evaluation.

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
        if best_path is None and checkpoint_path:
            p = Path(checkpoint_path)
            best_path = p.with_name(p.stem + "_best" + (p.suffix or ".npz"))
        Trainer.__init__(self, self, learning_rate=self.options.learning_rate,
                         eval_every=self.options.eval_val_every,
                         explode_factor=self.options.explode_factor,
                         checkpoint_path=checkpoint_path, best_path=best_path)
        self.metadata = dict(metadata or {})
        self.rng = np.random.default_rng(self.options.seed)
        self.states = model.zero_states(loader.batch_size)
        self.items_per_step = loader.batch_size * loader.seq_length
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
        return Trainer.run(self, max_iterations, progress=progress, should_stop=should_stop)

    # -- hooks of the Trainer ------------------------------------------
    def total_steps(self):
        return self.total_iterations

    def next_batch(self):
        return self.loader.next_batch("train")

    def train_step(self, batch, learning_rate):
        x, y = batch
        loss, new_states = self.model.train_step(x, y, learning_rate, self.states, rng=self.rng)

        def commit():
            self.states = new_states

        return loss, commit

    def schedule(self, i, learning_rate):
        opts = self.options
        if i % self.ntrain == 0 and opts.learning_rate_decay < 1:
            if i / self.ntrain >= opts.learning_rate_decay_after:
                learning_rate *= opts.learning_rate_decay
                log.info("decayed learning rate by %g to %g", opts.learning_rate_decay, learning_rate)
        return learning_rate

    def params_finite(self):
        return all(np.isfinite(v).all() for v in self.model.get_params().values())

    def log_eval(self, i, total, loss, val):
        log.info(
            "iteration %d/%d (epoch %.2f): train loss %.4f, val loss %.4f (perplexity %.2f)",
            i, total, self.epoch, loss, val, math.exp(min(val, 700)),
        )

    def task_state(self):
        return {
            "epoch": self.epoch,
            "rng_state": rng_state(self.rng),
            "loader_state": self.loader.state(),
        }

    def set_task_state(self, st):
        set_rng_state(self.rng, st["rng_state"])
        self.loader.set_state(st["loader_state"])

    def write_checkpoint(self, path, trainer):
        return self.save(path)

    # ------------------------------------------------------------------
    def trainer_state(self):
        return self.full_state()

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
        trainer.set_state(st)
        trainer.set_task_state(st)
        trainer.states = [
            np.asarray(ck.extra[f"state{k}"], dtype=ck.model.dtype) for k in range(ck.model.n_states)
        ]
        return trainer
