"""Data for the bidirectional tasks of issue 6: cloze and sequence classification.

Batches follow the bidirectional stack's conventions: *time-major* ``(T, B)``
integer token matrices, *right*-padded, with a ``(T, B)`` float64 mask of 0/1
(1 on real tokens).  Padding positions hold an ordinary vocabulary index
(masked, so its value never matters).  Nothing here imports PyTensor.

Cloze ("fill in the blank")
---------------------------
:func:`load_cloze_sentences` reads a reddit CSV (the ``body`` column, through
:func:`theano_rnn.data.words.read_corpus`) or a plain-text file (tiny Shakespeare),
splits it into sentences with NLTK's Punkt (the installed model, else one
trained on the corpus -- :func:`theano_rnn.data.words.get_sentence_tokenizer`;
nothing is downloaded) and words with the Treebank tokenizer
(:func:`theano_rnn.data.words.word_tokenize`, each Punkt sentence tokenized as one
line -- exactly what :func:`parse_cloze` does with a query, so training and
prediction tokenize alike), lower-cased by default.

Text layout:

* Documents are split into paragraphs on blank lines (a CSV comment may hold
  several); inside a paragraph, wrapped lines are joined with a space, so a
  sentence may run over several lines but never over two paragraphs.
* Plain text only: a paragraph's *first* line is taken for a speaker label
  and dropped when it ends with ``":"``, has at most 5 words, contains a letter
  and no other sentence punctuation (``. ! ? ; :``) (tiny Shakespeare's
  ``"First Citizen:"``, ``"Senators, &C:"``; a label alone in its paragraph,
  as one ``"KING RICHARD III:"`` with no speech, goes with it).  A line
  ending with ``":"`` inside a speech (``"Come:"``, ``"Nay, let them
  follow:"``) is verse and is kept.
* Sentences shorter than ``min_length`` tokens are dropped; longer than
  ``max_length`` follow ``on_long``: ``"skip"`` (default: dropped, counted in
  an INFO line), ``"truncate"`` (the first ``max_length`` tokens kept, one
  WARNING with the count) or ``"error"`` (:class:`DataError` naming the first
  offender).

The cloze vocabulary (:func:`build_cloze_vocab`) is ``"<blank>"`` (index 0),
``"<unk>"`` (1), then the most frequent tokens (count descending, ties in
first-occurrence order).  A position can be blanked (:func:`blank_candidates`)
when its token is in the vocabulary (neither ``<unk>`` nor ``<blank>``) and
has at least one alphabetic character (``str.isalpha``: letters of any script,
CJK ideographs, kana...), so punctuation, numbers and symbols are never the
answer.  :func:`encode_cloze` drops sentences with no such position.

Sequence classification
-----------------------
Labelled texts come from chinese-poetry JSON files (:func:`read_poem_records`,
the author is the label, :func:`select_poets` keeps a few poets) or from a
``label<TAB>text`` file (:func:`read_labelled_file`).  Texts are tokenized into
characters (every non-whitespace character) or whitespace-separated words
(:func:`tokenize_for_classes`); the vocabulary (:func:`build_vocab`) has
``"<unk>"`` at index 0.  Over-long texts (:func:`limit_length`) are by
default **truncated to their first** ``max_length`` **tokens, with one
WARNING** giving how many were cut; ``on_long="error"`` refuses them instead.
Labels are encoded by a :class:`LabelSet` (sorted), which rejects a label it
does not know with a one-line :class:`DataError` listing the known ones.

Every function that draws takes an explicit ``rng`` (a NumPy ``Generator`` or
``RandomState``, or an int seed); none touches NumPy's global generator.
Bad input raises :class:`~theano_rnn.data.words.DataError` (a ``ValueError``) with a
one-line message.
"""

from __future__ import annotations

import logging
import numbers
import re
from collections import Counter, namedtuple
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from theano_rnn.data import words as data
from theano_rnn.data import text as text_io
from theano_rnn.data.batching import class_batch, cloze_batch
from theano_rnn.data.chars import read_poem_list
from theano_rnn.data.checks import check_int
from theano_rnn.data.vocab import BLANK, UNK, Vocab
from theano_rnn.data.vocab import as_id_array as _as_id_array
from theano_rnn.data.vocab import preview as _preview
from theano_rnn.errors import DataError

__all__ = [
    "BLANK",
    "UNK",
    "CLOZE_MARKER",
    "Vocab",
    "LabelSet",
    "LabelledText",
    "load_cloze_sentences",
    "build_cloze_vocab",
    "encode_cloze",
    "split_indices",
    "blank_candidates",
    "fixed_blanks",
    "random_blanks",
    "cloze_batch",
    "tokenize_cloze",
    "parse_cloze",
    "read_poem_records",
    "select_poets",
    "read_labelled_file",
    "parse_labelled_text",
    "tokenize_for_classes",
    "build_vocab",
    "limit_length",
    "stratified_split",
    "class_batch",
    "majority_baseline",
]

