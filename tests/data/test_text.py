"""Tests for theano_rnn.data.text: the one text reader (issue 11, item 4).

Every pipeline reads through it, so a device (``/dev/zero``, which used to
grow memory without bound), a FIFO or a corpus over the byte limit is one
DataError line before anything is read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from theano_rnn.cli import char as charcli
from theano_rnn.cli import classify as classifycli
from theano_rnn.cli import cloze as clozecli
from theano_rnn.cli import word as wordcli
from theano_rnn.data import chars, seq, text, words
from theano_rnn.errors import DataError

DEVICE = Path("/dev/zero")
needs_dev_zero = pytest.mark.skipif(not DEVICE.exists(), reason="no /dev/zero")

# every public reader of a corpus-like file, as ``f(path, max_bytes)``
READERS = {
    "read_bytes": lambda p, m=None: text.read_bytes(p, m),
    "read_chars": lambda p, m=None: chars.read_chars(p, max_bytes=m),
    "load_corpus": lambda p, m=None: chars.load_corpus(p, 2, 2, max_bytes=m),
    "read_poems_json": lambda p, m=None: chars.read_poems_json(p, max_bytes=m),
    "read_text": lambda p, m=None: words.read_text(p, max_bytes=m),
    "read_csv_comments": lambda p, m=None: words.read_csv_comments(p, max_bytes=m),
    "read_corpus": lambda p, m=None: words.read_corpus(p, max_bytes=m),
    "load_part2": lambda p, m=None: words.load_part2(p, max_bytes=m),
    "load_part4": lambda p, m=None: words.load_part4(p, max_bytes=m),
    "load_cloze_sentences": lambda p, m=None: seq.load_cloze_sentences(p, max_bytes=m),
    "read_poem_records": lambda p, m=None: seq.read_poem_records(p, max_bytes=m),
    "read_labelled_file": lambda p, m=None: seq.read_labelled_file(p, max_bytes=m),
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("THEANO_RNN_CACHE_DIR", str(tmp_path / "cache"))


@needs_dev_zero
@pytest.mark.parametrize("reader", sorted(READERS))
def test_device_is_refused_before_reading(reader):
    with pytest.raises(DataError, match=r"^/dev/zero is not a regular file \(a device"):
        READERS[reader](DEVICE)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_fifo_is_refused_without_blocking(reader, tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(DataError, match="is not a regular file"):
        READERS[reader](fifo)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_larger_than_max_bytes_is_refused(reader, tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("x" * 101, encoding="utf-8")
    with pytest.raises(DataError, match=r"big.txt is 101 bytes, more than the corpus limit of "
                                        r"100 bytes; raise it with --max-corpus-bytes"):
        READERS[reader](p, 100)


def test_limit_default_context_and_argument(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"abcdef")
    assert text.current_byte_limit() == text.DEFAULT_MAX_BYTES == 512 * 1024 ** 2
    assert text.read_bytes(p) == b"abcdef"
    assert text.read_bytes(p, 6) == b"abcdef"
    with text.corpus_byte_limit(5):
        assert text.current_byte_limit() == 5
        with pytest.raises(DataError, match="limit of 5 bytes"):
            words.read_text(p)
        assert text.read_bytes(p, 6) == b"abcdef"  # an explicit argument wins
        with text.corpus_byte_limit(None):  # None changes nothing
            assert text.current_byte_limit() == 5
    assert text.current_byte_limit() == text.DEFAULT_MAX_BYTES
    for bad in (0, -1, 2.5, True, "5"):
        with pytest.raises(DataError, match="positive integer"):
            text.read_bytes(p, bad)


def test_parse_byte_size():
    assert text.parse_byte_size("1000") == 1000
    assert text.parse_byte_size("512M") == 512 * 1024 ** 2
    assert text.parse_byte_size("2g") == 2 * 1024 ** 3
    assert text.parse_byte_size("64KiB") == 64 * 1024
    for bad in ("", "0", "-3", "1.5M", "12X", "M"):
        with pytest.raises(ValueError, match="not a byte size"):
            text.parse_byte_size(bad)


def test_one_message_per_fault_for_every_reader(tmp_path):
    missing = tmp_path / "nope.txt"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\ncaf\xe9\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    for read in (text.read_bytes, chars.read_chars, words.read_text, seq.read_labelled_file):
        with pytest.raises(DataError, match=f"^file not found: {missing}$"):
            read(missing)
        with pytest.raises(DataError, match=f"^{tmp_path} is a directory, not a file$"):
            read(tmp_path)
    for read in (chars.read_chars, seq.read_labelled_file, text.read_bytes):
        with pytest.raises(DataError, match=f"^{empty} is empty$"):
            read(empty)
    assert words.read_text(empty) == ""  # the word pipeline reports "no sentences" instead
    for read in (chars.read_chars, words.read_text, seq.read_labelled_file):
        with pytest.raises(DataError, match=r"bad.txt is not valid (utf-8|UTF-8): byte 0xe9 at "
                                            r"byte offset 6 \(line 2, invalid continuation"):
            read(bad)


def test_decode_bytes_drops_bom_and_keeps_line_ends():
    assert text.decode_bytes("\ufeffa\r\nb".encode()) == "a\r\nb"
    with pytest.raises(DataError, match="unknown text encoding 'nope'"):
        text.decode_bytes(b"a", encoding="nope")
    with pytest.raises(DataError, match=r"x is not valid ascii: byte 0xc3 .*\(line 1, .*\); hint"):
        text.decode_bytes("é".encode(), "x", "ascii", hint="; hint")


# --------------------------------------------------------------------------- the CLIs


def _run(main, argv, capsys):
    status = main(argv)
    _, err = capsys.readouterr()
    return status, [line for line in err.splitlines() if line.strip()]


@needs_dev_zero
@pytest.mark.parametrize("cli", ["train-char", "train", "train-cloze", "classify"])
def test_cli_refuses_device_in_one_line(cli, tmp_path, capsys):
    out = str(tmp_path / "o.npz")
    argv = {
        "train-char": (charcli.main, ["train-char", "--quiet", "--corpus", "/dev/zero",
                                      "--output", out]),
        "train": (wordcli.main, ["train", "--corpus", "/dev/zero", "--output", out]),
        "train-cloze": (clozecli.main, ["train-cloze", "--corpus", "/dev/zero",
                                        "--output", out]),
        "classify": (classifycli.main, ["classify", "train", "--data", "/dev/zero",
                                        "--output", out]),
    }[cli]
    status, err = _run(*argv, capsys)
    assert status != 0
    # train-cloze checks its --corpus up front ("no such file"); the others reach the reader
    reason = "no such file" if cli == "train-cloze" else "/dev/zero is not a regular file"
    assert len(err) == 1 and reason in err[0] and "/dev/zero" in err[0], err
    assert not Path(out).exists()


@pytest.mark.parametrize("cli", ["train-char", "train", "train-cloze", "classify"])
def test_cli_max_corpus_bytes(cli, tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("label\tthe cat sat on the mat. " * 40, encoding="utf-8")
    out = str(tmp_path / "o.npz")
    main, argv = {
        "train-char": (charcli.main, ["train-char", "--quiet", "--corpus", str(corpus)]),
        "train": (wordcli.main, ["train", "--corpus", str(corpus)]),
        "train-cloze": (clozecli.main, ["train-cloze", "--corpus", str(corpus)]),
        "classify": (classifycli.main, ["classify", "train", "--data", str(corpus)]),
    }[cli]
    status, err = _run(main, [*argv, "--output", out, "--max-corpus-bytes", "1K"], capsys)
    assert status != 0
    assert len(err) == 1 and "more than the corpus limit of 1,024 bytes" in err[0], err
    status, err = _run(main, [*argv, "--output", out, "--max-corpus-bytes", "lots"], capsys)
    assert status == 2 and any("--max-corpus-bytes" in line for line in err), err
