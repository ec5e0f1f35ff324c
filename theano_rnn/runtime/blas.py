"""Make PyTensor's C backend link a BLAS, even in a PyPI-only install.

PyTensor's C backend calls the Fortran BLAS (``dgemm_``, ``dgemv_``, ...)
when ``pytensor.config.blas__ldflags`` names a library.  A pip install
usually has no system BLAS for PyTensor to find, so the flag stays empty and
every matrix product goes through NumPy's C-API, or through Python inside
``scan`` steps (PyTensor's ``Gemv`` op instead of ``CGemv``), instead.

SciPy, which PyTensor depends on, ships an OpenBLAS inside its wheel
(``scipy.libs/libscipy_openblas-*.so``) whose BLAS routines carry a
``scipy_`` prefix (``scipy_dgemm_``).  :func:`ensure_blas` builds a tiny
shared library of trampolines (``dgemm_: jmp scipy_dgemm_``) once per
OpenBLAS file, caches it, checks that a program linked to it computes a dot
product, and points ``blas__ldflags`` at it.  Nothing happens at import;
:func:`theano_rnn.compat.get_mode` calls :func:`ensure_blas` the first time
the C backend is asked for.

* A BLAS that PyTensor found itself, or ``blas__ldflags`` set by the user
  (``~/.pytensorrc``, ``PYTENSOR_FLAGS``; set empty means "no BLAS"), is
  left alone.
* ``THEANO_RNN_BLAS=0`` turns the automatic linking off;
  ``THEANO_RNN_BLAS=/path/to/libscipy_openblas*.so`` uses that library.
* When no BLAS can be linked, one :class:`BlasWarning` says what is missing
  and how to fix it.

``python -m theano_rnn.runtime.blas`` prints the status as one line (exit status 0
when a BLAS is linked, 1 otherwise).
"""

from __future__ import annotations

import ctypes
import dataclasses
import glob
import hashlib
import importlib.util
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings

from theano_rnn.runtime.switches import OFF_VALUES, switched_off
from theano_rnn.runtime.threads import pin_loaded_library

__all__ = [
    "BlasStatus",
    "BlasWarning",
    "BlasBuildError",
    "ENV_VAR",
    "blas_status",
    "ensure_blas",
    "find_openblas",
    "build_trampoline",
    "main",
]

log = logging.getLogger(__name__)

#: Environment variable: ``0`` turns the automatic linking off, a path names
#: the (``scipy_``-prefixed) OpenBLAS library to link.
ENV_VAR = "THEANO_RNN_BLAS"
#: Name of the trampoline library (``lib<LIB_NAME>.so``, linked as ``-l<LIB_NAME>``).
LIB_NAME = "theano_rnn_blas"
_FORMAT = 1  # part of the cache key: bump when the trampoline layout changes
_PREFIX = "scipy_"
_PYTENSOR_NO_BLAS = "PyTensor could not link to a BLAS"
_ON = {"", "1", "on", "true", "yes", "auto"}  # $THEANO_RNN_BLAS values: link automatically
_OFF = OFF_VALUES  # ... do not link

FIX = (
    "install a BLAS (`apt install libopenblas-dev`, or `conda install blas`) or set "
    "blas__ldflags in ~/.pytensorrc; see README 'BLAS (C backend)'"
)


def _expand(pattern):
    """``"[sd]gemm"`` -> ``["sgemm", "dgemm"]``, ``"i[sd]amax"`` -> ``["isamax", "idamax"]``."""
    if "[" not in pattern:
        return [pattern]
    head, rest = pattern.split("[", 1)
    letters, tail = rest.split("]", 1)
    return [head + c + tail for c in letters]


