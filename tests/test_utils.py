"""Tests for theano_rnn.utils (part 2's utils.py) and theano_rnn.gru_utils (part 4's)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RNNTheano, gru_utils, utils
from theano_rnn.data.words import MASK_TOKEN, SENTENCE_END, SENTENCE_START, UNKNOWN_TOKEN
from theano_rnn.errors import CheckpointError

from tests.shared_data import shared_data_dir

SHARED = shared_data_dir()
REDDIT = SHARED / "reddit" / "reddit-comments-2015-08.first212.csv"
NLTK_DATA = SHARED / "nltk_data"

C, H = 12, 5


def _numpy_rnn_loss(U, V, W, x, y):
    """Summed cross-entropy of the part-2 RNN, one time step at a time."""
    s = np.zeros(U.shape[0])
    total = 0.0
    for xt, yt in zip(x, y):
        s = np.tanh(U[:, xt] + W.dot(s))
        o = V.dot(s)
        o = np.exp(o - o.max())
        total -= np.log(o[yt] / o.sum())
    return total


# ------------------------------------------------------------------- part 2
def test_softmax_is_the_tutorials():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(utils.softmax(x), np.exp(x) / np.exp(x).sum())
    big = utils.softmax(np.array([1000.0, 1000.0]))  # no overflow
    np.testing.assert_array_equal(big, [0.5, 0.5])


def test_part2_save_load_round_trip(tmp_path, caplog):
    model = RNNTheano(C, H, rng=np.random.RandomState(0))
    path = tmp_path / "rnn-theano.npz"
    with caplog.at_level(logging.INFO, logger="theano_rnn.utils"):
        assert utils.save_model_parameters_theano(str(path), model) == str(path)
    assert "Saved model parameters to" in caplog.text
    with np.load(path) as f:  # the tutorial's keys, readable without this package
        for name in ("U", "V", "W"):
            np.testing.assert_array_equal(f[name], model.params[name].get_value())
    other = RNNTheano(C, H, rng=np.random.RandomState(1))
    assert utils.load_model_parameters_theano(str(path), other) is other
    for name, value in model.get_params().items():
        np.testing.assert_array_equal(other.get_params()[name], value)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temporary file


def test_tutorial_float32_file_of_another_size_resizes_the_model(tmp_path, caplog):
    model = RNNTheano(C, H, rng=np.random.RandomState(0))
    x12 = np.array([0, 11, 3], np.int32)
    model.ce_error(x12, x12)  # compile for the old size first: the rebuild must replace it
    rng = np.random.RandomState(3)
    Cs, Hs = 9, 3
    stored = {
        "U": rng.uniform(-0.3, 0.3, (Hs, Cs)).astype(np.float32),
        "V": rng.uniform(-0.5, 0.5, (Cs, Hs)).astype(np.float32),
        "W": rng.uniform(-0.5, 0.5, (Hs, Hs)).astype(np.float32),
    }
    path = tmp_path / "trained-model-theano.npz"
    np.savez(path, **stored)  # the shipped file's layout: U, V, W only, float32
    with caplog.at_level(logging.INFO):
        utils.load_model_parameters_theano(str(path), model)
    assert "resizing" in caplog.text
    assert (model.word_dim, model.hidden_dim) == (Cs, Hs)
    for name, value in stored.items():
        got = model.params[name].get_value()
        assert got.shape == value.shape and got.dtype == np.float64
        np.testing.assert_array_equal(got, value.astype(np.float64))
    x, y = np.array([0, 4, 8, 2], np.int32), np.array([4, 8, 2, 1], np.int32)
    expected = _numpy_rnn_loss(*(stored[k].astype(np.float64) for k in "UVW"), x, y)
    assert float(model.ce_error(x, y)) == pytest.approx(expected, rel=1e-10)
    assert model.forward_propagation(x).shape == (4, Cs)


@pytest.mark.parametrize(
    "arrays, key",
    [
        ({"U": np.zeros((H, C)), "V": np.zeros((C, H)), "Wx": np.zeros((H, H))}, "'W'"),
        ({"U": np.zeros((H, C)), "V": np.zeros((C, H)), "W": np.zeros((H, H + 1))}, "'W'"),
        ({"U": np.zeros((H, C)), "V": np.zeros((C + 1, H)), "W": np.zeros((H, H))}, "'V'"),
    ],
)
def test_part2_wrong_key_or_shape_names_the_key(tmp_path, arrays, key):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    model = RNNTheano(C, H, rng=np.random.RandomState(0))
    before = model.get_params()
    with pytest.raises(CheckpointError, match=key) as err:
        utils.load_model_parameters_theano(str(path), model)
    assert "\n" not in str(err.value)
    for name, value in before.items():  # the model is left as it was
        np.testing.assert_array_equal(model.get_params()[name], value)


def test_part2_loader_refuses_a_gru_file(tmp_path):
    gru = GRUTheano(C, 4, rng=np.random.RandomState(0))
    path = tmp_path / "gru.npz"
    np.savez(path, **gru.get_params())
    with pytest.raises(CheckpointError, match="GRU"):
        utils.load_model_parameters_theano(str(path), RNNTheano(C, H))


# ------------------------------------------------------------------- part 4
@pytest.fixture(scope="module")
def trained_gru(shared_model):
    """A tiny GRU after a few RMSprop steps (non-zero caches); its compiled step
    is the session's (test_io.py's round trip builds the same model)."""
    model = shared_model(GRUTheano, 10, 4, seed=0)
    rng = np.random.RandomState(1)
    X = [rng.randint(0, 10, size=n).astype(np.int32) for n in (3, 5, 4)]
    Y = [rng.randint(0, 10, size=len(x)).astype(np.int32) for x in X]
    gru_utils.train_with_sgd(model, X, Y, learning_rate=0.01, nepoch=1, decay=0.8, rng=0)
    return model, X, Y


def test_part4_save_load_restores_rmsprop_caches(trained_gru, tmp_path):
    model, X, Y = trained_gru
    path = tmp_path / "GRU.npz"
    gru_utils.save_model_parameters_theano(model, str(path))
    with np.load(path) as f:
        assert {"E", "U", "W", "V", "b", "c"} <= set(f.files)
    loaded = gru_utils.load_model_parameters_theano(str(path))
    assert type(loaded) is GRUTheano and loaded is not model
    assert (loaded.word_dim, loaded.hidden_dim, loaded.num_layers) == (10, 4, 2)
    for name, value in model.get_params().items():
        np.testing.assert_array_equal(loaded.get_params()[name], value)
    caches = model.get_optimizer_state()
    assert set(caches) == {"mE", "mU", "mW", "mV", "mb", "mc"}
    assert all(np.any(v != 0) for v in caches.values())  # the test is meaningful
    for name, value in caches.items():
        np.testing.assert_array_equal(loaded.get_optimizer_state()[name], value)
    # resuming continues RMSprop exactly where it stopped
    a = model.sgd_step(X[0], Y[0], 0.01, 0.8)
    b = loaded.sgd_step(X[0], Y[0], 0.01, 0.8)
    assert float(a) == float(b)
    for name, value in model.get_params().items():
        np.testing.assert_array_equal(loaded.get_params()[name], value)
    for name, value in model.get_optimizer_state().items():
        np.testing.assert_array_equal(loaded.get_optimizer_state()[name], value)


def test_part4_tutorial_layout_file_loads(trained_gru, tmp_path):
    model, _, _ = trained_gru
    path = tmp_path / "GRU-tutorial.npz"
    np.savez(path, **model.get_params())  # the tutorial's np.savez: weights only
    loaded = gru_utils.load_model_parameters_theano(str(path), GRUTheano)
    assert (loaded.word_dim, loaded.hidden_dim, loaded.num_layers) == (10, 4, 2)
    assert all(np.all(v == 0) for v in loaded.get_optimizer_state().values())  # nothing stored


def test_gru_file_loaded_as_lstm_is_refused(trained_gru, tmp_path):
    model, _, _ = trained_gru
    with_meta = tmp_path / "gru-meta.npz"
    gru_utils.save_model_parameters_theano(model, str(with_meta))
    bare = tmp_path / "gru-bare.npz"
    np.savez(bare, **model.get_params())
    for path in (with_meta, bare):
        with pytest.raises(CheckpointError, match="GRU") as err:
            gru_utils.load_model_parameters_theano(str(path), LSTMTheano)
        assert "\n" not in str(err.value) and "LSTM" in str(err.value)


def test_lstm_file_loaded_as_gru_is_refused(tmp_path):
    lstm = LSTMTheano(10, 4, rng=np.random.RandomState(0))
    path = tmp_path / "lstm.npz"
    gru_utils.save_model_parameters_theano(lstm, str(path))
    with pytest.raises(CheckpointError, match="LSTM"):
        gru_utils.load_model_parameters_theano(str(path), GRUTheano)
    loaded = gru_utils.load_model_parameters_theano(str(path), LSTMTheano)
    assert type(loaded) is LSTMTheano and loaded.num_layers == 1


def test_print_sentence_and_generate_sentences(capsys):
    words = [MASK_TOKEN, UNKNOWN_TOKEN, SENTENCE_START, SENTENCE_END, "hello", "world"]
    w2i = {w: i for i, w in enumerate(words)}
    gru_utils.print_sentence([2, 4, 5, 3], words)
    assert capsys.readouterr().out == "hello world\n"

    class Model:
        def next_word_probs(self, prefix):
            nxt = {1: 4, 2: 5, 3: 4}.get(len(prefix), 3)
            p = np.zeros(len(words))
            p[nxt] = 1.0
            return p

    assert gru_utils.generate_sentence(Model(), words, w2i, rng=0) == [2, 4, 5, 4, 3]
    assert gru_utils.generate_sentence(Model(), words, w2i, min_length=6, rng=0) is None
    out = gru_utils.generate_sentences(Model(), 2, words, w2i, rng=0)
    assert out == [["hello", "world", "hello"]] * 2
    assert capsys.readouterr().out == "hello world hello\nhello world hello\n"
    gru_utils.generate_sentences(Model(), 1, words, w2i, rng=0, print_sentences=False)
    assert capsys.readouterr().out == ""


@pytest.mark.skipif(not REDDIT.is_file(), reason=f"shared corpus {REDDIT} is absent")
def test_load_data_on_the_reddit_prefix():
    X, Y, word_to_index, index_to_word = gru_utils.load_data(
        str(REDDIT), vocabulary_size=2000, min_sent_characters=0, nltk_data=str(NLTK_DATA)
    )
    assert isinstance(X, list) and len(X) == len(Y) > 100
    assert all(x.dtype == np.int32 and y.dtype == np.int32 for x, y in zip(X, Y))
    assert index_to_word[:2] == [MASK_TOKEN, UNKNOWN_TOKEN]
    assert len(index_to_word) <= 2000 and len(word_to_index) == len(index_to_word)
    assert all(word_to_index[w] == i for i, w in enumerate(index_to_word))
    start, end = word_to_index[SENTENCE_START], word_to_index[SENTENCE_END]
    for x, y in zip(X, Y):
        assert x[0] == start and y[-1] == end
        np.testing.assert_array_equal(x[1:], y[:-1])
        assert x.max() < len(index_to_word)
