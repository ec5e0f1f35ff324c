"""Tests of the ``theano-rnn`` command line (:mod:`theano_rnn.cli.word`) and the embedded corpus.

Most tests call ``cli.main([...])`` in-process (a compile costs seconds; the
C modules are cached after the first).  Option resolution (flags, environment
variables, defaults) is tested through ``cli._resolve_train``, which builds
nothing.  Two tests run the real program in a subprocess for its exit status.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.cli import word as cli
from theano_rnn.data import corpora
from theano_rnn.data.words import MASK_TOKEN, UNKNOWN_TOKEN
from theano_rnn.errors import DataError

TEXT = """\
The cat sat on the mat. The dog sat on the log. A cat saw a dog.

The dog ran to the cat. The cat ran to the mat. A dog saw the log.

The bird sat on the dog. A bird saw a cat on the mat. The log was on the mat.

The cat and the dog sat. The bird ran to the log. A dog and a cat ran.

The mat was red. The log was old. A bird was on the log. The cat was old.
"""

ENV_NAMES = [name for name, _ in cli.ENV_DEFAULTS.values()]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ENV_NAMES:
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


def meta(path):
    arrays = np.load(path, allow_pickle=False)
    return json.loads(str(arrays["__meta__"]))


def parse(argv):
    return cli.build_parser().parse_args([str(a) for a in argv])


# ----------------------------------------------------------------- embedded corpus


def test_default_corpus_is_prose():
    docs = corpora.default_corpus_documents()
    assert len(docs) > 500 and sum(map(len, docs)) > 100_000
    joined = "\n".join(docs)
    assert "::=" not in joined and ">>>" not in joined and "****" not in joined
    assert all(len(d) >= corpora.MIN_PARAGRAPH_CHARS and "\n" not in d for d in docs)
    assert any("statement" in d for d in docs)
    assert docs == corpora.default_corpus_documents()  # deterministic
    few = corpora.default_corpus_documents(max_chars=1000)
    assert few == docs[: len(few)] and 1000 <= sum(map(len, few)) < 1000 + max(map(len, few))


def test_clean_paragraph_rules():
    clean = corpora.clean_paragraph
    assert clean('The "if" statement is used for *conditional* execution.') == (
        "The if statement is used for conditional execution."
    )
    assert clean("The if statement\n****************") is None
    assert clean('   if_stmt ::= "if" assignment_expression ":" suite') is None
    assert clean(">>> x = 1\n>>> print(x)") is None
    assert clean("object.__index__(self)") is None
    assert clean("* Each item of the list is\n  an element of prose text.") == (
        "Each item of the list is an element of prose text."
    )


def test_default_corpus_missing_pydoc_data(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pydoc_data.topics", None)  # import -> ImportError
    with pytest.raises(corpora.CorpusUnavailableError, match="pydoc_data"):
        corpora.default_corpus_documents()
    assert issubclass(corpora.CorpusUnavailableError, DataError)
    status, out, err = run(["train", "--nepoch", "0"], capsys)
    assert status == 1 and out == ""
    assert err.strip().count("\n") == 0 and err.startswith("theano-rnn: error:") and "--corpus" in err


# ------------------------------------------------------------- option resolution


def test_parser_every_train_flag():
    args = parse([
        "train", "--corpus", "c.csv", "--cell", "lstm", "--scheme", "part2",
        "--vocabulary-size", "123", "--hidden-dim", "7", "--learning-rate", "0.5",
        "--nepoch", "3", "--bptt-truncate", "2", "--truncation", "per_output",
        "--num-layers", "2", "--gate-activation", "sigmoid", "--decay", "0.7",
        "--evaluate-loss-after", "4", "--print-every", "9", "--max-sentences", "11",
        "--min-sent-characters", "5", "--output", "o.npz", "--init-from", "i.npz",
        "--seed", "3", "--mode", "numba", "--nltk-data", "nd", "--samples", "6",
        "--min-length", "2", "--quiet", "--log-level", "debug", "--optimizer", "rmsprop",
    ])
    expected = dict(
        command="train", corpus="c.csv", cell="lstm", scheme="part2", vocabulary_size=123,
        hidden_dim=7, learning_rate=0.5, nepoch=3, bptt_truncate=2, truncation="per_output",
        num_layers=2, gate_activation="sigmoid", decay=0.7, evaluate_loss_after=4,
        print_every=9, max_sentences=11, min_sent_characters=5, output="o.npz",
        init_from="i.npz", seed=3, mode="NUMBA", nltk_data="nd", samples=6, min_length=2,
        quiet=True, log_level="DEBUG", optimizer="rmsprop",
    )
    assert {k: getattr(args, k) for k in expected} == expected


def test_defaults_embedded_vs_tutorial():
    s, _ = cli._resolve_train(parse(["train"]), {})
    assert s["embedded_corpus"] and s["corpus"] is None
    assert (s["cell"], s["scheme"], s["optimizer"]) == ("rnn", "part2", "sgd")
    assert (s["vocabulary_size"], s["hidden_dim"], s["nepoch"], s["max_sentences"]) == (
        1000, 50, 2, 1000)
    assert (s["learning_rate"], s["evaluate_loss_after"], s["bptt_truncate"]) == (0.01, 1, -1)

    # With a corpus: train-theano.py's defaults ...
    s, _ = cli._resolve_train(parse(["train", "--corpus", "x.csv"]), {})
    assert (s["vocabulary_size"], s["hidden_dim"], s["learning_rate"], s["nepoch"]) == (
        8000, 80, 0.005, 100)
    assert (s["evaluate_loss_after"], s["bptt_truncate"], s["max_sentences"]) == (5, 4, None)
    assert s["decay"] is None and s["print_every"] is None
    # ... and train.py's for the GRU.
    s, _ = cli._resolve_train(parse(["train", "--corpus", "x.csv", "--cell", "gru"]), {})
    assert (s["scheme"], s["optimizer"], s["vocabulary_size"], s["hidden_dim"]) == (
        "part4", "rmsprop", 2000, 128)
    assert (s["learning_rate"], s["nepoch"], s["print_every"], s["decay"]) == (
        0.001, 20, 25000, 0.9)
    assert (s["bptt_truncate"], s["min_sent_characters"], s["evaluate_loss_after"]) == (-1, 0, None)
    # --decay turns the RNN's optimizer into RMSprop.
    s, _ = cli._resolve_train(parse(["train", "--corpus", "x", "--decay", "0.5"]), {})
    assert (s["optimizer"], s["decay"], s["learning_rate"]) == ("rmsprop", 0.5, 0.001)


def test_environment_defaults_and_flag_precedence():
    env = {
        "VOCABULARY_SIZE": "300", "HIDDEN_DIM": "12", "LEARNING_RATE": "0.25", "NEPOCH": "7",
        "MODEL_OUTPUT_FILE": "env.npz", "INPUT_DATA_FILE": "env.csv", "PRINT_EVERY": "33",
    }
    s, _ = cli._resolve_train(parse(["train", "--cell", "gru"]), env)
    assert (s["vocabulary_size"], s["hidden_dim"], s["learning_rate"], s["nepoch"]) == (
        300, 12, 0.25, 7)
    assert (s["output"], s["corpus"], s["print_every"]) == ("env.npz", "env.csv", 33)
    assert s["sources"]["hidden_dim"] == "env:HIDDEN_DIM"
    flags = ["train", "--cell", "gru", "--vocabulary-size", "301", "--hidden-dim", "13",
             "--learning-rate", "0.5", "--nepoch", "8", "--output", "f.npz", "--corpus", "f.csv",
             "--print-every", "34"]
    s, _ = cli._resolve_train(parse(flags), env)
    assert (s["vocabulary_size"], s["hidden_dim"], s["learning_rate"], s["nepoch"]) == (
        301, 13, 0.5, 8)
    assert (s["output"], s["corpus"], s["print_every"]) == ("f.npz", "f.csv", 34)
    assert s["sources"]["hidden_dim"] == "flag"
    # Empty variables are unset; a bad value is a one-line error naming the variable.
    s, _ = cli._resolve_train(parse(["train"]), {"HIDDEN_DIM": " "})
    assert s["hidden_dim"] == 50
    with pytest.raises(cli.CLIError, match="LEARNING_RATE"):
        cli._resolve_train(parse(["train"]), {"LEARNING_RATE": "fast"})


def test_model_file_environment_is_init_from(tmp_path):
    from theano_rnn.models.word import RNNTheano

    ckpt = tmp_path / "m.npz"
    io.save(ckpt, RNNTheano(20, 6, rng=np.random.RandomState(0)), metadata={"options": {}})
    s, loaded = cli._resolve_train(parse(["train"]), {"MODEL_FILE": str(ckpt)})
    assert s["init_from"] == str(ckpt) and loaded.model.hidden_dim == 6
    assert (s["hidden_dim"], s["vocabulary_size"], s["cell"]) == (6, 20, "rnn")
    # A flag that contradicts the checkpoint is refused.
    with pytest.raises(cli.CLIError, match="--hidden-dim 7"):
        cli._resolve_train(parse(["train", "--init-from", ckpt, "--hidden-dim", "7"]), {})
    # Flags that do not change shapes override the stored configuration.
    s, loaded = cli._resolve_train(
        parse(["train", "--init-from", ckpt, "--bptt-truncate", "2", "--truncation", "per_output"]),
        {})
    assert (loaded.model.bptt_truncate, loaded.model.truncation) == (2, "per_output")


# ------------------------------------------------------------------------- train


def test_train_gru_part4_every_flag_recorded(corpus, tmp_path, capsys, monkeypatch):
    calls = {}
    real = cli.generate_sentences_part4

    def spy(*args, **kwargs):
        calls.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "generate_sentences_part4", spy)
    out_path = tmp_path / "gru.npz"
    status, out, err = run([
        "train", "--corpus", corpus, "--cell", "gru", "--scheme", "part4",
        "--vocabulary-size", "25", "--hidden-dim", "6", "--num-layers", "1",
        "--gate-activation", "sigmoid", "--bptt-truncate", "3",
        "--learning-rate", "0.002", "--decay", "0.8", "--nepoch", "2", "--print-every", "5",
        "--max-sentences", "8", "--min-sent-characters", "20", "--output", out_path,
        "--seed", "7", "--mode", "C", "--samples", "2", "--min-length", "3", "--quiet",
    ], capsys, environ={"PRINT_EVERY": "4"})
    assert status == 0, err
    # --quiet: no progress bar, no INFO lines (the offline-Punkt WARNING may remain)
    assert all(" WARNING " in line for line in err.splitlines()), err
    assert len(out.strip().splitlines()) == 2
    assert calls["min_length"] == 3

    ckpt = io.load(out_path)
    config = ckpt.model.config()
    assert config["cell"] == "gru" and config["hidden_dim"] == 6 and config["num_layers"] == 1
    assert config["gate_activation"] == "sigmoid"
    assert (config["bptt_truncate"], config["truncation"]) == (3, "scan")
    assert config["optimizer"] == "rmsprop"
    assert ckpt.index_to_word[0] == MASK_TOKEN and len(ckpt.index_to_word) <= 25
    assert set(ckpt.model.get_optimizer_state()) == {"mE", "mU", "mW", "mV", "mb", "mc"}
    md = ckpt.metadata
    opts = md["options"]
    assert opts["learning_rate"] == 0.002 and opts["decay"] == 0.8 and opts["nepoch"] == 2
    assert opts["print_every"] == 5 and md["option_sources"]["print_every"] == "flag"
    assert opts["max_sentences"] == 8 and md["num_train_sentences"] == 8
    assert opts["min_sent_characters"] == 20 and opts["scheme"] == "part4"
    assert opts["seed"] == 7 and opts["mode"] == "C" and opts["samples"] == 2
    assert opts["min_length"] == 3 and opts["vocabulary_size"] == 25
    assert opts["corpus"] == str(corpus) and opts["output"] == str(out_path)
    # callbacks after 5, 10, 15 examples, then the final loss after 16
    assert [n for n, _ in md["losses"]] == [5, 10, 15, 16] and md["final"] is True
    assert md["num_examples_seen"] == 16 and np.isfinite(md["loss"])
    # min_sent_characters was applied: "the mat was red." (16 characters) is gone, and
    # with it the only "red" (which the unfiltered part-2 run below keeps)
    assert "red" not in ckpt.index_to_word and "mat" in ckpt.index_to_word


def test_train_rnn_part2_env_defaults_then_resume_and_generate(
    corpus, tmp_path, capsys, monkeypatch
):
    out_path = tmp_path / "env.npz"
    env = {"VOCABULARY_SIZE": "20", "HIDDEN_DIM": "7", "LEARNING_RATE": "0.003",
           "NEPOCH": "3", "MODEL_OUTPUT_FILE": str(out_path), "INPUT_DATA_FILE": str(corpus)}
    status, out, err = run([
        "train", "--hidden-dim", "8", "--evaluate-loss-after", "2", "--optimizer", "sgd",
        "--truncation", "per_output",
        "--samples", "3", "--seed", "1", "--min-length", "1", "--log-level", "INFO",
    ], capsys, environ=env)
    assert status == 0, err
    assert "Loss after num_examples_seen=0 epoch=0" in err and "train " in err  # log + progress
    assert len(out.strip().splitlines()) == 3
    ckpt = io.load(out_path)
    m, md = ckpt.model, ckpt.metadata
    assert m.hidden_dim == 8  # the flag beats HIDDEN_DIM
    assert m.word_dim == len(ckpt.index_to_word) <= 20 and ckpt.index_to_word[-1] == UNKNOWN_TOKEN
    assert "red" in ckpt.index_to_word
    assert (m.bptt_truncate, m.optimizer, m.truncation) == (4, "sgd", "per_output")
    opts = md["options"]
    assert (opts["learning_rate"], opts["nepoch"], opts["evaluate_loss_after"]) == (0.003, 3, 2)
    assert md["option_sources"]["learning_rate"] == "env:LEARNING_RATE"
    assert md["option_sources"]["corpus"] == "env:INPUT_DATA_FILE"
    n = md["num_train_sentences"]
    assert [k for k, _ in md["losses"]] == [0, 2 * n, 3 * n]  # epochs 0 and 2, then final

    # Resume it (no --output: a tutorial-style name in the current directory).
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    status, out, err = run(["train", "--init-from", out_path, "--corpus", corpus, "--nepoch", "1",
                            "--samples", "0", "-q"], capsys)
    assert status == 0, err
    assert out == ""  # --samples 0
    (written,) = [p for p in workdir.iterdir() if not p.name.endswith(".run.json")]
    assert (workdir / (written.name + ".run.json")).is_file()  # its run record beside it
    assert re.fullmatch(r"rnn-theano-8-\d+-\d{4}(-\d\d){5}\.npz", written.name)
    resumed = io.load(written)
    assert resumed.index_to_word == ckpt.index_to_word
    assert resumed.metadata["resumed_from"] == str(out_path)
    assert resumed.metadata["losses"][: len(md["losses"])] == md["losses"]
    assert resumed.metadata["num_examples_seen"] == 4 * n

    # generate from it: deterministic for a seed, options wired
    argv = ["generate", written, "-n", "4", "--seed", "3", "--min-length", "2", "-q"]
    status, out1, err = run(argv, capsys)
    assert status == 0, err
    lines = out1.strip().splitlines()
    assert len(lines) == 4 and all(len(line.split()) >= 2 for line in lines)
    assert UNKNOWN_TOKEN not in out1
    assert run(argv, capsys)[1] == out1

    # A tutorial-layout copy (no vocabulary): error, unless --corpus rebuilds it.
    bare = tmp_path / "bare.npz"
    np.savez(bare, **m.get_params())
    status, out, err = run(["generate", bare, "-q"], capsys)
    assert status == 1 and out == "" and len(err.splitlines()) == 1
    assert "stores no vocabulary" in err and "--corpus" in err
    status, out, err = run(["generate", bare, "--corpus", corpus, "--vocabulary-size", "20",
                            "-n", "2", "--seed", "0", "--min-length", "1", "-q"], capsys)
    assert status == 0, err
    assert len(out.strip().splitlines()) == 2
    status, out, err = run(["generate", bare, "--corpus", corpus, "--vocabulary-size", "10",
                            "--log-level", "ERROR"], capsys)
    assert status == 1 and "word_dim" in err and len(err.splitlines()) == 1


# --------------------------------------------------------------------- gradcheck


def test_gradcheck_passes_and_flags_are_wired(capsys, monkeypatch):
    status, out, err = run(["gradcheck"], capsys)
    assert status == 0, err
    assert re.search(r"^U\s+1000\s.*passed$", out, re.M)
    assert re.search(r"^V\s+1000\s.*passed$", out, re.M)
    assert re.search(r"^W\s+100\s.*passed$", out, re.M)
    assert "Gradient check of RNNTheano(word_dim=100, hidden_dim=10" in err

    seen = {}
    real = cli.gradient_check

    def spy(model, x, y, **kwargs):
        seen.update(model.config(), x=list(x), y=list(y), **kwargs)
        return real(model, x, y, **kwargs)

    monkeypatch.setattr(cli, "gradient_check", spy)
    status, out, err = run([
        "gradcheck", "--cell", "gru", "--vocabulary-size", "6", "--hidden-dim", "2",
        "--num-layers", "1", "--gate-activation", "sigmoid", "--bptt-truncate", "1",
        "--truncation", "per_output", "--x", "0,5", "--y", "5,1", "--delta", "0.002",
        "--error-threshold", "0.02", "--seed", "4", "--log-level", "WARNING",
    ], capsys)
    assert status == 0, out
    assert err == ""  # --log-level WARNING
    assert {k: seen[k] for k in ("cell", "word_dim", "hidden_dim", "num_layers",
                                 "gate_activation", "bptt_truncate", "truncation")} == {
        "cell": "gru", "word_dim": 6, "hidden_dim": 2, "num_layers": 1,
        "gate_activation": "sigmoid", "bptt_truncate": 1, "truncation": "per_output"}
    assert (seen["x"], seen["y"], seen["h"], seen["error_threshold"]) == ([0, 5], [5, 1], 0.002, 0.02)
    assert {line.split()[0] for line in out.splitlines()[1:-1]} == {"E", "U", "W", "V", "b", "c"}


def test_gradcheck_failure_exits_1(capsys):
    status, out, err = run(["gradcheck", "--vocabulary-size", "5", "--hidden-dim", "2",
                            "--error-threshold", "1e-15", "-q"], capsys)
    assert status == 1 and "FAILED" in out


# -------------------------------------------------------------------- bad input


@pytest.fixture
def existing(tmp_path):
    path = tmp_path / "existing.npz"
    path.write_bytes(b"precious bytes")
    return path


def _bad_cases(tmp_path, corpus):
    from theano_rnn.models.word import RNNTheano

    nobody = tmp_path / "nobody.csv"
    nobody.write_text("title,text\nhello,world\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    good = RNNTheano(10, 3, rng=np.random.RandomState(0)).get_params()
    wrong_key = tmp_path / "wrong_key.npz"
    np.savez(wrong_key, U=good["U"], V=good["V"], X=good["W"])
    wrong_shape = tmp_path / "wrong_shape.npz"
    np.savez(wrong_shape, U=good["U"], V=good["V"], W=np.zeros((4, 4)))
    return {
        "missing corpus": ["train", "--corpus", tmp_path / "missing.csv"],
        "empty corpus": ["train", "--corpus", empty],
        "csv without body": ["train", "--corpus", nobody],
        "vocabulary below 3": ["train", "--corpus", corpus, "--vocabulary-size", "2"],
        "checkpoint wrong key": ["train", "--corpus", corpus, "--init-from", wrong_key],
        "checkpoint wrong shape": ["train", "--corpus", corpus, "--init-from", wrong_shape],
        "non-finite loss": ["train", "--corpus", corpus, "--learning-rate", "1e12",
                            "--vocabulary-size", "10", "--hidden-dim", "3", "--nepoch", "2",
                            "--evaluate-loss-after", "1", "--log-level", "ERROR"],
        "unknown cell": ["train", "--corpus", corpus, "--cell", "transformer"],
        "bad mode": ["train", "--corpus", corpus, "--mode", "TURBO"],
        "missing nltk_data": ["train", "--corpus", corpus, "--nltk-data", tmp_path / "nope"],
        "part2 with print-every": ["train", "--corpus", corpus, "--print-every", "5"],
        "decay with sgd": ["train", "--corpus", corpus, "--optimizer", "sgd", "--decay", "0.9"],
        "negative epochs": ["train", "--corpus", corpus, "--nepoch", "-1"],
        "generate wrong key": ["generate", wrong_key],
        "generate missing": ["generate", tmp_path / "missing.npz"],
        "gradcheck index out of range": ["gradcheck", "--vocabulary-size", "4"],
    }


BAD = ["missing corpus", "empty corpus", "csv without body", "vocabulary below 3",
       "checkpoint wrong key", "checkpoint wrong shape", "non-finite loss", "unknown cell",
       "bad mode", "missing nltk_data", "part2 with print-every", "decay with sgd",
       "negative epochs", "generate wrong key", "generate missing",
       "gradcheck index out of range"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_one_line_nonzero_nothing_written(case, tmp_path, corpus, existing, capsys):
    argv = _bad_cases(tmp_path, corpus)[case]
    if argv[0] == "train":  # --overwrite: the run gets past the output policy to the fault
        argv = argv + ["--output", existing, "--overwrite"]
    before = sorted(p.name for p in tmp_path.iterdir())
    status, out, err = run(argv, capsys)
    assert status != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("theano-rnn: error: ") and "Traceback" not in err
    assert existing.read_bytes() == b"precious bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_bad_environment_value(capsys, corpus):
    status, out, err = run(["train", "--corpus", corpus], capsys, environ={"NEPOCH": "many"})
    assert status == 2 and len(err.strip().splitlines()) == 1 and "NEPOCH" in err


def test_output_directory_must_exist(capsys, corpus, tmp_path):
    status, out, err = run(["train", "--corpus", corpus, "--vocabulary-size", "10",
                            "--output", tmp_path / "no" / "dir.npz", "-q"], capsys)
    assert status == 1 and "does not exist" in err and len(err.strip().splitlines()) == 1


def test_no_command_and_help(capsys):
    assert run([], capsys)[0] == 2
    status, out, _ = run(["train", "--help"], capsys)
    assert status == 0 and "VOCABULARY_SIZE" in out and "embedded corpus" in out


def test_logging_is_configured_only_inside_main(capsys):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    run(["gradcheck", "--vocabulary-size", "5", "--hidden-dim", "2", "-q"], capsys)
    assert root.handlers == handlers and root.level == level
    code = ("import logging, theano_rnn.cli.word, theano_rnn.data.corpora; "
            "r = logging.getLogger(); print(len(r.handlers), r.level)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["0", str(logging.WARNING)]


# -------------------------------------------------------------------- subprocess


def _console_script():
    script = Path(sys.executable).with_name("theano-rnn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "theano_rnn"]


def test_console_script_exit_status(tmp_path, existing):
    result = subprocess.run(
        _console_script() + ["train", "--corpus", str(tmp_path / "missing.csv"),
                             "--output", str(existing)],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"theano-rnn: error: file not found: {tmp_path / 'missing.csv'}"]
    assert existing.read_bytes() == b"precious bytes"


def test_python_m_usage_error_exit_2():
    result = subprocess.run([sys.executable, "-m", "theano_rnn", "train", "--cell", "xyz"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "invalid choice: 'xyz'" in result.stderr


@pytest.mark.parametrize("script", ["train_theano.py", "train_gru.py", "generate.py",
                                    "reproduce_wildml_part2.py", "reproduce_wildml_part4.py"])
def test_scripts_start(script):
    path = Path(__file__).resolve().parents[2] / "scripts" / script
    result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_blas_threads_pins_and_restores_openblas():
    """The commands pin NumPy's OpenBLAS to one thread and restore it afterwards."""
    import ctypes

    from theano_rnn.cli.util import blas_threads

    libs = []
    with open("/proc/self/maps") as fh:
        for line in fh:
            path = line.split()[-1]
            if "openblas" in path.lower() and path.startswith("/") and path not in libs:
                libs.append(path)
    getter = None
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                     "openblas_get_num_threads64_", "openblas_get_num_threads"):
            getter = getattr(lib, name, None)
            if getter is not None:
                break
        if getter is not None:
            break
    if getter is None:
        pytest.skip("NumPy is not linked to an OpenBLAS here")
    before = int(getter())
    with blas_threads(1):
        assert int(getter()) == 1
    assert int(getter()) == before
    with blas_threads(0):  # 0: leave it alone
        assert int(getter()) == before


