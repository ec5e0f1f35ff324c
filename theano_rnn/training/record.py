"""Run records: what a training run was, what it produced, and the comparison of two runs.

A run record is a JSON file (``"schema": 1``) written by every training
command beside its checkpoint (``<checkpoint>.run.json``) and, with
``--record RUN.json``, also there.  It holds

* ``command`` (e.g. ``["train-char"]``, ``["classify", "train"]``,
  ``["seq", "train"]``), ``options``: every option of the command as parsed
  (defaults included; a seed drawn at random and values from environment
  variables filled in) -- what a re-run passes again -- and ``settings``: the
  command's full resolved configuration (flags > checkpoint > defaults);
* ``corpus``: what was trained on -- per file its path, size and sha256, or
  the sha256 of the embedded text actually used -- and one ``sha256`` over it all;
* ``seeds``, ``backend`` (mode, floatX, BLAS and its thread count),
  ``versions`` (theano_rnn, pytensor, numpy, scipy, numba, jax if imported,
  python) and ``machine`` (platform, cpu);
* ``evaluations``: one dict per evaluation, ``{"iteration": i, ...losses}``
  (what the task reports: train/val loss, errors, accuracies);
* ``iterations``: the iterations (updates, examples...) actually run -- what a
  re-run of a time-budgeted run must do; ``params_sha256``: a checksum of the
  final parameters (:func:`params_checksum`).

:func:`compare_records` compares a record with a re-run (or a list of
losses): bit-exact when backend, precision and BLAS match, else within a
tolerance; :func:`command_argv` rebuilds the command line of a record from a
command's argparse parser.  :mod:`theano_rnn.cli.verify` and
:mod:`theano_rnn.testing` are built on these.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theano_rnn.runtime.files import atomic_write_bytes

__all__ = [
    "SCHEMA", "RECORD_SUFFIX", "DEFAULT_RTOL", "DEFAULT_RTOL_FLOAT32", "DEFAULT_ATOL",
    "RecordError", "beside",
    "sha256_file", "corpus_entry", "params_checksum", "model_params", "model_checksum",
    "versions", "machine", "backend", "blas_thread_count", "build_record", "write_record",
    "load_record", "loss_values", "same_backend", "Comparison", "compare_records",
    "format_table", "command_argv",
]

SCHEMA = 1
RECORD_SUFFIX = ".run.json"
#: tolerance when backend, precision or BLAS differ (measured: README "Regression testing"):
#: C vs NUMBA in float64 differ by <= 1.3e-14 relative after 1000 char-rnn iterations, a
#: float32 re-run of a float64 record by <= 2.9e-7 after 200; the defaults leave room for
#: the growth of longer runs
DEFAULT_RTOL = 1e-6
DEFAULT_RTOL_FLOAT32 = 1e-4
DEFAULT_ATOL = 1e-9
#: the keys of an evaluation that are counters, not compared values
COUNTERS = ("iteration", "epoch", "seq")
#: the ``backend`` keys that must match for a bit-exact comparison
EXACT_KEYS = ("mode", "floatX", "blas_ldflags", "blas_threads")

_REQUIRED = ("schema", "command", "options", "corpus", "evaluations", "iterations",
             "params_sha256", "backend")


class RecordError(ValueError):
    """A record that is missing, damaged or of another schema (one line)."""


def beside(checkpoint):
    """The record path written beside ``checkpoint``: ``<checkpoint>.run.json``."""
    return str(checkpoint) + RECORD_SUFFIX


# ------------------------------------------------------------------- hashing


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _array_digest(h, name, array):
    a = np.ascontiguousarray(array)
    h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
    h.update(a.tobytes())


def corpus_entry(paths=None, *, text=None, arrays=None, name=None):
    """The ``corpus`` of a record: files (``paths``), an embedded ``text`` (str, or a list
    of documents) or generated ``arrays`` (name -> array), with one overall ``sha256``."""
    entry = {"name": name, "files": [], "size": 0}
    h = hashlib.sha256()
    for p in [] if paths is None else ([paths] if isinstance(paths, (str, Path)) else paths):
        digest, size = sha256_file(p), os.path.getsize(p)
        entry["files"].append({"path": str(p), "size": size, "sha256": digest})
        entry["size"] += size
        h.update(digest.encode())
    if text is not None:
        data = (text if isinstance(text, str) else "\n\0".join(text)).encode("utf-8")
        entry["text_sha256"] = hashlib.sha256(data).hexdigest()
        entry["size"] += len(data)
        h.update(entry["text_sha256"].encode())
    if arrays is not None:
        ha = hashlib.sha256()
        for key, value in arrays.items():
            _array_digest(ha, key, value)
            entry["size"] += np.asarray(value).nbytes
        entry["arrays_sha256"] = ha.hexdigest()
        h.update(entry["arrays_sha256"].encode())
    entry["sha256"] = h.hexdigest()
    return entry


def params_checksum(named):
    """sha256 over ``(name, array)`` pairs (or a dict) in the given order: names, dtypes,
    shapes and bytes."""
    h = hashlib.sha256()
    for name, array in (named.items() if isinstance(named, dict) else named):
        _array_digest(h, name, array)
    return h.hexdigest()


def model_params(model):
    """``[(name, array)]`` of a model's parameters in its own order (ParamHolder models,
    gwtaylor's MetaRNN)."""
    params = getattr(model, "params", None)
    if isinstance(params, dict):
        return [(n, s.get_value(borrow=True)) for n, s in params.items()]
    rnn = getattr(model, "rnn", None)
    if rnn is not None and isinstance(getattr(rnn, "params", None), (list, tuple)):
        return [(str(p.name), p.get_value(borrow=True)) for p in rnn.params]
    raise TypeError(f"cannot find the parameters of {type(model).__name__}")


