#!/usr/bin/env python
"""The fused LSTM engine against today's scan path and PyTorch: forward + backward.

    python scripts/bench_engine.py                      # T=B=50, H=128, 2 layers, both dtypes
    python scripts/bench_engine.py --quick --json       # tiny sizes (smoke test)
    python scripts/bench_engine.py --compile-times      # numba's first call, cold and warm
    python scripts/bench_engine.py --profile            # where the engine's call spends its time

Workload: char-rnn's default model body -- inputs ``(T, B, C=65)``, layer 1's
pre-activations one product ``x U0 + b0`` outside the recurrence, 2 stacked
LSTM layers of H=128 (layer 2's pre = ``h1 U1 + b1``), cost ``sum(h2 * P)``
for a fixed random ``P``; one call = forward + the gradients of every
parameter (no update).  Impls:

``engine``  :func:`theano_rnn.graphs.engine.run_layer` per layer (C backend:
            one numba kernel call per layer and direction)
``scan``    one ``scan`` per layer of ``LSTM.merged_step`` differentiated by
            ``pytensor.grad`` (what CharRNN runs today), C backend
``torch``   ``torch.nn.LSTM(65, 128, 2)`` + ``backward()``, if ``import torch`` works

All impls get the same arrays; their first call (compilation) is reported
apart, then ``--burn-in`` untimed calls, then ``--repeats`` timed calls
round-robin (one of each impl in turn); the figure is the median, also as
characters (T*B) per second.  One thread everywhere (set before NumPy loads).
Prints ``uptime``'s load beside the figures: the machine may be shared.
"""

from __future__ import annotations

import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def load():
    return os.getloadavg()


def make_data(T, B, C, H, layers, dtype, seed=0):
    rng = np.random.default_rng(seed)
    vals = {"x": rng.normal(0, 1, (T, B, C)), "P": rng.normal(0, 1, (T, B, H))}
    for layer in range(layers):
        fan_in = C if layer == 0 else H
        vals[f"U{layer}"] = rng.uniform(-0.08, 0.08, (fan_in, 4 * H))
        vals[f"b{layer}"] = np.zeros(4 * H)
        vals[f"W{layer}"] = rng.uniform(-0.08, 0.08, (4 * H, H))
    return {k: v.astype(dtype) for k, v in vals.items()}


def pytensor_impl(kind, data, layers, dtype, profile=False):
    """A compiled ``f(x, P) -> [cost, *grads]`` on the C backend (``profile``:
    PyTensor's profiler on, the function returned as well)."""
    import pytensor
    import pytensor.tensor as pt

    from theano_rnn.cells import LSTM
    from theano_rnn.compat import scan
    from theano_rnn.graphs import engine
    from theano_rnn.runtime.compile import compile_function
    from theano_rnn.runtime.modes import get_mode

    with pytensor.config.change_flags(floatX=dtype):
        x = pt.tensor3("x", dtype=dtype)
        P = pt.tensor3("P", dtype=dtype)
        params = {k: pytensor.shared(v, name=k) for k, v in data.items() if k not in ("x", "P")}
        T, B = x.shape[0], x.shape[1]
        H = data["P"].shape[-1]
        below = x
        for layer in range(layers):
            pre = pt.dot(below, params[f"U{layer}"]) + params[f"b{layer}"]
            Wm = params[f"W{layer}"]
            inits = [pt.zeros((B, H), dtype=dtype), pt.zeros((B, H), dtype=dtype)]
            if kind == "engine":
                below = engine.run_layer(LSTM, "sigmoid", pre, Wm, inits,
                                         pt.ones((T, B), dtype=dtype))[0]
            else:
                def step(p_t, h, c, Wm):
                    new, _ = LSTM.merged_step(p_t, [h, c], Wm, "sigmoid")
                    return new

                outs, _ = scan(step, sequences=[pre], outputs_info=inits, non_sequences=[Wm],
                               strict=True)
                below = outs[0]
        cost = pt.sum(below * P)
        grads = pytensor.grad(cost, list(params.values()))
        if profile:
            fn = pytensor.function([x, P], [cost, *grads], mode=get_mode("C"), profile=True)
            return (lambda: fn(data["x"], data["P"])), fn
        fn = compile_function([x, P], [cost, *grads], mode=get_mode("C"), name=f"bench_{kind}")
    return lambda: fn(data["x"], data["P"])


def torch_impl(torch, data, layers, dtype):
    tdt = getattr(torch, dtype)
    T, B, C = data["x"].shape
    H = data["P"].shape[-1]
    lstm = torch.nn.LSTM(C, H, layers).to(tdt)
    x = torch.from_numpy(data["x"])
    P = torch.from_numpy(data["P"])

    def run():
        lstm.zero_grad()
        out, _ = lstm(x)
        cost = (out * P).sum()
        cost.backward()
        return cost

    return run


