"""Tests for theano_rnn.data.vocab: the one vocabulary type (issue 11, item 5)."""

from __future__ import annotations

import numpy as np
import pytest

from theano_rnn.data import chars, seq, vocab, words
from theano_rnn.data.vocab import CharVocab, Vocab
from theano_rnn.errors import DataError


def test_every_old_name_is_the_one_type():
    assert seq.Vocab is Vocab and chars.CharVocab is CharVocab
    assert issubclass(CharVocab, Vocab)
    # the subclass only sets the level and char-rnn's defaults: no method of its own
    assert set(vars(CharVocab)) - {"__init__", "__doc__", "__module__", "__qualname__"} == set()
    v = CharVocab.from_text("abca")
    assert isinstance(v, Vocab) and v.chars and v.unknown is None
    assert Vocab.of_chars(["a", "b", "c"]) == v == CharVocab.from_list(v.to_list())
    assert v.index_to_char is v.index_to_token and v.char_to_index is v.token_to_index


def test_levels_encode_and_decode_their_own_way():
    c = Vocab.of_chars(["a", "b", "\ufffd"], unknown="\ufffd")
    ids = c.encode("abz")
    assert ids.dtype == np.int32 and ids.tolist() == [0, 1, 2]
    assert c.decode(ids) == "ab\ufffd"
    t = Vocab(["<unk>", "ab", "cd"])
    assert t.encode(["ab", "zz", "cd"]).tolist() == [1, 0, 2]
    assert t.decode([1, 2]) == ["ab", "cd"]
    with pytest.raises(DataError, match="expects a list of tokens"):
        t.encode("ab")
    with pytest.raises(DataError, match="needs a character vocabulary"):
        t.encode_prime("ab")
    assert c != Vocab(["a", "b", "\ufffd"], unknown="\ufffd")  # same entries, other level
    assert repr(c) == "CharVocab(3 characters, unknown='\ufffd')"
    assert repr(t) == "Vocab(3 tokens: <unk> ab cd)"


def test_unknown_index_names_agree():
    t = Vocab(["a", "<unk>"])
    assert t.unk_index == t.unknown_index == 1
    assert Vocab.of_chars(["a"]).unknown_index is None


def test_checkpoint_layouts_round_trip():
    c = CharVocab.from_text("hello world", min_freq=2)
    assert CharVocab.from_dict(c.to_dict()) == c
    assert CharVocab.from_list(c.to_list(), unknown=c.unknown) == c
    t = seq.build_cloze_vocab([["the", "cat"], ["the", "dog"]], 10)
    arr = t.to_array()
    assert arr.dtype.kind == "U" and Vocab.from_array(arr) == t


def test_word_corpus_vocab_is_a_vocab(tmp_path):
    corpus = words.prepare_part4(["the cat sat. the dog sat."], 10,
                                 sentence_tokenizer=lambda s: s.split(". "))
    v = corpus.vocab
    assert isinstance(v, vocab.Vocab) and v.index_to_token == corpus.index_to_word
    assert v.token_to_index == corpus.word_to_index and v.unknown == words.UNKNOWN_TOKEN
    ids = v.encode(["the", "zebra"])
    assert ids.tolist() == [corpus.word_to_index["the"], corpus.word_to_index[words.UNKNOWN_TOKEN]]
