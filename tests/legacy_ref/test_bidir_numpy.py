"""Tests of ``legacy_ref.bidir_numpy``, the NumPy reference of the issue-6 bidirectional stack.

Pure NumPy, float64, tiny dimensions (C = 7, D = 4, H = 3, T <= 6, B <= 3).  The
hand-written gradients are compared with central finite differences (eps 1e-6) of the
loss functions themselves; padding, direction and head formulas are checked against
independent computations written out here.
"""

import pathlib
import sys

import numpy as np
import pytest

try:
    import legacy_ref
except ImportError:  # running from a checkout that is not pip-installed
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    import legacy_ref
from legacy_ref import GRUNumpy, LSTMNumpy  # noqa: E402
from legacy_ref import bidir_numpy as bn  # noqa: E402
from legacy_ref.common import hard_sigmoid, sigmoid  # noqa: E402

C, D, H = 7, 4, 3
CELLS = ("rnn", "gru", "lstm")
EPS = 1e-6


# --------------------------------------------------------------------------- helpers
def batch(lengths, T, rs, vocab=C):
    """Right-padded time-major batch: random tokens everywhere (padding included)."""
    B = len(lengths)
    X = rs.randint(0, vocab, (T, B))
    M = np.zeros((T, B))
    for b, n in enumerate(lengths):
        M[:n, b] = 1.0
    return X, M


def random_params(cell, L, dirs, K, rs, scale=1.0):
    """Spec-layout parameters with O(1) random entries (biases too).

    For the LSTM the input, forget and output gate biases are shifted by +1 so that the
    gates are mostly open: the bottom layer's ``Wh`` gradients are then large enough
    (~1e-3) for eps = 1e-6 central differences, whose round-off floor is ~1e-10.
    """
    p = bn.init_params(cell, C, D, H, L, dirs, K, rs)
    for name in p:
        p[name] = scale * rs.uniform(-1.0, 1.0, p[name].shape)
        if cell == "lstm" and name.startswith("b_"):
            p[name][: 3 * H] += 1.0
    return p


def fd_grad(f, P, eps=EPS):
    """Central differences of scalar f() with respect to array P (perturbed in place)."""
    g = np.zeros_like(P)
    for ix in np.ndindex(P.shape):
        orig = P[ix]
        P[ix] = orig + eps
        fp = f()
        P[ix] = orig - eps
        fm = f()
        P[ix] = orig
        g[ix] = (fp - fm) / (2 * eps)
    return g


def rel_err(a, b):
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else np.linalg.norm(a - b) / denom


def head_fns(head, params, X, M, cell, L, dirs, gate, rs):
    """(loss(), loss_and_grads()) closures for one head with fixed data."""
    B = X.shape[1]
    if head == "cloze":
        pos = np.array([min(2, n - 1) for n in M.sum(axis=0).astype(int)])
        y = rs.randint(0, C, B)
        return (
            lambda: bn.cloze_loss(params, X, M, pos, y, cell, L, dirs, gate=gate),
            lambda: bn.cloze_loss_and_grads(params, X, M, pos, y, cell, L, dirs, gate=gate),
        )
    y = rs.randint(0, 3, B)
    drop = (rs.rand(B, dirs * H) < 0.7).astype(np.float64)  # a Bernoulli(keep) draw
    kw = dict(drop=drop, decay_c=0.05, gate=gate)
    return (
        lambda: bn.classify_loss(params, X, M, y, cell, L, dirs, **kw),
        lambda: bn.classify_loss_and_grads(params, X, M, y, cell, L, dirs, **kw),
    )


def check_fd(loss_fn, grads_fn, params, tol=1e-6):
    loss, grads = grads_fn()
    assert list(grads) == list(params)
    assert loss == pytest.approx(loss_fn(), rel=1e-14)
    errs = {}
    for name in params:
        assert grads[name].shape == params[name].shape
        errs[name] = rel_err(fd_grad(loss_fn, params[name]), grads[name])
    worst = max(errs, key=errs.get)
    assert errs[worst] < tol, (worst, errs)
    return grads


