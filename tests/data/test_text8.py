"""The text8-style corpus and the 6_lstm notebook's batch helpers (theano_rnn/data/text8.py)."""

import numpy as np
import pytest

from tests.shared_data import shared_data_dir
from theano_rnn.data import text8
from theano_rnn.errors import DataError

SHAKESPEARE = shared_data_dir() / "tinyshakespeare" / "input.txt"


def test_filter_follows_text8_rules():
    assert text8.text8_filter("First Citizen:\nDon't  3 -- x!") == "first citizen don t three x "
    assert text8.text8_filter("  a\t\tb") == " a b"
    assert text8.text8_filter("Caf\u00e9 42") == "caf four two "
    out = text8.text8_filter("Hello, World!\n\n1999? Yes.")
    assert set(out) <= set("abcdefghijklmnopqrstuvwxyz ")
    assert "  " not in out


def test_char2id_id2char():
    assert [text8.char2id(c) for c in " az"] == [0, 1, 26]
    assert text8.char2id("\u00ef") == 0
    assert "".join(text8.id2char(i) for i in range(27)) == " abcdefghijklmnopqrstuvwxyz"
    assert text8.VOCABULARY_SIZE == 27


def test_batch_generator_overlap_and_segments():
    text = "abcdefghijklmnopqrstuvwxyz" * 2  # 52 characters, 4 segments of 13
    gen = text8.BatchGenerator(text, 4, 3)
    first, second = gen.next(), gen.next()
    assert len(first) == 4 and first[0].shape == (4, 27)
    assert text8.batches2string(first) == ["abcd", "nopq", "abcd", "nopq"]
    assert text8.batches2string(second) == ["defg", "qrst", "defg", "qrst"]
    np.testing.assert_array_equal(first[-1], second[0])  # the overlapping last character


def test_batch_generator_wraps_like_the_validation_pass():
    valid = text8.BatchGenerator("ab c", 1, 1)
    pairs = ["".join(text8.characters(b)[0] for b in valid.next()) for _ in range(5)]
    assert pairs == ["ab", "b ", " c", "ca", "ab"]


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason=f"{SHAKESPEARE} not found")
def test_shakespeare_corpus_split(monkeypatch):
    monkeypatch.setenv("THEANO_RNN_SHARED_DATA", str(shared_data_dir()))
    corpus = text8.load_text8_style()
    assert corpus.text.startswith("first citizen before we proceed")
    assert set(corpus.text) == set("abcdefghijklmnopqrstuvwxyz ")
    assert "  " not in corpus.text
    assert len(corpus.valid_text) == 1000 and corpus.valid_text + corpus.train_text == corpus.text
    assert 1_000_000 < len(corpus.text) < 1_115_394


def test_corpus_errors(tmp_path, monkeypatch):
    small = tmp_path / "small.txt"
    small.write_text("too short", encoding="utf-8")
    with pytest.raises(DataError, match="valid_size"):
        text8.load_text8_style(small)
    monkeypatch.delenv("THEANO_RNN_SHARED_DATA", raising=False)
    with pytest.raises(DataError, match="THEANO_RNN_SHARED_DATA"):
        text8.default_source()
