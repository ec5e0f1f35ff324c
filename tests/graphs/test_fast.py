"""The fast graph (``graph="fast"``) and the batch methods against the faithful graph.

Every comparison is float64 and asserts ``max|a - b| <= 1e-10 * max(1, max|b|)``
per array.  Sentences repeat tokens (so sparse column updates must
accumulate duplicates) and are longer than the truncation ``k = 2`` (so
truncation truncates); one batch sentence is shorter than ``k``.

Compilation dominates the cost, so the default run covers every cell and
every truncation with both optimizers (four cases; see ``DEFAULT_CASES``) and
the other input mode through the padded-sentence and forward tests; the full
product (two-layer GRUs and LSTMs included) and the JAX backend for the gated
cells are ``@pytest.mark.slow``.
"""

import numpy as np
import pytensor
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RecurrentLM, RNNTheano
from theano_rnn.cells import get_cell
from theano_rnn.graphs.fast import (
    FastGraph,
    bucket_length,
    pad_batch,
    sentence_batches,
    unique_columns,
)
from theano_rnn.models.word import model_from_config

C, H, K, DECAY = 13, 5, 2, 0.9
LR = 0.5  # SGD; RMSprop steps are ~lr per entry, so it gets a smaller one
LR_RMS = 0.05
X0 = np.array([1, 3, 1, 5, 3, 3, 7], dtype=np.int32)  # repeated tokens
Y0 = np.array([3, 1, 5, 3, 3, 7, 2], dtype=np.int32)
BATCH_X = [np.array([4, 4, 9, 1, 4], np.int32), X0, np.array([12, 12], np.int32)]
BATCH_Y = [np.array([9, 1, 4, 4, 0], np.int32), Y0, np.array([12, 0], np.int32)]


def assert_close(a, b, what=""):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    assert err <= 1e-10 * scale, f"{what}: max abs difference {err:.3g} (scale {scale:.3g})"


# (cell, truncation, num_layers, input_mode): every cell x truncation once,
# layer counts and input modes spread over the cases
CASES = [
    ("rnn", "none", 1, None),
    ("rnn", "scan", 2, None),
    ("rnn", "per_output", 2, None),
    ("gru", "none", 1, "embedding"),
    ("gru", "scan", 1, "onehot"),
    ("gru", "per_output", 1, "embedding"),
    ("lstm", "none", 1, "onehot"),
    ("lstm", "scan", 1, "embedding"),
    ("lstm", "per_output", 1, "onehot"),
]
FULL = [
    (cell, trunc, layers, mode)
    for cell, modes in (
        ("rnn", [None]), ("gru", ["embedding", "onehot"]), ("lstm", ["embedding", "onehot"])
    )
    for trunc in ("none", "scan", "per_output")
    for layers in (1, 2)
    for mode in modes
]


def case_id(case):
    cell, trunc, layers, mode = case
    return f"{cell}-{trunc}-L{layers}" + (f"-{mode}" if mode else "")


def kwargs_of(case, optimizer="sgd"):
    cell, trunc, layers, mode = case
    return dict(
        word_dim=C, hidden_dim=H, bptt_truncate=-1 if trunc == "none" else K, cell=cell,
        num_layers=layers, input_mode=mode, optimizer=optimizer,
        truncation="scan" if trunc == "none" else trunc,
    )


def weights_of(case):
    """Random weights, biases included (the tutorial's zero biases hide bugs)."""
    shapes = get_cell(case[0]).param_shapes(C, H, case[2], case[3])
    rng = np.random.RandomState(sum(map(ord, case_id(case))))
    return {n: rng.uniform(-0.8, 0.8, s) for n, s in shapes.items()}


_FAITHFUL = {}


def faithful(case):
    """A faithful model and its compiled ``(x, y) -> [loss, *grads in bptt_names order]``
    (one compile per case, shared by the tests)."""
    key = case_id(case)
    if key not in _FAITHFUL:
        model = RecurrentLM(**kwargs_of(case), params=weights_of(case))
        g = model._graph()
        d = dict(zip(model.param_names, g["grads"]))
        fn = model._function([g["x"], g["y"]], [g["o_error"]] + [d[n] for n in model.bptt_names])
        _FAITHFUL[key] = (model, fn)
    return _FAITHFUL[key]