def model_checksum(model):
    return params_checksum(model_params(model))


# -------------------------------------------------------------- environment


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions():
    """Package versions: theano_rnn, pytensor, numpy, scipy, numba, jax (if imported), python."""
    from theano_rnn import __version__

    out = {"theano_rnn": __version__, "python": platform.python_version()}
    for dist in ("pytensor", "numpy", "scipy", "numba"):
        out[dist] = _version(dist)
    out["jax"] = _version("jax") if "jax" in sys.modules else None
    return out


def _cpu():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": _cpu(),
            "cpu_count": os.cpu_count()}


def blas_thread_count():
    """The thread count of the first loaded OpenBLAS (None: none found)."""
    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({ln.split()[-1] for ln in fh
                           if "openblas" in ln.lower() and ln.split()[-1].startswith("/")})
    except OSError:
        return None
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                     "openblas_get_num_threads64_", "openblas_get_num_threads"):
            getter = getattr(lib, name, None)
            if getter is not None:
                return int(getter())
    return None


def backend(mode):
    """Backend facts: mode, floatX, BLAS (:func:`theano_rnn.runtime.blas.blas_status`), threads."""
    import pytensor

    from theano_rnn.runtime.blas import blas_status

    status = blas_status()
    return {"mode": str(mode), "floatX": pytensor.config.floatX,
            "blas_linked": status.linked, "blas_ldflags": status.ldflags,
            "blas_source": status.source, "blas_library": status.library,
            "blas_threads": blas_thread_count(),
            "env_threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS",
                                                          "OMP_NUM_THREADS")}}


# ------------------------------------------------------------------ records


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "nan", "inf": JSON has no such numbers
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def build_record(command, options, *, corpus, seeds, mode, evaluations, iterations, model,
                 settings=None, checkpoint=None, extra=None):
    """A schema-1 record (a dict) of a finished run; see the module docstring."""
    return _jsonable({
        "schema": SCHEMA, "command": list(command), "options": dict(options),
        "settings": dict(settings or {}),
        "corpus": corpus, "seeds": dict(seeds), "backend": backend(mode),
        "versions": versions(), "machine": machine(), "evaluations": list(evaluations),
        "iterations": int(iterations), "params_sha256": model_checksum(model),
        "checkpoint": None if checkpoint is None else str(checkpoint), "cwd": os.getcwd(),
        "extra": extra or {},
    })


