"""``theano-rnn verify RUN.json`` and the run records of the training commands (issue 15, item 2).

Contract:
- every training command (``train``, ``train-char``, ``train-cloze``,
  ``classify train``, ``seq demo``/``seq train``) writes ``<checkpoint>.run.json``
  and, with ``--record``, the same record there; an existing ``--record`` is
  refused (exit 2, one line, the file untouched) unless ``--overwrite``;
- ``verify`` re-runs a record of every task bit for bit (exit 0), including
  a time-budgeted ``train-char`` run (exactly the iterations it ran);
- an edited loss: exit 1 and the table says MISMATCH; a changed corpus, a
  damaged or missing record, a run that cannot be re-run: exit 2, one line;
- ``--json``: one JSON object; ``--keep DIR`` keeps the re-run's files;
- :mod:`theano_rnn.testing`: ``assert_loss_curve`` and the fixture factory.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from theano_rnn import testing
from theano_rnn.cli import main as cli
from theano_rnn.training import record as records

TINY_TEXT = "the quick brown fox jumps over the lazy dog. pack my box with five dozen jugs!\n" * 6


def _sentences(n=80, seed=0):
    r = random.Random(seed)
    words = "the a cat dog sat ran on to mat park bird flew over tree man saw big small red".split()
    return " ".join(" ".join(r.choice(words) for _ in range(r.randint(5, 9))).capitalize() + "."
                    for _ in range(n)) + "\n"


def _labelled(n=40, seed=1):
    r = random.Random(seed)
    words = "good bad fine nice awful great poor happy sad".split()
    return "".join(f"{'pos' if i % 2 else 'neg'}\t{' '.join(r.choice(words) for _ in range(5))}\n"
                   for i in range(n))


def _commands(d):
    q = ["--quiet"]
    return {
        "charlm": ["train-char", "--corpus", d / "tiny.txt", "--cell", "rnn", "--hidden-dim", "8",
                   "--num-layers",
                   "1", "--batch-size", "2", "--seq-length", "5", "--max-iterations", "4",
                   "--eval-val-every", "2", "--output", d / "char.npz", *q],
        "wordlm": ["train", "--corpus", d / "sentences.txt", "--cell", "rnn", "--vocabulary-size",
                   "25", "--hidden-dim", "4", "--bptt-truncate", "3", "--evaluate-loss-after",
                   "1", "--max-sentences", "6", "--nepoch", "2", "--samples", "0", "--output",
                   d / "word.npz", *q],
        "cloze": ["train-cloze", "--corpus", d / "sentences.txt", "--cell", "rnn", "--embed-dim",
                  "4", "--hidden-dim", "4", "--epochs", "1", "--batch-size", "8", "--max-length",
                  "12", "--examples", "0", "--output", d / "cloze.npz", *q],
        "classify": ["classify", "train", "--data", d / "labels.tsv", "--cell", "rnn",
                     "--directions", "1", "--embed-dim", "4", "--hidden-dim", "4",
                     "--max-epochs", "2", "--output", d / "clf.npz", *q],
        "seq": ["seq", "demo", "--task", "binary", "--epochs", "2", "--output", d / "seq.npz",
                *q],
    }


def run(argv, capsys):
    status = cli.main([str(a) for a in argv], environ={})
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(err):
    lines = [ln for ln in err.splitlines() if ln.strip() and " WARNING " not in ln
             and not ln.startswith("re-running")]
    assert len(lines) == 1 and lines[0].startswith("theano-rnn: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One recorded run of every task: task -> (record path, checkpoint path)."""
    d = tmp_path_factory.mktemp("runs")
    (d / "tiny.txt").write_text(TINY_TEXT, encoding="utf-8")
    (d / "sentences.txt").write_text(_sentences(), encoding="utf-8")
    (d / "labels.tsv").write_text(_labelled(), encoding="utf-8")
    out = {}
    for task, argv in _commands(d).items():
        rec = d / f"{task}.json"
        status = cli.main([str(a) for a in argv] + ["--record", str(rec)], environ={})
        assert status == 0, task
        ckpt = argv[argv.index("--output") + 1]
        out[task] = rec, ckpt
    return out


