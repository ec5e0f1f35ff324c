"""The sequence-classification training loop (:class:`ClassifierTrainer`) with exact resume.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass

import numpy as np

from theano_rnn import io
from theano_rnn.data import seq as seqdata
from theano_rnn.tasks.classify.checkpoints import KIND, load_classifier
from theano_rnn.tasks.classify.data import SPLITS
from theano_rnn.tasks.classify.evaluate import EvalResult, early_stopping_step, evaluate
from theano_rnn.training.trainer import TrainHooks, Trainer, mt19937_state, rng_state, set_rng_state

__all__ = ["ClassifierResult", "ClassifierTrainOptions", "ClassifierTrainer", "train_classifier"]

log = logging.getLogger(__name__)

_CURRENT = "current/"  # the prefix of the current (not best) parameters in a checkpoint


@dataclass
class ClassifierTrainOptions:
    """The loop's options (defaults: the tutorial's ``train_lstm``, except ``valid_freq``).

    ``valid_freq`` ``None`` validates once per epoch (the tutorial: every 370
    updates); ``save_freq`` ``None`` checkpoints at every validation (the
    tutorial: every 1110 updates).  ``learning_rate`` is used by ``sgd``
    and ``rmsprop`` (Adadelta has none).  ``eval_train`` computes the
    training error at each validation as the tutorial does (costly: set it
    False to skip).  ``seed`` seeds the trainer's generator (shuffling and
    dropout masks), ``np.random.RandomState([seed, 1])``, a stream distinct
    from the weights' ``RandomState(seed)``.
    """

    batch_size: int = 16
    valid_batch_size: int = 64
    max_epochs: int = 5000
    patience: int = 10
    valid_freq: int | None = None
    save_freq: int | None = None
    disp_freq: int = 10
    learning_rate: float = 1e-4
    eval_train: bool = True
    seed: int = 1234

    def validate(self):
        for name in ("batch_size", "valid_batch_size", "max_epochs", "disp_freq"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if int(self.patience) < 1:  # the tutorial's history_errs[:-patience] needs >= 1
            raise ValueError(f"patience must be >= 1, got {self.patience}")
        for name in ("valid_freq", "save_freq"):
            v = getattr(self, name)
            if v is not None and int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")


@dataclass
class ClassifierResult:
    """What a run did.  ``reason``: done (max_epochs), early_stop, max_updates, stopped, interrupted, nan."""

    reason: str
    updates: int
    epochs_run: float
    stop_epoch: int
    history: list
    best_valid_err: float | None
    train: EvalResult | None = None
    valid: EvalResult | None = None
    test: EvalResult | None = None
    majority_baseline: float | None = None
    train_time: float = 0.0
    checkpoint: str | None = None

    @property
    def finished(self):
        return self.reason in ("done", "early_stop")

    def to_dict(self, labels=None):
        d = {
            "reason": self.reason, "updates": self.updates, "epochs_run": self.epochs_run,
            "stop_epoch": self.stop_epoch, "best_valid_err": self.best_valid_err,
            "majority_baseline": self.majority_baseline, "train_time": self.train_time,
            "checkpoint": self.checkpoint, "history": self.history,
        }
        for name in SPLITS:
            ev = getattr(self, name)
            d[name] = None if ev is None else ev.to_dict(labels)
        return d


class _SavedView:
    """What :func:`io.save` stores: the model's config and optimizer state, chosen parameters."""

    def __init__(self, model, params):
        self._model, self._params = model, params
        self.word_dim = model.word_dim

    def config(self):
        return self._model.config()

    def get_params(self):
        return self._params

    def get_optimizer_state(self):
        return self._model.get_optimizer_state()


