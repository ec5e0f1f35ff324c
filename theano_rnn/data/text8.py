"""A text8-style corpus and the Udacity ``6_lstm`` notebook's data helpers.

text8 (Matt Mahoney's ``wikifil.pl`` filter of a Wikipedia dump) is lowercase
``a``-``z`` and single spaces only.  :func:`text8_filter` applies the same
character rules to any text:

* ASCII ``A``-``Z`` are lowercased;
* each digit is spelled out as a word (``3`` -> `` three ``), as wikifil does;
* every other character (punctuation, newlines, tabs, non-ASCII letters) is
  turned into a **space** -- not removed: ``don't`` becomes ``don t``, as in
  text8 (``it s``);
* runs of spaces are collapsed into one (wikifil's ``tr/a-z/ /cs``).

Nothing is stripped at the ends (text8 itself begins with a space).

:func:`load_text8_style` builds the corpus from a file of the shared data
folder (default: Tiny Shakespeare, ``$THEANO_RNN_SHARED_DATA``) through the
one reader, :func:`theano_rnn.data.text.read_text`, and splits it like the
notebook: the first ``valid_size`` (1000) characters are the validation text,
the rest the training text.

The notebook's helpers, with its semantics: :func:`char2id` (space 0,
``a``-``z`` 1-26; anything else is "unexpected" and maps to 0, logged, not
printed), :func:`id2char`, :class:`BatchGenerator` (``batch_size`` cursors
spaced ``len // batch_size`` apart; each :meth:`BatchGenerator.next` returns
the previous call's last one-hot batch followed by ``num_unrollings`` new
ones, so consecutive arrays overlap by one character), :func:`characters`
and :func:`batches2string`.
"""

from __future__ import annotations

import logging
import os
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theano_rnn.data.text import read_text
from theano_rnn.errors import DataError

__all__ = [
    "VOCABULARY_SIZE", "VALID_SIZE", "DIGIT_WORDS", "text8_filter", "Text8Corpus",
    "load_text8_style", "default_source", "char2id", "id2char", "BatchGenerator",
    "characters", "batches2string",
]

log = logging.getLogger(__name__)

#: ``[a-z] + ' '``
VOCABULARY_SIZE = len(string.ascii_lowercase) + 1
#: the notebook's validation size (the first 1000 characters)
VALID_SIZE = 1000
FIRST_LETTER = ord("a")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_TABLE = {ord(c): c.lower() for c in string.ascii_uppercase}
_TABLE.update({ord(str(d)): f" {w} " for d, w in enumerate(DIGIT_WORDS)})


def text8_filter(text: str) -> str:
    """``text`` under text8's character rules (see the module docstring)."""
    text = text.translate(_TABLE)
    out, space = [], False
    for ch in text:
        if "a" <= ch <= "z":
            out.append(ch)
            space = False
        elif not space:
            out.append(" ")
            space = True
    return "".join(out)


@dataclass(frozen=True)
class Text8Corpus:
    """The filtered text and the notebook's split of it."""

    text: str
    valid_text: str
    train_text: str
    source: str


def default_source() -> Path:
    """Tiny Shakespeare in the shared data folder (``$THEANO_RNN_SHARED_DATA``)."""
    root = os.environ.get("THEANO_RNN_SHARED_DATA")
    if not root:
        raise DataError("THEANO_RNN_SHARED_DATA is not set: pass the corpus path explicitly")
    return Path(root) / "tinyshakespeare" / "input.txt"


def load_text8_style(path=None, valid_size: int = VALID_SIZE, max_bytes=None) -> Text8Corpus:
    """Read ``path`` (default :func:`default_source`), filter it, split off validation."""
    path = default_source() if path is None else Path(path)
    text = text8_filter(read_text(path, max_bytes=max_bytes))
    valid_size = int(valid_size)
    if valid_size < 1 or len(text) <= valid_size:
        raise DataError(
            f"{path}: {len(text)} characters after filtering, need more than valid_size={valid_size}"
        )
    return Text8Corpus(text, text[:valid_size], text[valid_size:], str(path))


def char2id(char: str) -> int:
    """Space -> 0, ``a``-``z`` -> 1..26; anything else -> 0 (the notebook printed a warning)."""
    if char in string.ascii_lowercase and len(char) == 1:
        return ord(char) - FIRST_LETTER + 1
    if char != " ":
        log.warning("Unexpected character: %r", char)
    return 0


def id2char(dictid: int) -> str:
    """1..26 -> ``a``-``z``; 0 (and below) -> space."""
    return chr(int(dictid) + FIRST_LETTER - 1) if dictid > 0 else " "


class BatchGenerator:
    """The notebook's ``BatchGenerator(text, batch_size, num_unrollings)``.

    ``next()`` -> list of ``num_unrollings + 1`` one-hot arrays
    ``(batch_size, VOCABULARY_SIZE)``: the last batch of the previous call,
    then ``num_unrollings`` new ones.  Cursor ``b`` starts at ``b * (len //
    batch_size)`` and wraps around the text.
    """

    def __init__(self, text, batch_size, num_unrollings, dtype=np.float64):
        self._text = text
        self._text_size = len(text)
        if self._text_size < 1 or batch_size < 1 or num_unrollings < 1:
            raise DataError("BatchGenerator needs a non-empty text and positive sizes")
        self._batch_size = int(batch_size)
        self._num_unrollings = int(num_unrollings)
        self._dtype = dtype
        segment = self._text_size // self._batch_size
        self._cursor = [offset * segment for offset in range(self._batch_size)]
        self._last_batch = self._next_batch()

    def _next_batch(self):
        batch = np.zeros((self._batch_size, VOCABULARY_SIZE), dtype=self._dtype)
        for b in range(self._batch_size):
            batch[b, char2id(self._text[self._cursor[b]])] = 1.0
            self._cursor[b] = (self._cursor[b] + 1) % self._text_size
        return batch

    def next(self):
        batches = [self._last_batch]
        for _ in range(self._num_unrollings):
            batches.append(self._next_batch())
        self._last_batch = batches[-1]
        return batches

    __next__ = next

    def __iter__(self):
        return self


def characters(probabilities):
    """The most likely character of each row of a one-hot / probability matrix."""
    return [id2char(c) for c in np.argmax(probabilities, 1)]


def batches2string(batches):
    """One string per batch row, reading the batches in order."""
    s = [""] * batches[0].shape[0]
    for b in batches:
        s = ["".join(x) for x in zip(s, characters(b))]
    return s
