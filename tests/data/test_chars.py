"""Tests for theano_rnn.data.chars: char-rnn's CharSplitLMMinibatchLoader, Unicode-aware."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from theano_rnn import reference
from theano_rnn.data import chars as chardata
from theano_rnn.data.chars import (
    CACHE_SUFFIX,
    DEFAULT_UNKNOWN,
    CharLoader,
    CharVocab,
    SplitSizes,
    cache_path_for,
    load_corpus,
    read_chars,
    read_poems_json,
    strip_fortune_markup,
)
from theano_rnn.errors import DataError

from tests.shared_data import shared_data_dir

SHARED = shared_data_dir()
SHAKESPEARE = SHARED / "tinyshakespeare" / "input.txt"
HONGLOUMENG = SHARED / "chinese" / "novels" / "hongloumeng.txt"
TANGSHI = SHARED / "chinese" / "chinese-poetry" / "tangshi300.json"
FORTUNES = SHARED / "chinese" / "debian-fortunes-zh" / "tang300"


def needs(path: Path):
    return pytest.mark.skipif(
        not path.is_file(), reason=f"shared corpus {path} is absent (set THEANO_RNN_SHARED_DATA)"
    )


CHINESE = "满纸荒唐言，一把辛酸泪！\n都云作者痴，谁解其中味？\n"


def write(tmp_path: Path, text: str | bytes, name: str = "input.txt") -> Path:
    p = tmp_path / name
    if isinstance(text, str):
        p.write_bytes(text.encode("utf-8"))
    else:
        p.write_bytes(text)
    return p


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    """An empty user cache dir, so no test touches the real ~/.cache."""
    d = tmp_path / "xdg"
    monkeypatch.delenv("THEANO_RNN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(d))
    return d / "theano_rnn"


# --------------------------------------------------------------------------- reading


def test_read_chars_chinese_round_trip(tmp_path):
    p = write(tmp_path, CHINESE)
    text = read_chars(p)
    assert text == CHINESE
    assert len(text) == len(CHINESE) < len(CHINESE.encode("utf-8"))  # characters, not bytes
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int32 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert vocab.index_to_char == sorted(set(text))
    assert len(vocab) == len(set(text))


def test_read_chars_crlf_and_bom(tmp_path):
    p = write(tmp_path, b"\xef\xbb\xbfa\r\nb\rc\r\n")
    assert read_chars(p) == "a\nb\rc\n"


def test_read_chars_other_encoding(tmp_path):
    p = write(tmp_path, "红楼梦\n".encode("gb18030"))
    assert read_chars(p, encoding="gb18030") == "红楼梦\n"
    with pytest.raises(DataError, match="--encoding"):
        read_chars(p)


def test_read_chars_bad_byte_offset(tmp_path):
    p = write(tmp_path, b"abc\xff")
    with pytest.raises(DataError) as ei:
        read_chars(p)
    msg = str(ei.value)
    assert "\n" not in msg
    assert str(p) in msg
    assert "byte offset 3" in msg
    assert "0xff" in msg
    assert "--encoding" in msg


def test_read_chars_bad_byte_offset_after_multibyte(tmp_path):
    data = "中文".encode("utf-8") + b"\n\xe4\xb8"  # truncated 3-byte sequence at offset 7
    p = write(tmp_path, data)
    with pytest.raises(DataError, match=r"byte offset 7 \(line 2"):
        read_chars(p)


def test_read_chars_missing_empty_unknown_encoding(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(DataError, match="nope.txt"):
        read_chars(missing)
    empty = write(tmp_path, b"", "empty.txt")
    with pytest.raises(DataError, match="empty.txt is empty"):
        read_chars(empty)
    with pytest.raises(DataError, match="is empty"):
        read_chars(write(tmp_path, b"\xef\xbb\xbf", "bom.txt"))
    with pytest.raises(DataError, match="unknown text encoding"):
        read_chars(write(tmp_path, "x"), encoding="no-such-codec")
    with pytest.raises(DataError, match="directory"):
        read_chars(tmp_path)


# --------------------------------------------------------------------------- vocabulary


def test_vocab_sorted_by_code_point():
    vocab = CharVocab.from_text("ba\n中A一")
    assert vocab.index_to_char == ["\n", "A", "a", "b", "一", "中"]
    assert vocab.char_to_index == {c: i for i, c in enumerate(vocab.index_to_char)}
    assert vocab.unknown is None  # min_freq 1: nothing is rare


def test_vocab_min_freq_unknown_mapping():
    text = "aaabbc中"  # c and 中 occur once
    vocab = CharVocab.from_text(text, min_freq=2)
    assert vocab.unknown == DEFAULT_UNKNOWN
    assert sorted(vocab.index_to_char) == vocab.index_to_char == ["a", "b", DEFAULT_UNKNOWN]
    ids = vocab.encode(text)
    assert vocab.decode(ids) == "aaabb" + DEFAULT_UNKNOWN * 2
    assert vocab.unknown_index == vocab.char_to_index[DEFAULT_UNKNOWN]


def test_vocab_unknown_symbol_collision_uses_private_use():
    text = "aa\ufffd b"  # U+FFFD already in the text, and rare
    vocab = CharVocab.from_text(text, min_freq=2)
    assert vocab.unknown is not None and vocab.unknown != DEFAULT_UNKNOWN
    assert 0xE000 <= ord(vocab.unknown) <= 0xF8FF
    assert vocab.unknown not in text
    assert vocab.decode(vocab.encode(text)) == "aa" + vocab.unknown * 3


def test_vocab_min_freq_too_high_and_bad_values():
    with pytest.raises(DataError, match="leaves no character"):
        CharVocab.from_text("abc", min_freq=5)
    with pytest.raises(DataError, match="min_freq must be >= 1"):
        CharVocab.from_text("abc", min_freq=0)
    with pytest.raises(DataError, match="empty"):
        CharVocab.from_text("")


def test_vocab_encode_without_unknown_raises_listing_characters():
    vocab = CharVocab.from_text("abc")
    with pytest.raises(DataError, match=r"'z'.*no unknown|no unknown.*'z'"):
        vocab.encode("abz")


def test_vocab_list_round_trip():
    vocab = CharVocab.from_text("hello 世界 hello", min_freq=2)
    chars = vocab.to_list()
    assert chars == vocab.index_to_char and chars is not vocab.index_to_char
    again = CharVocab.from_list(chars, unknown=vocab.unknown)
    assert again == vocab
    assert CharVocab.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab
    text = "hello world"
    np.testing.assert_array_equal(again.encode(text), vocab.encode(text))
    with pytest.raises(DataError, match="duplicate"):
        CharVocab.from_list(["a", "a"])
    with pytest.raises(DataError, match="single characters"):
        CharVocab.from_list(["ab"])
    with pytest.raises(DataError, match="not in the vocabulary"):
        CharVocab.from_list(["a"], unknown="b")


def test_vocab_decode_out_of_range():
    vocab = CharVocab.from_text("ab")
    with pytest.raises(DataError, match="out of range"):
        vocab.decode([0, 2])
    with pytest.raises(DataError, match="out of range"):
        vocab.decode([-1])
    assert vocab.decode([]) == ""


def test_prime_policies():
    plain = CharVocab.from_text("abcabc")  # no unknown symbol
    with_unk = CharVocab.from_text("aabbccd", min_freq=2)  # d -> unknown
    assert with_unk.unknown is not None

    np.testing.assert_array_equal(plain.encode_prime("cab"), [2, 0, 1])
    np.testing.assert_array_equal(plain.encode_prime("cab", policy="error"), [2, 0, 1])
    assert plain.encode_prime("").shape == (0,)

    # "unknown" maps missing characters to the unknown symbol...
    ids = with_unk.encode_prime("ax中", policy="unknown")
    assert with_unk.decode(ids) == "a" + with_unk.unknown * 2
    # ...but needs one
    with pytest.raises(DataError, match="no unknown symbol"):
        plain.encode_prime("ax", policy="unknown")
    # "error" lists the missing characters in order of appearance
    with pytest.raises(DataError, match=r"2 characters not in the vocabulary: 'x', '中'"):
        with_unk.encode_prime("ax中x", policy="error")
    # a prime entirely outside the vocabulary always raises
    for vocab in (plain, with_unk):
        for policy in ("unknown", "error"):
            with pytest.raises(DataError, match="no character of the prime"):
                vocab.encode_prime("xyz", policy=policy)
    with pytest.raises(DataError, match="policy"):
        plain.encode_prime("a", policy="ignore")


# --------------------------------------------------------------------------- loader


def _text(n: int) -> str:
    rng = np.random.default_rng(0)
    alphabet = np.array(list("abcdefghij中文\n "))
    return "".join(alphabet[rng.integers(0, len(alphabet), n)])


def test_loader_batch_layout_continuity_and_shift():
    B, S = 3, 4
    text = _text(B * S * 5 + 7)  # 5 batches, 7 characters cut off
    vocab = CharVocab.from_text(text)
    loader = CharLoader(text, vocab, batch_size=B, seq_length=S, split_fractions=(1.0, 0.0, 0.0))
    assert loader.nbatches == 5 and loader.n_used == B * S * 5
    ids = vocab.encode(text)
    L = 5 * S  # length of each stream
    xs, ys = zip(*loader.batches("train"))
    for i, (x, y) in enumerate(zip(xs, ys)):
        assert x.shape == y.shape == (S, B) and x.dtype == y.dtype == np.int32
        for s in range(B):
            start = s * L + i * S
            np.testing.assert_array_equal(x[:, s], ids[start : start + S])
            assert vocab.decode(x[:, s]) == text[start : start + S]
        # y is x shifted by one in time
        np.testing.assert_array_equal(y[:-1], x[1:])
    for i in range(4):
        # the last x of stream s in batch i is followed by the first x of stream s in batch i+1
        for s in range(B):
            last = s * L + i * S + S - 1
            assert text[last + 1] == vocab.decode([xs[i + 1][0, s]])
        np.testing.assert_array_equal(ys[i][-1], xs[i + 1][0])
    # the very end wraps around: ydata[-1] = xdata[0] (char-rnn)
    assert ys[-1][-1, B - 1] == ids[0]
    # the end of stream s is followed by the start of stream s + 1
    for s in range(B - 1):
        assert ys[-1][-1, s] == ids[(s + 1) * L]


def test_loader_accepts_ids_and_rejects_bad_ids():
    text = _text(100)
    vocab = CharVocab.from_text(text)
    a = CharLoader(text, vocab, batch_size=2, seq_length=5)
    b = CharLoader(vocab.encode(text).astype(np.int64), vocab, batch_size=2, seq_length=5)
    for split in ("train", "val"):
        for (xa, ya), (xb, yb) in zip(a.batches(split), b.batches(split)):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    with pytest.raises(DataError, match="range"):
        CharLoader(np.full(100, len(vocab)), vocab, batch_size=2, seq_length=5)
    with pytest.raises(DataError, match="1-D"):
        CharLoader(np.zeros((10, 10), dtype=np.int32), vocab, batch_size=2, seq_length=5)


@pytest.mark.parametrize(
    "nbatches, fractions, expected",
    [
        (100, (0.95, 0.05, 0.0), (95, 5, 0)),
        (20, (0.95, 0.05, 0.0), (19, 1, 0)),
        (7, (0.95, 0.05, 0.0), (6, 1, 0)),
        (100, (0.9, 0.05, 0.05), (90, 5, 5)),  # char-rnn: nval = floor, test gets the rest
        (33, (0.8, 0.1, 0.1), (26, 3, 4)),
        (10, (0.9, 0.05, 0.05), (8, 1, 1)),  # char-rnn: (9, 0, 1); val guaranteed one batch
        (2, (0.95, 0.05, 0.0), (1, 1, 0)),
        (1, (0.95, 0.05, 0.0), (1, 0, 0)),  # char-rnn: (0, 1, 0); train guaranteed one batch
        (5, (1.0, 0.0, 0.0), (5, 0, 0)),
        (5, (0.95, 0.05), (4, 1, 0)),  # (train, val): test = max(0, 1 - train - val)
    ],
)
def test_loader_split_counts(nbatches, fractions, expected):
    B, S = 2, 3
    text = _text(nbatches * B * S + 1)
    vocab = CharVocab.from_text(text)
    loader = CharLoader(text, vocab, batch_size=B, seq_length=S, split_fractions=fractions)
    assert loader.nbatches == nbatches
    assert loader.split_sizes == SplitSizes(*expected)
    assert [loader.num_batches(s) for s in ("train", "val", "test")] == list(expected)
    # val follows train and test follows val, in text order
    seen = [x for s in ("train", "val", "test") for x, _ in loader.batches(s)]
    assert len(seen) == nbatches
    starts = [x[0, 0] for x in seen]
    ids = vocab.encode(text)
    np.testing.assert_array_equal(starts, ids[: nbatches * S : S])


def test_loader_bad_fractions():
    text = _text(200)
    vocab = CharVocab.from_text(text)
    with pytest.raises(DataError, match="between 0 and 1"):
        CharLoader(text, vocab, 2, 3, split_fractions=(1.2, -0.2, 0.0))
    with pytest.raises(DataError, match="add up to 1"):
        CharLoader(text, vocab, 2, 3, split_fractions=(0.5, 0.2, 0.1))


def test_loader_too_short_corpus():
    text = "abcdefghijkl"  # 12 characters, one batch of 3 x 4 needs 13
    vocab = CharVocab.from_text(text)
    with pytest.raises(DataError) as ei:
        CharLoader(text, vocab, batch_size=3, seq_length=4)
    msg = str(ei.value)
    assert "corpus of 12 characters is shorter than one batch" in msg
    assert "batch_size × seq_length + 1" in msg and "= 13" in msg
    loader = CharLoader(text + "m", vocab_m := CharVocab.from_text(text + "m"), 3, 4)
    assert loader.nbatches == 1 and len(vocab_m) == 13


@pytest.mark.parametrize("name, kwargs", [
    ("seq_length", dict(batch_size=2, seq_length=0)),
    ("seq_length", dict(batch_size=2, seq_length=-3)),
    ("batch_size", dict(batch_size=0, seq_length=2)),
])
def test_loader_rejects_nonpositive_sizes(name, kwargs):
    text = _text(50)
    with pytest.raises(DataError, match=f"{name} must be >= 1"):
        CharLoader(text, CharVocab.from_text(text), **kwargs)


def test_loader_rejects_non_integer_sizes():
    text = _text(50)
    with pytest.raises(DataError, match="seq_length must be an integer"):
        CharLoader(text, CharVocab.from_text(text), batch_size=2, seq_length=2.5)


def test_next_batch_pointer_wraps_reset_and_state():
    B, S = 2, 3
    text = _text(B * S * 10 + 1)
    vocab = CharVocab.from_text(text)
    loader = CharLoader(text, vocab, B, S, split_fractions=(0.8, 0.2, 0.0))
    assert loader.split_sizes == (8, 2, 0)
    got = [loader.next_batch("train")[0] for _ in range(11)]
    for k, x in enumerate(got):
        np.testing.assert_array_equal(x, loader.batch("train", k % 8)[0])  # cycles
    x_val, _ = loader.next_batch("val")
    np.testing.assert_array_equal(x_val, loader.batch("val", 0)[0])  # own pointer
    state = loader.state()
    assert state["train"] == 3 and state["val"] == 1 and state["test"] == 0
    json.dumps(state)  # serialisable

    expected_next = loader.next_batch("train")[0]
    other = CharLoader(text, vocab, B, S, split_fractions=(0.8, 0.2, 0.0))
    other.set_state(state)
    np.testing.assert_array_equal(other.next_batch("train")[0], expected_next)

    loader.reset("train")
    np.testing.assert_array_equal(loader.next_batch("train")[0], loader.batch("train", 0)[0])
    assert loader.state()["val"] == 1
    loader.reset()
    assert loader.state()["val"] == 0

    with pytest.raises(DataError, match="no batches"):
        loader.next_batch("test")
    with pytest.raises(DataError, match="unknown split"):
        loader.next_batch("dev")
    with pytest.raises(DataError, match="out of range"):
        loader.batch("val", 2)
    with pytest.raises(DataError, match="out of range"):
        other.set_state({"train": 8})
    with pytest.raises(DataError, match="batch_size"):
        CharLoader(text, vocab, B + 1, S).set_state(state)


def test_batches_are_copies():
    text = _text(100)
    loader = CharLoader(text, CharVocab.from_text(text), 2, 5)
    x, _ = loader.batch("train", 0)
    before = x.copy()
    x[:] = 0
    np.testing.assert_array_equal(loader.batch("train", 0)[0], before)


# --------------------------------------------------------------------------- cache


def _count_preprocess(monkeypatch):
    calls = []
    real = chardata._preprocess

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(chardata, "_preprocess", counting)
    return calls


def test_cache_used_then_rebuilt_when_text_changes(tmp_path, monkeypatch, xdg):
    corpus = tmp_path / "data"
    corpus.mkdir()
    p = write(corpus, "hello world\n" * 20)
    calls = _count_preprocess(monkeypatch)
    vocab, loader = load_corpus(p, batch_size=2, seq_length=5)
    cache = cache_path_for(p)
    assert cache.is_file() and cache.parent == xdg
    assert cache.name.startswith("input.txt.") and cache.name.endswith(CACHE_SUFFIX)
    assert len(calls) == 1
    mtime = cache.stat().st_mtime_ns

    vocab2, loader2 = load_corpus(p, batch_size=2, seq_length=5)
    assert len(calls) == 1  # cache hit: no decoding / encoding
    assert cache.stat().st_mtime_ns == mtime
    assert vocab2 == vocab
    np.testing.assert_array_equal(loader2.batch("train", 0)[0], loader.batch("train", 0)[0])

    # same size, new content: must be rebuilt
    p.write_text("HELLO WORLD\n" * 20, encoding="utf-8")
    vocab3, loader3 = load_corpus(p, batch_size=2, seq_length=5)
    assert len(calls) == 2
    assert "H" in vocab3 and "h" not in vocab3
    assert vocab3.decode(loader3.batch("train", 0)[0][:, 0]) == "HELLO"

    # a different min_freq is a different key, too
    load_corpus(p, batch_size=2, seq_length=5, min_freq=2)
    assert len(calls) == 3
    assert sorted(f.name for f in corpus.iterdir()) == ["input.txt"]  # never beside the data
    assert [f.name for f in xdg.iterdir()] == [cache.name]  # one file per corpus


def test_cache_is_plain_npz_and_atomic(tmp_path, xdg):
    p = write(tmp_path, CHINESE * 10)
    load_corpus(p, batch_size=2, seq_length=5, min_freq=2)
    cache = cache_path_for(p)
    with np.load(cache, allow_pickle=False) as z:  # no pickle needed
        assert z["ids"].dtype == np.int32
        assert json.loads(str(z["key"][()]))["min_freq"] == 2
    assert [f.name for f in cache.parent.iterdir() if f.name.endswith(".tmp")] == []


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch, xdg, caplog):
    p = write(tmp_path, CHINESE * 10)
    cache_path_for(p).parent.mkdir(parents=True)
    cache_path_for(p).write_bytes(b"not a zip file")
    calls = _count_preprocess(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.cache"):
        vocab, _ = load_corpus(p, batch_size=2, seq_length=5)
    assert len(calls) == 1
    assert "unreadable cache" in caplog.text
    assert vocab.decode(vocab.encode(CHINESE)) == CHINESE
    with np.load(cache_path_for(p), allow_pickle=False) as z:
        assert "ids" in z.files


def test_cache_dir_given(tmp_path, xdg):
    p = write(tmp_path, _text(200))
    cdir = tmp_path / "cache"
    load_corpus(p, batch_size=2, seq_length=5, cache_dir=cdir)
    files = list(cdir.glob("*" + CACHE_SUFFIX))
    assert files == [cache_path_for(p, cdir)]
    assert not cache_path_for(p).exists()


def test_cache_dir_env_var_wins_and_corpora_never_collide(tmp_path, monkeypatch, xdg):
    own = tmp_path / "own-cache"
    monkeypatch.setenv("THEANO_RNN_CACHE_DIR", str(own))
    assert chardata.user_cache_dir() == own
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    pa, pb = write(a, _text(200)), write(b, "different text\n" * 30)
    assert pa.name == pb.name == "input.txt"
    va, _ = load_corpus(pa, batch_size=2, seq_length=5)
    vb, _ = load_corpus(pb, batch_size=2, seq_length=5)
    assert cache_path_for(pa) != cache_path_for(pb)
    assert sorted(own.iterdir()) == sorted([cache_path_for(pa), cache_path_for(pb)])
    assert not xdg.exists()
    calls = _count_preprocess(monkeypatch)
    assert load_corpus(pa, batch_size=2, seq_length=5)[0] == va  # both still hit
    assert load_corpus(pb, batch_size=2, seq_length=5)[0] == vb
    assert calls == []
    monkeypatch.delenv("THEANO_RNN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored
    assert chardata.user_cache_dir() == Path.home() / ".cache" / "theano_rnn"


def test_read_only_corpus_dir_is_never_written(tmp_path, xdg):
    corpus = tmp_path / "ro"
    corpus.mkdir()
    p = write(corpus, _text(300))
    corpus.chmod(0o555)
    try:
        load_corpus(p, batch_size=2, seq_length=5)
        assert sorted(f.name for f in corpus.iterdir()) == ["input.txt"]
        assert cache_path_for(p).is_file() and cache_path_for(p).parent == xdg
    finally:
        corpus.chmod(0o755)


def test_unwritable_cache_dir_warns_and_still_loads(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("THEANO_RNN_CACHE_DIR", str(blocker / "cache"))
    p = write(tmp_path, _text(300))
    calls = _count_preprocess(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="theano_rnn.data.cache"):
        vocab, loader = load_corpus(p, batch_size=2, seq_length=5)
        load_corpus(p, batch_size=2, seq_length=5)
    assert len(calls) == 2  # no cache: preprocessed each time
    assert "cannot write the corpus cache" in caplog.text
    assert loader.num_batches("train") > 0
    assert sorted(f.name for f in tmp_path.iterdir()) == ["input.txt", "not-a-dir"]


def test_load_corpus_validates_before_reading(tmp_path):
    with pytest.raises(DataError, match="seq_length must be >= 1"):
        load_corpus(tmp_path / "missing.txt", batch_size=2, seq_length=0)
    with pytest.raises(DataError, match="missing.txt"):
        load_corpus(tmp_path / "missing.txt", batch_size=2, seq_length=2)


# --------------------------------------------------------------------------- special corpora


def test_read_poems_json(tmp_path):
    poems = [
        {"author": "李白", "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"], "title": "靜夜思"},
        {"author": "x", "paragraphs": [], "title": "empty"},
        {"author": "王維", "paragraphs": ["空山不見人，"], "title": "鹿柴", "tags": ["a"]},
    ]
    a = tmp_path / "a.json"
    a.write_text(json.dumps(poems, ensure_ascii=False), encoding="utf-8")
    b = tmp_path / "b.json"
    b.write_text(json.dumps(poems[2:]), encoding="utf-8")
    text = read_poems_json([a, b])
    assert text == (
        "床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n\n空山不見人，\n\n空山不見人，\n"
    )
    assert read_poems_json(b) == "空山不見人，\n"
    bad = tmp_path / "bad.json"
    bad.write_text('{"paragraphs": ["x"]}', encoding="utf-8")
    with pytest.raises(DataError, match="JSON list"):
        read_poems_json(bad)
    bad.write_text("[{", encoding="utf-8")
    with pytest.raises(DataError, match="bad.json is not valid JSON"):
        read_poems_json(bad)


def test_strip_fortune_markup():
    raw = (
        "\x1b[32m《静夜思》\x1b[m\r\n\x1b[33m作者：李白\x1b[m\r\n床前明月光，\r\n%\r\n"
        "\n\x1b[1;31m《鹿柴》\x1b[0m\n空山不见人，  \n%\n%\n"
    )
    out = strip_fortune_markup(raw)
    assert "\x1b" not in out and "%" not in out and "\r" not in out
    assert out == "《静夜思》\n作者：李白\n床前明月光，\n\n《鹿柴》\n空山不见人，\n"


# --------------------------------------------------------------------------- shared corpora


@needs(SHAKESPEARE)
def test_tiny_shakespeare_counts(tmp_path, xdg):
    text = read_chars(SHAKESPEARE)
    assert len(text) == reference.value("charrnn.tinyshakespeare.characters")  # 1,115,394
    vocab, loader = load_corpus(SHAKESPEARE, cache_dir=tmp_path)
    assert len(vocab) == reference.value("charrnn.tinyshakespeare.vocabulary")
    assert vocab.unknown is None
    # char-rnn defaults: 50 x 50 batches, 0.95 / 0.05
    nbatches = len(text) // 2500
    assert loader.nbatches == nbatches == 446
    assert loader.split_sizes == (423, 23, 0)
    x, y = loader.batch("train", 0)
    assert vocab.decode(x[:, 0]) == text[:50]
    assert vocab.decode(y[:, 0]) == text[1:51]


@needs(HONGLOUMENG)
def test_hongloumeng_characters_and_min_freq(tmp_path, xdg):
    raw = HONGLOUMENG.read_bytes()
    text = read_chars(HONGLOUMENG)
    assert "\r" not in text and b"\r\n" in raw
    assert len(text) < len(raw) // 2  # characters, not bytes
    assert text.startswith("《红楼梦》")
    v1, _ = load_corpus(HONGLOUMENG, batch_size=20, seq_length=50, cache_dir=tmp_path)
    assert len(v1) == len(set(text)) > 4000
    v5, loader5 = load_corpus(HONGLOUMENG, batch_size=20, seq_length=50, min_freq=5, cache_dir=tmp_path)
    counts = Counter(text)
    n_rare = sum(1 for c in counts.values() if c < 5)
    assert n_rare > 0
    assert len(v5) == len(v1) - n_rare + 1  # + the unknown symbol
    assert v5.unknown == DEFAULT_UNKNOWN
    assert v5.decode(loader5.batch("train", 0)[0][:, 0]) == text[:50].translate(
        {ord(c): DEFAULT_UNKNOWN for c in text[:50] if counts[c] < 5}
    )


@needs(TANGSHI)
def test_tangshi300_json():
    records = json.loads(TANGSHI.read_text(encoding="utf-8"))
    text = read_poems_json(TANGSHI)
    poems = text.rstrip("\n").split("\n\n")
    assert len(poems) == sum(1 for r in records if any(p.strip() for p in r["paragraphs"]))
    assert poems[0] == "\n".join(records[0]["paragraphs"])
    vocab = CharVocab.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text


@needs(FORTUNES)
def test_debian_fortunes(tmp_path):
    raw = read_chars(FORTUNES)
    assert "\x1b[" in raw
    text = strip_fortune_markup(raw)
    assert "\x1b" not in text and "\n%\n" not in text
    assert text.startswith("《")
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    kept = [ansi.sub("", line).rstrip() for line in raw.splitlines() if line.strip() not in ("", "%")]
    assert [line for line in text.splitlines() if line.strip()] == kept
    assert text.count("作者：") == raw.count("作者：") > 300