class ClassifierTrainer(TrainHooks, Trainer):
    """The tutorial's ``train_lstm`` loop over a :class:`~theano_rnn.models.bidir.SequenceClassifier`.

    Args:
        model: the classifier (its vocabulary and class count must fit ``data``).
        data: a :class:`ClassData`.
        options: :class:`ClassifierTrainOptions`.
        checkpoint_path: where checkpoints go (``None``: no saving).
        metadata: extra JSON-serialisable information recorded in checkpoints.
    """

    def __init__(self, model, data, options=None, *, checkpoint_path=None, metadata=None):
        self.model, self.data = model, data
        self.options = options or ClassifierTrainOptions()
        self.options.validate()
        if len(data.vocab) != model.vocab_size:
            raise ValueError(f"the vocabulary has {len(data.vocab)} tokens but the model expects "
                             f"{model.vocab_size}")
        if len(data.labels) != model.num_classes:
            raise ValueError(f"the data has {len(data.labels)} classes but the model predicts "
                             f"{model.num_classes}")
        if len(data.train) == 0 or len(data.valid) == 0:
            raise ValueError("training needs non-empty train and valid splits")
        # no exploding-loss guard here: the tutorial's loop never had one
        Trainer.__init__(self, self, learning_rate=self.options.learning_rate, eval_every=None,
                         explode_factor=None, checkpoint_path=checkpoint_path)
        self.metadata = dict(metadata or {})
        self.rng = np.random.RandomState([int(self.options.seed), 1])
        self.uidx = 0  # updates done
        self.epoch = 0  # epochs completed
        self.position = 0  # batches done in the current epoch
        self.perm = None  # the current epoch's order (None: not started)
        self.history_errs = []  # [valid_err, test_err] per validation (the tutorial's)
        self.history = []  # {"update", "epoch", "cost", "train_err", "valid_err", "test_err"}
        self.bad_counter = 0
        self.best_params = None
        self.best_update = None
        self.estop = False
        self.train_time = 0.0
        self._costs = []

    # -------------------------------------------------------------- geometry
    @property
    def n_batches(self):
        return -(-len(self.data.train) // int(self.options.batch_size))

    @property
    def valid_freq(self):
        return int(self.options.valid_freq or self.n_batches)

    @property
    def save_freq(self):
        return self.options.save_freq

    @property
    def epochs_run(self):
        return self.uidx / self.n_batches

    @property
    def stop_epoch(self):
        """1-based epoch of the last update (0 before any)."""
        return 0 if self.uidx == 0 else (self.uidx - 1) // self.n_batches + 1

    @property
    def finished(self):
        return self.estop or (self.epoch >= int(self.options.max_epochs) and self.perm is None)

    # -------------------------------------------------------------- evaluation
    def _err(self, name):
        split = self.data.split(name)
        if len(split) == 0:
            return None
        return evaluate(self.model, split.seqs, split.y, self.options.valid_batch_size).error

    def validate(self):
        """Train/valid/test errors now; appends to the histories; applies early stopping."""
        train_err = self._err("train") if self.options.eval_train else None
        valid_err, test_err = self._err("valid"), self._err("test")
        self.history_errs.append([valid_err, test_err if test_err is not None else float("nan")])
        cost = float(np.mean(self._costs)) if self._costs else None
        self._costs = []
        self.history.append({"update": self.uidx, "epoch": self.epochs_run, "cost": cost,
                             "train_err": train_err, "valid_err": valid_err, "test_err": test_err})
        new_best, self.bad_counter, stop = early_stopping_step(
            self.history_errs, self.bad_counter, int(self.options.patience),
            has_best=self.best_params is not None,
        )
        if new_best:
            self.best_params = self.model.get_params()
            self.best_update = self.uidx
        log.info(
            "epoch %.2f update %d: cost %s, train err %s, valid err %.4f, test err %s%s",
            self.epochs_run, self.uidx, "-" if cost is None else f"{cost:.4f}",
            "-" if train_err is None else f"{train_err:.4f}", valid_err,
            "-" if test_err is None else f"{test_err:.4f}", " (best)" if new_best else "",
        )
        if stop:
            log.info("Early stop at update %d (epoch %d): %d validations without improvement",
                     self.uidx, self.stop_epoch, self.bad_counter)
            self.estop = True
        return new_best

    # -------------------------------------------------------------- the loop
    def _next_batch(self):
        bs, n = int(self.options.batch_size), len(self.data.train)
        if self.perm is None:
            perm = np.arange(n)
            self.rng.shuffle(perm)  # get_minibatches_idx(n, batch_size, shuffle=True)
            self.perm, self.position = perm, 0
        return self.perm[self.position * bs:(self.position + 1) * bs]

    def run(self, max_updates=None, progress=None, should_stop=None):
        """Train until ``max_epochs``, early stopping, ``max_updates`` more updates, or a stop.

        ``progress(update, epoch, cost)`` runs after every update;
        ``should_stop()`` is polled after every update (True: save and stop,
        reason "stopped"); Ctrl-C (KeyboardInterrupt) saves the state as of
        the last finished update and ends the run (reason "interrupted").
        When training ends (max_epochs or early stop) the best parameters
        are restored and evaluated.  Returns a :class:`ClassifierResult`.
        """
        if self.finished:
            return self.finish()
        self._t0 = time.perf_counter()
        self._checkpoint = None
        self._progress = progress
        try:
            result = Trainer.run(self, max_iterations=max_updates, should_stop=should_stop)
            reason = result.reason
            if reason == "stopped":
                self._checkpoint = result.checkpoint
        except KeyboardInterrupt:
            reason = "interrupted"
            log.warning("interrupted after update %d", self.uidx)
        self.train_time += time.perf_counter() - self._t0
        reason = {"done": "early_stop" if self.estop else "done",
                  "max_iterations": "max_updates"}.get(reason, reason)
        if reason == "nan":
            return self._result(reason, self._checkpoint)
        if reason in ("early_stop", "done"):
            return self.finish()
        if reason in ("interrupted", "max_updates"):  # a stop was saved by the Trainer
            self._checkpoint = self.save()
        return self._result(reason, self._checkpoint)

    # -- hooks of the Trainer ------------------------------------------
    @property
    def uidx(self):
        """Updates done (the Trainer's iteration)."""
        return self.iteration

    @uidx.setter
    def uidx(self, value):
        self.iteration = int(value)

    def total_steps(self):
        return int(self.options.max_epochs) * self.n_batches

    def next_batch(self):
        idx = self._next_batch()
        train = self.data.train
        return seqdata.class_batch([train.seqs[i] for i in idx], train.y[idx])

    def train_step(self, batch, learning_rate):
        X, M, y = batch
        rng_before = self.rng.get_state()
        try:
            cost = self.model.train_step(X, M, y, learning_rate, rng=self.rng)
        except KeyboardInterrupt:
            self.rng.set_state(rng_before)
            raise

        def commit():
            self.position += 1
            self._costs.append(cost)

        return cost, commit

    def after_step(self, uidx, cost):
        opts = self.options
        if uidx % int(opts.disp_freq) == 0:
            log.debug("Epoch %d Update %d Cost %.6f", self.epoch, uidx, cost)
        if self._progress is not None:
            self._progress(uidx, self.epoch, cost)
        validated = False
        if uidx % self.valid_freq == 0:
            self.validate()
            validated = True
        if self.position >= self.n_batches:  # end of the epoch
            self.epoch += 1
            self.perm, self.position = None, 0
        if validated and self.save_freq is None or (
                self.save_freq is not None and uidx % self.save_freq == 0):
            self.train_time += time.perf_counter() - self._t0
            self._t0 = time.perf_counter()
            self._checkpoint = self.save()
        return "early_stop" if self.estop else None

    def finish(self):
        """Restore the best parameters, evaluate the three splits, save; the result."""
        current = self.model.get_params()
        if self.best_params is None:  # never validated (e.g. max_epochs reached first)
            self.best_params = current
            self.best_update = self.uidx
        self.model.set_params(self.best_params)
        evals = {}
        for name in SPLITS:
            split = self.data.split(name)
            evals[name] = (evaluate(self.model, split.seqs, split.y, self.options.valid_batch_size)
                           if len(split) else None)
        baseline = None
        if len(self.data.test):
            baseline = seqdata.majority_baseline(self.data.train.y.tolist(),
                                                 self.data.test.y.tolist())
        reason = "early_stop" if self.estop else "done"
        self.final = {n: (e.to_dict(self.data.labels.labels) if e else None) for n, e in evals.items()}
        self.final["majority_baseline"] = baseline
        checkpoint = self.save(current=current)
        log.info("Best parameters (update %d): train err %s, valid err %.4f, test err %s; "
                 "majority baseline accuracy %s",
                 self.best_update, _fmt(evals["train"]), evals["valid"].error, _fmt(evals["test"]),
                 "-" if baseline is None else f"{baseline:.4f}")
        return self._result(reason, checkpoint, evals, baseline)

    def _result(self, reason, checkpoint, evals=None, baseline=None):
        evals = evals or {}
        best = min((h[0] for h in self.history_errs), default=None)
        return ClassifierResult(
            reason=reason, updates=self.uidx, epochs_run=self.epochs_run,
            stop_epoch=self.stop_epoch, history=list(self.history), best_valid_err=best,
            train=evals.get("train"), valid=evals.get("valid"), test=evals.get("test"),
            majority_baseline=baseline, train_time=self.train_time, checkpoint=checkpoint,
        )

    # -------------------------------------------------------------- checkpoints
    def trainer_state(self):
        return {
            "uidx": self.uidx, "epoch": self.epoch, "position": self.position,
            "history_errs": self.history_errs, "history": self.history,
            "bad_counter": self.bad_counter, "best_update": self.best_update,
            "has_best": self.best_params is not None, "estop": self.estop,
            "train_time": self.train_time, "costs": self._costs,
            "rng_state": rng_state(self.rng),
            "has_perm": self.perm is not None,
        }

    def save(self, path=None, current=None):
        """Write a checkpoint atomically (best parameters as the model, see module docs)."""
        path = path or self.checkpoint_path
        if not path:
            return None
        current = self.model.get_params() if current is None else current
        best = self.best_params if self.best_params is not None else current
        extra = {_CURRENT + n: v for n, v in current.items()}
        extra["labels"] = self.data.labels.to_array()
        if self.perm is not None:
            extra["perm"] = np.asarray(self.perm, dtype=np.int64)
        meta = {
            "kind": KIND,
            "data": dict(self.data.options),
            "train_options": asdict(self.options),
            "trainer": self.trainer_state(),
            "options": self.metadata,
            "final": getattr(self, "final", None),
        }
        return io.save(path, _SavedView(self.model, best), index_to_word=self.data.vocab.index_to_token,
                       metadata=meta, extra=extra)

    @classmethod
    def resume(cls, path, data, *, mode=None, options=None, checkpoint_path=None, model=None):
        """Rebuild a trainer from a checkpoint of :meth:`save`; ``data`` must be the same data.

        ``options`` may replace the stored options (e.g. a larger ``max_epochs``);
        the batch size must stay the same (the epoch's position depends on it).
        ``model``: continue in this classifier (same configuration as the
        checkpoint's; its compiled functions are reused) instead of a new one.
        """
        ck = load_classifier(path, mode=mode)
        meta = ck.metadata
        if list(ck.index_to_word) != list(data.vocab.index_to_token):
            raise io.CheckpointError(f"checkpoint {path} was trained with a different vocabulary "
                                     f"({len(ck.index_to_word)} tokens) than these data "
                                     f"({len(data.vocab)})")
        if seqdata.LabelSet.from_array(ck.extra["labels"]) != data.labels:
            raise io.CheckpointError(f"checkpoint {path} was trained on other labels")
        stored = ClassifierTrainOptions(**meta.get("train_options", {}))
        if options is not None:
            if int(options.batch_size) != int(stored.batch_size):
                raise ValueError(f"batch_size {options.batch_size} differs from the checkpoint's "
                                 f"{stored.batch_size}: the run cannot continue exactly")
            stored = options
        if model is None:
            model = ck.model
        else:
            mine, theirs = model.config(), ck.model.config()
            if {k: v for k, v in mine.items() if k != "seed"} != {
                    k: v for k, v in theirs.items() if k != "seed"}:
                raise ValueError(f"the model {model!r} does not match the checkpoint {path}")
            model.set_optimizer_state(ck.model.get_optimizer_state())
        best = ck.model.get_params()
        try:
            current = OrderedDict((n, ck.extra[_CURRENT + n]) for n in model.param_names)
        except KeyError as exc:
            raise io.CheckpointError(f"checkpoint {path} has no training state ({exc})") from None
        model.set_params(current)
        tr = cls(model, data, stored, checkpoint_path=checkpoint_path or path,
                 metadata=meta.get("options"))
        st = meta["trainer"]
        tr.uidx, tr.epoch, tr.position = int(st["uidx"]), int(st["epoch"]), int(st["position"])
        tr.history_errs = [list(map(float, h)) for h in st["history_errs"]]
        tr.history = list(st["history"])
        tr.bad_counter = int(st["bad_counter"])
        tr.best_update = st["best_update"]
        tr.best_params = best if st["has_best"] else None
        tr.estop = bool(st["estop"])
        tr.train_time = float(st.get("train_time", 0.0))
        tr._costs = list(st.get("costs", []))
        tr.perm = np.asarray(ck.extra["perm"], dtype=np.int64) if st["has_perm"] else None
        if "rng_state" not in st:  # written before 2026-12-03
            rs = st["rng"]
            st["rng_state"] = mt19937_state(ck.extra["rng_keys"], rs["pos"], rs["has_gauss"],
                                            rs["cached_gaussian"])
        set_rng_state(tr.rng, st["rng_state"])
        if meta.get("final"):
            tr.final = meta["final"]
        return tr


def _fmt(ev):
    return "-" if ev is None else f"{ev.error:.4f}"


def train_classifier(model, data, options=None, *, checkpoint_path=None, metadata=None,
                     max_updates=None, progress=None, should_stop=None):
    """Train ``model`` on ``data`` with the tutorial's loop; a :class:`ClassifierResult`.

    A convenience for ``ClassifierTrainer(...).run(...)``; the model ends with
    the best parameters (when training finished).
    """
    trainer = ClassifierTrainer(model, data, options, checkpoint_path=checkpoint_path,
                                metadata=metadata)
    return trainer.run(max_updates=max_updates, progress=progress, should_stop=should_stop)
