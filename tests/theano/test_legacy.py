"""theano-rnn legacy / python -m theano_rnn.legacy: an unmodified Theano script runs on PyTensor."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from theano_rnn.cli import legacy
from theano_rnn.cli.main import main as theano_rnn_main

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = '''\
import sys
import numpy as np
import theano
import theano.tensor as T
from theano import config
from theano.tensor.nnet import softmax
from theano.sandbox.rng_mrg import MRG_RandomStreams

W = theano.shared(np.eye(2, dtype=config.floatX), name="W")
x = T.matrix("x")
scale = T.scalar("scale")
out = softmax(T.dot(x, W) * scale)
f = theano.function([x, theano.Param(scale, default=1.0)], out.sum(axis=1))
print("rows", np.round(f(np.array([[1.0, 2.0], [0.0, 3.0]])), 12).tolist())
print("argv", sys.argv[1:])
print("module", theano.__name__, T.__name__)
print("mask", theano.function([], MRG_RandomStreams(1).binomial((4,), p=1.0))().tolist())
from theano.tensor.extra_ops import cumsum  # not in the namespace: PyTensor's module
print("cumsum", theano.function([x], cumsum(x, axis=1))(np.ones((1, 3))).tolist())
import logging
logging.basicConfig(level=logging.INFO)
print("pytensor log level", logging.getLogger("pytensor").getEffectiveLevel())
if "--fail" in sys.argv:
    raise RuntimeError("the script's own error")
if "--exit" in sys.argv:
    sys.exit(3)
'''


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "old_script.py"
    path.write_text(SCRIPT)
    return path


def test_runs_an_unmodified_script_with_its_arguments(script, capsys):
    assert theano_rnn_main(["legacy", str(script), "a", "--b=1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "rows [1.0, 1.0]"  # row-wise softmax through `import theano`
    assert out[1] == "argv ['a', '--b=1']"
    assert out[2] == "module theano_rnn.theano theano_rnn.theano.tensor"
    assert out[3] == "mask [1, 1, 1, 1]"
    assert out[4] == "cumsum [[1.0, 2.0, 3.0]]"
    assert out[5] == "pytensor log level 30"  # WARNING, as Theano kept its loggers
    assert "theano" not in sys.modules  # the alias ends with the command


def test_the_scripts_own_error_shows_its_traceback_and_exit_status(script, capsys):
    assert legacy.main([str(script), "--fail"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: the script's own error" in err
    assert str(script) in err and "runpy" not in err and "legacy.py" not in err
    assert legacy.main([str(script), "--exit"]) == 3


def test_missing_script_syntax_error_and_usage_are_one_line(tmp_path, capsys):
    assert legacy.main([str(tmp_path / "nope.py")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such script" in err
    py2 = tmp_path / "py2.py"
    py2.write_text("import theano\nprint 'hello'\n")
    assert legacy.main([str(py2)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "py2.py:2: syntax error" in err and "Python 2" in err
    assert legacy.main([]) == 2 and "usage" in capsys.readouterr().err
    assert legacy.main(["--help"]) == 0 and "SCRIPT" in capsys.readouterr().out


def test_theano_flags_floatx(script, capsys, monkeypatch):
    import pytensor

    before = pytensor.config.floatX
    monkeypatch.setenv("THEANO_FLAGS", "floatX=float32")
    try:
        code = textwrap.dedent("""\
            import theano, theano.tensor as T
            print(theano.config.floatX, T.matrix().dtype)
        """)
        path = script.parent / "flags.py"
        path.write_text(code)
        assert legacy.main([str(path)]) == 0
        assert capsys.readouterr().out == "float32 float32\n"
    finally:
        pytensor.config.floatX = before


def test_python_dash_m_in_a_fresh_process(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text("import sys, theano\nprint(theano.__name__, sys.argv[1:])\nsys.exit(int(sys.argv[1]))\n")
    proc = subprocess.run([sys.executable, "-m", "theano_rnn.legacy", str(path), "4"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 4, proc.stderr[-2000:]
    assert proc.stdout == "theano_rnn.theano ['4']\n"
