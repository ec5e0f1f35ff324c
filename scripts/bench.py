#!/usr/bin/env python
"""Side-by-side benchmarks: every implementation of a workload in one process run.

    python scripts/bench.py                                  # all workloads, tables
    python scripts/bench.py --workloads wildml_rnn_step --repeats 15 --json
    python scripts/bench.py --quick --json                   # tiny sizes, seconds (smoke test)

Workloads (impls in brackets; ``torch*`` only when PyTorch is installed)
  wildml_rnn_step       part-2 RNN, C=8000, H=100, one 45-token sentence, full
                        BPTT, one SGD step (lr 0.005)
                        [numpy_ref, numpy_ref_notebook, numpy_fused, faithful,
                        fast, torch]; numpy_ref (the baseline) is legacy_ref's
                        RNNNumpy with its linear-time full BPTT, numpy_ref_notebook
                        the same class with the notebook's per-output loop (O(T^2))
  wildml_gru_step       part-4 GRU, C=8000, H=128, 2 layers, hard_sigmoid gates,
                        one 45-token sentence, one RMSprop step (lr 0.001, decay 0.9)
                        [numpy_ref, faithful, fast, torch]
  char_lstm_train       char-rnn's default model (2x128 LSTM, seq 50, batch 50,
                        RMSprop 2e-3/0.95, clip 5) on Tiny Shakespeare for a fixed
                        wall-clock budget per impl: characters/s, validation loss
                        [charrnn, torch]
  word_minibatch_train  the part-4 GRU (C=8000, H=128, 2 layers, RMSprop) on
                        sentences of the reddit prefix, batches of B=32: tokens/s
                        [fast_sentence (per-sentence fast sgd_step), fast_batch
                        (batch_step on left-padded (T, B) batches), torch_batch]

Method.  All impls of a workload are built and compiled first (the first call
is reported as ``compile_s``, never timed), then get ``--burn-in`` untimed
calls, then are timed *round-robin* -- one measurement of each impl in turn,
``--repeats`` times -- so that load changes on a shared machine hit every
impl alike; the figure is the median.  char_lstm_train alternates the impls
in four slices of the budget.  OpenBLAS/MKL/OpenMP/Numba and PyTorch are
pinned to ``--threads`` threads (default 1) before NumPy is imported.

Output.  A table per workload, then the target verdicts.  ``--json`` prints one
JSON object per line: first ``{"workload": "_meta", ...}`` (machine, versions,
BLAS, threads), then one row per (workload, impl, dtype, backend) with
``median_ms`` (step workloads), ``chars_per_s`` or ``tokens_per_s``,
``ratio_vs`` (the baseline's impl name) and ``ratio`` (speedup over it:
baseline time / this time, > 1 = faster), plus ``speedup_vs_<impl>`` against
the other impls of the same dtype and backend, then one
``{"workload": "_target", ...}`` line per target.  An impl that cannot run
here gives a row with ``skipped`` (the reason) and a null figure.

PyTorch is optional (``pip install torch``) and never a dependency of the
package.  f32 PyTensor models are built under
``pytensor.config.change_flags(floatX="float32")``; each row lists the float
dtypes found in its compiled graph (``graph_dtypes``) to prove it.
"""

from __future__ import annotations

import os
import sys


def _pin_threads(argv):
    """Pin the native thread pools before NumPy/BLAS load (``--threads N``, default 1)."""
    threads = None
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif a.startswith("--threads="):
            threads = a.split("=", 1)[1]
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    for name in names:
        if threads is not None:
            os.environ[name] = str(threads)
        else:
            os.environ.setdefault(name, "1")


if __name__ == "__main__":
    _pin_threads(sys.argv[1:])

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import importlib.metadata  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from _common import compiled_functions, shared_data_dir, zipf_sentences  # noqa: E402  (puts the repository on sys.path)

DTYPES = ("float64", "float32")


class Unavailable(Exception):
    """An impl that cannot run in this checkout/environment (the row says why)."""


# ---------------------------------------------------------------------------
# sizes
# ---------------------------------------------------------------------------
def _full_sizes():
    """The full workloads' settings, from the tutorials' published ones (theano_rnn.reference)."""
    from theano_rnn import reference

    part2 = reference.value("wildml.part2.settings")
    timed = reference.value("theano105.rnn.settings")  # real Theano 1.0.5's sgd_step timing run
    part4 = reference.value("wildml.part4.train_defaults")
    decay = reference.value("wildml.part4.rmsprop")["decay"]
    cr = reference.value("charrnn.train_defaults")
    C, T = part2["word_dim"], timed["sentence_length"]
    H4, lr4 = part4["HIDDEN_DIM"], part4["LEARNING_RATE"]
    return dict(
        rnn=dict(C=C, H=part2["hidden_dim"], T=T, lr=part2["learning_rate"]),
        gru=dict(C=C, H=H4, T=T, layers=2, lr=lr4, decay=decay),
        char=dict(hidden=cr["rnn_size"], layers=cr["num_layers"], seq=cr["seq_length"],
                  batch=cr["batch_size"], lr=cr["learning_rate"], alpha=cr["decay_rate"],
                  clip=cr["grad_clip"]),
        word=dict(C=C, H=H4, layers=2, B=32, batches=4, lr=lr4, decay=decay),
    )


