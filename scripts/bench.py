#!/usr/bin/env python
"""Side-by-side benchmarks: every implementation of a workload in one process run.

    python scripts/bench.py                       # all workloads, a table
    python scripts/bench.py --workloads wildml_rnn_step --repeats 15 --json

Workloads
  wildml_rnn_step   part-2 RNN, C=8000, H=100, one 45-token sentence, full BPTT:
                    one sgd_step of the NumPy reference, the faithful PyTensor
                    graph, and PyTorch (nn.RNN + Linear on the stacked states) if
                    installed.
  wildml_gru_step   part-4 GRU, C=8000, H=128, 2 layers: NumPy reference and the
                    faithful graph (RMSprop step).
  char_lstm_train   char-rnn's default model (2x128 LSTM, seq 50, batch 50,
                    RMSprop 2e-3/0.95, clip 5) on Tiny Shakespeare for a fixed
                    wall-clock budget: characters/second and the validation loss
                    reached, CharRNN vs PyTorch nn.LSTM with the same optimizer.

Burn-in (compilation, first calls) is separated from timing; step timings are
medians of ``--repeats`` measurements.  ``--json`` prints one JSON object per
line with workload, impl, dtype, backend, median_ms or chars_per_s, and
ratio_vs (the baseline named).  PyTorch is optional (``pip install
torch==2.13.0``) and never a dependency of the package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def shared_data(args):
    if args.data:
        return Path(args.data)
    env = os.environ.get("THEANO_RNN_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def try_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def median_ms(fn, repeats, burn_in=2):
    for _ in range(burn_in):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def emit(rows, row):
    rows.append(row)


# ---------------------------------------------------------------------------
def bench_wildml_rnn_step(args, rows):
    import pytensor

    from legacy_ref import RNNNumpy
    from theano_rnn import RNNTheano

    C, H, T = 8000, 100, 45
    rng = np.random.RandomState(0)
    x = rng.randint(0, C, T).astype(np.int32)
    y = rng.randint(0, C, T).astype(np.int32)
    ref = RNNNumpy(C, H, bptt_truncate=-1, rng=np.random.RandomState(10))
    base = median_ms(lambda: ref.sgd_step(x, y, 0.005, truncation="none"), max(3, args.repeats // 3), 1)
    emit(rows, dict(workload="wildml_rnn_step", impl="legacy_numpy", dtype="float64", backend="numpy",
                    median_ms=base, ratio_vs=None))
    for dtype in args.dtypes:
        with pytensor.config.change_flags(floatX=dtype):
            for mode in args.modes:
                m = RNNTheano(C, H, bptt_truncate=-1, rng=np.random.RandomState(10), mode=mode)
                t0 = time.perf_counter()
                m.sgd_step(x, y, 0.005)
                compile_s = time.perf_counter() - t0
                ms = median_ms(lambda: m.sgd_step(x, y, 0.005), args.repeats)
                emit(rows, dict(workload="wildml_rnn_step", impl="faithful", dtype=dtype, backend=mode,
                                median_ms=ms, ratio_vs="legacy_numpy", ratio=base / ms,
                                compile_s=compile_s))
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(args.threads)
        for dtype in args.dtypes:
            tdt = getattr(torch, dtype)
            rnn = torch.nn.RNN(C, H, bias=False, nonlinearity="tanh").to(tdt)
            out = torch.nn.Linear(H, C, bias=False).to(tdt)
            params = list(rnn.parameters()) + list(out.parameters())
            opt = torch.optim.SGD(params, lr=0.005)
            xt = torch.as_tensor(x.astype(np.int64))
            yt = torch.as_tensor(y.astype(np.int64))
            eye = torch.eye(C, dtype=tdt)

            def step():
                opt.zero_grad()
                h, _ = rnn(eye[xt].unsqueeze(1))
                loss = torch.nn.functional.cross_entropy(out(h[:, 0]), yt, reduction="sum")
                loss.backward()
                opt.step()

            ms = median_ms(step, args.repeats)
            emit(rows, dict(workload="wildml_rnn_step", impl="pytorch", dtype=dtype, backend="torch-cpu",
                            median_ms=ms, ratio_vs="legacy_numpy", ratio=base / ms))


def bench_wildml_gru_step(args, rows):
    import pytensor

    from legacy_ref import GRUNumpy
    from theano_rnn import GRUTheano

    C, H, T = 8000, 128, 45
    rng = np.random.RandomState(0)
    x = rng.randint(0, C, T).astype(np.int32)
    y = rng.randint(0, C, T).astype(np.int32)
    ref = GRUNumpy(C, H, rng=np.random.RandomState(10))
    base = median_ms(lambda: ref.sgd_step(x, y, 0.001), max(3, args.repeats // 3), 1)
    emit(rows, dict(workload="wildml_gru_step", impl="legacy_numpy", dtype="float64", backend="numpy",
                    median_ms=base, ratio_vs=None))
    for dtype in args.dtypes:
        with pytensor.config.change_flags(floatX=dtype):
            for mode in args.modes:
                m = GRUTheano(C, H, rng=np.random.RandomState(10), mode=mode)
                t0 = time.perf_counter()
                m.sgd_step(x, y, 0.001)
                compile_s = time.perf_counter() - t0
                ms = median_ms(lambda: m.sgd_step(x, y, 0.001), max(3, args.repeats // 3))
                emit(rows, dict(workload="wildml_gru_step", impl="faithful", dtype=dtype, backend=mode,
                                median_ms=ms, ratio_vs="legacy_numpy", ratio=base / ms,
                                compile_s=compile_s))


def bench_char_lstm_train(args, rows):
    from theano_rnn.chardata import CharLoader, CharVocab, read_chars
    from theano_rnn.charrnn import CharRNN

    path = shared_data(args) / "tinyshakespeare" / "input.txt"
    if not path.exists():
        print(f"char_lstm_train: skipped, {path} not found (--data DIR)", file=sys.stderr)
        return
    text = read_chars(path)
    vocab = CharVocab.from_text(text)
    loader = CharLoader(text, vocab, batch_size=50, seq_length=50)
    chars_per_batch = 50 * 50
    nval = loader.num_batches("val")
    budget = args.budget

    def val_loss_of(evaluate):
        return float(np.mean([evaluate(*loader.batch("val", i)) for i in range(nval)]))

    # -- CharRNN -----------------------------------------------------------
    model = CharRNN(len(vocab), mode=args.modes[0])
    states = model.zero_states(50)
    x, y = loader.batch("train", 0)
    t0 = time.perf_counter()
    model.train_step(x, y, 2e-3, states)  # compile (burn-in) ...
    model.set_params(CharRNN(len(vocab)).get_params())  # ... then restart from the init
    model.set_optimizer_state({k: np.zeros_like(v) for k, v in model.get_optimizer_state().items()})
    compile_s = time.perf_counter() - t0
    model.eval_loss(x, y, states)
    it = 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        x, y = loader.batch("train", it % loader.num_batches("train"))
        _, states = model.train_step(x, y, 2e-3, states)
        it += 1
    elapsed = time.perf_counter() - start
    ours_cps = it * chars_per_batch / elapsed
    val_states = [None]

    def ours_eval(xv, yv):
        if val_states[0] is None:
            val_states[0] = model.zero_states(50)
        loss, val_states[0] = model.eval_loss(xv, yv, val_states[0])
        return loss

    ours_val = val_loss_of(ours_eval)
    emit(rows, dict(workload="char_lstm_train", impl="charrnn", dtype="float64", backend=args.modes[0],
                    chars_per_s=ours_cps, val_loss=ours_val, iterations=it, budget_s=budget,
                    compile_s=compile_s, ratio_vs="pytorch"))
    torch = try_torch()
    if torch is None:
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(123)
    C = len(vocab)
    lstm = torch.nn.LSTM(C, 128, num_layers=2).double()
    out = torch.nn.Linear(128, C).double()
    params = list(lstm.parameters()) + list(out.parameters())
    for p in params:
        torch.nn.init.uniform_(p, -0.08, 0.08)
    opt = torch.optim.RMSprop(params, lr=2e-3, alpha=0.95, eps=1e-8)
    eye = torch.eye(C, dtype=torch.float64)
    hc = None

    def step(xb, yb):
        nonlocal hc
        opt.zero_grad()
        h, hc_new = lstm(eye[torch.as_tensor(xb.astype(np.int64))], hc)
        logits = out(h).reshape(-1, C)
        loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(yb.astype(np.int64)).reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, 5.0)
        opt.step()
        hc = tuple(t.detach() for t in hc_new)

    step(*loader.batch("train", 0))
    it = 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        step(*loader.batch("train", it % loader.num_batches("train")))
        it += 1
    elapsed = time.perf_counter() - start
    torch_cps = it * chars_per_batch / elapsed
    with torch.no_grad():
        hv = None
        losses = []
        for i in range(nval):
            xv, yv = loader.batch("val", i)
            h, hv = lstm(eye[torch.as_tensor(xv.astype(np.int64))], hv)
            losses.append(float(torch.nn.functional.cross_entropy(
                out(h).reshape(-1, C), torch.as_tensor(yv.astype(np.int64)).reshape(-1))))
    emit(rows, dict(workload="char_lstm_train", impl="pytorch", dtype="float64", backend="torch-cpu",
                    chars_per_s=torch_cps, val_loss=float(np.mean(losses)), iterations=it,
                    budget_s=budget, ratio_vs=None))
    rows[-2]["ratio"] = ours_cps / torch_cps


WORKLOADS = {
    "wildml_rnn_step": bench_wildml_rnn_step,
    "wildml_gru_step": bench_wildml_gru_step,
    "char_lstm_train": bench_char_lstm_train,
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: " + ", ".join(WORKLOADS))
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--budget", type=float, default=90.0, help="seconds per implementation (char_lstm_train)")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--modes", default="C", help="PyTensor backends, e.g. C,NUMBA")
    p.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads")
    p.add_argument("--data", default=None, help="shared data folder (default $THEANO_RNN_SHARED_DATA or ../shared/data)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    args.dtypes = args.dtypes.split(",")
    args.modes = args.modes.split(",")
    rows = []
    for name in args.workloads.split(","):
        if name not in WORKLOADS:
            p.error(f"unknown workload {name!r}")
        WORKLOADS[name](args, rows)
    import pytensor

    torch = try_torch()
    machine = dict(python=platform.python_version(), machine=platform.machine(), cpus=os.cpu_count(),
                   numpy=np.__version__, pytensor=pytensor.__version__,
                   torch=getattr(torch, "__version__", None),
                   blas_ldflags=pytensor.config.blas__ldflags or "(none)")
    if args.json:
        for row in rows:
            print(json.dumps({**row, **machine}))
        return 0
    print("machine:", json.dumps(machine))
    print("| workload | impl | dtype | backend | median ms | chars/s | val loss | ratio |")
    print("|---|---|---|---|---:|---:|---:|---|")
    for r in rows:
        ratio = f"{r['ratio']:.2f}x vs {r['ratio_vs']}" if r.get("ratio") else ""
        ms = f"{r['median_ms']:.1f}" if "median_ms" in r else ""
        cps = f"{r['chars_per_s']:.0f}" if "chars_per_s" in r else ""
        val = f"{r['val_loss']:.3f}" if "val_loss" in r else ""
        print(f"| {r['workload']} | {r['impl']} | {r['dtype']} | {r['backend']} | {ms} | {cps} | {val} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
