"""One algorithm per optimizer name; "rmsprop" is each model family's tutorial's RMSprop."""

from __future__ import annotations

import json

import numpy as np
import pytest

from theano_rnn import io, optim
from theano_rnn.models.bidir import ClozeModel, SequenceClassifier
from theano_rnn.models.char import CharRNN
from theano_rnn.models.word import GRUTheano, RNNTheano


def test_the_one_table_names_every_algorithm_once():
    assert set(optim.OPTIMIZERS) == {"sgd", "rmsprop_tutorial", "rmsprop_torch", "rmsprop_graves",
                                     "adam", "adadelta"}
    for name in optim.OPTIMIZERS:
        assert callable(getattr(optim, name))
    for algorithms, rmsprop in optim.FAMILIES.values():
        assert set(algorithms) <= set(optim.OPTIMIZERS) and rmsprop in algorithms
    assert optim.resolve("word", "rmsprop") == "rmsprop_tutorial"
    assert optim.resolve("char", "rmsprop") == "rmsprop_torch"
    assert optim.resolve("stack", "rmsprop") == "rmsprop_graves"
    assert optim.resolve("stack", "rmsprop_tutorial") == "rmsprop_tutorial"
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop_torch'; choose one of sgd, "
                                         "rmsprop, rmsprop_tutorial"):
        optim.resolve("word", "rmsprop_torch")


def test_command_choices_come_from_the_table():
    assert optim.choices("word") == ("sgd", "rmsprop", "rmsprop_tutorial")
    assert optim.choices("char") == ("rmsprop", "rmsprop_torch", "adam")
    assert optim.choices("stack", ("adadelta", "sgd", "rmsprop_graves")) == (
        "adadelta", "sgd", "rmsprop", "rmsprop_graves")
    convert = optim.name_type("stack")
    assert convert("rmsprop_graves") == convert("rmsprop") == "rmsprop"
    assert convert("rmsprop_tutorial") == "rmsprop_tutorial" and convert("nope") == "nope"


@pytest.mark.parametrize("make, alias, algorithm", [
    (lambda o: GRUTheano(5, 3, num_layers=1, optimizer=o, rng=np.random.RandomState(0)),
     "rmsprop", "rmsprop_tutorial"),
    (lambda o: CharRNN(5, "rnn", 3, 1, optimizer=o), "rmsprop", "rmsprop_torch"),
    (lambda o: ClozeModel(5, "rnn", 3, 3, optimizer=o), "rmsprop", "rmsprop_graves"),
    (lambda o: SequenceClassifier(5, 2, "rnn", 3, 3, optimizer=o), "rmsprop", "rmsprop_graves"),
    (lambda o: ClozeModel(5, "rnn", 3, 3, optimizer=o), "rmsprop_tutorial", "rmsprop_tutorial"),
], ids=["word", "char", "cloze", "classify", "cloze-tutorial"])
def test_models_take_both_names_and_store_the_algorithm(make, alias, algorithm, tmp_path):
    by_alias, by_name = make(alias), make(algorithm)
    assert by_alias.algorithm == by_name.algorithm == algorithm
    assert by_alias.optimizer == by_name.optimizer == alias
    assert list(by_alias.get_optimizer_state()) == list(by_name.get_optimizer_state())
    path = io.save(tmp_path / "m.npz", by_name)
    stored = json.loads(str(np.load(path)["__meta__"]))["model"]
    assert stored["algorithm"] == algorithm
    assert io.load(path).model.algorithm == algorithm


def test_an_old_checkpoint_with_rmsprop_loads_to_its_models_algorithm(tmp_path):
    """Files written before the "algorithm" entry: "rmsprop" alone, read per model family."""
    for model, algorithm in ((GRUTheano(5, 3, num_layers=1, rng=np.random.RandomState(0)),
                              "rmsprop_tutorial"),
                             (CharRNN(5, "rnn", 3, 1), "rmsprop_torch"),
                             (ClozeModel(5, "rnn", 3, 3, optimizer="rmsprop"), "rmsprop_graves")):
        path = io.save(tmp_path / "new.npz", model)
        arrays = dict(np.load(path))
        meta = json.loads(str(arrays["__meta__"]))
        del meta["model"]["algorithm"]
        assert meta["model"]["optimizer"] == "rmsprop"
        arrays["__meta__"] = np.array(json.dumps(meta))
        np.savez(tmp_path / "old.npz", **arrays)
        again = io.load(tmp_path / "old.npz").model
        assert (type(again), again.algorithm) == (type(model), algorithm)
        for name, value in model.get_optimizer_state().items():
            np.testing.assert_array_equal(again.get_optimizer_state()[name], value)


def test_the_same_rmsprop_steps_under_either_name():
    x = np.array([0, 1, 2, 3], dtype=np.int32)
    y = np.array([1, 2, 3, 4], dtype=np.int32)
    a = RNNTheano(5, 3, optimizer="rmsprop", rng=np.random.RandomState(0))
    b = RNNTheano(5, 3, optimizer="rmsprop_tutorial", rng=np.random.RandomState(0))
    assert a.sgd_step(x, y, 0.01) == b.sgd_step(x, y, 0.01)
    for name, value in a.get_params().items():
        np.testing.assert_array_equal(b.get_params()[name], value)
