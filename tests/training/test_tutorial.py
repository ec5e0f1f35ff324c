"""Tests for theano_rnn.training.tutorial (the part-2 and part-4 loops) and gru_utils.train_with_sgd."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from legacy_ref import rnn_numpy
from theano_rnn import RNNTheano, gru_utils
from theano_rnn import io as ckpt_io
from theano_rnn.training.tutorial import EvalInfo, resolve_rng, train_part4, train_with_sgd
from theano_rnn.errors import NonFiniteLossError, TrainingError

C, H = 12, 5


# --------------------------------------------------------------------------- fakes
class ScriptedModel:
    """Records every call; ``calculate_loss`` returns scripted values in turn."""

    def __init__(self, eval_losses=(), step_losses=None, optimizer="sgd"):
        self.eval_losses = list(eval_losses)
        self.step_losses = step_losses or {}
        self.optimizer = optimizer
        self.calls = []  # ("eval", n_steps_so_far) / ("step", sentence id, args)
        self.n_steps = 0

    def calculate_loss(self, X, Y):
        self.calls.append(("eval", self.n_steps))
        return self.eval_losses.pop(0)

    def sgd_step(self, x, y, *args):
        sid = int(x[0])
        self.calls.append(("step", sid, args))
        loss = self.step_losses.get(self.n_steps, 1.0)
        self.n_steps += 1
        return loss


def _ids(n):
    """Sentence i is recognisable by its first token i."""
    X = [np.array([i, 1, 2], dtype=np.int32) for i in range(n)]
    Y = [np.array([1, 2, 3], dtype=np.int32) for _ in range(n)]
    return X, Y


# ------------------------------------------------------------------ part-2 logic
def test_evaluates_at_start_of_every_kth_epoch():
    X, Y = _ids(3)
    model = ScriptedModel(eval_losses=[3.0, 2.0, 1.0])
    losses = train_with_sgd(model, X, Y, learning_rate=0.1, nepoch=7, evaluate_loss_after=3)
    # epochs 0, 3, 6 are evaluated, before their steps: after 0, 9 and 18 examples.
    assert [c[1] for c in model.calls if c[0] == "eval"] == [0, 9, 18]
    assert losses == [(0, 3.0), (9, 2.0), (18, 1.0)]
    steps = [c[1] for c in model.calls if c[0] == "step"]
    assert steps == [0, 1, 2] * 7  # examples in order, every epoch
    # no evaluation after the final epoch (the notebook's behaviour)
    assert model.calls[-1][0] == "step"


def test_learning_rate_halves_only_when_the_loss_rises():
    X, Y = _ids(2)
    scripted = [5.0, 6.0, 4.0, 4.5, 4.5]
    model = ScriptedModel(eval_losses=list(scripted))
    infos = []
    lr0 = 0.08
    train_with_sgd(
        model, X, Y, learning_rate=lr0, nepoch=5, evaluate_loss_after=1,
        callback=lambda m, info: infos.append(info),
    )
    # derive the expected schedule from the rule "halve when loss rose vs previous"
    expected, lr = [], lr0
    for k, loss in enumerate(scripted):
        if k > 0 and loss > scripted[k - 1]:
            lr *= 0.5
        expected.append(lr)
    assert expected == [0.08, 0.04, 0.04, 0.02, 0.02]
    step_lrs = [c[2][0] for c in model.calls if c[0] == "step"]
    assert step_lrs == [lr for lr in expected for _ in range(2)]
    assert [i.learning_rate for i in infos] == expected
    assert [i.halved for i in infos] == [False, True, False, True, False]
    assert [i.epoch for i in infos] == [0, 1, 2, 3, 4]
    assert infos[2].losses == [(0, 5.0), (2, 6.0), (4, 4.0)]


def test_logs_instead_of_printing(caplog, capsys):
    X, Y = _ids(1)
    model = ScriptedModel(eval_losses=[2.0, 3.0])
    with caplog.at_level(logging.INFO, logger="theano_rnn.training.tutorial"):
        train_with_sgd(model, X, Y, learning_rate=1.0, nepoch=2, evaluate_loss_after=1)
    assert "Loss after num_examples_seen=1 epoch=1: 3.000000" in caplog.text
    assert "Setting learning rate to 0.500000" in caplog.text
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(learning_rate=float("nan")), "learning_rate"),
        (dict(nepoch=-1), "nepoch"),
        (dict(nepoch=1.5), "nepoch"),
        (dict(evaluate_loss_after=0), "evaluate_loss_after"),
        (dict(decay=0.9), "RMSprop"),
    ],
)
def test_part2_validation(kwargs, match):
    X, Y = _ids(2)
    with pytest.raises(ValueError, match=match):
        train_with_sgd(ScriptedModel([1.0]), X, Y, **kwargs)


def test_part2_validates_data():
    X, Y = _ids(2)
    with pytest.raises(ValueError, match="2 sentences but y_train has 1"):
        train_with_sgd(ScriptedModel([1.0]), X, Y[:1])
    with pytest.raises(ValueError, match="no training examples"):
        train_with_sgd(ScriptedModel([1.0]), [], [])


def test_part2_passes_decay_to_rmsprop_models_only_when_given():
    X, Y = _ids(2)
    model = ScriptedModel(eval_losses=[1.0], optimizer="rmsprop")
    train_with_sgd(model, X, Y, learning_rate=0.1, nepoch=1, decay=0.5)
    assert {c[2] for c in model.calls if c[0] == "step"} == {(0.1, 0.5)}
    model = ScriptedModel(eval_losses=[1.0], optimizer="rmsprop")
    train_with_sgd(model, X, Y, learning_rate=0.1, nepoch=1)
    assert {c[2] for c in model.calls if c[0] == "step"} == {(0.1,)}


def test_nan_step_loss_raises_one_line_before_the_next_callback():
    X, Y = _ids(3)
    # step number 5 = epoch 1, example 2
    model = ScriptedModel(eval_losses=[2.0, 1.0], step_losses={5: float("nan")})
    called = []
    with pytest.raises(NonFiniteLossError) as err:
        train_with_sgd(
            model, X, Y, nepoch=3, evaluate_loss_after=1,
            callback=lambda m, info: called.append(info.epoch),
        )
    e = err.value
    assert isinstance(e, TrainingError)
    assert (e.epoch, e.index, e.num_examples_seen) == (1, 2, 5)
    assert math.isnan(e.loss)
    msg = str(e)
    assert "\n" not in msg and "epoch 1" in msg and "example 2" in msg
    assert called == [0, 1]  # no callback after the failure


def test_non_finite_parameters_after_the_last_step_are_reported():
    class Diverging(ScriptedModel):
        def get_params(self):
            return {"U": np.ones(2), "V": np.array([1.0, np.inf])}

    X, Y = _ids(2)
    with pytest.raises(NonFiniteLossError, match="V became non-finite"):
        train_with_sgd(Diverging([1.0]), X, Y, nepoch=1)


def test_progress_called_after_each_step():
    X, Y = _ids(2)
    seen = []
    train_with_sgd(
        ScriptedModel([1.0, 1.0]), X, Y, nepoch=2, evaluate_loss_after=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_same_losses_as_the_legacy_numpy_loop():
    """The loop logic matches legacy_ref's transcription of the notebook."""
    rng = np.random.RandomState(5)
    X = [rng.randint(0, C, size=n).astype(np.int32) for n in (4, 6, 5)]
    Y = [rng.randint(0, C, size=len(x)).astype(np.int32) for x in X]
    a = rnn_numpy.RNNNumpy(C, H, bptt_truncate=4, rng=np.random.RandomState(1))
    b = rnn_numpy.RNNNumpy(C, H, bptt_truncate=4, rng=np.random.RandomState(1))
    ours = train_with_sgd(a, X, Y, learning_rate=0.5, nepoch=6, evaluate_loss_after=2)
    ref = rnn_numpy.train_with_sgd(b, X, Y, learning_rate=0.5, nepoch=6, evaluate_loss_after=2)
    assert ours == ref
    for pa, pb in zip(a.get_params().values(), b.get_params().values()):
        np.testing.assert_array_equal(pa, pb)


