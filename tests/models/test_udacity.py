"""UdacityLSTM (theano_rnn/models/udacity.py) against the NumPy reference.

Contract (float64, tiny sizes): same weights give the same loss and every one
of the 14 gradients to <= 1e-10 from a non-zero carried state; a few SGD steps
with the global-norm clip active, through a staircase decay,
give the same parameters, carried ``saved_output``/``saved_state`` and
learning rates to <= 1e-10; the batch-1 sample prediction and the notebook's
validation perplexity match a NumPy forward; the listing's init is the
truncated normal of mean -0.1, stddev 0.1 (the alternatives by name); the
model round-trips through io.save / io.load.
"""

import numpy as np
import pytest

from legacy_ref import udacity_lstm as ref
from theano_rnn import io
from theano_rnn.data.text8 import BatchGenerator
from theano_rnn.models.udacity import PARAM_NAMES, UdacityLSTM, logprob

V, N, B, T = 6, 5, 3, 3
TOL = 1e-10


def onehot_data(seed, T=T, B=B):
    rs = np.random.RandomState(seed)
    data = np.zeros((T + 1, B, V))
    idx = rs.randint(0, V, size=(T + 1, B))
    for t in range(T + 1):
        data[t, np.arange(B), idx[t]] = 1.0
    return data


def reference_params(seed=0):
    p = ref.init_params(V, N, np.random.RandomState(seed))
    rs = np.random.RandomState(seed + 50)
    for k in ("ib", "fb", "cb", "ob", "b"):
        p[k] = rs.uniform(-0.5, 0.5, p[k].shape)
    return p


@pytest.fixture(scope="module")
def model():
    return UdacityLSTM(V, N, B, T, decay_steps=2, clip_norm=0.1, params=reference_params())


def reset(model):
    model.set_params(reference_params())
    model.reset_saved_state()
    model.global_step.set_value(np.asarray(0, dtype="int64"))


def test_parameter_names_and_shapes(model):
    assert model.param_names == PARAM_NAMES == (
        "ix", "im", "ib", "fx", "fm", "fb", "cx", "cm", "cb", "ox", "om", "ob", "w", "b")
    assert model.ix.get_value().shape == (V, N) and model.im.get_value().shape == (N, N)
    assert model.ib.get_value().shape == (1, N) and model.w.get_value().shape == (N, V)
    assert model.b.get_value().shape == (V,)


def test_loss_and_every_gradient_match_reference(model):
    reset(model)
    p = reference_params()
    rs = np.random.RandomState(7)
    o0, s0 = rs.uniform(-0.5, 0.5, (B, N)), rs.uniform(-1, 1, (B, N))
    data = onehot_data(1)
    loss, o, s, grads = model.loss_and_grads(data, o0, s0)
    rloss, ro, rs_, rgrads = ref.loss_and_grads(p, data, o0, s0)
    assert abs(loss - rloss) <= TOL
    assert np.max(np.abs(o - ro)) <= TOL and np.max(np.abs(s - rs_)) <= TOL
    for name in PARAM_NAMES:
        assert np.max(np.abs(grads[name] - rgrads[name])) <= TOL, name
        assert np.abs(rgrads[name]).max() > 0, name


def test_sgd_steps_with_clip_and_carry_match_reference(model):
    reset(model)
    numpy_model = ref.UdacityLSTMNumpy(reference_params(), B, decay_steps=2, clip_norm=0.1)
    clipped = 0
    for k in range(4):
        data = onehot_data(10 + k)
        _, _, _, g = ref.loss_and_grads(numpy_model.p, data, numpy_model.saved_output,
                                        numpy_model.saved_state)
        clipped += ref.clip_by_global_norm(g, 0.1)[1] > 0.1
        loss, predictions, lr = model.train_step(list(data))
        rloss, rlr = numpy_model.train_step(data)
        assert abs(loss - rloss) <= TOL and lr == pytest.approx(rlr, abs=0)
        assert predictions.shape == (T * B, V)
        np.testing.assert_allclose(predictions.sum(axis=1), 1.0, atol=1e-12)
    assert clipped >= 2  # the clip was active
    assert model.global_step.get_value() == 4 and numpy_model.global_step == 4
    assert model.learning_rate_at(3) == pytest.approx(1.0)
    got = model.get_params()
    for name in PARAM_NAMES:
        assert np.max(np.abs(got[name] - numpy_model.p[name])) <= TOL, name
    assert np.max(np.abs(model.saved_output.get_value() - numpy_model.saved_output)) <= TOL
    assert np.max(np.abs(model.saved_state.get_value() - numpy_model.saved_state)) <= TOL
    assert np.abs(model.saved_state.get_value()).max() > 0


