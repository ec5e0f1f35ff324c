"""Tests for theano_rnn.data.seq: cloze and sequence-classification data (issue 6)."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter

import numpy as np
import pytest

from theano_rnn.data import seq as sd
from theano_rnn.errors import DataError

from tests.shared_data import shared_data_dir

SHARED = shared_data_dir()
NLTK_DATA = SHARED / "nltk_data" if (SHARED / "nltk_data").is_dir() else None
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason="set THEANO_RNN_SHARED_DATA to the shared data folder (e.g. /work/shared/data)",
)
TANG = [f"chinese/chinese-poetry/poet.tang.{n}.json" for n in range(0, 5000, 1000)]

PLAY = """First Citizen:
Before we proceed any further, hear me speak.
The cat sat on the mat.

All:
Speak, speak:
the dog sat on the mat!

Second Citizen:
A b.

Third Citizen:

Senators, &C:
The cat ran to the dog and the dog ran to the cat, and then the cat
sat on the mat while the dog sat on the log by the door.
"""


def split_on_periods(text):
    """A stand-in sentence splitter (Punkt is tested with the shared model)."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


@pytest.fixture
def play(tmp_path):
    path = tmp_path / "play.txt"
    path.write_text(PLAY, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- Vocab


def test_vocab_encode_decode_and_array_round_trip(tmp_path):
    v = sd.Vocab(["<blank>", "<unk>", "the", "cat"])
    assert len(v) == 4 and "cat" in v and "dog" not in v
    assert v.unk_index == 1 and v.blank_index == 0
    ids = v.encode(["the", "dog", "cat"])
    assert ids.dtype == np.int32 and ids.tolist() == [2, 1, 3]
    assert v.decode(ids) == ["the", "<unk>", "cat"]
    assert v.unknown_tokens(["dog", "the", "dog", "eel"]) == ["dog", "eel"]
    arr = v.to_array()
    assert arr.dtype.kind == "U"
    np.save(tmp_path / "v.npy", arr)
    back = sd.Vocab.from_array(np.load(tmp_path / "v.npy", allow_pickle=False))
    assert back == v and back.index_to_token == v.index_to_token
    assert sd.Vocab(["<unk>", "x"]).blank_index is None


@pytest.mark.parametrize(
    "tokens, match",
    [
        (["<unk>", ""], "non-empty strings"),
        (["<unk>", 3], "non-empty strings"),
        (["<unk>", "a\x00"], "NUL"),
        (["<unk>", "a", "a"], "duplicate entries: 'a'"),
        (["a", "b"], "unknown token '<unk>' is not in the vocabulary"),
    ],
)
def test_vocab_rejects_bad_tokens(tokens, match):
    with pytest.raises(DataError, match=match):
        sd.Vocab(tokens)


def test_vocab_errors():
    v = sd.Vocab(["<unk>", "a"])
    with pytest.raises(DataError, match="expects a list of tokens, got a str"):
        v.encode("a a")
    with pytest.raises(DataError, match="token id 5 is out of range for a vocabulary of 2"):
        v.decode([0, 5])
    with pytest.raises(DataError, match="integer token ids"):
        v.decode([0.5])
    with pytest.raises(DataError, match="1-D unicode array"):
        sd.Vocab.from_array(np.array([1, 2]))


# ------------------------------------------------------------------------ cloze data


def test_load_cloze_sentences_plain_text_rules(play):
    sents = sd.load_cloze_sentences(play, sentence_tokenizer=split_on_periods, min_length=4)
    # speaker lines dropped (a label alone in its paragraph too), wrapped lines joined,
    # "Speak, speak:" kept (not a paragraph's first line), "A b." (3 tokens) too short
    assert sents[0] == ["before", "we", "proceed", "any", "further", ",", "hear", "me", "speak", "."]
    assert sents[1] == ["the", "cat", "sat", "on", "the", "mat", "."]
    assert sents[2] == ["speak", ",", "speak", ":", "the", "dog", "sat", "on", "the", "mat", "!"]
    assert sents[3][:3] == ["the", "cat", "ran"] and sents[3][-3:] == ["the", "door", "."]
    assert len(sents) == 4
    assert not any("citizen" in s or "senators" in s for s in sents)
    assert sd._is_speaker_line("Ghost of King Henry VI:") and sd._is_speaker_line("Senators, &C:")
    assert not sd._is_speaker_line("Come: go with me:")
    assert not sd._is_speaker_line("One two three four five six:")
    cased = sd.load_cloze_sentences(play, sentence_tokenizer=split_on_periods, lowercase=False)
    assert cased[0][0] == "Before"


def test_load_cloze_sentences_on_long(play, caplog):
    tok = split_on_periods
    with caplog.at_level(logging.INFO, logger="theano_rnn.data.seq"):
        skipped = sd.load_cloze_sentences(play, sentence_tokenizer=tok, max_length=12)
    assert len(skipped) == 3
    assert "1 longer than 12 dropped" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.seq"):
        cut = sd.load_cloze_sentences(play, sentence_tokenizer=tok, max_length=12, on_long="truncate")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "1 sentences longer than max_length=12" in warnings[0].getMessage()
    assert len(cut) == 4 and len(cut[3]) == 12
    with pytest.raises(DataError, match=r"sentence 4 has \d+ tokens, more than max_length=12 \(the cat"):
        sd.load_cloze_sentences(play, sentence_tokenizer=tok, max_length=12, on_long="error")


def test_load_cloze_sentences_csv(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('body\n"I like the cat a lot.\n\nThe dog is fine too!"\n"ok."\n', encoding="utf-8")
    sents = sd.load_cloze_sentences(path, sentence_tokenizer=split_on_periods)
    assert sents == [["i", "like", "the", "cat", "a", "lot", "."],
                     ["the", "dog", "is", "fine", "too", "!"]]
    with pytest.raises(DataError, match="no 'text' column"):
        sd.load_cloze_sentences(path, column="text", sentence_tokenizer=split_on_periods)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_length": 0}, "min_length must be >= 1"),
        ({"max_length": "9"}, "max_length must be an integer"),
        ({"min_length": 9, "max_length": 5}, r"min_length \(9\) is larger than max_length \(5\)"),
        ({"on_long": "cut"}, "on_long must be one of 'skip', 'truncate', 'error', got 'cut'"),
        ({"min_length": 40}, "no sentence of 40 to 40 tokens"),
    ],
)
def test_load_cloze_sentences_errors(play, kwargs, match):
    with pytest.raises(DataError, match=match):
        sd.load_cloze_sentences(play, sentence_tokenizer=split_on_periods, **kwargs)