# ------------------------------------------------------------- real tiny model
@pytest.fixture(scope="module")
def rnn():
    model = RNNTheano(C, H, bptt_truncate=4, rng=np.random.RandomState(0))
    return model, model.get_params()


@pytest.fixture
def fresh_rnn(rnn):
    model, initial = rnn
    model.set_params(initial)
    yield model
    model.set_params(initial)


def _corpus():
    """A learnable toy language: 0 a b c ... 1 with a fixed successor rule."""
    rng = np.random.RandomState(3)
    X, Y = [], []
    for _ in range(6):
        start = rng.randint(2, C)
        words = [(start + k) % (C - 2) + 2 for k in range(rng.randint(3, 7))]
        s = [0] + words + [1]
        X.append(np.array(s[:-1], dtype=np.int32))
        Y.append(np.array(s[1:], dtype=np.int32))
    return X, Y


def test_real_rnn_loss_decreases_and_callback_saves(fresh_rnn, tmp_path):
    model = fresh_rnn
    X, Y = _corpus()
    saved = []

    def callback(m, info):
        assert m is model and isinstance(info, EvalInfo)
        path = tmp_path / f"rnn-{info.epoch}.npz"
        ckpt_io.save(path, m, metadata={"losses": info.losses, "lr": info.learning_rate})
        saved.append((path, m.get_params()))

    losses = train_with_sgd(model, X, Y, learning_rate=0.05, nepoch=4, evaluate_loss_after=1,
                            callback=callback)
    values = [loss for _, loss in losses]
    assert len(values) == 4 and all(b < a for a, b in zip(values, values[1:])), values
    assert values[0] == pytest.approx(math.log(C), abs=0.3)  # untrained: about ln C
    assert [n for n, _ in losses] == [0, 6, 12, 18]
    assert len(saved) == 4
    path, params = saved[-1]
    ckpt = ckpt_io.load(path)
    for name, value in params.items():
        np.testing.assert_array_equal(ckpt.model.get_params()[name], value)
    assert [tuple(p) for p in ckpt.metadata["losses"]] == losses
    assert ckpt.metadata["lr"] == 0.05