# ------------------------------------------------------------------------ parameters
def test_param_names_and_init_layout():
    names = bn.param_names("gru", 2, 2)
    assert names == [
        "E",
        "Wx_f0", "Wh_f0", "b_f0", "Wx_b0", "Wh_b0", "b_b0",
        "Wx_f1", "Wh_f1", "b_f1", "Wx_b1", "Wh_b1", "b_b1",
        "V", "c",
    ]
    assert bn.param_names("rnn", 1, 1) == ["E", "Wx_f0", "Wh_f0", "b_f0", "V", "c"]
    for cell, k in (("rnn", 1), ("gru", 3), ("lstm", 4)):
        p = bn.init_params(cell, C, D, H, 2, 2, 5, np.random.RandomState(1))
        assert list(p) == bn.param_names(cell, 2, 2)
        assert p["E"].shape == (D, C)
        assert p["Wx_f0"].shape == p["Wx_b0"].shape == (k * H, D)
        assert p["Wx_f1"].shape == p["Wx_b1"].shape == (k * H, 2 * H)
        assert p["Wh_b1"].shape == (k * H, H)
        assert p["V"].shape == (5, 2 * H) and p["c"].shape == (5,)
        assert all(p[n].dtype == np.float64 for n in p)
        assert not np.any(p["c"]) and not any(np.any(p[n]) for n in p if n.startswith("b_"))
    # draws: E, then per layer f then b: Wx, Wh (b zeros), then V; bounds sqrt(1/fan_in)
    p = bn.init_params("lstm", C, D, H, 2, 2, 5, np.random.RandomState(3))
    rs = np.random.RandomState(3)
    expect = [("E", C, (D, C))]
    for l, D_l in ((0, D), (1, 2 * H)):
        for d in "fb":
            expect += [("Wx_%s%d" % (d, l), D_l, (4 * H, D_l)), ("Wh_%s%d" % (d, l), H, (4 * H, H))]
    expect.append(("V", 2 * H, (5, 2 * H)))
    for name, fan_in, shape in expect:
        r = np.sqrt(1.0 / fan_in)
        np.testing.assert_array_equal(p[name], rs.uniform(-r, r, shape))
        assert np.abs(p[name]).max() <= r
    # same seed, same parameters; nothing drawn from the global generator
    state = np.random.get_state()[1].copy()
    q = bn.init_params("lstm", C, D, H, 2, 2, 5, np.random.RandomState(3))
    assert all(np.array_equal(p[n], q[n]) for n in p)
    assert np.array_equal(np.random.get_state()[1], state)


# ------------------------------------------------------------------ gradients vs FD
@pytest.mark.parametrize("head", ["cloze", "classify"])
@pytest.mark.parametrize("dirs", [1, 2])
@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_finite_differences(cell, L, dirs, head):
    rs = np.random.RandomState(100 + 10 * CELLS.index(cell) + 2 * L + dirs)
    X, M = batch([5, 3, 2], 5, rs)
    X[0, :] = 4  # a repeated token: its E column accumulates several steps
    params = random_params(cell, L, dirs, C if head == "cloze" else 3, rs)
    gate = "sigmoid" if cell == "gru" else None  # no hard_sigmoid kinks here
    loss_fn, grads_fn = head_fns(head, params, X, M, cell, L, dirs, gate, rs)
    grads = check_fd(loss_fn, grads_fn, params)
    # tokens seen only at padded steps get exactly zero gradient
    pad_only = set(X[M == 0].tolist()) - set(X[M == 1].tolist())
    for tok in pad_only:
        assert not np.any(grads["E"][:, tok])
    if dirs == 2:  # the backward direction really receives gradient
        assert np.linalg.norm(grads["Wh_b0"]) > 1e-4


