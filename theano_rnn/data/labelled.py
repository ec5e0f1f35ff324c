"""Labelled sequences for classification: poems by poet, ``label<TAB>text`` files.

Labelled texts come from chinese-poetry JSON files (:func:`read_poem_records`,
the author is the label, :func:`select_poets` keeps a few poets) or from a
``label<TAB>text`` file (:func:`read_labelled_file`), both read by
:mod:`theano_rnn.data.text`.  Texts are tokenized into characters (every
non-whitespace character) or whitespace-separated words
(:func:`tokenize_for_classes`); the vocabulary (:func:`build_vocab`) is a
:class:`~theano_rnn.data.vocab.Vocab` with ``"<unk>"`` at index 0.  Over-long
texts (:func:`limit_length`) are by default **truncated to their first**
``max_length`` **tokens, with one WARNING** giving how many were cut;
``on_long="error"`` refuses them instead.  Labels are encoded by a
:class:`LabelSet` (sorted), which rejects a label it does not know with a
one-line :class:`DataError` listing the known ones.  Batches:
:func:`theano_rnn.data.batching.class_batch`.

:mod:`theano_rnn.data.seq` re-exports every name here.
"""

from __future__ import annotations

import logging
from collections import Counter, namedtuple
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from theano_rnn.data import text as text_io
from theano_rnn.data.chars import read_poem_list
from theano_rnn.data.checks import check_choice, check_int, check_rng, check_split_fractions, too_long
from theano_rnn.data.vocab import UNK, Vocab, as_id_array
from theano_rnn.errors import DataError

__all__ = [
    "LabelSet",
    "LabelledText",
    "read_poem_records",
    "select_poets",
    "read_labelled_file",
    "parse_labelled_text",
    "tokenize_for_classes",
    "build_vocab",
    "limit_length",
    "stratified_split",
    "majority_baseline",
]

logger = logging.getLogger(__name__)

_ON_LONG_CLASS = ("truncate", "error")
_TOKEN_MODES = ("char", "word")


def read_poem_records(paths, max_bytes: int | None = None) -> list[tuple[str, str]]:
    """``(author, text)`` for every poem of chinese-poetry JSON files.

    The text is the poem's paragraphs, each stripped, joined with no
    separator; poems with no text are skipped.  Errors name the file and the
    reason (as :func:`theano_rnn.data.chars.read_poems_json`).
    """
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    records: list[tuple[str, str]] = []
    n_files = 0
    for p in paths:
        n_files += 1
        p = Path(p)
        for i, rec in enumerate(read_poem_list(p, max_bytes)):
            if not isinstance(rec, dict):
                raise DataError(f"{p}: poem {i} is not a JSON object")
            paras = rec.get("paragraphs")
            if not isinstance(paras, list) or not all(isinstance(s, str) for s in paras):
                raise DataError(f"{p}: poem {i} has no 'paragraphs' list of strings")
            author = rec.get("author")
            if not isinstance(author, str) or not author.strip():
                raise DataError(f"{p}: poem {i} has no 'author' string")
            text = "".join(s.strip() for s in paras).strip()
            if text:
                records.append((author.strip(), text))
            else:
                logger.debug("%s: poem %d has no text; skipped", p, i)
    if n_files == 0:
        raise DataError("read_poem_records needs at least one path")
    if not records:
        raise DataError("no poems found in the JSON files")
    return records


def select_poets(records, top_k: int = 5, authors=None, exclude=("不詳",)):
    """The records of a few poets: ``authors`` if given, else the ``top_k`` most prolific.

    Authors in ``exclude`` ("unknown author") are never chosen automatically.
    The ranking is by poem count, descending, ties by name.  Records keep their
    order.
    """
    counts = Counter(a for a, _ in records)
    if authors is not None:
        if isinstance(authors, str):
            authors = [authors]
        authors = list(dict.fromkeys(authors))
        if not authors:
            raise DataError("authors is empty: name at least one poet")
        for a in authors:
            if counts.get(a, 0) == 0:
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
                raise DataError(
                    f"no poems by {a!r}; the most prolific authors are: "
                    + ", ".join(f"{name} ({n})" for name, n in top)
                )
        chosen = set(authors)
    else:
        k = check_int(top_k, "top_k", 2)
        ranked = sorted(
            ((a, n) for a, n in counts.items() if a not in set(exclude or ())),
            key=lambda kv: (-kv[1], kv[0]),
        )
        if len(ranked) < k:
            raise DataError(f"top_k={k} but only {len(ranked)} authors are available")
        chosen = {a for a, _ in ranked[:k]}
        logger.info("Poets: %s", ", ".join(f"{a} ({n})" for a, n in ranked[:k]))
    return [r for r in records if r[0] in chosen]


