"""Tests of the one ``theano-rnn`` program (:mod:`theano_rnn.cli.main`).

Most checks are parse-level (what an argument list is rewritten to, which
command it parses to) on small fake checkpoints that hold only metadata; one
tiny char-rnn checkpoint is trained for the commands that really run.
"""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.cli import main as cli
from theano_rnn.cli import word

TEXT = "the quick brown fox jumps over the lazy dog.\n" * 20
TINY = ["--hidden-dim", "8", "--num-layers", "1", "--batch-size", "2", "--seq-length", "5",
        "--max-iterations", "4", "--eval-val-every", "4"]

FAKE_META = {
    "char": {"model": {"class": "CharRNN"}, "metadata": {"kind": "char"}},
    "cloze": {"model": {"class": "ClozeModel"}, "metadata": {"kind": "cloze"}},
    "classify": {"model": {"class": "SequenceClassifier"}, "metadata": {"kind": "classify"}},
}


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    """kind -> a .npz that has only that kind's metadata (the word one: the tutorials' layout)."""
    d = tmp_path_factory.mktemp("fake")
    paths = {"word": d / "word.npz"}
    np.savez(paths["word"], U=np.zeros((2, 3)), V=np.zeros((3, 2)), W=np.zeros((2, 2)))
    for kind, meta in FAKE_META.items():
        paths[kind] = d / f"{kind}.npz"
        np.savez(paths[kind], **{io.META_KEY: np.array(json.dumps(meta))})
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture(scope="module")
def char_ckpt(tmp_path_factory):
    """A tiny char-rnn checkpoint trained through the new name ``train --task charlm``."""
    d = tmp_path_factory.mktemp("char")
    corpus = d / "tiny.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    out = d / "char.npz"
    status = cli.main(["train", "--task", "charlm", "--quiet", "--corpus", str(corpus), *TINY,
                       "--output", str(out)])
    assert status == 0 and out.is_file()
    return str(out)


def translate(argv):
    return cli.translate_argv(argv, cli.build_parser())


def parse(argv):
    return cli.build_parser().parse_args(argv)


# ------------------------------------------------------------------ dispatch


@pytest.mark.parametrize("argv, command", [
    (["train"], "train"),
    (["train", "--task", "wordlm"], "train"),
    (["generate", "CKPT"], "generate"),
    (["sample", "CKPT"], "sample"),
    (["gradcheck"], "gradcheck"),
    (["train-char"], "train-char"),
    (["sample-char", "CKPT"], "sample-char"),
    (["plot", "CKPT"], "plot"),
    (["train-cloze"], "train-cloze"),
    (["cloze", "CKPT", "the ___ ."], "cloze"),
    (["classify", "train"], "classify"),
    (["classify", "predict", "CKPT"], "classify"),
])
def test_old_names_still_dispatch(argv, command):
    assert translate(argv) == argv  # old names pass through unchanged
    args = parse(argv)
    assert args.command == command
    assert command in word.COMMANDS


@pytest.mark.parametrize("task, expected, attr", [
    ("charlm", ["train-char"], ("char_command", "train-char")),
    ("cloze", ["train-cloze"], ("cloze_command", "train-cloze")),
    ("classify", ["classify", "train"], ("classify_action", "train")),
])
def test_train_task_is_the_task_command(task, expected, attr):
    for argv in (["train", "--task", task, "--seed", "3"], ["train", f"--task={task}", "--seed", "3"]):
        routed = translate(argv)
        assert routed == expected + ["--seed", "3"]
        assert getattr(parse(routed), attr[0]) == attr[1]


def test_train_without_task_is_word_train():
    args = parse(translate(["train", "--nepoch", "1"]))
    assert args.command == "train" and args.task == "wordlm" and args.nepoch == 1


@pytest.mark.parametrize("kind, command, attr", [
    ("word", ["generate"], ("command", "generate")),
    ("char", ["sample-char"], ("char_command", "sample-char")),
    ("cloze", ["cloze"], ("cloze_command", "cloze")),
    ("classify", ["classify", "predict"], ("classify_action", "predict")),
])
def test_sample_and_generate_take_every_kind(fakes, kind, command, attr):
    extra = {"cloze": ["the ___ ."], "classify": ["--text", "a b c"]}.get(kind, [])
    for name in ("sample", "generate"):
        routed = translate([name, fakes[kind], *extra])
        assert routed == command + [fakes[kind], *extra]
        assert getattr(parse(routed), attr[0]) == attr[1]


def test_option_values_are_not_the_checkpoint(fakes, capsys):
    # the value of --corpus is an existing file too: the checkpoint is the argument after it
    assert cli.main(["generate", "--corpus", fakes["word"], fakes["char"]]) == 2
    err = capsys.readouterr().err
    assert "--corpus does not fit" in err and "char-rnn checkpoint" in err
    routed = translate(["sample", "--text", fakes["word"], fakes["classify"]])
    assert routed == ["classify", "predict", "--text", fakes["word"], fakes["classify"]]


def test_checkpoint_kind(fakes, tmp_path):
    assert {k: cli.checkpoint_kind(p) for k, p in fakes.items()} == {
        "word": "word", "char": "char", "cloze": "cloze", "classify": "classify"}
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    assert cli.checkpoint_kind(junk) == "word"  # generate reports what is wrong with it


