"""One parameter holder (models/params.py) and one compile cache (graphs/cache.py)."""

from __future__ import annotations

import numpy as np
import pytensor
import pytest

from theano_rnn.graphs.cache import CompileCache
from theano_rnn.models.bidir import ClozeModel, SequenceClassifier
from theano_rnn.models.char import CharRNN
from theano_rnn.models.params import SharedParams
from theano_rnn.models.word import GRUTheano, RNNTheano


def test_cache_builds_once_per_kind_and_under_the_model_dtype():
    built = []

    def build(shape):
        built.append((shape, pytensor.config.floatX))
        return object()

    cache = CompileCache("float32")
    with pytensor.config.change_flags(floatX="float64"):
        first = cache.compiled("loss", build, (3, 2))
        assert cache.compiled("loss", build, (5, 1)) is first  # any shape: one function
    assert built == [(None, "float32")]
    assert cache["loss"] is first and list(cache) == ["loss"]
    cache.clear()
    assert len(cache) == 0
    assert cache.compiled("loss", build) is not first


def test_static_cache_compiles_per_shape_and_remembers_the_last():
    cache = CompileCache("float64", static_shapes=True)
    a = cache.compiled("eval", lambda shape: ("fn", shape), (np.int64(3), 2))
    b = cache.compiled("eval", lambda shape: ("fn", shape), (4, 2))
    assert a == ("fn", (3, 2)) and b == ("fn", (4, 2))
    assert cache.compiled("eval", lambda shape: 1 / 0, (3, 2)) is a
    assert cache["eval"] is a
    assert {k for k in cache if isinstance(k, tuple)} == {("eval", (3, 2)), ("eval", (4, 2))}


def test_every_model_uses_the_one_holder_and_the_one_cache():
    models = [
        RNNTheano(5, 3, rng=np.random.RandomState(0)),
        CharRNN(5, "rnn", 3, 1),
        ClozeModel(5, "rnn", 3, 3),
        SequenceClassifier(5, 2, "rnn", 3, 3),
    ]
    for model in models:
        assert isinstance(model, SharedParams), type(model)
        assert isinstance(model._fns, CompileCache), type(model)
        assert model.word_dim == 5


@pytest.mark.parametrize("make", [
    lambda: CharRNN(5, "rnn", 3, 1),
    lambda: ClozeModel(5, "rnn", 3, 3),
    lambda: RNNTheano(5, 3, rng=np.random.RandomState(0)),
], ids=["char", "cloze", "word"])
def test_set_params_names_a_missing_key(make):
    model = make()
    arrays = model.get_params()
    name = next(iter(arrays))
    del arrays[name]
    with pytest.raises(ValueError, match=f"parameters: missing key {name!r}"):
        model.set_params(arrays)


def test_optimizer_state_shape_errors_say_what_was_expected():
    model = CharRNN(5, "rnn", 3, 1)
    state = model.get_optimizer_state()
    state["mW"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"key 'mW' has shape \(2, 2\), expected \(3, 3\)"):
        model.set_optimizer_state(state)


def test_resize_drops_the_functions_compiled_for_the_old_size():
    model = GRUTheano(6, 3, num_layers=1, rng=np.random.RandomState(0))
    x = np.array([0, 1, 2], dtype=np.int32)
    assert model.forward_propagation(x).shape == (3, 6)
    assert "forward_propagation" in model._fns
    bigger = GRUTheano(6, 5, num_layers=1, rng=np.random.RandomState(1))
    model.resize(bigger.get_params())
    assert "forward_propagation" not in model._fns
    np.testing.assert_allclose(model.forward_propagation(x), bigger.forward_propagation(x))
