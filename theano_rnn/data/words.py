"""Word-level corpus pipeline of the WildML RNN tutorials (parts 2 and 4).

Part 2 (``rnn-tutorial-rnnlm``, ``RNNLM.ipynb`` / ``train-theano.py``)::

    comments -> lower() -> nltk.sent_tokenize -> "SENTENCE_START <s> SENTENCE_END"
             -> nltk.word_tokenize -> FreqDist.most_common(C - 1) + [UNKNOWN_TOKEN]
             -> out-of-vocabulary words become UNKNOWN_TOKEN -> x = ids[:-1], y = ids[1:]

Part 4 (``rnn-tutorial-gru-lstm``, ``utils.load_data``) is the same, except that
sentences shorter than ``min_sent_characters`` or containing ``"http"`` are
dropped before wrapping, and the vocabulary is ``["<MASK/>", UNKNOWN_TOKEN]``
followed by the top ``C - 2`` words in *ascending* frequency (see
:func:`build_vocabulary_part4` for the exact tie order).

Differences from the tutorial code, all deliberate:

* ``X``/``Y`` are lists of ``np.int32`` arrays: the tutorials' ragged
  ``np.asarray`` raises on NumPy >= 1.24.
* Nothing is downloaded.  NLTK's Punkt model is used when it is installed
  (``NLTK_DATA`` / ``nltk.data.path``, or an explicit ``nltk_data`` directory);
  otherwise Punkt is trained on the corpus itself and a WARNING says so.
* ``nltk.word_tokenize(s)`` sentence-splits ``s`` again with the Punkt model it
  loads itself.  That second split matters: the Treebank word tokenizer only
  detaches a period at the very end of its input, so on the wrapped sentence
  ``"SENTENCE_START ... to. SENTENCE_END"`` it keeps ``"to."`` unless Punkt first
  cuts before ``SENTENCE_END``.  :func:`word_tokenize` therefore re-splits with
  the *same in-memory* sentence tokenizer (no second model load) and matches
  ``nltk.word_tokenize`` token for token; ``preserve_line=True`` does not (it
  differs on most sentences of the reddit corpus).
* Bad input raises :class:`DataError` (a ``ValueError``) with a one-line message.

Plain-text corpora (any file not ending in ``.csv``) are split into paragraphs
on blank lines; each paragraph is one document, as each CSV record is one
comment, so no sentence ever spans two paragraphs.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nltk
import numpy as np
from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer
from theano_rnn.data.text import read_corpus, read_csv_comments, read_text
from theano_rnn.data.vocab import Vocab
from theano_rnn.data.wordvocab import MASK_TOKEN, UNKNOWN_TOKEN, build_vocabulary_part2
from theano_rnn.data.wordvocab import build_vocabulary_part4, count_words, encode
from theano_rnn.data.wordvocab import check_vocabulary_size as _check_vocabulary_size
from theano_rnn.errors import DataError

__all__ = [
    "SENTENCE_START",
    "SENTENCE_END",
    "UNKNOWN_TOKEN",
    "MASK_TOKEN",
    "DataError",
    "Corpus",
    "SentenceTokenizer",
    "read_csv_comments",
    "read_text",
    "read_corpus",
    "find_punkt_model",
    "get_sentence_tokenizer",
    "train_sentence_tokenizer",
    "split_sentences",
    "word_tokenize",
    "tokenize_sentences",
    "count_words",
    "build_vocabulary_part2",
    "build_vocabulary_part4",
    "encode",
    "prepare_part2",
    "prepare_part4",
    "load_part2",
    "load_part4",
]

logger = logging.getLogger(__name__)

SENTENCE_START = "SENTENCE_START"
SENTENCE_END = "SENTENCE_END"

_PUNKT_TAB = "tokenizers/punkt_tab/{}/"
_PUNKT_PICKLE = "tokenizers/punkt/{}.pickle"
_LANGUAGE_RE = re.compile(r"[A-Za-z0-9_-]+")


# ------------------------------------------------------------ sentence tokenization


@dataclass(frozen=True)
class SentenceTokenizer:
    """A callable ``text -> list[str]`` wrapping a Punkt sentence tokenizer.

    ``source`` is the model directory it was loaded from, or
    ``"trained on the corpus"``; ``trained`` tells which.
    """

    punkt: PunktSentenceTokenizer
    source: str
    trained: bool = False

    def __call__(self, text: str) -> list[str]:
        return self.punkt.tokenize(text)


def _check_language(language) -> str:
    if not isinstance(language, str) or not _LANGUAGE_RE.fullmatch(language):
        raise DataError(f"invalid Punkt language name {language!r}")
    return language


def _search_paths(nltk_data) -> list[str]:
    if nltk_data is not None:
        root = Path(nltk_data)
        if not root.is_dir():
            raise DataError(f"nltk_data directory not found: {root}")
        return [str(root)]
    paths = [str(p) for p in nltk.data.path]
    # NLTK reads NLTK_DATA once, at import; honour a value set after that too.
    for p in os.environ.get("NLTK_DATA", "").split(os.pathsep):
        if p and p not in paths:
            paths.append(p)
    return paths


def find_punkt_model(language: str = "english", nltk_data=None) -> tuple[str, str] | None:
    """Where a Punkt model for ``language`` is installed, without loading it.

    Returns ``(root, resource)`` -- the nltk_data directory and the resource name
    (``tokenizers/punkt_tab/<language>/``, else the old
    ``tokenizers/punkt/<language>.pickle``) -- or ``None``.  Searches only
    ``nltk_data`` when given, else ``nltk.data.path`` plus ``$NLTK_DATA``.
    """
    language = _check_language(language)
    for root in _search_paths(nltk_data):
        for template in (_PUNKT_TAB, _PUNKT_PICKLE):
            resource = template.format(language)
            try:
                nltk.data.find(resource, paths=[root])
            except LookupError:
                continue
            return root, resource
    return None


@contextmanager
def _nltk_data_first(root: str):
    """Put ``root`` first on ``nltk.data.path`` for the block, then restore it.

    NLTK (>= 3.9) only opens model files under its data path, so loading from an
    explicit directory needs it there while the model is read.
    """
    saved = list(nltk.data.path)
    nltk.data.path.insert(0, root)
    try:
        yield
    finally:
        nltk.data.path[:] = saved


def _load_punkt(root: str, resource: str, language: str) -> PunktSentenceTokenizer:
    with _nltk_data_first(root):
        if resource.startswith("tokenizers/punkt_tab/"):
            from nltk.tokenize.punkt import PunktTokenizer  # nltk >= 3.8.2

            return PunktTokenizer(language)
        # Old pickled model.  NLTK >= 3.9 refuses pickles and substitutes punkt_tab
        # (LookupError when that is absent); older NLTK unpickles it.
        return nltk.data.load(resource, cache=False)


def train_sentence_tokenizer(text: str) -> SentenceTokenizer:
    """Train NLTK's Punkt (default settings) on ``text`` and wrap the result."""
    trainer = PunktTrainer()
    trainer.train(text, finalize=True)
    return SentenceTokenizer(
        PunktSentenceTokenizer(trainer.get_params()), "trained on the corpus", True
    )


