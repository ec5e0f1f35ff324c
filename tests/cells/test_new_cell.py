"""Adding a cell without touching the package (issue 11, item 2).

Contract: a cell defined in this file -- an Elman RNN with ReLU, the RNN's
parameter layout and initialisation and its own ``merged_step``, nothing
else (no backward, no engine kernel) -- is registered through a fixture (and
unregistered afterwards), and then gets, from the package as it is: the
faithful graph (loss and every gradient equal to the NumPy reference below
to <= 1e-10 relative, float64, on a sentence longer than the truncation, for
both truncation semantics), the fast graph (the recurrent engine's generic
path, a scan of ``merged_step``: same gradients, both truncations), training (sgd steps follow the reference
trajectory), the checkpoint round trip, layout inference, the gradient
check, and the command line's ``--cell`` choice (``train``, ``gradcheck``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
import pytest

from theano_rnn import io
from theano_rnn.cells import cell_names, get_cell, matvec, register_cell, unregister_cell
from theano_rnn.cells.rnn import RNNCell
from theano_rnn.cli import word as cli
from theano_rnn.graphs import engine
from theano_rnn.models.gradcheck import gradient_check
from theano_rnn.models.word import MODEL_CLASSES, RecurrentLM

# ------------------------------------------------------------------ the new cell


@dataclass(frozen=True)
class ReLURNNCell(RNNCell):
    """Elman RNN with ReLU: ``s_t = max(0, U[:, x_t] + W s_{t-1})``,
    ``o_t = softmax(V s_t)``; the RNN's parameters (U, V, W) and init.
    ``RNNCell``'s engine kernel is not inherited (other equations)."""

    def merged_step(self, pre_t, states, Wm, gate=None):
        s = pt.maximum(pre_t + matvec(Wm, states[0]), 0)
        return [s], s


NAME = "relu_rnn"

# ------------------------------------------------------------ NumPy reference


def np_forward(U, V, W, x):
    """States ``s`` (T+1, H) with ``s[-1] = 0`` (the tutorial's layout) and probabilities."""
    T, H = len(x), U.shape[0]
    s = np.zeros((T + 1, H))
    o = np.zeros((T, V.shape[0]))
    for t in range(T):
        s[t] = np.maximum(U[:, x[t]] + W.dot(s[t - 1]), 0)
        z = V.dot(s[t])
        e = np.exp(z - z.max())
        o[t] = e / e.sum()
    return s, o


def np_loss(U, V, W, x, y):
    _, o = np_forward(U, V, W, x)
    return -np.sum(np.log(o[np.arange(len(y)), y]))


def np_bptt(U, V, W, x, y, k, truncation):
    """Hand-written BPTT.  "per_output" (the NumPy tutorial's loop): each
    output back-propagates through its last k+1 steps.  "scan" (Theano's
    ``truncate_gradient=k``): only the last k steps of the sentence, and the
    outputs before them get no gradient."""
    T = len(x)
    s, o = np_forward(U, V, W, x)
    dU, dV, dW = np.zeros_like(U), np.zeros_like(V), np.zeros_like(W)
    delta_o = o.copy()
    delta_o[np.arange(T), y] -= 1.0
    outputs = range(T) if truncation == "per_output" else range(max(T - k, 0), T)
    for t in reversed(outputs):
        dV += np.outer(delta_o[t], s[t])
        delta = V.T.dot(delta_o[t]) * (s[t] > 0)
        lowest = max(0, t - k) if truncation == "per_output" else max(T - k, 0)
        for step in range(t, lowest - 1, -1):
            dW += np.outer(delta, s[step - 1])
            dU[:, x[step]] += delta
            delta = W.T.dot(delta) * (s[step - 1] > 0)
    return dU, dV, dW


# ------------------------------------------------------------------ fixtures

C, H, K = 9, 5, 3
X = np.array([0, 3, 1, 4, 8, 2, 5], dtype=np.int32)  # longer than the truncation
Y = np.array([3, 1, 4, 8, 2, 5, 6], dtype=np.int32)


@pytest.fixture
def relu_cell():
    cell = register_cell(ReLURNNCell(name=NAME))
    yield cell
    unregister_cell(NAME)
    assert NAME not in cell_names()


def make(truncation="scan", graph="faithful", seed=3, **kwargs):
    cls = MODEL_CLASSES[NAME]
    return cls(C, H, K, truncation=truncation, graph=graph, optimizer="sgd",
               rng=np.random.RandomState(seed), **kwargs)


def assert_close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


# --------------------------------------------------------------------- tests


def test_registry_serves_the_new_cell_and_forgets_it(relu_cell):
    assert get_cell(NAME) is relu_cell and cell_names()[-1] == NAME
    cls = MODEL_CLASSES[NAME]
    assert issubclass(cls, RecurrentLM) and cls.cell_name == NAME
    with pytest.raises(ValueError, match="already registered"):
        register_cell(ReLURNNCell(name=NAME))
    with pytest.raises(ValueError, match="cannot be unregistered"):
        unregister_cell("rnn")


