"""The reproductions, end to end (slow: `python -m pytest -m slow`).

These run the scripts in scripts/ on the shared reddit prefix and check the
properties the README reports: the port with the notebook's truncation follows
the NumPy reference's loss curve, the curves fall, the gradient check passes.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_data import shared_data_dir

ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_data_dir()
REDDIT = SHARED / "reddit" / "reddit-comments-2015-08.first212.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REDDIT.exists(), reason=f"shared corpus {REDDIT} not found"),
]


def run_script(name, *args, tmp_path):
    out = tmp_path / f"{name}.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), "--json", str(out), *args],
        capture_output=True, text=True, timeout=1800, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_wildml_part2_reproduction(tmp_path):
    d = run_script("reproduce_wildml_part2.py", "--timing-repeats", "2", tmp_path=tmp_path)
    assert d["initial"]["same_initial_weights"]
    curves = d["loss_curves"]
    assert curves["max_abs_diff_numpy_vs_theano_per_output"] < 1e-10
    assert curves["max_abs_diff_numpy_vs_theano_scan"] > 1e-3  # the semantics differ
    gc = d["gradient_check"]
    assert all(passed for _, _, passed in gc["theano"].values())
    drops = {}
    for name, curve in curves["curves"].items():
        losses = [loss for _, loss in curve]
        assert len(losses) == 10 and losses[-1] < losses[0], name
        drops[name] = losses[0] - losses[-1]
    # the notebook's truncation learns much faster than Theano's scan truncation here
    assert drops["numpy"] > 2.0 and drops["theano_per_output"] > 2.0
    assert drops["theano_scan"] < drops["theano_per_output"] - 1.0


def test_wildml_part4_reproduction(tmp_path):
    d = run_script("reproduce_wildml_part4.py", "--timing-repeats", "2", tmp_path=tmp_path)
    losses = [r["loss"] for r in d["reports"]]
    assert len(losses) == 4 and all(b < a for a, b in zip(losses, losses[1:]))
    assert abs(losses[0] - d["published"]["losses"][0]) < 0.05  # ln 2000, like the published run
    assert all("UNKNOWN_TOKEN" not in s for r in d["reports"] for s in r["sentences"])