FULL = _full_sizes()
QUICK = dict(
    rnn=dict(C=300, H=12, T=9, lr=0.005),
    gru=dict(C=300, H=8, T=9, layers=1, lr=0.001, decay=0.9),
    char=dict(hidden=16, layers=1, seq=10, batch=4, lr=2e-3, alpha=0.95, clip=5.0, chars=6000),
    word=dict(C=300, H=8, layers=1, B=4, batches=2, lr=0.001, decay=0.9),
)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def try_torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def version_of(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def blas_info():
    """PyTensor's BLAS link (theano_rnn.runtime.blas.blas_status() where it exists) and NumPy's BLAS."""
    import pytensor

    info = {"pytensor_blas_ldflags": pytensor.config.blas__ldflags or "(none)"}
    try:
        from theano_rnn.runtime import blas  # added by the BLAS work; optional here
    except ImportError:
        blas = None
    if blas is not None and hasattr(blas, "blas_status"):
        try:
            status = blas.blas_status()
            if dataclasses.is_dataclass(status):
                status = dataclasses.asdict(status)
            info["theano_rnn_blas_status"] = status
        except Exception as exc:  # report, don't fail the benchmark
            info["theano_rnn_blas_status"] = f"error: {exc}"
    try:
        cfg = np.show_config(mode="dicts")
        info["numpy_blas"] = cfg["Build Dependencies"]["blas"].get("name")
    except Exception:
        info["numpy_blas"] = None
    return info


def meta_row(args):
    import pytensor

    return dict(
        workload="_meta",
        date=time.strftime("%Y-%m-%d %H:%M:%S %z"),
        cpu=cpu_model(),
        cpus=os.cpu_count(),
        memory_gib=memory_gib(),
        machine=platform.machine(),
        python=platform.python_version(),
        numpy=np.__version__,
        pytensor=pytensor.__version__,
        numba=version_of("numba"),
        torch=version_of("torch"),
        jax=version_of("jax"),
        threads=args.threads,
        thread_env={k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                    "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")},
        loadavg_start=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        quick=args.quick,
        repeats=args.repeats,
        burn_in=args.burn_in,
        backends=args.backends,
        dtypes=args.dtypes,
    )


def graph_dtypes(obj):
    """Float dtypes of every variable in the compiled graphs of ``obj`` (inner scan graphs too).

    Proves that a float32 run really is float32: ``["float32"]``, not
    ``["float32", "float64"]``.
    """
    fns = compiled_functions(obj)
    if not fns:
        return None
    seen, found = set(), set()

    def walk(fgraph):
        if id(fgraph) in seen:
            return
        seen.add(id(fgraph))
        for var in fgraph.variables:
            dtype = str(getattr(var.type, "dtype", ""))
            if dtype.startswith("float"):
                found.add(dtype)
        for node in fgraph.apply_nodes:
            inner = getattr(node.op, "fgraph", None)
            if inner is not None:
                walk(inner)

    for fn in fns:
        walk(fn.maker.fgraph)
    return sorted(found)


def has_graph_option(cls):
    """Whether the word-level models take ``graph=`` (the fast graphs) in this checkout."""
    from theano_rnn.models.word import RecurrentLM

    return any("graph" in inspect.signature(c.__init__).parameters for c in (cls, RecurrentLM))


def word_model(cls, *args, graph="faithful", **kwargs):
    """``cls(*args, graph=graph, **kwargs)``; Unavailable if this checkout has no such graph."""
    if has_graph_option(cls):
        kwargs["graph"] = graph
    elif graph != "faithful":
        raise Unavailable(f"{cls.__name__}(graph={graph!r}) does not exist in this checkout "
                          "(theano_rnn.models.word has no graph= option)")
    return cls(*args, **kwargs)


class Impl:
    """One implementation of a workload: a callable ``run()`` to time, plus row fields."""

    def __init__(self, impl, dtype, backend, run, *, units=None, compile_s=None, **extra):
        self.impl, self.dtype, self.backend, self.run = impl, dtype, backend, run
        self.units = units  # tokens/chars per call (throughput workloads)
        self.compile_s = compile_s
        self.extra = extra
        self.times = []


def build(impls, skipped, impl, dtype, backend, factory):
    """Build an impl: ``factory()`` -> ``(run, extra)``; construction plus first call = compile_s.

    Factories that make the first call themselves (PyTensor ones must compile
    inside their floatX context) say so with ``extra["called"] = True``.
    """
    try:
        t0 = time.perf_counter()
        run, extra = factory()
        if not extra.pop("called", False):
            run()
        compile_s = time.perf_counter() - t0
    except Unavailable as exc:
        skipped.append(dict(impl=impl, dtype=dtype, backend=backend, skipped=str(exc)))
        return None
    except Exception as exc:  # one broken impl must not lose the others' figures
        first = (str(exc).strip().splitlines() or [""])[0]
        skipped.append(dict(impl=impl, dtype=dtype, backend=backend,
                            skipped=f"error: {type(exc).__name__}: {first}"[:300]))
        return None
    units = extra.pop("units", None)
    obj = Impl(impl, dtype, backend, run, units=units, compile_s=compile_s, **extra)
    impls.append(obj)
    return obj


def time_round_robin(impls, repeats, burn_in):
    for obj in impls:
        for _ in range(burn_in):
            obj.run()
    for _ in range(repeats):
        for obj in impls:
            t = time.perf_counter()
            obj.run()
            obj.times.append(time.perf_counter() - t)


def pytensor_flags(dtype):
    import pytensor

    return pytensor.config.change_flags(floatX=dtype)


def step_rows(workload, impls, skipped, baseline, compare, threads):
    """Rows of a step-time workload: median_ms, ratio vs ``baseline``, speedups vs ``compare``."""
    rows = []
    base = next((o for o in impls if o.impl == baseline), None)
    base_ms = statistics.median(base.times) * 1000 if base else None
    for o in impls:
        ms = statistics.median(o.times) * 1000
        row = dict(workload=workload, impl=o.impl, dtype=o.dtype, backend=o.backend, threads=threads,
                   median_ms=ms, min_ms=min(o.times) * 1000, n=len(o.times),
                   ratio_vs=baseline, ratio=(base_ms / ms) if base_ms else None,
                   compile_s=o.compile_s, **o.extra)
        if base is not None and base.dtype != o.dtype:
            row["ratio_note"] = f"{baseline} runs in {base.dtype} only"
        for other in compare:
            ref = [p for p in impls if p.impl == other and p.dtype == o.dtype and p is not o
                   and (p.backend in ("numpy", "torch-cpu") or p.backend == o.backend)]
            if ref:
                row[f"speedup_vs_{other}"] = statistics.median(ref[0].times) * 1000 / ms
        rows.append(row)
    for s in skipped:
        rows.append(dict(workload=workload, threads=threads, median_ms=None, ratio_vs=baseline,
                         ratio=None, **s))
    return rows


