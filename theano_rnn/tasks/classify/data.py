"""Sequence-classification data: records, splits, a vocabulary, encoded texts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from theano_rnn.data import seq as seqdata
from theano_rnn.errors import DataError

__all__ = ["SPLITS", "ClassData", "Split", "encode_texts", "load_poem_records", "load_tsv_records", "prepare_data"]

log = logging.getLogger(__name__)


#: the three splits, in order
SPLITS = ("train", "valid", "test")


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
        return ", ".join(f"{n} {len(self.split(n))}" for n in SPLITS)


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