# The reference BLAS (levels 1-3), Fortran names without the trailing "_".
_ROUTINES = tuple(
    name
    for pattern in (
        # level 1
        "[sd]rotg", "[sd]rotmg", "[sd]rot", "[sd]rotm", "[sdcz]swap", "[sdcz]scal", "csscal",
        "zdscal", "[sdcz]copy", "[sdcz]axpy", "[sd]dot", "[cz]dotu", "[cz]dotc", "sdsdot",
        "dsdot", "[sd]nrm2", "scnrm2", "dznrm2", "[sd]asum", "scasum", "dzasum", "i[sdcz]amax",
        "[cz]rotg", "csrot", "zdrot",
        # level 2
        "[sdcz]gemv", "[sdcz]gbmv", "[cz]hemv", "[cz]hbmv", "[cz]hpmv", "[sd]symv", "[sd]sbmv",
        "[sd]spmv", "[sdcz]trmv", "[sdcz]tbmv", "[sdcz]tpmv", "[sdcz]trsv", "[sdcz]tbsv",
        "[sdcz]tpsv", "[sd]ger", "[cz]geru", "[cz]gerc", "[cz]her", "[cz]hpr", "[cz]her2",
        "[cz]hpr2", "[sd]syr", "[sd]spr", "[sd]syr2", "[sd]spr2",
        # level 3
        "[sdcz]gemm", "[sdcz]symm", "[cz]hemm", "[sdcz]syrk", "[cz]herk", "[sdcz]syr2k",
        "[cz]her2k", "[sdcz]trmm", "[sdcz]trsm",
    )
    for name in _expand(pattern)
)
# Routines PyTensor's C code calls (tensor/blas.py, tensor/blas_c.py, sparse):
# all of them must resolve.
_REQUIRED = ("sgemm", "dgemm", "sgemv", "dgemv", "sger", "dger", "sdot", "ddot",
             "saxpy", "daxpy", "sswap", "dswap")

_ASM = {
    # machine -> (one block per symbol, trailer); "@" starts a comment on some
    # targets, so aarch64 spells the types with "%"
    "x86_64": (".globl {n}_\n.type {n}_,@function\n{n}_:\n\tjmp {p}{n}_@PLT\n.size {n}_,.-{n}_\n",
               '.section .note.GNU-stack,"",@progbits\n'),
    "aarch64": (".globl {n}_\n.type {n}_,%function\n.p2align 2\n{n}_:\n\tb {p}{n}_\n"
                ".size {n}_,.-{n}_\n",
                '.section .note.GNU-stack,"",%progbits\n'),
}
_ASM["amd64"] = _ASM["x86_64"]
_ASM["arm64"] = _ASM["aarch64"]


class BlasWarning(UserWarning):
    """PyTensor's C backend runs without a BLAS (filter it with this class)."""


class BlasBuildError(RuntimeError):
    """The trampoline library could not be built or did not work (one-line message)."""


@dataclasses.dataclass(frozen=True)
class BlasStatus:
    """Where PyTensor's C backend gets its BLAS from.

    ``linked``: ``blas__ldflags`` is non-empty.  ``source``: ``"pytensor"``
    (PyTensor found a BLAS itself or the user configured one),
    ``"theano_rnn"`` (SciPy's OpenBLAS through our trampoline library) or
    ``"none"``.  ``library``: the BLAS library file when known.
    ``message``: one line for people.
    """

    linked: bool
    ldflags: str
    source: str
    library: str | None
    message: str

    def __str__(self):
        return f"BLAS {'linked' if self.linked else 'NOT linked'} ({self.source}): {self.message}"


_lock = threading.Lock()
_state: BlasStatus | None = None


# ---------------------------------------------------------------------------- discovery


def _candidate_paths():
    """SciPy's bundled OpenBLAS files, then the ``scipy_openblas32`` package's."""
    paths = []
    try:
        spec = importlib.util.find_spec("scipy")
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        libs = os.path.join(os.path.dirname(os.path.abspath(location)), "scipy.libs")
        paths += sorted(p for p in glob.glob(os.path.join(libs, "libscipy_openblas*.so*"))
                        if "openblas64" not in os.path.basename(p))  # ILP64 builds: wrong ints
    try:
        import scipy_openblas32
    except ImportError:
        scipy_openblas32 = None
    if scipy_openblas32 is not None:
        try:

            libdir = scipy_openblas32.get_lib_dir()
            name = scipy_openblas32.get_library()
            paths += sorted(glob.glob(os.path.join(libdir, f"lib{name}*.so*")))
        except Exception as exc:  # noqa: BLE001 - an odd install must not break compiling
            log.debug("scipy_openblas32 is installed but unusable: %s", exc)
    seen, out = set(), []
    for p in paths:
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real)
            out.append(real)
    return out