def rate_rows(workload, impls, skipped, baseline, key, threads):
    """Rows of a throughput workload: ``key`` (units/s from the median time), ratio vs ``baseline``."""
    rows = []
    rates = {id(o): o.units / statistics.median(o.times) for o in impls}
    for o in impls:
        base = [p for p in impls if p.impl == baseline and p.dtype == o.dtype]
        rate = rates[id(o)]
        row = dict(workload=workload, impl=o.impl, dtype=o.dtype, backend=o.backend, threads=threads,
                   **{key: rate}, median_ms=statistics.median(o.times) * 1000, n=len(o.times),
                   ratio_vs=baseline, ratio=(rate / rates[id(base[0])]) if base else None,
                   compile_s=o.compile_s, **o.extra)
        for other in {p.impl for p in impls} - {o.impl, baseline}:
            ref = [p for p in impls if p.impl == other and p.dtype == o.dtype]
            if ref:
                row[f"speedup_vs_{other}"] = rate / rates[id(ref[0])]
        rows.append(row)
    for s in skipped:
        rows.append(dict(workload=workload, threads=threads, **{key: None}, ratio_vs=baseline,
                         ratio=None, **s))
    return rows


def skip_torch(skipped, impl, dtypes):
    for dtype in dtypes:
        skipped.append(dict(impl=impl, dtype=dtype, backend="torch-cpu",
                            skipped="PyTorch is not installed (optional: pip install torch)"))


# ---------------------------------------------------------------------------
# wildml_rnn_step
# ---------------------------------------------------------------------------
class FusedNumpyRNN:
    """The part-2 RNN's full-BPTT ``sgd_step`` in NumPy, hand-fused.

    The same numbers as ``RNNNumpy.sgd_step(x, y, lr, truncation="none")``,
    restructured the way a fast implementation would be: the output
    projection and softmax for all T steps are one (T, H) x (H, C) product
    outside the time loop, ``dV`` and ``dW`` are one product each, and ``U``
    gets a sparse update of the T columns the sentence touches.
    """

    def __init__(self, U, V, W, dtype="float64"):
        self.U = np.array(U, dtype=dtype)
        self.V = np.array(V, dtype=dtype)
        self.W = np.array(W, dtype=dtype)

    def sgd_step(self, x, y, learning_rate):
        U, V, W = self.U, self.V, self.W
        T, H = len(x), W.shape[0]
        S = np.zeros((T + 1, H), dtype=U.dtype)  # S[t + 1] = state after step t
        Ux = U[:, x].T
        for t in range(T):
            S[t + 1] = np.tanh(Ux[t] + W.dot(S[t]))
        top = S[1:]
        Z = top.dot(V.T)
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        rows = np.arange(T)
        loss = -np.log(P[rows, y]).sum()
        P[rows, y] -= 1.0  # dLoss/dlogits
        dV = P.T.dot(top)
        dS = P.dot(V)
        dZ = np.empty((T, H), dtype=U.dtype)
        carry = np.zeros(H, dtype=U.dtype)
        for t in range(T - 1, -1, -1):
            d = (dS[t] + carry) * (1.0 - S[t + 1] ** 2)
            dZ[t] = d
            carry = W.T.dot(d)
        dW = dZ.T.dot(S[:-1])
        lr = U.dtype.type(learning_rate)
        np.add.at(U.T, x, -lr * dZ)  # sparse: only the columns of the sentence's words
        V -= lr * dV
        W -= lr * dW
        return float(loss)


def bench_wildml_rnn_step(args, torch):
    from legacy_ref import RNNNumpy
    from theano_rnn import RNNTheano

    cfg = args.sizes["rnn"]
    C, H, T, lr = cfg["C"], cfg["H"], cfg["T"], cfg["lr"]
    rng = np.random.RandomState(0)
    x = rng.randint(0, C, T).astype(np.int32)
    y = rng.randint(0, C, T).astype(np.int32)
    init = RNNNumpy(C, H, bptt_truncate=-1, rng=np.random.RandomState(10)).get_params()
    impls, skipped = [], []

    def numpy_ref():
        ref = RNNNumpy(C, H, bptt_truncate=-1, rng=np.random.RandomState(10))
        return (lambda: ref.sgd_step(x, y, lr, truncation="none")), dict(
            note="legacy_ref.RNNNumpy.sgd_step, truncation='none' (linear-time full BPTT)")

    def numpy_notebook():
        ref = RNNNumpy(C, H, bptt_truncate=-1, rng=np.random.RandomState(10))
        return (lambda: ref.sgd_step(x, y, lr)), dict(
            note="numpy_ref_notebook: RNNNumpy.sgd_step with the notebook's own bptt loop "
                 "(truncation='per_output', k=-1: every output back-propagates separately, O(T^2))")

    build(impls, skipped, "numpy_ref", "float64", "numpy", numpy_ref)
    build(impls, skipped, "numpy_ref_notebook", "float64", "numpy", numpy_notebook)
    for dtype in args.dtypes:
        def fused(dtype=dtype):
            m = FusedNumpyRNN(init["U"], init["V"], init["W"], dtype)
            return (lambda: m.sgd_step(x, y, lr)), {}

        build(impls, skipped, "numpy_fused", dtype, "numpy", fused)
        for backend in args.backends:
            for graph in ("faithful", "fast"):
                def theano(dtype=dtype, backend=backend, graph=graph):
                    with pytensor_flags(dtype):
                        m = word_model(RNNTheano, C, H, -1, graph=graph, mode=backend, params=init)
                        m.sgd_step(x, y, lr)  # compile inside the floatX context
                    return (lambda: m.sgd_step(x, y, lr)), dict(graph_dtypes=graph_dtypes(m),
                                                                  called=True)

                build(impls, skipped, graph, dtype, backend, theano)
        if torch is None:
            skip_torch(skipped, "torch", [dtype])
            continue

        def torch_rnn(dtype=dtype):
            tdt = getattr(torch, dtype)
            rnn = torch.nn.RNN(C, H, bias=False, nonlinearity="tanh").to(tdt)
            out = torch.nn.Linear(H, C, bias=False).to(tdt)
            with torch.no_grad():
                rnn.weight_ih_l0.copy_(torch.as_tensor(init["U"]))
                rnn.weight_hh_l0.copy_(torch.as_tensor(init["W"]))
                out.weight.copy_(torch.as_tensor(init["V"]))
            params = list(rnn.parameters()) + list(out.parameters())
            opt = torch.optim.SGD(params, lr=lr)
            xt = torch.as_tensor(x.astype(np.int64))
            yt = torch.as_tensor(y.astype(np.int64))

            def step():
                opt.zero_grad()
                onehot = torch.nn.functional.one_hot(xt, C).to(tdt).unsqueeze(1)
                h, _ = rnn(onehot)
                loss = torch.nn.functional.cross_entropy(out(h[:, 0]), yt, reduction="sum")
                loss.backward()
                opt.step()
                return float(loss.detach())

            return step, dict(note="nn.RNN(tanh, bias=False) on one-hot input + Linear(bias=False), "
                                   "CE sum, optim.SGD")

        build(impls, skipped, "torch", dtype, "torch-cpu", torch_rnn)
    time_round_robin(impls, args.repeats, args.burn_in)
    return step_rows("wildml_rnn_step", impls, skipped, "numpy_ref", ("torch", "faithful", "numpy_fused"),
                     args.threads)


