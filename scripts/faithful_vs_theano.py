#!/usr/bin/env python
"""The faithful part-2 ``RNNTheano.sgd_step`` side by side with real Theano 1.0.5, one run.

    python scripts/faithful_vs_theano.py --theano-python /work/theano_venv/bin/python
    python scripts/faithful_vs_theano.py --theano-python VENV/bin/python --dtypes float32 --json

Theano cannot share a process (or a NumPy) with PyTensor, so each
implementation runs in its own long-lived worker process -- this script with
``--worker port`` under this interpreter, ``--worker theano`` under the
interpreter of ``scripts/make_theano_env.py``'s venv (its ``RNNTheano`` is the
tutorial's listing, from ``scripts/make_theano_golden.py``).  Each worker
builds ``RNNTheano(8000, 100)`` at ``bptt_truncate`` -1 (full BPTT) and 4 for
one float type, draws the same 45 token ids (seed 0) and warms up; then the
driver asks the workers in turn for a round of ``--calls`` timed
``sgd_step`` calls per variant, ``--rounds`` times (port, theano, port, ...),
so both see the same machine state.  Reported: the median ms per call over
all rounds, per implementation, variant and dtype, with the load average
before and after.  One BLAS / OpenMP thread in both workers.

The Theano venv's ``THEANO_FLAGS`` come from its ``theano_env.sh``
(``--theano-flags`` to give them here); ``floatX`` is set per dtype.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
VARIANTS = (("full", -1), ("truncate4", 4))
C, H, N_TOKENS = 8000, 100, 45


# ---------------------------------------------------------------------- worker
def _build(impl):
    import numpy as np

    if impl == "theano":
        sys.path.insert(0, str(SCRIPTS))
        from make_theano_golden import tutorial_models

        cls = tutorial_models()[0]  # (RNNTheano, GRUTheano, LSTMTheano)
    else:
        sys.path.insert(0, str(REPO))
        from theano_rnn import RNNTheano as cls
    np.random.seed(10)
    models = {name: cls(C, H, bptt_truncate=k) for name, k in VARIANTS}
    rng = np.random.RandomState(0)
    tokens = rng.randint(0, C, N_TOKENS + 1).astype("int32")
    x, y = tokens[:-1], tokens[1:]
    for m in models.values():
        for _ in range(2):
            m.sgd_step(x, y, 0.005)
    return models, x, y


def worker(impl):
    models, x, y = _build(impl)
    print(json.dumps({"ready": impl}), flush=True)
    for line in sys.stdin:
        calls = int(line)
        out = {}
        for name, m in models.items():
            times = []
            for _ in range(calls):
                t0 = time.perf_counter()
                m.sgd_step(x, y, 0.005)
                times.append((time.perf_counter() - t0) * 1e3)
            out[name] = times
        print(json.dumps(out), flush=True)


# ---------------------------------------------------------------------- driver
def with_floatx(flags, dtype):
    """``flags`` (THEANO_FLAGS / PYTENSOR_FLAGS syntax) with ``floatX=dtype``
    instead of any floatX; commas escaped inside a value (``-Wl\\,-rpath``) stay."""
    kept = [f for f in re.split(r"(?<!\\),", flags) if f and not f.startswith("floatX=")]
    return ",".join(kept + [f"floatX={dtype}"])


def malloc_env(choice):
    """glibc's environment for both workers: ``tuned`` = the thresholds of
    ``theano_rnn.runtime.allocator`` (as the theano-rnn commands set them), ``default`` = none."""
    if choice == "default":
        return {}
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from theano_rnn.runtime.allocator import MMAP_THRESHOLD, TRIM_THRESHOLD

    return {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
            "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}


def _start(python, impl, dtype, theano_flags, malloc="default"):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               **malloc_env(malloc))
    if impl == "theano":
        env["THEANO_FLAGS"] = with_floatx(theano_flags or env.get("THEANO_FLAGS", ""), dtype)
    else:
        env["PYTENSOR_FLAGS"] = with_floatx(env.get("PYTENSOR_FLAGS", ""), dtype)
    proc = subprocess.Popen([python, str(Path(__file__).resolve()), "--worker", impl],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    ready = proc.stdout.readline()
    if not ready:
        raise SystemExit(f"faithful_vs_theano: the {impl} worker ({python}) did not start")
    return proc


def _theano_flags_from_env_file(python):
    env_sh = Path(os.path.abspath(python)).parents[1] / "theano_env.sh"  # not resolved: a venv python is a link
    if not env_sh.is_file():
        return None
    for line in env_sh.read_text().splitlines():
        if line.startswith("export THEANO_FLAGS="):
            return line.split("=", 1)[1].strip().strip("'\"")
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", choices=("port", "theano"), help=argparse.SUPPRESS)
    p.add_argument("--theano-python", help="python of the Theano 1.0.5 venv")
    p.add_argument("--theano-flags", help="THEANO_FLAGS (default: the venv's theano_env.sh)")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--calls", type=int, default=4, help="timed calls per variant per round")
    p.add_argument("--malloc", choices=("default", "tuned"), default="default",
                   help="glibc's thresholds in both workers' environment (tuned: as theano-rnn sets them)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    if not args.theano_python or not Path(args.theano_python).exists():
        print("faithful_vs_theano: --theano-python must name the Theano venv's python "
              "(build it with scripts/make_theano_env.py)", file=sys.stderr)
        return 2
    flags = args.theano_flags or _theano_flags_from_env_file(args.theano_python)
    rows = []
    load0 = os.getloadavg()
    for dtype in args.dtypes.split(","):
        procs = {"port": _start(sys.executable, "port", dtype, None, args.malloc),
                 "theano": _start(args.theano_python, "theano", dtype, flags, args.malloc)}
        times = {impl: {name: [] for name, _ in VARIANTS} for impl in procs}
        try:
            for _ in range(args.rounds):
                for impl, proc in procs.items():
                    proc.stdin.write(f"{args.calls}\n")
                    proc.stdin.flush()
                    for name, ts in json.loads(proc.stdout.readline()).items():
                        times[impl][name].extend(ts)
        finally:
            for proc in procs.values():
                proc.stdin.close()
                proc.wait(60)
        for name, _ in VARIANTS:
            port = statistics.median(times["port"][name])
            theano = statistics.median(times["theano"][name])
            rows.append(dict(dtype=dtype, variant=name, port_ms=round(port, 2),
                             theano_ms=round(theano, 2), theano_over_port=round(theano / port, 3),
                             calls=len(times["port"][name])))
    meta = dict(date=time.strftime("%Y-%m-%d %H:%M:%S %z"), cpu=platform.processor() or "?",
                loadavg_before=[round(v, 2) for v in load0],
                loadavg_after=[round(v, 2) for v in os.getloadavg()],
                malloc=args.malloc, model=f"RNNTheano({C}, {H}), {N_TOKENS} tokens, sgd_step, one thread")
    if args.json:
        print(json.dumps(dict(meta=meta, rows=rows)))
    else:
        print(meta)
        print(f"{'dtype':8} {'variant':10} {'port ms':>9} {'Theano ms':>10} {'Theano/port':>12}")
        for r in rows:
            print(f"{r['dtype']:8} {r['variant']:10} {r['port_ms']:9.2f} {r['theano_ms']:10.2f} "
                  f"{r['theano_over_port']:12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
