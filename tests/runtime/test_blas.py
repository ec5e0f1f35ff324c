"""theano_rnn.runtime.blas: PyTensor's C backend links SciPy's OpenBLAS (or says why not).

The opt-out, broken-library and late-loading cases run in subprocesses:
``blas__ldflags`` and the loaded libraries are process-wide.
"""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn.runtime import blas
from theano_rnn.compat import get_mode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_py(code, **env):
    """Run ``code`` in a fresh interpreter; return the JSON it prints on its last line."""
    full_env = dict(os.environ, PYTHONPATH=ROOT)
    full_env.pop("THEANO_RNN_BLAS", None)
    full_env.update(env)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _linked_by_us():
    status = blas.ensure_blas()
    if status.source == "pytensor":
        pytest.skip("PyTensor found a system BLAS itself: there is nothing for theano_rnn to link")
    return status


# An sgd_step of RNNTheano(50, 8) on one sentence: the loss, the new params and
# the ops of the compiled graph including the scan's inner graphs.
MODEL_STEP = """
import json, numpy as np
from pytensor.scan.op import Scan
from theano_rnn import RNNTheano
m = RNNTheano(50, 8, bptt_truncate=-1, rng=np.random.RandomState(3))
rs = np.random.RandomState(4)
x, y = rs.randint(0, 50, 12).astype("int32"), rs.randint(0, 50, 12).astype("int32")
loss = m.sgd_step(x, y, 0.05)
model = {"loss": loss, "params": {k: v.tolist() for k, v in m.get_params().items()},
         "ops": []}
graphs = [m.sgd_step.fn.maker.fgraph]
while graphs:
    for node in graphs.pop().toposort():
        model["ops"].append(type(node.op).__name__)
        if isinstance(node.op, Scan):
            graphs.append(node.op.fgraph)
"""

WARNINGS_OF = """
import json, warnings
import pytensor
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from theano_rnn.runtime import blas
    from theano_rnn.compat import get_mode
    get_mode("C"); get_mode(None); blas.ensure_blas()
    {extra}
status = blas.blas_status()
out = {{"warnings": [[w.category.__name__, str(w.message)] for w in caught],
        "linked": status.linked, "source": status.source,
        "ldflags": pytensor.config.blas__ldflags, "model": model}}
print(json.dumps(out))
"""


def test_ensure_blas_links_and_is_idempotent():
    status = blas.ensure_blas()
    assert status.linked and status.ldflags
    assert status.ldflags == pytensor.config.blas__ldflags
    assert status.source in ("theano_rnn", "pytensor")
    assert blas.ensure_blas() is status and blas.ensure_blas("/nonexistent") is status
    assert blas.blas_status() is status
    assert "\n" not in str(status) and str(status).startswith("BLAS linked")
    if status.source == "theano_rnn":
        assert os.path.isfile(status.library)
        assert os.path.basename(status.library).startswith("libscipy_openblas")


