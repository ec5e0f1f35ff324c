"""Tests for theano_rnn.tasks.sampling (both tutorials' sentence generators)."""

from __future__ import annotations

import numpy as np
import pytest

from theano_rnn import RNNTheano
from theano_rnn.data.words import SENTENCE_END, SENTENCE_START, UNKNOWN_TOKEN
from theano_rnn.tasks.sampling import generate_sentence_part2, generate_sentence_part4, generate_sentences_part2, generate_sentences_part4, sample_index
from theano_rnn.errors import SamplingError

C, H = 12, 5
WORDS = [SENTENCE_START, SENTENCE_END, UNKNOWN_TOKEN] + [f"w{i}" for i in range(3, C)]
W2I = {w: i for i, w in enumerate(WORDS)}
START, END, UNK = W2I[SENTENCE_START], W2I[SENTENCE_END], W2I[UNKNOWN_TOKEN]


class ScriptedModel:
    """``next_word_probs`` returns ``script(prefix)`` and records the prefixes."""

    def __init__(self, script, dtype=np.float64):
        self.script = script
        self.dtype = dtype
        self.prefixes = []

    def next_word_probs(self, prefix):
        self.prefixes.append(list(prefix))
        return np.asarray(self.script(list(prefix)), dtype=self.dtype)


def one_hot(i):
    p = np.zeros(C)
    p[i] = 1.0
    return p


def words_then_end(words):
    """Deterministic: emits ``words`` (indices) then SENTENCE_END."""
    def script(prefix):
        k = len(prefix) - 1
        return one_hot(words[k] if k < len(words) else END)
    return script


# ----------------------------------------------------------------- real model
@pytest.fixture(scope="module")
def rnn():
    model = RNNTheano(C, H, rng=np.random.RandomState(4))
    return model, model.get_params()


@pytest.fixture
def model(rnn):
    m, initial = rnn
    m.set_params(initial)
    yield m
    m.set_params(initial)


def test_part2_same_seed_same_sentences(model):
    a = generate_sentences_part2(model, 3, WORDS, W2I, rng=7, min_length=2)
    b = generate_sentences_part2(model, 3, WORDS, W2I, rng=np.random.RandomState(7), min_length=2)
    c = generate_sentences_part2(model, 3, WORDS, W2I, rng=8, min_length=2)
    assert a == b
    assert a != c
    # SENTENCE_START may be drawn mid-sentence (the tutorial allowed it); END and UNKNOWN not
    allowed = set(WORDS) - {SENTENCE_END, UNKNOWN_TOKEN}
    assert all(len(s) >= 2 and set(s) <= allowed for s in a)


def test_part4_same_seed_same_sentences(model):
    a = generate_sentences_part4(model, 3, WORDS, W2I, rng=7, min_length=3)
    b = generate_sentences_part4(model, 3, WORDS, W2I, rng=np.random.RandomState(7), min_length=3)
    assert a == b
    assert all(UNKNOWN_TOKEN not in s and len(s) + 2 >= 3 for s in a)


def test_part2_never_emits_unknown_even_when_the_model_favours_it(model):
    # W = 0, U = 1: every state is tanh(1) * ones, so the distribution is fixed;
    # V's rows set the logits: UNKNOWN ~ 0.9, SENTENCE_END ~ 0.025.
    s = np.tanh(1.0) * H
    V = np.zeros((C, H))
    V[UNK] = np.log(0.9 / 0.1 * (C - 1)) / s
    model.set_params({"U": np.ones((H, C)), "W": np.zeros((H, H)), "V": V})
    p = model.next_word_probs([START])
    assert p[UNK] > 0.85  # the test is only meaningful if UNKNOWN is likely
    sentences = generate_sentences_part2(model, 5, WORDS, W2I, rng=0, min_length=1)
    words = [w for s in sentences for w in s]
    assert len(words) >= 5
    assert UNKNOWN_TOKEN not in words
    # the part-4 policy rejects instead, so it almost never accepts a sentence here
    with pytest.raises(SamplingError):
        generate_sentences_part4(model, 1, WORDS, W2I, rng=0, min_length=1, max_tries=5)