def test_train_minibatches_from_the_command_line(corpus, tmp_path, capsys):
    out_path = tmp_path / "rnn-batch.npz"
    status, out, err = run([
        "train", "--corpus", corpus, "--cell", "rnn", "--scheme", "part4",
        "--vocabulary-size", "25", "--hidden-dim", "5", "--bptt-truncate", "-1",
        "--batch-size", "3", "--nepoch", "2", "--print-every", "4", "--max-sentences", "8",
        "--learning-rate", "0.05", "--output", out_path, "--seed", "3", "--samples", "1",
    ], capsys)
    assert status == 0, err
    assert "tokens/s" in err  # the minibatch trainer reports its speed
    ckpt = io.load(out_path)
    assert ckpt.model.graph == "fast"  # --batch-size > 1 implies the fast graph
    md = ckpt.metadata
    assert md["options"]["batch_size"] == 3 and md["options"]["graph"] == "fast"
    # 8 sentences in batches of 3, 3 and 2 (in a shuffled order) per epoch: a checkpoint
    # each time a multiple of 4 is passed (at most 2 examples later), the last one final
    seen = [n for n, _ in md["losses"]]
    assert len(seen) == 4 and seen[-1] == 16 and all(n % 4 < 3 for n in seen), seen
    assert md["final"] is True
    assert np.isfinite(md["loss"])