def test_load_cloze_sentences_missing_and_empty(tmp_path):
    with pytest.raises(DataError, match="not found"):
        sd.load_cloze_sentences(tmp_path / "nope.txt")
    (tmp_path / "blank.txt").write_text("\n \n\n", encoding="utf-8")
    with pytest.raises(DataError, match="contains no text"):
        sd.load_cloze_sentences(tmp_path / "blank.txt", sentence_tokenizer=split_on_periods)


def test_build_cloze_vocab_order_and_size():
    sents = [["b", "a", "."], ["a", "c", "b", "d"], ["."]]
    v = sd.build_cloze_vocab(sents, 10)
    # counts: b 2, a 2, . 2 (ties in first-occurrence order), then c, d
    assert v.index_to_token == ["<blank>", "<unk>", "b", "a", ".", "c", "d"]
    assert sd.build_cloze_vocab(sents, 4).index_to_token == ["<blank>", "<unk>", "b", "a"]
    with pytest.raises(DataError, match="vocabulary_size must be >= 3"):
        sd.build_cloze_vocab(sents, 2)
    with pytest.raises(DataError, match="the sentences have no tokens"):
        sd.build_cloze_vocab([[]], 5)


def test_blank_candidates_rule():
    v = sd.Vocab(["<blank>", "<unk>", ",", "42", "cat", "don't", "--", "詩", "a1", "."])
    ids = np.arange(len(v))
    assert v.decode(sd.blank_candidates(ids, v)) == ["cat", "don't", "詩", "a1"]
    with pytest.raises(DataError, match="ids out of range for a vocabulary of 10"):
        sd.blank_candidates([10], v)