def test_eval_takes_cloze_and_classifier_checkpoints(fakes, capsys):
    assert translate(["eval", fakes["cloze"], "the ___ ."])[:1] == ["cloze"]
    assert translate(["eval", fakes["classify"], "--text", "x"])[:2] == ["classify", "predict"]
    for kind in ("word", "char"):
        assert cli.main(["eval", fakes[kind]]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("theano-rnn: error: ")
        assert cli.KINDS[kind][0] in err and "sample" in err


def test_bad_task_is_one_line(capsys):
    assert cli.main(["train", "--task", "poetry"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--task" in err and "charlm" in err and "Traceback" not in err


# ---------------------------------------------------------------------- help


@pytest.mark.parametrize("command", ["sample", "generate"])
def test_sample_help_shows_every_kind(command, capsys):
    """Fault: 'sample --help' showed only the word-level options."""
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--temperature", "--prime", "--length", "--argmax", "--num-samples",  # char
                   "--num-sentences", "--min-length", "--max-tries", "--corpus",  # word
                   "--top-k", "--marker", "TEXT",  # cloze
                   "--text", "--on-long", "FILE",  # classifier
                   "--mode", "--quiet"):
        assert option in out, option
    for title in ("word-level language model checkpoints", "char-rnn checkpoints",
                  "cloze checkpoints", "sequence-classifier checkpoints"):
        assert title in out
    # grouped: the char options come under the char heading
    assert out.index("char-rnn checkpoints") < out.index("--temperature") < out.index(
        "cloze checkpoints")


def test_help_with_a_checkpoint_is_the_same(fakes, capsys):
    assert cli.main(["sample", fakes["char"], "--help"]) == 0
    assert "--temperature" in capsys.readouterr().out


def test_eval_help_lists_its_kinds(capsys):
    assert cli.main(["eval", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--top-k" in out and "--text" in out and "--temperature" not in out


def test_train_help_lists_task(capsys):
    assert cli.main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--task" in out and "charlm" in out and "classify" in out
    assert cli.main(["train", "--task", "charlm", "--help"]) == 0
    assert "--seq-length" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["train-char"], ["sample-char"], ["plot"], ["train-cloze"], ["cloze"], ["classify"],
    ["classify", "train"], ["classify", "predict"], ["gradcheck"], [],
])
def test_every_command_has_help(argv, capsys):
    assert cli.main([*argv, "--help"]) == 0
    assert "usage:" in capsys.readouterr().out


def test_program_help_names_the_scheme(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--task wordlm|charlm|cloze|classify" in out and "eval CKPT" in out


# ------------------------------------------------------------------- misfits


@pytest.mark.parametrize("kind, argv, option", [
    ("char", ["--min-length", "3"], "--min-length"),
    ("char", ["--num-sentences=2"], "--num-sentences"),
    ("word", ["--temperature", "0.5"], "--temperature"),
    ("word", ["-n", "2", "--prime", "x"], "--prime"),
    ("cloze", ["the ___ .", "--length", "5"], "--length"),
    ("classify", ["--text", "x", "--marker", "@@"], "--marker"),
])
def test_misfit_option_is_one_line_naming_the_kind(fakes, kind, argv, option, capsys):
    assert cli.main(["sample", fakes[kind], *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("theano-rnn: error: ")
    assert option in err and f"{cli.KINDS[kind][0]} checkpoint" in err
    assert "unrecognized arguments" not in err


def test_fitting_options_and_values_pass(fakes):
    # option values that look like options of another kind are values, not options
    argv = ["sample", fakes["char"], "--prime", "--min-length=3 x", "-t", "0.5", "-n", "2"]
    routed = translate(argv)
    assert routed[0] == "sample-char"
    args = parse(routed)
    assert args.prime == "--min-length=3 x" and args.num_samples == 2 and args.temperature == 0.5


def test_unknown_option_still_argparse_error(fakes, capsys):
    assert cli.main(["sample", fakes["char"], "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--no-such-option" in err


# -------------------------------------------------------------- real commands


def test_generate_char_checkpoint_n(char_ckpt, capsys):
    """Fault: 'generate CHAR_CKPT -n 1' failed with 'unrecognized arguments'."""
    capsys.readouterr()
    assert cli.main(["generate", char_ckpt, "-n", "1", "--length", "12", "--quiet"]) == 0
    one = capsys.readouterr().out
    assert len(one) == 13 and one.endswith("\n")
    # the same through the old entry point and the old name: identical text
    assert word.main(["sample-char", char_ckpt, "--length", "12", "--quiet"]) == 0
    assert capsys.readouterr().out == one
    assert word.main(["generate", char_ckpt, "-n", "1", "--length", "12", "--quiet"]) == 0
    assert capsys.readouterr().out == one
    # -n 2: two samples, a blank line between; the first is the -n 1 sample (same seed)
    assert cli.main(["sample", char_ckpt, "-n", "2", "--length", "12", "--quiet"]) == 0
    two = capsys.readouterr().out
    assert two.startswith(one + "\n") and len(two) == 2 * 13 + 1


def test_generate_char_checkpoint_misfit_real(char_ckpt, capsys):
    assert cli.main(["generate", char_ckpt, "--max-tries", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "char-rnn checkpoint" in err and "--max-tries" in err


# ------------------------------------------------------------------- wiring


def test_console_script_and_module_use_cli_main():
    import theano_rnn.__main__ as module_main

    assert module_main.main is cli.main
    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parents[2] / "setup.cfg")
    scripts = cfg["options.entry_points"]["console_scripts"]
    assert "theano-rnn = theano_rnn.cli.main:main" in scripts
