"""The model registry: io.load rebuilds a checkpoint's model by the class it names."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.models import registry
from theano_rnn.models.bidir import ClozeModel
from theano_rnn.models.char import CharRNN
from theano_rnn.models.word import GRUTheano, RNNTheano


class TinyLinear:
    """A model outside the package: one weight matrix, no optimizer state."""

    def __init__(self, word_dim, scale=1.0, params=None, mode=None):
        self.word_dim, self.scale, self.mode = int(word_dim), float(scale), mode
        self.W = np.asarray(params["W"]) if params else np.eye(self.word_dim) * self.scale

    def config(self):
        return {"class": "TinyLinear", "cell": "rnn", "word_dim": self.word_dim, "scale": self.scale}

    @classmethod
    def from_config(cls, config, params=None, mode=None):
        return cls(config["word_dim"], config["scale"], params=params, mode=mode)

    def get_params(self):
        return OrderedDict(W=self.W)

    def get_optimizer_state(self):
        return OrderedDict()


@pytest.fixture
def tiny_registered():
    registry.register_model(TinyLinear)
    yield TinyLinear
    registry.unregister_model("TinyLinear")


def test_a_class_registered_here_round_trips_through_io(tmp_path, tiny_registered):
    model = TinyLinear(3, scale=2.5)
    model.W = model.W + np.arange(9.0).reshape(3, 3)
    path = io.save(tmp_path / "tiny.npz", model, index_to_word=["a", "b", "c"])
    ck = io.load(path, mode="C")
    assert type(ck.model) is TinyLinear
    assert ck.model.scale == 2.5 and ck.model.mode == "C"
    np.testing.assert_array_equal(ck.model.W, model.W)
    assert ck.index_to_word == ["a", "b", "c"]


def test_an_unregistered_class_is_one_clear_error(tmp_path, tiny_registered):
    path = io.save(tmp_path / "tiny.npz", TinyLinear(3))
    registry.unregister_model("TinyLinear")
    try:
        with pytest.raises(io.CheckpointError, match="unknown model class 'TinyLinear'; registered: "):
            io.load(path)
    finally:
        registry.register_model(TinyLinear)


def test_the_builtin_classes_are_registered():
    names = registry.model_names()
    for name in ("RecurrentLM", "RNNTheano", "GRUTheano", "LSTMTheano", "CharRNN", "ClozeModel",
                 "SequenceClassifier"):
        assert name in names


def test_register_refuses_a_second_class_under_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        registry.register_model("CharRNN", TinyLinear)
    with pytest.raises(ValueError, match="no model class named 'Nope'"):
        registry.unregister_model("Nope")


@pytest.mark.parametrize("make", [
    lambda: RNNTheano(5, 3, rng=np.random.RandomState(0)),
    lambda: GRUTheano(5, 3, num_layers=1, rng=np.random.RandomState(0)),
    lambda: CharRNN(5, "gru", 3, 1, seed=1),
    lambda: ClozeModel(5, "rnn", 3, 3, seed=1),
], ids=["rnn", "gru", "char", "cloze"])
def test_builtin_models_rebuild_through_the_registry(make, tmp_path):
    model = make()
    path = io.save(tmp_path / "m.npz", model)
    again = io.load(path).model
    assert type(again) is type(model) and again.config() == model.config()
    for name, value in model.get_params().items():
        np.testing.assert_array_equal(again.get_params()[name], value)
    rebuilt = registry.build_model(model.config(), params=model.get_params())
    assert type(rebuilt) is type(model)