# ---------------------------------------------------------------------------
# wildml_gru_step
# ---------------------------------------------------------------------------
def torch_tutorial_rmsprop(torch, params, lr, decay, eps=1e-6):
    """The tutorial's RMSprop in PyTorch: ``m = d m + (1-d) g^2; p -= lr g / sqrt(m + 1e-6)``."""
    caches = [torch.zeros_like(p) for p in params]

    def step():
        with torch.no_grad():
            for p, m in zip(params, caches):
                g = p.grad
                m.mul_(decay).addcmul_(g, g, value=1.0 - decay)
                p.addcdiv_(g, (m + eps).sqrt_(), value=-lr)

    return step


def torch_gru_lm(torch, dtype, C, H, layers, init=None):
    """Embedding E + nn.GRU (sigmoid gates, two biases per gate) + Linear(V, c)."""
    tdt = getattr(torch, dtype)
    emb = torch.nn.Embedding(C, H).to(tdt)
    gru = torch.nn.GRU(H, H, num_layers=layers).to(tdt)
    out = torch.nn.Linear(H, C).to(tdt)
    if init is not None:
        with torch.no_grad():
            emb.weight.copy_(torch.as_tensor(init["E"].T))
            out.weight.copy_(torch.as_tensor(init["V"]))
    params = list(emb.parameters()) + list(gru.parameters()) + list(out.parameters())
    return emb, gru, out, params


def bench_wildml_gru_step(args, torch):
    from legacy_ref import GRUNumpy
    from theano_rnn import GRUTheano

    cfg = args.sizes["gru"]
    C, H, T, L, lr, decay = cfg["C"], cfg["H"], cfg["T"], cfg["layers"], cfg["lr"], cfg["decay"]
    rng = np.random.RandomState(0)
    x = rng.randint(0, C, T).astype(np.int32)
    y = rng.randint(0, C, T).astype(np.int32)
    init = GRUNumpy(C, H, num_layers=L, rng=np.random.RandomState(10)).get_params()
    impls, skipped = [], []

    def numpy_ref():
        ref = GRUNumpy(C, H, num_layers=L, rng=np.random.RandomState(10))
        return (lambda: ref.sgd_step(x, y, lr, decay)), dict(note="legacy_ref.GRUNumpy.sgd_step (RMSprop)")

    build(impls, skipped, "numpy_ref", "float64", "numpy", numpy_ref)
    for dtype in args.dtypes:
        for backend in args.backends:
            for graph in ("faithful", "fast"):
                def theano(dtype=dtype, backend=backend, graph=graph):
                    with pytensor_flags(dtype):
                        m = word_model(GRUTheano, C, H, -1, graph=graph, num_layers=L, mode=backend,
                                       params=init)
                        m.sgd_step(x, y, lr, decay)
                    return (lambda: m.sgd_step(x, y, lr, decay)), dict(
                        graph_dtypes=graph_dtypes(m), called=True)

                build(impls, skipped, graph, dtype, backend, theano)
        if torch is None:
            skip_torch(skipped, "torch", [dtype])
            continue

        def torch_gru(dtype=dtype):
            emb, gru, out, params = torch_gru_lm(torch, dtype, C, H, L, init)
            opt = torch_tutorial_rmsprop(torch, params, lr, decay)
            xt = torch.as_tensor(x.astype(np.int64))
            yt = torch.as_tensor(y.astype(np.int64))

            def step():
                for p in params:
                    p.grad = None
                h, _ = gru(emb(xt).unsqueeze(1))
                loss = torch.nn.functional.cross_entropy(out(h[:, 0]), yt, reduction="sum")
                loss.backward()
                opt()
                return float(loss.detach())

            return step, dict(note="Embedding + nn.GRU (sigmoid gates: nn.GRU has no hard_sigmoid; "
                                   "two biases per gate) + Linear, CE sum, the tutorial's RMSprop")

        build(impls, skipped, "torch", dtype, "torch-cpu", torch_gru)
    time_round_robin(impls, args.repeats, args.burn_in)
    return step_rows("wildml_gru_step", impls, skipped, "numpy_ref", ("torch", "faithful"), args.threads)


# ---------------------------------------------------------------------------
# char_lstm_train
# ---------------------------------------------------------------------------
def synthetic_text(n, seed=0):
    """Zipf-distributed characters over 65 symbols (Tiny Shakespeare's alphabet size)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?'-\n$&3"
    rng = np.random.RandomState(seed)
    p = 1.0 / np.arange(1, len(alphabet) + 1)
    return "".join(np.array(list(alphabet))[rng.choice(len(alphabet), n, p=p / p.sum())])


def run_budgeted(impls, budget, slices=4):
    """Alternate the impls' training in ``slices`` slices of ``budget / slices`` seconds each."""
    for obj in impls:
        obj.iterations = 0
        obj.elapsed = 0.0
    for _ in range(slices):
        for obj in impls:
            stop = time.perf_counter() + budget / slices
            while time.perf_counter() < stop:
                t = time.perf_counter()
                obj.run()
                dt = time.perf_counter() - t
                obj.times.append(dt)
                obj.elapsed += dt
                obj.iterations += 1


