"""The embedded default corpus: English prose that ships with Python itself.

``theano-rnn train`` with no ``--corpus`` trains on the text of Python's own
language reference as ``pydoc`` shows it (``help("if")``):
``pydoc_data.topics.topics``, a dict of about 80 topics and 460 KB of
documentation, installed with CPython.  Nothing is downloaded.

:func:`default_corpus_documents` turns it into plain prose paragraphs, one
document per paragraph (as :func:`theano_rnn.data.words.read_corpus` does for text
files).  The reST remnants are removed with simple rules:

* headings (a line followed by ``****``/``====``/``----``) are dropped;
* code examples, grammar productions (``::=``), interactive sessions
  (``>>>``) and lone signatures such as ``object.__index__(self)`` are
  dropped: a paragraph is kept only when it reads like prose (mostly letters,
  ends like a sentence, no ``::=``/``>>>``);
* list markers (``*``, ``1.``), the double quotes that mark code literals
  (``The "if" statement`` -> ``The if statement``), the asterisks of
  ``*emphasis*`` and line breaks inside a paragraph are removed; curly
  apostrophes become ``'``.

Some Python distributions (Debian's ``python3-minimal``, slim containers)
strip ``pydoc_data``; then :class:`CorpusUnavailableError` explains what to do.
"""

from __future__ import annotations

import re
import textwrap

from theano_rnn.errors import DataError

__all__ = [
    "DEFAULT_CORPUS_NAME",
    "CorpusUnavailableError",
    "default_corpus_documents",
    "clean_paragraph",
]

DEFAULT_CORPUS_NAME = (
    "the Python language reference as shipped with Python (pydoc_data.topics, "
    "the text behind help('if')), cleaned to prose paragraphs"
)

_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")
_UNDERLINE_RE = re.compile(r"^\s*([*=\-~^#])\1{2,}\s*$")
_LIST_MARKER_RE = re.compile(r"^(?:[*\-+•]|\(?\d+[.)]|\(?[a-z][.)])\s+")
_QUOTED_RE = re.compile(r'"([^"\n]{1,60})"')
_EMPHASIS_RE = re.compile(r"(?<![\w*])\*{1,2}([^*\n]+?)\*{1,2}(?![\w*])")
_SPACE_RE = re.compile(r"\s+")
_CODE_START_RE = re.compile(
    r"^(?:>>>|\.\.\.|def |class |async |import |from \S+ import|for \S.* in |while |try:|"
    r"with |if \S.*:$|return\b|raise\b|@)"
)
_SENTENCE_END_RE = re.compile(r"[.?!:;)]$")

MIN_PARAGRAPH_CHARS = 40
MIN_LETTER_FRACTION = 0.8


class CorpusUnavailableError(DataError):
    """The embedded corpus cannot be read (``pydoc_data`` is not installed)."""


def _topics():
    try:
        from pydoc_data.topics import topics
    except ImportError:
        raise CorpusUnavailableError(
            "the embedded default corpus needs the standard-library module pydoc_data, "
            "which this Python installation lacks (some distributions strip it; on "
            "Debian/Ubuntu install the full python3 package); pass --corpus FILE instead"
        ) from None
    if not isinstance(topics, dict) or not topics:
        raise CorpusUnavailableError("pydoc_data.topics.topics is empty; pass --corpus FILE")
    return topics


def clean_paragraph(paragraph: str) -> str | None:
    """One paragraph of pydoc text as a line of prose, or ``None`` to drop it."""
    lines = [ln for ln in paragraph.split("\n") if ln.strip()]
    if not lines:
        return None
    # A heading ("Title\n*****") -- or any paragraph holding an underline.
    if any(_UNDERLINE_RE.match(ln) for ln in lines):
        return None
    text = textwrap.dedent("\n".join(lines))
    first = text.split("\n", 1)[0]
    # A paragraph indented inside its own first line (a code block after a
    # "::" or a continuation of a literal block) is code.
    rest = text.split("\n")[1:]
    if rest and min(len(r) - len(r.lstrip()) for r in rest) > 3:
        return None
    if "::=" in text or ">>>" in text or _CODE_START_RE.match(first.strip()):
        return None
    text = _LIST_MARKER_RE.sub("", text.strip())
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    text = _QUOTED_RE.sub(r"\1", text)
    text = _EMPHASIS_RE.sub(r"\1", text)
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) < MIN_PARAGRAPH_CHARS or not _SENTENCE_END_RE.search(text):
        return None
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    if letters < MIN_LETTER_FRACTION * len(text):
        return None
    if text.startswith(("See also", "Changed in version", "New in version", "Deprecated")):
        return None
    return text


