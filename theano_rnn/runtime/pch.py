"""A precompiled header for PyTensor's C modules (g++ only).

Every C module PyTensor builds is one ``g++`` run over a ``mod.cpp`` that
starts with the same headers: ``Python.h``, PyTensor's ``pytensor_mod_helper.h``,
``math.h``, NumPy's ``arrayobject.h``/``arrayscalars.h``/``npy_math.h`` (and
``<vector>``/``<algorithm>`` for Elemwise).  Parsing them is about 0.24 s of
a typical module's 0.6-0.7 s on the project's 2-core VM, and a model's first
compile runs 25-100 such modules one after another (BENCHMARKS.md, "Compile
times").  GCC can load a header it compiled once (``<name>.gch``) instead.

:func:`ensure_precompiled_header` -- called by :func:`theano_rnn.compat.get_mode`
the first time the C backend is asked for, after the BLAS link, never at
import -- builds ``theano_rnn_pch.h`` (those headers) and its ``.gch`` once
per compiler/flags/versions key under ``<compiledir>/theano_rnn_pch/<key>/``,
with the flags of PyTensor's own module compiles, and then appends
``-include <that header>`` to ``pytensor.config.gcc__cxxflags``.

Why it is safe:

* GCC uses the ``.gch`` only when it was built with compatible options; when
  it is not (an op that adds its own ``-O``/``-f`` flags), GCC silently reads
  ``theano_rnn_pch.h`` as text instead, i.e. the same headers the module
  includes anyway, each of which has include guards.  The numbers a module
  computes never depend on it.
* The header and its ``.gch`` are written through the one atomic writer
  (:func:`theano_rnn.runtime.files.atomic_write`): processes compiling at the
  same time (pytest-xdist) see no file or the finished one, never half of one.
* ``gcc__cxxflags`` is part of PyTensor's module cache key, so modules
  compiled with and without the header never get confused.

``THEANO_RNN_PCH=0`` (or ``off``/``no``/``false``) turns it off.  Nothing is
done either when the compiler is not GCC, when ``gcc__cxxflags`` already has
an ``-include`` of its own, or when the compile directory's path has a space
(PyTensor splits the flags on spaces).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shlex
import subprocess
import sys
import shutil
import tempfile
import threading

from theano_rnn.runtime.files import atomic_write, atomic_write_bytes
from theano_rnn.runtime.switches import switched_off

__all__ = ["ENV_VAR", "HEADERS", "PchStatus", "ensure_precompiled_header", "pch_status",
           "pch_command", "header_text"]

log = logging.getLogger(__name__)

ENV_VAR = "THEANO_RNN_PCH"
#: the headers PyTensor's generated ``mod.cpp`` files start with, in their order
HEADERS = ("<Python.h>", '"pytensor_mod_helper.h"', "<math.h>", "<numpy/arrayobject.h>",
           "<numpy/arrayscalars.h>", "<numpy/npy_math.h>", "<vector>", "<algorithm>")
_NAME = "theano_rnn_pch.h"
_FORMAT = 1  # bump when the header or the way it is built changes


@dataclasses.dataclass(frozen=True)
class PchStatus:
    """What :func:`ensure_precompiled_header` did: ``used`` says whether
    ``gcc__cxxflags`` now force-includes ``header``; ``message`` says why (not)."""

    used: bool
    header: str | None
    message: str


_lock = threading.Lock()
_state: PchStatus | None = None


def header_text():
    """The text of ``theano_rnn_pch.h``."""
    lines = ["// theano_rnn: the headers every PyTensor C module starts with, precompiled",
             "// once (theano_rnn/runtime/pch.py).  Each has include guards, so the",
             "// module's own #include lines that follow are no-ops."]
    lines += [f"#include {h}" for h in HEADERS]
    return "\n".join(lines) + "\n"


def _module_args():
    """``(preargs, include_dirs)`` of PyTensor's compile of an ordinary Elemwise module.

    Taken from PyTensor itself (a ``CLinker`` over ``x + 1``), so the header
    is built with exactly the ``-O``/``-f``/``-m`` flags its modules use.
    """
    import pytensor.tensor as pt
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.c.basic import CLinker
    from pytensor.link.c.cmodule import std_include_dirs

    x = pt.dvector("x")
    linker = CLinker().accept(FunctionGraph([x], [pt.exp(x) + 1.0], clone=True))
    return list(linker.compile_args()), list(linker.header_dirs()) + list(std_include_dirs())


def pch_command(header, output, preargs, include_dirs, cxx):
    """The ``g++`` command line that precompiles ``header`` into ``output``."""
    # the same leading "-g" and trailing "-fvisibility=hidden" as PyTensor's compile_str
    return ([cxx, "-x", "c++-header", "-g"] + list(preargs)
            + [f"-I{d}" for d in include_dirs] + ["-fvisibility=hidden", "-o", output, header])


def _compiler_version(cxx):
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not run {cxx} --version ({exc})"
    text = out.stdout.strip()
    if out.returncode != 0 or "Free Software Foundation" not in text:
        return None, f"{cxx} is not GCC ({text.splitlines()[0] if text else 'no version'})"
    return text.splitlines()[0], None


def _key(version, preargs, include_dirs):
    import numpy
    import pytensor

    blob = json.dumps([_FORMAT, version, preargs, include_dirs, header_text(), sys.version,
                       numpy.__version__, pytensor.__version__])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _compile_into(fh, header, preargs, include_dirs, cxx):
    """Precompile ``header`` into a private temporary file and copy the result into ``fh``."""
    with tempfile.TemporaryDirectory(prefix="theano_rnn_pch-") as tmp:
        out = os.path.join(tmp, _NAME + ".gch")
        cmd = pch_command(header, out, preargs, include_dirs, cxx)
        log.debug("precompiling PyTensor's module headers: %s", shlex.join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["no message"])[0]
            raise RuntimeError(f"{cxx} failed to precompile {header}: {first}")
        with open(out, "rb") as src:
            shutil.copyfileobj(src, fh, 1 << 20)


def _build(cache_dir, cxx, preargs, include_dirs, version):
    """The path of the (possibly just built) header whose ``.gch`` sits beside it.

    Both files go through the one atomic writer (:mod:`theano_rnn.runtime.files`):
    processes building at the same time never see half a file.
    """
    directory = os.path.join(cache_dir, _key(version, preargs, include_dirs))
    header = os.path.join(directory, _NAME)
    gch = header + ".gch"
    if os.path.isfile(header) and os.path.isfile(gch):
        return header
    os.makedirs(directory, exist_ok=True)
    if not os.path.isfile(header):
        atomic_write_bytes(header, header_text().encode())
    atomic_write(gch, lambda fh: _compile_into(fh, header, preargs, include_dirs, cxx))
    return header


def _default_cache_dir():
    import pytensor

    return os.path.join(pytensor.config.compiledir, "theano_rnn_pch")


def _ensure(cache_dir):
    import pytensor

    if switched_off(ENV_VAR):
        return PchStatus(False, None, f"{ENV_VAR}=0 turned the precompiled header off")
    cxx = pytensor.config.cxx
    if not cxx:
        return PchStatus(False, None, "no C++ compiler (pytensor.config.cxx is empty)")
    flags = pytensor.config.gcc__cxxflags
    if "-include" in flags.split():
        return PchStatus(False, None, "gcc__cxxflags already has an -include; left alone")
    version, why = _compiler_version(cxx)
    if version is None:
        return PchStatus(False, None, why)
    cache_dir = cache_dir or _default_cache_dir()
    if " " in cache_dir:
        return PchStatus(False, None, f"the compile directory {cache_dir!r} has a space")
    try:
        preargs, include_dirs = _module_args()
        header = _build(cache_dir, cxx, preargs, include_dirs, version)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        return PchStatus(False, None, f"no precompiled header: {' '.join(str(exc).split())}")
    pytensor.config.gcc__cxxflags = f"{flags} -include {header}".strip()
    log.debug("PyTensor's C modules force-include %s (precompiled)", header)
    return PchStatus(True, header, f"C modules include the precompiled {header}")


def ensure_precompiled_header(cache_dir=None):
    """Build (once) and use the precompiled header; returns :class:`PchStatus`.

    Idempotent: the first call in a process does the work, later calls
    return its status.  Never raises: any failure leaves PyTensor's flags as
    they were and says why in the status (logged at debug level).
    """
    global _state
    with _lock:
        if _state is None:
            _state = _ensure(cache_dir)
            log.debug("precompiled header: %s", _state.message)
        return _state


def pch_status():
    """The status of this process's :func:`ensure_precompiled_header`, or ``None``."""
    return _state