def _load(path):
    try:
        return ctypes.CDLL(path)
    except OSError as exc:
        raise BlasBuildError(f"cannot load {path}: {' '.join(str(exc).split())}") from None


def _exported_routines(lib, path):
    """The reference-BLAS routines ``lib`` exports with the ``scipy_`` prefix (checked)."""
    names = [n for n in _ROUTINES if hasattr(lib, f"{_PREFIX}{n}_")]
    missing = [n for n in _REQUIRED if n not in names]
    if missing:
        raise BlasBuildError(
            f"{path} does not export the {_PREFIX}-prefixed BLAS routines "
            f"({', '.join(_PREFIX + n + '_' for n in missing[:3])} missing)"
        )
    return names


def _libraries():
    env = os.environ.get(ENV_VAR, "").strip()
    if env.lower() not in _ON | _OFF:
        return [env]  # anything else names a library (a wrong one fails, with a warning, later)
    return _candidate_paths()


def find_openblas():
    """Path of the ``scipy_``-prefixed OpenBLAS to link, or ``None``.

    ``$THEANO_RNN_BLAS`` set to a path (any value but ``0/1/on/off/true/
    false/yes/no/auto``) wins; otherwise SciPy's bundled copy
    (``<site-packages>/scipy.libs/libscipy_openblas*.so``), then the
    ``scipy_openblas32`` package's.  Files are not loaded here.
    """
    paths = _libraries()
    return paths[0] if paths else None


# ---------------------------------------------------------------------------- building


def _default_cache_dir():
    import pytensor

    try:
        base = os.path.join(pytensor.config.compiledir, "theano_rnn_blas")
        os.makedirs(base, exist_ok=True)
        if os.access(base, os.W_OK):
            return base
    except OSError:
        pass
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "theano_rnn", f"blas-{platform.machine()}")