def write_record(record, path):
    """Write ``record`` to ``path`` atomically (the caller applies the overwrite policy)."""
    text = json.dumps(record, indent=1, sort_keys=False, allow_nan=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def load_record(record):
    """A record dict from a path (or a dict, checked); :class:`RecordError` with one line."""
    if isinstance(record, dict):
        data, where = record, "record"
    else:
        where = str(record)
        try:
            text = Path(record).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RecordError(f"{where}: no such record") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordError(f"{where}: cannot read the record ({exc})") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RecordError(f"{where}: not a run record (damaged JSON: {exc})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{where}: not a run record (a JSON object expected)")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise RecordError(f"{where}: not a run record (missing {', '.join(missing)})")
    if data["schema"] != SCHEMA:
        raise RecordError(f"{where}: record schema {data['schema']!r}; this version reads "
                          f"schema {SCHEMA}")
    evals = data["evaluations"]
    if not isinstance(evals, list) or not all(isinstance(e, dict) and "iteration" in e
                                              for e in evals):
        raise RecordError(f"{where}: damaged record (evaluations)")
    if not isinstance(data["command"], list) or not isinstance(data["options"], dict):
        raise RecordError(f"{where}: damaged record (command / options)")
    return data


# --------------------------------------------------------------- comparison


def _number(v):
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def loss_values(evaluations):
    """``[(iteration, key, value)]``: every compared number of ``evaluations``."""
    out = []
    for e in evaluations:
        for key, value in e.items():
            value = _number(value)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if key not in COUNTERS and number:
                out.append((e["iteration"], key, float(value)))
    return out


def same_backend(a, b):
    """True when the two records' mode, floatX, BLAS and thread count match (bit-exact expected)."""
    ba, bb = a.get("backend") or {}, b.get("backend") or {}
    return all(ba.get(k) == bb.get(k) for k in EXACT_KEYS)


@dataclass
class Comparison:
    """The result of :func:`compare_records`; ``ok`` when everything matched."""

    exact: bool
    rtol: float
    atol: float
    rows: list = field(default_factory=list)  # dicts: iteration key recorded rerun abs rel ok
    params_match: bool | None = None
    iterations: tuple = (None, None)
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return (not self.problems and all(r["ok"] for r in self.rows)
                and self.params_match is not False)

    def to_dict(self):
        return {"ok": self.ok, "exact": self.exact, "rtol": self.rtol, "atol": self.atol,
                "params_match": self.params_match, "iterations": list(self.iterations),
                "problems": list(self.problems), "rows": _jsonable(self.rows)}


def compare_records(recorded, actual, *, rtol=None, atol=None, exact=None):
    """Compare a record with a re-run record, or with a plain list of losses.

    ``actual``: a record dict, or a list of numbers (compared, in order, with
    the record's values from :func:`loss_values`).  ``exact`` None: bit-exact
    when ``actual`` is a record of the same backend (:func:`same_backend`),
    else within ``rtol`` / ``atol`` (defaults :data:`DEFAULT_RTOL`, or
    :data:`DEFAULT_RTOL_FLOAT32` when either side ran in float32, and
    :data:`DEFAULT_ATOL`); the parameter checksum must match only when exact.
    """
    rec = loss_values(recorded["evaluations"])
    is_record = isinstance(actual, dict)
    if exact is None:
        exact = is_record and same_backend(recorded, actual)
    floats = {(r.get("backend") or {}).get("floatX")
              for r in (recorded, actual) if isinstance(r, dict)}
    if rtol is None:
        rtol = DEFAULT_RTOL_FLOAT32 if "float32" in floats else DEFAULT_RTOL
    rtol = float(rtol)
    atol = DEFAULT_ATOL if atol is None else float(atol)
    cmp = Comparison(exact=bool(exact), rtol=0.0 if exact else rtol, atol=0.0 if exact else atol)
    if is_record:
        got = {(i, k): v for i, k, v in loss_values(actual["evaluations"])}
        cmp.iterations = (recorded["iterations"], actual["iterations"])
        if recorded["iterations"] != actual["iterations"]:
            cmp.problems.append(f"iterations: recorded {recorded['iterations']}, re-run "
                                f"{actual['iterations']}")
        if set(got) != {(i, k) for i, k, _ in rec}:
            cmp.problems.append("the re-run evaluated at other iterations or reported other "
                                "values than the record")
        pairs = [(i, k, v, got.get((i, k))) for i, k, v in rec]
        same = recorded["params_sha256"] == actual["params_sha256"]
        cmp.params_match = same if exact else None
    else:
        values = [float(v) for v in actual]
        if len(values) != len(rec):
            cmp.problems.append(f"{len(values)} losses given, the record has {len(rec)}")
        pairs = [(i, k, v, values[n] if n < len(values) else None)
                 for n, (i, k, v) in enumerate(rec)]
    for i, k, want, have in pairs:
        row = {"iteration": i, "key": k, "recorded": want, "rerun": have, "abs": None,
               "rel": None, "ok": False}
        if have is not None:
            both_nan = math.isnan(want) and math.isnan(have)
            diff = 0.0 if both_nan or want == have else abs(have - want)
            row["abs"] = diff
            row["rel"] = diff / abs(want) if want not in (0.0,) and math.isfinite(diff) else (
                0.0 if diff == 0 else math.inf)
            row["ok"] = (diff == 0.0) if cmp.exact else bool(diff <= atol + rtol * abs(want))
        cmp.rows.append(row)
    return cmp


def format_table(cmp):
    """The per-evaluation table of a :class:`Comparison` (one string, lines)."""
    lines = [f"{'iteration':>9}  {'value':<14} {'recorded':>22} {'re-run':>22} "
             f"{'abs diff':>10} {'rel diff':>10}  "]
    for r in cmp.rows:
        have = "-" if r["rerun"] is None else f"{r['rerun']:.15g}"
        ad = "-" if r["abs"] is None else f"{r['abs']:.3g}"
        rd = "-" if r["rel"] is None else f"{r['rel']:.3g}"
        lines.append(f"{r['iteration']:>9}  {r['key']:<14} {r['recorded']:>22.15g} {have:>22} "
                     f"{ad:>10} {rd:>10}  {'ok' if r['ok'] else 'MISMATCH'}")
    how = "bit-exact" if cmp.exact else f"rtol {cmp.rtol:g}, atol {cmp.atol:g}"
    lines.append(f"comparison: {how}")
    if cmp.params_match is not None:
        lines.append(f"parameter checksum: {'match' if cmp.params_match else 'MISMATCH'}")
    elif cmp.iterations != (None, None):
        lines.append("parameter checksum: not compared (other backend, precision or BLAS)")
    lines.extend(f"problem: {p}" for p in cmp.problems)
    lines.append("result: " + ("match" if cmp.ok else "MISMATCH"))
    return "\n".join(lines)


# --------------------------------------------------------- the command line


def _option_values(action, value):
    flag = max(action.option_strings, key=len)
    if action.nargs == 0:  # store_true / store_false / store_const: the flag gives const
        return [flag] if value == action.const and value != action.default else []
    if isinstance(value, (list, tuple)):
        return [flag, *[str(v) for v in value]] if action.nargs in ("+", "*") else [
            tok for v in value for tok in (flag, str(v))]
    return [flag, str(value)]


def command_argv(parser, command, options, overrides=None):
    """The argv of ``command`` (names under ``parser``) with ``options`` (a record's).

    Every option whose value differs from its argparse default is written;
    ``overrides`` (dest -> value, or None to leave an option out) win.
    ``parser``: the parser whose sub-commands ``command`` names.
    """
    sub = parser
    for name in command:
        sub = next(a.choices for a in sub._actions if isinstance(a.choices, dict))[name]
    options = {**options, **(overrides or {})}
    argv = list(command)
    for action in sub._actions:
        if not action.option_strings or action.dest == "help":
            continue
        value = options.get(action.dest, action.default)
        if value is None or (value == action.default and action.nargs != 0):
            continue
        argv.extend(_option_values(action, value))
    return argv
