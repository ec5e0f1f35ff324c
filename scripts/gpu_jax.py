#!/usr/bin/env python
"""Time the word-level models on PyTensor's JAX backend on whatever device JAX uses (a GPU if any).

    pip install '.[jax]' && pip install -U "jax[cuda12]==0.10.2"   # on a CUDA machine
    python scripts/gpu_jax.py [--repeats 20] [--dtypes float64,float32] [--json]

For the part-2 RNN (C=8000, H=100, full BPTT) and the part-4 GRU (C=8000,
H=128, 2 layers, RMSprop), one ``sgd_step`` on a 45-token sentence (JAX pads
it to a 48-token bucket) with the fast graph, median of ``--repeats`` after
two burn-in steps (compilation excluded, reported separately), plus one
``batch_step`` on 32 such sentences.  Prints the JAX devices first.  This is a
documented script, not a test: CI has no GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def run(cell, dtype, repeats):
    import pytensor

    from theano_rnn import GRUTheano, RNNTheano
    from theano_rnn.graphs.fast import pad_batch

    rng = np.random.RandomState(0)
    sent = rng.randint(0, 8000, size=46).astype(np.int32)
    x, y = sent[:-1], sent[1:]
    with pytensor.config.change_flags(floatX=dtype):
        if cell == "rnn":
            model = RNNTheano(8000, 100, bptt_truncate=-1, rng=rng, mode="JAX", graph="fast")
            step = lambda: model.sgd_step(x, y, 0.005)  # noqa: E731
        else:
            model = GRUTheano(8000, 128, rng=rng, mode="JAX", graph="fast")
            step = lambda: model.sgd_step(x, y, 0.001, 0.9)  # noqa: E731
    t0 = time.perf_counter()
    step()
    compile_s = time.perf_counter() - t0
    step()
    step()
    row = dict(workload=f"wildml_{cell}_step", impl="fast", backend="JAX", dtype=dtype,
               compile_s=round(compile_s, 2), median_ms=round(_median_ms(step, repeats), 3))
    X = [x] * 32
    Y = [y] * 32
    bx, by, bm = pad_batch(X, Y, multiple=16, dtype=dtype)
    args = (0.005,) if cell == "rnn" else (0.001, 0.9)
    batch = lambda: model.batch_step(bx, by, bm, *args)  # noqa: E731
    batch()
    batch()
    ms = _median_ms(batch, repeats)
    row["batch32_median_ms"] = round(ms, 3)
    row["batch32_tokens_per_s"] = round(32 * len(y) / (ms / 1e3), 1)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        import jax
    except ImportError:
        print("gpu_jax.py: jax is not installed: pip install '.[jax]'", file=sys.stderr)
        return 2
    devices = [str(d) for d in jax.devices()]
    print(json.dumps({"workload": "_meta", "jax": jax.__version__, "devices": devices}))
    for cell in ("rnn", "gru"):
        for dtype in args.dtypes.split(","):
            row = run(cell, dtype.strip(), args.repeats)
            print(json.dumps(row) if args.json else
                  f"{row['workload']:18s} {dtype:8s} compile {row['compile_s']:6.1f} s  "
                  f"step {row['median_ms']:8.2f} ms  batch of 32 {row['batch32_median_ms']:8.2f} ms "
                  f"({row['batch32_tokens_per_s']:.0f} tokens/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
