"""scripts/profile_steps.py: the profile of each step is printed, op classes included."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "profile_steps.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=600)


def test_quick_profile_names_the_engine_ops():
    out = run("--quick", "--workloads", "word_batch,char", "--dtypes", "f64", "--ops", "3")
    assert out.returncode == 0, out.stderr
    assert "## word_batch float64:" in out.stdout and "## char float64:" in out.stdout
    # each profiled function's op-class table, with the engine's forward and backward ops
    assert out.stdout.count("Function profiling") >= 2
    assert "SequenceOp{gru" in out.stdout and "SequenceGradOp{lstm" in out.stdout
    assert "Time in 2 calls to Function.__call__" in out.stdout  # the warm-up calls left out


def test_unknown_workload_is_one_line():
    out = run("--workloads", "nope")
    assert out.returncode == 2
    assert "unknown workload 'nope'" in out.stderr and "Traceback" not in out.stderr
