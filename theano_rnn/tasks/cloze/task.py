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

import numpy as np

from theano_rnn.data import seq as seqdata
from theano_rnn.errors import DataError
from theano_rnn.tasks.cloze.checkpoints import (
    best_checkpoint_path, is_cloze_checkpoint, load_cloze_checkpoint)
from theano_rnn.tasks.cloze.data import (
    DEFAULT_CORPUS_NAME, ClozeData, load_cloze_data, prepare_cloze_data, sentences_from_documents)
from theano_rnn.tasks.cloze.evaluate import ClozeEval, evaluate_cloze, excluded_mask, unigram_baseline
from theano_rnn.tasks.cloze.train import ClozeTrainer, ClozeTrainOptions, ClozeTrainResult, train_cloze

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
    excluded = excluded_mask(len(vocab), vocab.blank_index, vocab.unk_index)
    logp = np.where(excluded, -np.inf, logp)
    k = min(int(top_k), int((~excluded).sum()))
    top = np.argsort(-logp, kind="stable")[:k]
    return [(vocab.index_to_token[i], float(np.exp(logp[i]))) for i in top]