def test_unregistered_name_is_unknown():
    with pytest.raises(ValueError, match="unknown cell"):
        get_cell(NAME)
    assert NAME not in MODEL_CLASSES


@pytest.mark.parametrize("truncation", ["scan", "per_output"])
def test_faithful_graph_matches_numpy_reference(relu_cell, truncation):
    model = make(truncation)
    U, V, W = (model.get_params()[n] for n in ("U", "V", "W"))
    # the RNN's init, drawn in the tutorial's order from the same generator
    rs = np.random.RandomState(3)
    np.testing.assert_array_equal(U, rs.uniform(-np.sqrt(1 / C), np.sqrt(1 / C), (H, C)))
    assert float(model.ce_error(X, Y)) == pytest.approx(np_loss(U, V, W, X, Y), rel=1e-12)
    assert_close(model.forward_propagation(X), np_forward(U, V, W, X)[1])
    for got, want in zip(model.bptt(X, Y), np_bptt(U, V, W, X, Y, K, truncation)):
        assert np.abs(want).max() > 0
        assert_close(got, want)


@pytest.mark.parametrize("truncation", ["scan", "per_output"])
def test_fast_graph_falls_back_to_the_generic_path(relu_cell, truncation):
    assert not engine.has_kernel(relu_cell)  # no kernel: run_layer scans merged_step
    model = make(truncation, graph="fast")
    U, V, W = (model.get_params()[n] for n in ("U", "V", "W"))
    assert float(model.ce_error(X, Y)) == pytest.approx(np_loss(U, V, W, X, Y), rel=1e-12)
    for got, want in zip(model.bptt(X, Y), np_bptt(U, V, W, X, Y, K, truncation)):
        assert np.abs(want).max() > 0
        assert_close(got, want)


def test_sgd_steps_follow_the_reference_trajectory(relu_cell):
    model = make("per_output")
    ref = [model.get_params()[n] for n in ("U", "V", "W")]
    lr = 0.05
    for _ in range(3):
        loss = model.sgd_step(X, Y, lr)
        assert loss == pytest.approx(np_loss(*ref, X, Y), rel=1e-12)
        ref = [p - lr * g for p, g in zip(ref, np_bptt(*ref, X, Y, K, "per_output"))]
    for name, want in zip(("U", "V", "W"), ref):
        assert_close(model.get_params()[name], want)


def test_checkpoint_round_trip_and_layout(relu_cell, tmp_path):
    model = make("per_output")
    path = io.save(tmp_path / "relu.npz", model, index_to_word=[f"w{i}" for i in range(C)])
    ck = io.load(path)
    assert isinstance(ck.model, MODEL_CLASSES[NAME]) and ck.model.cell is relu_cell
    assert ck.model.config() == model.config()
    for name, value in model.get_params().items():
        np.testing.assert_array_equal(ck.model.get_params()[name], value)
    # a file without metadata holds the RNN's layout: read as the tutorial's RNN
    # unless the new cell is asked for
    bare = tmp_path / "bare.npz"
    np.savez(bare, **model.get_params())
    assert io.load(bare).model.cell.name == "rnn"
    again = io.load(bare, cell=NAME)
    assert again.model.cell is relu_cell and again.model.bptt_truncate == -1


def test_gradient_check_passes(relu_cell):
    model = MODEL_CLASSES[NAME](6, 3, -1, rng=np.random.RandomState(1))
    report = gradient_check(model, [0, 5, 2, 4], [5, 2, 4, 1])
    assert report.passed
    assert len(report.records) == sum(p.size for p in model.get_params().values())


TEXT = """\
The cat sat on the mat. The dog sat on the log. A cat saw a dog.

The dog ran to the cat. The cat ran to the mat. A dog saw the log.

The bird sat on the dog. A bird saw a cat on the mat. The log was on the mat.
"""


def test_cli_cell_choice_comes_from_the_registry(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--cell", NAME])
    capsys.readouterr()
    cell = register_cell(ReLURNNCell(name=NAME))
    try:
        assert cli.build_parser().parse_args(["train", "--cell", NAME]).cell == NAME
    finally:
        unregister_cell(cell)


def test_cli_train_and_gradcheck_with_the_new_cell(relu_cell, tmp_path, capsys):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(TEXT)
    out = tmp_path / "relu.npz"
    status = cli.main([
        "train", "--cell", NAME, "--corpus", str(corpus), "--vocabulary-size", "30",
        "--hidden-dim", "4", "--max-sentences", "20", "--nepoch", "1", "--seed", "2",
        "--output", str(out), "--quiet",
    ], environ={})
    _, err = capsys.readouterr()
    assert status == 0, err
    ck = io.load(out)
    assert ck.model.cell is relu_cell and ck.model.hidden_dim == 4
    status = cli.main(["gradcheck", "--cell", NAME, "--vocabulary-size", "6",
                       "--hidden-dim", "3", "--bptt-truncate", "-1", "--x", "0,5,2",
                       "--y", "5,2,1"], environ={})
    text, err = capsys.readouterr()
    assert status == 0, err
    assert {line.split()[0] for line in text.splitlines()[1:-1]} == {"U", "V", "W"}
    assert "FAILED" not in text
