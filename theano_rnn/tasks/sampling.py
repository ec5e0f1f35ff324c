"""Sentence generation with the two tutorials' policies.

Part 2 (``RNNLM.ipynb``, ``generate_sentence``)
    Start from ``SENTENCE_START``; draw each next word with
    ``rng.multinomial(1, p)`` + ``argmax``; *resample* while the draw is
    ``UNKNOWN_TOKEN``; stop at ``SENTENCE_END``.  ``generate_sentences_part2``
    regenerates until a sentence has at least ``min_length`` words (the
    notebook's ``senten_min_length = 7``).

Part 4 (``rnn-tutorial-gru-lstm/utils.py``, ``generate_sentence``)
    Same sampling, but a sentence that draws ``UNKNOWN_TOKEN`` or grows past
    100 tokens is *rejected* (``None``), as is one shorter than ``min_length``
    tokens (start and end included); ``generate_sentences_part4`` retries.

Differences from the tutorials, all deliberate:

* The random generator is explicit (``rng``: an int seed, a
  ``np.random.RandomState``/``Generator``, or ``None`` for a fresh
  OS-seeded one; see :func:`theano_rnn.training.tutorial.resolve_rng`), never NumPy's
  global one.  The same seed gives the same sentences.
* The probabilities are cast to float64 and renormalised before
  ``multinomial``, which otherwise rejects float32 vectors whose sum rounds
  above 1 (the GPU models of the tutorials were float32).
* Part 2 had no length guard and could loop forever; ``max_length`` returns
  ``None`` instead (``max_length=None`` restores the unguarded loop).  Its
  resampling loop falls back to one draw from the distribution renormalised
  without ``UNKNOWN_TOKEN`` (the same distribution) after ``max_resamples``
  unknown draws in a row, and raises ``ValueError`` if the model puts no
  probability outside ``UNKNOWN_TOKEN``.
* Retry loops are bounded (``max_tries``) and raise :class:`SamplingError`.
"""

from __future__ import annotations

import logging

import numpy as np

from theano_rnn.data.words import SENTENCE_END, SENTENCE_START, UNKNOWN_TOKEN
from theano_rnn.runtime.rng import resolve_rng
from theano_rnn.errors import SamplingError

__all__ = [
    "SamplingError",
    "resolve_rng",
    "sample_index",
    "generate_sentence_part2",
    "generate_sentences_part2",
    "generate_sentence_part4",
    "generate_sentences_part4",
]

log = logging.getLogger(__name__)


def _markers(word_to_index):
    missing = [t for t in (SENTENCE_START, SENTENCE_END) if t not in word_to_index]
    if missing:
        raise ValueError(
            f"the vocabulary lacks {' and '.join(missing)}: sentence generation needs the "
            "tutorials' sentence markers (a word-level part-2/part-4 vocabulary)"
        )
    return (
        int(word_to_index[SENTENCE_START]),
        int(word_to_index[SENTENCE_END]),
        None if UNKNOWN_TOKEN not in word_to_index else int(word_to_index[UNKNOWN_TOKEN]),
    )


def _as_probabilities(p):
    """``p`` as a float64 probability vector summing to 1 (``ValueError`` if impossible)."""
    p = np.asarray(p, dtype=np.float64).ravel()
    if p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("next-word probabilities must be finite and non-negative")
    total = p.sum()
    if not total > 0:
        raise ValueError("next-word probabilities sum to 0")
    return p / total


def sample_index(p, rng):
    """One draw ``argmax(rng.multinomial(1, p))`` (the tutorials' idiom)."""
    return int(np.argmax(rng.multinomial(1, _as_probabilities(p))))


def _next_probs(model, sentence):
    return model.next_word_probs(np.asarray(sentence, dtype=np.int32))


def generate_sentence_part2(
    model, index_to_word, word_to_index, rng, max_length=100, max_resamples=1000
):
    """One sentence, the part-2 way; returns its words (markers excluded).

    Draws from ``model.next_word_probs(sentence)`` with ``rng`` and redraws
    while the draw is ``UNKNOWN_TOKEN``; stops at ``SENTENCE_END``.  Returns
    ``None`` when more than ``max_length`` words are drawn without reaching
    ``SENTENCE_END`` (a guard the notebook lacked; ``None`` disables it).
    Raises ``ValueError`` if the vocabulary lacks ``SENTENCE_START`` /
    ``SENTENCE_END``.
    """
    rng = resolve_rng(rng)
    start, end, unk = _markers(word_to_index)
    sentence = [start]
    while sentence[-1] != end:
        p = _as_probabilities(_next_probs(model, sentence))
        word = int(np.argmax(rng.multinomial(1, p)))
        tries = 1
        while word == unk:  # never true when the vocabulary has no UNKNOWN_TOKEN
            if tries >= max_resamples:
                q = p.copy()
                q[unk] = 0.0
                if not q.sum() > 0:
                    raise ValueError(
                        "the model puts all probability on UNKNOWN_TOKEN: nothing to sample"
                    )
                word = sample_index(q, rng)
                break
            word = int(np.argmax(rng.multinomial(1, p)))
            tries += 1
        sentence.append(word)
        if word != end and max_length is not None and len(sentence) - 1 > max_length:
            log.debug("generate_sentence_part2: no SENTENCE_END within %d words", max_length)
            return None
    return [index_to_word[i] for i in sentence[1:-1]]