def init_torch_char(torch, lstm, out, how, start, L, H):
    """Initial weights of the torch char model (in place); returns the parameters to train.

    ``how="charrnn"`` (the default): CharRNN's own initial weights ``start``
    (char-rnn's init: uniform 0.08, forget-gate biases 1), gate blocks
    reordered from CharRNN's i, f, o, g to torch's i, f, g, o, CharRNN's one
    bias per gate as ``bias_ih`` and ``bias_hh`` held at zero (not trained):
    the same model and the same updates, equal to CharRNN per iteration to
    4e-15 in float64 (scripts/char_loss_gap.py), so the validation losses at
    equal wall time differ by speed alone.  ``how="uniform"`` (the figures
    before issue 12's study): every parameter uniform 0.08, both biases
    trained -- a different model (two trained biases move twice as fast under
    RMSprop) from a different init.
    """
    params = list(lstm.parameters()) + list(out.parameters())
    with torch.no_grad():
        for p in params:
            torch.nn.init.uniform_(p, -0.08, 0.08)
        if how == "uniform":
            return params
        order = [0, 1, 3, 2]  # torch block k = CharRNN block order[k]

        def blocks(arr, base):
            return torch.as_tensor(np.concatenate([arr[base + j] for j in order]))

        for layer in range(L):
            w_ih = blocks(start["Ux"], 0) if layer == 0 else blocks(start["U"], 4 * (layer - 1))
            getattr(lstm, f"weight_ih_l{layer}").copy_(w_ih)
            getattr(lstm, f"weight_hh_l{layer}").copy_(blocks(start["W"], 4 * layer))
            getattr(lstm, f"bias_ih_l{layer}").copy_(blocks(start["b"], 4 * layer))
            getattr(lstm, f"bias_hh_l{layer}").zero_()
        out.weight.copy_(torch.as_tensor(start["V"]))
        out.bias.copy_(torch.as_tensor(start["c"]))
    trained = []
    for name, p in list(lstm.named_parameters()) + list(out.named_parameters()):
        if name.startswith("bias_hh"):
            p.requires_grad_(False)
        else:
            trained.append(p)
    return trained


def bench_char_lstm_train(args, torch):
    from theano_rnn.data.chars import CharLoader, CharVocab, read_chars
    from theano_rnn.models.char import CharRNN

    cfg = args.sizes["char"]
    Hd, L, S, B = cfg["hidden"], cfg["layers"], cfg["seq"], cfg["batch"]
    path = shared_data_dir() if args.data is None else Path(args.data)
    path = path / "tinyshakespeare" / "input.txt"
    if path.exists():
        text, source = read_chars(path), "tinyshakespeare"
    else:
        text, source = synthetic_text(1_115_394), "synthetic (Tiny Shakespeare not found: chars/s only)"
    if "chars" in cfg:
        text = text[: cfg["chars"]]
    vocab = CharVocab.from_text(text)
    loader = CharLoader(text, vocab, batch_size=B, seq_length=S)
    C = len(vocab)
    ntrain, nval = loader.num_batches("train"), loader.num_batches("val")
    impls, skipped = [], []
    evaluators = {}
    # CharRNN's initial weights (its default seed), for torch under --torch-init charrnn
    start = CharRNN(C, hidden_dim=Hd, num_layers=L).get_params()

    for dtype in args.dtypes:
        def ours(dtype, backend):
            with pytensor_flags(dtype):
                model = CharRNN(C, hidden_dim=Hd, num_layers=L, decay_rate=cfg["alpha"],
                                grad_clip=cfg["clip"], mode=backend)
                states = [model.zero_states(B)]
                fresh = model.get_params()
                t0 = time.perf_counter()
                model.train_step(*loader.batch("train", 0), cfg["lr"], states[0])  # compile
                model.eval_loss(*loader.batch("val", 0), states[0])
                compile_s = time.perf_counter() - t0
            model.set_params(fresh)  # restart from the initial weights and an empty cache
            model.set_optimizer_state({k: np.zeros_like(v) for k, v in model.get_optimizer_state().items()})
            it = [0]

            def step():
                xb, yb = loader.batch("train", it[0] % ntrain)
                _, states[0] = model.train_step(xb, yb, cfg["lr"], states[0])
                it[0] += 1

            def evaluate():
                st, losses = model.zero_states(B), []
                for i in range(nval):
                    loss, st = model.eval_loss(*loader.batch("val", i), st)
                    losses.append(loss)
                return float(np.mean(losses))

            return step, evaluate, compile_s, dict(graph_dtypes=graph_dtypes(model))

        for backend in args.backends if "charrnn" in args.impls else ():
            try:
                step, evaluate, compile_s, extra = ours(dtype, backend)
            except Exception as exc:  # one broken backend must not lose the others' figures
                first = (str(exc).strip().splitlines() or [""])[0]
                skipped.append(dict(impl="charrnn", dtype=dtype, backend=backend,
                                    skipped=f"error: {type(exc).__name__}: {first}"[:300]))
                continue
            obj = Impl("charrnn", dtype, backend, step, units=S * B, compile_s=compile_s, **extra)
            impls.append(obj)
            evaluators[id(obj)] = evaluate
        if "torch" not in args.impls:
            continue
        if torch is None:
            skip_torch(skipped, "torch", [dtype])
            continue

        def theirs(dtype=dtype):
            tdt = getattr(torch, dtype)
            torch.manual_seed(123)
            lstm = torch.nn.LSTM(C, Hd, num_layers=L).to(tdt)
            out = torch.nn.Linear(Hd, C).to(tdt)
            params = init_torch_char(torch, lstm, out, args.torch_init, start, L, Hd)
            opt = torch.optim.RMSprop(params, lr=cfg["lr"], alpha=cfg["alpha"], eps=1e-8)
            hc = [None]
            it = [0]

            def onehot(xb):
                return torch.nn.functional.one_hot(torch.as_tensor(xb.astype(np.int64)), C).to(tdt)

            def step():
                xb, yb = loader.batch("train", it[0] % ntrain)
                opt.zero_grad()
                h, hc_new = lstm(onehot(xb), hc[0])
                loss = torch.nn.functional.cross_entropy(
                    out(h).reshape(-1, C), torch.as_tensor(yb.astype(np.int64)).reshape(-1))
                loss.backward()
                torch.nn.utils.clip_grad_value_(params, cfg["clip"])
                opt.step()
                hc[0] = tuple(t.detach() for t in hc_new)
                it[0] += 1

            def evaluate():
                with torch.no_grad():
                    hv, losses = None, []
                    for i in range(nval):
                        xv, yv = loader.batch("val", i)
                        h, hv = lstm(onehot(xv), hv)
                        losses.append(float(torch.nn.functional.cross_entropy(
                            out(h).reshape(-1, C), torch.as_tensor(yv.astype(np.int64)).reshape(-1))))
                return float(np.mean(losses))

            t0 = time.perf_counter()
            step()  # burn-in (allocator, first-call overhead) ...
            compile_s = time.perf_counter() - t0
            torch.manual_seed(123)  # ... then restart from the same initial weights
            init_torch_char(torch, lstm, out, args.torch_init, start, L, Hd)
            opt.state.clear()
            hc[0], it[0] = None, 0
            return step, evaluate, compile_s

        step, evaluate, compile_s = theirs()
        obj = Impl("torch", dtype, "torch-cpu", step, units=S * B, compile_s=compile_s,
                   torch_init=args.torch_init)
        impls.append(obj)
        evaluators[id(obj)] = evaluate

    run_budgeted(impls, args.budget)
    rows = rate_rows("char_lstm_train", impls, skipped, "torch", "chars_per_s", args.threads)
    for obj, row in zip(impls, rows):
        row.update(val_loss=evaluators[id(obj)](), iterations=obj.iterations, budget_s=args.budget,
                   mean_chars_per_s=obj.iterations * obj.units / obj.elapsed, data=source,
                   model=f"{L}x{Hd} LSTM, seq {S}, batch {B}, vocab {C}")
    return rows


