"""scripts/faithful_vs_theano.py: the flags it hands each worker, and its one-line errors."""

import importlib.util
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "faithful_vs_theano.py"


def _module():
    spec = importlib.util.spec_from_file_location("faithful_vs_theano", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_floatx_is_replaced_and_escaped_commas_survive():
    flags = r"floatX=float64,blas.ldflags=-L/x -lopenblas -Wl\,-rpath\,/x,base_compiledir=/c"
    out = _module().with_floatx(flags, "float32")
    assert out == r"blas.ldflags=-L/x -lopenblas -Wl\,-rpath\,/x,base_compiledir=/c,floatX=float32"
    assert _module().with_floatx("", "float64") == "floatX=float64"


def test_without_a_theano_venv_one_line_and_exit_2(tmp_path):
    for extra in ([], ["--theano-python", str(tmp_path / "nope" / "python")]):
        res = subprocess.run([sys.executable, str(SCRIPT), *extra], capture_output=True, text=True)
        assert res.returncode == 2
        assert len(res.stderr.strip().splitlines()) == 1 and "make_theano_env.py" in res.stderr


def test_tuned_malloc_env_matches_the_allocator_module():
    from theano_rnn.runtime import allocator

    mod = _module()
    assert mod.malloc_env("default") == {}
    assert mod.malloc_env("tuned") == {"MALLOC_MMAP_THRESHOLD_": str(allocator.MMAP_THRESHOLD),
                                       "MALLOC_TRIM_THRESHOLD_": str(allocator.TRIM_THRESHOLD)}
