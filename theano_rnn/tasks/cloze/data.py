"""Cloze data: sentences of a corpus -> a seeded split, a training-only vocabulary, encoded
sentences with fixed held-out blanks (see :mod:`theano_rnn.tasks.cloze.task`).
"""

from __future__ import annotations

import logging

import numpy as np
from dataclasses import dataclass, field

from theano_rnn.data import corpora
from theano_rnn.data import seq as seqdata
from theano_rnn.data import words as data
from theano_rnn.errors import DataError

log = logging.getLogger(__name__)

DEFAULT_CORPUS_NAME = (
    "embedded English text (Python's pydoc topics, corpora.default_corpus_documents)"
)

__all__ = ["ClozeData", "DEFAULT_CORPUS_NAME", "load_cloze_data", "prepare_cloze_data", "sentences_from_documents"]

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