def time_impls(impls, repeats, burn_in):
    times = {name: [] for name in impls}
    for _ in range(burn_in):
        for run in impls.values():
            run()
    for _ in range(repeats):
        for name, run in impls.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


def compile_times(dtypes):
    """Numba's first call of the engine (forward + backward per dtype) in a fresh
    process: cold (empty numba cache) then warm (the cache just written)."""
    code = (
        "import time, numpy as np\n"
        "t0 = time.perf_counter()\n"
        "from theano_rnn.graphs.engine import kernels\n"
        "for dt in {dtypes!r}:\n"
        "    for kind, nb in (('rnn', 1), ('gru', 3), ('lstm', 4)):\n"
        "        T, B, H = 3, 2, 4\n"
        "        pre = np.zeros((T, B, nb * H), dt); Wm = np.zeros((nb * H, H), dt)\n"
        "        n = 2 if kind == 'lstm' else 1\n"
        "        inits = tuple(np.zeros((B, H), dt) for _ in range(n)); m = np.ones((T, B), dt)\n"
        "        for gate in ((0, 1) if kind != 'rnn' else (-1,)):\n"
        "            outs = kernels.forward(kind)(pre, Wm, inits, m, gate, False)\n"
        "            kernels.backward(kind)(Wm, inits, m, outs, outs[:n], gate, False, -1)\n"
        "print(time.perf_counter() - t0)\n"
    ).format(dtypes=tuple(dtypes))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=ROOT)
        res = {}
        for label in ("cold", "warm"):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True)
            res[label] = float(out.stdout.split()[-1])
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--T", type=int, default=50)
    ap.add_argument("--B", type=int, default=50)
    ap.add_argument("--C", type=int, default=65)
    ap.add_argument("--H", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--impls", default="engine,scan,torch")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--burn-in", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, 3 repeats")
    ap.add_argument("--compile-times", action="store_true",
                    help="only numba's cold / warm first-call times of every kernel")
    ap.add_argument("--json", action="store_true", help="one JSON object per row")
    ap.add_argument("--profile", action="store_true",
                    help="PyTensor's profile of the engine's function (per op class), then exit")
    args = ap.parse_args(argv)
    dtypes = args.dtypes.split(",")
    if args.compile_times:
        res = compile_times(dtypes)
        print(json.dumps({"numba_first_call_s": res, "dtypes": dtypes, "load": load()}))
        return 0
    if args.quick:
        args.T, args.B, args.H, args.repeats, args.burn_in = 5, 3, 8, 3, 1
    if args.profile:
        for dtype in dtypes:
            data = make_data(args.T, args.B, args.C, args.H, args.layers, dtype)
            pytensor_impl("engine", data, args.layers, dtype)()  # loads the kernels
            run, fn = pytensor_impl("engine", data, args.layers, dtype, profile=True)
            for _ in range(args.burn_in + args.repeats):
                run()
            fn.profile.summary(n_ops_to_print=12, n_apply_to_print=0)
        return 0
    wanted = args.impls.split(",")
    torch = None
    if "torch" in wanted:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            wanted.remove("torch")
            print("torch: not installed, skipped", file=sys.stderr)
    rows = []
    for dtype in dtypes:
        data = make_data(args.T, args.B, args.C, args.H, args.layers, dtype)
        impls, first = {}, {}
        for name in wanted:
            t0 = time.perf_counter()
            if name == "torch":
                run = torch_impl(torch, data, args.layers, dtype)
            else:
                run = pytensor_impl(name, data, args.layers, dtype)
            run()
            first[name] = time.perf_counter() - t0
            impls[name] = run
        med = time_impls(impls, args.repeats, args.burn_in)
        for name in wanted:
            rows.append(dict(
                impl=name, dtype=dtype, median_ms=1e3 * med[name],
                chars_per_s=args.T * args.B / med[name], first_call_s=first[name],
                vs_torch=(med["torch"] / med[name]) if "torch" in med else None,
                T=args.T, B=args.B, H=args.H, layers=args.layers, load=load(),
            ))
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            ratio = "" if row["vs_torch"] is None else f"  {row['vs_torch']:.2f}x torch"
            print(f"{row['impl']:7s} {row['dtype']}  {row['median_ms']:8.2f} ms"
                  f"  {row['chars_per_s']:9.0f} chars/s  first call {row['first_call_s']:6.2f} s"
                  f"{ratio}  (load {row['load'][0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
