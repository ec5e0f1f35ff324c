"""Run records (:mod:`theano_rnn.training.record`): contents, checksums, loading, comparison.

Contract (issue 15, item 2):
- a record is schema 1 with the command, options, settings, corpus (size and
  sha256 per file; the sha256 of embedded text; generated arrays), seeds,
  backend (mode, floatX, BLAS, threads), versions, machine, evaluations,
  iterations and a checksum of the final parameters;
- the checksum changes when any parameter's value, dtype, shape or name changes;
- a missing, damaged, partial or future-schema record is one :class:`RecordError` line;
- comparison: bit-exact on the same backend (any difference fails, and the
  parameter checksum must match), else within rtol/atol; a list of losses is
  compared in the record's order;
- :func:`command_argv` rebuilds a command line argparse parses back to the options.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytensor
import pytest

from theano_rnn.training import record as records


class _Model:
    def __init__(self, **arrays):
        self.params = {n: pytensor.shared(np.asarray(a), name=n) for n, a in arrays.items()}


def _model():
    return _Model(W=np.arange(6.0).reshape(2, 3), b=np.zeros(3))


def _record(tmp_path, evaluations=None, model=None):
    corpus = tmp_path / "c.txt"
    corpus.write_text("abc\n")
    return records.build_record(
        ["train-char"], {"seed": 3, "hidden_dim": 4}, settings={"seed": 3, "cell": "lstm"},
        corpus=records.corpus_entry([corpus]), seeds={"seed": 3}, mode="C",
        evaluations=evaluations or [{"iteration": 2, "train_loss": 1.5, "val_loss": 1.25},
                                    {"iteration": 4, "train_loss": 1.0, "val_loss": 1.125}],
        iterations=4, model=model or _model(), checkpoint=tmp_path / "m.npz")


def test_record_holds_every_field(tmp_path):
    rec = _record(tmp_path)
    for key in ("schema", "command", "options", "settings", "corpus", "seeds", "backend",
                "versions", "machine", "evaluations", "iterations", "params_sha256",
                "checkpoint", "cwd"):
        assert key in rec, key
    assert rec["schema"] == 1 and rec["iterations"] == 4
    f = rec["corpus"]["files"][0]
    assert f["size"] == 4 and len(f["sha256"]) == 64 and rec["corpus"]["size"] == 4
    assert set(rec["backend"]) >= {"mode", "floatX", "blas_ldflags", "blas_threads"}
    assert rec["backend"]["floatX"] == pytensor.config.floatX
    assert set(rec["versions"]) >= {"theano_rnn", "pytensor", "numpy", "scipy", "numba",
                                    "jax", "python"}
    assert rec["versions"]["numpy"] == np.__version__
    assert {"platform", "cpu"} <= set(rec["machine"])
    json.dumps(rec, allow_nan=False)  # plain JSON
    path = tmp_path / "r.json"
    records.write_record(rec, path)
    assert records.load_record(path) == rec


def test_params_checksum_changes_with_any_parameter_change():
    base = records.model_checksum(_model())
    assert records.model_checksum(_model()) == base
    changed = _model()
    w = changed.params["W"].get_value()
    w[1, 2] = np.nextafter(w[1, 2], np.inf)  # one ulp
    changed.params["W"].set_value(w)
    assert records.model_checksum(changed) != base
    assert records.model_checksum(_Model(W=np.arange(6.0).reshape(3, 2), b=np.zeros(3))) != base
    assert records.model_checksum(_Model(W=np.arange(6.0).reshape(2, 3),
                                         b=np.zeros(3, "float32"))) != base
    assert records.model_checksum(_Model(V=np.arange(6.0).reshape(2, 3), b=np.zeros(3))) != base


def test_corpus_entry_of_text_and_arrays():
    a = records.corpus_entry(text="hello")
    assert a["size"] == 5 and a["sha256"] != records.corpus_entry(text="hellO")["sha256"]
    docs = records.corpus_entry(text=["a", "b"])
    assert docs["sha256"] != records.corpus_entry(text=["ab"])["sha256"]
    x = records.corpus_entry(arrays={"x": np.ones(3)})
    assert x["sha256"] != records.corpus_entry(arrays={"x": np.ones(3, "float32")})["sha256"]


@pytest.mark.parametrize("text, why", [
    (None, "no such record"), ("{", "damaged JSON"), ("[]", "JSON object"),
    ('{"schema": 1}', "missing"),
])
def test_bad_records_are_one_line_errors(tmp_path, text, why):
    path = tmp_path / "r.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(records.RecordError, match=why) as info:
        records.load_record(path)
    assert "\n" not in str(info.value)


def test_a_future_schema_is_refused(tmp_path):
    rec = dict(_record(tmp_path), schema=2)
    with pytest.raises(records.RecordError, match="schema 2"):
        records.load_record(rec)


def test_comparison_is_bit_exact_on_the_same_backend(tmp_path):
    rec = _record(tmp_path)
    cmp = records.compare_records(rec, json.loads(json.dumps(rec)))
    assert cmp.ok and cmp.exact and cmp.params_match
    other = json.loads(json.dumps(rec))
    other["evaluations"][1]["val_loss"] = np.nextafter(1.125, 2.0)
    cmp = records.compare_records(rec, other)
    assert not cmp.ok and [r["key"] for r in cmp.rows if not r["ok"]] == ["val_loss"]
    assert "MISMATCH" in records.format_table(cmp)
    other = json.loads(json.dumps(rec))
    other["params_sha256"] = "0" * 64
    cmp = records.compare_records(rec, other)
    assert not cmp.ok and cmp.params_match is False
    assert "parameter checksum: MISMATCH" in records.format_table(cmp)
    other = json.loads(json.dumps(rec))
    other["iterations"] = 3
    assert not records.compare_records(rec, other).ok


def test_comparison_uses_the_tolerance_across_backends(tmp_path):
    rec = _record(tmp_path)
    other = json.loads(json.dumps(rec))
    other["backend"]["mode"] = "NUMBA"
    other["params_sha256"] = "0" * 64  # not compared across backends
    other["evaluations"][0]["train_loss"] = 1.5 * (1 + 1e-9)
    cmp = records.compare_records(rec, other)
    assert cmp.ok and not cmp.exact and cmp.params_match is None
    assert not records.compare_records(rec, other, rtol=1e-12, atol=0).ok
    losses = [1.5, 1.25, 1.0, 1.125]
    assert records.compare_records(rec, losses).ok
    assert not records.compare_records(rec, losses[:3]).ok
    assert not records.compare_records(rec, [1.5, 1.25, 1.0, 1.2]).ok


def test_command_argv_round_trips_through_argparse():
    root = argparse.ArgumentParser()
    sub = root.add_subparsers(dest="command")
    p = sub.add_parser("train")
    p.add_argument("--corpus", nargs="+")
    p.add_argument("--hidden-dim", type=int, default=None)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--no-train-error", dest="eval_train", action="store_false", default=None)
    p.add_argument("--rate", type=float, default=0.5)
    opts = {"corpus": ["a b.txt", "c.txt"], "hidden_dim": 8, "quiet": True, "eval_train": False,
            "rate": 0.25, "command": "train"}
    argv = records.command_argv(root, ["train"], opts)
    assert vars(root.parse_args(argv)) == opts
    argv = records.command_argv(root, ["train"], opts, {"eval_train": True, "hidden_dim": None})
    back = vars(root.parse_args(argv))
    assert back["eval_train"] is None and back["hidden_dim"] is None


def test_a_float32_side_gets_the_float32_tolerance(tmp_path):
    rec = _record(tmp_path)
    other = json.loads(json.dumps(rec))
    other["backend"]["floatX"] = "float32"
    other["evaluations"][0]["train_loss"] = 1.5 * (1 + 1e-5)
    cmp = records.compare_records(rec, other)
    assert cmp.ok and cmp.rtol == records.DEFAULT_RTOL_FLOAT32
    other["backend"]["floatX"] = "float64"
    other["backend"]["mode"] = "NUMBA"
    assert not records.compare_records(rec, other).ok  # 1e-5 > the float64 default
