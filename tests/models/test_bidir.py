"""Bidirectional and deep bidirectional stacks (theano_rnn.models.bidir) against the
NumPy reference (legacy_ref.bidir_numpy), padding exactness, direction checks,
checkpoints and backends."""

from collections import OrderedDict

import numpy as np
import pytest

from legacy_ref import bidir_numpy as ref
from theano_rnn import io
from theano_rnn.models.bidir import (
    ClozeModel,
    SequenceClassifier,
    init_stack_params,
    model_from_config,
    stack_param_shapes,
)

C, D, H = 9, 4, 3
LENGTHS = (6, 4, 1)


def _batch(seed=0, lengths=LENGTHS, vocab=C):
    rng = np.random.RandomState(seed)
    T, B = max(lengths), len(lengths)
    X = rng.randint(0, vocab, (T, B)).astype(np.int32)
    M = np.zeros((T, B))
    for b, n in enumerate(lengths):
        M[:n, b] = 1.0
    X[M == 0] = 0  # pad value (masked)
    return X, M


def _params(cell, layers, directions, outputs, seed=3):
    return init_stack_params(cell, C, D, H, layers, directions, outputs,
                             rng=np.random.RandomState(seed))


def test_param_layout_names_and_shapes():
    shapes = stack_param_shapes("gru", C, D, H, num_layers=2, directions=2, num_outputs=5)
    assert list(shapes) == ["E", "Wx_f0", "Wh_f0", "b_f0", "Wx_b0", "Wh_b0", "b_b0",
                            "Wx_f1", "Wh_f1", "b_f1", "Wx_b1", "Wh_b1", "b_b1", "V", "c"]
    assert shapes["E"] == (D, C)
    assert shapes["Wx_f0"] == (3 * H, D)
    assert shapes["Wx_b1"] == (3 * H, 2 * H)  # fed the concatenated states of layer 0
    assert shapes["V"] == (5, 2 * H)
    uni = stack_param_shapes("lstm", C, D, H, num_layers=2, directions=1, num_outputs=5)
    assert "Wx_b0" not in uni and uni["Wx_f1"] == (4 * H, H) and uni["V"] == (5, H)


def test_reference_init_matches_port_init():
    """Same seed, same draws in the same order: the two inits are interchangeable."""
    a = init_stack_params("lstm", C, D, H, 2, 2, 5, rng=np.random.RandomState(7))
    b = ref.init_params("lstm", C, D, H, 2, 2, 5, np.random.RandomState(7))
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# --------------------------------------------------------------------------- models
# one compiled model per (cell, layers, directions, head), shared by the tests


@pytest.fixture(scope="module")
def models():
    cache = {}

    def get(head, cell, layers, directions):
        key = (head, cell, layers, directions)
        if key not in cache:
            if head == "cloze":
                cache[key] = ClozeModel(C, cell=cell, embed_dim=D, hidden_dim=H, num_layers=layers,
                                        directions=directions, optimizer="sgd",
                                        params=_params(cell, layers, directions, C))
            else:
                cache[key] = SequenceClassifier(
                    C, 3, cell=cell, embed_dim=D, hidden_dim=H, num_layers=layers,
                    directions=directions, optimizer="sgd", dropout=0.5, decay_c=0.01,
                    params=_params(cell, layers, directions, 3))
        return cache[key]

    return get


