"""theano_rnn.runtime.pch: PyTensor's module headers precompiled once, used by g++."""

import json
import os
import subprocess
import sys

import pytensor
import pytest

from theano_rnn.runtime import pch
from theano_rnn.runtime.files import temp_files
from theano_rnn.runtime.switches import switched_off
from theano_rnn.runtime.modes import get_mode

CXX = pytensor.config.cxx
GCC_VERSION, _ = pch._compiler_version(CXX) if CXX else (None, None)
needs_gcc = pytest.mark.skipif(GCC_VERSION is None, reason="needs g++ as PyTensor's compiler")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A header built into a fresh directory with PyTensor's module flags."""
    preargs, include_dirs = pch._module_args()
    cache = str(tmp_path_factory.mktemp("pch"))
    header = pch._build(cache, CXX, preargs, include_dirs, GCC_VERSION)
    return header, preargs, include_dirs


@needs_gcc
def test_header_is_built_once_with_every_module_header(built):
    header, preargs, include_dirs = built
    text = open(header).read()
    assert all(f"#include {h}" in text for h in pch.HEADERS)
    gch = header + ".gch"
    stamp = os.stat(gch).st_mtime_ns
    again = pch._build(os.path.dirname(os.path.dirname(header)), CXX, preargs, include_dirs,
                       GCC_VERSION)
    assert again == header and os.stat(gch).st_mtime_ns == stamp  # reused, not rebuilt
    assert not temp_files(header) and not temp_files(gch)  # no temporary left behind


@needs_gcc
def test_gcc_uses_the_gch_with_pytensors_module_flags(built, tmp_path):
    # the compile command PyTensor runs for a module, plus -H (lists the headers
    # read; a used precompiled header is marked "!") and -Winvalid-pch
    header, preargs, include_dirs = built
    src = tmp_path / "mod.cpp"
    src.write_text("#include <Python.h>\n#include <numpy/arrayobject.h>\n"
                   "static int f(int x) { return x + 1; }\nint g(void) { return f(1); }\n")
    cmd = ([CXX, "-c", "-g", "-H", "-Winvalid-pch"] + preargs + ["-include", header]
           + [f"-I{d}" for d in include_dirs]
           + ["-fvisibility=hidden", "-o", str(tmp_path / "mod.o"), str(src)])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    used = [ln for ln in proc.stderr.splitlines() if ln.startswith("!")]
    assert used and used[0].endswith(".gch"), proc.stderr[-2000:]
    assert "invalid-pch" not in proc.stderr


@needs_gcc
def test_a_failed_build_leaves_no_file_behind(tmp_path):
    _, include_dirs = pch._module_args()
    with pytest.raises(RuntimeError, match="failed to precompile"):
        pch._build(str(tmp_path), CXX, ["-fno-such-flag-exists"], include_dirs, GCC_VERSION)
    (key_dir,) = list(tmp_path.iterdir())
    assert sorted(p.name for p in key_dir.iterdir()) == [pch._NAME]  # the text header only


def test_a_compiler_that_is_not_gcc_is_refused():
    version, why = pch._compiler_version(sys.executable)
    assert version is None and "is not GCC" in why
    version, why = pch._compiler_version("/nonexistent/g++")
    assert version is None and "could not run" in why


@needs_gcc
def test_the_c_mode_turns_it_on_in_this_process():
    get_mode("C")
    status = pch.pch_status()
    if switched_off(pch.ENV_VAR):  # pragma: no cover
        assert status.used is False
        return
    assert status.used, status.message
    assert f"-include {status.header}" in pytensor.config.gcc__cxxflags
    assert os.path.isfile(status.header + ".gch")
    assert pch.ensure_precompiled_header() is status  # idempotent


CHILD = """
import json, os, sys
import pytensor
import theano_rnn
from theano_rnn.runtime import pch
from theano_rnn.runtime.files import temp_files
from theano_rnn.runtime.switches import switched_off
before = pytensor.config.gcc__cxxflags
from theano_rnn.runtime.modes import get_mode
get_mode("C")
s = pch.pch_status()
print(json.dumps(dict(before=before, after=pytensor.config.gcc__cxxflags,
                      used=s.used, message=s.message)))
"""


def _child(tmp_path, **env):
    full = dict(os.environ)
    full.pop(pch.ENV_VAR, None)
    full["PYTENSOR_FLAGS"] = f"base_compiledir={tmp_path}"
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=full, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_gcc
def test_not_on_import_and_opt_out(tmp_path):
    out = _child(tmp_path / "off", **{pch.ENV_VAR: "0"})
    assert out["before"] == "" and out["after"] == ""
    assert out["used"] is False and pch.ENV_VAR in out["message"]
    assert not list((tmp_path / "off").glob("**/theano_rnn_pch*"))


@needs_gcc
def test_a_users_own_include_is_left_alone(tmp_path):
    other = tmp_path / "mine.h"
    other.write_text("#define THEANO_RNN_TEST_MINE 1\n")
    out = _child(tmp_path / "mine", PYTENSOR_FLAGS=f"base_compiledir={tmp_path / 'mine'},"
                 f"gcc__cxxflags=-include {other}")
    assert out["used"] is False and "left alone" in out["message"]
    assert out["after"] == out["before"] == f"-include {other}"