def test_c_mode_products_run_through_the_linked_blas(capsys):
    status = blas.ensure_blas()
    a, b, v = pt.dmatrix("a"), pt.dmatrix("b"), pt.dvector("v")
    f = pytensor.function([a, b, v], [pt.dot(a, b), pt.dot(a, v)], mode=get_mode("C"))
    ops = {type(n.op).__name__ for n in f.maker.fgraph.toposort()}
    assert ops & {"Dot22", "Gemm"} and "CGemv" in ops  # the BLAS-calling C ops
    rng = np.random.RandomState(0)
    A, B, V = rng.randn(7, 5), rng.randn(5, 3), rng.randn(5)
    ab, av = f(A, B, V)
    np.testing.assert_allclose(ab, A @ B, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(av, A @ V, rtol=1e-12, atol=1e-14)
    if status.source == "theano_rnn":  # the compiled module loaded our trampoline library
        with open("/proc/self/maps") as fh:
            assert f"lib{blas.LIB_NAME}.so" in fh.read()
    assert blas.main() == 0
    assert capsys.readouterr().out.startswith("BLAS linked")


def test_opt_out_warns_once_and_model_numbers_match_the_linked_run():
    linked = _linked_by_us()
    out = run_py(WARNINGS_OF.format(extra=MODEL_STEP.replace("\n", "\n    ")),
                 THEANO_RNN_BLAS="0")
    assert not out["linked"] and out["source"] == "none" and out["ldflags"] == ""
    assert len(out["warnings"]) == 1, out["warnings"]  # ours only, not PyTensor's as well
    category, message = out["warnings"][0]
    assert category == "BlasWarning"
    assert "THEANO_RNN_BLAS=0" in message and "libopenblas-dev" in message
    assert "blas__ldflags" in message and "\n" not in message
    assert "Gemv" in out["model"]["ops"] and "CGemv" not in out["model"]["ops"]  # no BLAS
    # the same step here, where the BLAS is linked: same numbers to 1e-12
    assert linked.linked
    scope = {}
    exec(MODEL_STEP, scope)
    model = scope["model"]
    assert "CGemv" in model["ops"] and "Gemv" not in model["ops"]  # the scan steps call dgemv_
    assert model["loss"] == pytest.approx(out["model"]["loss"], rel=1e-12)
    for name, value in model["params"].items():
        np.testing.assert_allclose(value, out["model"]["params"][name], rtol=1e-12, atol=1e-12)


def test_broken_library_warns_once_with_the_fix(tmp_path):
    _linked_by_us()
    bogus = tmp_path / "libscipy_openblas-broken.so"
    bogus.write_text("not a shared library\n")
    out = run_py(WARNINGS_OF.format(extra="model = None"), THEANO_RNN_BLAS=str(bogus))
    assert not out["linked"] and out["ldflags"] == ""
    assert [w[0] for w in out["warnings"]] == ["BlasWarning"]
    message = out["warnings"][0][1]
    assert str(bogus) in message and "libopenblas-dev" in message and "~/.pytensorrc" in message


def test_blas_ldflags_set_empty_by_the_user_is_respected_without_a_warning():
    _linked_by_us()
    out = run_py(WARNINGS_OF.format(extra="model = None"), 
                 PYTENSOR_FLAGS=",".join(filter(None, [os.environ.get("PYTENSOR_FLAGS"),
                                                       "blas__ldflags="])))
    assert not out["linked"] and out["ldflags"] == "" and out["source"] == "none"
    assert out["warnings"] == []


def test_trampoline_build_is_cached_and_atomic(tmp_path):
    library = blas.find_openblas()
    if library is None:
        pytest.skip("no SciPy-bundled OpenBLAS in this install")
    results, errors = [], []

    def build():
        try:
            results.append(blas.build_trampoline(library, tmp_path, verify=False))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    path = results[0]
    built = sorted(os.path.relpath(os.path.join(d, f), tmp_path)
                   for d, _, files in os.walk(tmp_path) for f in files)
    assert built == [os.path.relpath(path, tmp_path)]  # no temporary leftovers
    mtime = os.stat(path).st_mtime_ns
    assert blas.build_trampoline(library, tmp_path) == path  # cache hit: not rebuilt
    assert os.stat(path).st_mtime_ns == mtime
    # the flags PyTensor's parser gets: -L<dir> -l<name> (PyTensor adds the rpath)
    assert blas._ldflags_for(path) == f"-L{os.path.dirname(path)} -l{blas.LIB_NAME}"


def test_cli_thread_pin_covers_the_library_linked_later():
    _linked_by_us()
    code = """
import ctypes, json
from theano_rnn.runtime import blas, threads as pins
def threads(lib):
    return ctypes.CDLL(lib).scipy_openblas_get_num_threads()
def loaded():
    with open("/proc/self/maps") as fh:
        return "scipy.libs/libscipy_openblas" in fh.read()
with pins.blas_threads(1):
    before = loaded()  # not loaded yet: the pin must reach it when ensure_blas loads it
    status = blas.ensure_blas()
    inside = threads(status.library)
after = threads(status.library)
pins.pin_loaded_library(status.library)  # outside a block: no effect
print(json.dumps({"inside": inside, "after": after, "untouched": threads(status.library),
                  "source": status.source, "before": before}))
"""
    out = run_py(code, OPENBLAS_NUM_THREADS="2")
    assert out["source"] == "theano_rnn"
    assert out == {"inside": 1, "after": 2, "untouched": 2, "source": "theano_rnn", "before": False}