PARITY = [
    ("cloze", "gru", 2, 2),
    ("classify", "lstm", 1, 2),
    ("cloze", "rnn", 1, 2),
    pytest.param("cloze", "gru", 1, 2, marks=pytest.mark.slow),
    pytest.param("cloze", "lstm", 1, 2, marks=pytest.mark.slow),
    pytest.param("cloze", "lstm", 2, 2, marks=pytest.mark.slow),
    pytest.param("classify", "gru", 1, 2, marks=pytest.mark.slow),
    pytest.param("classify", "gru", 2, 2, marks=pytest.mark.slow),
    pytest.param("classify", "lstm", 2, 2, marks=pytest.mark.slow),
    pytest.param("classify", "lstm", 2, 1, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("head,cell,layers,directions", PARITY)
def test_loss_and_gradients_match_numpy_reference(models, head, cell, layers, directions):
    m = models(head, cell, layers, directions)
    X, M = _batch(1)
    p = m.get_params()
    if head == "cloze":
        pos, y = np.array([3, 0, 0]), np.array([1, 5, 8])
        loss, grads = m.loss_and_gradients(X, M, pos, y)
        r_loss, r_grads = ref.cloze_loss_and_grads(p, X, M, pos, y, cell, layers, directions)
    else:
        y = np.array([0, 2, 1])
        drop = (np.random.RandomState(2).random_sample((3, directions * H)) < 0.5).astype(float)
        loss, grads = m.loss_and_gradients(X, M, y, drop)
        r_loss, r_grads = ref.classify_loss_and_grads(p, X, M, y, cell, layers, directions,
                                                      drop=drop, decay_c=0.01)
    assert loss == pytest.approx(r_loss, rel=1e-12)
    assert list(grads) == list(r_grads)
    for k in grads:
        np.testing.assert_allclose(grads[k], r_grads[k], rtol=1e-9, atol=1e-12, err_msg=k)
        assert np.abs(r_grads[k]).max() > 0 or k.startswith("b_") or k == "c", k


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_padded_batch_equals_each_sequence_alone(models, cell):
    """Right padding is exact: every real step of every sequence, both directions."""
    m = models("cloze", cell, 2, 2) if cell == "gru" else models("cloze", cell, 1, 2)
    X, M = _batch(4)
    S = m.states(X, M)
    for b, n in enumerate(LENGTHS):
        alone = m.states(X[:n, b : b + 1], np.ones((n, 1)))
        np.testing.assert_allclose(S[:n, b], alone[:, 0], rtol=0, atol=1e-13)
    # and so are the per-sequence losses and gradients: the batch mean is the
    # mean of the singles
    pos, y = np.array([2, 3, 0]), np.array([4, 1, 7])
    batch_loss, batch_grads = m.loss_and_gradients(X, M, pos, y)
    singles = [m.loss_and_gradients(X[:n, b : b + 1], np.ones((n, 1)), pos[b : b + 1], y[b : b + 1])
               for b, n in enumerate(LENGTHS)]
    assert batch_loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-12)
    for k, g in batch_grads.items():
        np.testing.assert_allclose(g, np.mean([s[1][k] for s in singles], axis=0),
                                   rtol=1e-10, atol=1e-13, err_msg=k)


def test_backward_direction_reads_the_sequence_backwards(models):
    """Reversing a sequence and swapping the forward/backward weights mirrors the states."""
    m = models("cloze", "gru", 2, 2)
    X, M = _batch(5, lengths=(6,))
    S = m.states(X, M)
    p = m.get_params()
    swapped = OrderedDict()
    for k, v in p.items():
        if k[:3] in ("Wx_", "Wh_") or k.startswith("b_"):
            stem, d, layer = k[: k.index("_") + 1], k[k.index("_") + 1], k[k.index("_") + 2 :]
            v = p[f"{stem}{'b' if d == 'f' else 'f'}{layer}"]
            if stem == "Wx_" and layer != "0":  # the layer below's halves swap too
                v = np.concatenate([v[:, H:], v[:, :H]], axis=1)
        swapped[k] = v
    # the mirror model: the same compiled model with the swapped weights
    m.set_params(swapped)
    try:
        R = m.states(X[::-1], M[::-1])
    finally:
        m.set_params(p)
    for k, v in m.get_params().items():
        np.testing.assert_array_equal(v, p[k])  # restored for the other tests
    np.testing.assert_allclose(R[::-1, :, :H], S[:, :, H:], atol=1e-13)
    np.testing.assert_allclose(R[::-1, :, H:], S[:, :, :H], atol=1e-13)
    # in one layer the forward half at t has not seen the future; the backward
    # half has (above layer 0 both halves see everything)
    m = models("cloze", "rnn", 1, 2)
    S = m.states(X, M)
    X2 = X.copy()
    X2[-1, 0] = (X2[-1, 0] + 1) % C
    S2 = m.states(X2, M)
    np.testing.assert_array_equal(S2[:-1, :, :H], S[:-1, :, :H])
    assert np.abs(S2[0, :, H:] - S[0, :, H:]).max() > 1e-6


def test_classifier_eval_uses_scaled_dropout(models):
    m = models("classify", "lstm", 1, 2)
    X, M = _batch(6)
    probs = m.predict_proba(X, M)
    r = ref.classify_probs(m.get_params(), X, M, "lstm", 1, 2, drop=np.full((3, 2 * H), 0.5))
    np.testing.assert_allclose(probs, r, rtol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert list(m.predict(X, M)) == list(r.argmax(axis=1))


def test_train_step_is_sgd_on_the_reference_gradient(models):
    X, M = _batch(7)
    pos, y = np.array([1, 2, 0]), np.array([3, 3, 4])
    m = ClozeModel(C, cell="rnn", embed_dim=D, hidden_dim=H, num_layers=2, directions=2,
                   optimizer="sgd", params=_params("rnn", 2, 2, C))
    before = m.get_params()
    _, g = ref.cloze_loss_and_grads(before, X, M, pos, y, "rnn", 2, 2)
    m.train_step(X, M, pos, y, 0.5)
    after = m.get_params()
    for k in before:
        np.testing.assert_allclose(after[k], before[k] - 0.5 * g[k], rtol=1e-10, atol=1e-13)


def test_checkpoint_round_trip_keeps_params_and_optimizer_state(tmp_path):
    m = SequenceClassifier(C, 4, cell="lstm", embed_dim=D, hidden_dim=H, num_layers=2,
                           optimizer="adadelta", dropout=0.25, seed=11)
    st = m.get_optimizer_state()
    assert {k[:3] for k in st} == {"rg2", "ru2"}
    m.set_optimizer_state({k: v + 0.5 for k, v in st.items()})
    path = tmp_path / "clf.npz"
    io.save(path, m, index_to_word=[f"w{i}" for i in range(C)], extra={"labels": np.array(list("abcd"))})
    ck = io.load(path)
    assert type(ck.model) is SequenceClassifier
    assert ck.model.config() == m.config()
    for k, v in m.get_params().items():
        np.testing.assert_array_equal(ck.model.get_params()[k], v)
    for k, v in m.get_optimizer_state().items():
        np.testing.assert_array_equal(ck.model.get_optimizer_state()[k], v)
    assert list(ck.extra["labels"]) == list("abcd")
    assert np.load(path)["Wx_b1"].shape == (4 * H, 2 * H)  # plain np.load works


def test_model_from_config_rejects_other_classes():
    with pytest.raises(ValueError, match="not a bidirectional-stack model"):
        model_from_config({"class": "CharRNN"})


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(directions=3), "directions must be 1"),
        (dict(optimizer="adagrad"), "unknown optimizer 'adagrad'"),
        (dict(hidden_dim=0), "hidden_dim must be a positive integer"),
        (dict(init="xavier"), "init must be 'uniform' or 'orthogonal'"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClozeModel(C, **kwargs)


def test_bad_params_shape():
    p = _params("gru", 1, 2, C)
    p["Wh_b0"] = p["Wh_b0"][:, :2]
    with pytest.raises(ValueError, match="key 'Wh_b0' has shape"):
        ClozeModel(C, cell="gru", embed_dim=D, hidden_dim=H, params=p)


def test_classifier_arguments():
    with pytest.raises(ValueError, match="at least 2 classes"):
        SequenceClassifier(C, 1)
    with pytest.raises(ValueError, match="dropout must lie in"):
        SequenceClassifier(C, 2, dropout=1.0)
    m = SequenceClassifier(C, 2, embed_dim=D, hidden_dim=H, dropout=0.5)
    with pytest.raises(ValueError, match="needs the trainer's rng"):
        m.train_step(*_batch(), np.zeros(3, dtype=np.int32), 0.1)


@pytest.mark.parametrize(
    "backend,cell,layers",
    [
        ("NUMBA", "rnn", 1),
        pytest.param("JAX", "rnn", 1, marks=pytest.mark.slow),
        pytest.param("NUMBA", "lstm", 2, marks=pytest.mark.slow),
        pytest.param("JAX", "lstm", 2, marks=pytest.mark.slow),
    ],
)
def test_backends_agree_with_c(backend, cell, layers):
    """One graph, three backends: the same loss and gradients (float64)."""
    X, M = _batch(8)
    pos, y = np.array([2, 1, 0]), np.array([5, 6, 7])
    p = _params(cell, layers, 2, C)
    out = {}
    for mode in ("C", backend):
        m = ClozeModel(C, cell=cell, embed_dim=D, hidden_dim=H, num_layers=layers, directions=2,
                       optimizer="sgd", params=p, mode=mode)
        out[mode] = m.loss_and_gradients(X, M, pos, y)
    assert out[backend][0] == pytest.approx(out["C"][0], rel=1e-10)
    for k in out["C"][1]:
        np.testing.assert_allclose(out[backend][1][k], out["C"][1][k], rtol=1e-8, atol=1e-12)
