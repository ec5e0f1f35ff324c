"""Seed 002's NumPy GRU as printed (``legacy_ref/seed002_gru.py``): its behaviour pinned.

The printed backward is compared with central finite differences of the chunk's summed
cross-entropy; the comparison must fail exactly where the missing transposes (``Whh``,
``Whr``, ``Whz`` used for their transposes) enter, and pass where they cannot, or where
the matrices are symmetric.  The gradients a ``backward(target, lr)`` call applied are
recovered as ``(before - after) / lr`` (the listing exposes no gradient otherwise).
"""

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

if importlib.util.find_spec("legacy_ref") is None:  # a checkout that is not pip-installed
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from legacy_ref.seed002_gru import TXT_DATA, GRU, CorrectedGRU, Dataset, run_gru, sigmoid, tanh, train  # noqa: E402

V, H = 5, 4
RECURRENT = ("Wxr", "Whr", "B_r", "Wxz", "Whz", "B_z", "Wxh", "Whh", "B_h")
RESET = ("Wxr", "Whr", "B_r")


@pytest.fixture
def keep_global_rng():
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def chunk(T, seed):
    rs = np.random.RandomState(seed)
    X = np.eye(V)[rs.randint(0, V, T)]
    target = np.eye(V)[rs.randint(0, V, T)]
    return X, target


def chunk_loss(m, X, h0, target):
    m.forward(X, h0)
    return sum(-np.sum(np.log(m.Y_stack[t]) * target[t].reshape(1, -1)) for t in range(len(X)))


def applied_grads(m, X, h0, target, lr=1.0):
    """Run forward + backward(target, lr); return (loss, {name: (before - after) / lr}); params restored."""
    before = {n: getattr(m, n).copy() for n in m.param_names}
    m.forward(X, h0)
    loss = m.backward(target, lr)
    grads = {n: (before[n] - getattr(m, n)) / lr for n in m.param_names}
    for n, v in before.items():
        setattr(m, n, v)
    return loss, grads


def fd_grads(m, X, h0, target, eps=1e-6):
    out = {}
    for n in m.param_names:
        P = getattr(m, n)
        g = np.zeros_like(P)
        for ix in np.ndindex(P.shape):
            orig = P[ix]
            P[ix] = orig + eps
            fp = chunk_loss(m, X, h0, target)
            P[ix] = orig - eps
            fm = chunk_loss(m, X, h0, target)
            P[ix] = orig
            g[ix] = (fp - fm) / (2 * eps)
        out[n] = g
    return out


def rel_err(a, b):
    d = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if d == 0 else np.linalg.norm(a - b) / d


def model(cls=GRU, seed=1, scale=0.5, symmetric=()):
    m = cls(V, H, rng=np.random.RandomState(seed))
    for n in m.param_names:  # smaller weights keep the finite differences well conditioned
        setattr(m, n, getattr(m, n) * scale)
    for n in symmetric:
        W = getattr(m, n)
        setattr(m, n, (W + W.T) / 2)
    return m


def errors(m, X, h0, target):
    loss, got = applied_grads(m, X, h0, target)
    num = fd_grads(m, X, h0, target)
    assert loss == pytest.approx(chunk_loss(m, X, h0, target), rel=1e-12)
    return {n: rel_err(got[n], num[n]) for n in m.param_names}, got, num


H0 = np.random.RandomState(7).randn(1, H) * 0.5


# ----------------------------------------------------------------- helpers and init
def test_helpers_are_the_logistic_and_tanh():
    x = np.linspace(-30, 30, 60).reshape(3, 20)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14, atol=0)
    assert sigmoid(x).shape == x.shape
    np.testing.assert_allclose(tanh(x[:, :15] / 10), np.tanh(x[:, :15] / 10), rtol=1e-13, atol=1e-15)
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(tanh(np.array([800.0])))[0]  # the listing's formula overflows


def test_init_is_the_listings_global_randn_and_rng_gives_the_same(keep_global_rng):
    np.random.seed(3)
    g = GRU(V, H)
    e = GRU(V, H, rng=np.random.RandomState(3))
    i = GRU(V, H, rng=3)
    np.random.seed(3)
    draws = [np.random.randn(*s) for s in [(V, H), (H, H), (V, H), (H, H), (V, H), (H, H), (H, V)]]
    for name, d in zip(("Wxr", "Whr", "Wxz", "Whz", "Wxh", "Whh", "W_o"), draws):
        assert np.array_equal(getattr(g, name), d), name
        assert np.array_equal(getattr(e, name), d) and np.array_equal(getattr(i, name), d), name
    for name, shape in (("B_r", (1, H)), ("B_z", (1, H)), ("B_h", (1, H)), ("B_o", (1, V))):
        assert getattr(g, name).shape == shape and not getattr(g, name).any()


def test_explicit_rng_leaves_global_generator_alone(keep_global_rng):
    before = np.random.get_state()[1].copy()
    run_gru(rng=4, max_epoch=1, next_len=3)
    assert np.array_equal(np.random.get_state()[1], before)


# ------------------------------------------------------------------ forward, pre, data
def test_forward_returns_nothing_and_pre_starts_like_forward():
    m = model()
    X, _ = chunk(6, 2)
    assert m.forward(X, np.zeros((1, H))) is None
    assert all(abs(m.Y_stack[t].sum() - 1) < 1e-12 for t in range(6))
    vocab = {i: c for i, c in enumerate("vwxyz")}
    out = m.pre(X[:1], np.zeros((1, H)), 4, vocab)
    assert len(out) == 4 and out[0] == vocab[int(np.argmax(m.Y_stack[0]))]
    # the second generated character is the forward's prediction after feeding the first
    X2 = np.vstack([X[:1], np.eye(V)[[int(np.argmax(m.Y_stack[0]))]]])
    m.forward(X2, np.zeros((1, H)))
    assert out[1] == vocab[int(np.argmax(m.Y_stack[1]))]