def reference_loss_grads(case, params, X, Y):
    """Summed faithful loss and gradients of the sentences at ``params``."""
    model, fn = faithful(case)
    model.set_params(params)
    loss, grads = 0.0, None
    for x, y in zip(X, Y):
        out = fn(x, y)
        loss += float(out[0])
        grads = out[1:] if grads is None else [a + b for a, b in zip(grads, out[1:])]
    return loss, dict(zip(model.bptt_names, grads))


def reference_step(params, cache, grads, optimizer):
    """The faithful update formulas (optim.sgd / optim.rmsprop_tutorial) in NumPy."""
    new_p, new_c = {}, {}
    for n, p in params.items():
        g = grads[n]
        if optimizer == "sgd":
            new_p[n] = p - LR * g
        else:
            m = DECAY * cache["m" + n] + (1 - DECAY) * g**2
            new_p[n] = p - LR_RMS * g / np.sqrt(m + 1e-6)
            new_c["m" + n] = m
    return new_p, new_c


def check_trajectory(case, fast, X, Y, step, steps=3):
    """``steps`` calls of ``step()`` on ``fast`` against the reference formulas
    with the faithful graph's gradients: losses, parameters, caches."""
    params = fast.get_params()
    cache = fast.get_optimizer_state()
    for i in range(steps):
        loss, grads = reference_loss_grads(case, params, X, Y)
        got = step()
        assert_close(got, loss, f"step {i} loss")
        params, cache = reference_step(params, cache, grads, fast.optimizer)
        for n, v in fast.get_params().items():
            assert_close(v, params[n], f"step {i} {n}")
        for n, v in fast.get_optimizer_state().items():
            assert_close(v, cache[n], f"step {i} {n}")


def fast_equals_faithful(case):
    """Loss, gradients and trajectories of one sentence and of a padded batch
    (per-sentence methods and batch methods share the compiled functions)."""
    weights = weights_of(case)
    fast = RecurrentLM(**kwargs_of(case), params=weights, graph="fast")
    loss, grads = reference_loss_grads(case, weights, [X0], [Y0])
    assert_close(fast.ce_error(X0, Y0), loss, "ce_error")
    for name, got in zip(fast.bptt_names, fast.bptt(X0, Y0)):
        assert_close(got, grads[name], f"bptt {name}")
    x, y, mask = pad_batch(BATCH_X, BATCH_Y)
    assert x.shape == (7, 3)
    loss, grads = reference_loss_grads(case, weights, BATCH_X, BATCH_Y)
    assert_close(fast.batch_loss(x, y, mask), loss, "batch_loss")
    for name, got in zip(fast.bptt_names, fast.batch_grads(x, y, mask)):
        assert_close(got, grads[name], f"batch_grads {name}")
    check_trajectory(case, fast, [X0], [Y0], lambda: fast.sgd_step(X0, Y0, LR))
    check_trajectory(case, fast, BATCH_X, BATCH_Y, lambda: fast.batch_step(x, y, mask, LR), 2)
    rms = RecurrentLM(**kwargs_of(case, "rmsprop"), params=weights, graph="fast")
    start = {k: np.full(v.shape, 0.01) for k, v in rms.get_optimizer_state().items()}
    rms.set_optimizer_state(start)  # nonzero caches
    check_trajectory(case, rms, [X0], [Y0], lambda: rms.sgd_step(X0, Y0, LR_RMS, DECAY))
    check_trajectory(case, rms, BATCH_X, BATCH_Y,
                     lambda: rms.batch_step(x, y, mask, LR_RMS, DECAY), 2)


# the default run: every cell and every truncation once, a two-layer stack,
# the one-hot input (both optimizers each); the embedding input against the
# faithful graph is in the default run through
# test_padded_sentence_path_equals_faithful (gru-per_output-L1-embedding) and
# test_fast_forward_predict_and_total_loss_equal_faithful (lstm-scan-L1-embedding),
# the two-layer scan truncation through test_extra_padding_changes_nothing and
# the JAX test (rnn-scan-L2); the other cases run with the full product (slow)
DEFAULT_CASES = [
    c for c in CASES
    if case_id(c) in ("rnn-none-L1", "rnn-per_output-L2", "gru-scan-L1-onehot", "lstm-per_output-L1-onehot")
]


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_fast_equals_faithful(case):
    fast_equals_faithful(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in FULL if c not in DEFAULT_CASES], ids=case_id)
