"""Cloze evaluation: accuracies, mean log-likelihood, perplexity; the unigram baseline.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from theano_rnn.data import seq as seqdata
from theano_rnn.errors import DataError

__all__ = ["ClozeEval", "evaluate_cloze", "excluded_mask", "unigram_baseline"]

@dataclass
class ClozeEval:
    """Held-out cloze results: accuracies, mean log-likelihood (nats), perplexity, n."""

    accuracy: float
    top5: float
    mean_log_likelihood: float
    perplexity: float
    n: int

    def as_dict(self):
        return {"accuracy": self.accuracy, "top5": self.top5,
                "mean_log_likelihood": self.mean_log_likelihood,
                "perplexity": self.perplexity, "n": self.n}

    def __str__(self):
        return (f"accuracy {self.accuracy:.4f}, top-5 {self.top5:.4f}, mean log-likelihood "
                f"{self.mean_log_likelihood:.4f} nats, perplexity {self.perplexity:.1f} "
                f"(n={self.n})")


def excluded_mask(vocab_size, blank_index=0, unk_index=1):
    """A boolean mask of the ids that can never be an answer (``<blank>``, ``<unk>``)."""
    mask = np.zeros(vocab_size, dtype=bool)
    for i in (blank_index, unk_index):
        if i is not None and 0 <= i < vocab_size:
            mask[i] = True
    return mask


def _length_sorted_batches(sentences, batch_size):
    order = np.argsort([len(s) for s in sentences], kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def evaluate_cloze(model, sentences, positions, batch_size=64, *, blank_index=0, unk_index=1):
    """Evaluate ``model`` on encoded ``sentences`` with the given blank ``positions``.

    Returns a :class:`ClozeEval`.  A prediction is correct at ``k`` when
    fewer than ``k`` words that could be an answer (anything but
    ``<blank>``/``<unk>``) have a strictly higher probability than the
    answer (ties count in the answer's favour); this rank does not depend on
    the batching.  The log-likelihood is the model's full softmax.
    """
    sentences = list(sentences)
    positions = np.asarray(positions)
    if not sentences:
        raise DataError("nothing to evaluate: no sentences")
    if len(positions) != len(sentences):
        raise DataError(f"{len(positions)} blank positions for {len(sentences)} sentences")
    if int(batch_size) < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    excluded = excluded_mask(model.vocab_size, blank_index, unk_index)
    total_ll, hit1, hit5 = 0.0, 0, 0
    lls = np.empty(len(sentences))
    for idx in _length_sorted_batches(sentences, int(batch_size)):
        X, M, pos, y = seqdata.cloze_batch([sentences[i] for i in idx], positions[idx], blank_index)
        logp = model.log_probs(X, M, pos)
        target = logp[np.arange(len(y)), y]
        lls[idx] = target
        better = (logp > target[:, None]) & ~excluded[None, :]
        rank = better.sum(axis=1)
        hit1 += int((rank < 1).sum())
        hit5 += int((rank < 5).sum())
    n = len(sentences)
    total_ll = float(np.sum(lls))  # summed in sentence order: independent of the batching
    mean_ll = total_ll / n
    return ClozeEval(hit1 / n, hit5 / n, mean_ll, math.exp(min(-mean_ll, 700.0)), n)


def unigram_baseline(cloze_data):
    """Always predict the training set's most frequent blankable words (a context-free model).

    The "model" is the frequency of each word among the *blankable*
    positions of the training sentences -- exactly the distribution of the
    answers when blanks are drawn uniformly over those positions, so it is
    the best predictor that ignores the context.  Returns ``(ClozeEval on
    the test split, the most frequent word)``.
    """
    vocab = cloze_data.vocab
    counts = Counter()
    for ids in cloze_data.train:
        counts.update(ids[seqdata.blank_candidates(ids, vocab)].tolist())
    freq = np.zeros(len(vocab))
    for i, c in counts.items():
        freq[i] = c
    prob = freq / freq.sum()
    ranked = np.argsort(-freq, kind="stable")
    top1, top5 = ranked[0], set(ranked[:5].tolist())
    answers = np.array([s[p] for s, p in zip(cloze_data.test, cloze_data.test_positions)])
    with np.errstate(divide="ignore"):
        ll = np.log(prob[answers])
    n = len(answers)
    mean_ll = float(ll.mean())
    ev = ClozeEval(float(np.mean(answers == top1)), float(np.mean([a in top5 for a in answers])),
                   mean_ll, math.exp(min(-mean_ll, 700.0)), n)
    return ev, vocab.index_to_token[int(top1)]