def test_dataset_windows_start_at_each_character():
    d = Dataset(TXT_DATA, 6, vocab=sorted(set(TXT_DATA)))
    assert d.txt_len == 95 and d.n_vocab == 8 and -(-d.txt_len // 6) == 16
    x, y = d[3]
    assert [d.index_to_vocab[i] for i in x] == list("defg a") and [d.index_to_vocab[i] for i in y] == list("efg ab")
    assert sorted(Dataset(TXT_DATA, 6).vocab_to_index) == sorted(set(TXT_DATA))  # listing's set order
    assert d.one_hot([2, 0]).tolist() == [[0, 0, 1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]]


# ------------------------------------------------------------- the backward as printed
def test_one_step_from_zero_state_has_exact_gradients():
    """No recurrent product enters: h_{-1} = 0 kills dnet_R, dH_1 is never used."""
    m = model()
    X, target = chunk(1, 3)
    err, got, num = errors(m, X, np.zeros((1, H)), target)
    assert all(err[n] < 1e-7 for n in RECURRENT), err
    assert not got["W_o"].any() and not got["B_o"].any() and np.abs(num["W_o"]).max() > 1e-2


def test_one_step_from_nonzero_state_breaks_only_the_reset_gate():
    """dnet_R = (dnet_hht @ Whh) * ... needs Whh.T: only Wxr, Whr, B_r are wrong."""
    m = model()
    X, target = chunk(1, 3)
    err, _, _ = errors(m, X, H0, target)
    assert all(err[n] < 1e-7 for n in RECURRENT if n not in RESET), err
    assert all(err[n] > 1e-2 for n in RESET), err
    # ... and only because Whh is not symmetric
    err_sym, _, _ = errors(model(symmetric=("Whh",)), X, H0, target)
    assert all(err_sym[n] < 1e-7 for n in RECURRENT), err_sym


def test_longer_chunk_gradients_are_wrong_everywhere_through_dH_1():
    m = model()
    X, target = chunk(6, 4)
    err, _, _ = errors(m, X, H0, target)
    assert all(err[n] > 1e-2 for n in RECURRENT), err


@pytest.mark.parametrize("asymmetric", ["Whh", "Whr", "Whz"])
def test_symmetric_recurrent_matrices_make_the_bug_vanish(asymmetric):
    X, target = chunk(6, 4)
    err, _, _ = errors(model(symmetric=("Whh", "Whr", "Whz")), X, H0, target)
    assert all(err[n] < 1e-7 for n in RECURRENT), err
    # making any one of the three asymmetric again brings the error back
    others = tuple(n for n in ("Whh", "Whr", "Whz") if n != asymmetric)
    err1, _, _ = errors(model(symmetric=others), X, H0, target)
    assert max(err1[n] for n in RECURRENT) > 1e-3, err1


def test_printed_and_corrected_backward_agree_when_symmetric_and_only_then():
    X, target = chunk(6, 5)
    sym = ("Whh", "Whr", "Whz")
    _, g = applied_grads(model(GRU, symmetric=sym), X, H0, target)
    _, c = applied_grads(model(CorrectedGRU, symmetric=sym), X, H0, target)
    assert all(np.allclose(g[n], c[n], rtol=1e-12, atol=1e-14) for n in RECURRENT)
    _, g = applied_grads(model(GRU), X, H0, target)
    _, c = applied_grads(model(CorrectedGRU), X, H0, target)
    assert not any(np.allclose(g[n], c[n], rtol=1e-3) for n in RECURRENT)


def test_corrected_gru_passes_the_finite_difference_check():
    m = model(CorrectedGRU)
    X, target = chunk(6, 4)
    err, got, _ = errors(m, X, H0, target)
    assert all(e < 1e-7 for e in err.values()), err
    assert np.abs(got["W_o"]).max() > 1e-2  # the output layer is trained


# -------------------------------------------------------------------------- training
def test_training_never_moves_the_output_layer():
    d = Dataset(TXT_DATA, 6, vocab=sorted(set(TXT_DATA)))
    m = GRU(d.n_vocab, 16, rng=0)
    W_o, B_o, Whh = m.W_o.copy(), m.B_o.copy(), m.Whh.copy()
    train(m, d, 2, 1e-3)
    assert np.array_equal(m.W_o, W_o) and np.array_equal(m.B_o, B_o)
    assert not np.array_equal(m.Whh, Whh)
    c = CorrectedGRU(d.n_vocab, 16, rng=0)
    train(c, d, 2, 1e-3)
    assert not np.array_equal(c.W_o, W_o) and c.B_o.any()


def test_seeded_training_is_deterministic_and_matches_the_global_draw(keep_global_rng):
    a = run_gru(rng=5, max_epoch=15, next_len=10)
    b = run_gru(rng=5, max_epoch=15, next_len=10)
    np.random.seed(5)
    g = run_gru(rng=None, max_epoch=15, next_len=10)  # the listing's own init after np.random.seed
    assert a[1] == b[1] == g[1] and a[2] == b[2] == g[2]
    assert len(a[1]) == 15 and len(a[2]) == 11 and a[2][0] == "a"
    assert a[1][-1] < a[1][0]  # the per-epoch loss (loss / batch_num) falls
    c = run_gru(rng=6, max_epoch=15, next_len=10)
    assert c[1] != a[1]
