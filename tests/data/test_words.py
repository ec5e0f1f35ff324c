"""Tests for theano_rnn.data.words: the word-level pipeline of WildML parts 2 and 4."""

from __future__ import annotations

import csv
import itertools
import logging
import operator
from collections import Counter

import nltk
import numpy as np
import pytest

from theano_rnn.data import words as data
from theano_rnn.data.words import MASK_TOKEN, SENTENCE_END, SENTENCE_START, UNKNOWN_TOKEN
from theano_rnn.errors import DataError

from tests.shared_data import shared_data_dir

SHARED = shared_data_dir()
NLTK_DATA = SHARED / "nltk_data"
REDDIT = SHARED / "reddit" / "reddit-comments-2015-08.first212.csv"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"shared data folder {SHARED} is absent (set THEANO_RNN_SHARED_DATA)",
)


def _refuse_download(*args, **kwargs):
    raise AssertionError("the data pipeline must never download anything")


@pytest.fixture
def no_punkt(monkeypatch, tmp_path):
    """No Punkt model anywhere NLTK looks, and downloading is an error."""
    empty = tmp_path / "empty_nltk_data"
    empty.mkdir()
    monkeypatch.setattr(nltk.data, "path", [str(empty)])
    monkeypatch.delenv("NLTK_DATA", raising=False)
    monkeypatch.setattr(nltk, "download", _refuse_download)
    monkeypatch.setattr(nltk.downloader.Downloader, "download", _refuse_download)
    return empty


@pytest.fixture
def punkt_on_path(monkeypatch):
    """The shared Punkt model on nltk.data.path, as NLTK_DATA would put it."""
    if not NLTK_DATA.is_dir():
        pytest.skip(f"shared NLTK data {NLTK_DATA} is absent (set THEANO_RNN_SHARED_DATA)")
    monkeypatch.setattr(nltk.data, "path", [str(NLTK_DATA)])
    monkeypatch.setattr(nltk, "download", _refuse_download)
    monkeypatch.setattr(nltk.downloader.Downloader, "download", _refuse_download)
    return NLTK_DATA


@pytest.fixture(scope="module")
def shared_tokenizer():
    if not NLTK_DATA.is_dir():
        pytest.skip(f"shared NLTK data {NLTK_DATA} is absent (set THEANO_RNN_SHARED_DATA)")
    return data.get_sentence_tokenizer(nltk_data=NLTK_DATA)


def lines(text):
    """A sentence splitter for tests that need exact control: one sentence per line."""
    return [s for s in text.split("\n") if s]


