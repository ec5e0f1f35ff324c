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

from theano_rnn.data import seq as seqdata
from theano_rnn.tasks.classify.checkpoints import KIND, load_classifier
from theano_rnn.tasks.classify.data import (
    ClassData, Split, encode_texts, load_poem_records, load_tsv_records, prepare_data)
from theano_rnn.tasks.classify.evaluate import (
    EvalResult, early_stopping_step, evaluate, predict_proba)
from theano_rnn.tasks.classify.train import (
    ClassifierResult, ClassifierTrainer, ClassifierTrainOptions, train_classifier)

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


def predict_texts(model, vocab, labels, texts, *, tokens="char", max_length=100,
                  on_long="truncate", batch_size=64):
    """Class probabilities ``(N, K)`` of raw texts, encoded like the training data."""
    seqs, unknown = encode_texts(texts, vocab, tokens, max_length, on_long)
    if unknown:
        log.info("%d token(s) not in the vocabulary were read as %s", unknown, seqdata.UNK)
    return predict_proba(model, seqs, batch_size)