def get_sentence_tokenizer(
    language: str = "english", nltk_data=None, train_text: str | None = None
) -> SentenceTokenizer:
    """NLTK's Punkt sentence splitter, or one trained on ``train_text``.

    The installed model is looked up with :func:`find_punkt_model` (in
    ``nltk_data`` only, when given) and loaded with ``nltk.data.path`` changed only
    for the duration of the load.  Nothing is ever downloaded.  Without a usable
    model, Punkt is trained on ``train_text`` and a WARNING is logged; without
    ``train_text`` either, :class:`DataError` is raised.
    """
    found = find_punkt_model(language, nltk_data)
    where = str(nltk_data) if nltk_data is not None else "nltk.data.path / NLTK_DATA"
    if found is not None:
        root, resource = found
        try:
            punkt = _load_punkt(root, resource, language)
        except (LookupError, OSError, ValueError) as exc:
            logger.warning("Punkt model %s in %s could not be loaded: %s", resource, root, exc)
        else:
            logger.info("Using NLTK Punkt model %s from %s", resource, root)
            return SentenceTokenizer(punkt, str(Path(root) / resource))
    if train_text is None:
        raise DataError(
            f"no NLTK Punkt model for {language!r} in {where} and no text to train one on"
        )
    logger.warning(
        "No NLTK Punkt model for %r in %s (nothing is downloaded): training Punkt on the "
        "corpus itself (%d characters); sentence boundaries will differ from the tutorial's",
        language,
        where,
        len(train_text),
    )
    return train_sentence_tokenizer(train_text)


