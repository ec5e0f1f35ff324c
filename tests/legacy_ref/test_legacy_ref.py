"""Tests of the NumPy reference package ``legacy_ref`` (pure NumPy, float64, fast).

The gradients are checked against central finite differences of the *objective each
truncation rule actually differentiates*: the full loss when untruncated; for the
notebook's per-output rule, the sum over outputs t of CE_t with the hidden state
entering step max(0, t - k) held fixed; for Theano's scan rule, the loss of the
outputs t >= T - k with the states entering step T - k held fixed.
"""

import ast
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

try:
    import legacy_ref
except ImportError:  # running from a checkout that is not pip-installed
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    import legacy_ref
from legacy_ref import (  # noqa: E402
    CharGRU,
    GRUNumpy,
    LSTMNumpy,
    RNNNumpy,
    abcdefg_demo,
    hard_sigmoid,
    hard_sigmoid_grad,
    softmax,
    train_with_sgd,
)

PKG_DIR = pathlib.Path(legacy_ref.__file__).resolve().parent
C, H = 13, 7


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def keep_global_rng():
    """Restore NumPy's global generator after a test that seeds it (as the tutorial did)."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def sentence(T, seed, vocab=C):
    rs = np.random.RandomState(seed)
    return rs.randint(0, vocab, T), rs.randint(0, vocab, T)


def fd_grad(f, P, h=1e-5):
    """Central differences of scalar f() with respect to array P (perturbed in place)."""
    g = np.zeros_like(P)
    for ix in np.ndindex(P.shape):
        orig = P[ix]
        P[ix] = orig + h
        fp = f()
        P[ix] = orig - h
        fm = f()
        P[ix] = orig
        g[ix] = (fp - fm) / (2 * h)
    return g


def rel_err(a, b):
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else np.linalg.norm(a - b) / denom


def rnn_run(m, x, y, t_from, t_to, s_init):
    """CE of output t_to, running the RNN from step t_from with state s_init entering it."""
    s = s_init
    for t in range(t_from, t_to + 1):
        s = np.tanh(m.U[:, x[t]] + m.W.dot(s))
    return -np.log(softmax(m.V.dot(s))[y[t_to]])


# ------------------------------------------------------------------- package hygiene
def _stdlib_names():
    return set(sys.stdlib_module_names)


def test_legacy_ref_imports_only_numpy_and_stdlib():
    files = sorted(PKG_DIR.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "rnn_numpy.py", "gru_numpy.py", "lstm_numpy.py", "char_gru.py", "seed002_gru.py"}
    allowed = _stdlib_names() | {"numpy"}
    bad = []
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] not in allowed:
                        bad.append((f.name, alias.name))
            elif isinstance(node, ast.ImportFrom):
                if any(alias.name == "*" for alias in node.names):
                    bad.append((f.name, "import *"))
                if node.level == 0 and node.module.split(".")[0] not in allowed:
                    bad.append((f.name, node.module))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                bad.append((f.name, "print() at line %d" % node.lineno))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "seed":
                bad.append((f.name, "global RNG seeding at line %d" % node.lineno))
    assert bad == []


def test_import_has_no_side_effect_on_global_rng():
    code = (
        "import sys, numpy as np\n"
        "sys.path.insert(0, %r)\n"
        "before = np.random.get_state()[1].copy()\n"
        "import legacy_ref, legacy_ref.char_gru, legacy_ref.seed002_gru, legacy_ref.gru_numpy, legacy_ref.lstm_numpy\n"
        "assert (np.random.get_state()[1] == before).all()\n"
        "assert legacy_ref.RNNNumpy.__module__ == 'legacy_ref.rnn_numpy'\n"
        "print('ok')\n" % str(PKG_DIR.parent)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "ok\n"  # and nothing else was printed at import


def test_public_api_exported():
    for name in ["RNNNumpy", "GRUNumpy", "LSTMNumpy", "CharGRU", "softmax", "hard_sigmoid", "train_with_sgd", "abcdefg_demo"]:
        assert name in legacy_ref.__all__
        assert hasattr(legacy_ref, name)


# ----------------------------------------------------------------------------- utils
def test_softmax_matches_tutorial_utils():
    x = np.array([1.0, 2.0, 3.0, 1000.0])
    p = softmax(x)
    assert p.dtype == np.float64 and p.shape == (4,)
    assert np.isclose(p.sum(), 1.0) and np.all(np.isfinite(p))
    v = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(softmax(v), np.exp(v) / np.exp(v).sum(), rtol=1e-15)
    np.testing.assert_allclose(softmax(v + 100.0), softmax(v), rtol=1e-14)


def test_hard_sigmoid_values_and_theano_clip_gradient():
    x = np.array([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0])
    np.testing.assert_array_equal(hard_sigmoid(x), [0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0])
    # inclusive at the boundaries, like Theano's clip gradient (x >= lo) & (x <= hi)
    np.testing.assert_array_equal(hard_sigmoid_grad(np.array([-2.5, 2.5])), [0.2, 0.2])
    np.testing.assert_array_equal(hard_sigmoid_grad(np.array([-2.5000001, 2.5000001, -3.0, 7.0])), [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(hard_sigmoid_grad(np.array([-2.4, 0.0, 2.4])), [0.2, 0.2, 0.2])
    # slope 0.2, not the 1/6 of newer libraries
    assert hard_sigmoid(np.array([1.0]))[0] == pytest.approx(0.7, abs=1e-15)


# --------------------------------------------------------------------------- RNNNumpy
def test_rnn_init_reproduces_seed10_draw_order(keep_global_rng):
    np.random.seed(10)
    m = RNNNumpy(C, H)
    np.random.seed(10)
    U = np.random.uniform(-np.sqrt(1.0 / C), np.sqrt(1.0 / C), (H, C))
    V = np.random.uniform(-np.sqrt(1.0 / H), np.sqrt(1.0 / H), (C, H))
    W = np.random.uniform(-np.sqrt(1.0 / H), np.sqrt(1.0 / H), (H, H))
    np.testing.assert_array_equal(m.U, U)
    np.testing.assert_array_equal(m.V, V)
    np.testing.assert_array_equal(m.W, W)
    assert m.U.dtype == m.V.dtype == m.W.dtype == np.float64
    assert (m.word_dim, m.hidden_dim, m.bptt_truncate) == (C, H, 4)
    # an explicit RandomState(10) gives the same numbers without global state
    m2 = RNNNumpy(C, H, rng=np.random.RandomState(10))
    for name in "UVW":
        np.testing.assert_array_equal(getattr(m2, name), getattr(m, name))


def test_rnn_forward_shapes_predict_and_loss():
    m = RNNNumpy(C, H, rng=np.random.RandomState(0))
    x, y = sentence(6, 1)
    o, s = m.forward_propagation(x)
    assert o.shape == (6, C) and s.shape == (7, H)
    np.testing.assert_array_equal(s[-1], np.zeros(H))
    np.testing.assert_allclose(o.sum(axis=1), 1.0)
    np.testing.assert_allclose(s[0], np.tanh(m.U[:, x[0]]))
    np.testing.assert_allclose(s[1], np.tanh(m.U[:, x[1]] + m.W.dot(s[0])))
    np.testing.assert_array_equal(m.predict(x), np.argmax(o, axis=1))
    X, Y = [x, x[:3]], [y, y[:3]]
    total = -np.sum(np.log(o[np.arange(6), y])) - np.sum(np.log(o[np.arange(3), y[:3]]))
    assert m.calculate_total_loss(X, Y) == pytest.approx(total, rel=1e-12)
    assert m.calculate_loss(X, Y) == pytest.approx(total / 9, rel=1e-12)
    # an untrained model is close to the uniform-prediction loss ln C
    assert abs(m.calculate_loss(X, Y) - np.log(C)) < 0.2


@pytest.mark.parametrize("truncation", ["per_output", "scan", "none"])
def test_rnn_bptt_untruncated_matches_finite_differences(truncation):
    m = RNNNumpy(C, H, bptt_truncate=-1, rng=np.random.RandomState(2))
    x, y = sentence(8, 3)
    grads = m.bptt(x, y, truncation=truncation)
    for name, g in zip("UVW", grads):
        num = fd_grad(lambda: m.calculate_total_loss([x], [y]), getattr(m, name))
        assert rel_err(g, num) < 1e-6, name


def test_rnn_bptt_per_output_truncated_matches_its_objective():
    k, T = 2, 8
    m = RNNNumpy(C, H, bptt_truncate=k, rng=np.random.RandomState(4))
    m.W *= 3.0  # make the cut paths matter
    x, y = sentence(T, 5)
    _, s = m.forward_propagation(x)
    s_fixed = s.copy()  # s_fixed[-1] is the zero initial state

    def objective():
        total = 0.0
        for t in range(T):
            j = max(0, t - k)
            total += rnn_run(m, x, y, j, t, s_fixed[j - 1])
        return total

    grads = m.bptt(x, y, truncation="per_output")
    for name, g in zip("UVW", grads):
        assert rel_err(g, fd_grad(objective, getattr(m, name))) < 1e-6, name
    full = m.bptt(x, y, truncation="none")
    assert rel_err(grads[2], full[2]) > 1e-3  # truncation really changed something


def test_rnn_bptt_scan_truncated_matches_its_objective():
    k, T = 3, 8
    m = RNNNumpy(C, H, bptt_truncate=k, rng=np.random.RandomState(6))
    m.W *= 3.0
    x, y = sentence(T, 7)
    _, s = m.forward_propagation(x)
    start = T - k
    s_start = s[start - 1].copy()

    def objective():
        return sum(rnn_run(m, x, y, start, t, s_start) for t in range(start, T))

    grads = m.bptt(x, y, truncation="scan")
    for name, g in zip("UVW", grads):
        assert rel_err(g, fd_grad(objective, getattr(m, name))) < 1e-6, name


def test_rnn_truncation_semantics_differ_only_when_truncating():
    T = 9
    x, y = sentence(T, 8)
    m = RNNNumpy(C, H, bptt_truncate=3, rng=np.random.RandomState(9))
    per_output = m.bptt(x, y, truncation="per_output")
    scan = m.bptt(x, y, truncation="scan")
    for a, b in zip(per_output, scan):
        assert not np.allclose(a, b)
    # scan: outputs before T - k contribute nothing, not even to V
    y2 = y.copy()
    y2[: T - 3] = (y2[: T - 3] + 1) % C
    for a, b in zip(scan, m.bptt(x, y2, truncation="scan")):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(per_output[1], m.bptt(x, y2, truncation="per_output")[1])
    # untruncated (k = -1, or k >= T) both semantics are full BPTT and agree
    for k in (-1, T, 100):
        m.bptt_truncate = k
        full = m.bptt(x, y, truncation="none")
        for a, b, c in zip(m.bptt(x, y, truncation="per_output"), m.bptt(x, y, truncation="scan"), full):
            np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(b, c, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError):
        m.bptt(x, y, truncation="bogus")


def test_rnn_sgd_step_is_plain_sgd():
    m = RNNNumpy(C, H, rng=np.random.RandomState(11))
    x, y = sentence(7, 12)
    before = m.get_params()
    grads = m.bptt(x, y)
    m.sgd_step(x, y, 0.05)
    for (name, p0), g in zip(before.items(), grads):
        np.testing.assert_allclose(getattr(m, name), p0 - 0.05 * g, rtol=1e-13, atol=1e-15)


def test_rnn_gradient_check_returns_records_all_passed(keep_global_rng):
    # the notebook's own setting: vocab 100, hidden 10, bptt_truncate=1000, seed 10
    np.random.seed(10)
    m = RNNNumpy(100, 10, bptt_truncate=1000)
    results = m.gradient_check([0, 1, 2, 3], [1, 2, 3, 4])
    assert len(results) == 100 * 10 + 100 * 10 + 10 * 10
    assert [r.parameter for r in results[:1]] == ["U"] and results[-1].parameter == "W"
    assert all(r.passed for r in results)
    assert max(r.relative_error for r in results) < 0.01
    r0 = results[0]
    assert r0.index == (0, 0) and r0.relative_error <= 0.01
    assert r0.backprop_gradient == pytest.approx(r0.estimated_gradient, rel=1e-2, abs=1e-12)


def test_rnn_gradient_check_detects_a_wrong_gradient():
    m = RNNNumpy(C, H, bptt_truncate=-1, rng=np.random.RandomState(13))
    x, y = sentence(4, 14)
    right = m.bptt
    m.bptt = lambda xx, yy, truncation="per_output": [g * 1.5 for g in right(xx, yy, truncation)]
    results = m.gradient_check(x, y)
    assert not all(r.passed for r in results)


def test_rnn_gradient_check_refuses_truncated_model_on_long_sentence():
    m = RNNNumpy(C, H, bptt_truncate=2, rng=np.random.RandomState(15))
    x, y = sentence(6, 16)
    with pytest.raises(ValueError, match="bptt_truncate"):
        m.gradient_check(x, y)
    with pytest.raises(ValueError):
        m.gradient_check(x, y, truncation="scan")
    # short enough for the truncation: allowed, and it passes
    assert all(r.passed for r in m.gradient_check(x[:2], y[:2]))


def test_train_with_sgd_evaluates_before_epoch_and_halves_lr():
    m = RNNNumpy(C, H, rng=np.random.RandomState(17))
    X = [sentence(5, s)[0] for s in range(4)]
    Y = [sentence(5, s)[1] for s in range(4)]
    calls = []
    losses = train_with_sgd(m, X, Y, learning_rate=0.01, nepoch=5, evaluate_loss_after=2, callback=lambda *a: calls.append(a))
    assert [n for n, _ in losses] == [0, 8, 16]  # epochs 0, 2, 4, before their steps
    assert [c[0] for c in calls] == [0, 2, 4]
    assert losses[-1][1] < losses[0][1]
    # a learning rate that makes the loss rise is halved at the next evaluation
    m2 = RNNNumpy(C, H, rng=np.random.RandomState(17))
    calls2 = []
    losses2 = train_with_sgd(m2, X, Y, learning_rate=10.0, nepoch=3, evaluate_loss_after=1, callback=lambda *a: calls2.append(a))
    rises = [i for i in range(1, len(losses2)) if losses2[i][1] > losses2[i - 1][1]]
    assert rises, "lr 10 should make the loss rise"
    lrs = [c[3] for c in calls2]
    assert lrs[rises[0]] == lrs[rises[0] - 1] * 0.5


def test_rnn_get_set_params_round_trip():
    a = RNNNumpy(C, H, rng=np.random.RandomState(18))
    b = RNNNumpy(C, H, rng=np.random.RandomState(19))
    x, _ = sentence(5, 20)
    assert list(a.get_params()) == ["U", "V", "W"]
    b.set_params(a.get_params())
    np.testing.assert_array_equal(a.forward_propagation(x)[0], b.forward_propagation(x)[0])
    with pytest.raises(ValueError):
        b.set_params({"U": np.zeros((H, C + 1))})
    with pytest.raises(KeyError):
        b.set_params({"E": np.zeros((H, C))})


# ---------------------------------------------------------------- GRUNumpy / LSTMNumpy
@pytest.mark.parametrize("cls, gates", [(GRUNumpy, 3), (LSTMNumpy, 4)])
def test_gated_init_draw_order_and_shapes(cls, gates, keep_global_rng):
    L = 2
    m = cls(C, H, num_layers=L, rng=np.random.RandomState(21))
    rs = np.random.RandomState(21)
    rc, rh = np.sqrt(1.0 / C), np.sqrt(1.0 / H)
    E = rs.uniform(-rc, rc, (H, C))
    U = rs.uniform(-rh, rh, (gates * L, H, H))
    W = rs.uniform(-rh, rh, (gates * L, H, H))
    V = rs.uniform(-rh, rh, (C, H))
    for name, ref in [("E", E), ("U", U), ("W", W), ("V", V)]:
        np.testing.assert_array_equal(getattr(m, name), ref)
    np.testing.assert_array_equal(m.b, np.zeros((gates * L, H)))
    np.testing.assert_array_equal(m.c, np.zeros(C))
    for name in ["mE", "mU", "mW", "mV", "mb", "mc"]:
        assert not np.any(getattr(m, name)) and getattr(m, name).shape == getattr(m, name[1:]).shape
    # rng=None draws from the global generator, like the tutorial
    np.random.seed(21)
    np.testing.assert_array_equal(cls(C, H, num_layers=L).U, U)


def test_gru_defaults_match_tutorial():
    m = GRUNumpy(C)
    assert (m.hidden_dim, m.bptt_truncate, m.num_layers, m.gate_activation) == (128, -1, 2, "hard_sigmoid")
    assert m.U.shape == (6, 128, 128) and m.b.shape == (6, 128)
    n = LSTMNumpy(C)
    assert (n.hidden_dim, n.bptt_truncate, n.num_layers, n.gate_activation) == (128, -1, 1, "sigmoid")
    assert n.U.shape == (4, 128, 128)


def test_gru_forward_first_steps_by_hand():
    m = GRUNumpy(C, H, num_layers=2, rng=np.random.RandomState(22))
    m.b[:] = np.random.RandomState(23).uniform(-1, 1, m.b.shape)
    m.c[:] = np.random.RandomState(24).uniform(-1, 1, m.c.shape)
    x, _ = sentence(3, 25)
    o, cache = m.forward(x)
    U, W, b = m.U, m.W, m.b
    s1 = np.zeros(H)
    s2 = np.zeros(H)
    for t in range(2):
        xe = m.E[:, x[t]]
        z = hard_sigmoid(U[0].dot(xe) + W[0].dot(s1) + b[0])
        r = hard_sigmoid(U[1].dot(xe) + W[1].dot(s1) + b[1])
        c1 = np.tanh(U[2].dot(xe) + W[2].dot(s1 * r) + b[2])
        s1 = (1 - z) * c1 + z * s1
        z = hard_sigmoid(U[3].dot(s1) + W[3].dot(s2) + b[3])
        r = hard_sigmoid(U[4].dot(s1) + W[4].dot(s2) + b[4])
        c2 = np.tanh(U[5].dot(s1) + W[5].dot(s2 * r) + b[5])
        s2 = (1 - z) * c2 + z * s2
        np.testing.assert_allclose(o[t], softmax(m.V.dot(s2) + m.c), rtol=1e-13)
    np.testing.assert_allclose(cache["s"][0, 2], s1, rtol=1e-13)
    np.testing.assert_array_equal(m.predict(x), o)
    np.testing.assert_array_equal(m.predict_class(x), np.argmax(o, axis=1))


def test_lstm_forward_first_steps_by_hand():
    m = LSTMNumpy(C, H, num_layers=1, rng=np.random.RandomState(26))
    m.b[:] = np.random.RandomState(27).uniform(-1, 1, m.b.shape)
    x, _ = sentence(3, 28)
    o, _ = m.forward(x)
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    U, W, b = m.U, m.W, m.b
    h = np.zeros(H)
    c = np.zeros(H)
    for t in range(3):
        xe = m.E[:, x[t]]
        i = sig(U[0].dot(xe) + W[0].dot(h) + b[0])
        f = sig(U[1].dot(xe) + W[1].dot(h) + b[1])
        og = sig(U[2].dot(xe) + W[2].dot(h) + b[2])
        g = np.tanh(U[3].dot(xe) + W[3].dot(h) + b[3])
        c = f * c + i * g
        h = og * np.tanh(c)
        np.testing.assert_allclose(o[t], softmax(m.V.dot(h) + m.c), rtol=1e-13)


def _gated_model(cls, num_layers, activation, truncate, seed):
    m = cls(C, H, bptt_truncate=truncate, num_layers=num_layers, gate_activation=activation, rng=np.random.RandomState(seed))
    rs = np.random.RandomState(seed + 1000)
    m.b[:] = rs.uniform(-0.5, 0.5, m.b.shape)
    m.c[:] = rs.uniform(-0.5, 0.5, m.c.shape)
    return m


def _truncated_objective(m, x, y):
    """Loss whose exact gradient scan-truncated bptt must equal (see module docstring)."""
    T = len(x)
    start = m.truncation_start(T)
    if start == 0:
        return lambda: m.ce_error(x, y)
    _, cache = m.forward(x)
    if isinstance(m, GRUNumpy):
        init = cache["s"][:, start].copy()
    else:
        init = (cache["h"][:, start].copy(), cache["cell"][:, start].copy())
    xs, ys = x[start:], y[start:]

    def objective():
        o, _ = m.forward(xs, initial_state=init)
        return -np.sum(np.log(o[np.arange(len(ys)), ys]))

    return objective


GATED_CASES = [
    (1, "hard_sigmoid", -1),
    (2, "hard_sigmoid", -1),
    (2, "hard_sigmoid", 3),
    (2, "sigmoid", -1),
    (2, "sigmoid", 3),
    (1, "sigmoid", 4),
]


@pytest.mark.parametrize("cls", [GRUNumpy, LSTMNumpy])
@pytest.mark.parametrize("num_layers, activation, truncate", GATED_CASES)
def test_gated_bptt_matches_finite_differences(cls, num_layers, activation, truncate):
    T = 8  # longer than every truncation above
    m = _gated_model(cls, num_layers, activation, truncate, seed=30 + num_layers)
    x, y = sentence(T, 31)
    grads = m.bptt(x, y)
    assert [g.shape for g in grads] == [p.shape for p in m.get_params().values()]
    objective = _truncated_objective(m, x, y)
    for name, g in zip(m.param_names, grads):
        num = fd_grad(objective, getattr(m, name))
        assert rel_err(g, num) < 1e-6, name
    if truncate == -1:  # the model's own helper agrees too
        np.testing.assert_allclose(m.numerical_gradient(x, y, "c"), grads[5], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cls", [GRUNumpy, LSTMNumpy])
def test_gated_bptt_with_saturated_hard_sigmoid(cls):
    """Large weights push gate pre-activations beyond +-2.5, where the slope is 0."""
    m = _gated_model(cls, 2, "hard_sigmoid", -1, seed=40)
    m.U *= 6.0
    m.W *= 6.0
    m.b *= 4.0
    x, y = sentence(6, 41)
    _, cache = m.forward(x)
    pre = np.concatenate([cache[k].ravel() for k in (("az", "ar") if cls is GRUNumpy else ("ai", "af", "ao"))])
    assert np.mean(np.abs(pre) > 2.5) > 0.1  # really saturated
    assert np.min(np.abs(np.abs(pre) - 2.5)) > 1e-3  # no finite-difference step crosses a kink
    grads = m.bptt(x, y)
    for name, g in zip(m.param_names, grads):
        assert rel_err(g, m.numerical_gradient(x, y, name)) < 1e-6, name


@pytest.mark.parametrize("cls", [GRUNumpy, LSTMNumpy])
def test_gated_truncation_drops_early_outputs(cls):
    T, k = 9, 3
    m = _gated_model(cls, 2, "sigmoid", k, seed=50)
    x, y = sentence(T, 51)
    trunc = m.bptt(x, y)
    y2 = y.copy()
    y2[: T - k] = (y2[: T - k] + 1) % C
    for a, b in zip(trunc, m.bptt(x, y2)):
        np.testing.assert_array_equal(a, b)  # outputs before T - k contribute nothing
    m.bptt_truncate = -1
    full = m.bptt(x, y)
    assert rel_err(trunc[4], full[4]) > 1e-3  # not even to V
    m.bptt_truncate = T  # k >= T is full BPTT
    for a, b in zip(m.bptt(x, y), full):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", [GRUNumpy, LSTMNumpy])
def test_gated_rmsprop_step_equals_formula(cls):
    m = _gated_model(cls, 1, "hard_sigmoid", -1, seed=60)
    rs = np.random.RandomState(61)
    for name in m.param_names:  # non-zero caches so that decay matters
        setattr(m, "m" + name, rs.uniform(0.0, 0.01, getattr(m, name).shape))
    x, y = sentence(5, 62)
    p0 = m.get_params()
    c0 = m.get_rmsprop_cache()
    grads = m.bptt(x, y)
    lr, decay = 0.01, 0.8
    m.sgd_step(x, y, lr, decay=decay)
    for (name, p), g in zip(p0.items(), grads):
        mc = decay * c0["m" + name] + (1 - decay) * g ** 2
        np.testing.assert_allclose(getattr(m, "m" + name), mc, rtol=1e-14, atol=0)
        np.testing.assert_allclose(getattr(m, name), p - lr * g / np.sqrt(mc + 1e-6), rtol=1e-14, atol=1e-16)
    # one element by hand, with Python floats
    ix = (0, x[0])
    g = grads[0][ix]
    assert g != 0.0
    m_new = decay * c0["mE"][ix] + (1 - decay) * g * g
    assert m.mE[ix] == pytest.approx(m_new, rel=1e-15)
    assert m.E[ix] == pytest.approx(p0["E"][ix] - lr * g / math.sqrt(m_new + 1e-6), rel=1e-14)
    # default decay is 0.9
    c1, p1, g1 = m.get_rmsprop_cache(), m.get_params(), m.bptt(x, y)
    m.sgd_step(x, y, lr)
    np.testing.assert_allclose(m.mc, 0.9 * c1["mc"] + 0.1 * g1[5] ** 2, rtol=1e-14)
    np.testing.assert_allclose(m.c, p1["c"] - lr * g1[5] / np.sqrt(m.mc + 1e-6), rtol=1e-14)


@pytest.mark.parametrize("cls", [GRUNumpy, LSTMNumpy])
def test_gated_losses_and_param_copy(cls):
    a = _gated_model(cls, 2, "hard_sigmoid", -1, seed=70)
    b = cls(C, H, num_layers=2, gate_activation="hard_sigmoid", rng=np.random.RandomState(71))
    X = [sentence(5, 72)[0], sentence(3, 73)[0]]
    Y = [sentence(5, 72)[1], sentence(3, 73)[1]]
    o = a.predict(X[0])
    assert o.shape == (5, C) and o.dtype == np.float64
    assert a.ce_error(X[0], Y[0]) == pytest.approx(-np.sum(np.log(o[np.arange(5), Y[0]])), rel=1e-13)
    total = a.calculate_total_loss(X, Y)
    assert total == pytest.approx(a.ce_error(X[0], Y[0]) + a.ce_error(X[1], Y[1]), rel=1e-13)
    assert a.calculate_loss(X, Y) == pytest.approx(total / 8, rel=1e-13)
    assert list(a.get_params()) == ["E", "U", "W", "b", "V", "c"]
    b.set_params(a.get_params())
    np.testing.assert_array_equal(b.predict(X[0]), o)
    with pytest.raises(ValueError):
        b.set_params({"U": np.zeros((3, H, H))})
    with pytest.raises(ValueError):
        cls(C, H, gate_activation="relu")


def test_train_with_sgd_drives_gru_rmsprop():
    m = GRUNumpy(C, H, num_layers=1, rng=np.random.RandomState(80))
    X = [sentence(6, s)[0] for s in range(3)]
    Y = [np.roll(x, -1) for x in X]
    losses = train_with_sgd(m, X, Y, learning_rate=0.01, nepoch=10, evaluate_loss_after=5)
    assert len(losses) == 2 and losses[1][1] < losses[0][1]
    assert np.any(m.mU)  # RMSprop cache was used


# --------------------------------------------------------------------------- CharGRU
def test_char_gru_backward_matches_finite_differences():
    m = CharGRU(8, 5, rng=np.random.RandomState(90), init_scale=0.5)
    inputs, targets = [1, 2, 3, 4, 5, 0], [2, 3, 4, 5, 0, 1]
    h0 = np.random.RandomState(91).randn(5) * 0.3
    loss, grads, h_last = m.loss_and_gradients(inputs, targets, h0)
    # forward equals stepping one character at a time
    h, ref = h0.copy(), 0.0
    for a, b in zip(inputs, targets):
        *_, h, p = m.step(m.one_hot(a), h)
        ref -= np.log(p[b])
    assert loss == pytest.approx(ref, rel=1e-13)
    np.testing.assert_allclose(h_last, h, rtol=1e-13)
    for name in m.param_names:
        num = fd_grad(lambda: m.forward(inputs, targets, h0)[0], getattr(m, name))
        assert rel_err(grads["d" + name], num) < 1e-6, name


@pytest.mark.slow  # 19 s of NumPy training; test_models runs the same demo on the PyTensor GRU
def test_abcdefg_demo_reproduces_article(keep_global_rng):
    state = np.random.get_state()
    model, text = abcdefg_demo()
    assert text.startswith("abcdefg abcdefg")
    assert text == "abcdefg abcdefg abcdefg abcdefg "
    assert isinstance(model, CharGRU) and model.hidden_size == 16 and model.vocab_size == 8
    assert np.array_equal(np.random.get_state()[1], state[1])  # global RNG untouched
