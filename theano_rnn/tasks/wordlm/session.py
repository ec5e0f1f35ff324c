"""One word-level training run of ``theano-rnn train``: the tutorials' loops plus what keeps work.

:class:`WordRun` drives the tutorials' literal loops
(:func:`~theano_rnn.training.tutorial.train_with_sgd`,
:func:`~theano_rnn.training.tutorial.train_part4`) or
:func:`~theano_rnn.tasks.wordlm.minibatch.train_minibatches` unchanged -- an
uninterrupted run computes exactly what they compute -- and adds, through
their callbacks:

* checkpoints at every loss evaluation and at the end, with the loss
  history, the counters and the shuffle generator's state
  (:func:`~theano_rnn.training.trainer.rng_state`), so that ``--init-from``
  continues the same random stream instead of reseeding;
* a stop request (Ctrl-C) honoured after the step it came in: the loop is
  left through :class:`Interrupted`, raised from the progress callback, and a
  checkpoint is saved;
* a full disk (ENOSPC, EFBIG) is a one-line
  :class:`~theano_rnn.errors.CheckpointError` that names the last good
  checkpoint (the writes are atomic, so it survives).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from theano_rnn import __version__, io
from theano_rnn.data import corpora
from theano_rnn.errors import CheckpointError, NonFiniteLossError
from theano_rnn.tasks.wordlm.minibatch import train_minibatches
from theano_rnn.training.trainer import rng_state
from theano_rnn.training.tutorial import train_part4, train_with_sgd

__all__ = ["Interrupted", "OTHER_TASKS", "PART4_LOSS_SENTENCES", "WordRun", "check_word_checkpoint",
           "mean_loss", "run_loop"]

log = logging.getLogger(__name__)

PART4_LOSS_SENTENCES = 10000  # train.py: loss on x_train[:10000] at every callback

#: checkpoints of the other tasks: what they hold and the command that continues them
OTHER_TASKS = {
    "CharRNN": ("a char-rnn model", "theano-rnn train-char --init-from"),
    "ClozeModel": ("a cloze model", "theano-rnn train-cloze"),
    "SequenceClassifier": ("a sequence classifier", "theano-rnn classify train"),
}


class Interrupted(Exception):
    """Raised from the progress callback after the step during which a stop was requested."""


def check_word_checkpoint(path):
    """A one-line :class:`CheckpointError` when ``path`` holds another task's model."""
    meta = io.read_metadata(path)
    model = meta.get("model") if isinstance(meta, dict) else None
    cls = model.get("class") if isinstance(model, dict) else None
    if cls in OTHER_TASKS:
        what, command = OTHER_TASKS[cls]
        raise CheckpointError(f"{path} holds {what} ({cls}), not a word-level language model; "
                              f"continue it with '{command}'")


def mean_loss(model, X, Y, what):
    loss = float(model.calculate_loss(X, Y))
    if not math.isfinite(loss):
        raise NonFiniteLossError(f"non-finite training loss {loss} ({what})", loss=loss)
    return loss


def run_loop(s, model, X, Y, rng, progress, on_eval, on_examples):
    """The training loop the settings ``s`` ask for (minibatches, part 2 or part 4)."""
    if s["batch_size"] > 1:
        every = (s["print_every"] or len(X)) if s["scheme"] == "part4" else (
            s["evaluate_loss_after"] * len(X))
        stats = train_minibatches(
            model, X, Y, batch_size=s["batch_size"], learning_rate=s["learning_rate"],
            nepoch=s["nepoch"], decay=s["decay"], rng=rng, sort_window=20,
            callback=on_examples, callback_every=every, progress=progress,
        )
        log.info("Trained %d tokens in %.1f s: %.0f tokens/s (%.0f%% padding)",
                 stats.tokens, stats.seconds, stats.tokens_per_s,
                 100 * stats.padding_fraction)
    elif s["scheme"] == "part2":
        train_with_sgd(
            model, X, Y, learning_rate=s["learning_rate"], nepoch=s["nepoch"],
            evaluate_loss_after=s["evaluate_loss_after"], callback=on_eval,
            progress=progress, decay=s["decay"],
        )
    else:
        train_part4(
            model, X, Y, learning_rate=s["learning_rate"], nepoch=s["nepoch"],
            decay=s["decay"] if s["decay"] is not None else 0.9,
            callback_every=s["print_every"] or len(X), callback=on_examples, rng=rng,
            progress=progress,
        )


