"""Tests for theano_rnn.models.gradcheck and the tutorials' gradient_check_theano wrappers."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RNNTheano, gru_utils, reference, utils
from theano_rnn.models.gradcheck import GradCheckReport, bptt_names, gradient_check, named_gradients


def _snapshot(model):
    return {n: v.copy() for n, v in model.get_params().items()}


def _assert_same_bits(model, snapshot):
    now = model.get_params()
    assert list(now) == list(snapshot)
    for name, value in snapshot.items():
        assert now[name].dtype == value.dtype
        assert now[name].tobytes() == value.tobytes(), name


# ------------------------------------------------------ the tutorial's setting
@pytest.fixture(scope="module")
def tutorial():
    """wildml.part2.gradient_check: vocab 100, hidden 10, x=[0,1,2,3], y=[1,2,3,4], h=0.001, 0.01."""
    g = reference.value("wildml.part2.gradient_check")
    model = RNNTheano(g["word_dim"], g["hidden_dim"], rng=np.random.RandomState(10))  # bptt 4
    before = _snapshot(model)
    report = gradient_check(model, list(g["x"]), list(g["y"]), h=g["h"],
                            error_threshold=g["error_threshold"])
    return model, before, report


def test_tutorial_configuration_passes_for_U_V_W(tutorial):
    model, _, report = tutorial
    assert isinstance(report, GradCheckReport)
    assert report.parameters == ("U", "V", "W")
    for name in ("U", "V", "W"):
        assert report.passed_for(name)
        assert len(report.for_parameter(name)) == model.params[name].get_value().size
    assert report.passed and not report.failures
    assert not report.rebuilt  # 4 steps with bptt_truncate=4: nothing truncated
    assert report.worst.relative_error < 0.01
    assert "passed" in report.summary()


def test_zero_gradients_count_as_zero_error(tutorial):
    _, _, report = tutorial
    # column 50 of U belongs to a word absent from x: both gradients are exactly 0
    col = [r for r in report.for_parameter("U") if r.index[1] == 50]
    assert len(col) == 10
    assert all(r.backprop == 0 and r.estimate == 0 and r.relative_error == 0 for r in col)


def test_records_hold_the_central_difference(tutorial):
    model, _, report = tutorial
    rec = max(report.for_parameter("W"), key=lambda r: abs(r.backprop))
    W = model.W.get_value()
    x, y = np.array([0, 1, 2, 3], np.int32), np.array([1, 2, 3, 4], np.int32)
    losses = []
    for sign in (1, -1):
        Wp = W.copy()
        Wp[rec.index] += sign * 0.001
        model.W.set_value(Wp)
        losses.append(float(model.ce_error(x, y)))
    model.W.set_value(W)
    assert rec.estimate == pytest.approx((losses[0] - losses[1]) / 0.002, rel=1e-12)
    bp = model.bptt(x, y)[2]
    assert rec.backprop == bp[rec.index]


def test_parameters_restored_bit_for_bit(tutorial):
    model, before, _ = tutorial
    _assert_same_bits(model, before)


def test_parameters_restored_when_the_check_is_interrupted(tutorial):
    model, before, _ = tutorial
    real = model.ce_error
    calls = {"n": 0}

    def flaky(x, y):
        calls["n"] += 1
        if calls["n"] == 7:
            raise RuntimeError("boom")
        return real(x, y)

    model.ce_error = flaky  # instance attribute shadows the compiled one
    try:
        with pytest.raises(RuntimeError, match="boom"):
            gradient_check(model, [0, 1, 2, 3], [1, 2, 3, 4])
    finally:
        del model.ce_error
    _assert_same_bits(model, before)


# -------------------------------------------------------- every cell, tiny dims
@pytest.fixture(scope="module", params=["rnn", "gru", "lstm"])
def tiny(request):
    cls = {"rnn": RNNTheano, "gru": GRUTheano, "lstm": LSTMTheano}[request.param]
    model = cls(9, 4, bptt_truncate=-1, rng=np.random.RandomState(2))
    x, y = [0, 3, 5, 2, 7], [3, 5, 2, 7, 1]
    before = _snapshot(model)
    report = gradient_check(model, x, y)
    return model, x, y, before, report


def test_every_cell_passes(tiny):
    model, _, _, before, report = tiny
    assert report.passed, report.summary()
    assert report.parameters == model.param_names
    assert len(report.records) == sum(v.size for v in before.values())
    _assert_same_bits(model, before)


def test_gradients_are_matched_by_name(tiny):
    model, x, y, _, report = tiny
    names = bptt_names(model)
    if model.cell.name == "rnn":
        assert names == model.param_names
    else:
        # GRUTheano.bptt keeps the tutorial's order, not param_names order
        assert names == ("E", "U", "W", "b", "V", "c") != model.param_names
    grads = dict(zip(names, model.bptt(np.int32(x), np.int32(y))))
    for name in model.param_names:
        got = np.array([r.backprop for r in report.for_parameter(name)])
        np.testing.assert_array_equal(got, np.asarray(grads[name]).ravel())


def test_a_wrong_name_mapping_is_detected(tiny, monkeypatch):
    """The check has teeth: gradients attributed to the wrong parameter fail or raise."""
    model, x, y, before, _ = tiny
    names = list(bptt_names(model))
    # RNN: U (H, C) and V (C, H) differ in shape; GRU/LSTM: U and W share theirs
    a, b = ("U", "V") if model.cell.name == "rnn" else ("U", "W")
    i, j = names.index(a), names.index(b)
    names[i], names[j] = names[j], names[i]
    monkeypatch.setattr(type(model), "bptt_names", property(lambda self: tuple(names)))
    try:
        if model.cell.name == "rnn":
            with pytest.raises(TypeError, match="bptt_names"):
                gradient_check(model, x, y)
        else:
            report = gradient_check(model, x, y, parameters=(a, b))
            assert not report.passed
            assert report.worst.parameter in (a, b) and report.worst.relative_error > 0.5
    finally:
        monkeypatch.undo()
    _assert_same_bits(model, before)


class ReversedBptt(RNNTheano):
    """A model whose ``bptt`` returns an order gradcheck cannot know."""

    bptt_names = None  # declares no order

    @property
    def bptt(self):
        grads = RNNTheano.bptt.__get__(self)
        return lambda x, y: grads(x, y)[::-1]


def test_unknown_bptt_order_falls_back_to_gradients_by_name():
    model = ReversedBptt(9, 4, bptt_truncate=-1, rng=np.random.RandomState(2))
    assert bptt_names(model) is None
    x, y = [0, 3, 5], [3, 5, 1]
    grads = named_gradients(model, x, y)
    assert [g.shape for g in (grads["U"], grads["V"], grads["W"])] == [(4, 9), (9, 4), (4, 4)]
    report = gradient_check(model, x, y)
    assert report.passed, report.summary()


def test_gated_model_without_the_tutorial_parameters():
    """A one-hot-input LSTM (no ``E``) is checked through gradients by name."""
    try:
        model = LSTMTheano(7, 3, bptt_truncate=-1, input_mode="onehot",
                           rng=np.random.RandomState(1))
    except TypeError:
        pytest.skip("this models.py has no input_mode")
    assert "E" not in model.param_names
    report = gradient_check(model, [0, 3, 5], [3, 5, 1])
    assert report.passed, report.summary()
    assert report.parameters == model.param_names


# ------------------------------------------------------------------ truncation
@pytest.fixture(scope="module")
def truncated():
    return RNNTheano(9, 4, bptt_truncate=2, rng=np.random.RandomState(6))


LONG_X, LONG_Y = [0, 3, 5, 2, 7, 4], [3, 5, 2, 7, 4, 1]


def test_truncated_model_is_refused_without_rebuild(truncated):
    with pytest.raises(ValueError, match="bptt_truncate=2"):
        gradient_check(truncated, LONG_X, LONG_Y, rebuild=False)


def test_truncated_model_is_checked_through_an_untruncated_copy(truncated, caplog):
    before = _snapshot(truncated)
    with caplog.at_level(logging.INFO, logger="theano_rnn.models.gradcheck"):
        report = gradient_check(truncated, LONG_X, LONG_Y, rebuild=True)
    assert "untruncated copy" in caplog.text
    assert report.rebuilt and report.passed, report.summary()
    assert truncated.bptt_truncate == 2
    _assert_same_bits(truncated, before)
    # the rebuild matters: the truncated model's own gradient differs from the full one
    own = dict(zip(truncated.param_names, truncated.bptt(np.int32(LONG_X), np.int32(LONG_Y))))
    full_V = np.array([r.backprop for r in report.for_parameter("V")]).reshape(own["V"].shape)
    assert not np.allclose(own["V"], full_V, rtol=1e-3)


def test_short_sentence_needs_no_rebuild(truncated, caplog):
    with caplog.at_level(logging.INFO, logger="theano_rnn.models.gradcheck"):
        report = gradient_check(truncated, [0, 3], [3, 1], rebuild=False)
    assert report.passed and not report.rebuilt
    assert "untruncated copy" not in caplog.text


# ------------------------------------------------------------- tutorial wrappers
def test_utils_gradient_check_theano_delegates_and_logs(truncated, caplog):
    with caplog.at_level(logging.INFO, logger="theano_rnn.utils"):
        report = utils.gradient_check_theano(truncated, LONG_X, LONG_Y)
    assert isinstance(report, GradCheckReport) and report.passed and report.rebuilt
    for name in ("U", "V", "W"):
        assert f"Gradient check for parameter {name} passed." in caplog.text


def test_gru_utils_gradient_check_theano(tiny):
    model, x, y, _, _ = tiny
    report = gru_utils.gradient_check_theano(model, x, y, h=0.001, error_threshold=0.01)
    assert report.passed and report.h == 0.001 and report.error_threshold == 0.01


def test_bad_inputs():
    model = RNNTheano(5, 2, rng=np.random.RandomState(0))
    with pytest.raises(ValueError, match="equal length"):
        gradient_check(model, [0, 1], [1])
    with pytest.raises(ValueError, match="unknown parameters"):
        gradient_check(model, [0, 1], [1, 2], parameters=("E",))
