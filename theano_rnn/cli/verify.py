"""``theano-rnn verify RUN.json``: re-run a recorded training run and compare it with the record.

The record (:mod:`theano_rnn.training.record`, written by every training
command beside its checkpoint and with ``--record``) names the command and
every option.  ``verify`` checks that the corpus (and an ``--init-from``
checkpoint) are unchanged, re-runs the command with the same options --
its files into a temporary directory (``--keep DIR``: into DIR), a
time-budgeted run for exactly the iterations recorded, no samples or
plots -- and prints a table of every evaluation (recorded, re-run, absolute
and relative difference) and whether the parameter checksums match.

Bit-exact is expected when the backend, precision, BLAS and its thread count
match the record; otherwise the values must agree within ``--rtol`` /
``--atol`` (defaults :data:`~theano_rnn.training.record.DEFAULT_RTOL`, 1e-6;
1e-4 when either run is float32; :data:`~theano_rnn.training.record.DEFAULT_ATOL`,
1e-9).  Exit status 0: match; 1: mismatch (or the re-run failed); 2: bad
input -- a missing or damaged record, a corpus that changed -- one line on
stderr.  ``--json`` prints the
result as one JSON object for CI.
"""

from __future__ import annotations

import contextlib
import io as _stdio
import json
import shlex
import sys
import tempfile
from pathlib import Path

from theano_rnn.cli.util import PROG, Parser, float_in, mode_type
from theano_rnn.errors import CLIError
from theano_rnn.training import record as records

__all__ = ["main", "build_parser", "rerun_argv", "rerun", "verify"]

#: options a re-run changes: its files go elsewhere, nothing printed, no plots
QUIET = {"quiet": True, "log_level": None, "overwrite": False, "samples": 0, "examples": 0,
         "json": None, "plots": None}


def build_parser():
    p = Parser(prog=f"{PROG} verify", description=(
        "Re-run a recorded training run (a RUN.json written by --record, or the "
        "<checkpoint>.run.json beside a checkpoint) and compare every evaluation and the "
        "final parameters with the record.  Bit-exact when backend, precision and BLAS "
        "match the record, else within --rtol/--atol.  Exit status 0 match, 1 mismatch, "
        "2 bad input (missing or damaged record, changed corpus)."))
    p.add_argument("record", metavar="RUN.json", help="the run record")
    p.add_argument("--rtol", type=float_in(0, None, lo_open=False, what="--rtol"), default=None,
                   help=f"relative tolerance when the backend, precision or BLAS differ "
                        f"(default {records.DEFAULT_RTOL:g}; {records.DEFAULT_RTOL_FLOAT32:g} "
                        "when either run is float32)")
    p.add_argument("--atol", type=float_in(0, None, lo_open=False, what="--atol"), default=None,
                   help=f"absolute tolerance when the backend differs (default "
                        f"{records.DEFAULT_ATOL:g})")
    p.add_argument("--mode", type=mode_type, default=None, metavar="{C,NUMBA,JAX}",
                   help="re-run on this backend instead of the recorded one (then the "
                        "tolerance applies)")
    p.add_argument("--keep", metavar="DIR", default=None,
                   help="write the re-run's checkpoint and record into DIR (kept) instead of a "
                        "temporary directory")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for CI)")
    return p


def _parser_for(command):
    """``(parser, names under it)`` of a record's command."""
    if command[:1] == ["seq"]:
        from theano_rnn.cli import seq

        return seq.build_parser(), command[1:]
    from theano_rnn.cli import word

    return word.build_parser(), command


def _resolve(path, cwd):
    p = Path(path)
    return p if p.is_absolute() or cwd is None else Path(cwd) / p


def check_inputs(rec):
    """A :class:`CLIError` (status 2) when the record's corpus files or ``--init-from``
    checkpoint are missing or changed."""
    cwd = rec.get("cwd")
    for f in rec["corpus"].get("files", []):
        path = _resolve(f["path"], cwd)
        if not path.is_file():
            raise CLIError(f"the recorded corpus {path} is missing", status=2)
        if records.sha256_file(path) != f["sha256"]:
            raise CLIError(f"the corpus {path} has changed since the run was recorded (sha256 "
                           f"{f['sha256'][:12]}... expected): the run cannot be reproduced",
                           status=2)
    init = (rec.get("extra") or {}).get("init_from")
    if init:
        path = _resolve(init["path"], cwd)
        if not path.is_file() or records.sha256_file(path) != init["sha256"]:
            raise CLIError(f"the run continued {path}, which is missing or has changed since "
                           "(it is overwritten when a run continues into it): pass --output "
                           "when continuing a run you want to verify", status=2)