def test_fast_equals_faithful_full(case):
    fast_equals_faithful(case)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_batch_step_scale_multiplies_the_gradient(optimizer):
    """``scale = 1/B`` steps along the mean gradient; the summed loss is returned."""
    case = CASES[0]
    weights = weights_of(case)
    model = RecurrentLM(**kwargs_of(case, optimizer), params=weights, graph="fast")
    x, y, mask = pad_batch(BATCH_X, BATCH_Y)
    loss, grads = reference_loss_grads(case, weights, BATCH_X, BATCH_Y)
    lr = LR if optimizer == "sgd" else LR_RMS
    assert_close(model.batch_step(x, y, mask, lr, DECAY, scale=1 / 3), loss, "loss")
    zeros = {k: np.zeros_like(v) for k, v in model.get_optimizer_state().items()}
    params, cache = reference_step(weights, zeros, {n: g / 3 for n, g in grads.items()}, optimizer)
    for n, v in model.get_params().items():
        assert_close(v, params[n], n)
    for n, v in model.get_optimizer_state().items():
        assert_close(v, cache[n], n)
    with pytest.raises(ValueError, match="scale"):
        model.batch_step(x, y, mask, lr, DECAY, scale=0.0)


def test_extra_padding_changes_nothing():
    """A longer block (more leading padding) gives the same loss and gradients."""
    case = CASES[1]
    model = RecurrentLM(**kwargs_of(case), params=weights_of(case), graph="fast")
    loss, grads = reference_loss_grads(case, weights_of(case), BATCH_X, BATCH_Y)
    x, y, mask = pad_batch(BATCH_X, BATCH_Y, length=11)
    assert_close(model.batch_loss(x, y, mask), loss, "batch_loss")
    for name, got in zip(model.bptt_names, model.batch_grads(x, y, mask)):
        assert_close(got, grads[name], f"batch_grads {name}")


def test_padded_sentence_path_equals_faithful():
    """The JAX path forced on the C backend: sentences left-padded to a
    bucket, masked graph with B = 1 (static shapes and the padded RMSprop
    column list: test_jax_backend_equals_faithful).  The faithful graph
    takes this path too."""
    case = CASES[5]
    weights = weights_of(case)
    model = RecurrentLM(**kwargs_of(case, "rmsprop"), params=weights, jax_bucket=4)
    model._pad_to_bucket = True
    ref, _ = faithful(case)
    ref.set_params(weights)
    probs = ref.forward_propagation(X0)
    got = model.forward_propagation(X0)
    assert got.shape == (len(X0), C)
    assert_close(got, probs, "forward_propagation")
    np.testing.assert_array_equal(model.predict_class(X0), probs.argmax(axis=1))
    assert_close(model.next_word_probs(X0[:3]), ref.next_word_probs(X0[:3]), "next_word_probs")
    loss, grads = reference_loss_grads(case, weights, [X0], [Y0])
    assert_close(model.ce_error(X0, Y0), loss, "ce_error")
    for name, got in zip(model.bptt_names, model.bptt(X0, Y0)):
        assert_close(got, grads[name], f"bptt {name}")
    check_trajectory(case, model, [X0], [Y0], lambda: model.sgd_step(X0, Y0, LR_RMS, DECAY), 2)
    assert model.calculate_total_loss([X0], [Y0]) == pytest.approx(
        reference_loss_grads(case, model.get_params(), [X0], [Y0])[0], rel=1e-10)


def test_fast_forward_predict_and_total_loss_equal_faithful():
    case = CASES[7]
    weights = weights_of(case)
    ref, _ = faithful(case)
    ref.set_params(weights)
    fast = RecurrentLM(**kwargs_of(case), params=weights, graph="fast")
    assert_close(fast.forward_propagation(X0), ref.forward_propagation(X0), "forward_propagation")
    classes = ref.forward_propagation(X0).argmax(axis=1)
    np.testing.assert_array_equal(fast.predict_class(X0), classes)
    assert_close(fast.next_word_probs([2, 3]), ref.next_word_probs([2, 3]), "next_word_probs")
    X = BATCH_X + [X0[:4], np.zeros(0, np.int32)]
    Y = BATCH_Y + [Y0[:4], np.zeros(0, np.int32)]
    total = reference_loss_grads(case, weights, X[:-1], Y[:-1])[0]
    assert_close(fast.calculate_total_loss(X, Y), total, "calculate_total_loss")
    n = sum(len(y) for y in Y)
    assert fast.calculate_loss(X, Y) == pytest.approx(total / n, rel=1e-10)
    with pytest.raises(ValueError, match="non-empty"):
        fast.ce_error([], [])


