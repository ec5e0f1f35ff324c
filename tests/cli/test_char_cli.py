"""``train-char``, ``sample-char`` and ``plot`` (theano_rnn.cli.char).

Tiny models only (hidden 8, one layer, batch 2, seq 5, a few iterations) and
the same graph wherever possible, so PyTensor's compile cache is hit.  The
commands run in-process through :func:`theano_rnn.cli.char.main`; one test runs
the real program in a subprocess and interrupts it with SIGINT.
"""

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.cli import char as charcli
from theano_rnn.data import corpora
from theano_rnn.models.char import CharRNN

TEXT = (
    "the quick brown fox jumps over the lazy dog. 红楼梦里的梦。\n"
    "pack my box with five dozen liquor jugs! 床前明月光，疑是地上霜。\n"
) * 4 + "rare: \u00e9\u00df\n"  # two characters that --min-freq 2 folds into the unknown
OTHER = "completely different text with other letters: XYZ 0123456789\n" * 8
TINY = ["--hidden-dim", "8", "--num-layers", "1", "--batch-size", "2", "--seq-length", "5"]


def train(args, capsys=None):
    status = charcli.main(["train-char", "--quiet", *args])
    if capsys is None:
        return status
    out, err = capsys.readouterr()
    return status, out, err


def meta(path):
    return io.read_metadata(path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    p = d / "tiny.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """A tiny LSTM checkpoint (8 iterations, validated every 4), vocabulary with an unknown."""
    out = tmp_path_factory.mktemp("ck") / "tiny_lstm.npz"
    status = train(["--corpus", str(corpus), *TINY, "--min-freq", "2", "--max-iterations", "8",
                    "--eval-val-every", "4", "--output", str(out)])
    assert status == 0
    return out


# ----------------------------------------------------------------------- parser


def test_help_of_every_command(capsys):
    for cmd in charcli.COMMANDS:
        assert charcli.main([cmd, "--help"]) == 0
        assert "usage:" in capsys.readouterr().out
    assert charcli.main([]) == 2
    assert "missing command" in capsys.readouterr().err


def test_add_commands_hooks_into_another_parser():
    import argparse

    parser = argparse.ArgumentParser(prog="x")
    sub = parser.add_subparsers(dest="command")
    charcli.add_commands(sub)
    args = parser.parse_args(["sample-char", "a.npz", "--temperature", "0.5", "--argmax"])
    assert args.char_command == "sample-char" and args.temperature == 0.5 and args.argmax
    args = parser.parse_args(["train-char", "--corpus", "a.txt", "b.json", "--corpus", "c.txt"])
    assert args.corpus == ["a.txt", "b.json", "c.txt"]


def test_embedded_and_char_rnn_defaults():
    parser = charcli.build_parser()
    s, src = charcli._resolve_train(parser.parse_args(["train-char"]), {})
    assert s["embedded"] and s["time_budget"] == 40 and s["samples"] == 500
    assert s["corpus_chars"] == corpora.PYTHON_SOURCE_MAX_CHARS
    s, src = charcli._resolve_train(parser.parse_args(["train-char", "--corpus", "x.txt"]), {})
    expected = {"cell": "lstm", "num_layers": 2, "hidden_dim": 128, "seq_length": 50,
                "batch_size": 50, "learning_rate": 2e-3, "decay_rate": 0.95,
                "learning_rate_decay": 0.97, "learning_rate_decay_after": 10, "grad_clip": 5.0,
                "dropout": 0.0, "train_frac": 0.95, "val_frac": 0.05, "eval_val_every": 1000,
                "seed": 123, "max_epochs": 50, "time_budget": None, "samples": 0}
    assert {k: s[k] for k in expected} == expected
    assert not s["embedded"] and src["cell"] == "default"


def test_python_source_corpus_is_deterministic_and_bounded():
    a = corpora.python_source_corpus(max_chars=5000)
    assert a == corpora.python_source_corpus(max_chars=5000)
    assert 0 < len(a) <= 5000 and a.endswith("\n")
    files = corpora.python_source_files()
    assert [f.name for f in files] == sorted(f.name for f in files)
    assert not any(f.name.startswith("_") for f in files)
    assert "import" in corpora.python_source_corpus(max_chars=20000)


def test_python_source_corpus_missing_stdlib(tmp_path):
    with pytest.raises(corpora.CorpusUnavailableError, match="--corpus"):
        corpora.python_source_corpus(stdlib_dir=tmp_path)


def test_route_argv_and_is_char_checkpoint(trained, tmp_path):
    assert charcli.is_char_checkpoint(trained)
    assert charcli.route_argv(["sample", str(trained), "--seed", "1"])[0] == "sample-char"
    assert charcli.route_argv(["--quiet", "generate", str(trained)]) == [
        "--quiet", "sample-char", str(trained)]
    word = tmp_path / "word.npz"
    np.savez(word, U=np.zeros((2, 3)))
    for path in (word, tmp_path / "missing.npz"):
        assert not charcli.is_char_checkpoint(path)
        assert charcli.route_argv(["sample", str(path)]) == ["sample", str(path)]
    assert charcli.route_argv(["train", "--corpus", str(trained)])[0] == "train"


# ---------------------------------------------------------------------- train-char


def test_every_train_flag_is_wired_through(corpus, tmp_path, capsys):
    cache = tmp_path / "cache"
    cache.mkdir()
    out = tmp_path / "all.npz"
    status, stdout, err = train(
        ["--corpus", str(corpus), "--encoding", "utf-8", "--cell", "gru", "--num-layers", "1",
         "--hidden-dim", "8", "--input", "embedding", "--dropout", "0.1",
         "--gate-activation", "hard_sigmoid", "--seq-length", "5", "--batch-size", "3",
         "--min-freq", "2", "--train-frac", "0.8", "--val-frac", "0.2", "--optimizer", "adam",
         "--learning-rate", "0.01", "--decay-rate", "0.9", "--learning-rate-decay", "0.5",
         "--learning-rate-decay-after", "0", "--grad-clip", "1", "--max-epochs", "1.5",
         "--eval-val-every", "4", "--seed", "7", "--output", str(out), "--cache-dir", str(cache),
         "--mode", "C", "--blas-threads", "1", "--samples", "12", "--prime", "the",
         "--temperature", "0.5", "--time-budget", "600"],
        capsys,
    )
    assert status == 0, err
    ck = io.load(out)
    m = ck.model
    assert isinstance(m, CharRNN)
    assert (m.cell.name, m.num_layers, m.hidden_dim, m.input_mode, m.dropout, m.gate_activation,
            m.optimizer, m.decay_rate, m.grad_clip, m.seed) == (
        "gru", 1, 8, "embedding", 0.1, "hard_sigmoid", "adam", 0.9, 1.0, 7)
    md = ck.metadata
    assert md["kind"] == "char"
    assert md["loader"] == {"batch_size": 3, "seq_length": 5}
    assert md["train_options"] == {"learning_rate": 0.01, "learning_rate_decay": 0.5,
                                   "learning_rate_decay_after": 0, "max_epochs": 1.5,
                                   "eval_val_every": 4, "seed": 7, "explode_factor": 3.0}
    opts = md["options"]
    assert opts["corpus"] == [str(corpus)] and opts["min_freq"] == 2 and not opts["embedded"]
    assert (opts["train_frac"], opts["val_frac"], opts["time_budget"], opts["mode"]) == (
        0.8, 0.2, 600, "C")
    assert opts["sources"]["cell"] == "flag"
    assert md["vocab_unknown"] is not None  # min_freq 2 folded rare characters
    tr = md["trainer"]
    ntrain = int(tr["loader_state"]["nbatches"] * 0.8)
    assert tr["iteration"] == len(tr["train_losses"]) == int(1.5 * ntrain)
    assert tr["val_losses"][0][0] == 4
    assert tr["learning_rate"] == pytest.approx(0.005)  # halved once, after epoch 1
    assert list(cache.glob("*.theano_rnn-cache.npz"))  # --cache-dir used
    assert (tmp_path / "all_best.npz").exists()
    assert stdout.startswith("the") and len(stdout.rstrip("\n")) == 3 + 12


def test_resume_is_exact_and_vocabulary_is_checked(corpus, trained, tmp_path, capsys):
    straight = tmp_path / "straight.npz"
    assert train(["--corpus", str(corpus), *TINY, "--min-freq", "2", "--max-iterations", "12",
                  "--eval-val-every", "4", "--output", str(straight)]) == 0
    resumed = tmp_path / "resumed.npz"
    before = trained.read_bytes()
    # corpus, min_freq, geometry and options all come from the checkpoint
    status, _, err = train(["--init-from", str(trained), "--max-iterations", "4", "--output",
                            str(resumed)], capsys)
    assert status == 0, err
    assert trained.read_bytes() == before  # --output given: the source is untouched
    a, b = meta(straight)["metadata"], meta(resumed)["metadata"]
    assert a["trainer"]["train_losses"] == b["trainer"]["train_losses"]
    assert len(b["trainer"]["train_losses"]) == 12
    assert a["trainer"]["val_losses"] == b["trainer"]["val_losses"]
    assert b["options"]["resumed_from"] == [str(trained)]
    pa, pb = io.load_arrays(straight), io.load_arrays(resumed)
    for key in ("W", "V", "b"):
        np.testing.assert_array_equal(pa[key], pb[key])
    # a model flag that contradicts the checkpoint
    status, _, err = train(["--init-from", str(trained), "--hidden-dim", "16", "--output",
                            str(tmp_path / "x.npz")], capsys)
    assert status == 1 and "--hidden-dim 16 does not match" in err
    assert not (tmp_path / "x.npz").exists()


def test_time_budget_on_the_embedded_corpus_saves_and_samples(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = train([*TINY, "--corpus-chars", "3000", "--time-budget", "1e-9",
                              "--samples", "20"], capsys)
    assert status == 0, err
    path = tmp_path / "cv" / "python_stdlib_lstm.npz"  # default output
    md = meta(path)["metadata"]
    assert md["options"]["embedded"] and md["options"]["corpus"] is None
    assert md["options"]["corpus_characters"] <= 3000
    assert md["trainer"]["iteration"] == 1  # stopped after the first iteration
    assert md["trainer"]["val_losses"][-1][0] == 1  # evaluated before saving
    assert (tmp_path / "cv" / "python_stdlib_lstm_best.npz").exists()
    assert out.startswith("def ") and len(out.rstrip("\n")) == 4 + 20


def _precious(tmp_path):
    out = tmp_path / "out.npz"
    out.write_bytes(b"precious")
    (tmp_path / "out_best.npz").write_bytes(b"best")
    return out


def _bad_cases(tmp_path, corpus, trained):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    short = tmp_path / "short.txt"
    short.write_text("abc\n")
    other = tmp_path / "other.txt"
    other.write_text(OTHER)
    return {
        "empty": (["--corpus", str(empty)], 1, "empty"),
        "short": (["--corpus", str(short)], 1, "shorter than one batch"),
        "missing": (["--corpus", str(tmp_path / "nope.txt")], 1, "not found"),
        "seq0": (["--corpus", str(corpus), "--seq-length", "0"], 2, "--seq-length"),
        "seqneg": (["--corpus", str(corpus), "--seq-length", "-3"], 2, "--seq-length"),
        "cell": (["--corpus", str(corpus), "--cell", "transformer"], 2, "--cell"),
        "fractions": (["--corpus", str(corpus), "--train-frac", "0.9", "--val-frac", "0.3"], 2,
                      "exceed 1"),
        "vocab": (["--corpus", str(other), "--init-from", str(trained)], 1,
                  "different vocabulary"),
        "geometry": (["--init-from", str(trained), "--batch-size", "3"], 1, "batch_size"),
        "init-missing": (["--init-from", str(tmp_path / "none.npz")], 1, "no such checkpoint"),
        "mode": (["--corpus", str(corpus), "--mode", "TPU"], 2, "unknown mode"),
        "outdir": (["--corpus", str(corpus), "--output", str(tmp_path / "no" / "x.npz")], 1,
                   "does not exist"),
    }


@pytest.mark.parametrize("case", ["empty", "short", "missing", "seq0", "seqneg", "cell",
                                  "fractions", "vocab", "geometry", "init-missing", "mode",
                                  "outdir"])
def test_bad_input_one_line_nonzero_nothing_written(case, tmp_path, corpus, trained, capsys):
    args, status, needle = _bad_cases(tmp_path, corpus, trained)[case]
    out = _precious(tmp_path)
    trained_bytes = trained.read_bytes()
    if "--output" not in args:  # --overwrite: the run gets past the output policy to the fault
        args = [*args, "--output", str(out), "--overwrite"]
    got, stdout, err = train([*TINY[:4], *args], capsys)
    assert got == status, err
    lines = [ln for ln in err.splitlines() if ln.startswith("theano-rnn:")]
    assert len(lines) == 1 and lines[0].startswith("theano-rnn: error: "), err
    assert needle in lines[0] and "Traceback" not in err
    assert err.rstrip("\n").splitlines()[-1] == lines[0]  # the error is the last word
    assert stdout == ""
    assert out.read_bytes() == b"precious"
    assert (tmp_path / "out_best.npz").read_bytes() == b"best"
    assert trained.read_bytes() == trained_bytes


def test_nan_loss_exits_1_and_keeps_the_last_good_checkpoint(corpus, tmp_path, capsys,
                                                            monkeypatch):
    original = CharRNN.train_step
    calls = {"n": 0}

    def poisoned(self, *a, **k):
        loss, states = original(self, *a, **k)
        calls["n"] += 1
        return (float("nan") if calls["n"] == 6 else loss), states

    monkeypatch.setattr(CharRNN, "train_step", poisoned)
    out = tmp_path / "nan.npz"
    status, _, err = train(["--corpus", str(corpus), *TINY, "--eval-val-every", "4",
                            "--max-iterations", "10", "--output", str(out)], capsys)
    assert status == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith("theano-rnn: error: ") and "NaN" in line and "iteration 4" in line
    assert meta(out)["metadata"]["trainer"]["iteration"] == 4


def test_exploding_loss_exits_1(corpus, tmp_path, capsys):
    out = _precious(tmp_path)
    status, _, err = train(["--corpus", str(corpus), *TINY, "--learning-rate", "1000",
                            "--grad-clip", "0", "--max-iterations", "30", "--eval-val-every",
                            "1000", "--output", str(out), "--overwrite"], capsys)
    assert status == 1 and "exploded" in err and "nothing was saved" in err
    assert out.read_bytes() == b"precious"


def test_sigint_flag_first_stops_second_aborts():
    flag = charcli._StopFlag()
    with pytest.raises(KeyboardInterrupt):  # before the first iteration: nothing to save
        flag.handler(signal.SIGINT, None)
    flag.training = True
    flag.handler(signal.SIGINT, None)
    assert flag.requested
    with pytest.raises(KeyboardInterrupt):
        flag.handler(signal.SIGINT, None)


def test_ctrl_c_saves_a_checkpoint_and_exits_130(corpus, tmp_path):
    out = tmp_path / "int.npz"
    cmd = [sys.executable, "-m", "theano_rnn.cli.char", "train-char", "--corpus", str(corpus),
           *TINY, "--max-epochs", "100000", "--eval-val-every", "100000", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr], daemon=True).start()
    seen = []
    try:
        while True:
            line = lines.get(timeout=300)
            seen.append(line)
            if "First iteration done" in line:
                break
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    while not lines.empty():
        seen.append(lines.get())
    err = "".join(seen)
    assert status == 130, err[-2000:]
    assert f"checkpoint saved to {out}" in err
    md = meta(out)["metadata"]
    assert md["trainer"]["iteration"] >= 1


# --------------------------------------------------------------------- sample-char


def sample(args, capsys):
    status = charcli.main(["sample-char", "--quiet", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_sample_char_flags(trained, capsys):
    ck = str(trained)
    s1 = sample([ck, "--length", "40", "--seed", "5", "--temperature", "0.7"], capsys)
    s2 = sample([ck, "--length", "40", "--seed", "5", "--temperature", "0.7"], capsys)
    s3 = sample([ck, "--length", "40", "--seed", "6", "--temperature", "0.7"], capsys)
    assert s1[0] == 0 and s1 == s2 and s1[1] != s3[1]
    assert len(s1[1]) in (40, 41) and s1[1].endswith("\n")  # 40 characters (+ a newline)
    a1 = sample([ck, "--length", "30", "--argmax", "--prime", "the", "--seed", "1"], capsys)
    a2 = sample([ck, "--length", "30", "--argmax", "--prime", "the", "--seed", "2"], capsys)
    assert a1[0] == 0 and a1 == a2 and a1[1].startswith("the")
    st = sample([ck, "--length", "500", "--stop", "o", "--prime", "the "], capsys)
    assert st[0] == 0 and st[1].rstrip("\n").endswith("o") and "o" not in st[1][4:].rstrip("\n")[:-1]


def test_sample_char_prime_policies(trained, capsys):
    ck = str(trained)
    status, out, err = sample([ck, "--length", "5", "--prime", "the \u4e00"], capsys)
    assert status == 0 and out.startswith("the ")  # U+4E00 -> the unknown symbol
    status, out, err = sample([ck, "--length", "5", "--prime", "the \u4e00", "--prime-policy",
                               "error"], capsys)
    assert status == 1 and out == "" and err.count("\n") == 1 and "not in the vocabulary" in err
    status, out, err = sample([ck, "--length", "5", "--prime", "\u4e00\u4e01"], capsys)
    assert status == 1 and out == "" and "no character of the prime" in err


def test_sample_char_errors(trained, tmp_path, capsys):
    word = tmp_path / "word.npz"
    np.savez(word, U=np.zeros((2, 3)))
    for args, needle, code in (([str(tmp_path / "missing.npz")], "no such checkpoint", 1),
                               ([str(word)], "not a char-rnn checkpoint", 1),
                               ([str(trained), "--temperature", "0"], "--temperature", 2),
                               ([str(trained), "--length", "-1"], "--length", 2)):
        status, out, err = sample(args, capsys)
        assert status == code and needle in err and err.count("\n") == 1, err


# ---------------------------------------------------------------------------- plot


def test_plot_without_matplotlib(trained, tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *a, **k):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    png = tmp_path / "loss.png"
    status = charcli.main(["plot", str(trained), "-o", str(png)])
    err = capsys.readouterr().err
    assert status == 1 and not png.exists()
    assert err.strip() == ("theano-rnn: error: plot needs matplotlib, which is not installed: "
                           "pip install 'theano_rnn[plot]' (or pip install matplotlib)")


def test_plot_history_and_png(trained, tmp_path, capsys):
    train_l, val_l, xlabel, title = charcli.loss_history(trained)
    assert len(train_l) == 8 and [v[0] for v in val_l] == [4, 8] and xlabel == "iteration"
    pytest.importorskip("matplotlib", reason="matplotlib (the 'plot' extra) is not installed")
    png = tmp_path / "loss.png"
    assert charcli.main(["plot", str(trained), "-o", str(png), "--quiet"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_errors(tmp_path, capsys):
    assert charcli.main(["plot", str(tmp_path / "none.npz")]) == 1
    assert "no such checkpoint" in capsys.readouterr().err


def test_cli_wiring(trained, capsys):
    """theano_rnn.cli.word registers the char commands: they work through theano-rnn too."""
    from theano_rnn.cli import word as cli

    parser = cli.build_parser()
    try:
        parser.parse_args(["sample-char", str(trained)])
    except SystemExit:
        pytest.fail("theano_rnn.cli.word does not register the char commands")
    capsys.readouterr()
    assert cli.main(["sample-char", str(trained), "--length", "5", "--quiet"]) == 0
    assert cli.main(["sample", str(trained), "--length", "5", "--quiet"]) == 0
    assert capsys.readouterr().out.count("\n") >= 2


def test_reproduce_char_script_starts():
    path = Path(__file__).resolve().parents[2] / "scripts" / "reproduce_char.py"
    result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--experiment" in result.stdout and "tang" in result.stdout