def rerun_argv(rec, directory, mode=None):
    """The argv (below ``theano-rnn``) that re-runs ``rec`` into ``directory``."""
    opts = rec["options"]
    name = Path(rec.get("checkpoint") or "model.npz").name
    overrides = {k: v for k, v in QUIET.items() if k in opts}
    overrides.update(output=str(Path(directory) / name),
                     record=str(Path(directory) / ("rerun" + records.RECORD_SUFFIX)))
    if "time_budget" in opts:  # a time-budgeted run: exactly the iterations it ran
        start = (rec.get("extra") or {}).get("start_iteration") or 0
        overrides.update(time_budget=0, max_iterations=rec["iterations"] - start)
    if mode is not None:
        overrides["mode"] = mode
    parser, names = _parser_for(rec["command"])
    try:
        argv = records.command_argv(parser, names, opts, overrides)
    except (KeyError, StopIteration, TypeError) as exc:
        raise CLIError(f"the record's command {' '.join(rec['command'])!r} is not one of this "
                       f"version's ({exc})", status=2) from None
    return rec["command"][:1] + argv if rec["command"][:1] == ["seq"] else argv


def _run(argv):
    """``(status, stdout, stderr)`` of one ``theano-rnn`` command in this process."""
    out, err = _stdio.StringIO(), _stdio.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if argv[:1] == ["seq"]:
            from theano_rnn.cli import seq

            status = seq.main(argv[1:])
        else:
            from theano_rnn.cli import word

            status = word.main(argv, environ={})
    return status, out.getvalue(), err.getvalue()


def rerun(rec, directory, mode=None):
    """Re-run record ``rec`` (a dict) with its files in ``directory``; returns the new record.

    Runs in the record's working directory (relative corpus paths) when it
    still exists.  :class:`CLIError` when the inputs changed (status 2) or the
    re-run fails (status 1).
    """
    check_inputs(rec)
    why = (rec.get("extra") or {}).get("not_reproducible")
    if why:
        raise CLIError(f"this run cannot be re-run exactly: {why}", status=2)
    argv = rerun_argv(rec, Path(directory).resolve(), mode)
    cwd = rec.get("cwd")
    with contextlib.chdir(cwd) if cwd and Path(cwd).is_dir() else contextlib.nullcontext():
        status, _, err = _run(argv)
    if status != 0:
        last = next((ln for ln in reversed(err.splitlines()) if ln.strip()), "no message")
        raise CLIError(f"the re-run ({PROG} {' '.join(argv)}) failed with status {status}: "
                       f"{last}")
    return records.load_record(Path(directory) / ("rerun" + records.RECORD_SUFFIX))


def verify(rec, directory, *, rtol=None, atol=None, mode=None):
    """``(comparison, rerun record)`` of record ``rec`` re-run into ``directory``."""
    new = rerun(rec, directory, mode)
    if new["corpus"].get("sha256") != rec["corpus"].get("sha256"):
        what = rec["corpus"].get("name") or "embedded text"
        raise CLIError(f"the corpus has changed since the run was recorded ({what}: sha256 "
                       "differs): the run cannot be reproduced", status=2)
    return records.compare_records(rec, new, rtol=rtol, atol=atol), new


def _verify(args):
    try:
        rec = records.load_record(args.record)
    except records.RecordError as exc:
        raise CLIError(str(exc), status=2) from None
    if args.keep is not None:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        ctx = contextlib.nullcontext(args.keep)
    else:
        ctx = tempfile.TemporaryDirectory(prefix="theano-rnn-verify-")
    with ctx as directory:
        if not args.json:
            print(f"re-running {PROG} {shlex.join(rerun_argv(rec, directory, args.mode))}",
                  file=sys.stderr)
        cmp, new = verify(rec, directory, rtol=args.rtol, atol=args.atol, mode=args.mode)
    if args.json:
        payload = {"record": str(args.record), **cmp.to_dict(),
                   "recorded_backend": rec["backend"], "rerun_backend": new["backend"]}
        print(json.dumps(payload, indent=1))
    else:
        print(records.format_table(cmp))
    return 0 if cmp.ok else 1


def main(argv=None):
    """``theano-rnn verify ...``; returns the exit status (0 match, 1 mismatch, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return _verify(args)
    except CLIError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
