"""scripts/bench.py and scripts/compile_times.py: they run, and their JSON lines are complete.

The default tests run the benchmark at ``--quick`` sizes in float64 (every
workload and every impl; PyTorch's only where it is installed -- it is no
dependency) and one compile-time child process on the normal cache.  The
float32 graphs and a real cold/warm compile (empty caches: about a minute of
C compilation) are behind ``-m slow``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
HAS_TORCH = importlib.util.find_spec("torch") is not None

REQUIRED = {"workload", "impl", "dtype", "backend", "ratio_vs"}
FIGURES = ("median_ms", "tokens_per_s", "chars_per_s")
IMPLS = {
    "wildml_rnn_step": {"numpy_ref", "numpy_ref_notebook", "numpy_fused", "faithful", "fast"}
    | ({"torch"} if HAS_TORCH else set()),
    "wildml_gru_step": {"numpy_ref", "faithful", "fast"} | ({"torch"} if HAS_TORCH else set()),
    "char_lstm_train": {"charrnn"} | ({"torch"} if HAS_TORCH else set()),
    "word_minibatch_train": {"fast_sentence", "fast_batch"} | ({"torch_batch"} if HAS_TORCH else set()),
}
PYTENSOR_IMPLS = {"faithful", "fast", "charrnn", "fast_sentence", "fast_batch"}


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"_script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_json(args, timeout=600):
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, "no output"
    return [json.loads(ln) for ln in lines]  # every line is one JSON object


def check_rows(rows, dtypes):
    meta, data = rows[0], [r for r in rows[1:] if not r["workload"].startswith("_")]
    assert meta["workload"] == "_meta"
    for key in ("cpu", "cpus", "python", "numpy", "pytensor", "threads", "pytensor_blas_ldflags"):
        assert key in meta, key
    assert meta["thread_env"]["OPENBLAS_NUM_THREADS"] == "1"
    # the default --malloc tuned: the allocator's state is recorded (tuned on glibc)
    assert meta["allocator"]["reason"] != "not called", meta["allocator"]
    for row in data:
        assert REQUIRED <= set(row), row
        assert any(k in row for k in FIGURES), row
    skipped = [r for r in data if r.get("skipped")]
    for row in skipped:  # only PyTorch may be missing, and only where it is not installed
        assert not HAS_TORCH and row["impl"].startswith("torch"), row
    ran = [r for r in data if not r.get("skipped")]
    for workload, impls in IMPLS.items():
        for dtype in dtypes:
            got = {r["impl"] for r in ran if r["workload"] == workload and r["dtype"] == dtype}
            expected = {i for i in impls if dtype == "float64" or not i.startswith("numpy_ref")}
            assert got == expected, (workload, dtype, got)
    for row in ran:
        figure = next(row[k] for k in FIGURES if row.get(k) is not None)
        assert math.isfinite(figure) and figure > 0, row
        assert isinstance(row["ratio_vs"], str) and row["ratio_vs"], row
        if row["impl"] in PYTENSOR_IMPLS:
            assert row["graph_dtypes"] == [row["dtype"]], row  # no stray float64 in an f32 graph
    return meta, ran, [r for r in rows if r["workload"] == "_target"]


@pytest.mark.slow  # 26 s: every workload and impl end to end in a subprocess
def test_bench_quick_json_runs_every_workload_and_impl():
    rows = run_json([str(SCRIPTS / "bench.py"), "--quick", "--json", "--dtypes", "float64",
                     "--repeats", "1", "--burn-in", "0", "--budget", "0.2"])
    meta, ran, targets = check_rows(rows, ["float64"])
    assert meta["quick"] is True
    rnn = {r["impl"]: r for r in ran if r["workload"] == "wildml_rnn_step"}
    assert rnn["numpy_ref"]["ratio"] == pytest.approx(1.0)
    assert rnn["fast"]["ratio_vs"] == "numpy_ref"
    expected_ratio = rnn["numpy_ref"]["median_ms"] / rnn["fast"]["median_ms"]
    assert rnn["fast"]["ratio"] == pytest.approx(expected_ratio)
    assert "speedup_vs_faithful" in rnn["fast"]
    char = [r for r in ran if r["workload"] == "char_lstm_train"]
    assert all(r["val_loss"] > 0 and r["iterations"] >= 1 for r in char)
    word = [r for r in ran if r["workload"] == "word_minibatch_train"]
    assert all(r["tokens_per_pass"] > 0 and 0 <= r["pad_fraction"] < 1 for r in word)
    assert {t["target"] for t in targets} == {
        "fast RNN step no slower than PyTorch", "fast RNN step >= 25x the legacy NumPy reference",
        "fast GRU step >= 5x its faithful graph", "char-rnn training >= PyTorch's characters/s",
    }
    for t in targets:  # a verdict wherever there is a figure; PyTorch's only where it runs
        assert isinstance(t["met"], bool) == (t["value"] is not None), t
        assert (t["value"] is not None) or (not HAS_TORCH and t["figure"] != "speedup_vs_faithful"), t


@pytest.mark.slow  # CI has no PyTorch: there the default quick-run test covers this path
def test_bench_without_pytorch_reports_its_rows_as_skipped(tmp_path):
    """CI has no PyTorch: its impls become ``skipped`` rows and everything else still runs."""
    stub = tmp_path / "torch"
    stub.mkdir()
    (stub / "__init__.py").write_text('raise ImportError("no torch here")\n')
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench.py"), "--quick", "--json", "--dtypes", "float64",
         "--workloads", "wildml_rnn_step,char_lstm_train", "--repeats", "1", "--burn-in", "0",
         "--budget", "0.1"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.strip()]
    data = [r for r in rows if not r["workload"].startswith("_")]
    skipped = {(r["workload"], r["impl"]) for r in data if r.get("skipped")}
    assert skipped == {("wildml_rnn_step", "torch"), ("char_lstm_train", "torch")}
    assert all(REQUIRED <= set(r) for r in data)
    ran = {(r["workload"], r["impl"]) for r in data if not r.get("skipped")}
    assert ran == {("wildml_rnn_step", i) for i in ("numpy_ref", "numpy_ref_notebook", "numpy_fused",
                                                    "faithful", "fast")} | {("char_lstm_train", "charrnn")}
    char = next(r for r in data if r["impl"] == "charrnn")
    assert char["ratio_vs"] == "torch" and char["ratio"] is None and char["chars_per_s"] > 0
    assert rows[0]["torch"] is None and "torch_threads" not in rows[0]


@pytest.mark.slow
def test_bench_quick_float32_graphs_are_float32():
    rows = run_json([str(SCRIPTS / "bench.py"), "--quick", "--json", "--dtypes", "float64,float32",
                     "--repeats", "1", "--burn-in", "0", "--budget", "0.2"])
    check_rows(rows, ["float64", "float32"])


def test_fused_numpy_rnn_matches_the_reference():
    from legacy_ref import RNNNumpy

    bench = load_script("bench")
    rng = np.random.RandomState(3)
    ref = RNNNumpy(30, 5, bptt_truncate=-1, rng=np.random.RandomState(10))
    fused = bench.FusedNumpyRNN(ref.U, ref.V, ref.W)
    for T in (7, 1, 12):
        x = rng.randint(0, 30, T).astype(np.int32)
        x[1::3] = x[0]  # repeated words: the sparse U update must accumulate
        y = rng.randint(0, 30, T).astype(np.int32)
        expected_loss = ref.calculate_total_loss([x], [y])
        loss = fused.sgd_step(x, y, 0.05)
        ref.sgd_step(x, y, 0.05, truncation="none")
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        for name in ("U", "V", "W"):
            np.testing.assert_allclose(getattr(fused, name), getattr(ref, name), rtol=1e-10, atol=1e-13)


def test_bench_rejects_bad_arguments(capsys):
    bench = load_script("bench")
    for argv in (["--workloads", "nope"], ["--dtypes", "float16"], ["--backends", "GPU"], ["--repeats", "0"]):
        with pytest.raises(SystemExit) as exc:
            bench.parse_args(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("usage:") or "error:" in err[-1], err
    args = bench.parse_args(["--quick", "--dtypes", "f32", "--backends", "c"])
    assert (args.dtypes, args.backends, args.repeats, args.sizes) == (["float32"], ["C"], 2, bench.QUICK)


def test_target_verdicts():
    bench = load_script("bench")
    rows = [
        dict(workload="wildml_rnn_step", impl="fast", dtype="float64", backend="C", ratio=30.0,
             speedup_vs_torch=0.5),
        dict(workload="wildml_gru_step", impl="fast", dtype="float32", backend="C", speedup_vs_faithful=5.0),
        dict(workload="char_lstm_train", impl="charrnn", dtype="float64", backend="C", ratio=None),
        dict(workload="wildml_rnn_step", impl="fast", dtype="float32", backend="C", skipped="why"),
    ]
    verdicts = {(t["target"], t["dtype"]): t["met"] for t in bench.target_rows(rows)}
    assert verdicts == {
        ("fast RNN step no slower than PyTorch", "float64"): False,
        ("fast RNN step >= 25x the legacy NumPy reference", "float64"): True,
        ("fast GRU step >= 5x its faithful graph", "float32"): True,
        ("char-rnn training >= PyTorch's characters/s", "float64"): None,
    }


# ---------------------------------------------------------------------------
# compile_times.py
# ---------------------------------------------------------------------------
def test_compile_times_child_reports_one_json_line():
    """One child process (the normal, warm cache): import, base, first step, step times."""
    proc = subprocess.run([sys.executable, str(SCRIPTS / "compile_times.py"), "--child", "rnn", "fast",
                           "C", "--quick"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(out) == {"import_s", "base_s", "first_s", "step_ms"}
    assert all(v > 0 for v in out.values())


def test_compile_times_child_env_points_every_cache_at_the_given_folder(tmp_path, monkeypatch):
    ct = load_script("compile_times")
    monkeypatch.setenv("PYTENSOR_FLAGS", "floatX=float64,compiledir=/elsewhere,base_compiledir=/x")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/jax-cache")
    env = ct.child_env(tmp_path)
    flags = env["PYTENSOR_FLAGS"].split(",")
    assert flags == ["floatX=float64", f"base_compiledir={tmp_path / 'pytensor'}"]
    assert env["NUMBA_CACHE_DIR"] == str(tmp_path / "numba")
    assert "JAX_COMPILATION_CACHE_DIR" not in env


def test_compile_times_rows_and_targets(monkeypatch, capsys):
    """The parent: cold then warm in one cache folder, target flags, errors reported, JSON lines."""
    ct = load_script("compile_times")
    calls = []

    def fake_child(model, graph, backend, quick, root, timeout, profile=False):
        calls.append((model, graph, backend, root))
        if backend == "NUMBA":
            return dict(error="boom")
        cold = len([c for c in calls if c[:3] == (model, graph, backend)]) == 1
        return dict(import_s=0.5, base_s=3.0 if cold else 0.1, first_s=12.0 if cold else 0.8,
                    step_ms=4.0, process_s=20.0)

    monkeypatch.setattr(ct, "run_child", fake_child)
    assert ct.main(["--models", "rnn,char", "--graphs", "fast", "--backends", "C,NUMBA", "--json"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert rows[0]["model"] == "_meta"
    by_key = {(r["model"], r["graph"], r["backend"]): r for r in rows[1:]}
    assert set(by_key) == {("RNNTheano", "fast", "C"), ("RNNTheano", "fast", "NUMBA"),
                           ("CharRNN", "-", "C"), ("CharRNN", "-", "NUMBA")}
    c = by_key[("RNNTheano", "fast", "C")]
    assert (c["cold_s"], c["warm_s"], c["cold_base_s"], c["warm_base_s"]) == (12.0, 0.8, 3.0, 0.1)
    assert (c["cold_met"], c["warm_met"]) == (False, True)
    # cold and warm of one model share one cache folder; different models do not
    roots = {c[3] for c in calls if c[:3] == ("rnn", "fast", "C")}
    assert len(roots) == 1 and roots != {c[3] for c in calls if c[:3] == ("char", "fast", "C")}
    n = by_key[("RNNTheano", "fast", "NUMBA")]
    assert n["cold_error"] == "boom" and n["cold_s"] is None and n["cold_met"] is None


PROFILE_OUTPUT = """Function profiling
==================
  Message: sgd_step
  Total compilation time: 1.034259e+01s
    PyTensor rewrite time: 7.506181e+00s
       PyTensor validate time: 3.596496e-02s
    PyTensor Linker time (includes C, CUDA code generation/compiling): 2.8244912730024225s
