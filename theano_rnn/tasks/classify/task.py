r"""Sequence classification: the Theano LSTM sentiment tutorial's loop (``lstm.py``).

The model is :class:`theano_rnn.models.bidir.SequenceClassifier` (embedding, a
masked (bi)directional LSTM stack, mean pooling over the real time steps,
dropout, softmax); this module prepares labelled texts for it, trains it with
the tutorial's early stopping, evaluates and predicts.

Data
----
Labelled texts are ``(label, text)`` records: poems from chinese-poetry JSON
files (:func:`load_poem_records`: the author is the label; the ``top_k`` most
prolific poets except "不詳", or named ``authors``), or a UTF-8
``label<TAB>text`` file (:func:`load_tsv_records`).  :func:`prepare_data`
then

1. splits the records per class (:func:`theano_rnn.data.seq.stratified_split`,
   80/10/10 by default, seeded), so every class is in every split;
2. tokenizes each text into characters (default; every non-whitespace
   character) or whitespace-separated words;
3. applies the length rule of :func:`theano_rnn.data.seq.limit_length` to
   **every** split: by default a text longer than ``max_length`` (100) tokens
   keeps its **first** ``max_length`` tokens and one WARNING says how many
   were cut; ``on_long="error"`` refuses such a text instead.  (The tutorial
   *drops* training sequences longer than ``maxlen`` and keeps long test
   sequences whole; cutting keeps every poem and bounds the cost of a step.)
4. builds the vocabulary from the **training** split only (``"<unk>"`` at 0,
   tokens seen at least ``min_freq`` times); every other token reads as
   ``<unk>``.

Training (:class:`ClassifierTrainer`, :func:`train_classifier`)
----------------------------------------------------------------
Exactly the tutorial's ``train_lstm`` loop: every epoch the training set is
shuffled (``rng.shuffle(arange(n))``, the trainer's own ``RandomState``) and
cut into minibatches of ``batch_size`` (the last one smaller); one optimizer
step each (the model's ``sgd``, ``adadelta`` or ``rmsprop``; dropout masks
come from the same generator).  Every ``valid_freq`` updates (default: once
per epoch) the train, validation and test errors are computed (dropout off),
``[valid_err, test_err]`` is appended to ``history_errs`` and
:func:`early_stopping_step` applies the tutorial's rule: a validation error
``<=`` every earlier one makes the current parameters the best and resets
``bad_counter``; once more than ``patience`` validations exist, an error
``>=`` the minimum of all but the last ``patience`` ones counts as bad, and
more than ``patience`` bad ones stop training.  At the end the best
parameters are restored and the three errors reported, next to the
majority-class baseline (:func:`theano_rnn.data.seq.majority_baseline`).

Guard rails the tutorial lacked: a non-finite cost stops training before
anything is saved (the last good checkpoint is kept); checkpoints are written
atomically (:func:`theano_rnn.io.save`) at every validation (or every
``save_freq`` updates), at the end, and when the run is stopped or
interrupted.  A checkpoint's *model* parameters are the best ones so far
(what :func:`theano_rnn.io.load` and prediction use); it also carries
everything to continue the run bit for bit: the current parameters
(``extra/current/<name>``), the optimizer state, ``history_errs``,
``bad_counter``, the update count, the epoch, the position inside the epoch
and that epoch's permutation, and the generator's state.
:meth:`ClassifierTrainer.resume` continues it: ``k`` updates, a checkpoint and
a resume give the same parameters as the uninterrupted run (tested).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from theano_rnn import io
from theano_rnn.data import seq as seqdata
from theano_rnn.errors import DataError

__all__ = [
    "KIND",
    "ClassData",
    "Split",
    "EvalResult",
    "ClassifierTrainOptions",
    "ClassifierResult",
    "ClassifierTrainer",
    "load_poem_records",
    "load_tsv_records",
    "prepare_data",
    "encode_texts",
    "evaluate",
    "early_stopping_step",
    "train_classifier",
    "predict_texts",
    "load_classifier",
]

log = logging.getLogger(__name__)

#: ``metadata["kind"]`` of a classifier checkpoint
KIND = "classify"
_CURRENT = "current/"
_SPLITS = ("train", "valid", "test")


# --------------------------------------------------------------------------- data


def load_poem_records(paths, top_k=5, authors=None):
    """``(author, text)`` records of a few poets from chinese-poetry JSON files.

    ``authors`` (a list, or a comma-separated string) picks poets by name
    (the files use traditional characters: 李白, 杜甫); otherwise the
    ``top_k`` most prolific ones, never the unknown author "不詳".
    """
    if isinstance(authors, str):
        authors = [a.strip() for a in authors.split(",") if a.strip()]
    records = seqdata.read_poem_records(paths)
    return seqdata.select_poets(records, top_k=top_k, authors=authors)


def load_tsv_records(path):
    """``(label, text)`` records of a UTF-8 ``label<TAB>text`` file (blank lines skipped)."""
    return [(r.label, r.text) for r in seqdata.read_labelled_file(path, require_labels=True)]


@dataclass
class Split:
    """One split: encoded sequences (``np.int32`` arrays) and class ids."""

    seqs: list
    y: np.ndarray

    def __len__(self):
        return len(self.seqs)


@dataclass
class ClassData:
    """Prepared data: vocabulary, labels, the three splits and how they were made."""

    vocab: seqdata.Vocab
    labels: seqdata.LabelSet
    train: Split
    valid: Split
    test: Split
    options: dict = field(default_factory=dict)

    def split(self, name):
        return getattr(self, name)

    def summary(self):
        return ", ".join(f"{n} {len(self.split(n))}" for n in _SPLITS)


def prepare_data(records, *, tokens="char", max_length=100, on_long="truncate", min_freq=1,
                 fractions=(0.8, 0.1, 0.1), seed=1234):
    """Split, tokenize, cut to length and encode ``(label, text)`` records (see module docs).

    The split is drawn from ``np.random.default_rng(seed)``.  Raises
    :class:`~theano_rnn.data.words.DataError` (one line) for too few records or
    classes, a too-long text with ``on_long="error"``, ...
    """
    records = list(records)
    if not records:
        raise DataError("no labelled texts")
    labels = [lab for lab, _ in records]
    labelset = seqdata.LabelSet(labels)
    if len(labelset) < 2:
        raise DataError(f"a classifier needs at least 2 labels; the data has only {labelset.labels[0]!r}")
    parts = seqdata.stratified_split(labels, fractions, rng=np.random.default_rng(seed))
    order = np.concatenate(parts)
    toks = [seqdata.tokenize_for_classes(records[i][1], tokens) for i in order]
    toks = seqdata.limit_length(toks, max_length, on_long)
    n_train = len(parts[0])
    vocab = seqdata.build_vocab(toks[:n_train], min_freq=min_freq)
    encoded = [vocab.encode(t) for t in toks]
    y = labelset.encode([labels[i] for i in order])
    splits, start = [], 0
    for p in parts:
        splits.append(Split(encoded[start:start + len(p)], y[start:start + len(p)]))
        start += len(p)
    options = dict(tokens=tokens, max_length=int(max_length), on_long=on_long,
                   min_freq=int(min_freq), fractions=[float(f) for f in fractions], seed=int(seed))
    return ClassData(vocab, labelset, *splits, options=options)


def encode_texts(texts, vocab, tokens="char", max_length=100, on_long="truncate"):
    """Encode texts like the training data: ``(list of np.int32 arrays, unknown-token count)``."""
    toks = [seqdata.tokenize_for_classes(t, tokens) for t in texts]
    for i, t in enumerate(toks):
        if not t:
            raise DataError(f"text {i} has no tokens")
    toks = seqdata.limit_length(toks, max_length, on_long)
    unknown = sum(sum(tok not in vocab for tok in t) for t in toks)
    return [vocab.encode(t) for t in toks], unknown


# --------------------------------------------------------------------- evaluation


@dataclass
class EvalResult:
    """Accuracy of a classifier on a split; ``confusion[true, predicted]`` counts."""

    accuracy: float
    error: float
    n: int
    confusion: np.ndarray

    @property
    def per_class_total(self):
        return self.confusion.sum(axis=1)

    @property
    def per_class_correct(self):
        return np.diag(self.confusion).copy()

    @property
    def per_class_accuracy(self):
        tot = self.per_class_total
        return np.where(tot > 0, self.per_class_correct / np.maximum(tot, 1), np.nan)

    def to_dict(self, labels=None):
        names = list(labels) if labels is not None else [str(i) for i in range(len(self.confusion))]
        return {
            "accuracy": self.accuracy, "error": self.error, "n": self.n,
            "per_class": {
                name: {"correct": int(c), "total": int(t)}
                for name, c, t in zip(names, self.per_class_correct, self.per_class_total)
            },
            "confusion": self.confusion.tolist(),
        }


def _batches(n, batch_size):
    return [np.arange(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def predict_proba(model, seqs, batch_size=64):
    """Class probabilities ``(N, K)`` of encoded sequences, in batches of ``batch_size``."""
    seqs = list(seqs)
    if not seqs:
        return np.zeros((0, model.num_classes))
    out = []
    for idx in _batches(len(seqs), int(batch_size)):
        X, M, _ = seqdata.class_batch([seqs[i] for i in idx], np.zeros(len(idx), dtype=np.int32))
        out.append(model.predict_proba(X, M))
    return np.concatenate(out, axis=0)


def evaluate(model, seqs, labels, batch_size=64):
    """Accuracy, error and confusion matrix of ``model`` on encoded sequences.

    Batches of ``batch_size`` in the given order (the tutorial's
    ``pred_error``); dropout is off (its evaluation scaling).  The result
    does not depend on the batch size: padding is masked exactly.
    """
    y = np.asarray(labels, dtype=np.int64)
    if len(y) != len(seqs):
        raise ValueError(f"{len(seqs)} sequences but {len(y)} labels")
    if len(y) == 0:
        raise ValueError("cannot evaluate on an empty split")
    pred = predict_proba(model, seqs, batch_size).argmax(axis=1)
    K = model.num_classes
    confusion = np.zeros((K, K), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    acc = float(np.trace(confusion)) / len(y)
    return EvalResult(accuracy=acc, error=1.0 - acc, n=int(len(y)), confusion=confusion)


# ----------------------------------------------------------------- early stopping


def early_stopping_step(history_errs, bad_counter, patience, has_best=True):
    """The tutorial's early-stopping rule after ``history_errs.append([valid, test])``.

    Returns ``(new_best, bad_counter, stop)``::

        if best_p is None or valid_err <= array(history_errs)[:, 0].min():
            best_p = params; bad_counter = 0
        if len(history_errs) > patience and valid_err >= array(history_errs)[:-patience, 0].min():
            bad_counter += 1
            if bad_counter > patience: stop

    ``has_best`` is ``best_p is not None``.
    """
    if int(patience) < 1:
        raise ValueError(f"patience must be >= 1, got {patience}")
    errs = np.asarray(history_errs, dtype=float)
    if errs.ndim != 2 or not len(errs):
        raise ValueError("history_errs must be a non-empty list of [valid_err, test_err]")
    valid_err = errs[-1, 0]
    new_best = (not has_best) or bool(valid_err <= errs[:, 0].min())
    if new_best:
        bad_counter = 0
    stop = False
    if len(errs) > patience and valid_err >= errs[:-patience, 0].min():
        bad_counter += 1
        if bad_counter > patience:
            stop = True
    return new_best, int(bad_counter), stop


# ----------------------------------------------------------------------- training


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
        for name in _SPLITS:
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


class ClassifierTrainer:
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
        self.checkpoint_path = str(checkpoint_path) if checkpoint_path else None
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
        opts = self.options
        stop_at = None if max_updates is None else self.uidx + int(max_updates)
        reason = None
        checkpoint = None
        t0 = time.perf_counter()
        train = self.data.train
        try:
            while reason is None:
                if self.finished:
                    reason = "early_stop" if self.estop else "done"
                    break
                if stop_at is not None and self.uidx >= stop_at:
                    reason = "max_updates"
                    break
                idx = self._next_batch()
                rng_before = self.rng.get_state()
                try:
                    X, M, y = seqdata.class_batch([train.seqs[i] for i in idx], train.y[idx])
                    cost = self.model.train_step(X, M, y, opts.learning_rate, rng=self.rng)
                except KeyboardInterrupt:
                    self.rng.set_state(rng_before)
                    raise
                if not math.isfinite(cost):
                    log.error("bad cost detected: %s at update %d; stopping (the last good "
                              "checkpoint is kept)", cost, self.uidx + 1)
                    reason = "nan"
                    break
                self.uidx += 1
                self.position += 1
                self._costs.append(cost)
                if self.uidx % int(opts.disp_freq) == 0:
                    log.debug("Epoch %d Update %d Cost %.6f", self.epoch, self.uidx, cost)
                if progress is not None:
                    progress(self.uidx, self.epoch, cost)
                validated = False
                if self.uidx % self.valid_freq == 0:
                    self.validate()
                    validated = True
                if self.position >= self.n_batches:  # end of the epoch
                    self.epoch += 1
                    self.perm, self.position = None, 0
                if validated and self.save_freq is None or (
                        self.save_freq is not None and self.uidx % self.save_freq == 0):
                    self.train_time += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    checkpoint = self.save()
                if should_stop is not None and should_stop():
                    reason = "stopped"
        except KeyboardInterrupt:
            reason = "interrupted"
            log.warning("interrupted after update %d", self.uidx)
        self.train_time += time.perf_counter() - t0
        if reason == "nan":
            return self._result(reason, checkpoint)
        if reason in ("early_stop", "done"):
            return self.finish()
        checkpoint = self.save()
        return self._result(reason, checkpoint)

    def finish(self):
        """Restore the best parameters, evaluate the three splits, save; the result."""
        current = self.model.get_params()
        if self.best_params is None:  # never validated (e.g. max_epochs reached first)
            self.best_params = current
            self.best_update = self.uidx
        self.model.set_params(self.best_params)
        evals = {}
        for name in _SPLITS:
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
        state = self.rng.get_state()
        return {
            "uidx": self.uidx, "epoch": self.epoch, "position": self.position,
            "history_errs": self.history_errs, "history": self.history,
            "bad_counter": self.bad_counter, "best_update": self.best_update,
            "has_best": self.best_params is not None, "estop": self.estop,
            "train_time": self.train_time, "costs": self._costs,
            "rng": {"pos": int(state[2]), "has_gauss": int(state[3]),
                    "cached_gaussian": float(state[4])},
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
        extra["rng_keys"] = self.rng.get_state()[1]
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
        rs = st["rng"]
        tr.rng.set_state(("MT19937", np.asarray(ck.extra["rng_keys"], dtype=np.uint32),
                          rs["pos"], rs["has_gauss"], rs["cached_gaussian"]))
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


# ---------------------------------------------------------------------- prediction


def load_classifier(path, mode=None):
    """:func:`io.load` of a classifier checkpoint, refusing any other kind (one-line errors)."""
    if not Path(path).is_file():
        raise io.CheckpointError(f"no such checkpoint: {path}")
    meta = io.read_metadata(path)
    md = meta.get("metadata") if isinstance(meta, dict) else None
    model_cfg = meta.get("model") if isinstance(meta, dict) else None
    if (not isinstance(md, dict) or md.get("kind") != KIND or not isinstance(model_cfg, dict)
            or model_cfg.get("class") != "SequenceClassifier"):
        raise io.CheckpointError(f"{path} is not a sequence-classifier checkpoint (written by "
                                 "'theano-rnn classify train')")
    ck = io.load(path, mode=mode)
    if ck.index_to_word is None or "labels" not in ck.extra:
        raise io.CheckpointError(f"checkpoint {path} stores no vocabulary or labels")
    return ck


def predict_texts(model, vocab, labels, texts, *, tokens="char", max_length=100,
                  on_long="truncate", batch_size=64):
    """Class probabilities ``(N, K)`` of raw texts, encoded like the training data."""
    seqs, unknown = encode_texts(texts, vocab, tokens, max_length, on_long)
    if unknown:
        log.info("%d token(s) not in the vocabulary were read as %s", unknown, seqdata.UNK)
    return predict_proba(model, seqs, batch_size)
