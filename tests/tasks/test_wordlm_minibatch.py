"""Minibatched word-level training (theano_rnn.tasks.wordlm.minibatch)."""

import numpy as np
import pytest

from theano_rnn import GRUTheano, RNNTheano
from theano_rnn.tasks.wordlm.minibatch import batched_loss, iterate_minibatches, train_minibatches
from theano_rnn.errors import NonFiniteLossError

C, H = 11, 4


def _data(n=5, seed=3):
    rng = np.random.RandomState(seed)
    X, Y = [], []
    for i in range(n):
        T = 2 + (i * 3) % 6
        s = rng.randint(0, C, size=T + 1)
        s[1] = s[0]  # a repeated token: duplicate columns in the sparse update
        X.append(s[:-1].astype(np.int32))
        Y.append(s[1:].astype(np.int32))
    return X, Y


def _close(a, b, tol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    assert np.max(np.abs(a - b)) <= tol * max(1.0, float(np.max(np.abs(b))))


@pytest.fixture(scope="module")
def rnn_pair():
    p = RNNTheano(C, H, bptt_truncate=2, rng=np.random.RandomState(0)).get_params()
    ref = RNNTheano(C, H, bptt_truncate=2, params=p)
    fast = RNNTheano(C, H, bptt_truncate=2, params=p, graph="fast")
    return ref, fast, p


def test_iterate_minibatches_covers_every_sentence_once():
    X, Y = _data(11)
    batches = iterate_minibatches(X, Y, 4, rng=np.random.RandomState(1), sort_window=2)
    assert [len(b) for b in batches].count(4) == 2 and sum(len(b) for b in batches) == 11
    assert sorted(np.concatenate(batches).tolist()) == list(range(11))
    again = iterate_minibatches(X, Y, 4, rng=np.random.RandomState(1), sort_window=2)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    in_order = iterate_minibatches(X, Y, 4, shuffle=False)
    assert np.concatenate(in_order).tolist() == list(range(11))


def test_sort_window_reduces_padding():
    X, Y = _data(40, seed=7)

    def padded(batches):
        return sum(len(b) * max(len(Y[i]) for i in b) for b in batches)

    rng = np.random.RandomState(5)
    plain = iterate_minibatches(X, Y, 8, rng=np.random.RandomState(5))
    sorted_ = iterate_minibatches(X, Y, 8, rng=rng, sort_window=5)
    assert padded(sorted_) < padded(plain)


def test_batched_loss_equals_per_sentence_loss(rnn_pair):
    ref, fast, _ = rnn_pair
    X, Y = _data()
    _close(batched_loss(fast, X, Y, batch_size=2), ref.calculate_loss(X, Y))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_one_batch_sgd_step_is_the_summed_or_mean_gradient(rnn_pair, reduction):
    ref, _, p = rnn_pair
    X, Y = _data()
    model = RNNTheano(C, H, bptt_truncate=2, params=p, graph="fast")
    grads = [ref.bptt(x, y) for x, y in zip(X, Y)]
    total = [sum(g[k] for g in grads) for k in range(len(ref.bptt_names))]
    scale = 1.0 if reduction == "sum" else 1.0 / len(X)
    stats = train_minibatches(model, X, Y, batch_size=len(X), learning_rate=0.1, nepoch=1,
                              reduction=reduction, shuffle=False)
    for name, g in zip(ref.bptt_names, total):
        _close(model.get_params()[name], p[name] - 0.1 * scale * g)
    assert stats.tokens == sum(len(y) for y in Y)
    assert stats.examples == len(X) and stats.batches == 1
    assert stats.padded_tokens == len(X) * max(len(y) for y in Y)
    # the step's loss is the loss before the update: the untrained per-token loss
    _close(stats.epoch_losses[0], ref.calculate_loss(X, Y))
    assert stats.tokens_per_s > 0


def test_rmsprop_batch_step_uses_the_mean_gradient():
    X, Y = _data(4)
    base = GRUTheano(C, H, num_layers=1, rng=np.random.RandomState(2))
    p = base.get_params()
    model = GRUTheano(C, H, num_layers=1, params=p, graph="fast")
    grads = [base.bptt(x, y) for x, y in zip(X, Y)]
    train_minibatches(model, X, Y, batch_size=4, learning_rate=0.01, nepoch=1, decay=0.8,
                      shuffle=False)
    for k, name in enumerate(base.bptt_names):
        g = sum(gr[k] for gr in grads) / 4.0
        m = 0.2 * g**2
        _close(model.get_optimizer_state()["m" + name], m)
        _close(model.get_params()[name], p[name] - 0.01 * g / np.sqrt(m + 1e-6))


def test_training_lowers_the_loss_and_calls_back(rnn_pair):
    _, _, p = rnn_pair
    X, Y = _data(8)
    model = RNNTheano(C, H, bptt_truncate=-1, params=p, graph="fast")
    before = batched_loss(model, X, Y)
    seen = []
    stats = train_minibatches(model, X, Y, batch_size=3, learning_rate=0.5, nepoch=4,
                              rng=np.random.RandomState(0), callback=lambda m, n: seen.append(n),
                              callback_every=8)
    assert batched_loss(model, X, Y) < before
    assert seen == [8, 16, 24, 32]
    assert stats.batches == 4 * 3 and len(stats.epoch_losses) == 4


class _Diverging:
    optimizer = "sgd"

    def batch_step(self, x, y, mask, lr, scale=1.0):
        return float("nan")


def test_non_finite_loss_raises():
    X, Y = _data(3)
    with pytest.raises(NonFiniteLossError, match="non-finite loss"):
        train_minibatches(_Diverging(), X, Y, batch_size=2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(reduction="max"), "reduction must be one of"),
        (dict(batch_size=0), "batch_size must be >= 1"),
        (dict(decay=0.9), "only meaningful for an RMSprop model"),
        (dict(learning_rate=-1), "learning_rate must be a positive"),
    ],
)
def test_bad_arguments(kwargs, message):
    X, Y = _data(3)
    with pytest.raises(ValueError, match=message):
        train_minibatches(_Diverging(), X, Y, **kwargs)


def test_bad_sentences():
    X, Y = _data(3)
    with pytest.raises(ValueError, match="sentence 1: x has"):
        train_minibatches(_Diverging(), X, [Y[0], Y[1][:-1], Y[2]])
    with pytest.raises(ValueError, match="sentence 0 is empty"):
        train_minibatches(_Diverging(), [X[0][:0]], [Y[0][:0]])
