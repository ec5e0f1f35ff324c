"""Never lose work: the output policy of the training commands, locks, absurd sizes, damaged files.

Contract (issue 11, item 4):
- without ``--output`` each run gets a name of its own (``<stem>_2.npz`` ...),
  so the same command can be run again and again; the earlier run's files stay
  byte-identical;
- an ``--output`` holding another run's checkpoint (or its ``_best`` file) is
  refused with one line, exit 2, before any data is read, unless the run
  resumes from it (``--init-from`` that file) or ``--overwrite`` is given --
  for ``train``, ``train-char``, ``train-cloze`` and ``classify train``;
- ``<output>.lock`` makes a second run on the same output fail with one line;
  a lock of a dead pid is taken over; no lock file is left after a run;
- parameters that cannot fit in memory: one line before anything is allocated;
- ``train-char --batch-size 1 --seq-length 1`` trains;
- ``sample-char`` of a damaged file says what is wrong with it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.cli import output as outputs
from theano_rnn.cli import word as wordcli
from theano_rnn.errors import CLIError
from theano_rnn.runtime.files import OutputLock

TEXT = "the quick brown fox jumps over the lazy dog. pack my box with five dozen jugs!\n" * 6
TINY = ["--corpus", "tiny.txt", "--hidden-dim", "8", "--num-layers", "1", "--batch-size", "2",
        "--seq-length", "5", "--max-iterations", "2", "--eval-val-every", "2", "--quiet"]


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path


def run(argv, capsys):
    status = wordcli.main([str(a) for a in argv], environ={})
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(err):
    lines = [ln for ln in err.splitlines() if ln.startswith("theano-rnn:")]
    assert len(lines) == 1 and lines[0].startswith("theano-rnn: error: "), err
    assert "Traceback" not in err and err.rstrip("\n").splitlines()[-1] == lines[0], err
    return lines[0]


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_train_char_reruns_get_fresh_names(here, capsys):
    assert run(["train-char", *TINY], capsys)[0] == 0
    first = here / "cv" / "tiny_lstm.npz"
    saved = {p.name: p.read_bytes() for p in (first, here / "cv" / "tiny_lstm_best.npz")}
    status, _, err = run(["train-char", *TINY, "--log-level", "INFO"], capsys)
    assert status == 0, err
    assert "this run writes cv/tiny_lstm_2.npz" in err
    assert io.read_metadata(here / "cv" / "tiny_lstm_2.npz")["metadata"]["options"]["output"] == \
        "cv/tiny_lstm_2.npz"
    assert (here / "cv" / "tiny_lstm_2_best.npz").exists()
    for name, data in saved.items():  # the first run's files are untouched
        assert (here / "cv" / name).read_bytes() == data
    assert sorted(p.name for p in (here / "cv").iterdir()) == [  # + the run records
        "tiny_lstm.npz", "tiny_lstm.npz.run.json", "tiny_lstm_2.npz", "tiny_lstm_2.npz.run.json",
        "tiny_lstm_2_best.npz", "tiny_lstm_best.npz"]
    # resuming the first run (no --output: it continues in place) is allowed
    status, _, err = run(["train-char", "--init-from", first, "--max-iterations", "1", "-q"],
                         capsys)
    assert status == 0, err
    assert io.read_metadata(first)["metadata"]["trainer"]["iteration"] == 3


def test_existing_output_refused_unless_overwrite_or_resume(here, capsys):
    out = here / "out.npz"
    assert run(["train-char", *TINY, "--output", out], capsys)[0] == 0
    before = out.read_bytes()
    status, stdout, err = run(["train-char", *TINY, "--output", out], capsys)
    line = one_error_line(err)
    assert status == 2 and stdout == ""
    assert "already holds a checkpoint of another run" in line and "--overwrite" in line
    assert out.read_bytes() == before and not (here / "out.npz.lock").exists()
    # only the _best file of another run is there: refused too
    (here / "b_best.npz").write_bytes(b"another run's best")
    status, _, err = run(["train-char", *TINY, "--output", here / "b.npz"], capsys)
    assert status == 2 and "b_best.npz already holds" in one_error_line(err)
    # --init-from the same file: a resume, allowed
    status, _, err = run(["train-char", "--init-from", out, "--output", out,
                          "--max-iterations", "1", "-q"], capsys)
    assert status == 0, err
    # --overwrite: a fresh run replaces it
    status, _, err = run(["train-char", *TINY, "--output", out, "--overwrite", "--seed", "7"],
                         capsys)
    assert status == 0, err
    assert io.read_metadata(out)["metadata"]["trainer"]["iteration"] == 2
    assert io.read_metadata(out)["metadata"]["options"]["seed"] == 7


def test_locked_output_refused_and_stale_lock_taken_over(here, capsys):
    out = here / "out.npz"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (here / "out.npz.lock").write_text(f"{sleeper.pid} {os.uname().nodename}\n")
        status, _, err = run(["train-char", *TINY, "--output", out], capsys)
        line = one_error_line(err)
        assert status == 1 and f"pid {sleeper.pid}" in line and "out.npz.lock" in line
        assert not out.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    (here / "out.npz.lock").write_text(f"{_dead_pid()} {os.uname().nodename}\n")
    status, _, err = run(["train-char", *TINY, "--output", out], capsys)
    assert status == 0, err
    assert out.exists() and not (here / "out.npz.lock").exists()  # released at the end


def test_two_concurrent_default_names_do_not_collide(here):
    lock = OutputLock(here / "cv" / "x.npz")
    (here / "cv").mkdir()
    with lock:  # a live run holds the default name: the next one takes _2
        with outputs.command_scope():
            got = outputs.claim_output(None, here / "cv" / "x.npz", output=None, init_from=None)
            assert got == str(here / "cv" / "x_2.npz")
            assert (here / "cv" / "x_2.npz.lock").exists()
        assert not (here / "cv" / "x_2.npz.lock").exists()


def test_default_directory_created_and_removed_when_the_run_fails(here, capsys):
    (here / "short.txt").write_text("abc\n")
    status, _, err = run(["train-char", "--corpus", "short.txt", "-q"], capsys)
    assert status == 1 and "shorter than one batch" in one_error_line(err)
    assert not (here / "cv").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_directory_one_line_before_training(here, capsys):
    ro = here / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        status, _, err = run(["train-char", *TINY, "--output", ro / "x.npz"], capsys)
        assert status == 1 and "is not writable" in one_error_line(err)
    finally:
        ro.chmod(0o700)


def test_other_training_commands_refuse_an_existing_output(here, capsys):
    (here / "labels.tsv").write_text("a\tthe cat sat\nb\tthe dog ran\n" * 10, encoding="utf-8")
    for argv, name in [
        (["train", "--corpus", "tiny.txt"], "w.npz"),
        (["train-cloze", "--corpus", "tiny.txt"], "c.npz"),
        (["classify", "train", "--data", "labels.tsv"], "k.npz"),
    ]:
        (here / name).write_bytes(b"precious")
        before = sorted(p.name for p in here.iterdir())
        status, stdout, err = run([*argv, "--output", name, "-q"], capsys)
        line = one_error_line(err)
        assert status == 2 and stdout == "", (argv, err)
        assert f"{name} already holds a checkpoint of another run" in line
        assert (here / name).read_bytes() == b"precious"
        assert sorted(p.name for p in here.iterdir()) == before  # no lock, nothing else


def test_word_train_default_name_is_not_reused(here, monkeypatch):
    stamp = wordcli._default_output("rnn", 50, 1000)
    (here / stamp).write_bytes(b"a run from the same second")
    with outputs.command_scope():
        got = outputs.claim_output(None, stamp, output=None, init_from=None)
    assert got == stamp.replace(".npz", "_2.npz")
    assert (here / stamp).read_bytes() == b"a run from the same second"


def test_absurd_sizes_one_line_before_allocating(here, capsys):
    status, _, err = run(["train-char", *TINY, "--hidden-dim", "100000"], capsys)
    line = one_error_line(err)
    assert status == 1 and "--hidden-dim 100000" in line and "GiB" in line
    assert "is available" in line and not (here / "cv").exists()
    with pytest.raises(CLIError, match=r"^x: 1,000 parameters would need at least 31\.2 KiB "
                                       r"of memory to train, but 16\.0 KiB is available"):
        outputs.check_params_memory({"W": (10, 100)}, "x", available=2**14)
    assert outputs.check_params_memory({"W": (10, 100)}, "x", available=2**30) == 1000


def test_train_char_batch_1_seq_1_trains(here, capsys):
    status, _, err = run(["train-char", "--corpus", "tiny.txt", "--hidden-dim", "8",
                          "--num-layers", "1", "--batch-size", "1", "--seq-length", "1",
                          "--max-iterations", "3", "--eval-val-every", "3", "--output", "one.npz",
                          "-q"], capsys)
    assert status == 0, err
    md = io.read_metadata(here / "one.npz")["metadata"]
    assert md["trainer"]["iteration"] == 3 and np.isfinite(md["trainer"]["train_losses"][-1][1])


@pytest.mark.parametrize("content, says", [
    (b"", "the file is empty"),
    (b"PK\x03\x04" + b"\0" * 100, "the file is truncated"),
    (bytes(range(256)) * 4, "not a zip archive"),
])
def test_sample_char_of_a_damaged_file_says_what_is_wrong(here, capsys, content, says):
    bad = here / "bad.npz"
    bad.write_bytes(content)
    for argv in (["sample-char", bad], ["train-char", "--init-from", bad]):
        status, _, err = run(argv, capsys)
        line = one_error_line(err)
        assert status == 1 and says in line and "not a char-rnn checkpoint" not in line, argv