# ---------------------------------------------------------------------------
# word_minibatch_train
# ---------------------------------------------------------------------------
def word_sentences(args, C, n):
    """``n`` sentences of the reddit prefix (part-2 pipeline, vocabulary <= C), else synthetic."""
    path = (shared_data_dir() if args.data is None else Path(args.data))
    csv = path / "reddit" / "reddit-comments-2015-08.first212.csv"
    rng = np.random.RandomState(1)
    if csv.exists():
        import logging

        from theano_rnn.data import words as data

        logging.getLogger("theano_rnn").setLevel(logging.WARNING)
        nltk_data = path / "nltk_data"
        corpus = data.load_part2(csv, C, nltk_data=str(nltk_data) if nltk_data.is_dir() else None)
        X, Y = corpus.X, corpus.Y
        source = f"reddit prefix ({len(X)} sentences, vocabulary {corpus.vocabulary_size})"
    else:
        X, Y = zipf_sentences(4 * n, C, rng)
        source = "synthetic Zipf sentences (reddit prefix not found)"
    order = rng.permutation(len(X))[:n]
    return [X[i] for i in order], [Y[i] for i in order], source


def pad_batch_api():
    try:
        from theano_rnn.graphs.fast import pad_batch
    except ImportError:
        raise Unavailable("theano_rnn.graphs.fast.pad_batch does not exist in this checkout") from None
    return pad_batch


def bench_word_minibatch_train(args, torch):
    from theano_rnn import GRUTheano

    cfg = args.sizes["word"]
    C, H, L, B, K = cfg["C"], cfg["H"], cfg["layers"], cfg["B"], cfg["batches"]
    lr, decay = cfg["lr"], cfg["decay"]
    X, Y, source = word_sentences(args, C, B * K)
    # bucketing: the pool sorted by length, cut into K batches of B sentences
    order = sorted(range(len(X)), key=lambda i: len(X[i]))
    batches = [[order[j] for j in range(k * B, (k + 1) * B)] for k in range(K)]
    tokens = int(sum(len(Y[i]) for i in order))
    init = GRUTheano(C, H, num_layers=L, rng=np.random.RandomState(10)).get_params()
    impls, skipped = [], []
    common = dict(data=source, model=f"GRUTheano C={C} H={H} L={L} layers, RMSprop lr {lr}",
                  batch_size=B, batches=K, tokens_per_pass=tokens)
    try:
        pad_batch = pad_batch_api()
        padded = [pad_batch([X[i] for i in b], [Y[i] for i in b]) for b in batches]
        positions = int(sum(np.size(p[0]) for p in padded))
        common["pad_fraction"] = 1.0 - tokens / positions
    except Unavailable as exc:
        pad_batch, padded = None, None
        pad_reason = str(exc)

    for dtype in args.dtypes:
        for backend in args.backends:
            def per_sentence(dtype=dtype, backend=backend):
                with pytensor_flags(dtype):
                    m = word_model(GRUTheano, C, H, -1, graph="fast", num_layers=L, mode=backend,
                                   params=init)
                    m.sgd_step(X[0], Y[0], lr, decay)

                def one_pass():
                    for i in order:
                        m.sgd_step(X[i], Y[i], lr, decay)

                return one_pass, dict(units=tokens, graph_dtypes=graph_dtypes(m), called=True,
                                     **common)

            build(impls, skipped, "fast_sentence", dtype, backend, per_sentence)

            def batched(dtype=dtype, backend=backend):
                if padded is None:
                    raise Unavailable(pad_reason)
                with pytensor_flags(dtype):
                    m = word_model(GRUTheano, C, H, -1, graph="fast", num_layers=L, mode=backend,
                                   params=init)
                    if not hasattr(m, "batch_step"):
                        raise Unavailable("GRUTheano has no batch_step in this checkout")
                    m.batch_step(*padded[0], lr, decay)

                def one_pass():
                    for xb, yb, mb in padded:
                        m.batch_step(xb, yb, mb, lr, decay)

                return one_pass, dict(units=tokens, graph_dtypes=graph_dtypes(m), called=True, **common)

            build(impls, skipped, "fast_batch", dtype, backend, batched)
        if torch is None:
            skip_torch(skipped, "torch_batch", [dtype])
            continue

        def torch_batched(dtype=dtype):
            if padded is None:
                raise Unavailable(pad_reason)
            tdt = getattr(torch, dtype)
            emb, gru, out, params = torch_gru_lm(torch, dtype, C, H, L, init)
            opt = torch_tutorial_rmsprop(torch, params, lr, decay)
            tb = [(torch.as_tensor(np.asarray(xb, dtype=np.int64)),
                   torch.as_tensor(np.asarray(yb, dtype=np.int64)),
                   torch.as_tensor(np.asarray(mb)).to(tdt)) for xb, yb, mb in padded]

            def step(xb, yb, mb):
                for p in params:
                    p.grad = None
                h, _ = gru(emb(xb))  # (T, B, H), time-major like ours
                ce = torch.nn.functional.cross_entropy(out(h).reshape(-1, C), yb.reshape(-1),
                                                       reduction="none")
                loss = (ce * mb.reshape(-1)).sum()
                loss.backward()
                opt()
                return float(loss.detach())

            def one_pass():
                for b in tb:
                    step(*b)

            note = ("Embedding + nn.GRU (sigmoid) + Linear on the same left-padded (T, B) batches, "
                    "CE masked and summed, the tutorial's RMSprop; padded steps are computed, "
                    "not skipped")
            return one_pass, dict(units=tokens, note=note, **common)

        build(impls, skipped, "torch_batch", dtype, "torch-cpu", torch_batched)
    time_round_robin(impls, args.repeats, args.burn_in)
    return rate_rows("word_minibatch_train", impls, skipped, "fast_sentence", "tokens_per_s", args.threads)


