"""The one text reader: every corpus, poem list and labelled file is read here.

:func:`read_bytes` refuses, before reading anything, a path that is not a
regular file (a device such as ``/dev/zero``, a FIFO, a socket, a directory)
and a file larger than the byte limit; :func:`decode_bytes` decodes strictly
and reports the first bad byte by offset and line.  Every failure is one
:class:`~theano_rnn.errors.DataError` line.

The byte limit is ``max_bytes`` when a function gets one, else the limit of
the innermost :func:`corpus_byte_limit` block (the CLIs' ``--max-corpus-bytes``
sets one around a command), else :data:`DEFAULT_MAX_BYTES` (512 MiB: about
twenty times 红楼梦 and more than any tutorial corpus; the text's code points
and ids take several times the file's size in memory).
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import io
import re
import stat
from contextlib import contextmanager
from pathlib import Path

from theano_rnn.errors import DataError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "corpus_byte_limit",
    "current_byte_limit",
    "parse_byte_size",
    "check_file",
    "read_bytes",
    "decode_bytes",
    "read_text_file",
    "canonical_encoding",
    "PARAGRAPH_RE",
    "read_text",
    "read_csv_comments",
    "read_corpus",
]

#: Default largest corpus file, in bytes (512 MiB).
DEFAULT_MAX_BYTES = 512 * 1024 ** 2

_LIMIT: contextvars.ContextVar[int] = contextvars.ContextVar(
    "theano_rnn_max_corpus_bytes", default=DEFAULT_MAX_BYTES
)
_SIZE_RE = re.compile(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", re.IGNORECASE)
#: A blank line: what separates paragraphs (documents) in a plain-text corpus.
PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


def _check_limit(max_bytes) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise DataError(f"the corpus byte limit must be a positive integer, got {max_bytes!r}")
    return int(max_bytes)


def parse_byte_size(text) -> int:
    """``"1000"``, ``"512M"``, ``"2G"``, ``"64KiB"`` -> bytes (binary units); >= 1.

    Raises ``ValueError`` (argparse turns it into a usage error).
    """
    m = _SIZE_RE.fullmatch(str(text))
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"not a byte size: {text!r} (e.g. 536870912, 512M, 2G)")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def current_byte_limit() -> int:
    """The byte limit in force (see the module docstring)."""
    return _LIMIT.get()


@contextmanager
def corpus_byte_limit(max_bytes: int | None):
    """Within the block, files up to ``max_bytes`` bytes are read (None: no change)."""
    if max_bytes is None:
        yield current_byte_limit()
        return
    token = _LIMIT.set(_check_limit(max_bytes))
    try:
        yield max_bytes
    finally:
        _LIMIT.reset(token)


def canonical_encoding(encoding: str) -> str:
    """Python's name for ``encoding`` (``"UTF8"`` -> ``"utf-8"``); DataError if unknown."""
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise DataError(f"unknown text encoding {encoding!r}") from None


def _too_large(p: Path, size: int, limit: int) -> DataError:
    return DataError(
        f"{p} is {size:,} bytes, more than the corpus limit of {limit:,} bytes; "
        "raise it with --max-corpus-bytes (or max_bytes=)"
    )


def check_file(path, max_bytes: int | None = None) -> int:
    """Check that ``path`` is a regular file within the byte limit, reading nothing.

    Returns its size in bytes.
    """
    p = Path(path)
    limit = current_byte_limit() if max_bytes is None else _check_limit(max_bytes)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DataError(f"file not found: {p}") from None
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{p} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{p} is not a regular file (a device, FIFO or socket): pass a text file")
    if st.st_size > limit:
        raise _too_large(p, st.st_size, limit)
    return int(st.st_size)


def read_bytes(path, max_bytes: int | None = None, *, allow_empty: bool = False) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes (:func:`check_file`).

    Raises:
        DataError: missing, a directory, not a regular file, too large,
            unreadable, or empty (``"... is empty"``, unless ``allow_empty``).
    """
    p = Path(path)
    limit = current_byte_limit() if max_bytes is None else _check_limit(max_bytes)
    check_file(p, limit)
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)  # the file may have grown since the stat
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise _too_large(p, len(data), limit)
    if not data and not allow_empty:
        raise DataError(f"{p} is empty")
    return data


def decode_bytes(data: bytes, path="<bytes>", encoding: str = "utf-8", *, name: str | None = None,
                 hint: str = "") -> str:
    """``data`` decoded strictly with ``encoding``, a leading byte-order mark dropped.

    Line endings are left alone (each pipeline normalises its own).  ``name``
    is the encoding as the message writes it (default ``encoding``); ``hint``
    is appended to the message.

    Raises:
        DataError: ``"<path> is not valid <name>: byte 0x.. at byte offset N
            (line L, <reason>)<hint>"`` for the first bad byte.
    """
    canonical_encoding(encoding)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1]
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path} is not valid {name or encoding}: byte 0x{bad.hex()} at byte offset "
            f"{exc.start} (line {line}, {exc.reason}){hint}"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text_file(path, encoding: str = "utf-8", max_bytes: int | None = None, *,
                   allow_empty: bool = False, name: str | None = None, hint: str = "") -> str:
    """:func:`read_bytes` then :func:`decode_bytes`."""
    data = read_bytes(path, max_bytes, allow_empty=allow_empty)
    return decode_bytes(data, Path(path), encoding, name=name, hint=hint)


# ------------------------------------------------------------------ documents


def read_text(path, encoding: str = "utf-8", max_bytes: int | None = None) -> str:
    """The whole file as text, strictly decoded, newlines normalized to ``\\n``.

    Read by :func:`read_bytes` (regular files within the
    byte limit only).
    """
    return read_text_file(path, encoding, max_bytes, allow_empty=True).replace("\r\n", "\n").replace("\r", "\n")


def read_csv_comments(path, column: str = "body", encoding: str = "utf-8",
                      max_bytes: int | None = None) -> list[str]:
    """The ``column`` field of every record of a CSV file with a header row.

    Parsed like the tutorials (``csv.reader(f, skipinitialspace=True)``, header
    skipped), so a final record cut off inside its quotes is returned as Python's
    csv module yields it.  Empty lines are skipped.  The tutorials took ``x[0]``;
    here the column is found by name in the header.
    """
    text = read_text_file(path, encoding, max_bytes, allow_empty=True)
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path} is empty: a CSV header row with {column!r} is required")
        if column not in header:
            raise DataError(f"{path} has no {column!r} column; columns found: {header}")
        index = header.index(column)
        comments = []
        for row in reader:
            if not row:
                continue
            if len(row) <= index:
                raise DataError(
                    f"{path}: record ending on line {reader.line_num} has {len(row)} field(s), "
                    f"no {column!r} column"
                )
            comments.append(row[index])
    except csv.Error as exc:
        raise DataError(f"{path}: CSV error near line {reader.line_num}: {exc}") from None
    return comments


def read_corpus(path, column: str = "body", encoding: str = "utf-8",
                max_bytes: int | None = None) -> list[str]:
    """The documents of a corpus file.

    ``*.csv``: one document per record (:func:`read_csv_comments`).  Anything
    else: plain text split into paragraphs on blank lines, each paragraph
    stripped, empty ones dropped.
    """
    if Path(path).suffix.lower() == ".csv":
        return read_csv_comments(path, column=column, encoding=encoding, max_bytes=max_bytes)
    paragraphs = PARAGRAPH_RE.split(read_text(path, encoding=encoding, max_bytes=max_bytes))
    return [p.strip() for p in paragraphs if p.strip()]
