"""The word lists of the WildML tutorials: part 2's and part 4's vocabulary rules.

The tutorials keep a vocabulary as ``index_to_word`` (list) and
``word_to_index`` (dict); these functions return that pair, as the tutorial
code did, and :attr:`theano_rnn.data.words.Corpus.vocab` gives the same list as
the one :class:`~theano_rnn.data.vocab.Vocab` type (unknown ``UNKNOWN_TOKEN``).
:mod:`theano_rnn.data.words` re-exports every name here.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping, Sequence

import nltk
import numpy as np

from theano_rnn.errors import DataError

__all__ = [
    "UNKNOWN_TOKEN",
    "MASK_TOKEN",
    "count_words",
    "check_vocabulary_size",
    "build_vocabulary_part2",
    "build_vocabulary_part4",
    "encode",
]

UNKNOWN_TOKEN = "UNKNOWN_TOKEN"
MASK_TOKEN = "<MASK/>"


def count_words(tokenized_sentences: Iterable[Sequence[str]]) -> nltk.FreqDist:
    """``nltk.FreqDist(itertools.chain(*tokenized_sentences))``."""
    return nltk.FreqDist(itertools.chain.from_iterable(tokenized_sentences))


def check_vocabulary_size(vocabulary_size) -> int:
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, (int, np.integer)):
        raise DataError(f"vocabulary_size must be an integer >= 3, got {vocabulary_size!r}")
    if vocabulary_size < 3:
        raise DataError(f"vocabulary_size must be >= 3, got {vocabulary_size}")
    return int(vocabulary_size)


def _freq(words) -> Mapping[str, int]:
    return words if isinstance(words, Mapping) else count_words(words)


def _index(index_to_word: list[str]) -> dict[str, int]:
    return {w: i for i, w in enumerate(index_to_word)}


def build_vocabulary_part2(words, vocabulary_size: int = 8000) -> tuple[list[str], dict[str, int]]:
    """Part 2: the ``vocabulary_size - 1`` most common words, then ``UNKNOWN_TOKEN``.

    ``words`` is a word-count mapping (``FreqDist``/``Counter``) or the tokenized
    sentences.  Order is ``FreqDist.most_common`` (count descending, ties in
    first-seen order on Python 3; arbitrary on the tutorial's Python 2).  With
    fewer distinct words the vocabulary is shorter, as in the tutorial.
    """
    size = check_vocabulary_size(vocabulary_size)
    freq = _freq(words)
    if not isinstance(freq, nltk.FreqDist):
        freq = nltk.FreqDist(freq)
    index_to_word = [w for w, _ in freq.most_common(size - 1)]
    index_to_word.append(UNKNOWN_TOKEN)
    return index_to_word, _index(index_to_word)


def build_vocabulary_part4(words, vocabulary_size: int = 2000) -> tuple[list[str], dict[str, int]]:
    """Part 4: ``["<MASK/>", "UNKNOWN_TOKEN"]`` + the top ``vocabulary_size - 2`` words.

    Reproduces ``utils.load_data``::

        vocab = sorted(freq.items(), key=lambda x: (x[1], x[0]), reverse=True)[:C - 2]
        sorted_vocab = sorted(vocab, key=operator.itemgetter(1))

    so the kept words are the most frequent (ties at the cut-off: the larger
    string wins), listed in *ascending* count, and words of equal count stay in
    *descending* string order (the second sort is stable).
    """
    size = check_vocabulary_size(vocabulary_size)
    freq = _freq(words)
    vocab = sorted(freq.items(), key=lambda x: (x[1], x[0]), reverse=True)[: size - 2]
    sorted_vocab = sorted(vocab, key=operator.itemgetter(1))
    index_to_word = [MASK_TOKEN, UNKNOWN_TOKEN] + [w for w, _ in sorted_vocab]
    return index_to_word, _index(index_to_word)


def encode(
    tokenized_sentences: Iterable[Sequence[str]],
    word_to_index: Mapping[str, int],
    unknown_token: str = UNKNOWN_TOKEN,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Map words to ids (unknown words to ``unknown_token``); ``x = ids[:-1]``, ``y = ids[1:]``.

    Returns two lists of 1-D ``np.int32`` arrays, one pair per sentence.
    """
    unknown = word_to_index[unknown_token]
    X, Y = [], []
    for sent in tokenized_sentences:
        ids = np.fromiter(
            (word_to_index.get(w, unknown) for w in sent), dtype=np.int32, count=len(sent)
        )
        X.append(ids[:-1])
        Y.append(ids[1:])
    return X, Y