LabelledText = namedtuple("LabelledText", "label text line")
LabelledText.__doc__ = "One line of a labelled file: label (None if unlabelled), text, 1-based line number."


def read_labelled_file(path, require_labels: bool = True, max_bytes: int | None = None) -> list[LabelledText]:
    """The lines of a UTF-8 ``label<TAB>text`` file as :class:`LabelledText` records.

    Blank lines are skipped; the label and the text are stripped.  With
    ``require_labels=False`` a line without a tab is unlabelled text (label
    ``None``).  Errors give the file and the line number.
    """
    text = text_io.read_text_file(path, "utf-8", max_bytes, name="UTF-8")
    return parse_labelled_text(text, path, require_labels)


def parse_labelled_text(text: str, source, require_labels: bool = True) -> list[LabelledText]:
    """:func:`read_labelled_file` for text already read (stdin); errors name ``source``."""
    out = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if "\t" in line:
            label, body = (x.strip() for x in line.split("\t", 1))
            if not label:
                raise DataError(f"{source} line {n}: empty label before the tab")
            if not body:
                raise DataError(f"{source} line {n}: label {label!r} has no text after the tab")
        elif require_labels:
            raise DataError(f"{source} line {n}: no tab; expected 'label<TAB>text'")
        else:
            label, body = None, line.strip()
        out.append(LabelledText(label, body, n))
    if not out:
        raise DataError(f"{source} has no text lines")
    return out


class LabelSet:
    """The class labels, sorted; label ``i`` is class ``i``."""

    def __init__(self, labels: Iterable[str]):
        labels = list(labels)
        for lab in labels:
            if not isinstance(lab, str) or not lab or "\x00" in lab:
                raise DataError(f"labels must be non-empty strings, got {lab!r}")
        self.labels = sorted(set(labels))
        if not self.labels:
            raise DataError("a label set needs at least one label")
        self.label_to_index = {lab: i for i, lab in enumerate(self.labels)}

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self.label_to_index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSet):
            return NotImplemented
        return self.labels == other.labels

    def __repr__(self) -> str:
        return f"LabelSet({', '.join(self.labels)})"

    def encode(self, labels: Iterable[str | None], where="") -> np.ndarray:
        """Class ids (``np.int32``).

        ``where`` locates the labels in error messages: one string for all
        (``"in test.tsv"``) or one per label (``"line 7"``).  An unknown label
        raises ``DataError("unknown label 'x' (line 7); the model knows: a, b, c")``.
        """
        labels = list(labels)
        if isinstance(where, str):
            wheres = [where] * len(labels)
        else:
            wheres = [str(w) for w in where]
            if len(wheres) != len(labels):
                raise DataError(f"where has {len(wheres)} entries for {len(labels)} labels")
        out = np.empty(len(labels), dtype=np.int32)
        for i, (lab, w) in enumerate(zip(labels, wheres)):
            loc = f" ({w})" if w else ""
            if lab is None:
                raise DataError(f"missing label{loc}; the model knows: {', '.join(self.labels)}")
            idx = self.label_to_index.get(lab)
            if idx is None:
                raise DataError(
                    f"unknown label {lab!r}{loc}; the model knows: {', '.join(self.labels)}"
                )
            out[i] = idx
        return out

    def decode(self, ids) -> list[str]:
        arr = as_id_array(ids, "class ids")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            bad = arr[(arr < 0) | (arr >= len(self))][0]
            raise DataError(f"class id {bad} is out of range for {len(self)} labels")
        return [self.labels[i] for i in arr.tolist()]

    def to_array(self) -> np.ndarray:
        return np.array(self.labels, dtype=np.str_)

    @classmethod
    def from_array(cls, array) -> LabelSet:
        arr = np.asarray(array)
        if arr.ndim != 1 or arr.dtype.kind != "U":
            raise DataError(
                f"a label array must be a 1-D unicode array, got dtype {arr.dtype} shape {arr.shape}"
            )
        return cls(arr.tolist())