@pytest.mark.parametrize("task", ["charlm", "wordlm", "cloze", "classify", "seq"])
def test_every_task_records_and_verifies_bit_exactly(runs, task, capsys):
    rec_path, ckpt = runs[task]
    beside = records.beside(ckpt)
    rec = records.load_record(rec_path)
    assert json.loads(open(beside).read()) == rec  # the same record beside the checkpoint
    assert rec["schema"] == 1 and rec["iterations"] > 0 and rec["evaluations"]
    assert rec["corpus"]["sha256"] and rec["params_sha256"]
    status, out, err = run(["verify", rec_path], capsys)
    assert status == 0, out + err
    assert "comparison: bit-exact" in out and "parameter checksum: match" in out
    assert "MISMATCH" not in out and out.rstrip().endswith("result: match")
    rows = [ln for ln in out.splitlines() if ln.rstrip().endswith(" ok")]
    assert len(rows) == len(records.loss_values(rec["evaluations"]))


def test_an_edited_loss_is_a_mismatch_with_exit_1(runs, tmp_path, capsys):
    rec = records.load_record(runs["seq"][0])
    row = next(e for e in rec["evaluations"] if "train_loss" in e)
    row["train_loss"] += 1e-12
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(rec))
    status, out, err = run(["verify", edited, "--json"], capsys)
    assert status == 1, err
    result = json.loads(out)
    assert result["ok"] is False and result["exact"] is True and result["params_match"] is True
    bad = [r for r in result["rows"] if not r["ok"]]
    assert len(bad) == 1 and bad[0]["key"] == "train_loss" and bad[0]["abs"] > 0


def test_json_output_and_keep(runs, tmp_path, capsys):
    keep = tmp_path / "kept"
    status, out, err = run(["verify", runs["seq"][0], "--json", "--keep", keep], capsys)
    assert status == 0, err
    result = json.loads(out)
    assert result["ok"] is True and result["exact"] is True and result["params_match"] is True
    assert result["iterations"][0] == result["iterations"][1] > 0
    assert all(r["ok"] and r["abs"] == 0 for r in result["rows"])
    kept = records.load_record(keep / "rerun.run.json")
    assert kept["params_sha256"] == records.load_record(runs["seq"][0])["params_sha256"]


def test_a_changed_corpus_is_one_line_and_exit_2(runs, tmp_path, capsys):
    rec = records.load_record(runs["classify"][0])
    corpus = tmp_path / "labels.tsv"
    corpus.write_text(_labelled() + "pos\tgood good\n", encoding="utf-8")
    rec["corpus"]["files"][0]["path"] = str(corpus)
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(rec))
    status, out, err = run(["verify", changed], capsys)
    assert status == 2 and out == ""
    assert "has changed since the run was recorded" in one_error_line(err)
    corpus.unlink()
    status, _, err = run(["verify", changed], capsys)
    assert status == 2 and "is missing" in one_error_line(err)


def test_damaged_or_missing_records_are_one_line_and_exit_2(runs, tmp_path, capsys):
    cases = {"missing.json": None, "damaged.json": '{"schema": 1, "comm',
             "other.json": "[1, 2]", "partial.json": '{"schema": 1, "command": ["train"]}'}
    rec = records.load_record(runs["seq"][0])
    cases["future.json"] = json.dumps({**rec, "schema": 99})
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        status, out, err = run(["verify", path], capsys)
        assert status == 2 and out == "", name
        assert name in one_error_line(err)
    status, _, err = run(["verify"], capsys)
    assert status == 2 and "RUN.json" in err


def test_an_existing_record_is_refused_unless_overwrite(runs, tmp_path, capsys):
    rec = tmp_path / "taken.json"
    rec.write_text("precious")
    argv = ["seq", "demo", "--task", "real", "--epochs", "1", "--output", tmp_path / "s.npz",
            "--record", rec, "--quiet"]
    status, out, err = run(argv, capsys)
    assert status == 2 and "--record" in one_error_line(err) and "--overwrite" in err
    assert rec.read_text() == "precious" and not (tmp_path / "s.npz").exists()
    status, out, err = run(argv + ["--overwrite"], capsys)
    assert status == 0, err
    assert records.load_record(rec)["command"] == ["seq", "demo"]