@pytest.mark.parametrize("regime", ["small", "saturating"])
def test_gradients_gru_hard_sigmoid(regime):
    """The default GRU gate: small weights (all gates in the linear part, derivative 0.2)
    and larger ones (some pre-activations beyond +-2.5, derivative 0), never within
    1e-4 of a kink, so central differences are valid."""
    cell, L, dirs = "gru", 2, 2
    rs = np.random.RandomState(7 if regime == "small" else 11)
    X, M = batch([5, 3, 2], 5, rs)
    stack = random_params(cell, L, dirs, C, rs, scale=0.3 if regime == "small" else 2.0)
    _, cache = bn.forward(stack, X, M, cell, L, dirs)  # gate=None: hard_sigmoid
    pre = np.concatenate(
        [lay["states"][d][a][M == 1].ravel() for lay in cache["layers"] for d in "fb" for a in ("az", "ar")]
    )
    assert np.min(np.abs(np.abs(pre) - 2.5)) > 1e-4
    saturated = np.mean(np.abs(pre) > 2.5)
    if regime == "small":
        assert saturated == 0.0
    else:
        assert 0.05 < saturated < 0.95
    for head, K in (("cloze", C), ("classify", 3)):
        params = dict(stack, V=rs.uniform(-1, 1, (K, dirs * H)), c=rs.uniform(-1, 1, K))
        loss_fn, grads_fn = head_fns(head, params, X, M, cell, L, dirs, None, rs)
        check_fd(loss_fn, grads_fn, params)


def test_hard_sigmoid_derivative_inclusive_at_kinks():
    """A GRU step whose gate pre-activations sit exactly on +-2.5 uses derivative 0.2
    there (Theano's inclusive clip gradient), not 0."""
    cell, L, dirs = "gru", 1, 1
    params = bn.init_params(cell, C, D, 1, L, dirs, 2, np.random.RandomState(0))
    for name in params:
        params[name][...] = 0.0
    params["b_f0"][:] = [2.5, -2.5, 0.3]  # az = 2.5, ar = -2.5 at the single step
    params["V"][:] = [[1.0], [-1.0]]
    X, M = np.array([[0]]), np.ones((1, 1))
    _, g = bn.classify_loss_and_grads(params, X, M, np.array([0]), cell, L, dirs)
    # h = (1 - z) * cand with z = 1 (az = 2.5): dh/d az = -cand * 0.2 != 0
    assert g["b_f0"][0] != 0.0
    cand = np.tanh(0.3)
    p0 = 0.5  # h = 0 -> logits (0, 0)
    dh = -(1.0 - p0) * 2.0 * p0 / (p0 + bn.CLASSIFY_OFFSET)  # dloss/dh through V = (1, -1)
    assert g["b_f0"][0] == pytest.approx(dh * (-cand) * 0.2, rel=1e-12)
    assert g["b_f0"][1] == 0.0  # r multiplies h_prev = 0


