"""The cloze training loop (:class:`ClozeTrainer`, :func:`train_cloze`) with exact resume.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theano_rnn import io
from theano_rnn.data import seq as seqdata
from theano_rnn.errors import TrainingError
from theano_rnn.tasks.cloze.checkpoints import KIND, best_checkpoint_path, load_cloze_checkpoint
from theano_rnn.tasks.cloze.data import load_cloze_data
from theano_rnn.tasks.cloze.evaluate import evaluate_cloze
from theano_rnn.training.trainer import TrainHooks, Trainer, mt19937_state, rng_state, set_rng_state

log = logging.getLogger(__name__)

_BUCKET_BATCHES = 20

__all__ = ["ClozeTrainOptions", "ClozeTrainResult", "ClozeTrainer", "train_cloze"]

@dataclass
class ClozeTrainOptions:
    """Options of the training loop (the model's optimizer is the model's)."""

    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-2
    seed: int = 1234
    valid_every: int | None = None  # also validate every N batches (None: once per epoch)
    checkpoint_every: int | None = None  # also checkpoint every N batches
    eval_batch_size: int = 64
    bucket: bool = True

    def validate(self):
        if int(self.epochs) < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        for name in ("valid_every", "checkpoint_every"):
            v = getattr(self, name)
            if v is not None and int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        if int(self.eval_batch_size) < 1:
            raise ValueError(f"eval_batch_size must be >= 1, got {self.eval_batch_size}")

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class ClozeTrainResult:
    reason: str  # "done", "stopped", "nan"
    epoch: int
    step: int
    history: list
    best_valid: dict | None
    checkpoint: str | None
    best_checkpoint: str | None
    train_seconds: float


class ClozeTrainer(TrainHooks, Trainer):
    """The cloze training loop over a :class:`~theano_rnn.models.bidir.ClozeModel` and :class:`ClozeData`.

    Args:
        model: the model (its optimizer is used; see ``model.optimizer``).
        cloze_data: the data (its vocabulary must match the model's size).
        options: :class:`ClozeTrainOptions`.
        checkpoint_path: the latest checkpoint (end of every epoch, every
            ``checkpoint_every`` batches, on a stop); ``None``: no saving.
        best_path: the best-validation checkpoint (default
            ``<stem>_best.npz`` beside ``checkpoint_path``).
        metadata: JSON-serialisable options recorded in the checkpoints.
    """

    def __init__(self, model, cloze_data, options=None, *, checkpoint_path=None, best_path=None,
                 metadata=None):
        self.model = model
        self.data = cloze_data
        self.options = options or ClozeTrainOptions()
        self.options.validate()
        if len(cloze_data.vocab) != model.vocab_size:
            raise ValueError(f"the vocabulary has {len(cloze_data.vocab)} words but the model "
                             f"expects {model.vocab_size}")
        if best_path is None and checkpoint_path:
            best_path = best_checkpoint_path(checkpoint_path)
        # no exploding-loss guard here: the cloze loop never had one
        Trainer.__init__(self, self, learning_rate=self.options.learning_rate, eval_every=None,
                         explode_factor=None, checkpoint_path=checkpoint_path, best_path=best_path)
        self.metadata = dict(metadata or {})
        self.rng = np.random.RandomState(self.options.seed)
        self.epoch = 0  # completed epochs
        self.batch = 0  # batches done in the current epoch
        self.step = 0  # batches done in all
        self.order = None  # the current epoch's sentence order (None between epochs)
        self.positions = None  # the current epoch's blank positions
        self.loss_sum = 0.0
        self.loss_count = 0
        self.history = []  # one dict per epoch
        self.valid_history = []  # (step, epoch float, mean ll, accuracy)
        self.best_valid = None  # {"step", "epoch", "mean_log_likelihood", "accuracy", ...}
        self.last_valid_step = None

    # ------------------------------------------------------------------ batches
    @property
    def num_batches(self):
        return -(-len(self.data.train) // int(self.options.batch_size))

    def _new_epoch(self):
        """Draw the epoch's order and blanks from the trainer's generator."""
        n, bs = len(self.data.train), int(self.options.batch_size)
        perm = self.rng.permutation(n)
        positions = seqdata.random_blanks(self.data.train, self.data.vocab, self.rng)
        if self.options.bucket and n > bs:
            lengths = np.array([len(s) for s in self.data.train])
            chunk = bs * _BUCKET_BATCHES
            pieces = []
            for start in range(0, n, chunk):
                part = perm[start:start + chunk]
                part = part[np.argsort(lengths[part], kind="stable")]
                pieces.extend(part[i:i + bs] for i in range(0, len(part), bs))
            # full batches in a random order, a short last batch (if any) last
            full = [p for p in pieces if len(p) == bs]
            short = [p for p in pieces if len(p) < bs]
            order = self.rng.permutation(len(full))
            perm = np.concatenate([full[i] for i in order] + short)
        return perm.astype(np.int64), positions.astype(np.int32)

    def _batch(self, k):
        bs = int(self.options.batch_size)
        idx = self.order[k * bs:(k + 1) * bs]
        return seqdata.cloze_batch([self.data.train[i] for i in idx], self.positions[idx],
                                   self.data.vocab.blank_index)

    # --------------------------------------------------------------- evaluation
    def evaluate(self, split="valid"):
        sents = getattr(self.data, split)
        pos = getattr(self.data, f"{split}_positions")
        v = self.data.vocab
        return evaluate_cloze(self.model, sents, pos, self.options.eval_batch_size,
                              blank_index=v.blank_index, unk_index=v.unk_index)

    def _params_finite(self):
        return all(np.isfinite(a).all() for a in self.model.get_params().values())

    def _validate(self):
        ev = self.evaluate("valid")
        ep = self.epoch + self.batch / max(self.num_batches, 1)
        self.valid_history.append([self.step, ep, ev.mean_log_likelihood, ev.accuracy])
        self.last_valid_step = self.step
        log.info("step %d (epoch %.2f): valid %s", self.step, ep, ev)
        improved = (self.best_valid is None
                    or ev.mean_log_likelihood > self.best_valid["mean_log_likelihood"])
        if improved:
            self.best_valid = dict(ev.as_dict(), step=self.step, epoch=ep)
        return ev, improved

    # --------------------------------------------------------------------- loop
    def run(self, progress=None, should_stop=None):
        """Train to ``options.epochs``; returns a :class:`ClozeTrainResult`.

        ``progress(step, total_steps, loss)`` is called after every batch;
        ``should_stop()`` is polled after every batch: when true a checkpoint
        is saved and the run ends with reason ``"stopped"``.  A non-finite
        loss (or non-finite parameters before a save) ends it with ``"nan"``
        and saves nothing.
        """
        self._start = time.perf_counter()
        self._checkpoint = None
        if self.order is not None and self.batch >= self.num_batches:
            self.after_step(self.step, None)  # an older checkpoint stopped before its epoch's end
        show = None if progress is None else (lambda i, total, loss, _rate: progress(i, total, loss))
        result = Trainer.run(self, progress=show, should_stop=should_stop)
        checkpoint = None if result.reason == "nan" else (result.checkpoint or self._checkpoint)
        return ClozeTrainResult(
            reason=result.reason, epoch=self.epoch, step=self.step, history=list(self.history),
            best_valid=self.best_valid, checkpoint=checkpoint,
            best_checkpoint=(self.best_path if self.best_path and Path(self.best_path).exists()
                             else None),
            train_seconds=time.perf_counter() - self._start,
        )

    # -- hooks of the Trainer ------------------------------------------
    @property
    def step(self):
        """Batches done in all (the Trainer's iteration)."""
        return self.iteration

    @step.setter
    def step(self, value):
        self.iteration = int(value)

    def total_steps(self):
        return int(self.options.epochs) * self.num_batches

    def next_batch(self):
        if self.order is None:
            self.order, self.positions = self._new_epoch()
            self.batch, self.loss_sum, self.loss_count = 0, 0.0, 0
        return self._batch(self.batch)

    def train_step(self, batch, learning_rate):
        X, M, pos, y = batch
        loss = self.model.train_step(X, M, pos, y, learning_rate)

        def commit():
            self.batch += 1
            self.loss_sum += loss * len(y)
            self.loss_count += len(y)

        return loss, commit

    def params_finite(self):
        return self._params_finite()

    def after_step(self, i, loss):
        opts, nb = self.options, self.num_batches
        if self.batch < nb:  # inside the epoch: the optional extra validations and checkpoints
            if opts.valid_every and i % int(opts.valid_every) == 0:
                if not self._params_finite():
                    return "nan"
                _, improved = self._validate()
                if improved and self.best_path:
                    self.save(self.best_path)
            if opts.checkpoint_every and i % int(opts.checkpoint_every) == 0:
                if not self._params_finite():
                    return "nan"
                self._checkpoint = self.save()
            return None
        if not self._params_finite():
            log.error("parameters are not finite after epoch %d: stopping; the last good "
                      "checkpoint is kept", self.epoch + 1)
            return "nan"
        # end of the epoch
        train_loss = self.loss_sum / max(self.loss_count, 1)
        self.epoch += 1
        self.batch, self.order, self.positions = 0, None, None
        ev, improved = self._validate()
        self.history.append({"epoch": self.epoch, "step": self.step, "train_loss": train_loss,
                             "valid": ev.as_dict(),
                             "seconds": time.perf_counter() - self._start})
        log.info("epoch %d/%d: train loss %.4f; valid accuracy %.4f, mean log-likelihood %.4f",
                 self.epoch, opts.epochs, train_loss, ev.accuracy, ev.mean_log_likelihood)
        if improved and self.best_path:
            self.save(self.best_path)
        self._checkpoint = self.save()
        return None

    def write_checkpoint(self, path, trainer):
        return self.save(path)

    # ------------------------------------------------------------- checkpoints
    def trainer_state(self):
        return {
            "epoch": self.epoch, "batch": self.batch, "step": self.step,
            "loss_sum": self.loss_sum, "loss_count": self.loss_count,
            "history": self.history, "valid_history": self.valid_history,
            "best_valid": self.best_valid, "last_valid_step": self.last_valid_step,
            "rng_state": rng_state(self.rng),
            "in_epoch": self.order is not None,
        }

    def save(self, path=None):
        """Write a checkpoint atomically; returns its path (``None`` when saving is off)."""
        path = path or self.checkpoint_path
        if not path:
            return None
        state = self.trainer_state()
        meta = {
            "kind": KIND,
            "train_options": self.options.as_dict(),
            "data": self.data.options,
            "trainer": state,
            "options": self.metadata,
        }
        extra = {}
        if self.order is not None:
            extra["epoch_order"] = self.order
            extra["epoch_positions"] = self.positions
        return io.save(path, self.model, index_to_word=self.data.vocab.index_to_token,
                       metadata=meta, extra=extra)

    @classmethod
    def resume(cls, path, cloze_data=None, *, mode=None, checkpoint_path=None, best_path=None,
               options=None, nltk_data=None):
        """Rebuild a trainer from a checkpoint written by :meth:`save`.

        ``cloze_data`` defaults to the data rebuilt from the options stored in
        the checkpoint; either way its vocabulary must be the stored one.
        ``options`` may replace the stored :class:`ClozeTrainOptions` (e.g.
        more epochs); changing the batch size or the seed mid-epoch breaks
        exactness (refused).
        """
        ck = load_cloze_checkpoint(path, mode=mode)
        meta = ck.metadata if isinstance(ck.metadata, dict) else {}
        if meta.get("kind") != KIND or "trainer" not in meta:
            raise io.CheckpointError(f"{path} holds a cloze model but no training state "
                                     "(it was not written by the cloze trainer)")
        if cloze_data is None:
            d = meta.get("data", {})
            cloze_data = load_cloze_data(
                d.get("corpus"), column=d.get("column", "body"),
                vocabulary_size=d["vocabulary_size"], min_length=d["min_length"],
                max_length=d["max_length"],
                nltk_data=nltk_data if nltk_data is not None else d.get("nltk_data"),
                seed=d["data_seed"],
                fractions=tuple(d["fractions"]), max_sentences=d.get("max_sentences"),
            )
        if list(cloze_data.vocab.index_to_token) != list(ck.index_to_word):
            raise io.CheckpointError(
                f"checkpoint {path} was trained on a different vocabulary ({len(ck.index_to_word)} "
                f"words) than this data ({len(cloze_data.vocab)} words): same corpus and options?"
            )
        stored = ClozeTrainOptions(**meta.get("train_options", {}))
        st = meta["trainer"]
        if options is None:
            options = stored
        elif st.get("in_epoch") and (options.batch_size != stored.batch_size
                                     or options.bucket != stored.bucket):
            raise ValueError(
                f"checkpoint {path} stopped inside an epoch with batch_size={stored.batch_size}: "
                "continue with the same batch size"
            )
        trainer = cls(ck.model, cloze_data, options, checkpoint_path=checkpoint_path or path,
                      best_path=best_path, metadata=meta.get("options"))
        trainer.epoch, trainer.batch = int(st["epoch"]), int(st["batch"])
        trainer.step = int(st["step"])
        trainer.loss_sum, trainer.loss_count = float(st["loss_sum"]), int(st["loss_count"])
        trainer.history = list(st["history"])
        trainer.valid_history = [list(v) for v in st["valid_history"]]
        trainer.best_valid = st["best_valid"]
        trainer.last_valid_step = st.get("last_valid_step")
        if "rng_state" not in st:  # written before 2026-12-03
            st["rng_state"] = mt19937_state(ck.extra["rng_keys"], st["rng_pos"],
                                            st["rng_has_gauss"], st["rng_cached"])
        set_rng_state(trainer.rng, st["rng_state"])
        if st.get("in_epoch"):
            trainer.order = np.asarray(ck.extra["epoch_order"], dtype=np.int64)
            trainer.positions = np.asarray(ck.extra["epoch_positions"], dtype=np.int32)
            if len(trainer.order) != len(cloze_data.train):
                raise io.CheckpointError(f"checkpoint {path}: its epoch order does not fit "
                                         f"{len(cloze_data.train)} training sentences")
        return trainer


def train_cloze(model, cloze_data, *, epochs=5, batch_size=32, learning_rate=1e-2, seed=1234,
                valid_every=None, checkpoint_every=None, checkpoint_path=None, best_path=None,
                metadata=None, progress=None, should_stop=None, bucket=True):
    """Train ``model`` on ``cloze_data`` (see :class:`ClozeTrainer`); returns the result.

    Raises :class:`~theano_rnn.training.tutorial.TrainingError` when the loss became
    NaN or infinite (nothing is saved after that; the last good checkpoint stays).
    """
    options = ClozeTrainOptions(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                seed=seed, valid_every=valid_every,
                                checkpoint_every=checkpoint_every, bucket=bucket)
    trainer = ClozeTrainer(model, cloze_data, options, checkpoint_path=checkpoint_path,
                           best_path=best_path, metadata=metadata)
    result = trainer.run(progress=progress, should_stop=should_stop)
    if result.reason == "nan":
        raise TrainingError(f"cloze training diverged at step {result.step + 1} (non-finite loss "
                            "or parameters); lower the learning rate")
    return result