SentenceSplitter = Callable[[str], list[str]]


def split_sentences(
    documents: Iterable[str], sentence_tokenizer: SentenceSplitter, lowercase: bool = True
) -> list[str]:
    """``itertools.chain(*[sent_tokenize(d.lower()) for d in documents])``, as a list."""
    return [s for doc in documents for s in sentence_tokenizer(doc.lower() if lowercase else doc)]


# ---------------------------------------------------------------- word tokenization

@functools.lru_cache(maxsize=1)
def _treebank():
    return nltk.tokenize.NLTKWordTokenizer()


def word_tokenize(text: str, sentence_tokenizer: SentenceSplitter | None = None) -> list[str]:
    """``nltk.word_tokenize(text)`` with a given sentence splitter.

    With ``sentence_tokenizer`` the text is split by it and each piece is
    Treebank-tokenized -- exactly ``nltk.word_tokenize`` when it is the Punkt
    model NLTK would load.  Without it the text is one line
    (``nltk.word_tokenize(text, preserve_line=True)``).
    """
    pieces = [text] if sentence_tokenizer is None else sentence_tokenizer(text)
    tokenizer = _treebank()
    return [token for piece in pieces for token in tokenizer.tokenize(piece)]


def tokenize_sentences(
    sentences: Iterable[str], sentence_tokenizer: SentenceSplitter | None = None
) -> list[list[str]]:
    """Wrap each sentence as ``"SENTENCE_START <s> SENTENCE_END"`` and word-tokenize it.

    Pass the sentence tokenizer that split the corpus to reproduce the
    tutorials' ``nltk.word_tokenize`` (see the module docstring).
    """
    return [
        word_tokenize(f"{SENTENCE_START} {s} {SENTENCE_END}", sentence_tokenizer)
        for s in sentences
    ]


# --------------------------------------------------------------------- the pipelines


@dataclass
class Corpus:
    """An encoded corpus.

    ``sentences`` are the word tokens of each kept sentence (markers included)
    *before* out-of-vocabulary words are replaced; ``X[i]``/``Y[i]`` encode
    ``sentences[i]``.  ``num_unique_tokens`` counts distinct tokens, markers
    included (the tutorials' "Found %d unique words tokens").  ``dropped`` counts
    the sentences a filter removed (part 4).
    """

    X: list[np.ndarray]
    Y: list[np.ndarray]
    index_to_word: list[str]
    word_to_index: dict[str, int]
    sentences: list[list[str]]
    num_sentences: int
    num_unique_tokens: int
    scheme: str
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def vocabulary_size(self) -> int:
        return len(self.index_to_word)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.index_to_word[int(i)] for i in ids]

    @property
    def vocab(self) -> Vocab:
        """The word list as a :class:`~theano_rnn.data.vocab.Vocab` (unknown ``UNKNOWN_TOKEN``)."""
        return Vocab(self.index_to_word, unknown=UNKNOWN_TOKEN)


def _sentence_tokenizer(documents, sentence_tokenizer, language, nltk_data):
    if sentence_tokenizer is not None:
        return sentence_tokenizer
    train_text = "\n\n".join(d.lower() for d in documents)
    return get_sentence_tokenizer(language, nltk_data, train_text=train_text)


def _finish(scheme, tokenized, vocabulary, size, dropped=None) -> Corpus:
    freq = count_words(tokenized)
    logger.info("Found %d unique words tokens.", len(freq))
    index_to_word, word_to_index = vocabulary(freq, size)
    logger.info("Using vocabulary size %d (%d entries).", size, len(index_to_word))
    # The tutorials' vocab[-1]: part 2 the last of most_common, part 4 (count, word) smallest.
    words = index_to_word[:-1] if scheme == "part2" else index_to_word[2:]
    if words:
        least = words[-1] if scheme == "part2" else min(words, key=lambda w: (freq[w], w))
        logger.info(
            "The least frequent word in our vocabulary is '%s' and appeared %d times.",
            least, freq[least],
        )
    X, Y = encode(tokenized, word_to_index)
    return Corpus(
        X=X, Y=Y, index_to_word=index_to_word, word_to_index=word_to_index,
        sentences=tokenized, num_sentences=len(tokenized), num_unique_tokens=len(freq),
        scheme=scheme, dropped=dropped or {},
    )


def _no_sentences(source, detail=""):
    return DataError(f"{source} contains no sentences{detail}")