# ------------------------------------------------------------------------- padding
@pytest.mark.parametrize("dirs", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_padded_batch_equals_each_sequence_alone(cell, dirs):
    L, T, lengths = 2, 5, [5, 3, 1]
    rs = np.random.RandomState(20 + CELLS.index(cell) + 5 * dirs)
    X, M = batch(lengths, T, rs)
    cp = random_params(cell, L, dirs, C, rs)
    kp = random_params(cell, L, dirs, 3, rs)
    pos = np.array([3, 1, 0])
    y_cloze = np.array([2, 6, 0])
    y_cls = np.array([1, 0, 2])
    drop = (rs.rand(3, dirs * H) < 0.7).astype(np.float64)

    top, _ = bn.forward(cp, X, M, cell, L, dirs)
    assert top.shape == (T, 3, dirs * H)
    loss_c, g_c = bn.cloze_loss_and_grads(cp, X, M, pos, y_cloze, cell, L, dirs)
    loss_k, g_k = bn.classify_loss_and_grads(kp, X, M, y_cls, cell, L, dirs, drop=drop)
    probs_c = bn.cloze_probs(cp, X, M, pos, cell, L, dirs)
    probs_k = bn.classify_probs(kp, X, M, cell, L, dirs, drop=drop)
    alone_c, alone_k = [], []
    mean_gc = {n: np.zeros_like(v) for n, v in cp.items()}
    mean_gk = {n: np.zeros_like(v) for n, v in kp.items()}
    for b, n in enumerate(lengths):
        Xb, Mb = X[:n, b:b + 1], np.ones((n, 1))
        top_b, _ = bn.forward(cp, Xb, Mb, cell, L, dirs)
        np.testing.assert_allclose(top[:n, b], top_b[:, 0], rtol=1e-12, atol=1e-13)
        # padded steps: the forward direction keeps the last real state ...
        np.testing.assert_array_equal(top[n:, b, :H], np.broadcast_to(top[n - 1, b, :H], (T - n, H)))
        # ... and the backward direction is still in its zero initial state
        if dirs == 2:
            assert not np.any(top[n:, b, H:])
        lc, gc = bn.cloze_loss_and_grads(cp, Xb, Mb, pos[b:b + 1], y_cloze[b:b + 1], cell, L, dirs)
        lk, gk = bn.classify_loss_and_grads(kp, Xb, Mb, y_cls[b:b + 1], cell, L, dirs, drop=drop[b:b + 1])
        np.testing.assert_allclose(probs_c[b], bn.cloze_probs(cp, Xb, Mb, pos[b:b + 1], cell, L, dirs)[0], rtol=1e-12)
        np.testing.assert_allclose(
            probs_k[b], bn.classify_probs(kp, Xb, Mb, cell, L, dirs, drop=drop[b:b + 1])[0], rtol=1e-12
        )
        alone_c.append(lc)
        alone_k.append(lk)
        for name in cp:
            mean_gc[name] += gc[name] / 3.0
            mean_gk[name] += gk[name] / 3.0
    assert loss_c == pytest.approx(np.mean(alone_c), rel=1e-12, abs=1e-12)
    assert loss_k == pytest.approx(np.mean(alone_k), rel=1e-12, abs=1e-12)
    for name in cp:
        np.testing.assert_allclose(g_c[name], mean_gc[name], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(g_k[name], mean_gk[name], rtol=1e-12, atol=1e-14)
    # the tokens at padded steps are irrelevant
    X2 = np.where(M == 1, X, (X + 3) % C)
    assert np.any(X2 != X)
    np.testing.assert_array_equal(bn.forward(cp, X2, M, cell, L, dirs)[0], top)
    assert bn.classify_loss(kp, X2, M, y_cls, cell, L, dirs, drop=drop) == loss_k


# ----------------------------------------------------------------------- directions
def _mirror_params(params, L):
    """Swap the f and b parameters; above layer 0 also swap the input halves
    ([h_f, h_b] -> [h_b, h_f]) of Wx and the columns of V."""
    swap = np.r_[np.arange(H, 2 * H), np.arange(H)]
    q = type(params)(params)
    for l in range(L):
        for kind in ("Wx", "Wh", "b"):
            f, b = "%s_f%d" % (kind, l), "%s_b%d" % (kind, l)
            q[f], q[b] = params[b], params[f]
            if kind == "Wx" and l > 0:
                q[f], q[b] = q[f][:, swap], q[b][:, swap]
    q["V"] = params["V"][:, swap]
    return q, swap


@pytest.mark.parametrize("cell", CELLS)
def test_backward_direction_runs_backwards(cell):
    """Reversing the sequences and swapping the f/b parameters mirrors the states:
    top'[t] = [h_b[T-1-t], h_f[T-1-t]], and the cloze head at the mirrored position
    gives the same loss."""
    L, dirs, T = 2, 2, 6
    rs = np.random.RandomState(40 + CELLS.index(cell))
    X, M = batch([T, T], T, rs)
    params = random_params(cell, L, dirs, C, rs)
    top, _ = bn.forward(params, X, M, cell, L, dirs)
    mirrored, swap = _mirror_params(params, L)
    top_m, _ = bn.forward(mirrored, X[::-1], M, cell, L, dirs)
    np.testing.assert_allclose(top_m, top[::-1][:, :, swap], rtol=1e-12, atol=1e-14)
    # not a symmetric accident: without the swap the mirrored run differs
    assert np.abs(bn.forward(params, X[::-1], M, cell, L, dirs)[0] - top[::-1][:, :, swap]).max() > 1e-3
    pos, y = np.array([1, 4]), np.array([3, 5])
    assert bn.cloze_loss(mirrored, X[::-1], M, T - 1 - pos, y, cell, L, dirs) == pytest.approx(
        bn.cloze_loss(params, X, M, pos, y, cell, L, dirs), rel=1e-12
    )
    # causality: h_f[t] reads x[0..t], h_b[t] reads x[t..T-1]
    X_last, X_first = X.copy(), X.copy()
    X_last[T - 1] = (X[T - 1] + 1) % C
    X_first[0] = (X[0] + 1) % C
    p1 = {n: v for n, v in params.items() if not n.endswith("1")}  # layer 0 only (V, c unused)
    top1, _ = bn.forward(p1, X, M, cell, 1, dirs)
    top_first, _ = bn.forward(p1, X_first, M, cell, 1, dirs)
    top_last, _ = bn.forward(p1, X_last, M, cell, 1, dirs)
    np.testing.assert_array_equal(top_last[: T - 1, :, :H], top1[: T - 1, :, :H])
    assert np.all(np.abs(top_last[:, :, H:] - top1[:, :, H:]).max(axis=(1, 2)) > 0)
    np.testing.assert_array_equal(top_first[1:, :, H:], top1[1:, :, H:])
    assert np.all(np.abs(top_first[:, :, :H] - top1[:, :, :H]).max(axis=(1, 2)) > 0)


def test_one_direction_equals_forward_half_of_two():
    """directions=1 is the forward half of directions=2 (one layer: same f parameters)."""
    rs = np.random.RandomState(5)
    X, M = batch([4, 2, 3], 4, rs)
    for cell in CELLS:
        p2 = random_params(cell, 1, 2, C, rs)
        p1 = {n: v for n, v in p2.items() if "_b" not in n}
        p1["V"] = p2["V"][:, :H]
        top2, _ = bn.forward(p2, X, M, cell, 1, 2)
        top1, _ = bn.forward(p1, X, M, cell, 1, 1)
        np.testing.assert_array_equal(top1, top2[:, :, :H])


@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_unidirectional_matches_legacy_language_models(cell, L):
    """directions=1 with D = H reproduces GRUNumpy / LSTMNumpy (WildML part-4 layout:
    Wx_f{l} = U[k*l : k*(l+1)] stacked, Wh_f{l} = W[...], b_f{l} = b[...]); the cloze
    head at position t is their softmax output o_t."""
    k = bn.BLOCKS[cell]
    ref = (GRUNumpy if cell == "gru" else LSTMNumpy)(C, hidden_dim=H, num_layers=L, rng=np.random.RandomState(9))
    rs = np.random.RandomState(10)
    ref.b = rs.uniform(-0.5, 0.5, ref.b.shape)
    ref.c = rs.uniform(-0.5, 0.5, ref.c.shape)
    params = {"E": ref.E}
    for l in range(L):
        params["Wx_f%d" % l] = ref.U[k * l:k * (l + 1)].reshape(k * H, H)
        params["Wh_f%d" % l] = ref.W[k * l:k * (l + 1)].reshape(k * H, H)
        params["b_f%d" % l] = ref.b[k * l:k * (l + 1)].reshape(k * H)
    params["V"], params["c"] = ref.V, ref.c
    x = rs.randint(0, C, 6)
    o, cache = ref.forward(x)
    top, _ = bn.forward(params, x[:, None], np.ones((6, 1)), cell, L, 1)
    states = cache["s"] if cell == "gru" else cache["h"]
    np.testing.assert_allclose(top[:, 0], states[L - 1, 1:], rtol=1e-12, atol=1e-14)
    for t in range(6):
        probs = bn.cloze_probs(params, x[:, None], np.ones((6, 1)), np.array([t]), cell, L, 1)
        np.testing.assert_allclose(probs[0], o[t], rtol=1e-12)


# --------------------------------------------------------------------------- heads
def test_classify_formula_drop_and_decay():
    cell, L, dirs = "lstm", 2, 2
    rs = np.random.RandomState(60)
    X, M = batch([5, 3, 1], 5, rs)
    params = random_params(cell, L, dirs, 3, rs)
    y = np.array([2, 0, 1])
    drop = (rs.rand(3, dirs * H) < 0.5).astype(np.float64)
    top, _ = bn.forward(params, X, M, cell, L, dirs)
    V, c = params["V"], params["c"]
    expect = 0.0
    for b in range(3):
        n = int(M[:, b].sum())
        pooled = sum(top[t, b] for t in range(n)) / n
        logits = V.dot(pooled * drop[b]) + c
        p = np.exp(logits) / np.exp(logits).sum()
        expect += -np.log(p[y[b]] + 1e-8) / 3.0
    decay = 0.25
    got = bn.classify_loss(params, X, M, y, cell, L, dirs, drop=drop, decay_c=decay)
    assert got == pytest.approx(expect + decay * np.sum(V ** 2), rel=1e-12)
    assert got - bn.classify_loss(params, X, M, y, cell, L, dirs, drop=drop) == pytest.approx(
        decay * np.sum(V ** 2), rel=1e-10
    )
    # the drop multiplier changes the loss; drop=None means ones
    assert abs(bn.classify_loss(params, X, M, y, cell, L, dirs) - (got - decay * np.sum(V ** 2))) > 1e-3
    assert bn.classify_loss(params, X, M, y, cell, L, dirs) == bn.classify_loss(
        params, X, M, y, cell, L, dirs, drop=np.ones((3, dirs * H))
    )
    # evaluation: the constant keep = 0.5 is the same as halving V (non-inverted dropout)
    halved = dict(params, V=0.5 * V)
    np.testing.assert_allclose(
        bn.classify_probs(params, X, M, cell, L, dirs, drop=0.5), bn.classify_probs(halved, X, M, cell, L, dirs),
        rtol=1e-12,
    )
    # decay only adds 2 decay_c V to dV
    _, g0 = bn.classify_loss_and_grads(params, X, M, y, cell, L, dirs, drop=drop)
    _, g1 = bn.classify_loss_and_grads(params, X, M, y, cell, L, dirs, drop=drop, decay_c=decay)
    for name in params:
        extra = 2.0 * decay * V if name == "V" else 0.0
        np.testing.assert_allclose(g1[name], g0[name] + extra, rtol=1e-12, atol=1e-15)
    # the 1e-8 offset: a probability that underflows to 0 costs -log(1e-8), gradient 0
    sure = dict(params, c=np.array([-1000.0, 0.0, 0.0]))
    loss, g = bn.classify_loss_and_grads(sure, X, M, np.zeros(3, dtype=int), cell, L, dirs)
    assert loss == pytest.approx(-np.log(1e-8), rel=1e-12)
    assert all(np.all(np.isfinite(v)) for v in g.values())
    assert g["c"][0] == 0.0


def test_cloze_formula_and_gate_defaults():
    rs = np.random.RandomState(70)
    X, M = batch([4, 4, 2], 4, rs)
    pos, y = np.array([0, 3, 1]), np.array([6, 1, 3])
    for cell in CELLS:
        params = random_params(cell, 2, 2, C, rs)
        top, _ = bn.forward(params, X, M, cell, 2, 2)
        expect = 0.0
        for b in range(3):
            logits = params["V"].dot(top[pos[b], b]) + params["c"]
            expect += -(logits[y[b]] - np.log(np.exp(logits).sum())) / 3.0
        assert bn.cloze_loss(params, X, M, pos, y, cell, 2, 2) == pytest.approx(expect, rel=1e-12)
        probs = bn.cloze_probs(params, X, M, pos, cell, 2, 2)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-14)
    # gate=None is the cell default: gru hard_sigmoid, lstm sigmoid
    for cell, default, other in (("gru", "hard_sigmoid", "sigmoid"), ("lstm", "sigmoid", "hard_sigmoid")):
        params = random_params(cell, 1, 2, C, rs, scale=2.0)
        t_none = bn.forward(params, X, M, cell, 1, 2)[0]
        np.testing.assert_array_equal(t_none, bn.forward(params, X, M, cell, 1, 2, gate=default)[0])
        assert np.abs(t_none - bn.forward(params, X, M, cell, 1, 2, gate=other)[0]).max() > 1e-3
    # one hand-computed GRU step with hard_sigmoid: h = (1 - z) * cand (h_prev = 0)
    params = random_params("gru", 1, 1, C, rs)
    top, _ = bn.forward(params, X[:1, :1], M[:1, :1], "gru", 1, 1)
    pre = params["Wx_f0"].dot(params["E"][:, X[0, 0]]) + params["b_f0"]
    z = hard_sigmoid(pre[:H])
    np.testing.assert_allclose(top[0, 0], (1 - z) * np.tanh(pre[2 * H:]), rtol=1e-13)
    top, _ = bn.forward(params, X[:1, :1], M[:1, :1], "gru", 1, 1, gate="sigmoid")
    np.testing.assert_allclose(top[0, 0], (1 - sigmoid(pre[:H])) * np.tanh(pre[2 * H:]), rtol=1e-13)


# --------------------------------------------------------------------------- errors
def test_bad_input_raises_one_line_value_errors():
    rs = np.random.RandomState(80)
    params = random_params("gru", 1, 2, 3, rs)
    X, M = batch([3, 2], 3, rs)
    y = np.array([0, 2])
    ok = dict(params=params, X=X, M=M, y=y, cell="gru", num_layers=1, directions=2)
    assert np.isfinite(bn.classify_loss(**ok))
    cases = [
        (dict(cell="elman"), "cell must be one of"),
        (dict(directions=3), "directions must be 1 or 2"),
        (dict(num_layers=0), "num_layers must be an int >= 1"),
        (dict(directions=1), "unexpected"),
        (dict(num_layers=2), "missing"),
        (dict(params=dict(params, Wh_b0=params["Wh_b0"][:, :2])), "Wh_f0|Wh_b0"),
        (dict(X=X.astype(float)), "integer token"),
        (dict(X=X + C), r"\[0, 7\)"),
        (dict(M=M[:2]), "mask M must have the shape"),
        (dict(y=np.array([0, 3])), r"y must lie in \[0, 3\)"),
        (dict(y=np.array([0])), "y must be an int array of shape"),
        (dict(M=np.c_[M[:, 0], np.zeros(3)]), "at least one real step"),
    ]
    for change, msg in cases:
        with pytest.raises(ValueError, match=msg) as info:
            bn.classify_loss(**dict(ok, **change))
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="gate must be None or one of"):
        bn.forward(params, X, M, "gru", 1, 2, gate="relu")
    with pytest.raises(ValueError, match="drop must broadcast"):
        bn.classify_probs(params, X, M, "gru", 1, 2, drop=np.ones((2, 5)))
    cp = random_params("gru", 1, 2, C, rs)
    with pytest.raises(ValueError, match=r"pos must lie in \[0, 3\)"):
        bn.cloze_loss(cp, X, M, np.array([0, 3]), np.array([1, 1]), "gru", 1, 2)
    with pytest.raises(ValueError, match="rng must be"):
        bn.init_params("gru", C, D, H, 1, 2, 3, None)
    with pytest.raises(ValueError, match="hidden_dim must be an int"):
        bn.init_params("gru", C, D, 0, 1, 2, 3, rs)


def test_exported_from_package():
    assert "bidir_numpy" in legacy_ref.__all__
    assert legacy_ref.bidir_numpy is bn