logger = logging.getLogger(__name__)

CLOZE_MARKER = "___"

_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")
_SPEAKER_PUNCT = frozenset(".!?;:")
_ON_LONG_CLOZE = ("skip", "truncate", "error")
_ON_LONG_CLASS = ("truncate", "error")
_TOKEN_MODES = ("char", "word")


# ------------------------------------------------------------------------ helpers


def _check_choice(value, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise DataError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _check_rng(rng):
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise DataError(
        "rng must be a numpy Generator or RandomState, or an integer seed, "
        f"got {type(rng).__name__}"
    )


def _randint(rng, high: int) -> int:
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(high))
    return int(rng.randint(high))


def _short(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


def _check_fractions(fractions) -> tuple[float, float, float]:
    try:
        fr = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise DataError(f"fractions must be 3 numbers (train, valid, test), got {fractions!r}") from None
    if len(fr) != 3:
        raise DataError(f"fractions must be 3 numbers (train, valid, test), got {fractions!r}")
    if not all(0.0 <= f <= 1.0 for f in fr):
        raise DataError(f"fractions must each be between 0 and 1, got {fr}")
    if fr[0] <= 0.0:
        raise DataError(f"the train fraction must be > 0, got {fr}")
    if abs(sum(fr) - 1.0) > 1e-6:
        raise DataError(f"fractions {fr} must add up to 1")
    return fr


# ---------------------------------------------------------------------- cloze data


def _is_speaker_line(line: str) -> bool:
    s = line.strip()
    if not s.endswith(":"):
        return False
    name = s[:-1]
    return (
        0 < len(name.split()) <= 5
        and any(ch.isalpha() for ch in name)
        and not any(ch in _SPEAKER_PUNCT for ch in name)
    )


def _paragraph_text(paragraph: str, drop_speaker: bool) -> str:
    lines = [ln.strip() for ln in paragraph.split("\n")]
    lines = [ln for ln in lines if ln]
    if drop_speaker and lines and _is_speaker_line(lines[0]):
        lines = lines[1:]
    return " ".join(lines)


def _cloze_paragraphs(path, column: str, max_bytes: int | None = None) -> list[str]:
    documents = data.read_corpus(path, column=column, max_bytes=max_bytes)
    plain = Path(path).suffix.lower() != ".csv"
    paragraphs = []
    for doc in documents:
        for par in _PARAGRAPH_RE.split(doc.replace("\r\n", "\n").replace("\r", "\n")):
            text = _paragraph_text(par, drop_speaker=plain)
            if text:
                paragraphs.append(text)
    return paragraphs


def _too_long(what: str, index: int, tokens, max_length: int, hint: str) -> DataError:
    return DataError(
        f"{what} {index} has {len(tokens)} tokens, more than max_length={max_length} "
        f"({_preview(tokens)}){hint}"
    )


def load_cloze_sentences(
    path,
    *,
    column: str = "body",
    lowercase: bool = True,
    nltk_data=None,
    sentence_tokenizer: Callable[[str], list[str]] | None = None,
    min_length: int = 4,
    max_length: int = 40,
    on_long: str = "skip",
    max_bytes: int | None = None,
) -> list[list[str]]:
    """The tokenized sentences of a corpus file for the cloze task.

    ``*.csv``: the ``column`` of each record (reddit comments); anything else:
    plain text.  See the module docstring for the layout rules (paragraphs,
    wrapped lines, speaker labels) and the length rules.  The sentence index in
    an ``on_long="error"`` message counts every Punkt sentence of the file from
    0, before any filtering.

    Returns a list of token lists (lower-cased when ``lowercase``).
    """
    min_length = check_int(min_length, "min_length", 1)
    max_length = check_int(max_length, "max_length", 1)
    if min_length > max_length:
        raise DataError(f"min_length ({min_length}) is larger than max_length ({max_length})")
    _check_choice(on_long, "on_long", _ON_LONG_CLOZE)
    paragraphs = _cloze_paragraphs(path, column, max_bytes)
    if not paragraphs:
        raise DataError(f"{path} contains no text")
    if sentence_tokenizer is None:
        train_text = "\n\n".join(p.lower() if lowercase else p for p in paragraphs)
        sentence_tokenizer = data.get_sentence_tokenizer(
            "english", nltk_data, train_text=train_text
        )
    sentences = data.split_sentences(paragraphs, sentence_tokenizer, lowercase=lowercase)
    kept: list[list[str]] = []
    short = long_ = 0
    for i, sentence in enumerate(sentences):
        tokens = data.word_tokenize(sentence)
        if len(tokens) < min_length:
            short += 1
            continue
        if len(tokens) > max_length:
            long_ += 1
            if on_long == "error":
                raise _too_long(
                    f"{path}: sentence", i, tokens, max_length,
                    "; on_long='skip' drops such sentences, 'truncate' cuts them",
                )
            if on_long == "skip":
                continue
            tokens = tokens[:max_length]
        kept.append(tokens)
    if on_long == "truncate" and long_:
        logger.warning(
            "%s: %d sentences longer than max_length=%d tokens were truncated",
            path, long_, max_length,
        )
    logger.info(
        "%s: %d sentences kept of %d (%d shorter than %d tokens dropped, %d longer than %d %s)",
        path, len(kept), len(sentences), short, min_length, long_, max_length,
        "truncated" if on_long == "truncate" else "dropped",
    )
    if not kept:
        raise DataError(
            f"{path}: no sentence of {min_length} to {max_length} tokens "
            f"(of {len(sentences)} sentences)"
        )
    return kept


def build_cloze_vocab(sentences: Iterable[Sequence[str]], vocabulary_size: int) -> Vocab:
    """``["<blank>", "<unk>"]`` + the ``vocabulary_size - 2`` most frequent tokens.

    Count descending, ties in first-occurrence order.  With fewer distinct
    tokens the vocabulary is shorter.
    """
    size = check_int(vocabulary_size, "vocabulary_size", 3)
    counts = Counter(t for s in sentences for t in s if t not in (BLANK, UNK))
    if not counts:
        raise DataError("cannot build a vocabulary: the sentences have no tokens")
    words = [w for w, _ in counts.most_common(size - 2)]
    return Vocab([BLANK, UNK] + words, unknown=UNK)


def _candidates(ids: np.ndarray, vocab: Vocab) -> np.ndarray:
    ok = vocab.alphabetic_mask()[ids]
    ok &= ids != vocab.unk_index
    blank = vocab.blank_index
    if blank is not None:
        ok &= ids != blank
    return np.flatnonzero(ok)


def blank_candidates(ids, vocab: Vocab) -> np.ndarray:
    """Positions of ``ids`` that may be blanked (see the module docstring's rule)."""
    arr = _as_id_array(ids, "ids")
    if arr.size and (arr.min() < 0 or arr.max() >= len(vocab)):
        raise DataError(f"ids out of range for a vocabulary of {len(vocab)}")
    return _candidates(arr, vocab)


def encode_cloze(
    sentences: Sequence[Sequence[str]], vocab: Vocab
) -> tuple[list[np.ndarray], np.ndarray]:
    """Encode sentences, dropping those with no blank candidate.

    Returns ``(encoded, kept)``: the ``np.int32`` id arrays and the indices (in
    ``sentences``) they came from.  The number dropped is logged (INFO).
    """
    encoded, kept = [], []
    for i, s in enumerate(sentences):
        ids = vocab.encode(s)
        if len(_candidates(ids, vocab)):
            encoded.append(ids)
            kept.append(i)
    dropped = len(sentences) - len(kept)
    if dropped:
        logger.info("%d of %d sentences have no word to blank and were dropped", dropped, len(sentences))
    return encoded, np.asarray(kept, dtype=np.int64)


def split_indices(n: int, fractions=(0.8, 0.1, 0.1), *, rng) -> tuple[np.ndarray, ...]:
    """``(train, valid, test)`` index arrays: a seeded permutation of ``range(n)`` cut by fractions.

    Valid/test get ``round(n * fraction)`` items, at least 1 each when their
    fraction is positive; train gets the rest (at least 1).  ``n`` must be at
    least the number of positive fractions (3 by default).  Each array is
    sorted (corpus order).
    """
    fr = _check_fractions(fractions)
    n = check_int(n, "n", 0)
    need = sum(f > 0 for f in fr)
    if n < need:
        raise DataError(f"cannot split {n} items into {need} non-empty parts (fractions {fr})")
    rng = _check_rng(rng)
    sizes = [max(1, int(n * f + 0.5)) if f > 0 else 0 for f in fr[1:]]
    while n - sum(sizes) < 1:
        j = int(np.argmax(sizes))
        sizes[j] -= 1
    nv, nt = sizes
    perm = rng.permutation(n)
    ntr = n - nv - nt
    return (np.sort(perm[:ntr]), np.sort(perm[ntr : ntr + nv]), np.sort(perm[ntr + nv :]))


def _draw_blanks(encoded_sentences, vocab: Vocab, rng) -> np.ndarray:
    rng = _check_rng(rng)
    positions = np.empty(len(encoded_sentences), dtype=np.int32)
    for i, ids in enumerate(encoded_sentences):
        cand = _candidates(_as_id_array(ids, f"sentence {i}"), vocab)
        if not len(cand):
            raise DataError(f"sentence {i} has no word that can be blanked (use encode_cloze)")
        positions[i] = cand[_randint(rng, len(cand))]
    return positions


def fixed_blanks(encoded_sentences, vocab: Vocab, rng) -> np.ndarray:
    """One blank position per sentence, drawn once for a held-out set.

    Call it once (with a seed) and keep the result, so every evaluation
    blanks the same words.  Positions are uniform over :func:`blank_candidates`.
    """
    return _draw_blanks(encoded_sentences, vocab, rng)


def random_blanks(encoded_sentences, vocab: Vocab, rng) -> np.ndarray:
    """One blank position per sentence, fresh on every call: call it each training epoch."""
    return _draw_blanks(encoded_sentences, vocab, rng)


_PLACEHOLDER = "zqxclozeblankzqx"


def _marker_re(marker: str) -> re.Pattern:
    if len(set(marker)) == 1:  # "___": any run of 3 or more underscores is one blank
        return re.compile(re.escape(marker[0]) + "{%d,}" % len(marker))
    return re.compile(re.escape(marker))


def tokenize_cloze(
    text: str, marker: str = CLOZE_MARKER, lowercase: bool = True
) -> tuple[list[str], int]:
    """Tokenize a cloze query like the training sentences; ``(tokens, blank position)``.

    The blank is ``marker`` (with the default ``"___"``, any run of 3 or more
    underscores); exactly one is required.  ``tokens[position]`` is ``"<blank>"``.
    The query is one sentence: it is Treebank-tokenized as one line.
    """
    if not isinstance(text, str):
        raise DataError(f"the cloze text must be a str, got {type(text).__name__}")
    if not isinstance(marker, str) or not marker or marker.isspace():
        raise DataError(f"the blank marker must be a non-empty string, got {marker!r}")
    if not text.strip():
        raise DataError(f"empty cloze text: write a sentence with {marker} for the missing word")
    pattern = _marker_re(marker)
    found = len(pattern.findall(text))
    if found == 0:
        raise DataError(f"no blank in {_short(text)}: mark the missing word with {marker}")
    if found > 1:
        raise DataError(f"found {found} blanks ({marker}); the cloze model fills exactly one")
    if _PLACEHOLDER in text.lower():
        raise DataError(f"the cloze text must not contain {_PLACEHOLDER!r}")
    protected = pattern.sub(f" {_PLACEHOLDER} ", text)
    if lowercase:
        protected = protected.lower()
    tokens = data.word_tokenize(protected)
    where = [i for i, t in enumerate(tokens) if t == _PLACEHOLDER]
    if len(where) != 1:  # the tokenizer split or merged the placeholder
        raise DataError(f"could not tokenize the blank in {_short(text)}")
    position = where[0]
    tokens[position] = BLANK
    return tokens, position


def parse_cloze(
    text: str,
    vocab: Vocab,
    marker: str = CLOZE_MARKER,
    max_length: int | None = None,
    lowercase: bool = True,
) -> tuple[np.ndarray, int]:
    """A cloze query as ``(ids, position)``: ``np.int32`` ids with ``<blank>`` at ``position``.

    Tokenized by :func:`tokenize_cloze` (exactly like the training sentences).
    Words not in the vocabulary become ``<unk>`` and are reported in one
    WARNING log line (use :func:`tokenize_cloze` and
    :meth:`Vocab.unknown_tokens` to get them as a list).  A query longer than
    ``max_length`` tokens is refused.
    """
    if vocab.blank_index is None:
        raise DataError(f"the vocabulary has no {BLANK!r} token: not a cloze vocabulary")
    tokens, position = tokenize_cloze(text, marker, lowercase)
    if max_length is not None:
        max_length = check_int(max_length, "max_length", 1)
        if len(tokens) > max_length:
            raise DataError(
                f"the cloze sentence has {len(tokens)} tokens, more than the limit of {max_length}"
            )
    unknown = vocab.unknown_tokens(t for t in tokens if t != BLANK)
    if unknown:
        logger.warning(
            "%d word(s) not in the vocabulary, read as %s: %s",
            len(unknown), UNK, ", ".join(map(repr, unknown)),
        )
    ids = vocab.encode(tokens)
    ids[position] = vocab.blank_index
    return ids, position


# ------------------------------------------------------------- classification data


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
        arr = _as_id_array(ids, "class ids")
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
    _check_choice(tokens, "tokens", _TOKEN_MODES)
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
    _check_choice(on_long, "on_long", _ON_LONG_CLASS)
    out, cut = [], 0
    for i, s in enumerate(seqs):
        if len(s) > max_length:
            if on_long == "error":
                raise _too_long("sequence", i, s, max_length, "; on_long='truncate' keeps the start")
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
    fr = _check_fractions(fractions)
    rng = _check_rng(rng)
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
