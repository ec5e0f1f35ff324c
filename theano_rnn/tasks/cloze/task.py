r"""The "fill in the blank" (cloze) task: data, training loop, evaluation, prediction.

WildML part 1 motivates bidirectional RNNs with exactly this task: to predict
a missing word you want to look at both the left and the right context.
A :class:`~theano_rnn.models.bidir.ClozeModel` reads a sentence in which one word is
replaced by the ``<blank>`` token and predicts that word from the top layer's
state at the blank -- with ``directions=2`` that state has read the whole
sentence, with ``directions=1`` (the baseline) only the words to the left.

Data (:func:`load_cloze_data`, :func:`prepare_cloze_data`)
    sentences of a corpus (:func:`theano_rnn.data.seq.load_cloze_sentences`:
    a reddit ``.csv`` or a plain text such as tiny Shakespeare; with no
    corpus the embedded English text of
    :func:`theano_rnn.data.corpora.default_corpus_documents`, so everything works
    offline) -> a seeded train/valid/test split of the sentences (80/10/10)
    -> a vocabulary built from the **training** sentences only
    (:func:`~theano_rnn.data.seq.build_cloze_vocab`: ``<blank>``, ``<unk>``,
    the most frequent words), so no held-out word leaks into it -> encoded
    sentences, dropping those with no word that can be blanked.  Valid and
    test get one blank per sentence drawn once (:func:`~theano_rnn.data.seq.fixed_blanks`),
    so every evaluation asks the same questions; training sentences get
    fresh random blanks every epoch.

Evaluation (:func:`evaluate_cloze`)
    top-1 and top-5 accuracy, the mean log-likelihood of the missing word
    (nats, under the model's full softmax) and its perplexity
    ``exp(-mean log-likelihood)``.  The ranking used by the accuracies never
    counts ``<blank>`` and ``<unk>``: neither can be the answer (blanks are
    only drawn on in-vocabulary words), so a model is not penalised for
    putting probability there.  Sentences are evaluated in length-sorted
    batches (less padding); the results do not depend on the batching.

Training (:class:`ClozeTrainer`, :func:`train_cloze`)
    epochs of shuffled minibatches with the model's optimizer (Adam by
    default, learning rate 1e-2: measured on tiny Shakespeare with a 1 x 64
    biLSTM and a 4000-word vocabulary, the validation log-likelihood after 3
    epochs was -6.03 at 2e-3, -5.65 at 5e-3 and -5.47 at 1e-2, and 1e-2 kept
    improving for 10 epochs without instability), validation after every epoch (and
    optionally every N batches), a best-by-validation checkpoint (the highest
    validation mean log-likelihood) and periodic and end-of-epoch
    checkpoints written atomically.  A checkpoint holds everything needed to
    continue *exactly*: parameters, optimizer state, the trainer's RNG state,
    the epoch, the batch index inside the epoch with the epoch's order and
    blank positions, the running loss sums and the history.  A run stopped
    (``should_stop``, Ctrl-C in the CLI) and resumed with
    :meth:`ClozeTrainer.resume` produces bit-identical parameters to an
    uninterrupted run.  A non-finite loss or non-finite parameters stop the
    run *before* anything is saved, so the last good checkpoint survives.

    Batches: each epoch shuffles the training sentences with the trainer's
    ``np.random.RandomState(seed)``, then (``bucket=True``, the default)
    sorts each chunk of 20 batches by length and shuffles the order of the
    resulting batches -- the usual bucketing trick, which cuts the padding
    (and the time) by about half while keeping the batches random.

Prediction (:func:`predict_blank`)
    the ``top_k`` most probable words for the ``___`` in a sentence, with
    their probabilities under the model (so they sum to at most 1);
    ``<blank>`` and ``<unk>`` are never proposed (``<unk>`` is not a word).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theano_rnn import io
from theano_rnn.data import corpora
from theano_rnn.data import words as data
from theano_rnn.data import seq as seqdata
from theano_rnn.errors import DataError
from theano_rnn.errors import TrainingError

__all__ = [
    "ClozeData",
    "ClozeEval",
    "ClozeTrainOptions",
    "ClozeTrainResult",
    "ClozeTrainer",
    "DEFAULT_CORPUS_NAME",
    "load_cloze_data",
    "prepare_cloze_data",
    "sentences_from_documents",
    "evaluate_cloze",
    "unigram_baseline",
    "train_cloze",
    "predict_blank",
    "load_cloze_checkpoint",
    "is_cloze_checkpoint",
    "best_checkpoint_path",
]

log = logging.getLogger(__name__)

KIND = "cloze"
DEFAULT_CORPUS_NAME = (
    "embedded English text (Python's pydoc topics, corpora.default_corpus_documents)"
)
_BUCKET_BATCHES = 20


# ----------------------------------------------------------------------------- data


@dataclass
class ClozeData:
    """Encoded cloze sentences of the three splits plus the vocabulary.

    ``train``/``valid``/``test`` are lists of ``np.int32`` id arrays;
    ``valid_positions``/``test_positions`` their fixed blank positions.
    ``options`` records how the data was made (JSON-serialisable).
    """

    vocab: seqdata.Vocab
    train: list
    valid: list
    test: list
    valid_positions: np.ndarray
    test_positions: np.ndarray
    options: dict = field(default_factory=dict)

    def summary(self):
        return (f"{len(self.train)} train / {len(self.valid)} valid / {len(self.test)} test "
                f"sentences, vocabulary of {len(self.vocab)} (with <blank> and <unk>)")


def sentences_from_documents(documents, *, lowercase=True, nltk_data=None, sentence_tokenizer=None,
                             min_length=4, max_length=40):
    """Tokenized sentences of in-memory documents (the embedded default corpus).

    The same pipeline as :func:`theano_rnn.data.seq.load_cloze_sentences` for a
    file: Punkt sentences (the installed model, else one trained on the
    text), Treebank words, lower-cased; sentences outside ``[min_length,
    max_length]`` tokens are dropped.
    """
    documents = [d for d in documents if d and d.strip()]
    if not documents:
        raise DataError("no documents to read sentences from")
    if sentence_tokenizer is None:
        train_text = "\n\n".join(d.lower() if lowercase else d for d in documents)
        sentence_tokenizer = data.get_sentence_tokenizer("english", nltk_data,
                                                         train_text=train_text)
    kept, short, long_ = [], 0, 0
    for sentence in data.split_sentences(documents, sentence_tokenizer, lowercase=lowercase):
        tokens = data.word_tokenize(sentence)
        if len(tokens) < min_length:
            short += 1
        elif len(tokens) > max_length:
            long_ += 1
        else:
            kept.append(tokens)
    log.info("%d sentences kept (%d shorter than %d tokens and %d longer than %d dropped)",
             len(kept), short, min_length, long_, max_length)
    if not kept:
        raise DataError(f"no sentence of {min_length} to {max_length} tokens in the documents")
    return kept


def prepare_cloze_data(sentences, *, vocabulary_size=4000, seed=1234, fractions=(0.8, 0.1, 0.1),
                       options=None):
    """Split tokenized sentences, build the vocabulary from the train split, encode, fix blanks.

    Everything random comes from ``np.random.RandomState(seed)``: first the
    split permutation, then the valid blanks, then the test blanks.
    """
    rng = np.random.RandomState(seed)
    sentences = list(sentences)
    tr, va, te = seqdata.split_indices(len(sentences), fractions, rng=rng)
    vocab = seqdata.build_cloze_vocab([sentences[i] for i in tr], vocabulary_size)
    splits = {}
    for name, idx in (("train", tr), ("valid", va), ("test", te)):
        encoded, _ = seqdata.encode_cloze([sentences[i] for i in idx], vocab)
        if not encoded:
            raise DataError(f"the {name} split has no sentence with a word to blank "
                            f"({len(idx)} sentences): use a larger corpus")
        splits[name] = encoded
    valid_pos = seqdata.fixed_blanks(splits["valid"], vocab, rng)
    test_pos = seqdata.fixed_blanks(splits["test"], vocab, rng)
    opts = dict(options or {})
    opts.update(vocabulary_size=int(vocabulary_size), data_seed=int(seed),
                fractions=[float(f) for f in fractions], num_sentences=len(sentences))
    out = ClozeData(vocab, splits["train"], splits["valid"], splits["test"], valid_pos, test_pos,
                    opts)
    log.info("Cloze data: %s", out.summary())
    return out


def load_cloze_data(corpus=None, *, column="body", vocabulary_size=4000, min_length=4,
                    max_length=40, nltk_data=None, seed=1234, fractions=(0.8, 0.1, 0.1),
                    max_sentences=None):
    """:func:`prepare_cloze_data` on a corpus file, or on the embedded English text.

    ``max_sentences`` keeps only the first N sentences (quick runs, tests).
    """
    if corpus is None:
        sentences = sentences_from_documents(corpora.default_corpus_documents(),
                                             nltk_data=nltk_data, min_length=min_length,
                                             max_length=max_length)
        source = None
    else:
        sentences = seqdata.load_cloze_sentences(corpus, column=column, nltk_data=nltk_data,
                                                 min_length=min_length, max_length=max_length)
        source = str(corpus)
    if max_sentences is not None:
        sentences = sentences[: int(max_sentences)]
    options = dict(corpus=source, column=column, min_length=int(min_length),
                   max_length=int(max_length), max_sentences=max_sentences,
                   nltk_data=None if nltk_data is None else str(nltk_data))
    return prepare_cloze_data(sentences, vocabulary_size=vocabulary_size, seed=seed,
                              fractions=fractions, options=options)


# ----------------------------------------------------------------------- evaluation


@dataclass
class ClozeEval:
    """Held-out cloze results: accuracies, mean log-likelihood (nats), perplexity, n."""

    accuracy: float
    top5: float
    mean_log_likelihood: float
    perplexity: float
    n: int

    def as_dict(self):
        return {"accuracy": self.accuracy, "top5": self.top5,
                "mean_log_likelihood": self.mean_log_likelihood,
                "perplexity": self.perplexity, "n": self.n}

    def __str__(self):
        return (f"accuracy {self.accuracy:.4f}, top-5 {self.top5:.4f}, mean log-likelihood "
                f"{self.mean_log_likelihood:.4f} nats, perplexity {self.perplexity:.1f} "
                f"(n={self.n})")


def _excluded(vocab_size, blank_index=0, unk_index=1):
    mask = np.zeros(vocab_size, dtype=bool)
    for i in (blank_index, unk_index):
        if i is not None and 0 <= i < vocab_size:
            mask[i] = True
    return mask


def _length_sorted_batches(sentences, batch_size):
    order = np.argsort([len(s) for s in sentences], kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def evaluate_cloze(model, sentences, positions, batch_size=64, *, blank_index=0, unk_index=1):
    """Evaluate ``model`` on encoded ``sentences`` with the given blank ``positions``.

    Returns a :class:`ClozeEval`.  A prediction is correct at ``k`` when
    fewer than ``k`` words that could be an answer (anything but
    ``<blank>``/``<unk>``) have a strictly higher probability than the
    answer (ties count in the answer's favour); this rank does not depend on
    the batching.  The log-likelihood is the model's full softmax.
    """
    sentences = list(sentences)
    positions = np.asarray(positions)
    if not sentences:
        raise DataError("nothing to evaluate: no sentences")
    if len(positions) != len(sentences):
        raise DataError(f"{len(positions)} blank positions for {len(sentences)} sentences")
    if int(batch_size) < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    excluded = _excluded(model.vocab_size, blank_index, unk_index)
    total_ll, hit1, hit5 = 0.0, 0, 0
    lls = np.empty(len(sentences))
    for idx in _length_sorted_batches(sentences, int(batch_size)):
        X, M, pos, y = seqdata.cloze_batch([sentences[i] for i in idx], positions[idx], blank_index)
        logp = model.log_probs(X, M, pos)
        target = logp[np.arange(len(y)), y]
        lls[idx] = target
        better = (logp > target[:, None]) & ~excluded[None, :]
        rank = better.sum(axis=1)
        hit1 += int((rank < 1).sum())
        hit5 += int((rank < 5).sum())
    n = len(sentences)
    total_ll = float(np.sum(lls))  # summed in sentence order: independent of the batching
    mean_ll = total_ll / n
    return ClozeEval(hit1 / n, hit5 / n, mean_ll, math.exp(min(-mean_ll, 700.0)), n)


def unigram_baseline(cloze_data):
    """Always predict the training set's most frequent blankable words (a context-free model).

    The "model" is the frequency of each word among the *blankable*
    positions of the training sentences -- exactly the distribution of the
    answers when blanks are drawn uniformly over those positions, so it is
    the best predictor that ignores the context.  Returns ``(ClozeEval on
    the test split, the most frequent word)``.
    """
    vocab = cloze_data.vocab
    counts = Counter()
    for ids in cloze_data.train:
        counts.update(ids[seqdata.blank_candidates(ids, vocab)].tolist())
    freq = np.zeros(len(vocab))
    for i, c in counts.items():
        freq[i] = c
    prob = freq / freq.sum()
    ranked = np.argsort(-freq, kind="stable")
    top1, top5 = ranked[0], set(ranked[:5].tolist())
    answers = np.array([s[p] for s, p in zip(cloze_data.test, cloze_data.test_positions)])
    with np.errstate(divide="ignore"):
        ll = np.log(prob[answers])
    n = len(answers)
    mean_ll = float(ll.mean())
    ev = ClozeEval(float(np.mean(answers == top1)), float(np.mean([a in top5 for a in answers])),
                   mean_ll, math.exp(min(-mean_ll, 700.0)), n)
    return ev, vocab.index_to_token[int(top1)]


# ------------------------------------------------------------------------ training


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


def best_checkpoint_path(path):
    """Where the best-validation checkpoint of ``path`` goes: ``<stem>_best.npz`` beside it."""
    p = Path(path)
    return str(p.with_name(p.stem + "_best" + (p.suffix or ".npz")))


class ClozeTrainer:
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
        self.checkpoint_path = str(checkpoint_path) if checkpoint_path else None
        if best_path is None and checkpoint_path:
            best_path = best_checkpoint_path(checkpoint_path)
        self.best_path = str(best_path) if best_path else None
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
        opts = self.options
        nb = self.num_batches
        total = int(opts.epochs) * nb
        checkpoint = None
        reason = "done"
        start = time.perf_counter()
        while self.epoch < int(opts.epochs):
            if self.order is None:
                self.order, self.positions = self._new_epoch()
                self.batch, self.loss_sum, self.loss_count = 0, 0.0, 0
            while self.batch < nb:
                X, M, pos, y = self._batch(self.batch)
                loss = self.model.train_step(X, M, pos, y, opts.learning_rate)
                if not math.isfinite(loss):
                    log.error("loss is %s at step %d (epoch %d, batch %d): stopping; the last "
                              "good checkpoint is kept", loss, self.step + 1, self.epoch + 1,
                              self.batch + 1)
                    reason = "nan"
                    break
                self.batch += 1
                self.step += 1
                self.loss_sum += loss * len(y)
                self.loss_count += len(y)
                if progress is not None:
                    progress(self.epoch * nb + self.batch, total, loss)
                last = self.batch == nb
                if not last and opts.valid_every and self.step % int(opts.valid_every) == 0:
                    if not self._params_finite():
                        reason = "nan"
                        break
                    _, improved = self._validate()
                    if improved and self.best_path:
                        self.save(self.best_path)
                every = opts.checkpoint_every
                if not last and every and self.step % int(every) == 0:
                    if not self._params_finite():
                        reason = "nan"
                        break
                    checkpoint = self.save()
                if should_stop is not None and should_stop():
                    if not self._params_finite():
                        reason = "nan"
                        break
                    reason = "stopped"
                    checkpoint = self.save()
                    log.info("stopped at step %d (epoch %d, batch %d of %d); checkpoint %s",
                             self.step, self.epoch + 1, self.batch, nb, checkpoint)
                    break
            if reason != "done":
                break
            if not self._params_finite():
                log.error("parameters are not finite after epoch %d: stopping; the last good "
                          "checkpoint is kept", self.epoch + 1)
                reason = "nan"
                break
            # end of the epoch
            train_loss = self.loss_sum / max(self.loss_count, 1)
            self.epoch += 1
            self.batch, self.order, self.positions = 0, None, None
            ev, improved = self._validate()
            self.history.append({"epoch": self.epoch, "step": self.step, "train_loss": train_loss,
                                 "valid": ev.as_dict(),
                                 "seconds": time.perf_counter() - start})
            log.info("epoch %d/%d: train loss %.4f; valid accuracy %.4f, mean log-likelihood %.4f",
                     self.epoch, opts.epochs, train_loss, ev.accuracy, ev.mean_log_likelihood)
            if improved and self.best_path:
                self.save(self.best_path)
            checkpoint = self.save()
        if reason == "nan":
            checkpoint = None
        return ClozeTrainResult(
            reason=reason, epoch=self.epoch, step=self.step, history=list(self.history),
            best_valid=self.best_valid, checkpoint=checkpoint,
            best_checkpoint=(self.best_path if self.best_path and Path(self.best_path).exists()
                             else None),
            train_seconds=time.perf_counter() - start,
        )

    # ------------------------------------------------------------- checkpoints
    def trainer_state(self):
        _, keys, pos, has_gauss, cached = self.rng.get_state()
        return {
            "epoch": self.epoch, "batch": self.batch, "step": self.step,
            "loss_sum": self.loss_sum, "loss_count": self.loss_count,
            "history": self.history, "valid_history": self.valid_history,
            "best_valid": self.best_valid, "last_valid_step": self.last_valid_step,
            "rng_pos": int(pos), "rng_has_gauss": int(has_gauss), "rng_cached": float(cached),
            "in_epoch": self.order is not None,
        }, keys

    def save(self, path=None):
        """Write a checkpoint atomically; returns its path (``None`` when saving is off)."""
        path = path or self.checkpoint_path
        if not path:
            return None
        state, keys = self.trainer_state()
        meta = {
            "kind": KIND,
            "train_options": self.options.as_dict(),
            "data": self.data.options,
            "trainer": state,
            "options": self.metadata,
        }
        extra = {"rng_keys": np.asarray(keys, dtype=np.uint32)}
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
        keys = np.asarray(ck.extra["rng_keys"], dtype=np.uint32)
        trainer.rng.set_state(("MT19937", keys, int(st["rng_pos"]), int(st["rng_has_gauss"]),
                               float(st["rng_cached"])))
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


# --------------------------------------------------------------------- checkpoints


def is_cloze_checkpoint(path):
    """Whether ``path`` is a readable cloze checkpoint (reads only its metadata)."""
    try:
        meta = io.read_metadata(path)
    except (io.CheckpointError, ValueError, OSError):
        return False
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    return model.get("class") == "ClozeModel"


def load_cloze_checkpoint(path, mode=None):
    """:func:`theano_rnn.io.load` that insists on a cloze model with a vocabulary.

    Raises :class:`~theano_rnn.io.CheckpointError` with a one-line message for
    a missing or corrupt file and for any other kind of checkpoint.
    """
    meta = io.read_metadata(path)  # raises CheckpointError for missing / unreadable
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    cls = model.get("class")
    if cls != "ClozeModel":
        what = {"SequenceClassifier": "a sequence classifier", "CharRNN": "a char-rnn model"}.get(
            cls, f"a {cls} model" if cls else "a model without a recorded class")
        raise io.CheckpointError(f"{path} is not a cloze checkpoint: it holds {what}")
    ck = io.load(path, mode=mode)
    if ck.index_to_word is None:
        raise io.CheckpointError(f"{path} stores no vocabulary")
    try:
        vocab = seqdata.Vocab(ck.index_to_word)
    except DataError as exc:
        raise io.CheckpointError(f"{path}: bad vocabulary ({exc})") from None
    if vocab.blank_index is None:
        raise io.CheckpointError(f"{path}: the vocabulary has no {seqdata.BLANK!r} token")
    ck.vocab = vocab
    return ck


# ----------------------------------------------------------------------- prediction


def predict_blank(model, vocab, text, top_k=10, marker=seqdata.CLOZE_MARKER, max_length=None,
                  lowercase=True):
    """The ``top_k`` most probable words for the blank (``marker``) in ``text``.

    Returns a list of ``(word, probability)``, most probable first, with the
    model's probabilities (not renormalised: they sum to at most 1).
    ``<blank>`` and ``<unk>`` are never proposed.  Raises
    :class:`~theano_rnn.data.words.DataError` (one line) for no blank, several
    blanks, or a sentence longer than ``max_length`` tokens.
    """
    if int(top_k) < 1:
        raise DataError(f"top_k must be >= 1, got {top_k}")
    ids, position = seqdata.parse_cloze(text, vocab, marker=marker, max_length=max_length,
                                        lowercase=lowercase)
    X = ids.reshape(-1, 1).astype(np.int32)
    M = np.ones(X.shape)
    logp = model.log_probs(X, M, np.array([position], dtype=np.int32))[0]
    excluded = _excluded(len(vocab), vocab.blank_index, vocab.unk_index)
    logp = np.where(excluded, -np.inf, logp)
    k = min(int(top_k), int((~excluded).sum()))
    top = np.argsort(-logp, kind="stable")[:k]
    return [(vocab.index_to_token[i], float(np.exp(logp[i]))) for i in top]