WORKLOADS = {
    "wildml_rnn_step": bench_wildml_rnn_step,
    "wildml_gru_step": bench_wildml_gru_step,
    "char_lstm_train": bench_char_lstm_train,
    "word_minibatch_train": bench_word_minibatch_train,
}

# (workload, impl, figure key, threshold, description); checked per dtype
TARGETS = [
    ("wildml_rnn_step", "fast", "speedup_vs_torch", 1.0, "fast RNN step no slower than PyTorch"),
    ("wildml_rnn_step", "fast", "ratio", 25.0, "fast RNN step >= 25x the legacy NumPy reference"),
    ("wildml_gru_step", "fast", "speedup_vs_faithful", 5.0, "fast GRU step >= 5x its faithful graph"),
    ("char_lstm_train", "charrnn", "ratio", 1.0, "char-rnn training >= PyTorch's characters/s"),
]


def target_rows(rows):
    out = []
    for workload, impl, key, threshold, text in TARGETS:
        for r in rows:
            if r.get("workload") == workload and r.get("impl") == impl and not r.get("skipped"):
                value = r.get(key)
                out.append(dict(workload="_target", target=text, impl=impl, dtype=r["dtype"],
                                backend=r["backend"], figure=key, value=value, threshold=threshold,
                                met=None if value is None else bool(value >= threshold)))
    return out


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------
def fmt(v, spec):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return format(v, spec)


