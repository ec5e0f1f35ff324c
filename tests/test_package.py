"""Package-level promises: no side effects at import, no `import *`, layout."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_has_no_side_effects():
    code = (
        "import numpy as np, nltk, logging\n"
        "np.random.seed(5); before = np.random.get_state()[1].copy()\n"
        "paths = list(nltk.data.path); handlers = list(logging.getLogger().handlers)\n"
        "import theano_rnn, theano_rnn.cli.word, theano_rnn.cli.char, theano_rnn.data.words, theano_rnn.io\n"
        "import theano_rnn.tasks.charlm.trainer, theano_rnn.utils, theano_rnn.gru_utils, legacy_ref\n"
        "assert (np.random.get_state()[1] == before).all(), 'global RNG touched'\n"
        "assert nltk.data.path == paths, 'nltk.data.path changed'\n"
        "assert logging.getLogger().handlers == handlers, 'logging configured'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == ""  # nothing printed


def test_no_star_imports_and_no_prints_in_the_library():
    for path in sorted((ROOT / "theano_rnn").glob("*.py")) + sorted((ROOT / "legacy_ref").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert all(a.name != "*" for a in node.names), f"import * in {path.name}"
        # user-facing printing is allowed only in the command modules and the
        # tutorial's own printer (gru_utils.print_sentence)
        if path.name in {"cli.py", "charcli.py", "clozecli.py", "classifycli.py", "cliutil.py", "gru_utils.py"}:
            continue
        prints = [n.lineno for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "print"]
        assert not prints, f"print() in {path.name} at lines {prints}"


def test_top_level_layout():
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT)
    if tracked.returncode != 0:  # not a git checkout (e.g. an sdist): nothing to check
        return
    top = {p.split("/")[0] for p in tracked.stdout.split()}
    allowed = {"theano_rnn", "legacy_ref", "tests", "scripts", "setup.cfg", "pyproject.toml",
               "README.md", "BENCHMARKS.md", ".ci", ".gitignore"}
    assert top <= allowed, f"unexpected top-level entries: {sorted(top - allowed)}"
