"""The port against the independent NumPy references in legacy_ref, at float64 round-off.

Each comparison builds both implementations from the same weights and checks
loss, every gradient and a multi-step training trajectory to <= 1e-10
relative (max |a - b| / max |b| per array).  Sentences are longer than the
truncation so truncated back-propagation actually truncates.
"""

import numpy as np
import pytest

from legacy_ref import GRUNumpy, LSTMNumpy, RNNNumpy
from theano_rnn import GRUTheano, LSTMTheano, RNNTheano

RTOL = 1e-10
C, H = 11, 5


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.max(np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


def assert_close(a, b, what=""):
    err = rel_err(a, b)
    assert err <= RTOL, f"{what}: relative error {err:.3g} > {RTOL}"


def sentence(rng, T):
    x = rng.randint(0, C, size=T).astype(np.int32)
    y = rng.randint(0, C, size=T).astype(np.int32)
    return x, y


# ---------------------------------------------------------------------------
# RNN (part 2)
# ---------------------------------------------------------------------------


def test_rnn_init_reproduces_tutorial_draws_from_global_seed():
    np.random.seed(10)
    port = RNNTheano(C, H)
    np.random.seed(10)
    ref = RNNNumpy(C, H)
    np.random.seed(10)
    U = np.random.uniform(-np.sqrt(1.0 / C), np.sqrt(1.0 / C), (H, C))
    V = np.random.uniform(-np.sqrt(1.0 / H), np.sqrt(1.0 / H), (C, H))
    W = np.random.uniform(-np.sqrt(1.0 / H), np.sqrt(1.0 / H), (H, H))
    for name, expected in zip("UVW", (U, V, W)):
        np.testing.assert_array_equal(getattr(port, name).get_value(), expected)
        np.testing.assert_array_equal(getattr(ref, name), expected)
    # an explicit generator gives the same stream without touching the global one
    state = np.random.get_state()
    explicit = RNNTheano(C, H, rng=np.random.RandomState(10))
    assert np.random.get_state()[1].tolist() == state[1].tolist()
    np.testing.assert_array_equal(explicit.U.get_value(), U)


RNN_CASES = [
    # (bptt_truncate, port truncation, reference truncation)
    (-1, "scan", "none"),
    (3, "scan", "scan"),
    (3, "per_output", "per_output"),
]


@pytest.fixture(scope="module", params=RNN_CASES, ids=lambda c: f"k{c[0]}-{c[1]}")
def rnn_pair(request):
    k, port_trunc, ref_trunc = request.param
    port = RNNTheano(C, H, bptt_truncate=k, truncation=port_trunc, rng=np.random.RandomState(3))
    ref = RNNNumpy(C, H, bptt_truncate=k, rng=np.random.RandomState(3))
    return port, ref, ref_trunc


def test_rnn_loss_and_gradients_match_reference(rnn_pair):
    port, ref, ref_trunc = rnn_pair
    rng = np.random.RandomState(0)
    ref.set_params(port.get_params())
    for T in (9, 2):  # longer and shorter than the truncation
        x, y = sentence(rng, T)
        o_ref, _ = ref.forward_propagation(x)
        assert_close(port.forward_propagation(x), o_ref, "probabilities")
        np.testing.assert_array_equal(port.predict(x), ref.predict(x))
        assert_close(port.ce_error(x, y), ref.calculate_total_loss([x], [y]), "loss")
        for name, g_port, g_ref in zip("UVW", port.bptt(x, y), ref.bptt(x, y, truncation=ref_trunc)):
            assert_close(g_port, g_ref, f"d{name} (T={T})")


def test_rnn_sgd_trajectory_matches_reference(rnn_pair):
    port, ref, ref_trunc = rnn_pair
    rng = np.random.RandomState(1)
    start = port.get_params()
    ref.set_params(start)
    data = [sentence(rng, T) for T in (8, 12, 5, 9)]
    try:
        for epoch in range(2):
            for x, y in data:
                port.sgd_step(x, y, 0.05)
                ref.sgd_step(x, y, 0.05, truncation=ref_trunc)
        for name in "UVW":
            assert_close(getattr(port, name).get_value(), getattr(ref, name), f"{name} after 8 steps")
        X, Y = [d[0] for d in data], [d[1] for d in data]
        assert port.calculate_loss(X, Y) == pytest.approx(ref.calculate_loss(X, Y), rel=RTOL)
    finally:
        port.set_params(start)


def test_truncation_semantics_differ_for_long_sentences():
    """Theano's scan truncation and the NumPy tutorial's per-output truncation."""
    weights = RNNTheano(C, H, rng=np.random.RandomState(5)).get_params()
    scan_m = RNNTheano(C, H, bptt_truncate=3, truncation="scan", params=weights)
    per_out = RNNTheano(C, H, bptt_truncate=3, truncation="per_output", params=weights)
    x, y = sentence(np.random.RandomState(2), 10)
    g_scan, g_po = scan_m.bptt(x, y), per_out.bptt(x, y)
    for a, b in zip(g_scan, g_po):
        assert rel_err(a, b) > 1e-3  # genuinely different gradients
    # ... but identical losses (truncation only affects the backward pass)
    assert scan_m.ce_error(x, y) == per_out.ce_error(x, y)
    # scan semantics: outputs before step T-k give no gradient at all, even to V
    ref = RNNNumpy(C, H, bptt_truncate=3)
    ref.set_params(weights)
    o, s = ref.forward_propagation(x)
    delta = o.copy()
    delta[np.arange(len(y)), y] -= 1.0
    dV_last_k = sum(np.outer(delta[t], s[t]) for t in range(len(y) - 3, len(y)))
    assert_close(g_scan[1], dV_last_k, "dV from the last k outputs only")
    # for a sentence no longer than k both semantics are full BPTT
    x2, y2 = sentence(np.random.RandomState(4), 3)
    for a, b in zip(scan_m.bptt(x2, y2), per_out.bptt(x2, y2)):
        assert_close(a, b, "short sentence")


# ---------------------------------------------------------------------------
# GRU and LSTM (part 4)
# ---------------------------------------------------------------------------

GATED_CASES = [
    # (port class, reference class, num_layers, gate activation, bptt_truncate)
    (GRUTheano, GRUNumpy, 1, "hard_sigmoid", -1),
    (GRUTheano, GRUNumpy, 2, "hard_sigmoid", -1),
    (GRUTheano, GRUNumpy, 2, "sigmoid", 4),
    (LSTMTheano, LSTMNumpy, 1, "sigmoid", -1),
    # slow: hard_sigmoid gates and two layers with truncation are in the default
    # run through the GRUs, the LSTM's equations through L1-sigmoid-k-1; the
    # two-layer LSTMs are the costliest compiles here (and two-layer LSTM
    # gradients are also checked against finite differences in test_word.py's
    # slow grid and test_backends)
    pytest.param((LSTMTheano, LSTMNumpy, 2, "sigmoid", 4), marks=pytest.mark.slow),
    pytest.param((LSTMTheano, LSTMNumpy, 2, "hard_sigmoid", -1), marks=pytest.mark.slow),
]


def _gated_id(case):
    cls, _, L, gate, k = case.values[0] if hasattr(case, "values") else case
    return f"{cls.__name__}-L{L}-{gate}-k{k}"


@pytest.fixture(scope="module", params=GATED_CASES, ids=_gated_id)
def gated_pair(request):
    cls, ref_cls, L, gate, k = request.param
    port = cls(C, H, k, num_layers=L, gate_activation=gate, rng=np.random.RandomState(7))
    ref = ref_cls(C, H, k, num_layers=L, gate_activation=gate, rng=np.random.RandomState(7))
    # biases are zero at init; make them non-zero so their gradients matter
    params = port.get_params()
    brng = np.random.RandomState(8)
    params["b"] = brng.uniform(-0.5, 0.5, params["b"].shape)
    params["c"] = brng.uniform(-0.5, 0.5, params["c"].shape)
    port.set_params(params)
    return port, ref


def test_gated_init_matches_reference_draw_order(gated_pair):
    port, ref = gated_pair
    fresh = type(port)(C, H, port.bptt_truncate, num_layers=port.num_layers, rng=np.random.RandomState(7))
    fresh_ref = type(ref)(C, H, port.bptt_truncate, num_layers=port.num_layers, rng=np.random.RandomState(7))
    for name, value in fresh_ref.get_params().items():
        np.testing.assert_array_equal(getattr(fresh, name).get_value(), value, err_msg=name)


def test_gated_loss_and_gradients_match_reference(gated_pair):
    port, ref = gated_pair
    ref.set_params(port.get_params())
    rng = np.random.RandomState(11)
    for T in (10, 3):
        x, y = sentence(rng, T)
        assert_close(port.predict(x), ref.predict(x), "probabilities")
        np.testing.assert_array_equal(port.predict_class(x), ref.predict_class(x))
        assert_close(port.ce_error(x, y), ref.ce_error(x, y), "loss")
        names = ("E", "U", "W", "b", "V", "c")
        for name, g_port, g_ref in zip(names, port.bptt(x, y), ref.bptt(x, y)):
            assert_close(g_port, g_ref, f"d{name} (T={T})")


def test_gated_rmsprop_trajectory_matches_reference(gated_pair):
    port, ref = gated_pair
    start = port.get_params()
    ref.set_params(start)
    ref.reset_rmsprop_cache()
    rng = np.random.RandomState(12)
    data = [sentence(rng, T) for T in (9, 6, 11)]
    try:
        for epoch in range(2):
            for i, (x, y) in enumerate(data):
                decay = 0.9 if i % 2 == 0 else 0.8
                loss = port.sgd_step(x, y, 0.01, decay)
                assert loss == pytest.approx(ref.ce_error(x, y), rel=RTOL)
                ref.sgd_step(x, y, 0.01, decay)
        for name, value in ref.get_params().items():
            assert_close(getattr(port, name).get_value(), value, f"{name} after 6 RMSprop steps")
        for name, value in ref.get_rmsprop_cache().items():
            assert_close(getattr(port, name).get_value(), value, f"cache {name}")
    finally:
        port.set_params(start)
        port.set_optimizer_state({k: np.zeros_like(v) for k, v in port.get_optimizer_state().items()})