def _cache_key(library, routines):
    st = os.stat(library)
    text = "|".join([os.path.realpath(library), str(st.st_size), str(st.st_mtime_ns),
                     platform.machine(), str(_FORMAT), _PREFIX, ",".join(routines)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _compiler():
    import pytensor

    cxx = pytensor.config.cxx
    if not cxx:
        raise BlasBuildError("no C/C++ compiler (pytensor.config.cxx is empty)")
    return cxx


def _check_library(path):
    """Load the trampoline library and run a 2x2 ``dgemm_`` through it."""
    lib = _load(path)
    for name in _REQUIRED:
        if not hasattr(lib, f"{name}_"):
            raise BlasBuildError(f"{path} does not export {name}_")
    c = ctypes.c_char
    i = ctypes.c_int
    d = ctypes.c_double
    a = (d * 4)(1.0, 2.0, 3.0, 4.0)  # column-major [[1, 3], [2, 4]]
    b = (d * 4)(5.0, 6.0, 7.0, 8.0)  # column-major [[5, 7], [6, 8]]
    out = (d * 4)(0.0, 0.0, 0.0, 0.0)
    n = i(2)
    lib.dgemm_(ctypes.byref(c(b"N")), ctypes.byref(c(b"N")), ctypes.byref(n), ctypes.byref(n),
               ctypes.byref(n), ctypes.byref(d(1.0)), a, ctypes.byref(n), b, ctypes.byref(n),
               ctypes.byref(d(0.0)), out, ctypes.byref(n))
    if list(out) != [23.0, 34.0, 31.0, 46.0]:
        raise BlasBuildError(f"dgemm_ through {path} gave wrong numbers {list(out)}")


def build_trampoline(library, cache_dir=None, *, verify=True):
    """Build (or reuse) the trampoline library for ``library``; returns its path.

    The library exports each reference-BLAS routine ``X_`` that ``library``
    exports as ``scipy_X_``, jumping straight to it.  It is cached in
    ``cache_dir/<key>/lib{LIB_NAME}.so``, the key hashing the OpenBLAS path,
    size and mtime; a new one is built in a temporary directory, checked
    (PyTensor's ``try_blas_flag`` links and runs a ``ddot_`` program
    against it when ``verify``) and moved into place with ``os.replace``, so
    processes building at the same time never see a partial file.  Raises
    :class:`BlasBuildError` with a one-line reason.
    """
    machine = platform.machine().lower()
    if machine not in _ASM:
        raise BlasBuildError(f"no trampoline template for the {machine or 'unknown'} architecture")
    library = os.path.realpath(library)
    if not os.path.isfile(library):
        raise BlasBuildError(f"{library} does not exist")
    routines = _exported_routines(_load(library), library)
    cache_dir = os.path.abspath(cache_dir or _default_cache_dir())
    final_dir = os.path.join(cache_dir, _cache_key(library, routines))
    final = os.path.join(final_dir, f"lib{LIB_NAME}.so")
    if os.path.isfile(final):
        try:
            _check_library(final)
            return final
        except BlasBuildError as exc:  # a damaged cache entry: build it again
            log.debug("BLAS: rebuilding %s: %s", final, exc)
    try:
        os.makedirs(final_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".build-", dir=final_dir)
    except OSError as exc:
        raise BlasBuildError(f"cannot write to {cache_dir}: {exc.strerror or exc}") from None
    try:
        block, trailer = _ASM[machine]
        src = os.path.join(tmp, "trampolines.s")
        with open(src, "w") as fh:
            fh.write(".text\n")
            fh.writelines(block.format(n=n, p=_PREFIX) for n in routines)
            fh.write(trailer)
        built = os.path.join(tmp, f"lib{LIB_NAME}.so")
        cmd = [_compiler(), "-shared", "-fPIC", "-o", built, src, library,
               f"-Wl,-rpath,{os.path.dirname(library)}"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            raise BlasBuildError(f"cannot run {cmd[0]}: {exc}") from None
        if proc.returncode != 0:
            tail = " ".join((proc.stderr or proc.stdout).split())[-300:]
            raise BlasBuildError(f"{os.path.basename(cmd[0])} failed: {tail}")
        _check_library(built)
        if verify:
            from pytensor.link.c.cmodule import try_blas_flag

            flags = [f"-L{tmp}", f"-l{LIB_NAME}", f"-Wl,-rpath,{tmp}"]
            if not try_blas_flag(flags):
                raise BlasBuildError("a test program linked to the trampoline library failed")
        os.replace(built, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


# ---------------------------------------------------------------------------- status


def _ldflags_for(path):
    directory = os.path.dirname(path)
    # PyTensor adds -Wl,-rpath for each -L directory itself, and its parser
    # (shlex) accepts a quoted directory with spaces.
    return f"-L{shlex.quote(directory)} -l{LIB_NAME}"


def _user_ldflags():
    """``blas__ldflags`` as set in ``PYTENSOR_FLAGS``/``.pytensorrc``, or ``None``."""
    import pytensor

    # PyTensor consumes PYTENSOR_FLAGS entries when it registers a parameter
    # and marks the parameter as not default; ~/.pytensorrc stays readable.
    param = getattr(type(pytensor.config), "blas__ldflags", None)
    if param is not None and getattr(param, "is_default", True) is False:
        return pytensor.config.blas__ldflags
    try:
        return pytensor.config.fetch_val_for_key("blas__ldflags")
    except KeyError:
        return None


def _current_ldflags():
    """``pytensor.config.blas__ldflags`` (runs PyTensor's detection on first access).

    PyTensor's own "could not link to a BLAS" warning is silenced here: when
    nothing is linked in the end, :func:`ensure_blas` says so itself.
    """
    import pytensor

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PYTENSOR_NO_BLAS)
        return pytensor.config.blas__ldflags or ""


def _opted_out():
    return switched_off(ENV_VAR)


def _unlinked(reason, fix=FIX, warn=True):
    message = (f"PyTensor's C backend has no BLAS (its matrix products fall back to slower "
               f"NumPy/Python code): {reason}; fix: {fix}")
    if warn:
        warnings.warn(message, BlasWarning, stacklevel=4)
    else:
        log.info("%s", message)
    return BlasStatus(False, "", "none", None, message)


def _apply_thread_pin(library):
    """A library loaded inside ``runtime.threads.blas_threads`` gets that block's thread count."""
    pin_loaded_library(library)


def _ensure(cache_dir):
    import pytensor

    user = _user_ldflags()
    current = _current_ldflags()
    if current.strip():
        how = "configured" if user is not None else "found"
        message = f"PyTensor {how} a BLAS itself: blas__ldflags={current!r}"
        log.debug("BLAS: %s", message)
        return BlasStatus(True, current, "pytensor", None, message)
    if user is not None:
        return _unlinked("blas__ldflags is set empty in the PyTensor config",
                         fix="remove that setting to let theano_rnn link SciPy's OpenBLAS, or "
                             + FIX, warn=False)
    if _opted_out():
        return _unlinked(f"{ENV_VAR}=0 turned off linking SciPy's bundled OpenBLAS",
                         fix=f"unset {ENV_VAR}, or " + FIX)
    if not sys.platform.startswith("linux"):
        return _unlinked(f"PyTensor found no BLAS and linking SciPy's OpenBLAS is only done on "
                         f"Linux (this is {sys.platform})")
    libraries = _libraries()
    if not libraries:
        return _unlinked("no system BLAS and no SciPy-bundled OpenBLAS (scipy.libs/"
                         "libscipy_openblas*.so) was found")
    errors = []
    for library in libraries:  # the first that works
        try:
            trampoline = build_trampoline(library, cache_dir)
            break
        except (BlasBuildError, OSError) as exc:  # OSError: e.g. the file vanished meanwhile
            log.debug("BLAS: %s: %s", library, exc)
            errors.append(" ".join(str(exc).split()))
    else:
        return _unlinked(f"could not link SciPy's OpenBLAS ({errors[0]})")
    ldflags = _ldflags_for(trampoline)
    pytensor.config.blas__ldflags = ldflags
    _apply_thread_pin(library)
    message = f"SciPy's OpenBLAS {library} through {trampoline}"
    log.debug("BLAS: linked PyTensor's C backend to %s", message)
    return BlasStatus(True, ldflags, "theano_rnn", library, message)


def ensure_blas(cache_dir=None):
    """Link PyTensor's C backend to a BLAS if it has none; returns :class:`BlasStatus`.

    Idempotent: the work is done by the first call in a process (later calls,
    whatever their ``cache_dir``, return the same status).  Never raises for
    a missing BLAS: it warns once (:class:`BlasWarning`) instead.
    """
    global _state
    with _lock:
        if _state is None:
            _state = _ensure(cache_dir)
        return _state


def blas_status():
    """The current :class:`BlasStatus` (what :func:`ensure_blas` did, if it ran).

    Before :func:`ensure_blas` has run this reports PyTensor's own setting
    (running PyTensor's BLAS detection if nothing was configured) and links
    nothing.
    """
    if _state is not None:
        return _state
    current = _current_ldflags()
    if current.strip():
        return BlasStatus(True, current, "pytensor", None, f"blas__ldflags={current!r}")
    return BlasStatus(False, "", "none", None,
                      "blas__ldflags is empty (theano_rnn links SciPy's OpenBLAS when the C "
                      "backend is first used)")


def main(argv=None):
    """``python -m theano_rnn.runtime.blas``: link if possible, print the status; 0 if linked."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BlasWarning)  # the printed line says it
        status = ensure_blas()
    sys.stdout.write(f"{status}\n")  # the command's output, not library logging
    return 0 if status.linked else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