def _poison(model):
    p = model.get_params()
    p["V"] = np.full_like(p["V"], np.nan)
    model.set_params(p)


@pytest.mark.parametrize("where", ["step", "evaluation"])
def test_real_nan_raises_and_checkpoint_is_untouched(fresh_rnn, tmp_path, where):
    model = fresh_rnn
    X, Y = _corpus()
    path = tmp_path / "latest.npz"
    calls = []

    def callback(m, info):
        calls.append(info.epoch)
        ckpt_io.save(path, m, metadata={"epoch": info.epoch})

    # poison after step 2 of epoch 0 (the next step fails), or after the last
    # step of epoch 0 (the evaluation at the start of epoch 1 fails)
    poison_at = 2 if where == "step" else len(X)

    def progress(done, total):
        if done == poison_at:
            _poison(model)

    with pytest.raises(NonFiniteLossError) as err:
        train_with_sgd(model, X, Y, learning_rate=0.05, nepoch=3, evaluate_loss_after=1,
                       callback=callback, progress=progress)
    assert calls == [0]
    if where == "step":
        assert (err.value.epoch, err.value.index) == (0, 2)
    else:
        assert (err.value.epoch, err.value.index) == (1, None)
        assert "epoch 1" in str(err.value)
    before = path.read_bytes()
    ckpt = ckpt_io.load(path)
    assert ckpt.metadata == {"epoch": 0}
    assert all(np.all(np.isfinite(v)) for v in ckpt.model.get_params().values())
    # a further failing run leaves the checkpoint byte-for-byte unchanged
    with pytest.raises(NonFiniteLossError):
        train_with_sgd(model, X, Y, learning_rate=0.05, nepoch=1, callback=callback)
    assert path.read_bytes() == before
    assert calls == [0]


# ------------------------------------------------------------------- part-4 loop
def _order(model):
    return [c[1] for c in model.calls if c[0] == "step"]


def test_part4_reshuffles_every_epoch_with_the_explicit_rng():
    X, Y = _ids(6)
    a, b, c = (ScriptedModel(optimizer="rmsprop") for _ in range(3))
    assert train_part4(a, X, Y, nepoch=3, rng=11) is a
    train_part4(b, X, Y, nepoch=3, rng=np.random.RandomState(11))
    train_part4(c, X, Y, nepoch=3, rng=12)
    ref = np.random.RandomState(11)
    expected = [int(i) for _ in range(3) for i in ref.permutation(6)]
    assert _order(a) == expected == _order(b)
    assert _order(c) != _order(a)
    for epoch in range(3):  # each epoch visits every example once
        assert sorted(_order(a)[6 * epoch: 6 * epoch + 6]) == list(range(6))
    assert {call[2] for call in a.calls} == {(0.001, 0.9)}


def test_part4_never_touches_the_global_rng():
    X, Y = _ids(4)
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    train_part4(ScriptedModel(optimizer="rmsprop"), X, Y, nepoch=2, rng=None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_part4_callback_every():
    X, Y = _ids(5)
    seen = []
    gru_utils.train_with_sgd(
        ScriptedModel(optimizer="rmsprop"), X, Y, nepoch=3, callback_every=4,
        callback=lambda m, n: seen.append(n), rng=0,
    )
    assert seen == [4, 8, 12]  # 15 steps in all


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, -0.1, "x"])
def test_part4_decay_validation(decay):
    X, Y = _ids(2)
    with pytest.raises(ValueError, match="decay"):
        gru_utils.train_with_sgd(ScriptedModel(optimizer="rmsprop"), X, Y, decay=decay, rng=0)


def test_part4_nan_step_raises():
    X, Y = _ids(3)
    seen = []
    model = ScriptedModel(optimizer="rmsprop", step_losses={4: float("inf")})
    with pytest.raises(NonFiniteLossError, match="epoch 1"):
        gru_utils.train_with_sgd(model, X, Y, nepoch=2, callback_every=1,
                                 callback=lambda m, n: seen.append(n), rng=0)
    assert seen == [1, 2, 3, 4]


def test_resolve_rng():
    assert isinstance(resolve_rng(None), np.random.RandomState)
    assert resolve_rng(3).randint(1000) == np.random.RandomState(3).randint(1000)
    g = np.random.default_rng(0)
    assert resolve_rng(g) is g
    with pytest.raises(TypeError):
        resolve_rng(True)
    with pytest.raises(TypeError):
        resolve_rng("7")
