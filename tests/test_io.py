"""Checkpoints: layout, atomic writes, tutorial files, clear errors, exact resume."""

import json
import os

import numpy as np
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RNNTheano, io, reference

C, H = 10, 4


def data(seed, n=4):
    rng = np.random.RandomState(seed)
    out = []
    for T in rng.randint(3, 9, size=n):
        out.append((rng.randint(0, C, T).astype(np.int32), rng.randint(0, C, T).astype(np.int32)))
    return out


def test_roundtrip_keeps_tutorial_keys_vocab_metadata_and_no_pickle(tmp_path, shared_model):
    m = shared_model(GRUTheano, C, H, seed=0)  # GRUTheano(C, H, rng=RandomState(0)), compiled once
    x, y = data(0)[0]
    m.sgd_step(x, y, 0.01)
    vocab = ["<MASK/>", "UNKNOWN_TOKEN", "红", "楼", "梦", " ", "\n", "a", "SENTENCE_START", "SENTENCE_END"]
    path = tmp_path / "gru.npz"
    io.save(path, m, index_to_word=vocab, metadata={"losses": [[0, 2.5]], "note": "x"})
    raw = np.load(path, allow_pickle=False)  # readable without pickle
    np.testing.assert_array_equal(raw["E"], m.E.get_value())  # tutorial keys
    assert {"E", "U", "W", "V", "b", "c", "optimizer/mU", "__meta__", "__vocab__"} <= set(raw.files)
    meta = json.loads(str(raw["__meta__"]))
    assert meta["model"]["cell"] == "gru" and meta["format_version"] == io.FORMAT_VERSION
    ck = io.load(path)
    assert isinstance(ck.model, GRUTheano)
    assert ck.index_to_word == vocab and ck.word_to_index["梦"] == 4
    assert ck.metadata == {"losses": [[0, 2.5]], "note": "x"}
    for name, value in m.get_params().items():
        np.testing.assert_array_equal(getattr(ck.model, name).get_value(), value)
    for name, value in m.get_optimizer_state().items():
        assert value.any()
        np.testing.assert_array_equal(getattr(ck.model, name).get_value(), value)