def test_encode_cloze_drops_sentences_without_candidates(caplog):
    v = sd.Vocab(["<blank>", "<unk>", "cat", "."])
    with caplog.at_level(logging.INFO, logger="theano_rnn.data.seq"):
        enc, kept = sd.encode_cloze([["cat", "."], ["dog", "."], [".", "cat"]], v)
    assert kept.tolist() == [0, 2] and [e.tolist() for e in enc] == [[2, 3], [3, 2]]
    assert "1 of 3 sentences have no word to blank" in caplog.text


def test_split_indices():
    tr, va, te = sd.split_indices(100, rng=0)
    assert (len(tr), len(va), len(te)) == (80, 10, 10)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(100))
    assert all((np.diff(a) > 0).all() for a in (tr, va, te))
    again = sd.split_indices(100, rng=np.random.default_rng(0))
    assert all((a == b).all() for a, b in zip((tr, va, te), again))
    other = sd.split_indices(100, rng=1)
    assert not (other[1] == va).all()
    assert [len(a) for a in sd.split_indices(3, rng=0)] == [1, 1, 1]
    assert [len(a) for a in sd.split_indices(4, (0.1, 0.45, 0.45), rng=0)] == [1, 1, 2]
    assert [len(a) for a in sd.split_indices(2, (0.5, 0.5, 0.0), rng=np.random.RandomState(0))] == [1, 1, 0]


@pytest.mark.parametrize(
    "args, match",
    [
        ((2,), r"cannot split 2 items into 3 non-empty parts"),
        ((10, (0.8, 0.2)), "must be 3 numbers"),
        ((10, "abc"), "must be 3 numbers"),
        ((10, (0.9, 0.2, -0.1)), "between 0 and 1"),
        ((10, (0.0, 0.5, 0.5)), "train fraction must be > 0"),
        ((10, (0.5, 0.2, 0.2)), "must add up to 1"),
        ((-1,), "n must be >= 0"),
    ],
)
def test_split_indices_errors(args, match):
    with pytest.raises(DataError, match=match):
        sd.split_indices(*args, rng=0)


def test_split_indices_needs_an_explicit_rng():
    with pytest.raises(DataError, match="rng must be a numpy Generator or RandomState, or an integer seed"):
        sd.split_indices(10, rng=None)


def test_fixed_and_random_blanks():
    v = sd.Vocab(["<blank>", "<unk>", "cat", "dog", "."])
    enc = [np.array([2, 4, 3, 1, 4], np.int32), np.array([4, 2], np.int32)] * 20
    fixed = sd.fixed_blanks(enc, v, 3)
    assert fixed.dtype == np.int32 and len(fixed) == 40
    assert (fixed == sd.fixed_blanks(enc, v, 3)).all()  # same seed, same blanks
    assert set(fixed[0::2].tolist()) == {0, 2} and set(fixed[1::2].tolist()) == {1}
    rng = np.random.default_rng(5)
    a, b = sd.random_blanks(enc, v, rng), sd.random_blanks(enc, v, rng)
    assert not (a == b).all()  # fresh draws each epoch
    with pytest.raises(DataError, match="sentence 1 has no word that can be blanked"):
        sd.random_blanks([enc[0], np.array([4, 1])], v, rng)


def test_cloze_batch_layout():
    enc = [np.array([5, 6, 7]), np.array([8, 9])]
    X, M, pos, y = sd.cloze_batch(enc, [2, 0])
    assert X.dtype == np.int32 and M.dtype == np.float64 and pos.dtype == y.dtype == np.int32
    assert X.tolist() == [[5, 0], [6, 9], [0, 0]]
    assert M.tolist() == [[1, 1], [1, 1], [1, 0]]
    assert pos.tolist() == [2, 0] and y.tolist() == [7, 8]
    X2, *_ = sd.cloze_batch(enc, [0, 1], blank_index=3)
    assert X2.tolist() == [[3, 8], [6, 3], [7, 3]]


@pytest.mark.parametrize(
    "enc, pos, match",
    [
        ([[5, 6]], [0, 1], r"positions must be 1 integers \(one per sentence\)"),
        ([[5, 6]], [2], "blank position 2 is outside sentence 0 of 2 tokens"),
        ([[5, 0]], [1], "sentence 0 already has the blank token at position 1"),
        ([], [], "a batch needs at least one sequence"),
        ([[5], []], [0, 0], "sequence 1 of the batch is empty"),
    ],
)
def test_cloze_batch_errors(enc, pos, match):
    with pytest.raises(DataError, match=match):
        sd.cloze_batch([np.asarray(e, dtype=np.int64) for e in enc], np.asarray(pos, dtype=np.int64))