def write(tmp_path, name, content, mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8", newline="")
    return p


def test_constants():
    assert (SENTENCE_START, SENTENCE_END, UNKNOWN_TOKEN, MASK_TOKEN) == (
        "SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "<MASK/>")
    assert issubclass(DataError, ValueError)


# ---------------------------------------------------------------- sentence splitting

TEXT = "dr. smith arrived at 5 p.m. yesterday. he was late! was he? yes."


@needs_shared
def test_shared_punkt_via_explicit_dir(no_punkt):
    path_before = list(nltk.data.path)
    tok = data.get_sentence_tokenizer(nltk_data=NLTK_DATA)
    assert not tok.trained
    assert "punkt_tab" in tok.source and str(NLTK_DATA) in tok.source
    # The English model knows "dr." is an abbreviation.
    assert tok(TEXT) == ["dr. smith arrived at 5 p.m. yesterday.", "he was late!", "was he?", "yes."]
    assert nltk.data.path == path_before  # global state restored


@needs_shared
def test_shared_punkt_via_env_set_after_import(no_punkt, monkeypatch):
    monkeypatch.setenv("NLTK_DATA", str(NLTK_DATA))
    assert data.find_punkt_model() == (str(NLTK_DATA), "tokenizers/punkt_tab/english/")
    tok = data.get_sentence_tokenizer()
    assert not tok.trained and tok(TEXT)[0] == "dr. smith arrived at 5 p.m. yesterday."


def test_fallback_trains_punkt_and_warns(no_punkt, caplog):
    assert data.find_punkt_model() is None
    text = "the cat sat on the mat. the dog barked! did it? it did. " * 20
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.words"):
        tok = data.get_sentence_tokenizer(train_text=text)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "training Punkt on the corpus" in warnings[0].getMessage()
    assert warnings[0].name == "theano_rnn.data.words"
    assert tok.trained
    assert tok("the cat sat. the dog barked! did it?") == ["the cat sat.", "the dog barked!", "did it?"]


def test_fallback_with_explicit_dir_without_model(no_punkt, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.words"):
        tok = data.get_sentence_tokenizer(nltk_data=tmp_path, train_text="a b. c d.")
    assert tok.trained
    assert str(tmp_path) in caplog.text


def test_old_pickle_model_is_never_unpickled(no_punkt, tmp_path, caplog):
    (tmp_path / "tokenizers" / "punkt").mkdir(parents=True)
    (tmp_path / "tokenizers" / "punkt" / "english.pickle").write_bytes(b"not a pickle")
    assert data.find_punkt_model(nltk_data=tmp_path) == (
        str(tmp_path), "tokenizers/punkt/english.pickle")
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.words"):
        tok = data.get_sentence_tokenizer(nltk_data=tmp_path, train_text="a b. c d.")
    # NLTK >= 3.9 swaps the pickle for punkt_tab, which is absent: fall back to training
    assert tok.trained and "could not be loaded" in caplog.text


def test_no_model_and_no_text_is_an_error(no_punkt):
    with pytest.raises(DataError, match="no NLTK Punkt model"):
        data.get_sentence_tokenizer()


def test_missing_nltk_data_dir_and_bad_language(tmp_path):
    with pytest.raises(DataError, match="nltk_data directory not found"):
        data.get_sentence_tokenizer(nltk_data=tmp_path / "nope", train_text="a. b.")
    with pytest.raises(DataError, match="invalid Punkt language"):
        data.get_sentence_tokenizer(language="english/../x", train_text="a. b.")


def test_split_sentences_lowercases_each_document():
    docs = ["Hello World\nSecond LINE", "THIRD"]
    assert data.split_sentences(docs, lines) == ["hello world", "second line", "third"]
    assert data.split_sentences(docs, lines, lowercase=False)[0] == "Hello World"


# --------------------------------------------------------------------- word splitting

SAMPLES = [
    "i'm used to it.",
    "\"so it goes,\" he said.",
    "''quoted'' start.",
    "it's a slight ppr league- .2 ppr.",
    "see e.g. the u.s. rules etc.",
    "what?! no... really",
    "cost is $5.00 (approx.)",
    "&gt;here's an idea, why not?",
]


@needs_shared
def test_word_tokenize_equals_nltk(punkt_on_path, shared_tokenizer):
    for s in SAMPLES:
        # one line: identical to preserve_line=True
        assert data.word_tokenize(s) == nltk.word_tokenize(s, preserve_line=True)
        # with the sentence splitter: identical to plain nltk.word_tokenize
        wrapped = f"SENTENCE_START {s} SENTENCE_END"
        assert data.word_tokenize(wrapped, shared_tokenizer) == nltk.word_tokenize(wrapped)
        toks = data.tokenize_sentences([s], shared_tokenizer)[0]
        assert toks == nltk.word_tokenize(wrapped)
        assert toks[0] == SENTENCE_START and toks[-1] == SENTENCE_END


@needs_shared
def test_preserve_line_on_wrapped_sentence_is_not_the_tutorial(shared_tokenizer):
    """Why the pipeline re-splits: Treebank keeps 'to.' unless the period ends its input."""
    wrapped = "SENTENCE_START i'm used to. SENTENCE_END"
    assert nltk.word_tokenize(wrapped, preserve_line=True)[-2] == "to."
    assert data.tokenize_sentences(["i'm used to."], shared_tokenizer)[0][-3:] == [
        "to", ".", SENTENCE_END]


# ------------------------------------------------------------------------ vocabularies


def test_build_vocabulary_part2_order_and_sizes():
    counts = Counter({"the": 5, "a": 3, "cat": 3, "dog": 1, "sat": 2})
    itw, wti = data.build_vocabulary_part2(counts, vocabulary_size=4)
    assert itw == [w for w, _ in nltk.FreqDist(counts).most_common(3)] + [UNKNOWN_TOKEN]
    assert itw[0] == "the" and set(itw[1:3]) == {"a", "cat"} and itw[-1] == UNKNOWN_TOKEN
    assert wti == {w: i for i, w in enumerate(itw)}
    # fewer distinct words than requested: all words + UNKNOWN_TOKEN, as the tutorial does
    itw, _ = data.build_vocabulary_part2(counts, vocabulary_size=100)
    assert len(itw) == 6 and itw[-1] == UNKNOWN_TOKEN
    # token lists are counted the same way as a mapping
    assert data.build_vocabulary_part2([["b", "a", "b"], ["c"]], 3)[0] == ["b", "a", UNKNOWN_TOKEN]


def test_prepare_part2_encoding():
    docs = ["The cat sat\nthe DOG sat", "the cat ran"]
    corpus = data.prepare_part2(docs, vocabulary_size=5, sentence_tokenizer=lines)
    # counts: START 3, END 3, the 3, cat 2, sat 2, dog 1, ran 1 -> most_common(4) in first-seen order
    assert corpus.index_to_word == [SENTENCE_START, "the", SENTENCE_END, "cat", UNKNOWN_TOKEN]
    assert corpus.num_sentences == 3 and corpus.num_unique_tokens == 7
    assert corpus.sentences[1] == [SENTENCE_START, "the", "dog", "sat", SENTENCE_END]
    assert type(corpus.X) is list and type(corpus.Y) is list and len(corpus.X) == 3
    for x, y, sent in zip(corpus.X, corpus.Y, corpus.sentences):
        assert isinstance(x, np.ndarray) and x.dtype == np.int32 and y.dtype == np.int32
        assert len(x) == len(sent) - 1 and np.array_equal(x[1:], y[:-1])
    unk = corpus.word_to_index[UNKNOWN_TOKEN]
    assert corpus.decode(corpus.X[1]) == [SENTENCE_START, "the", UNKNOWN_TOKEN, UNKNOWN_TOKEN]
    assert list(corpus.Y[2]) == [1, 3, unk, 2]


def test_encode_maps_unknown_words():
    X, Y = data.encode([["s", "a", "zzz", "e"]], {"s": 0, "e": 1, "a": 2, UNKNOWN_TOKEN: 3})
    assert [x.tolist() for x in X] == [[0, 2, 3]] and [y.tolist() for y in Y] == [[2, 3, 1]]


def test_build_vocabulary_part4_order_and_ties():
    counts = {"a": 3, "b": 3, "c": 1, "d": 2, "e": 2, "z": 2}
    itw, wti = data.build_vocabulary_part4(counts, vocabulary_size=6)
    # top 4 by (count, word) descending -> b, a, z, e ("d" loses the tie at the cut-off);
    # then a stable ascending sort by count: equal counts stay in descending word order.
    assert itw == [MASK_TOKEN, UNKNOWN_TOKEN, "z", "e", "b", "a"]
    assert wti[MASK_TOKEN] == 0 and wti[UNKNOWN_TOKEN] == 1 and "d" not in wti
    # the tutorial's two sorts, verbatim
    vocab = sorted(counts.items(), key=lambda x: (x[1], x[0]), reverse=True)[:4]
    assert itw[2:] == [w for w, _ in sorted(vocab, key=operator.itemgetter(1))]
    itw, _ = data.build_vocabulary_part4(counts, vocabulary_size=100)
    assert itw == [MASK_TOKEN, UNKNOWN_TOKEN, "c", "z", "e", "d", "b", "a"]


def test_prepare_part4_filters():
    doc = "\n".join([
        "see http://example.com now",   # dropped: http
        "Visit HTTPS://x.org",           # dropped: lower-cased first, so 'http' matches
        "abcde",                         # 5 characters: kept at min 5
        "abcd",                          # 4 characters: dropped at min 5
        "a longer sentence here",
    ])
    c = data.prepare_part4([doc], vocabulary_size=50, min_sent_characters=5, sentence_tokenizer=lines)
    assert [s[1:-1] for s in c.sentences] == [["abcde"], ["a", "longer", "sentence", "here"]]
    assert c.dropped == {"short": 1, "http": 2} and c.num_sentences == 2
    assert c.index_to_word[:2] == [MASK_TOKEN, UNKNOWN_TOKEN]
    assert c.index_to_word[-2:] == [SENTENCE_START, SENTENCE_END]  # most frequent, tie by word
    assert all(x.dtype == np.int32 for x in c.X) and type(c.X) is list
    c0 = data.prepare_part4([doc], 50, 0, sentence_tokenizer=lines)
    assert c0.num_sentences == 3 and c0.dropped == {"short": 0, "http": 2}
    small = data.prepare_part4([doc], 3, sentence_tokenizer=lines)
    # "SENTENCE_START" > "SENTENCE_END" wins the tie, so SENTENCE_END itself becomes unknown
    assert small.index_to_word == [MASK_TOKEN, UNKNOWN_TOKEN, SENTENCE_START]
    assert small.X[0].tolist() == [2, 1] and small.Y[0].tolist() == [1, 1]


# ---------------------------------------------------------------------------- readers


def test_read_csv_comments(tmp_path):
    p = write(tmp_path, "c.csv", 'id, body\n1, "multi\nline, with ""quotes"""\n\n2,plain\n3, "cut off')
    assert data.read_csv_comments(p) == ['multi\nline, with "quotes"', "plain", "cut off"]
    assert data.read_corpus(p) == data.read_csv_comments(p)


def test_read_corpus_plain_text_paragraphs(tmp_path):
    p = write(tmp_path, "t.txt", "\ufeffFirst para.\r\nstill first.\r\n \r\nSecond.\n\n\n\nThird.\n")
    assert data.read_text(p) == "First para.\nstill first.\n \nSecond.\n\n\n\nThird.\n"
    assert data.read_corpus(p) == ["First para.\nstill first.", "Second.", "Third."]


# ------------------------------------------------------------------------- DataErrors


def test_missing_file_names_path(tmp_path):
    missing = tmp_path / "no_such.csv"
    for call in (data.read_csv_comments, data.read_text, data.load_part2, data.load_part4):
        with pytest.raises(DataError, match="no_such.csv"):
            call(missing)
    with pytest.raises(DataError, match="directory"):
        data.read_text(tmp_path)


def test_csv_without_body_column_names_columns(tmp_path):
    p = write(tmp_path, "c.csv", "id,text\n1,hello\n")
    with pytest.raises(DataError, match=r"no 'body' column; columns found: \['id', 'text'\]"):
        data.read_csv_comments(p)
    with pytest.raises(DataError, match="header row"):
        data.read_csv_comments(write(tmp_path, "empty.csv", ""))


def test_non_utf8_names_byte_offset(tmp_path):
    p = write(tmp_path, "bad.csv", b"body\nok\ncaf\xe9\n", mode="wb")
    with pytest.raises(DataError, match=r"not valid utf-8: byte 0xe9 at byte offset 11"):
        data.load_part2(p)


@pytest.mark.parametrize("size", [2, 0, -1, "8000", 3.0, True, None])
def test_bad_vocabulary_size(size):
    for fn in (data.build_vocabulary_part2, data.build_vocabulary_part4):
        with pytest.raises(DataError, match="vocabulary_size"):
            fn({"a": 1}, size)
    with pytest.raises(DataError, match="vocabulary_size"):
        data.prepare_part2(["a b"], size, sentence_tokenizer=lines)
    with pytest.raises(DataError, match="vocabulary_size"):
        data.load_part4("/nonexistent-but-checked-later.csv", size)


def test_empty_corpora(tmp_path):
    header_only = write(tmp_path, "h.csv", "body\n")
    blank = write(tmp_path, "b.txt", "  \n\n \n")
    for path in (header_only, blank):
        for load in (data.load_part2, data.load_part4):
            with pytest.raises(DataError, match="contains no sentences") as err:
                load(path, sentence_tokenizer=lines)
            assert path.name in str(err.value)
    with pytest.raises(DataError, match=r"contains no sentences \(of 1: 0 shorter .* 1 containing"):
        data.prepare_part4(["http only"], sentence_tokenizer=lines)
    with pytest.raises(DataError, match="min_sent_characters"):
        data.prepare_part4(["x"], 10, "5", sentence_tokenizer=lines)


# ---------------------------------------------------------------- the reddit prefix


def _tutorial_reference(path, vocabulary_size, part4=False, min_sent_characters=0):
    """RNNLM.ipynb / utils.load_data, transliterated to Python 3 (ragged arrays as lists)."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, skipinitialspace=True)
        next(reader)
        sentences = list(itertools.chain(*[nltk.sent_tokenize(x[0].lower()) for x in reader]))
    if part4:
        sentences = [s for s in sentences if len(s) >= min_sent_characters]
        sentences = [s for s in sentences if "http" not in s]
    sentences = ["%s %s %s" % (SENTENCE_START, x, SENTENCE_END) for x in sentences]
    tokenized = [nltk.word_tokenize(sent) for sent in sentences]
    word_freq = nltk.FreqDist(itertools.chain(*tokenized))
    if part4:
        vocab = sorted(word_freq.items(), key=lambda x: (x[1], x[0]), reverse=True)
        vocab = sorted(vocab[: vocabulary_size - 2], key=operator.itemgetter(1))
        index_to_word = [MASK_TOKEN, UNKNOWN_TOKEN] + [x[0] for x in vocab]
    else:
        index_to_word = [x[0] for x in word_freq.most_common(vocabulary_size - 1)]
        index_to_word.append(UNKNOWN_TOKEN)
    w2i = {w: i for i, w in enumerate(index_to_word)}
    tokenized = [[w if w in w2i else UNKNOWN_TOKEN for w in s] for s in tokenized]
    X = [[w2i[w] for w in s[:-1]] for s in tokenized]
    Y = [[w2i[w] for w in s[1:]] for s in tokenized]
    return X, Y, index_to_word


@needs_shared
def test_reddit_prefix_records():
    comments = data.read_csv_comments(REDDIT)
    assert len(comments) == 212
    assert comments[-1].endswith("### Gameplay\n")  # the record cut mid-comment


@needs_shared
@pytest.mark.parametrize(
    "part4, size, min_chars, n_sentences, n_unique",
    [(False, 8000, 0, 1143, 4524), (False, 500, 0, 1143, 4524),
     (True, 2000, 0, 1097, 4142), (True, 300, 20, 1024, 4117)],
)
def test_reddit_prefix_matches_tutorial(punkt_on_path, shared_tokenizer, part4, size, min_chars,
                                        n_sentences, n_unique):
    if part4:
        corpus = data.load_part4(REDDIT, size, min_chars, sentence_tokenizer=shared_tokenizer)
    else:
        corpus = data.load_part2(REDDIT, size, sentence_tokenizer=shared_tokenizer)
    X, Y, index_to_word = _tutorial_reference(REDDIT, size, part4, min_chars)
    assert corpus.index_to_word == index_to_word
    assert [x.tolist() for x in corpus.X] == X and [y.tolist() for y in corpus.Y] == Y
    # measured with nltk 3.10.4 and the shared punkt_tab English model
    assert (corpus.num_sentences, corpus.num_unique_tokens) == (n_sentences, n_unique)
    assert len(corpus.index_to_word) == min(size, n_unique + (2 if part4 else 1))


@needs_shared
def test_reddit_prefix_explicit_nltk_data_and_fallback(no_punkt, caplog):
    corpus = data.load_part2(REDDIT, nltk_data=NLTK_DATA)
    assert (corpus.num_sentences, corpus.num_unique_tokens) == (1143, 4524)
    assert corpus.index_to_word[:2] == [SENTENCE_START, SENTENCE_END]
    assert corpus.index_to_word[-1] == UNKNOWN_TOKEN and len(corpus.index_to_word) == 4525
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.words"):
        trained = data.load_part2(REDDIT)
    assert "training Punkt on the corpus" in caplog.text
    # a corpus-trained Punkt splits differently, but not wildly so
    assert abs(trained.num_sentences - 1143) <= 0.05 * 1143
    assert trained.sentences[0][0] == SENTENCE_START and trained.sentences[0][-1] == SENTENCE_END