def test_rng_none_uses_a_fresh_generator_not_the_global_one(model):
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    sent = generate_sentence_part2(model, WORDS, W2I, None)
    assert sent is None or all(w in WORDS for w in sent)
    generate_sentence_part4(model, WORDS, W2I, rng=None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


# --------------------------------------------------------------- part-2 policy
def test_part2_resamples_unknown_with_the_same_stream():
    # UNKNOWN with 0.5; the accepted word must be the first non-UNKNOWN draw of the stream
    p = np.zeros(C)
    p[UNK], p[5] = 0.5, 0.25
    p[END] = 0.25
    model = ScriptedModel(lambda prefix: p if len(prefix) == 1 else one_hot(END))
    sent = generate_sentence_part2(model, WORDS, W2I, rng=3)
    ref = np.random.RandomState(3)
    draw = UNK
    while draw == UNK:
        draw = int(np.argmax(ref.multinomial(1, p)))
    assert sent == ([] if draw == END else [WORDS[draw]])
    # across seeds both outcomes occur, UNKNOWN never
    outcomes = {tuple(generate_sentence_part2(model, WORDS, W2I, rng=s)) for s in range(30)}
    assert outcomes == {(), ("w5",)}


def test_part2_max_length_guard():
    model = ScriptedModel(lambda prefix: one_hot(4))  # never ends
    assert generate_sentence_part2(model, WORDS, W2I, rng=0, max_length=10) is None
    assert len(model.prefixes) == 11  # 10 words allowed, the 11th is one too many
    exact = ScriptedModel(words_then_end([4] * 10))
    assert generate_sentence_part2(exact, WORDS, W2I, rng=0, max_length=10) == ["w4"] * 10


def test_part2_min_length_loop_regenerates():
    attempts = {"n": 0}

    def script(prefix):
        if len(prefix) == 1:
            attempts["n"] += 1
        length = 2 if attempts["n"] < 3 else 7  # the third attempt is long enough
        k = len(prefix) - 1
        return one_hot(6 if k < length else END)

    out = generate_sentences_part2(ScriptedModel(script), 1, WORDS, W2I, rng=0, min_length=7)
    assert out == [["w6"] * 7] and attempts["n"] == 3
    with pytest.raises(SamplingError, match="7 words"):
        generate_sentences_part2(ScriptedModel(words_then_end([6])), 1, WORDS, W2I, rng=0,
                                 max_tries=4)


def test_part2_all_mass_on_unknown_is_an_error_not_a_hang():
    with pytest.raises(ValueError, match="UNKNOWN_TOKEN"):
        generate_sentence_part2(ScriptedModel(lambda p: one_hot(UNK)), WORDS, W2I, rng=0,
                                max_resamples=50)
    p = one_hot(UNK) * (1 - 1e-9)
    p[7] = 1e-9
    sent = generate_sentence_part2(
        ScriptedModel(lambda prefix: p if len(prefix) == 1 else one_hot(END)), WORDS, W2I,
        rng=0, max_resamples=50,
    )
    assert sent == ["w7"]


# --------------------------------------------------------------- part-4 policy
def test_part4_accepts_and_returns_indices_with_markers():
    model = ScriptedModel(words_then_end([3, 4, 5]))
    assert generate_sentence_part4(model, WORDS, W2I, rng=0) == [START, 3, 4, 5, END]


def test_part4_rejects_unknown():
    model = ScriptedModel(words_then_end([3, UNK, 5]))
    assert generate_sentence_part4(model, WORDS, W2I, rng=0) is None
    assert len(model.prefixes) == 2  # stopped at once


def test_part4_rejects_sentences_longer_than_100():
    model = ScriptedModel(lambda prefix: one_hot(4))
    assert generate_sentence_part4(model, WORDS, W2I, rng=0) is None
    assert len(model.prefixes) == 100  # len(new_sentence) reached 101 > 100
    ok = ScriptedModel(words_then_end([4] * 98))  # 1 + 98 + 1 = 100 tokens: accepted
    assert len(generate_sentence_part4(ok, WORDS, W2I, rng=0)) == 100
    too_long = ScriptedModel(words_then_end([4] * 99))  # 101 tokens
    assert generate_sentence_part4(too_long, WORDS, W2I, rng=0) is None


def test_part4_rejects_short_sentences():
    model = ScriptedModel(words_then_end([3, 4]))  # 4 tokens with the markers
    assert generate_sentence_part4(model, WORDS, W2I, rng=0) is None
    assert generate_sentence_part4(model, WORDS, W2I, min_length=4, rng=0) == [START, 3, 4, END]


def test_part4_retries_until_accepted():
    attempts = {"n": 0}

    def script(prefix):
        if len(prefix) == 1:
            attempts["n"] += 1
        words = [3, UNK] if attempts["n"] == 1 else [3, 4, 5, 6]
        k = len(prefix) - 1
        return one_hot(words[k] if k < len(words) else END)

    out = generate_sentences_part4(ScriptedModel(script), 1, WORDS, W2I, rng=0)
    assert out == [["w3", "w4", "w5", "w6"]] and attempts["n"] == 2
    raw = generate_sentences_part4(ScriptedModel(words_then_end([3, 4, 5])), 2, WORDS, W2I,
                                   rng=0, decode=False)
    assert raw == [[START, 3, 4, 5, END]] * 2
    with pytest.raises(SamplingError):
        generate_sentences_part4(ScriptedModel(words_then_end([3])), 1, WORDS, W2I, rng=0,
                                 max_tries=3)


# ----------------------------------------------------------------- robustness
def test_float32_probabilities_are_accepted():
    p32 = np.zeros(C, dtype=np.float32)
    p32[4] = np.float32(0.5)
    p32[END] = np.float32(0.5000001)
    # raw multinomial refuses it (the sum exceeds 1 in float32) ...
    order = np.array([4, END] + [i for i in range(C) if i not in (4, END)])
    with pytest.raises(ValueError):
        np.random.RandomState(0).multinomial(1, p32[order])
    # ... the samplers renormalise in float64
    model = ScriptedModel(lambda prefix: p32 if len(prefix) < 4 else one_hot(END),
                          dtype=np.float32)
    sent = generate_sentence_part2(model, WORDS, W2I, rng=0)
    assert set(sent) <= {"w4"}
    assert generate_sentence_part4(model, WORDS, W2I, min_length=1, rng=0) is not None
    assert sample_index(p32[order], np.random.RandomState(0)) in (0, 1)


@pytest.mark.parametrize("missing", [SENTENCE_START, SENTENCE_END])
def test_vocabulary_without_markers_is_a_clear_error(missing):
    w2i = {w: i for w, i in W2I.items() if w != missing}
    model = ScriptedModel(words_then_end([3]))
    with pytest.raises(ValueError, match=missing):
        generate_sentence_part2(model, WORDS, w2i, rng=0)
    with pytest.raises(ValueError, match=missing):
        generate_sentence_part4(model, WORDS, w2i, rng=0)


def test_vocabulary_without_unknown_token_is_fine():
    w2i = {w: i for w, i in W2I.items() if w != UNKNOWN_TOKEN}
    model = ScriptedModel(words_then_end([3, 4]))
    assert generate_sentence_part2(model, WORDS, w2i, rng=0, max_resamples=0) == ["w3", "w4"]
    assert generate_sentence_part4(model, WORDS, w2i, min_length=1, rng=0) == [START, 3, 4, END]


@pytest.mark.parametrize("bad", [np.full(C, np.nan), np.zeros(C), -one_hot(3)])
def test_bad_probabilities_raise(bad):
    with pytest.raises(ValueError, match="probabilities"):
        generate_sentence_part4(ScriptedModel(lambda p: bad), WORDS, W2I, rng=0)