def generate_sentences_part2(
    model, n, index_to_word, word_to_index, rng, min_length=7, max_tries=1000, max_length=100
):
    """``n`` sentences of at least ``min_length`` words (the notebook's loop).

    Each sentence is regenerated until it is long enough (sentences the
    ``max_length`` guard rejects count as failed tries); after ``max_tries``
    tries for one sentence :class:`SamplingError` is raised.  Returns a list
    of word lists.
    """
    rng = resolve_rng(rng)
    out = []
    for k in range(int(n)):
        sent, tries = [], 0
        while sent is None or len(sent) < min_length:
            if tries >= max_tries:
                raise SamplingError(
                    f"sentence {k}: no sentence of at least {min_length} words in {max_tries} tries"
                )
            sent = generate_sentence_part2(
                model, index_to_word, word_to_index, rng, max_length=max_length
            )
            tries += 1
        out.append(sent)
    return out


def generate_sentence_part4(
    model, index_to_word, word_to_index, min_length=5, rng=None, max_length=100
):
    """One sentence, the part-4 way; returns its indices (markers included) or ``None``.

    Samples from ``model.next_word_probs`` until ``SENTENCE_END``; rejects
    (returns ``None``) as soon as the sentence holds more than ``max_length``
    tokens (start marker included: the tutorial's ``len(new_sentence) > 100``)
    or ``UNKNOWN_TOKEN`` is drawn, and at the end if it has fewer than
    ``min_length`` tokens.
    """
    rng = resolve_rng(rng)
    start, end, unk = _markers(word_to_index)
    sentence = [start]
    while sentence[-1] != end:
        word = sample_index(_next_probs(model, sentence), rng)
        sentence.append(word)
        if (max_length is not None and len(sentence) > max_length) or word == unk:
            return None
    if len(sentence) < min_length:
        return None
    return sentence


def generate_sentences_part4(
    model, n, index_to_word, word_to_index, rng=None, min_length=5, max_tries=1000,
    max_length=100, decode=True,
):
    """``n`` accepted part-4 sentences (retrying rejected ones).

    Returns word lists without the markers (``decode=False``: the index lists
    with the markers, as ``generate_sentence_part4`` returns them).  Raises
    :class:`SamplingError` after ``max_tries`` rejections for one sentence.
    """
    rng = resolve_rng(rng)
    out = []
    for k in range(int(n)):
        sent, tries = None, 0
        while not sent:
            if tries >= max_tries:
                raise SamplingError(f"sentence {k}: every one of {max_tries} tries was rejected")
            sent = generate_sentence_part4(
                model, index_to_word, word_to_index, min_length=min_length, rng=rng,
                max_length=max_length,
            )
            tries += 1
        out.append([index_to_word[i] for i in sent[1:-1]] if decode else sent)
    return out


# ---------------------------------------------------------------------------
# char-rnn sampling (sample.lua)
# ---------------------------------------------------------------------------


def sample_chars(model, vocab, length=2000, *, prime="", temperature=1.0, argmax=False,
                 rng=None, stop=None, on_text=None, prime_policy="unknown"):
    """char-rnn's ``sample.lua`` on a :class:`~theano_rnn.models.char.CharRNN`.

    The prime text is fed through the model first (its characters are part
    of the output, as in char-rnn); then ``length`` characters are drawn one
    at a time from ``softmax(logits / temperature)`` (``argmax=True``: the
    most likely one, char-rnn's ``-sample 0``).  With no prime the first
    character is drawn uniformly, as char-rnn does.

    Args:
        prime_policy: ``"unknown"`` maps prime characters missing from the
            vocabulary to its unknown symbol (an error if it has none);
            ``"error"`` refuses them.  A prime entirely outside the
            vocabulary is always refused.
        stop: stop early once the generated text (after the prime) contains
            this string.
        on_text: called with each piece of text as it is produced (streaming).
    Returns the full text (prime + generated).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    rng = resolve_rng(rng)
    emit = on_text or (lambda s: None)
    states = model.zero_states(1)
    pieces = []
    logits = None
    if prime:
        ids = vocab.encode_prime(prime, policy=prime_policy)
        for i in ids:
            logits, states = model.step([int(i)], states)
        text = vocab.decode(ids)
        pieces.append(text)
        emit(text)
    generated = []
    for _ in range(int(length)):
        if logits is None:
            nxt = int(rng.choice(len(vocab)))
        elif argmax:
            nxt = int(np.argmax(logits[0]))
        else:
            z = np.asarray(logits[0], dtype=np.float64) / float(temperature)
            p = np.exp(z - z.max())
            p /= p.sum()
            nxt = int(rng.choice(len(p), p=p))
        ch = vocab.decode([nxt])
        generated.append(ch)
        emit(ch)
        logits, states = model.step([nxt], states)
        if stop and stop in "".join(generated[-(len(stop) + 1):]):
            break
    return "".join(pieces) + "".join(generated)