def test_parse_cloze(caplog):
    v = sd.Vocab(["<blank>", "<unk>", "the", "cat", "sat", ".", "mat", "on"])
    ids, p = sd.parse_cloze("The cat ___ on the mat.", v)
    assert p == 2 and ids.dtype == np.int32
    assert v.decode(ids) == ["the", "cat", "<blank>", "on", "the", "mat", "."]
    ids, p = sd.parse_cloze("the_____cat", v)  # any run of 3+ underscores, glued to words
    assert p == 1 and v.decode(ids) == ["the", "<blank>", "cat"]
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.seq"):
        ids, p = sd.parse_cloze("The dog ___ on the rug.", v)
    assert v.decode(ids) == ["the", "<unk>", "<blank>", "on", "the", "<unk>", "."]
    assert "2 word(s) not in the vocabulary, read as <unk>: 'dog', 'rug'" in caplog.text
    ids, p = sd.parse_cloze("The cat [?] on the mat.", v, marker="[?]")
    assert p == 2
    tokens, p = sd.tokenize_cloze("Don't ___ now.", lowercase=False)
    assert tokens == ["Do", "n't", "<blank>", "now", "."] and p == 2


@pytest.mark.parametrize(
    "text, kwargs, match",
    [
        ("the cat sat", {}, r"no blank in 'the cat sat': mark the missing word with ___"),
        ("___ cat ___", {}, r"found 2 blanks \(___\); the cloze model fills exactly one"),
        ("the cat sat on ___ mat", {"max_length": 4},
         "the cloze sentence has 6 tokens, more than the limit of 4"),
        ("   ", {}, "empty cloze text"),
        (3, {}, "must be a str"),
        ("a ___", {"marker": ""}, "marker must be a non-empty string"),
        ("zqxclozeblankzqx ___", {}, "must not contain"),
    ],
)
def test_parse_cloze_errors(text, kwargs, match):
    v = sd.Vocab(["<blank>", "<unk>", "cat"])
    with pytest.raises(DataError, match=match):
        sd.parse_cloze(text, v, **kwargs)


def test_parse_cloze_needs_a_cloze_vocab():
    with pytest.raises(DataError, match="not a cloze vocabulary"):
        sd.parse_cloze("a ___", sd.Vocab(["<unk>", "a"]))


def test_cloze_round_trip(play):
    """File -> sentences -> vocab -> splits -> blanks -> batch, and a query tokenized alike."""
    sents = sd.load_cloze_sentences(play, nltk_data=NLTK_DATA, max_length=50)
    assert len(sents) == 4 and sents[1] == ["the", "cat", "sat", "on", "the", "mat", "."]
    vocab = sd.build_cloze_vocab(sents, 12)
    enc, kept = sd.encode_cloze(sents, vocab)
    assert len(enc) == 4
    tr, va, te = sd.split_indices(len(enc), rng=0)
    held = [enc[i] for i in te]
    pos = sd.fixed_blanks(held, vocab, 0)
    X, M, p, y = sd.cloze_batch(held, pos)
    assert X[p[0], 0] == vocab.blank_index and vocab.alphabetic_mask()[y].all()
    assert M.sum() == sum(len(e) for e in held)
    ids, where = sd.parse_cloze("The cat sat on the ___.", vocab)
    assert vocab.decode(ids) == ["the", "cat", "sat", "on", "the", "<blank>", "."]
    assert (np.delete(ids, where) == np.delete(enc[1], 5)).all()
    # checkpoint round trip of the vocabulary
    assert sd.Vocab.from_array(vocab.to_array()) == vocab


# ------------------------------------------------------------------- classification