def test_write_is_atomic_and_failure_leaves_old_file(tmp_path, monkeypatch):
    m = RNNTheano(C, H, rng=np.random.RandomState(0))
    path = tmp_path / "rnn.npz"
    io.save(path, m)
    before = path.read_bytes()

    def broken_savez(fh, **arrays):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(io.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        io.save(path, RNNTheano(C, H, rng=np.random.RandomState(1)))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["rnn.npz"]  # no temporary file left behind


def test_loads_tutorial_float32_trained_model_layout(tmp_path):
    """The shape of the tutorial's shipped data/trained-model-theano.npz."""
    layout = reference.value("wildml.part2.trained_model")  # U (50, 8000), V, W; float32
    rng = np.random.RandomState(0)
    path = tmp_path / "trained-model-theano.npz"
    U = rng.uniform(-0.01, 0.01, layout["U"]).astype(layout["dtype"])
    V = rng.uniform(-0.1, 0.1, layout["V"]).astype(layout["dtype"])
    W = rng.uniform(-0.1, 0.1, layout["W"]).astype(layout["dtype"])
    np.savez(path, U=U, V=V, W=W)
    ck = io.load(path)
    m = ck.model
    assert isinstance(m, RNNTheano)
    assert (m.word_dim, m.hidden_dim, m.bptt_truncate) == (8000, 50, 4)
    assert ck.index_to_word is None and ck.metadata == {}
    np.testing.assert_array_equal(m.U.get_value(), U.astype(np.float64))


@pytest.mark.parametrize("cell,blocks,expected", [("gru", 6, (GRUTheano, 2)), ("lstm", 4, (LSTMTheano, 1)), ("gru", 3, (GRUTheano, 1)), ("lstm", 8, (LSTMTheano, 2))])
def test_infers_gru_or_lstm_from_gate_blocks(tmp_path, cell, blocks, expected):
    rng = np.random.RandomState(0)
    path = tmp_path / f"{cell}{blocks}.npz"
    np.savez(
        path, E=rng.rand(H, C), U=rng.rand(blocks, H, H), W=rng.rand(blocks, H, H),
        V=rng.rand(C, H), b=rng.rand(blocks, H), c=rng.rand(C),
    )
    m = io.load(path).model
    assert isinstance(m, expected[0]) and m.num_layers == expected[1]
    assert m.cell.name == cell


def test_ambiguous_and_mismatched_cells_fail_clearly(tmp_path):
    rng = np.random.RandomState(0)

    def gated(path, blocks):
        np.savez(
            path, E=rng.rand(H, C), U=rng.rand(blocks, H, H), W=rng.rand(blocks, H, H),
            V=rng.rand(C, H), b=rng.rand(blocks, H), c=rng.rand(C),
        )
        return path

    twelve = gated(tmp_path / "twelve.npz", 12)
    with pytest.raises(io.CheckpointError, match="both a GRU and an LSTM"):
        io.load(twelve)
    assert io.load(twelve, cell="lstm").model.num_layers == 3
    gru_file = gated(tmp_path / "gru.npz", 6)
    with pytest.raises(io.CheckpointError, match="holds a GRU .*not a LSTM"):
        io.load(gru_file, cell="lstm")
    lstm_file = gated(tmp_path / "lstm.npz", 4)
    with pytest.raises(io.CheckpointError, match="holds a LSTM .*not a GRU"):
        io.load(lstm_file, model_class=GRUTheano, cell="gru")
    # with metadata, too
    saved = tmp_path / "meta_gru.npz"
    io.save(saved, GRUTheano(C, H, rng=np.random.RandomState(0)))
    with pytest.raises(io.CheckpointError, match="holds a GRU, not a LSTM"):
        io.load(saved, cell="lstm")


def test_wrong_key_or_shape_names_the_key(tmp_path):
    rng = np.random.RandomState(0)
    bad_shape = tmp_path / "bad_shape.npz"
    np.savez(bad_shape, U=rng.rand(H, C), V=rng.rand(C, H + 1), W=rng.rand(H, H))
    with pytest.raises(io.CheckpointError, match=r"key 'V' has shape \(10, 5\), expected \(10, 4\)"):
        io.load(bad_shape)
    wrong_key = tmp_path / "wrong_key.npz"
    np.savez(wrong_key, U=rng.rand(H, C), X=rng.rand(C, H), W=rng.rand(H, H))
    with pytest.raises(io.CheckpointError, match="unrecognised checkpoint layout: keys \\['U', 'W', 'X'\\]"):
        io.load(wrong_key)
    with pytest.raises(io.CheckpointError, match="no such checkpoint"):
        io.load(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(io.CheckpointError, match="cannot read checkpoint"):
        io.load(garbage)
    m = RNNTheano(C, H, rng=np.random.RandomState(0))
    with pytest.raises(io.CheckpointError, match="vocabulary has 3 entries"):
        io.save(tmp_path / "v.npz", m, index_to_word=["a", "b", "c"])
    assert not (tmp_path / "v.npz").exists()


@pytest.mark.parametrize("cls", [GRUTheano, pytest.param(LSTMTheano, marks=pytest.mark.slow), RNNTheano])
def test_resume_is_exact_bit_for_bit(tmp_path, cls):
    """N steps, save, load, M steps == N + M steps (RMSprop caches included)."""
    steps = data(1, n=6)
    straight = cls(C, H, rng=np.random.RandomState(3))
    weights, caches = straight.get_params(), straight.get_optimizer_state()
    lr = 0.01
    # the first N steps run on the same compiled step, restarted from the same
    # weights and caches (one compile fewer than a second model)
    first = [straight.sgd_step(x, y, lr) for x, y in steps[:3]]
    path = tmp_path / "ck.npz"
    io.save(path, straight)
    straight.set_params(weights)
    straight.set_optimizer_state(caches)
    losses_straight = [straight.sgd_step(x, y, lr) for x, y in steps]
    again = io.load(path).model
    rest = [again.sgd_step(x, y, lr) for x, y in steps[3:]]
    assert first + rest == losses_straight  # exact equality, not approx
    for name, value in straight.get_params().items():
        np.testing.assert_array_equal(getattr(again, name).get_value(), value)
    for name, value in straight.get_optimizer_state().items():
        np.testing.assert_array_equal(getattr(again, name).get_value(), value)


def test_checkpoint_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = io.atomic_savez(tmp_path / "p.npz", {"a": np.zeros(2)})
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_graph_setting_survives_a_checkpoint_with_and_without_model_class(tmp_path):
    from theano_rnn import io as rnn_io
    from theano_rnn.models.word import RNNTheano

    model = RNNTheano(9, 3, rng=np.random.RandomState(0), graph="fast")
    path = tmp_path / "fast.npz"
    rnn_io.save(path, model)
    assert rnn_io.load(path).model.graph == "fast"
    assert rnn_io.load(path, model_class=RNNTheano).model.graph == "fast"
    assert rnn_io.load(path, graph="faithful").model.graph == "faithful"


@pytest.mark.parametrize("kind, says", [
    ("empty", "the file is empty (0 bytes)"),
    ("truncated", "the file is truncated"),
    ("random", "not a .npz checkpoint (not a zip archive"),
    ("npy", "a single .npy array, not a .npz checkpoint"),
    ("bad_crc", "the file is corrupt"),
])
def test_damaged_checkpoint_says_what_is_wrong(tmp_path, kind, says):
    good = tmp_path / "good.npz"
    np.savez(good, U=np.arange(4000.0), __meta__=np.array("{}"))
    data = good.read_bytes()
    path = tmp_path / "bad.npz"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "random":
        path.write_bytes(np.random.RandomState(0).bytes(1000))
    elif kind == "npy":
        with open(path, "wb") as fh:
            np.save(fh, np.ones(3))
    else:
        damaged = bytearray(data)
        damaged[200:260] = b"x" * 60
        path.write_bytes(bytes(damaged))
    for read in (io.load, io.read_metadata, io.load_arrays):
        with pytest.raises(io.CheckpointError) as info:
            read(path)
        assert str(info.value).startswith(f"cannot read checkpoint {path}: ")
        assert says in str(info.value) and "\n" not in str(info.value)