def test_graph_flag_alone_keeps_one_sentence_per_step(corpus, tmp_path, capsys):
    out_path = tmp_path / "fast.npz"
    status, _, err = run([
        "train", "--corpus", corpus, "--cell", "rnn", "--vocabulary-size", "25",
        "--hidden-dim", "4", "--nepoch", "1", "--max-sentences", "4", "--graph", "fast",
        "--output", out_path, "--seed", "1", "--samples", "0", "--quiet",
    ], capsys)
    assert status == 0, err
    md = io.load(out_path).metadata
    assert md["options"]["graph"] == "fast" and md["options"]["batch_size"] == 1
    assert md["num_examples_seen"] == 4


def test_resumed_checkpoint_keeps_its_graph_unless_told(corpus, tmp_path, capsys):
    first = tmp_path / "first.npz"
    common = ["--corpus", corpus, "--cell", "rnn", "--vocabulary-size", "25", "--hidden-dim", "4",
              "--nepoch", "1", "--max-sentences", "4", "--seed", "1", "--samples", "0", "--quiet"]
    assert run(["train", *common, "--graph", "fast", "--output", first], capsys)[0] == 0
    again = tmp_path / "again.npz"
    status, _, err = run(["train", *common, "--init-from", first, "--output", again], capsys)
    assert status == 0, err
    assert io.load(again).model.graph == "fast"
    assert io.load(again).metadata["options"]["graph"] == "fast"