def write_json(path, obj):
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def test_read_poem_records(tmp_path):
    a = write_json(tmp_path / "a.json", [
        {"author": "李白", "paragraphs": ["床前明月光，", " 疑是地上霜。"]},
        {"author": "杜甫", "paragraphs": ["", "  "]},
        {"author": " 王維 ", "paragraphs": ["空山不見人，"]},
    ])
    b = write_json(tmp_path / "b.json", [{"author": "李白", "paragraphs": ["舉頭望明月。"]}])
    recs = sd.read_poem_records([a, b])
    assert recs == [("李白", "床前明月光，疑是地上霜。"), ("王維", "空山不見人，"), ("李白", "舉頭望明月。")]
    assert sd.read_poem_records(str(b)) == [("李白", "舉頭望明月。")]


@pytest.mark.parametrize(
    "content, match",
    [
        (b"[1,", r"is not valid JSON: .* at line 1 column"),
        (b"\xff\xfe[]", r"is not valid UTF-8: byte 0xff at byte offset 0 \(line 1"),
        (b'{"a": 1}', "expected a JSON list of poems, got dict"),
        (b"[3]", "poem 0 is not a JSON object"),
        (b'[{"author": "x", "paragraphs": "abc"}]', "poem 0 has no 'paragraphs' list of strings"),
        (b'[{"paragraphs": ["abc"]}]', "poem 0 has no 'author' string"),
        (b'[{"author": "x", "paragraphs": [""]}]', "no poems found"),
        (b"", "is empty"),
    ],
)
def test_read_poem_records_errors(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        sd.read_poem_records([path])


def test_read_poem_records_no_paths_or_missing(tmp_path):
    with pytest.raises(DataError, match="needs at least one path"):
        sd.read_poem_records([])
    with pytest.raises(DataError, match="not found"):
        sd.read_poem_records(tmp_path / "missing.json")


def test_select_poets():
    recs = [(a, str(i)) for i, a in enumerate("AABBBCCDD")] + [("不詳", "x")] * 5
    top = sd.select_poets(recs, top_k=3)
    assert Counter(a for a, _ in top) == {"B": 3, "A": 2, "C": 2}  # ties by name: A, C before D
    assert top[0] == ("A", "0")  # original order kept
    explicit = sd.select_poets(recs, authors=["D", "不詳"])
    assert Counter(a for a, _ in explicit) == {"D": 2, "不詳": 5}
    assert Counter(a for a, _ in sd.select_poets(recs, top_k=2, exclude=())) == {"不詳": 5, "B": 3}
    with pytest.raises(DataError, match=r"no poems by 'Z'; the most prolific authors are: 不詳 \(5\), B \(3\)"):
        sd.select_poets(recs, authors=["A", "Z"])
    with pytest.raises(DataError, match="authors is empty"):
        sd.select_poets(recs, authors=[])
    with pytest.raises(DataError, match="top_k=5 but only 4 authors are available"):
        sd.select_poets(recs, top_k=5)
    with pytest.raises(DataError, match="top_k must be >= 2"):
        sd.select_poets(recs, top_k=1)


def test_read_labelled_file(tmp_path):
    path = tmp_path / "l.tsv"
    path.write_bytes("\ufeffpos\tgreat film\r\n\n  \nneg \t awful\tplot \n".encode("utf-8"))
    recs = sd.read_labelled_file(path)
    assert recs == [("pos", "great film", 1), ("neg", "awful\tplot", 4)]
    assert recs[1].line == 4 and recs[1].label == "neg"
    path.write_text("pos\tgood\njust text\n", encoding="utf-8")
    assert sd.read_labelled_file(path, require_labels=False)[1] == (None, "just text", 2)
    with pytest.raises(DataError, match=r"l.tsv line 2: no tab; expected 'label<TAB>text'"):
        sd.read_labelled_file(path)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"a\tx\n\tno label\n", "line 2: empty label before the tab"),
        (b"a\tx\nb\t  \n", "line 2: label 'b' has no text after the tab"),
        (b"a\tx\nb\t\xe9t\xe9\n", r"is not valid UTF-8: byte 0xe9 at byte offset 6 \(line 2,"),
        (b"\n  \n", "has no text lines"),
    ],
)
def test_read_labelled_file_errors(tmp_path, content, match):
    path = tmp_path / "bad.tsv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        sd.read_labelled_file(path)


