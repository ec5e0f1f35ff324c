"""The run record of the training commands: ``--record RUN.json`` and ``<checkpoint>.run.json``.

Every training command (``train``, ``train-char``, ``train-cloze``,
``classify train``, ``seq train``/``seq demo``) makes a :class:`RunRecorder`
at the start of its run (after claiming its output) and calls
:meth:`RunRecorder.save` at the end with its task's evaluations; the record
itself is built by :mod:`theano_rnn.training.record`.  The ``*_evaluations``
functions turn each task's loss history into the record's evaluation rows
``{"iteration": i, ...}``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from theano_rnn.cli.output import check_output
from theano_rnn.errors import CLIError
from theano_rnn.training import record as records
from theano_rnn.training.record import corpus_entry

__all__ = ["corpus_entry", "add_record_option", "run_options", "RunRecorder", "char_evaluations",
           "word_evaluations", "cloze_evaluations", "classify_evaluations", "seq_evaluations"]

log = logging.getLogger(__name__)


def add_record_option(p):
    """``--record RUN.json`` on a training command's parser; returns ``p``."""
    p.add_argument("--record", default=None, metavar="RUN.json",
                   help="also write the run record (options, corpus sha256, seeds, backend, "
                        "versions, losses, parameter checksum; always written beside the "
                        "checkpoint as <checkpoint>.run.json) to RUN.json; an existing file "
                        "is refused unless --overwrite; 'theano-rnn verify RUN.json' re-runs it")
    return p


def run_options(args, resolved=None):
    """Every option of ``args`` (a namespace) -- what a re-run passes again -- with the
    ``resolved`` values (e.g. the seed drawn, values from environment variables) where the
    flag was left out: a record's ``options``.  (The resolved settings go in ``settings``.)"""
    options = {k: v for k, v in vars(args).items() if not callable(v)}
    for key, value in (resolved or {}).items():
        if key in options and options[key] is None:
            options[key] = value
    return options


class RunRecorder:
    """The run record of one training command: made at the start of the run, saved at its end.

    The start checks ``--record`` (writable; an existing file needs
    ``--overwrite``) and hashes the ``--init-from`` checkpoint (a re-run needs
    it unchanged).  :meth:`save` writes ``<checkpoint>.run.json`` and
    ``--record`` atomically and logs where.
    """

    def __init__(self, args, command):
        self.command = list(command)
        self.path = getattr(args, "record", None)
        self.overwrite = bool(getattr(args, "overwrite", False))
        if self.path is not None:
            check_output(self.path, "--record")
            if Path(self.path).exists() and not self.overwrite:
                raise CLIError(f"--record {self.path} already exists (an earlier run's record); "
                               "pass --overwrite to replace it, or another --record", status=2)
        init_from = getattr(args, "init_from", None)
        self.init_from = None
        if init_from is not None and Path(init_from).is_file():
            self.init_from = {"path": str(init_from), "sha256": records.sha256_file(init_from)}

    def save(self, checkpoint, options, **fields):
        """Build the record (:func:`theano_rnn.training.record.build_record`) and write it."""
        extra = dict(fields.pop("extra", None) or {})
        extra["init_from"] = self.init_from
        rec = records.build_record(self.command, options, checkpoint=checkpoint, extra=extra,
                                   **fields)
        written = []
        if checkpoint is not None:
            written.append(records.write_record(rec, records.beside(checkpoint)))
        if self.path is not None:
            written.append(records.write_record(rec, self.path))
        if written:
            log.info("Run record: %s (check it with 'theano-rnn verify %s')",
                     ", ".join(written), written[-1])
        return rec



# ------------------------------------------------------------ task histories


def _kept(key):
    """Not a wall-clock figure (those differ in every run)."""
    return not any(word in key for word in ("second", "time", "per_s"))


def char_evaluations(trainer):
    """char-rnn: each validation with the training loss of its iteration."""
    train = dict(trainer.train_losses)
    rows = []
    for it, val in trainer.val_losses:
        row = {"iteration": int(it)}
        if it in train:
            row["train_loss"] = float(train[it])
        row["val_loss"] = float(val)
        rows.append(row)
    return rows


def word_evaluations(history):
    """Word level: ``[examples seen, loss]`` pairs (the tutorials' ``losses``)."""
    return [{"iteration": int(n), "train_loss": float(loss)} for n, loss in history]


def cloze_evaluations(trainer):
    """Cloze: each validation (mean log-likelihood, accuracy), then each epoch's train loss."""
    rows = [{"iteration": int(step), "epoch": float(ep), "val_mean_log_likelihood": float(ll),
             "val_accuracy": float(acc)} for step, ep, ll, acc in trainer.valid_history]
    for h in trainer.history:
        row = {"iteration": int(h["step"]), "epoch": h["epoch"]}
        row.update({k: v for k, v in h.items() if k not in ("step", "epoch") and _kept(k)})
        rows.append(row)
    return rows


def classify_evaluations(trainer):
    """Classifier: each validation (cost, train/valid/test error)."""
    return [{"iteration": int(h["update"]),
             **{k: v for k, v in h.items() if k != "update" and _kept(k)}}
            for h in trainer.history]


def seq_evaluations(history, n_train):
    """gwtaylor's MetaRNN: ``(epoch, seq, train loss, test loss)`` rows."""
    rows = []
    for epoch, idx, train, test in history:
        row = {"iteration": int((epoch - 1) * n_train + idx), "epoch": int(epoch),
               "train_loss": float(train)}
        if test is not None:
            row["test_loss"] = float(test)
        rows.append(row)
    return rows