class WordRun:
    """One run over ``X``/``Y`` with the settings ``s`` (see the module docstring).

    ``previous`` is the metadata of the checkpoint resumed from (``{}``: none);
    ``should_stop()`` is polled after every step; ``show(done, total, loss)``
    (or ``None``) draws the progress.
    """

    def __init__(self, s, model, X, Y, index_to_word, output, rng, previous=None, *,
                 should_stop=None, show=None):
        self.s, self.model, self.X, self.Y = s, model, X, Y
        self.index_to_word, self.output, self.rng = index_to_word, output, rng
        previous = previous or {}
        self.seen_before = int(previous.get("num_examples_seen", 0) or 0)
        self.history = [list(p) for p in previous.get("losses", [])]
        self.options = {k: v for k, v in s.items() if k != "sources"}
        self.learning_rate, self.epoch, self.loss, self.saved = s["learning_rate"], 0, None, None
        self.should_stop, self.show = should_stop, show
        self.total = s["nepoch"] * len(X)
        self.eval_n = min(len(X), PART4_LOSS_SENTENCES)

    def save(self, num_examples_seen, loss, final=False, interrupted=False):
        s = self.s
        seen = self.seen_before + num_examples_seen
        metadata = {
            "options": self.options,
            "option_sources": s["sources"],
            "corpus": corpora.DEFAULT_CORPUS_NAME if s["corpus"] is None else str(s["corpus"]),
            "num_train_sentences": len(self.X),
            "losses": self.history,
            "num_examples_seen": seen,
            "learning_rate": self.learning_rate,
            "epoch": self.epoch,
            "loss": loss,
            "final": final,
            "interrupted": interrupted,
            "rng_state": rng_state(self.rng),
            "resumed_from": s["init_from"],
            "saved_at": datetime.now().isoformat(timespec="seconds"),
            "theano_rnn_version": __version__,
        }
        try:
            io.save(self.output, self.model, index_to_word=self.index_to_word, metadata=metadata)
        except OSError as exc:  # a full disk (ENOSPC, EFBIG) or a vanished directory
            kept = (f"the last good checkpoint {self.output} ({self.saved} examples) is kept"
                    if self.saved is not None else "nothing was saved")
            raise CheckpointError(f"cannot write checkpoint {self.output}: "
                                  f"{exc.strerror or exc}; {kept}") from None
        self.saved = seen
        log.info("Saved %s (loss %s after %d examples)", self.output,
                 "-" if loss is None else f"{loss:.6f}", seen)

    # -- the loops' callbacks ----------------------------------------------
    def progress(self, done, total):  # after every step
        if self.show is not None:
            self.show(done, total, self.loss)
        if self.should_stop is not None and self.should_stop():
            raise Interrupted(done)

    def on_eval(self, m, info):  # part 2: after each loss evaluation
        self.learning_rate, self.epoch = info.learning_rate, info.epoch
        if not (self.history and self.history[-1][0] == self.seen_before + info.num_examples_seen):
            self.history.append([self.seen_before + info.num_examples_seen, info.loss])
        self.loss = info.loss
        if info.num_examples_seen > 0:  # the untrained model is not worth a file
            self.save(info.num_examples_seen, info.loss)

    def on_examples(self, m, num_examples_seen):  # part 4: every print_every examples
        loss = mean_loss(m, self.X[:self.eval_n], self.Y[:self.eval_n],
                         f"after {num_examples_seen} examples")
        self.epoch = num_examples_seen // len(self.X)
        self.history.append([self.seen_before + num_examples_seen, loss])
        log.info("Loss after num_examples_seen=%d: %f", num_examples_seen, loss)
        self.loss = loss
        self.save(num_examples_seen, loss)

    # -- the run -------------------------------------------------------------
    def run(self):
        """Train; returns ``None`` when done, else the examples seen when stopped (saved)."""
        try:
            run_loop(self.s, self.model, self.X, self.Y, self.rng, self.progress, self.on_eval,
                     self.on_examples)
        except Interrupted as exc:
            seen = int(exc.args[0])
            self.epoch = seen // len(self.X)
            self.save(seen, self.loss, interrupted=True)
            return self.seen_before + seen
        return None

    def finish(self):
        """Evaluate the final model (unless the last callback did), save it; returns the loss."""
        s, X, Y, total = self.s, self.X, self.Y, self.total
        self.epoch = s["nepoch"]
        if self.history and self.history[-1][0] == self.seen_before + total and total:
            loss = self.history[-1][1]  # the last callback evaluated the final model already
        else:
            part4 = s["scheme"] == "part4"
            loss = mean_loss(self.model, X[:self.eval_n] if part4 else X,
                             Y[:self.eval_n] if part4 else Y, "after training")
            self.history.append([self.seen_before + total, loss])
        self.save(total, loss, final=True)
        return loss