def tokenize_for_classes(text: str, tokens: str = "char") -> list[str]:
    """``"char"``: every non-whitespace character; ``"word"``: ``text.split()``."""
    check_choice(tokens, "tokens", _TOKEN_MODES)
    if not isinstance(text, str):
        raise DataError(f"text must be a str, got {type(text).__name__}")
    if tokens == "char":
        return [ch for ch in text if not ch.isspace()]
    return text.split()


def build_vocab(token_lists, min_freq: int = 1, max_size: int | None = None) -> Vocab:
    """``"<unk>"`` (index 0) + tokens seen at least ``min_freq`` times.

    Count descending, ties in first-occurrence order; ``max_size`` (which
    counts ``<unk>``) keeps the most frequent.
    """
    min_freq = check_int(min_freq, "min_freq", 1)
    if max_size is not None:
        max_size = check_int(max_size, "max_size", 2)
    counts = Counter(t for toks in token_lists for t in toks if t != UNK)
    words = [w for w, c in counts.most_common() if c >= min_freq]
    if max_size is not None:
        words = words[: max_size - 1]
    if not words:
        raise DataError(
            f"empty vocabulary: no token occurs {min_freq} time(s) or more "
            f"({len(counts)} distinct tokens)"
        )
    return Vocab([UNK] + words, unknown=UNK)


def limit_length(seqs, max_length: int, on_long: str = "truncate"):
    """Apply the length limit to token sequences (lists or arrays).

    ``"truncate"`` (the default) keeps the **first** ``max_length`` tokens of
    a longer sequence and logs one WARNING with how many were cut;
    ``"error"`` raises :class:`DataError` naming the first offender.
    Returns a new list (sequences within the limit are the same objects).
    """
    max_length = check_int(max_length, "max_length", 1)
    check_choice(on_long, "on_long", _ON_LONG_CLASS)
    out, cut = [], 0
    for i, s in enumerate(seqs):
        if len(s) > max_length:
            if on_long == "error":
                raise too_long("sequence", i, s, max_length, "; on_long='truncate' keeps the start")
            s = s[:max_length]
            cut += 1
        out.append(s)
    if cut:
        logger.warning(
            "%d of %d sequences were longer than max_length=%d and were truncated to their "
            "first %d tokens", cut, len(out), max_length, max_length,
        )
    return out


def stratified_split(labels, fractions=(0.8, 0.1, 0.1), *, rng) -> tuple[np.ndarray, ...]:
    """``(train, valid, test)`` index arrays with each class split by ``fractions``.

    Each class's items are shuffled; valid and test get ``round(n_c *
    fraction)`` of them, train the rest, at least 1, so every class is in
    train.  Raises :class:`DataError` when a split with a positive fraction
    comes out empty (too few items).  Each array is sorted.
    """
    fr = check_split_fractions(fractions)
    rng = check_rng(rng)
    labels = list(labels)
    if not labels:
        raise DataError("stratified_split needs at least one label")
    by_class: dict = {}
    for i, lab in enumerate(labels):
        by_class.setdefault(lab, []).append(i)
    parts: list[list[int]] = [[], [], []]
    for lab in sorted(by_class, key=str):
        idx = np.asarray(by_class[lab])[rng.permutation(len(by_class[lab]))]
        n = len(idx)
        nv, nt = (int(n * f + 0.5) for f in fr[1:])
        while nv + nt > n - 1:
            if nv >= nt:
                nv -= 1
            else:
                nt -= 1
        parts[0].extend(idx[: n - nv - nt].tolist())
        parts[1].extend(idx[n - nv - nt : n - nt].tolist())
        parts[2].extend(idx[n - nt :].tolist())
    for name, f, part in zip(("valid", "test"), fr[1:], parts[1:]):
        if f > 0 and not part:
            raise DataError(
                f"the {name} split is empty: {len(labels)} items in {len(by_class)} classes "
                f"are too few for fractions {fr}"
            )
    return tuple(np.sort(np.asarray(p, dtype=np.int64)) for p in parts)


def majority_baseline(train_labels, test_labels) -> float:
    """Test accuracy of always predicting the most frequent training label (ties: the smallest)."""
    train, test = list(train_labels), list(test_labels)
    if not train or not test:
        raise DataError("majority_baseline needs non-empty train and test labels")
    counts = Counter(train)
    best = max(counts.values())
    majority = min(lab for lab, c in counts.items() if c == best)
    return sum(lab == majority for lab in test) / len(test)
