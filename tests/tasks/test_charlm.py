"""char-rnn training loop: exact resume (in process and after a kill), stops, sampling."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.data.chars import CharLoader, CharVocab
from theano_rnn.models.char import CharRNN
from theano_rnn.tasks.charlm.trainer import CharTrainer, CharTrainOptions
from theano_rnn.tasks.sampling import sample_chars

TEXT = (
    "the quick brown fox jumps over the lazy dog. 红楼梦里的梦。\n"
    "pack my box with five dozen liquor jugs! 床前明月光，疑是地上霜。\n"
) * 6


def make(tmp_path, name="ck.npz", dropout=0.2, eval_every=3, max_epochs=2, cell="gru"):
    vocab = CharVocab.from_text(TEXT)
    loader = CharLoader(TEXT, vocab, batch_size=4, seq_length=5, split_fractions=(0.8, 0.2, 0.0))
    model = CharRNN(len(vocab), cell, 8, 2, dropout=dropout, seed=7)
    opts = CharTrainOptions(
        learning_rate=0.01, learning_rate_decay=0.5, learning_rate_decay_after=1,
        max_epochs=max_epochs, eval_val_every=eval_every, seed=11,
    )
    return CharTrainer(model, vocab, loader, opts, checkpoint_path=tmp_path / name), vocab


def test_uninterrupted_equals_saved_and_resumed_bit_for_bit(tmp_path):
    full, vocab = make(tmp_path, "full.npz")
    result = full.run()
    assert result.reason == "done"
    n = len(result.train_losses)
    assert n == full.total_iterations and n > 8
    assert full.learning_rate == pytest.approx(0.01 * 0.5**2)  # decayed after epochs 1 and 2
    part, _ = make(tmp_path, "part.npz")
    first = part.run(max_iterations=6)
    assert first.reason == "max_iterations" and first.iteration == 6
    part.save()
    loader = CharLoader(TEXT, vocab, batch_size=4, seq_length=5, split_fractions=(0.8, 0.2, 0.0))
    resumed = CharTrainer.resume(tmp_path / "part.npz", loader, vocab)
    rest = resumed.run()
    assert rest.train_losses == result.train_losses  # same floats, same order
    assert rest.val_losses == result.val_losses
    for name, value in full.model.get_params().items():
        np.testing.assert_array_equal(resumed.model.get_params()[name], value)
    assert Path(tmp_path / "full_best.npz").exists()


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from test_charlm import make
    from pathlib import Path
    trainer, _ = make(Path({tmp!r}), "killed.npz")
    def progress(i, total, loss, cps):
        if i == 8:
            os.kill(os.getpid(), signal.SIGKILL)
    trainer.run(progress=progress)
    """
)


def test_resume_after_kill_reproduces_the_loss_sequence(tmp_path):
    full, vocab = make(tmp_path, "ref.npz")
    expected = full.run().train_losses
    script = KILL_SCRIPT.format(
        root=str(Path(__file__).resolve().parents[2]), tests=str(Path(__file__).resolve().parent),
        tmp=str(tmp_path),
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -9, proc.stderr[-2000:]
    ck = tmp_path / "killed.npz"
    assert ck.exists()  # the checkpoint of iteration 6 survived the kill
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    loader = CharLoader(TEXT, vocab, batch_size=4, seq_length=5, split_fractions=(0.8, 0.2, 0.0))
    resumed = CharTrainer.resume(ck, loader, vocab)
    assert resumed.iteration == 6
    assert resumed.run().train_losses == expected


@pytest.mark.parametrize("done_before,stops_at", [(3, 4), pytest.param(5, 6, marks=pytest.mark.slow)])
def test_nan_stops_without_overwriting_the_last_good_checkpoint(tmp_path, done_before, stops_at):
    """A NaN learning rate poisons the weights in one step; the loss shows it one step
    later (3 -> stops after 4), or the checkpoint guard sees it first (5 -> 6)."""
    trainer, _ = make(tmp_path, "nan.npz", dropout=0.0)
    trainer.run(max_iterations=done_before)  # checkpoint at iteration 3
    before = (tmp_path / "nan.npz").read_bytes()
    trainer.learning_rate = float("nan")
    result = trainer.run()
    assert result.reason == "nan" and result.iteration == stops_at
    assert (tmp_path / "nan.npz").read_bytes() == before
    ck = io.load(tmp_path / "nan.npz")
    assert all(np.isfinite(v).all() for v in ck.model.get_params().values())


def test_exploding_loss_aborts(tmp_path):
    trainer, _ = make(tmp_path, "boom.npz", dropout=0.0)
    trainer.run(max_iterations=1)
    trainer.loss0 = trainer.train_losses[0][1] / 10  # any later loss is > 3x this
    result = trainer.run()
    assert result.reason == "exploded" and result.iteration == 1


def test_stop_request_saves_a_checkpoint(tmp_path):
    trainer, _ = make(tmp_path, "stop.npz", eval_every=1000)
    result = trainer.run(should_stop=lambda: trainer.iteration >= 2)
    assert result.reason == "stopped" and result.iteration == 2
    assert io.read_metadata(tmp_path / "stop.npz")["metadata"]["trainer"]["iteration"] == 2


def test_resume_refuses_another_vocabulary_or_geometry(tmp_path):
    trainer, vocab = make(tmp_path, "v.npz")
    trainer.run(max_iterations=3)
    other = CharVocab.from_text(TEXT + "Z")
    loader = CharLoader(TEXT + "Z", other, batch_size=4, seq_length=5)
    with pytest.raises(io.CheckpointError, match="different vocabulary"):
        CharTrainer.resume(tmp_path / "v.npz", loader, other)
    loader = CharLoader(TEXT, vocab, batch_size=2, seq_length=5)
    with pytest.raises(io.CheckpointError, match="batch_size=4"):
        CharTrainer.resume(tmp_path / "v.npz", loader, vocab)


def test_sampling_with_prime_temperature_argmax_and_stop(tmp_path):
    trainer, vocab = make(tmp_path, "s.npz", dropout=0.0)
    trainer.run(max_iterations=3)
    model = io.load(tmp_path / "s.npz").model
    a = sample_chars(model, vocab, 20, prime="the ", temperature=0.7, rng=3)
    b = sample_chars(model, vocab, 20, prime="the ", temperature=0.7, rng=3)
    assert a == b and a.startswith("the ") and len(a) == 24
    g1 = sample_chars(model, vocab, 15, prime="红", argmax=True, rng=1)
    g2 = sample_chars(model, vocab, 15, prime="红", argmax=True, rng=2)
    assert g1 == g2  # argmax ignores the generator
    streamed = []
    out = sample_chars(model, vocab, 30, prime="t", rng=5, on_text=streamed.append, stop="e")
    assert "".join(streamed) == out and (out[1:].endswith("e") or len(out) == 31)
    from theano_rnn.errors import DataError

    with pytest.raises(DataError):
        sample_chars(model, vocab, 5, prime="ZZZ", rng=0)
    with pytest.raises(ValueError, match="temperature"):
        sample_chars(model, vocab, 5, temperature=0)
