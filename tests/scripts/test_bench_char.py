"""scripts/bench.py's char_lstm_train options (issue 12): --impls, --torch-init, --isolate."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_bench():
    spec = importlib.util.spec_from_file_location("_script_bench_char", SCRIPTS / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_char_options_parse_and_reject(capsys):
    bench = load_bench()
    args = bench.parse_args(["--impls", "torch", "--torch-init", "uniform", "--isolate"])
    assert (args.impls, args.torch_init, args.isolate) == (["torch"], "uniform", True)
    args = bench.parse_args([])
    assert (args.impls, args.torch_init, args.isolate) == (["charrnn", "torch"], "charrnn", False)
    for argv in (["--impls", "keras"], ["--torch-init", "zeros"]):
        with pytest.raises(SystemExit) as exc:
            bench.parse_args(argv)
        assert exc.value.code == 2
    capsys.readouterr()


@pytest.mark.slow  # two tiny char-rnn compiles in child processes
def test_isolate_runs_each_impl_in_its_own_process():
    cmd = [sys.executable, str(SCRIPTS / "bench.py"), "--quick", "--json", "--workloads",
           "char_lstm_train", "--dtypes", "float64", "--impls", "charrnn", "--budget", "0.2",
           "--isolate"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    char = [r for r in rows if r.get("workload") == "char_lstm_train"]
    own = [r for r in char if r.get("run") == "own process"]
    assert len(char) == 2 and len(own) == 1  # round-robin row + own-process row; no torch
    assert own[0]["impl"] == "charrnn" and own[0]["backend"] == "C, own process"
    assert own[0]["chars_per_s"] > 0 and own[0]["val_loss"] > 0
