"""Seed 002's reproduction end to end (slow: ``python -m pytest -m slow``; ~11 min of CPU, ~22 min wall on 2 busy cores).

Runs ``scripts/reproduce_seed002.py`` at the post's settings (5000 epochs, hidden 16,
sequence length 6) for seeds 0, 1, 2 at lr 1e-4 (the post) and 1e-3 (the author's
repository), printed and corrected, and checks what the README reports about them.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from theano_rnn import reference

ROOT = Path(__file__).resolve().parents[2]
CLEAN = reference.value("seed002.clean_text")  # 'a' + 50 characters, as the post says

pytestmark = pytest.mark.slow


def check_claims(data):
    """The README's claims about the runs in ``data`` (the script's JSON); returns the table."""
    runs = {(r["model"], r["lr"], r["seed"]): r for r in data["runs"]}
    seeds = sorted({s for (_, _, s) in runs})
    assert len(seeds) >= 3
    for r in runs.values():
        assert r["text"].startswith("a") and len(r["text"]) == 51
        assert r["clean"] == (r["text"] == CLEAN)
    printed_slow = [runs["printed", 1e-4, s] for s in seeds]
    printed_fast = [runs["printed", 1e-3, s] for s in seeds]
    # as printed, at the post's lr 1e-4: no seed writes the published clean text
    assert not any(r["clean"] for r in printed_slow)
    assert all(r["final_loss"] > 1.0 for r in printed_slow)
    # at lr 1e-3 (the repository's run_gru.py) the printed code starts right and most
    # seeds stay clean for 50 characters; its loss is far below every lr-1e-4 run
    assert all(r["text"].startswith("abcdefg abc") for r in printed_fast)
    assert sum(r["clean"] for r in printed_fast) >= 2
    assert max(r["final_loss"] for r in printed_fast) < 0.5 < min(r["final_loss"] for r in printed_slow)
    # fixing the two gradient bugs lowers the final loss at every lr and seed
    for lr in (1e-4, 1e-3):
        for s in seeds:
            assert runs["corrected", lr, s]["final_loss"] < runs["printed", lr, s]["final_loss"]
    return runs


def test_reproduce_seed002(tmp_path):
    out = tmp_path / "seed002.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "reproduce_seed002.py"), "--jobs", "2", "--json", str(out)],
        capture_output=True, text=True, timeout=3600, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "total wall time" in proc.stdout
    check_claims(json.loads(out.read_text()))