def test_tutorial_classes_take_the_graph_option():
    rnn = RNNTheano(C, H, graph="fast", rng=np.random.RandomState(0))
    assert rnn.graph == "fast" and rnn.config()["graph"] == "fast"
    assert "graph='fast'" in repr(rnn)
    gru = GRUTheano(C, H, rng=np.random.RandomState(0))
    assert gru.graph == "faithful" and "graph" not in repr(gru)
    assert gru.config()["graph"] == "faithful"
    assert LSTMTheano(C, H, graph="fast", rng=np.random.RandomState(0)).graph == "fast"
    with pytest.raises(ValueError, match="graph must be one of"):
        RNNTheano(C, H, graph="quick")
    with pytest.raises(ValueError, match="positive integer"):
        RNNTheano(C, H, jax_bucket=0)
    config = rnn.config()
    assert model_from_config(config).graph == "fast"
    assert model_from_config(config, graph="faithful").graph == "faithful"
    del config["graph"]  # checkpoints written before the option
    assert model_from_config(config).graph == "faithful"


def test_rnn_sgd_step_fast_equals_faithful_tutorial_step():
    """The tutorial's own compiled ``sgd_step`` (not the NumPy formula) as reference."""
    ref = RNNTheano(C, H, 3, rng=np.random.RandomState(5))
    fast = RNNTheano(C, H, 3, params=ref.get_params(), graph="fast")
    for _ in range(3):
        assert_close(fast.sgd_step(X0, Y0, LR), ref.sgd_step(X0, Y0, LR), "loss")
    for n, v in ref.get_params().items():
        assert_close(fast.get_params()[n], v, n)
    assert fast.get_params()["U"].flags["C_CONTIGUOUS"]  # updated in place, layout kept


def test_gru_rmsprop_fast_equals_faithful_tutorial_step():
    ref = GRUTheano(C, H, num_layers=1, rng=np.random.RandomState(6))
    ref.set_params({n: v + 0.1 for n, v in ref.get_params().items()})
    fast = GRUTheano(C, H, num_layers=1, params=ref.get_params(), graph="fast")
    for _ in range(3):
        assert_close(fast.sgd_step(X0, Y0, LR_RMS), ref.sgd_step(X0, Y0, LR_RMS), "loss")
    for n, v in ref.get_params().items():
        assert_close(fast.get_params()[n], v, n)
    for n, v in ref.get_optimizer_state().items():
        assert_close(fast.get_optimizer_state()[n], v, n)
    with pytest.raises(ValueError, match="decay"):
        fast.sgd_step(X0, Y0, LR, 1.0)


def test_pad_batch_layout():
    x, y, mask = pad_batch([[1, 2, 3], [4]], [[2, 3, 5], [6]], dtype="float64")
    np.testing.assert_array_equal(x, [[1, 0], [2, 0], [3, 4]])
    np.testing.assert_array_equal(y, [[2, 0], [3, 0], [5, 6]])
    np.testing.assert_array_equal(mask, [[1, 0], [1, 0], [1, 1]])
    assert x.dtype == np.int32 and y.dtype == np.int32 and mask.dtype == np.float64
    assert pad_batch([[1]], [[2]])[2].dtype == pytensor.config.floatX
    assert pad_batch([[1, 2, 3]], [[1, 2, 3]], length=5)[0].shape == (5, 1)
    assert pad_batch([[1] * 17], [[1] * 17], multiple=16)[0].shape == (32, 1)
    assert pad_batch([[1]], [[1]], length=5, multiple=4)[0].shape == (8, 1)
    assert bucket_length(0, 16) == 16 and bucket_length(16, 16) == 16