def numpy_sample_step(p, x, o, s):
    ig = ref.sigmoid(x @ p["ix"] + o @ p["im"] + p["ib"])
    fg = ref.sigmoid(x @ p["fx"] + o @ p["fm"] + p["fb"])
    s = fg * s + ig * np.tanh(x @ p["cx"] + o @ p["cm"] + p["cb"])
    o = ref.sigmoid(x @ p["ox"] + o @ p["om"] + p["ob"]) * np.tanh(s)
    z = o @ p["w"] + p["b"]
    e = np.exp(z - z.max())
    return e / e.sum(), o, s


def test_sample_prediction_and_validation_perplexity(model):
    reset(model)
    p = reference_params()
    text = "abcde abca"
    valid_size = len(text)
    alphabet = " abcde"
    # a 6-symbol vocabulary: BatchGenerator's one-hot is 27 wide, so map by hand here
    ids = [alphabet.index(c) for c in text]
    total, o, s = 0.0, np.zeros((1, N)), np.zeros((1, N))
    for k in range(valid_size):
        x = np.eye(V)[[ids[k]]]
        y = np.eye(V)[[ids[(k + 1) % valid_size]]]
        probs, o, s = numpy_sample_step(p, x, o, s)
        total += logprob(probs, y)
    expected = np.exp(total / valid_size)

    class Gen:  # the notebook's BatchGenerator(valid_text, 1, 1), over this vocabulary
        def __init__(self):
            self.k = 0

        def next(self):
            pair = [np.eye(V)[[ids[self.k % valid_size]]], np.eye(V)[[ids[(self.k + 1) % valid_size]]]]
            self.k += 1
            return pair

    got = model.validation_perplexity(Gen(), valid_size)
    assert abs(got - expected) <= 1e-9
    assert model.validation_perplexity(Gen(), valid_size) == got  # the state is reset first
    text_out = model.sample_text(np.random.RandomState(0), length=12)
    assert len(text_out) == 12


def test_logprob_clips_like_the_notebook():
    labels = np.array([[0.0, 1.0]])
    assert logprob(np.array([[1.0, 0.0]]), labels) == pytest.approx(-np.log(1e-10))


def test_inits_by_name():
    m = UdacityLSTM(27, 64, 2, 1, rng=0)
    w = np.concatenate([m.get_params()[k].ravel() for k in ("ix", "im", "fx", "fm", "w")])
    assert w.min() >= -0.3 and w.max() <= 0.1 and abs(w.mean() + 0.1) < 0.01
    u = UdacityLSTM(27, 64, 2, 1, rng=0, init="uniform").get_params()["im"]
    assert u.min() >= -0.1 and u.max() <= 0.1 and abs(u.mean()) < 0.02
    c = UdacityLSTM(27, 64, 2, 1, rng=0, init="centred").get_params()["ix"]
    assert c.min() >= -0.2 and c.max() <= 0.2 and abs(c.mean()) < 0.02
    same = UdacityLSTM(27, 64, 2, 1, rng=0).get_params()
    assert all(np.array_equal(same[k], m.get_params()[k]) for k in PARAM_NAMES)
    with pytest.raises(ValueError, match="unknown init"):
        UdacityLSTM(init="normal")


def test_checkpoint_round_trip(model, tmp_path):
    reset(model)
    model.train_step(onehot_data(5))
    path = tmp_path / "udacity.npz"
    io.save(path, model, extra=model.training_state())
    ck = io.load(path)
    assert type(ck.model) is UdacityLSTM and ck.model.config() == model.config()
    ck.model.set_training_state(ck.extra)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(ck.model.get_params()[name], model.get_params()[name])
    assert ck.model.global_step.get_value() == 1
    np.testing.assert_array_equal(ck.model.saved_state.get_value(), model.saved_state.get_value())


def test_batch_shape_is_checked(model):
    with pytest.raises(ValueError, match="expected"):
        model.train_step(BatchGenerator("abc def", B, T + 1).next())


@pytest.mark.slow
def test_reproduction_curve_shape(tmp_path):
    """scripts/reproduce_udacity.py for 1001 steps: the notebook's curve shape
    (published on text8: theano_rnn.reference's udacity.valid_perplexity at 0, 100, 1000)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tests.shared_data import shared_data_dir

    corpus = shared_data_dir() / "tinyshakespeare" / "input.txt"
    if not corpus.exists():
        pytest.skip(f"{corpus} not found")
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "udacity.json"
    proc = subprocess.run(
        [sys.executable, str(root / "scripts" / "reproduce_udacity.py"), "--steps", "1001",
         "--seed", "1", "--json", str(out)], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    history = {h["step"]: h for h in json.loads(out.read_text())["history"]}
    assert 15 < history[0]["valid_perplexity"] < 30  # ~27 symbols, near uniform
    assert history[0]["mean_loss"] == pytest.approx(np.log(27), abs=0.15)
    assert history[100]["valid_perplexity"] < 0.75 * history[0]["valid_perplexity"]
    assert history[1000]["valid_perplexity"] < 8.0
    assert len(history[1000]["samples"]) == 5
