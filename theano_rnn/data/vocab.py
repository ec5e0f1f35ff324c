"""The one vocabulary type: index <-> token for characters, words and cloze/class tokens.

A :class:`Vocab` is a list of distinct tokens (``index_to_token``), its
inverse dict (``token_to_index``) and an optional ``unknown`` token that
out-of-vocabulary input maps to.  Two levels share it:

* **tokens** (``Vocab(tokens, unknown="<unk>")``, the cloze and
  classification vocabularies; :func:`theano_rnn.data.words.Corpus.vocab`
  for the word LMs): :meth:`encode` takes a list of tokens and
  :meth:`decode` gives one back; tokens are non-empty strings without NUL
  (they are stored as a NumPy unicode array, :meth:`to_array`).
* **characters** (``Vocab.of_chars(chars)`` or its char-rnn name
  :class:`CharVocab`; :meth:`from_text` builds one from a corpus): entries
  are single characters, :meth:`encode` takes a ``str`` (a vectorised
  code-point lookup) and :meth:`decode` returns a ``str``; ``unknown`` may be
  None (then a missing character is an error).

Old names stay: ``theano_rnn.data.seq.Vocab`` is this class;
``theano_rnn.data.chars.CharVocab`` is :class:`CharVocab`, the subclass that
only sets the character level and the char-rnn defaults.  Checkpoints keep
their layouts (``to_list()`` + ``unknown`` or ``to_dict()`` for characters,
``to_array()`` for tokens).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from theano_rnn.data.checks import check_int, preview
from theano_rnn.errors import DataError

__all__ = ["UNK", "BLANK", "DEFAULT_UNKNOWN", "Vocab", "CharVocab"]

log = logging.getLogger(__name__)

#: The unknown token of token vocabularies.
UNK = "<unk>"
#: The blank token of cloze vocabularies (index 0 there).
BLANK = "<blank>"
#: Default unknown symbol of character vocabularies: U+FFFD REPLACEMENT CHARACTER.
DEFAULT_UNKNOWN = "\ufffd"

_PRIVATE_USE = range(0xE000, 0xF900)
_MAX_LISTED = 20


def _list_chars(chars: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in chars[:_MAX_LISTED])
    if len(chars) > _MAX_LISTED:
        shown += f", ... ({len(chars) - _MAX_LISTED} more)"
    return shown


def codepoints(text: str) -> np.ndarray:
    """The code points of ``text`` as an int64 array (lone surrogates allowed)."""
    raw = text.encode("utf-32-le", "surrogatepass")
    return np.frombuffer(raw, dtype="<u4").astype(np.int64)


def as_id_array(ids, what: str) -> np.ndarray:
    """``ids`` as a 1-D int64 array (DataError naming ``what`` otherwise)."""
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise DataError(f"{what} must be a 1-D sequence of token ids, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise DataError(f"{what} must hold integer token ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_tokens(tokens: list, what: str) -> list[str]:
    for t in tokens:
        if not isinstance(t, str) or not t:
            raise DataError(f"{what} entries must be non-empty strings, got {t!r}")
        if "\x00" in t:
            raise DataError(f"{what} entries must not contain NUL characters, got {t!r}")
    seen: set[str] = set()
    dups = [t for t in tokens if t in seen or seen.add(t)]
    if dups:
        raise DataError(f"{what} has duplicate entries: {', '.join(map(repr, dups[:5]))}")
    return tokens


def _check_chars(chars: list, unknown) -> list[str]:
    if not chars:
        raise DataError("a character vocabulary needs at least one character")
    for c in chars:
        if not isinstance(c, str) or len(c) != 1:
            raise DataError(f"vocabulary entries must be single characters, got {c!r}")
    if len(set(chars)) != len(chars):
        seen: set[str] = set()
        dups = [c for c in chars if c in seen or seen.add(c)]
        raise DataError(f"vocabulary has duplicate characters: {_list_chars(dups)}")
    if unknown is not None and unknown not in chars:
        raise DataError(f"unknown symbol {unknown!r} is not in the vocabulary")
    return chars


class Vocab:
    """A vocabulary: ``index_to_token`` (list), ``token_to_index`` (dict), ``unknown``.

    Args:
        tokens: the entries in index order, distinct.
        unknown: the token out-of-vocabulary input maps to; must be one of
            ``tokens`` (default ``"<unk>"``; None only for characters).
        chars: character level (see the module docstring).
    """

    def __init__(self, tokens: Iterable[str], unknown: str | None = UNK, *, chars: bool = False):
        tokens = list(tokens)
        self.chars = bool(chars)
        if self.chars:
            _check_chars(tokens, unknown)
        else:
            _check_tokens(tokens, "vocabulary")
            if unknown not in tokens:
                raise DataError(f"the unknown token {unknown!r} is not in the vocabulary")
        self.index_to_token: list[str] = tokens
        self.token_to_index: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.unknown: str | None = unknown
        self._alpha = None
        if self.chars:
            cps = np.array([ord(c) for c in tokens], dtype=np.int64)
            self._order = np.argsort(cps, kind="stable").astype(np.int32)
            self._sorted_cps = cps[self._order]

    # ----------------------------------------------------------------- building

    @classmethod
    def of_chars(cls, chars: Iterable[str], unknown: str | None = None) -> CharVocab:
        """A character vocabulary (a :class:`CharVocab`)."""
        return CharVocab(chars, unknown=unknown)

    @classmethod
    def from_text(cls, text: str, min_freq: int = 1, unknown: str = DEFAULT_UNKNOWN) -> CharVocab:
        """Every distinct character of ``text`` sorted by code point.

        Characters occurring fewer than ``min_freq`` times are left out and map
        to the unknown symbol, which is added only when something maps to it.
        If ``unknown`` occurs in ``text``, the first private-use character
        (U+E000 upward) that does not occur is used instead.
        """
        min_freq = check_int(min_freq, "min_freq")
        if not isinstance(unknown, str) or len(unknown) != 1:
            raise DataError(f"unknown symbol must be a single character, got {unknown!r}")
        if not text:
            raise DataError("cannot build a vocabulary from an empty text")
        cps, counts = np.unique(codepoints(text), return_counts=True)
        keep = counts >= min_freq
        chars = [chr(c) for c in cps[keep].tolist()]
        if keep.all():
            return CharVocab(chars, unknown=None)
        if not chars:
            raise DataError(
                f"min_freq={min_freq} leaves no character in the vocabulary "
                f"(the most frequent character occurs {int(counts.max())} times)"
            )
        present = set(cps.tolist())
        if ord(unknown) in present:
            free = next((cp for cp in _PRIVATE_USE if cp not in present), None)
            if free is None:
                raise DataError(
                    f"unknown symbol {unknown!r} occurs in the text and no private-use "
                    "character is free to replace it"
                )
            log.info(
                "unknown symbol %r occurs in the text; using %r (U+%04X) instead",
                unknown, chr(free), free,
            )
            unknown = chr(free)
        n_rare = int((~keep).sum())
        log.info(
            "min_freq=%d: %d rare characters (%d occurrences) map to the unknown symbol %r",
            min_freq, n_rare, int(counts[~keep].sum()), unknown,
        )
        return CharVocab(sorted(chars + [unknown]), unknown=unknown)

    @classmethod
    def from_list(cls, chars: Iterable[str], unknown: str | None = None) -> CharVocab:
        """The character vocabulary stored by :meth:`to_list` (plus its ``unknown``)."""
        return CharVocab(chars, unknown=unknown)

    def to_list(self) -> list[str]:
        """The entries in index order (a copy); store ``unknown`` beside it."""
        return list(self.index_to_token)

    def to_dict(self) -> dict:
        """``{"chars": [...], "unknown": symbol or None}`` (JSON-serialisable)."""
        return {"chars": self.to_list(), "unknown": self.unknown}

    @classmethod
    def from_dict(cls, d: dict) -> CharVocab:
        try:
            return CharVocab(d["chars"], unknown=d.get("unknown"))
        except (KeyError, TypeError, AttributeError):
            raise DataError("vocabulary dict must have a 'chars' list") from None

    def to_array(self) -> np.ndarray:
        return np.array(self.index_to_token, dtype=np.str_)

    @classmethod
    def from_array(cls, array, unknown: str = UNK) -> Vocab:
        arr = np.asarray(array)
        if arr.ndim != 1 or arr.dtype.kind != "U":
            raise DataError(
                f"a vocabulary array must be a 1-D unicode array, got dtype {arr.dtype} "
                f"shape {arr.shape}"
            )
        return cls(arr.tolist(), unknown=unknown)

    # ----------------------------------------------------------------- lookup

    @property
    def index_to_char(self) -> list[str]:
        return self.index_to_token

    @property
    def char_to_index(self) -> dict[str, int]:
        return self.token_to_index

    @property
    def unknown_index(self) -> int | None:
        """Index of the unknown token, None when there is none."""
        return None if self.unknown is None else self.token_to_index[self.unknown]

    unk_index = unknown_index

    @property
    def blank_index(self) -> int | None:
        """Index of ``"<blank>"`` (0 in a cloze vocabulary), ``None`` if absent."""
        return self.token_to_index.get(BLANK)

    def __len__(self) -> int:
        return len(self.index_to_token)

    def __contains__(self, token: object) -> bool:
        return token in self.token_to_index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return (self.index_to_token == other.index_to_token and self.unknown == other.unknown
                and self.chars == other.chars)

    __hash__ = None

    def __repr__(self) -> str:
        if self.chars:
            return f"{type(self).__name__}({len(self)} characters, unknown={self.unknown!r})"
        return f"{type(self).__name__}({len(self)} tokens: {preview(self.index_to_token)})"

    def unknown_tokens(self, tokens: Iterable[str]) -> list[str]:
        """The distinct tokens of ``tokens`` not in the vocabulary, in first-seen order."""
        return list(dict.fromkeys(t for t in tokens if t not in self.token_to_index))

    def alphabetic_mask(self) -> np.ndarray:
        """Boolean array: token ``i`` has an alphabetic character (``str.isalpha``)."""
        if self._alpha is None:
            self._alpha = np.array(
                [any(ch.isalpha() for ch in t) for t in self.index_to_token], dtype=bool
            )
        return self._alpha

    # ----------------------------------------------------------------- encoding

    def _lookup(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids with -1 for missing characters, boolean hit mask)."""
        q = codepoints(text)
        pos = np.searchsorted(self._sorted_cps, q)
        np.minimum(pos, len(self._sorted_cps) - 1, out=pos)
        hit = self._sorted_cps[pos] == q
        ids = np.where(hit, self._order[pos], -1).astype(np.int32)
        return ids, hit

    @staticmethod
    def _missing(text: str, hit: np.ndarray) -> list[str]:
        """Missing characters in order of first appearance."""
        missing: dict[str, None] = {}
        for i in np.flatnonzero(~hit).tolist():
            missing.setdefault(text[i], None)
        return list(missing)

    def encode(self, tokens) -> np.ndarray:
        """Ids (``np.int32``) of a token list, or of a ``str`` for a character vocabulary.

        Out-of-vocabulary entries map to ``unknown``; a character vocabulary
        without one raises :class:`DataError` listing the missing characters.
        """
        if self.chars:
            return self._encode_text(tokens)
        if isinstance(tokens, str):
            raise DataError("Vocab.encode expects a list of tokens, got a str (tokenize it first)")
        unk = self.unknown_index
        get = self.token_to_index.get
        tokens = list(tokens)
        return np.fromiter((get(t, unk) for t in tokens), dtype=np.int32, count=len(tokens))

    def _encode_text(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise DataError(f"encode expects a str, got {type(text).__name__}")
        ids, hit = self._lookup(text)
        if not hit.all():
            if self.unknown is None:
                missing = self._missing(text, hit)
                raise DataError(
                    f"{len(missing)} characters are not in the vocabulary and it has no "
                    f"unknown symbol: {_list_chars(missing)}"
                )
            ids[~hit] = self.token_to_index[self.unknown]
        return ids

    def encode_prime(self, text: str, policy: str = "unknown") -> np.ndarray:
        """Encode a sampling prime (character vocabularies).

        Args:
            text: the prime; an empty prime gives an empty array.
            policy: ``"unknown"``: characters missing from the vocabulary map
                to the unknown symbol (a :class:`DataError` if the vocabulary
                has none); ``"error"``: any missing character raises.

        Raises:
            DataError: listing the missing characters; always when no
                character of a non-empty prime is in the vocabulary.
        """
        if not self.chars:
            raise DataError("encode_prime needs a character vocabulary")
        if policy not in ("unknown", "error"):
            raise DataError(f"prime policy must be 'unknown' or 'error', got {policy!r}")
        if not isinstance(text, str):
            raise DataError(f"prime text must be a str, got {type(text).__name__}")
        ids, hit = self._lookup(text)
        if hit.all():
            return ids
        missing = self._missing(text, hit)
        listed = _list_chars(missing)
        if not hit.any():
            raise DataError(f"no character of the prime text is in the vocabulary (missing: {listed})")
        if policy == "error":
            raise DataError(f"prime text has {len(missing)} characters not in the vocabulary: {listed}")
        if self.unknown is None:
            raise DataError(
                f"prime text has {len(missing)} characters not in the vocabulary ({listed}) "
                "and the vocabulary has no unknown symbol"
            )
        log.warning("prime characters not in the vocabulary map to %r: %s", self.unknown, listed)
        ids[~hit] = self.token_to_index[self.unknown]
        return ids

    def decode(self, ids):
        """The tokens of ``ids`` (a list), or the text (a ``str``) for characters."""
        if self.chars:
            return self._decode_text(ids)
        arr = as_id_array(ids, "decode input")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            bad = arr[(arr < 0) | (arr >= len(self))][0]
            raise DataError(f"token id {bad} is out of range for a vocabulary of {len(self)}")
        return [self.index_to_token[i] for i in arr.tolist()]

    def _decode_text(self, ids) -> str:
        arr = np.asarray(ids)
        if arr.size == 0:
            return ""
        if arr.dtype.kind not in "iu":
            raise DataError(f"decode expects integer ids, got dtype {arr.dtype}")
        arr = arr.ravel()
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= len(self):
            bad = lo if lo < 0 else hi
            raise DataError(f"id {bad} is out of range for a vocabulary of {len(self)} characters")
        itc = self.index_to_token
        return "".join([itc[i] for i in arr.tolist()])


class CharVocab(Vocab):
    """char-rnn's name for a character :class:`Vocab` (``unknown`` defaults to None).

    Build one from a text with :meth:`from_text`; rebuild one from a checkpoint
    with :meth:`from_list` (``to_list()`` and ``unknown`` are what to store;
    :meth:`to_dict` / :meth:`from_dict` hold both).
    """

    def __init__(self, chars: Iterable[str], unknown: str | None = None):
        super().__init__(chars, unknown, chars=True)