def test_seq_train_without_a_weight_seed_cannot_be_verified(tmp_path, capsys):
    rng = np.random.RandomState(0)
    np.save(tmp_path / "x.npy", rng.randn(4, 5, 2))
    np.save(tmp_path / "y.npy", rng.randn(4, 5, 1))
    base = ["seq", "train", "--x", tmp_path / "x.npy", "--y", tmp_path / "y.npy",
            "--output-type", "real", "--n-hidden", "3", "--epochs", "2", "--quiet"]
    assert run(base + ["--output", tmp_path / "a.npz"], capsys)[0] == 0
    status, _, err = run(["verify", records.beside(tmp_path / "a.npz")], capsys)
    assert status == 2 and "unseeded global generator" in one_error_line(err)
    assert run(base + ["--output", tmp_path / "b.npz", "--weight-seed", "3"], capsys)[0] == 0
    status, out, err = run(["verify", records.beside(tmp_path / "b.npz")], capsys)
    assert status == 0, out + err


def test_a_time_budgeted_run_is_re_run_for_exactly_its_iterations(runs, tmp_path, capsys):
    d = tmp_path
    (d / "tiny.txt").write_text(TINY_TEXT * 20, encoding="utf-8")
    argv = ["train-char", "--corpus", d / "tiny.txt", "--hidden-dim", "8", "--num-layers", "1",
            "--batch-size", "2", "--seq-length", "5", "--eval-val-every", "25",
            "--time-budget", "0.3", "--output", d / "budget.npz", "--record", d / "b.json",
            "--quiet"]
    status, _, err = run(argv, capsys)
    assert status == 0, err
    rec = records.load_record(d / "b.json")
    assert rec["extra"]["time_budget_hit"] is True
    assert 0 < rec["iterations"] < rec["settings"]["max_epochs"] * 1000
    status, out, err = run(["verify", d / "b.json", "--json"], capsys)
    assert status == 0, out + err
    result = json.loads(out)
    assert result["iterations"] == [rec["iterations"], rec["iterations"]]
    assert result["params_match"] is True


# ------------------------------------------------------------ theano_rnn.testing

seq_run = testing.recorded_run_fixture("seq.json")


@pytest.fixture
def in_runs(runs, monkeypatch):
    monkeypatch.chdir(runs["seq"][0].parent)


def test_the_fixture_re_runs_a_record(in_runs, seq_run):
    recorded, rerun = seq_run
    cmp = testing.assert_loss_curve(recorded, rerun)
    assert cmp.exact and cmp.params_match
    assert rerun["params_sha256"] == recorded["params_sha256"]


def test_assert_loss_curve_with_losses_and_records(runs):
    rec = testing.load_record(runs["charlm"][0])
    losses = [v for _, _, v in records.loss_values(rec["evaluations"])]
    testing.assert_loss_curve(runs["charlm"][0], losses)  # exact values: within tolerance
    testing.assert_loss_curve(rec, [v * (1 + 1e-9) for v in losses], rtol=1e-8)
    with pytest.raises(AssertionError, match="MISMATCH"):
        testing.assert_loss_curve(rec, [v * (1 + 1e-3) for v in losses], rtol=1e-6)
    with pytest.raises(AssertionError, match="losses given"):
        testing.assert_loss_curve(rec, losses[:-1])
    other = json.loads(json.dumps(rec))
    other["evaluations"][-1]["val_loss"] += 1e-14
    with pytest.raises(AssertionError, match="val_loss"):
        testing.assert_loss_curve(rec, other)  # the same backend: bit-exact
    testing.assert_loss_curve(rec, other, exact=False, rtol=1e-12)
    with pytest.raises(testing.RecordError, match="no such record"):
        testing.assert_loss_curve(runs["charlm"][0].parent / "none.json", losses)


@pytest.mark.slow
def test_the_main_job_at_a_small_time_budget_verifies(tmp_path, capsys):
    """``theano-rnn train-char`` with its defaults (the embedded corpus), 3 s of training."""
    argv = ["train-char", "--time-budget", "3", "--output", tmp_path / "main.npz", "--record",
            tmp_path / "main.json", "--quiet"]
    status, _, err = run(argv, capsys)
    assert status == 0, err
    rec = records.load_record(tmp_path / "main.json")
    assert rec["extra"]["time_budget_hit"] is True and rec["corpus"]["text_sha256"]
    assert rec["settings"]["embedded"] is True and rec["settings"]["hidden_dim"] == 128
    status, out, err = run(["verify", tmp_path / "main.json", "--json"], capsys)
    assert status == 0, out + err
    result = json.loads(out)
    assert result["exact"] and result["params_match"]
    assert result["iterations"] == [rec["iterations"]] * 2