def prepare_part2(
    documents: Iterable[str],
    vocabulary_size: int = 8000,
    *,
    sentence_tokenizer: SentenceSplitter | None = None,
    language: str = "english",
    nltk_data=None,
    source: str = "the corpus",
) -> Corpus:
    """The part-2 pipeline (``RNNLM.ipynb``) on in-memory documents.

    ``sentence_tokenizer`` (e.g. from :func:`get_sentence_tokenizer`) is used as
    given; otherwise one is made from ``language``/``nltk_data``, trained on the
    lower-cased documents when no Punkt model is installed.
    """
    size = _check_vocabulary_size(vocabulary_size)
    documents = list(documents)
    tok = _sentence_tokenizer(documents, sentence_tokenizer, language, nltk_data)
    sentences = split_sentences(documents, tok)
    logger.info("Parsed %d sentences.", len(sentences))
    if not sentences:
        raise _no_sentences(source)
    tokenized = tokenize_sentences(sentences, tok)
    return _finish("part2", tokenized, build_vocabulary_part2, size)


def prepare_part4(
    documents: Iterable[str],
    vocabulary_size: int = 2000,
    min_sent_characters: int = 0,
    *,
    sentence_tokenizer: SentenceSplitter | None = None,
    language: str = "english",
    nltk_data=None,
    source: str = "the corpus",
) -> Corpus:
    """The part-4 pipeline (``utils.load_data``) on in-memory documents.

    Sentences (lower-cased, before wrapping) shorter than ``min_sent_characters``
    characters or containing ``"http"`` are dropped.
    """
    size = _check_vocabulary_size(vocabulary_size)
    if isinstance(min_sent_characters, bool) or not isinstance(
        min_sent_characters, (int, np.integer)
    ):
        raise DataError(f"min_sent_characters must be an integer, got {min_sent_characters!r}")
    documents = list(documents)
    tok = _sentence_tokenizer(documents, sentence_tokenizer, language, nltk_data)
    sentences = split_sentences(documents, tok)
    n_all = len(sentences)
    sentences = [s for s in sentences if len(s) >= min_sent_characters]
    n_long = len(sentences)
    sentences = [s for s in sentences if "http" not in s]
    dropped = {"short": n_all - n_long, "http": n_long - len(sentences)}
    logger.info(
        "Parsed %d sentences (dropped %d short, %d with http).",
        len(sentences), dropped["short"], dropped["http"],
    )
    if not sentences:
        detail = (
            f" (of {n_all}: {dropped['short']} shorter than {min_sent_characters} characters, "
            f"{dropped['http']} containing 'http')"
            if n_all else ""
        )
        raise _no_sentences(source, detail)
    tokenized = tokenize_sentences(sentences, tok)
    return _finish("part4", tokenized, build_vocabulary_part4, size, dropped)


def _checked_documents(path, vocabulary_size, column, encoding, max_bytes):
    """The vocabulary size checked before any reading, then ``path``'s documents."""
    _check_vocabulary_size(vocabulary_size)
    return read_corpus(path, column=column, encoding=encoding, max_bytes=max_bytes)


def load_part2(
    path,
    vocabulary_size: int = 8000,
    *,
    column: str = "body",
    encoding: str = "utf-8",
    sentence_tokenizer: SentenceSplitter | None = None,
    language: str = "english",
    nltk_data=None,
    max_bytes: int | None = None,
) -> Corpus:
    """Read ``path`` (:func:`read_corpus`) and run the part-2 pipeline."""
    documents = _checked_documents(path, vocabulary_size, column, encoding, max_bytes)
    return prepare_part2(documents, vocabulary_size, sentence_tokenizer=sentence_tokenizer,
                         language=language, nltk_data=nltk_data, source=str(path))


def load_part4(
    path,
    vocabulary_size: int = 2000,
    min_sent_characters: int = 0,
    *,
    column: str = "body",
    encoding: str = "utf-8",
    sentence_tokenizer: SentenceSplitter | None = None,
    language: str = "english",
    nltk_data=None,
    max_bytes: int | None = None,
) -> Corpus:
    """Read ``path`` (:func:`read_corpus`) and run the part-4 pipeline."""
    documents = _checked_documents(path, vocabulary_size, column, encoding, max_bytes)
    return prepare_part4(documents, vocabulary_size, min_sent_characters,
                         sentence_tokenizer=sentence_tokenizer, language=language,
                         nltk_data=nltk_data, source=str(path))