@pytest.mark.parametrize(
    "X,Y,kwargs,match",
    [
        ([[1, 2]], [[1]], {}, "sentence 0 has 2 inputs but 1 targets"),
        ([[1], [1, 2]], [[1], [3]], {}, "sentence 1 has 2 inputs"),
        ([[1], []], [[1], []], {}, "sentence 1 is empty"),
        ([], [], {}, "empty batch"),
        ([[1]], [[1], [2]], {}, "1 input sequences but 2 target"),
        ([[1, 2, 3]], [[1, 2, 3]], {"length": 2}, "longer than length=2"),
        ([[1.5]], [[1]], {}, "non-integer"),
        ([[-1]], [[1]], {}, "negative"),
        ([[1]], [[1]], {"multiple": 0}, "positive integer"),
    ],
)
def test_pad_batch_errors(X, Y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_batch(X, Y, **kwargs)


def test_batch_methods_check_their_inputs():
    model = RNNTheano(C, H, graph="fast", rng=np.random.RandomState(0))
    x, y, mask = pad_batch(BATCH_X, BATCH_Y)
    with pytest.raises(ValueError, match="one shape"):
        model.batch_loss(x, y[:, :2], mask)
    with pytest.raises(ValueError, match="outside"):
        model.batch_loss(x + C, y, mask)
    with pytest.raises(ValueError, match="integer"):
        model.batch_loss(x.astype(float), y, mask)


def test_sentence_batches_sort_and_bound_the_padded_size():
    lengths = [5, 0, 2, 9, 2, 3]
    batches = sentence_batches(lengths, word_dim=10, elements=60)
    assert sorted(i for b in batches for i in b) == [0, 2, 3, 4, 5]  # the empty one left out
    assert [lengths[i] for b in batches for i in b] == [2, 2, 3, 5, 9]
    for b in batches:
        assert len(b) == 1 or max(lengths[i] for i in b) * len(b) * 10 <= 60


def test_unique_columns_pads_with_untouched_columns():
    uniq, inv = unique_columns(np.array([[3, 3], [1, 3]]), word_dim=6, pad_to=4)
    assert list(uniq[:2]) == [1, 3] and len(set(uniq)) == 4
    np.testing.assert_array_equal(uniq[inv], [3, 3, 1, 3])
    assert len(unique_columns(np.array([0, 1]), word_dim=3, pad_to=10)[0]) == 3


def test_pure_graph_cross_entropy_equals_numpy_op():
    """The graph formulation JAX/Numba use, checked on the C backend."""
    case = CASES[6]
    weights = weights_of(case)
    model = RecurrentLM(**kwargs_of(case), params=weights, graph="fast")
    model._fast.numpy_xent = False
    loss, grads = reference_loss_grads(case, weights, [X0], [Y0])
    assert_close(model.ce_error(X0, Y0), loss, "ce_error")
    for name, got in zip(model.bptt_names, model.bptt(X0, Y0)):
        assert_close(got, grads[name], f"bptt {name}")
    assert isinstance(model._fast, FastGraph)


def jax_equals_faithful(case, optimizer):
    pytest.importorskip("jax")
    weights = weights_of(case)
    model = RecurrentLM(**kwargs_of(case, optimizer), params=weights, graph="fast", mode="JAX",
                        jax_bucket=8)
    assert model.mode == "JAX"
    loss, grads = reference_loss_grads(case, weights, [X0], [Y0])
    assert_close(model.ce_error(X0, Y0), loss, "ce_error")
    for name, got in zip(model.bptt_names, model.bptt(X0, Y0)):
        assert_close(got, grads[name], f"bptt {name}")
    step = (lambda: model.sgd_step(X0, Y0, LR)) if optimizer == "sgd" else (
        lambda: model.sgd_step(X0, Y0, LR_RMS, DECAY))
    check_trajectory(case, model, [X0], [Y0], step, steps=2)
    x, y, mask = pad_batch(BATCH_X, BATCH_Y, multiple=8)
    lr = LR if optimizer == "sgd" else LR_RMS
    check_trajectory(case, model, BATCH_X, BATCH_Y,
                     lambda: model.batch_step(x, y, mask, lr, DECAY), steps=1)


def test_jax_backend_equals_faithful():
    """PyTensor's JAX backend: static shapes from the length buckets."""
    jax_equals_faithful(CASES[1], "rmsprop")


@pytest.mark.slow
@pytest.mark.parametrize("case", [CASES[3], CASES[5], CASES[6]], ids=case_id)
def test_jax_backend_equals_faithful_gated(case):
    jax_equals_faithful(case, "rmsprop" if case[0] == "gru" else "sgd")