Time in all call to pytensor.grad() 2.156219e+00s
Function profiling
==================
  Message: None
  Total compilation time: 9.0e+00s
    PyTensor rewrite time: 2.977708e-01s
    PyTensor Linker time (includes C, CUDA code generation/compiling): 1.9726453089988354s
Time in all call to pytensor.grad() 2.156219e+00s
"""


def test_compile_times_profile_split_counts_the_named_function_only():
    ct = load_script("compile_times")
    out = ct.parse_profile(PROFILE_OUTPUT)
    assert out == pytest.approx(dict(compile_total_s=10.34259, rewrite_s=7.506181,
                                     linker_s=2.8244912730024225, grad_s=2.156219))


def test_compile_times_error_line_is_the_exception():
    ct = load_script("compile_times")
    stderr = ("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
              "NotImplementedError: JAX requires constants.\nAn example:\n>>> pt.arange(1, 10, 2)\n")
    assert ct.error_line(stderr, 1) == "NotImplementedError: JAX requires constants."
    assert ct.error_line("", 3) == "exit status 3"


def test_compile_times_rejects_unknown_names():
    ct = load_script("compile_times")
    for argv in (["--models", "transformer"], ["--backends", "GPU"], ["--graphs", "slow"]):
        with pytest.raises(SystemExit) as exc:
            ct.main(argv)
        assert exc.value.code == 2


@pytest.mark.slow
def test_compile_times_cold_and_warm_end_to_end():
    rows = run_json([str(SCRIPTS / "compile_times.py"), "--quick", "--models", "rnn", "--graphs", "fast",
                     "--backends", "C", "--json"], timeout=1800)
    assert rows[0]["model"] == "_meta"
    (row,) = rows[1:]
    assert (row["model"], row["graph"], row["backend"]) == ("RNNTheano", "fast", "C")
    assert row["cold_s"] > 0 and row["warm_s"] > 0
    assert row["warm_s"] < row["cold_s"]  # the second process found the compiled modules
    assert isinstance(row["cold_met"], bool) and isinstance(row["warm_met"], bool)