def print_tables(meta, rows, targets):
    keys = ("cpu", "cpus", "memory_gib", "python", "numpy", "pytensor", "numba", "torch", "jax", "threads",
            "pytensor_blas_ldflags", "numpy_blas", "theano_rnn_blas_status", "loadavg_start")
    shown = dict(meta)
    status = shown.get("theano_rnn_blas_status")
    if isinstance(status, dict):
        shown["theano_rnn_blas_status"] = status.get("message")
    print("machine: " + "; ".join(f"{k}={shown[k]}" for k in keys if k in shown))
    for workload in WORKLOADS:
        wrows = [r for r in rows if r["workload"] == workload]
        if not wrows:
            continue
        key = ("chars_per_s" if workload == "char_lstm_train" else
               "tokens_per_s" if workload == "word_minibatch_train" else None)
        speedups = sorted({k for r in wrows for k in r if k.startswith("speedup_vs_")})
        print(f"\n### {workload}\n")
        head = ["impl", "dtype", "backend", "median ms"] + ([key.replace("_per_s", "/s")] if key else [])
        head += (["val loss"] if workload == "char_lstm_train" else [])
        head += [f"ratio vs {wrows[0]['ratio_vs']}"] + [s.replace("speedup_vs_", "vs ") for s in speedups]
        head += ["compile s"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * 3 + "---:|" * (len(head) - 3))
        for r in wrows:
            if r.get("skipped"):
                print(f"| {r['impl']} | {r['dtype']} | {r['backend']} | skipped: {r['skipped']} |")
                continue
            cells = [r["impl"], r["dtype"], r["backend"], fmt(r.get("median_ms"), ".2f")]
            if key:
                cells.append(fmt(r.get(key), ",.0f"))
            if workload == "char_lstm_train":
                cells.append(fmt(r.get("val_loss"), ".3f"))
            cells.append(fmt(r.get("ratio"), ".2f") + ("x" if r.get("ratio") else ""))
            cells += [fmt(r.get(s), ".2f") + ("x" if r.get(s) else "") for s in speedups]
            cells.append(fmt(r.get("compile_s"), ".1f"))
            print("| " + " | ".join(cells) + " |")
        notes = {r["note"] for r in wrows if r.get("note")} | {r["data"] for r in wrows if r.get("data")}
        notes |= {r["model"] for r in wrows if r.get("model")}
        for note in sorted(notes):
            print(f"- {note}")
    if targets:
        print("\n### targets\n")
        print("| target | dtype | backend | figure | value | verdict |")
        print("|---|---|---|---|---:|---|")
        for t in targets:
            verdict = "n/a" if t["met"] is None else ("met" if t["met"] else "missed")
            print(f"| {t['target']} | {t['dtype']} | {t['backend']} | {t['figure']} | "
                  f"{fmt(t['value'], '.2f')} | {verdict} |")


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated: " + ", ".join(WORKLOADS))
    p.add_argument("--repeats", type=positive_int, default=None, help="timed measurements per impl "
                   "(default 9; --quick 2)")
    p.add_argument("--burn-in", type=int, default=None,
                   help="untimed calls after compiling (default 2; --quick 1)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of training per impl and dtype (char_lstm_train; default 60, --quick 0.5)")
    p.add_argument("--dtypes", default="float64,float32",
                   help="comma-separated: float64, float32 (or f64, f32)")
    p.add_argument("--backends", "--modes", dest="backends", default="C",
                   help="PyTensor backends, comma-separated: C, NUMBA, JAX")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="threads for OpenBLAS/MKL/OpenMP/Numba and PyTorch (default 1)")
    p.add_argument("--data", default=None, help="shared data folder (default $THEANO_RNN_SHARED_DATA "
                   "or ../shared/data)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: every workload and impl in seconds")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--impls", default="charrnn,torch",
                   help="char_lstm_train: the impls to run (comma-separated; default both)")
    p.add_argument("--torch-init", choices=("charrnn", "uniform"), default="charrnn",
                   help="char_lstm_train: torch starts from CharRNN's initial weights with one "
                   "trained bias per gate (default: the same model) or from uniform 0.08 with "
                   "both biases trained (the figures before issue 12)")
    p.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                   help="glibc malloc: 'tuned' (theano_rnn.runtime.allocator.tune_allocator, as the "
                   "theano-rnn commands do; every impl in the process shares it) or 'default'")
    p.add_argument("--isolate", action="store_true",
                   help="char_lstm_train: also run each impl and dtype in its own process "
                   "(rows marked 'own process'), after the round-robin run")
    args = p.parse_args(argv)
    args.impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    for i in args.impls:
        if i not in ("charrnn", "torch"):
            p.error(f"unknown impl {i!r}; choose from charrnn, torch")
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in args.workloads:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    aliases = {"f64": "float64", "f32": "float32"}
    args.dtypes = [aliases.get(d.strip(), d.strip()) for d in args.dtypes.split(",") if d.strip()]
    for d in args.dtypes:
        if d not in DTYPES:
            p.error(f"unknown dtype {d!r}; choose from float64, float32")
    args.backends = [b.strip().upper() for b in args.backends.split(",") if b.strip()]
    for b in args.backends:
        if b not in ("C", "NUMBA", "JAX"):
            p.error(f"unknown backend {b!r}; choose from C, NUMBA, JAX")
    if args.burn_in is not None and args.burn_in < 0:
        p.error("--burn-in must be >= 0")
    if args.budget is not None and not args.budget > 0:
        p.error("--budget must be positive")
    args.repeats = args.repeats or (2 if args.quick else 9)
    args.burn_in = args.burn_in if args.burn_in is not None else (1 if args.quick else 2)
    args.budget = args.budget or (0.5 if args.quick else 60.0)
    args.sizes = QUICK if args.quick else FULL
    return args


def isolated_rows(args, argv):
    """char_lstm_train with each impl and dtype in a fresh process of its own
    (so one's allocator and cache state cannot touch another's); the ratios
    are recomputed between these rows."""
    import subprocess

    drop = {"--workloads", "--dtypes", "--impls"}
    base, skip = [], False
    for a in argv:  # the other options as given (--budget, --threads, --quick, ...)
        if skip:
            skip = False
            continue
        if a in drop:
            skip = True
            continue
        if a.split("=", 1)[0] in drop or a in ("--isolate", "--json"):
            continue
        base.append(a)
    rows = []
    for dtype in args.dtypes:
        for impl in args.impls:
            cmd = [sys.executable, os.path.abspath(__file__), *base, "--workloads", "char_lstm_train",
                   "--dtypes", dtype, "--impls", impl, "--json"]
            done = subprocess.run(cmd, capture_output=True, text=True)
            got = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
            got = [r for r in got if r.get("workload") == "char_lstm_train"]
            if done.returncode or not got:
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                got = [dict(workload="char_lstm_train", impl=impl, dtype=dtype, backend="?",
                            chars_per_s=None, ratio_vs="torch", skipped=f"error: {tail}"[:300])]
            rows.extend(got)
    for r in rows:
        r["run"] = "own process"
        r["backend"] = f"{r['backend']}, own process"
    for r in rows:
        base_rows = [b for b in rows if b["impl"] == "torch" and b["dtype"] == r["dtype"]
                     and b.get("chars_per_s")]
        if r.get("chars_per_s") and base_rows:
            r["ratio"] = r["chars_per_s"] / base_rows[0]["chars_per_s"]
    return rows


def main(argv=None):
    args = parse_args(argv)
    import logging

    from theano_rnn.runtime.allocator import allocator_state, tune_allocator

    logging.basicConfig(level=logging.WARNING)
    if args.malloc == "tuned":
        tune_allocator()
    meta = meta_row(args)
    meta["allocator"] = allocator_state()
    torch = try_torch(args.threads)
    rows = []
    for name in args.workloads:
        try:
            rows.extend(WORKLOADS[name](args, torch))
        except Exception as exc:  # report it and go on with the other workloads
            first = (str(exc).strip().splitlines() or [""])[0]
            logging.getLogger("bench").exception("workload %s failed", name)
            rows.append(dict(workload=name, impl="*", dtype="*", backend="*", ratio_vs=None,
                             median_ms=None, skipped=f"error: {type(exc).__name__}: {first}"[:300]))
    if args.isolate and "char_lstm_train" in args.workloads:
        rows.extend(isolated_rows(args, argv if argv is not None else sys.argv[1:]))
    targets = target_rows(rows)
    meta["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    meta.update(blas_info())  # after the run: theano_rnn links its BLAS on first use of the C backend
    meta["torch"] = None if torch is None else torch.__version__  # what ran, not what is installed
    if torch is not None:
        meta["torch_threads"] = torch.get_num_threads()
    if args.json:
        for row in [meta, *rows, *targets]:
            print(json.dumps(row, default=str), flush=True)
    else:
        print_tables(meta, rows, targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