def test_label_set(tmp_path):
    ls = sd.LabelSet(["neg", "pos", "neg", "mixed"])
    assert ls.labels == ["mixed", "neg", "pos"] and len(ls) == 3 and "pos" in ls
    ids = ls.encode(["pos", "mixed"])
    assert ids.dtype == np.int32 and ids.tolist() == [2, 0]
    assert ls.decode(ids) == ["pos", "mixed"]
    np.save(tmp_path / "l.npy", ls.to_array())
    assert sd.LabelSet.from_array(np.load(tmp_path / "l.npy", allow_pickle=False)) == ls
    with pytest.raises(DataError, match=r"^unknown label 'x' \(line 7\); the model knows: mixed, neg, pos$"):
        ls.encode(["pos", "x"], where=["line 3", "line 7"])
    with pytest.raises(DataError, match=r"^unknown label 'x' \(in t.tsv\); the model knows"):
        ls.encode(["x"], where="in t.tsv")
    with pytest.raises(DataError, match=r"^unknown label 'x'; the model knows"):
        ls.encode(["x"])
    with pytest.raises(DataError, match=r"missing label \(line 2\)"):
        ls.encode([None], where=["line 2"])
    with pytest.raises(DataError, match="where has 1 entries for 2 labels"):
        ls.encode(["pos", "neg"], where=["line 1"])
    with pytest.raises(DataError, match="class id 3 is out of range for 3 labels"):
        ls.decode([3])
    with pytest.raises(DataError, match="1-D unicode array"):
        sd.LabelSet.from_array(np.zeros(2))
    with pytest.raises(DataError, match="at least one label"):
        sd.LabelSet([])
    with pytest.raises(DataError, match="non-empty strings"):
        sd.LabelSet(["a", ""])


def test_tokenize_for_classes():
    assert sd.tokenize_for_classes("床前 明月\n光") == ["床", "前", "明", "月", "光"]
    assert sd.tokenize_for_classes(" a  good\tfilm ", tokens="word") == ["a", "good", "film"]
    with pytest.raises(DataError, match="tokens must be one of 'char', 'word', got 'bpe'"):
        sd.tokenize_for_classes("x", tokens="bpe")
    with pytest.raises(DataError, match="text must be a str"):
        sd.tokenize_for_classes(None)


def test_build_vocab():
    lists = [["b", "a", "<unk>"], ["c", "a", "b"], ["d"]]
    assert sd.build_vocab(lists).index_to_token == ["<unk>", "b", "a", "c", "d"]
    assert sd.build_vocab(lists, min_freq=2).index_to_token == ["<unk>", "b", "a"]
    assert sd.build_vocab(lists, max_size=3).index_to_token == ["<unk>", "b", "a"]
    assert sd.build_vocab(lists).unk_index == 0
    with pytest.raises(DataError, match=r"empty vocabulary: no token occurs 3 time\(s\) or more \(4 distinct"):
        sd.build_vocab(lists, min_freq=3)
    with pytest.raises(DataError, match="min_freq must be >= 1"):
        sd.build_vocab(lists, min_freq=0)
    with pytest.raises(DataError, match="max_size must be >= 2"):
        sd.build_vocab(lists, max_size=1)


def test_limit_length(caplog):
    seqs = [[1, 2, 3, 4], np.array([5, 6]), np.arange(7)]
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.labelled"):
        out = sd.limit_length(seqs, 3)
    assert [list(s) for s in out] == [[1, 2, 3], [5, 6], [0, 1, 2]]
    assert out[1] is seqs[1]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2 of 3 sequences were longer than max_length=3" in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.labelled"):
        assert sd.limit_length(seqs, 10) == seqs
    assert not caplog.records
    with pytest.raises(DataError, match=r"^sequence 0 has 4 tokens, more than max_length=3 \(1 2 3 4\)"):
        sd.limit_length(seqs, 3, on_long="error")
    with pytest.raises(DataError, match="on_long must be one of 'truncate', 'error', got 'skip'"):
        sd.limit_length(seqs, 3, on_long="skip")


