"""Sequence-classification evaluation (error rate, per-class accuracy) and early stopping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from theano_rnn.data import seq as seqdata

__all__ = ["EvalResult", "early_stopping_step", "evaluate", "predict_proba"]

log = logging.getLogger(__name__)


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