def default_corpus_documents(max_chars: int | None = None) -> list[str]:
    """The embedded corpus as a list of prose paragraphs (deterministic order).

    Args:
        max_chars: stop once this many characters of paragraphs are collected
            (the paragraph that crosses the limit is still included); ``None``
            = all of it (about 2,000 paragraphs, 300 KB).
    Raises:
        CorpusUnavailableError: ``pydoc_data`` is missing.
    """
    if max_chars is not None and int(max_chars) < 1:
        raise DataError(f"max_chars must be positive, got {max_chars!r}")
    topics = _topics()
    documents: list[str] = []
    total = 0
    for key in sorted(topics):
        for paragraph in _PARAGRAPH_RE.split(str(topics[key])):
            text = clean_paragraph(paragraph)
            if text is None:
                continue
            documents.append(text)
            total += len(text)
            if max_chars is not None and total >= max_chars:
                return documents
    if not documents:
        raise CorpusUnavailableError("pydoc_data.topics holds no prose paragraphs")
    return documents


# ---------------------------------------------------------------------------
# The char-rnn default corpus: Python's own standard library source
# ---------------------------------------------------------------------------
#
# Karpathy trained char-rnn on the Linux kernel's C source; ``theano-rnn
# train-char`` with no ``--corpus`` does the same with the Python source that
# every Python installation ships: the standard library's top-level modules.

PYTHON_SOURCE_CORPUS_NAME = (
    "the Python standard library's own source (top-level public modules of "
    "sysconfig.get_paths()['stdlib'], alphabetical order)"
)
#: Default size of :func:`python_source_corpus` (characters).
PYTHON_SOURCE_MAX_CHARS = 300_000


def python_source_files(stdlib_dir=None):
    """The ``.py`` files :func:`python_source_corpus` reads, in order.

    The top-level modules of the standard library directory
    (``sysconfig.get_paths()["stdlib"]`` unless ``stdlib_dir`` is given) whose
    names do not start with ``_`` (private, bootstrap and machine-specific
    modules such as ``_sysconfigdata_*``), sorted by name.  Packages --
    ``test/``, ``site-packages/``, ``idlelib/``, ... -- are not descended into,
    so no test suite and no third-party code is included.

    Raises:
        CorpusUnavailableError: the directory is missing or holds no modules
            (e.g. an embedded Python whose standard library is a zip file).
    """
    import sysconfig
    from pathlib import Path

    directory = Path(stdlib_dir) if stdlib_dir is not None else Path(sysconfig.get_paths()["stdlib"])
    try:
        names = sorted(
            p.name for p in directory.iterdir()
            if p.suffix == ".py" and not p.name.startswith("_") and p.is_file()
        )
    except OSError:
        names = []
    if not names:
        raise CorpusUnavailableError(
            f"the embedded char corpus reads the standard library's .py files, but {directory} "
            "holds none (is the standard library zipped?); pass --corpus FILE instead"
        )
    return [directory / n for n in names]


def python_source_corpus(max_chars=PYTHON_SOURCE_MAX_CHARS, stdlib_dir=None) -> str:
    """Python source code that ships with Python itself, as one text.

    The files of :func:`python_source_files` are read as UTF-8 (files that
    are not valid UTF-8 are skipped) and concatenated whole, in order, each
    ending with a newline, until ``max_chars`` characters are collected; the
    file that crosses the limit is cut at its last line break before it, so
    the text has at most ``max_chars`` characters and ends with a newline.
    ``max_chars=None`` reads every file (about 4.5 MB on CPython 3.11).

    The result is deterministic for a given Python installation (a different
    Python version ships different source).  With the default 300,000
    characters on CPython 3.11 it is ``abc.py`` to ``bz2.py``, pure ASCII,
    96 distinct characters.

    Raises:
        CorpusUnavailableError: no standard library source is installed.
        DataError: ``max_chars`` is not a positive integer.
    """
    if max_chars is not None and (isinstance(max_chars, bool) or int(max_chars) < 1):
        raise DataError(f"max_chars must be a positive integer, got {max_chars!r}")
    parts: list[str] = []
    total = 0
    for path in python_source_files(stdlib_dir):
        try:
            text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            continue
        if not text.strip():
            continue
        if not text.endswith("\n"):
            text += "\n"
        if max_chars is not None and total + len(text) > max_chars:
            cut = text.rfind("\n", 0, int(max_chars) - total)
            if cut >= 0:
                parts.append(text[: cut + 1])
            break
        parts.append(text)
        total += len(text)
        if max_chars is not None and total >= max_chars:
            break
    if not parts:
        raise CorpusUnavailableError("the standard library's .py files could not be read; pass --corpus FILE")
    return "".join(parts)


__all__ += ["PYTHON_SOURCE_CORPUS_NAME", "PYTHON_SOURCE_MAX_CHARS", "python_source_files",
            "python_source_corpus"]