def test_stratified_split():
    labels = ["a"] * 50 + ["b"] * 20 + ["c"] * 1
    tr, va, te = sd.stratified_split(labels, rng=0)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(71))
    per = [Counter(labels[i] for i in part) for part in (tr, va, te)]
    assert per[0] == {"a": 40, "b": 16, "c": 1}
    assert per[1] == {"a": 5, "b": 2} and per[2] == {"a": 5, "b": 2}
    again = sd.stratified_split(labels, rng=np.random.default_rng(0))
    assert all((x == y).all() for x, y in zip((tr, va, te), again))
    assert not (sd.stratified_split(labels, rng=1)[1] == va).all()
    with pytest.raises(DataError, match=r"the valid split is empty: 3 items in 3 classes are too few"):
        sd.stratified_split(["a", "b", "c"], rng=0)
    with pytest.raises(DataError, match="needs at least one label"):
        sd.stratified_split([], rng=0)


def test_class_batch():
    X, M, y = sd.class_batch([[4, 5, 6], np.array([7])], [1, 0])
    assert X.dtype == np.int32 and M.dtype == np.float64 and y.dtype == np.int32
    assert X.tolist() == [[4, 7], [5, 0], [6, 0]]
    assert M.tolist() == [[1, 1], [1, 0], [1, 0]]
    assert y.tolist() == [1, 0]
    with pytest.raises(DataError, match=r"label_ids must be 2 integers \(one per sequence\)"):
        sd.class_batch([[4], [5]], [1])
    with pytest.raises(DataError, match="sequence 0 of the batch is empty"):
        sd.class_batch([[]], [0])


def test_majority_baseline():
    assert sd.majority_baseline(["a", "b", "b"], ["b", "a", "b", "c"]) == 0.5
    assert sd.majority_baseline([1, 0], [0, 0, 1]) == pytest.approx(2 / 3)  # tie: the smallest
    with pytest.raises(DataError, match="non-empty train and test"):
        sd.majority_baseline([], ["a"])


# --------------------------------------------------------------------- shared data


@needs_shared
def test_tiny_shakespeare_cloze_corpus():
    path = SHARED / "tinyshakespeare" / "input.txt"
    sents = sd.load_cloze_sentences(path, nltk_data=NLTK_DATA)
    # measured with nltk 3.10.4 and the shared punkt_tab English model
    assert (len(sents) == 10564) if NLTK_DATA else (10000 < len(sents) < 11500)
    assert all(4 <= len(s) <= 40 for s in sents)
    assert sents[0] == ["before", "we", "proceed", "any", "further", ",", "hear", "me", "speak", "."]
    # no speaker label survives (one stands alone in its paragraph: "KING RICHARD III:")
    assert not any(s[-1] == ":" and s[:-1] in (["king", "richard", "iii"], ["all"]) for s in sents)
    assert not any(s[:3] == ["first", "citizen", ":"] for s in sents)
    vocab = sd.build_cloze_vocab(sents, 8000)
    assert len(vocab) == 8000
    assert vocab.index_to_token[:6] == ["<blank>", "<unk>", ",", ".", "the", "i"]
    enc, kept = sd.encode_cloze(sents, vocab)
    assert len(enc) == len(sents)  # every kept sentence has a word to blank
    ids, pos = sd.parse_cloze("To be, or not to ___, that is the question.", vocab)
    assert vocab.decode(ids)[pos] == "<blank>" and sd.UNK not in vocab.decode(ids)


@needs_shared
def test_tang_poets():
    recs = sd.read_poem_records([SHARED / p for p in TANG])
    assert len(recs) == 5003
    top = sd.select_poets(recs, top_k=5)
    counts = Counter(a for a, _ in top)
    assert counts == {"張說": 407, "張九齡": 219, "李嶠": 216, "宋之問": 199, "李白": 142}
    labels = sd.LabelSet(a for a, _ in top)
    tokens = [sd.tokenize_for_classes(t) for _, t in top]
    vocab = sd.build_vocab(tokens)
    tr, va, te = sd.stratified_split([a for a, _ in top], rng=0)
    assert len(tr) + len(va) + len(te) == 1183
    y = labels.encode([top[i][0] for i in te])
    assert sd.majority_baseline([top[i][0] for i in tr], [top[i][0] for i in te]) == pytest.approx(
        np.mean(y == labels.encode(["張說"])[0])
    )
    X, M, yb = sd.class_batch([vocab.encode(tokens[i]) for i in te[:8]], y[:8])
    assert X.shape[1] == 8 and (M.sum(0) == [len(tokens[i]) for i in te[:8]]).all()
