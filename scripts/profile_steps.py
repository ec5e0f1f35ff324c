#!/usr/bin/env python
"""Where a training step's time goes: PyTensor's profiler on the benchmarked steps.

    python scripts/profile_steps.py                          # every workload, float64 and float32
    python scripts/profile_steps.py --workloads word_batch --dtypes f32 --steps 20
    python scripts/profile_steps.py --quick                  # tiny sizes (smoke test)

BENCHMARKS.md quotes these profiles next to the targets that are missed.  The
models are built exactly as ``scripts/bench.py`` builds them (same classes, sizes
and C backend), but compiled with PyTensor's profiler on, so each op's share of
the step is measured (the profiler adds a little overhead per op call, so the
absolute times run above bench.py's).  Inputs are synthetic (Zipf-distributed
word ids with the reddit prefix's mean sentence length; random characters):
where the time goes depends on the shapes, not on the text.

Workloads:

``word_batch``   ``GRUTheano(8000, 128, num_layers=2, graph="fast").batch_step`` on
                 four length-sorted, left-padded (T, 32) batches (bench.py's
                 word_minibatch_train, fast_batch)
``rnn_faithful`` ``RNNTheano(8000, 100, bptt_truncate=-1).sgd_step`` on a
                 45-token sentence (bench.py's wildml_rnn_step, faithful)
``rnn_faithful_t4`` the same with the tutorial's ``bptt_truncate=4``
``char``         ``CharRNN(65, 128, 2).train_step`` on a (T, B) = 50 x 50 batch (char_lstm_train)

For each compiled function the script prints the per-op-class table and the
costliest apply nodes of PyTensor's ``ProfileStats.summary``, inner scan functions
included, with the compiling call and ``--burn-in`` warm-up calls left out (``reset()``).
One thread everywhere (set before NumPy is imported).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from _common import compiled_functions, zipf_sentences  # noqa: E402  (puts the repository on sys.path)

WORKLOADS = ("word_batch", "rnn_faithful", "rnn_faithful_t4", "char")
FULL = dict(C=8000, H=128, L=2, B=32, K=4, rnn_H=100, T=45, char_C=65, char_B=50, char_T=50)
QUICK = dict(C=50, H=8, L=2, B=4, K=2, rnn_H=8, T=6, char_C=12, char_B=4, char_T=5)


def build_word_batch(sz, rng):
    from theano_rnn import GRUTheano
    from theano_rnn.graphs.fast import pad_batch

    X, Y = zipf_sentences(sz["B"] * sz["K"], sz["C"], rng)
    order = sorted(range(len(X)), key=lambda i: len(X[i]))
    batches = [order[k * sz["B"]:(k + 1) * sz["B"]] for k in range(sz["K"])]
    padded = [pad_batch([X[i] for i in b], [Y[i] for i in b]) for b in batches]
    m = GRUTheano(sz["C"], sz["H"], -1, num_layers=sz["L"], graph="fast", mode="C",
                  rng=np.random.RandomState(10))
    it = [0]

    def step():
        m.batch_step(*padded[it[0] % len(padded)], 0.001, 0.9)
        it[0] += 1

    return m, step


def build_rnn_faithful(sz, rng, truncate=-1):
    from theano_rnn import RNNTheano

    m = RNNTheano(sz["C"], sz["rnn_H"], bptt_truncate=truncate, mode="C",
                  rng=np.random.RandomState(10))
    x = rng.randint(0, sz["C"], size=sz["T"]).astype("int32")
    y = rng.randint(0, sz["C"], size=sz["T"]).astype("int32")

    def step():
        m.sgd_step(x, y, 0.005)

    return m, step


def build_char(sz, rng):
    from theano_rnn.models.char import CharRNN

    m = CharRNN(sz["char_C"], hidden_dim=sz["H"], num_layers=sz["L"], mode="C")
    xb = rng.randint(0, sz["char_C"], size=(sz["char_T"], sz["char_B"])).astype("int32")
    yb = rng.randint(0, sz["char_C"], size=(sz["char_T"], sz["char_B"])).astype("int32")
    state = [m.zero_states(sz["char_B"])]

    def step():
        _, state[0] = m.train_step(xb, yb, 2e-3, state[0])

    return m, step


def build_rnn_faithful_t4(sz, rng):
    return build_rnn_faithful(sz, rng, truncate=4)


BUILDERS = dict(word_batch=build_word_batch, rnn_faithful=build_rnn_faithful,
                rnn_faithful_t4=build_rnn_faithful_t4, char=build_char)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--steps", type=int, default=12, help="profiled steps (default 12)")
    ap.add_argument("--burn-in", type=int, default=2, help="warm-up steps before profiling")
    ap.add_argument("--ops", type=int, default=12, help="op classes and apply nodes to print")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    args.workloads = [w for w in args.workloads.split(",") if w]
    bad = [w for w in args.workloads if w not in BUILDERS]
    if bad:
        ap.error(f"unknown workload {bad[0]!r} (choose from {', '.join(WORKLOADS)})")
    names = {"f64": "float64", "f32": "float32"}
    args.dtypes = [names.get(d, d) for d in args.dtypes.split(",") if d]
    if any(d not in ("float64", "float32") for d in args.dtypes):
        ap.error("--dtypes takes float64 and/or float32")
    if args.quick:
        args.steps, args.burn_in = min(args.steps, 2), min(args.burn_in, 1)
    return args


def main(argv=None):
    args = parse_args(argv)
    import pytensor

    sz = QUICK if args.quick else FULL
    # the profiles are printed below; nothing again at exit
    pytensor.config.profiling__destination = os.devnull
    print(f"# load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    for workload in args.workloads:
        for dtype in args.dtypes:
            rng = np.random.RandomState(0)
            with pytensor.config.change_flags(floatX=dtype, profile=True):
                model, step = BUILDERS[workload](sz, rng)
                step()  # compile
            for _ in range(args.burn_in):
                step()
            fns = compiled_functions(model)
            for fn in fns:  # discard the compile and warm-up calls
                fn.profile.reset()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            wall = (time.perf_counter() - t0) / args.steps * 1e3
            print(f"\n## {workload} {dtype}: {wall:.1f} ms per step (profiled, mean of "
                  f"{args.steps}); load {os.getloadavg()[0]:.2f}", flush=True)
            for fn in fns:
                prof = fn.profile
                if prof.fct_callcount == 0:
                    continue
                prof.summary(file=sys.stdout, n_ops_to_print=args.ops, n_apply_to_print=args.ops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
