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
The labelled-sequence readers, :class:`LabelSet`, :func:`build_vocab`,
:func:`limit_length` and :func:`stratified_split` live in
:mod:`theano_rnn.data.labelled` and are re-exported here; the vocabulary is the
one :class:`~theano_rnn.data.vocab.Vocab` and batches come from
:mod:`theano_rnn.data.batching` (right padding).

Every function that draws takes an explicit ``rng`` (a NumPy ``Generator`` or
``RandomState``, or an int seed); none touches NumPy's global generator.
Bad input raises :class:`~theano_rnn.data.words.DataError` (a ``ValueError``) with a
one-line message.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from theano_rnn.data import words as data
from theano_rnn.data.batching import class_batch, cloze_batch
from theano_rnn.data.checks import check_choice as _check_choice
from theano_rnn.data.checks import check_int
from theano_rnn.data.checks import check_rng as _check_rng
from theano_rnn.data.checks import check_split_fractions as _check_fractions
from theano_rnn.data.checks import randint as _randint
from theano_rnn.data.checks import too_long as _too_long
from theano_rnn.data.labelled import LabelSet, LabelledText, build_vocab, limit_length
from theano_rnn.data.labelled import majority_baseline, parse_labelled_text, read_labelled_file
from theano_rnn.data.labelled import read_poem_records, select_poets, stratified_split
from theano_rnn.data.labelled import tokenize_for_classes
from theano_rnn.data.text import PARAGRAPH_RE
from theano_rnn.data.vocab import BLANK, UNK, Vocab
from theano_rnn.data.vocab import as_id_array as _as_id_array
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

_SPEAKER_PUNCT = frozenset(".!?;:")
_ON_LONG_CLOZE = ("skip", "truncate", "error")


# ------------------------------------------------------------------------ helpers


def _short(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


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
        for par in PARAGRAPH_RE.split(doc.replace("\r\n", "\n").replace("\r", "\n")):
            text = _paragraph_text(par, drop_speaker=plain)
            if text:
                paragraphs.append(text)
    return paragraphs


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
