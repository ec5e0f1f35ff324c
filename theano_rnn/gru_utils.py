"""``utils.py`` of WildML part 4 (``rnn-tutorial-gru-lstm``), same names and signatures.

Note the argument orders, which differ from part 2's ``utils.py`` and are kept:
``save_model_parameters_theano(model, outfile)`` and
``load_model_parameters_theano(path, modelClass=GRUTheano)``.

What differs from the original, on purpose:

* ``load_data`` is :func:`theano_rnn.data.words.load_part4` (no download, Punkt
  found or trained offline) and returns lists of ``int32`` arrays (the
  original's ragged ``np.asarray`` fails on NumPy >= 1.24).
* ``train_with_sgd`` shuffles with an explicit generator (``rng``: seed,
  ``RandomState`` or ``Generator``; ``None`` = fresh OS-seeded), validates
  ``decay`` in (0, 1) and raises
  :class:`~theano_rnn.training.tutorial.NonFiniteLossError` on a non-finite loss.
* Checkpoints are written atomically with metadata and the RMSprop caches
  (``mE`` ...), which the original dropped, so a resumed run continues RMSprop
  instead of silently restarting it.  Loading builds a model of the stored
  size and restores those caches; a GRU file loaded as an LSTM (or the
  reverse) raises :class:`~theano_rnn.io.CheckpointError`.
* Sampling uses an explicit ``rng`` and float64-renormalised probabilities.
  ``generate_sentences`` prints each sentence with :func:`print_sentence` as
  the original did (``print_sentences=False`` silences it) and also *returns*
  them as word lists.
* Nothing but :func:`print_sentence` (the tutorial's user-facing printer) and
  ``generate_sentences`` prints; the rest logs.
"""

from __future__ import annotations

import logging
import sys

from theano_rnn import io
from theano_rnn.data.words import load_part4
from theano_rnn.models.gradcheck import gradient_check
from theano_rnn.models.word import GRUTheano
from theano_rnn.tasks.sampling import generate_sentence_part4, generate_sentences_part4
from theano_rnn.training.tutorial import train_part4

__all__ = [
    "load_data",
    "train_with_sgd",
    "save_model_parameters_theano",
    "load_model_parameters_theano",
    "gradient_check_theano",
    "print_sentence",
    "generate_sentence",
    "generate_sentences",
]

log = logging.getLogger(__name__)


def load_data(
    filename="data/reddit-comments-2015.csv", vocabulary_size=2000, min_sent_characters=0, **kwargs
):
    """``(X_train, y_train, word_to_index, index_to_word)`` of the part-4 pipeline.

    ``kwargs`` go to :func:`theano_rnn.data.words.load_part4` (``nltk_data``,
    ``column``, ``encoding`` ...).  The vocabulary can be shorter than
    ``vocabulary_size`` on a small corpus: build models with
    ``len(index_to_word)``.
    """
    corpus = load_part4(filename, vocabulary_size, min_sent_characters, **kwargs)
    return corpus.X, corpus.Y, corpus.word_to_index, corpus.index_to_word


def train_with_sgd(
    model, X_train, y_train, learning_rate=0.001, nepoch=20, decay=0.9,
    callback_every=10000, callback=None, rng=None,
):
    """The tutorial's loop: reshuffle each epoch, one RMSprop step per example.

    ``callback(model, num_examples_seen)`` every ``callback_every`` examples.
    Returns ``model``.  See :func:`theano_rnn.training.tutorial.train_part4`.
    """
    return train_part4(
        model, X_train, y_train, learning_rate=learning_rate, nepoch=nepoch, decay=decay,
        callback_every=callback_every, callback=callback, rng=rng,
    )


def save_model_parameters_theano(model, outfile, *, index_to_word=None, metadata=None):
    """Save ``model`` (weights ``E U W V b c``, RMSprop caches, metadata) atomically.

    Unlike ``np.savez`` the name is used as given (no ``.npz`` appended).
    Returns the path written.
    """
    path = io.save(outfile, model, index_to_word=index_to_word, metadata=metadata)
    log.info("Saved model parameters to %s.", path)
    return path


def load_model_parameters_theano(path, modelClass=GRUTheano, *, mode=None):
    """Build a ``modelClass`` of the stored size from ``path`` and return it.

    RMSprop caches stored in the file are restored.  A file holding another
    cell (a GRU read with ``modelClass=LSTMTheano`` ...) raises
    :class:`~theano_rnn.io.CheckpointError`.
    """
    cell = getattr(modelClass, "cell_name", None)
    ckpt = io.load(path, mode=mode, cell=cell, model_class=modelClass)
    model = ckpt.model
    log.info(
        "Built model from %s with hidden_dim=%d word_dim=%d", path, model.hidden_dim, model.word_dim
    )
    return model


def gradient_check_theano(model, x, y, h=0.001, error_threshold=0.01):
    """Gradient check of every parameter (``E U W V b c``), matched by name.

    Returns a :class:`~theano_rnn.models.gradcheck.GradCheckReport`; see
    :func:`theano_rnn.models.gradcheck.gradient_check`.
    """
    return gradient_check(model, x, y, h=h, error_threshold=error_threshold, rebuild=True)


def print_sentence(s, index_to_word):
    """Print the words of index list ``s`` between its markers (the tutorial's printer)."""
    print(" ".join(index_to_word[x] for x in s[1:-1]))
    sys.stdout.flush()


def generate_sentence(model, index_to_word, word_to_index, min_length=5, rng=None):
    """One part-4 sentence as an index list with markers, or ``None`` if rejected.

    See :func:`theano_rnn.tasks.sampling.generate_sentence_part4`.
    """
    return generate_sentence_part4(
        model, index_to_word, word_to_index, min_length=min_length, rng=rng
    )


def generate_sentences(model, n, index_to_word, word_to_index, rng=None, print_sentences=True):
    """``n`` accepted sentences: printed like the tutorial, and returned as word lists."""
    sentences = generate_sentences_part4(
        model, n, index_to_word, word_to_index, rng=rng, decode=False
    )
    if print_sentences:
        for s in sentences:
            print_sentence(s, index_to_word)
    return [[index_to_word[i] for i in s[1:-1]] for s in sentences]
