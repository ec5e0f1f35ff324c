"""Word-level ``theano-rnn train`` never loses work: Ctrl-C, exact resume, bad outputs, full disks.

Each test fails on the code before the one Trainer (issue 11, "Tried as a new user would").
"""

from __future__ import annotations

import errno
import os
import signal

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.cli import word as cli
from theano_rnn.models.char import CharRNN
from theano_rnn.tasks.wordlm import session

TEXT = """\
The cat sat on the mat. The dog sat on the log. A cat saw a dog.

The dog ran to the cat. The cat ran to the mat. A dog saw the log.

The bird sat on the dog. A bird saw a cat on the mat. The log was on the mat.

The cat and the dog sat. The bird ran to the log. A dog and a cat ran.
"""

GRU = ["--cell", "gru", "--scheme", "part4", "--vocabulary-size", "25", "--hidden-dim", "4",
       "--bptt-truncate", "3", "--print-every", "5", "--max-sentences", "6", "--seed", "7",
       "--mode", "C", "--samples", "0", "--quiet"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name, _ in cli.ENV_DEFAULTS.values():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TEXT)
    return path


def run(argv, capsys, environ=None):
    status = cli.main([str(a) for a in argv], environ=environ or {})
    out, err = capsys.readouterr()
    return status, out, err


def error_lines(err):
    """stderr without the offline-Punkt WARNING (the tiny corpus has no NLTK model)."""
    return [line for line in err.strip().splitlines() if " WARNING " not in line]


@pytest.mark.parametrize("extra", [[], ["--batch-size", "3"]], ids=["part4", "minibatches"])
def test_gru_resume_is_exact(corpus, tmp_path, capsys, extra):
    """nepoch 2 in one run == nepoch 1, then --init-from for 1 more (the shuffle continues)."""
    straight, first, second = (tmp_path / n for n in ("straight.npz", "first.npz", "second.npz"))
    gru = [*GRU, *extra]
    assert run(["train", "--corpus", corpus, *gru, "--nepoch", "2", "--output", straight],
               capsys)[0] == 0
    assert run(["train", "--corpus", corpus, *gru, "--nepoch", "1", "--output", first],
               capsys)[0] == 0
    status, _, err = run(["train", "--corpus", corpus, *gru, "--nepoch", "1", "--init-from", first,
                          "--output", second], capsys)
    assert status == 0, err
    a, b = io.load(straight), io.load(second)
    for name, value in a.model.get_params().items():
        assert np.array_equal(value, b.model.get_params()[name]), name
    assert a.metadata["loss"] == b.metadata["loss"]
    assert a.metadata["rng_state"] == b.metadata["rng_state"]


def test_ctrl_c_saves_a_checkpoint_and_exits_130(corpus, tmp_path, capsys, monkeypatch):
    real = session.train_part4

    def interrupted_after_3(*args, progress=None, **kwargs):
        def progress_and_sigint(done, total):
            if done == 3:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during the third step
            progress(done, total)

        return real(*args, progress=progress_and_sigint, **kwargs)

    monkeypatch.setattr(session, "train_part4", interrupted_after_3)
    out = tmp_path / "int.npz"
    status, _, err = run(["train", "--corpus", corpus, *GRU, "--nepoch", "2", "--output", out],
                         capsys)
    assert status == 130
    assert "interrupted after 3 examples" in err and f"--init-from {out}" in err
    md = io.load(out).metadata
    assert md["num_examples_seen"] == 3 and md["interrupted"] is True and md["final"] is False


def test_unwritable_output_directory_is_one_line_before_training(corpus, capsys, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(session, "train_part4", no_training)
    # /proc refuses new files even to root
    status, out, err = run(["train", "--corpus", corpus, *GRU, "--nepoch", "1",
                            "--output", "/proc/model.npz"], capsys)
    assert status == 1 and out == ""
    assert len(error_lines(err)) == 1 and "not writable" in err


def test_missing_output_directory_is_one_line(corpus, tmp_path, capsys):
    status, _, err = run(["train", "--corpus", corpus, *GRU, "--nepoch", "1",
                          "--output", tmp_path / "nowhere" / "m.npz"], capsys)
    assert status == 1 and len(error_lines(err)) == 1 and "does not exist" in err


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG])
def test_full_disk_is_one_line_and_the_last_checkpoint_survives(corpus, tmp_path, capsys,
                                                                monkeypatch, code):
    real = io.atomic_savez
    calls = []

    def fills_up(path, arrays):
        calls.append(path)
        if len(calls) >= 2:
            raise OSError(code, os.strerror(code))
        return real(path, arrays)

    monkeypatch.setattr(io, "atomic_savez", fills_up)
    out = tmp_path / "full.npz"
    status, _, err = run(["train", "--corpus", corpus, *GRU, "--nepoch", "2", "--output", out],
                         capsys)
    assert status == 1
    assert len(error_lines(err)) == 1, err
    assert os.strerror(code) in err and "last good checkpoint" in err and "(5 examples)" in err
    assert io.load(out).metadata["num_examples_seen"] == 5  # the first checkpoint is intact


@pytest.mark.parametrize("cls,holds", [("CharRNN", "char-rnn"), ("ClozeModel", "cloze"),
                                       ("SequenceClassifier", "sequence classifier")])
def test_init_from_another_tasks_checkpoint_is_one_line(corpus, tmp_path, capsys, cls, holds):
    path = tmp_path / "other.npz"
    model = CharRNN(6, "rnn", 3, 1, seed=0, mode="C")
    io.save(path, model, index_to_word=list("abcdef"))
    if cls != "CharRNN":  # the same file, relabelled as the bidirectional tasks' classes
        arrays = dict(np.load(path, allow_pickle=False))
        arrays["__meta__"] = np.array(str(arrays["__meta__"]).replace('"CharRNN"', f'"{cls}"'))
        np.savez(path, **arrays)
    for flag, environ in ((["--init-from", path], None), ([], {"MODEL_FILE": str(path)})):
        status, out, err = run(["train", "--corpus", corpus, *flag, "--nepoch", "1",
                                "--quiet"], capsys, environ)
        assert status == 1 and out == ""
        assert len(error_lines(err)) == 1, err
        assert holds in err and cls in err and "Traceback" not in err
