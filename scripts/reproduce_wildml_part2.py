#!/usr/bin/env python
"""Re-run the experiments of WildML part 2 (``RNNLM.ipynb``) and compare with the published figures.

On the reddit prefix of the shared data (212 comments instead of 15,000, so
the vocabulary is smaller than the requested 8000 and every loss scales with
``ln C`` instead of ``ln 8000``), this script reproduces, next to the
notebook's figures (``theano_rnn.reference``, keys ``wildml.part2.*``):

1. the data statistics;
2. the expected loss of random predictions ``ln C`` and the loss of the
   untrained model (``np.random.seed(10)`` weights) on the first 1000 sentences;
3. the loss curve of the first 100 sentences over 10 epochs (lr 0.005, loss
   evaluated every epoch), with the NumPy reference ``legacy_ref.RNNNumpy`` and
   with ``RNNTheano`` side by side.  The NumPy tutorial truncates each
   output's back-propagation separately while ``RNNTheano`` inherits
   ``scan(truncate_gradient=4)``'s semantics (only the last 4 steps of the
   sentence), so ``RNNTheano(truncation="per_output")`` is run too: with the
   same semantics the port must match the reference;
4. the gradient check (vocabulary 100, hidden 10);
5. the time of one ``sgd_step`` at the notebook's size (C=8000, H=100) on the
   sentence ``X_train[10]``, median of several calls after a warm-up (the
   compile time is reported separately).

Output: a markdown report on stdout (``--json PATH`` also writes the numbers).
With the defaults it takes a minute or two on two CPU cores.
"""

from __future__ import annotations

import os

# One BLAS thread unless told otherwise: on a small shared machine OpenBLAS's
# worker threads slow these small matrix products down (measured: GRU sgd_step
# 139 ms with 2 threads, 76 ms with 1; far worse when the cores are busy).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import logging
import math
import statistics
import sys
import time

from _common import nltk_data_dir, reddit_prefix, write_json

import numpy as np

from legacy_ref import RNNNumpy
from legacy_ref import train_with_sgd as numpy_train_with_sgd
from theano_rnn import reference
from theano_rnn.data import words as data
from theano_rnn.models.gradcheck import gradient_check
from theano_rnn.models.word import RNNTheano
from theano_rnn.training.tutorial import train_with_sgd

log = logging.getLogger("reproduce_wildml_part2")

def _published():
    """The notebook's figures (theano_rnn.reference), as plain JSON-ready values."""
    r = reference.value
    return {
        "sentences": r("wildml.part2.sentences"),
        "unique_tokens": r("wildml.part2.unique_tokens"),
        "vocabulary_size": r("wildml.part2.vocabulary_size"),
        "expected_random_loss": r("wildml.part2.expected_random_loss"),
        "untrained_loss": r("wildml.part2.untrained_loss"),
        "loss_curve": list(r("wildml.part2.loss_curve")),
        "sgd_step_ms": {"numpy": r("wildml.part2.sgd_step_ms.numpy"),
                        "theano": r("wildml.part2.sgd_step_ms.theano")},
    }


PUBLISHED = _published()
SETTINGS = reference.value("wildml.part2.settings")
GRADIENT_CHECK = reference.value("wildml.part2.gradient_check")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(reddit_prefix()),
                   help="reddit CSV (default: the prefix in $THEANO_RNN_SHARED_DATA or "
                        "../shared/data)")
    p.add_argument("--nltk-data", default=str(nltk_data_dir()),
                   help="nltk_data directory with the Punkt model")
    S = SETTINGS
    p.add_argument("--vocabulary-size", type=int, default=S["word_dim"])
    p.add_argument("--hidden-dim", type=int, default=S["hidden_dim"])
    p.add_argument("--bptt-truncate", type=int, default=S["bptt_truncate"])
    p.add_argument("--seed", type=int, default=S["seed"],
                   help=f"np.random.seed of the notebook ({S['seed']})")
    p.add_argument("--loss-sentences", type=int, default=S["loss_sentences"],
                   help=f"sentences for the untrained loss ({S['loss_sentences']})")
    p.add_argument("--sentences", type=int, default=S["train_sentences"],
                   help=f"training sentences ({S['train_sentences']})")
    p.add_argument("--nepoch", type=int, default=S["nepoch"])
    p.add_argument("--learning-rate", type=float, default=S["learning_rate"])
    p.add_argument("--timing-word-dim", type=int, default=S["word_dim"],
                   help=f"word_dim of the timed models (the notebook's {S['word_dim']})")
    p.add_argument("--timing-repeats", type=int, default=7)
    p.add_argument("--timing-sentence", type=int, default=10, help="index of the timed sentence")
    p.add_argument("--mode", default="C", help="PyTensor backend of the RNNTheano models")
    p.add_argument("--no-numpy", action="store_true",
                   help="skip the NumPy reference's training (the slowest part)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-' = stdout)")
    return p.parse_args(argv)


def rs(seed):
    return np.random.RandomState(seed)


def time_call(fn, repeats):
    fn()  # warm-up (and compilation)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def max_errors(records):
    """parameter -> (entries, max relative error, all passed)."""
    out = {}
    for r in records:
        name = r.parameter
        n, worst, ok = out.get(name, (0, 0.0, True))
        out[name] = (n + 1, max(worst, r.relative_error), ok and r.passed)
    return out


def run(args):
    results = {"published": PUBLISHED, "data_file": args.data,
               "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    t_start = time.perf_counter()

    # 1. data ---------------------------------------------------------------
    corpus = data.load_part2(args.data, args.vocabulary_size, nltk_data=args.nltk_data)
    X, Y = corpus.X, corpus.Y
    C = corpus.vocabulary_size
    results["data"] = {
        "sentences": corpus.num_sentences,
        "unique_tokens": corpus.num_unique_tokens,
        "vocabulary_size": C,
        "requested_vocabulary_size": args.vocabulary_size,
    }
    log.info("data: %s", results["data"])

    # 2. loss before training ------------------------------------------------
    n_loss = min(args.loss_sentences, len(X))
    ref = RNNNumpy(C, args.hidden_dim, args.bptt_truncate, rng=rs(args.seed))
    th = RNNTheano(C, args.hidden_dim, args.bptt_truncate, rng=rs(args.seed), mode=args.mode)
    same_init = all(np.array_equal(ref.get_params()[k], th.get_params()[k]) for k in "UVW")
    results["initial"] = {
        "expected_random_loss": math.log(C),
        "loss_sentences": n_loss,
        "numpy_untrained_loss": float(ref.calculate_loss(X[:n_loss], Y[:n_loss])),
        "theano_untrained_loss": float(th.calculate_loss(X[:n_loss], Y[:n_loss])),
        "same_initial_weights": bool(same_init),
    }
    log.info("initial: %s", results["initial"])

    # 3. loss curves ---------------------------------------------------------
    Xs, Ys = X[: args.sentences], Y[: args.sentences]
    curve_kwargs = dict(learning_rate=args.learning_rate, nepoch=args.nepoch, evaluate_loss_after=1)
    curves, seconds = {}, {}
    if not args.no_numpy:
        t = time.perf_counter()
        model = RNNNumpy(C, args.hidden_dim, args.bptt_truncate, rng=rs(args.seed))
        curves["numpy"] = numpy_train_with_sgd(model, Xs, Ys, **curve_kwargs)
        seconds["numpy"] = time.perf_counter() - t
        log.info("NumPy reference: %s (%.0f s)", [round(l, 6) for _, l in curves["numpy"]],
                 seconds["numpy"])
    for name, truncation in (("theano_scan", "scan"), ("theano_per_output", "per_output")):
        t = time.perf_counter()
        model = RNNTheano(C, args.hidden_dim, args.bptt_truncate, rng=rs(args.seed),
                          mode=args.mode, truncation=truncation)
        curves[name] = train_with_sgd(model, Xs, Ys, **curve_kwargs)
        seconds[name] = time.perf_counter() - t
        log.info("RNNTheano(%s): %s (%.0f s)", truncation,
                 [round(l, 6) for _, l in curves[name]], seconds[name])
    results["loss_curves"] = {
        "sentences": len(Xs), "nepoch": args.nepoch, "learning_rate": args.learning_rate,
        "curves": {k: [[int(n), float(l)] for n, l in v] for k, v in curves.items()},
        "seconds": seconds,
    }
    if "numpy" in curves:
        a = np.array([l for _, l in curves["numpy"]])
        results["loss_curves"]["max_abs_diff_numpy_vs_theano_per_output"] = float(
            np.max(np.abs(a - np.array([l for _, l in curves["theano_per_output"]]))))
        results["loss_curves"]["max_abs_diff_numpy_vs_theano_scan"] = float(
            np.max(np.abs(a - np.array([l for _, l in curves["theano_scan"]]))))

    # 4. gradient check ------------------------------------------------------
    g = GRADIENT_CHECK
    x, y, check = list(g["x"]), list(g["y"]), dict(h=g["h"], error_threshold=g["error_threshold"])
    ref_small = RNNNumpy(g["word_dim"], g["hidden_dim"], bptt_truncate=1000, rng=rs(args.seed))
    th_small = RNNTheano(g["word_dim"], g["hidden_dim"], bptt_truncate=1000, rng=rs(args.seed),
                         mode=args.mode)
    results["gradient_check"] = {
        "numpy": {k: list(v) for k, v in
                  max_errors(ref_small.gradient_check(x, y, **check)).items()},
        "theano": {k: list(v) for k, v in
                   max_errors(gradient_check(th_small, x, y, **check).records).items()},
    }
    log.info("gradient check: %s", results["gradient_check"])

    # 5. sgd_step timing -----------------------------------------------------
    i = min(args.timing_sentence, len(X) - 1)
    xt, yt = X[i], Y[i]
    Ct, H = max(args.timing_word_dim, C), args.hidden_dim
    timing = {"word_dim": Ct, "hidden_dim": H, "sentence_index": i, "sentence_length": len(xt),
              "repeats": args.timing_repeats, "mode": args.mode}
    ref_t = RNNNumpy(Ct, H, args.bptt_truncate, rng=rs(args.seed))
    timing["numpy_ms"] = time_call(lambda: ref_t.sgd_step(xt, yt, SETTINGS["learning_rate"]), args.timing_repeats)
    for name, truncation in (("theano_scan", "scan"), ("theano_per_output", "per_output")):
        m = RNNTheano(Ct, H, args.bptt_truncate, rng=rs(args.seed), mode=args.mode,
                      truncation=truncation)
        t = time.perf_counter()
        m.sgd_step  # noqa: B018 -- compile
        timing[name + "_compile_s"] = time.perf_counter() - t
        timing[name + "_ms"] = time_call(lambda: m.sgd_step(xt, yt, SETTINGS["learning_rate"]), args.timing_repeats)
    results["sgd_step"] = timing
    log.info("timing: %s", timing)
    results["total_seconds"] = time.perf_counter() - t_start
    return results


def fmt(v, digits=6):
    return "" if v is None else f"{v:.{digits}f}"


def markdown(r):
    d, ini, lc = r["data"], r["initial"], r["loss_curves"]
    P = PUBLISHED
    C = d["vocabulary_size"]
    out = []
    w = out.append
    w("## WildML part 2 (RNNLM.ipynb) reproduced on the reddit prefix\n")
    w(f"Data: `{r['data_file']}`; published figures from `theano_rnn.reference` "
      f"({reference.get('wildml.part2.loss_curve').citation}; full 15,000-comment "
      f"file, C = {P['vocabulary_size']}).  Losses are per-word cross-entropies; ours scale "
      "with ln C for our "
      f"smaller vocabulary (C = {C}), so compare the *shape* of the curves and the relation "
      "to ln C, not the absolute numbers.\n")
    w("| | published | here |")
    w("|---|---:|---:|")
    w(f"| sentences | {P['sentences']:,} | {d['sentences']:,} |")
    w(f"| unique tokens | {P['unique_tokens']:,} | {d['unique_tokens']:,} |")
    w(f"| vocabulary size (requested {d['requested_vocabulary_size']}) | "
      f"{P['vocabulary_size']:,} | {C:,} |")
    w("")
    w(f"### Loss before training (np.random.seed({SETTINGS['seed']}) weights)\n")
    w(f"| | published (C = {P['vocabulary_size']}) | NumPy reference | RNNTheano |")
    w("|---|---:|---:|---:|")
    w(f"| expected loss of random predictions, ln C | {P['expected_random_loss']:.6f} | "
      f"{ini['expected_random_loss']:.6f} | {ini['expected_random_loss']:.6f} |")
    w(f"| untrained model, first {ini['loss_sentences']} sentences | {P['untrained_loss']:.6f} | "
      f"{ini['numpy_untrained_loss']:.6f} | {ini['theano_untrained_loss']:.6f} |")
    w(f"\nSame initial weights in both (U, V, W drawn in that order): "
      f"{'yes' if ini['same_initial_weights'] else 'NO'}.\n")
    curves = lc["curves"]
    w(f"### Loss curve: first {lc['sentences']} sentences, {lc['nepoch']} epochs, "
      f"lr {lc['learning_rate']}, loss evaluated every epoch\n")
    cols = [("numpy", "NumPy reference (per-output truncation)"),
            ("theano_per_output", "RNNTheano truncation=\"per_output\""),
            ("theano_scan", "RNNTheano (scan truncation, as the tutorial)")]
    cols = [(k, name) for k, name in cols if k in curves]
    w(f"| epoch | examples seen | published (NumPy, C = {P['vocabulary_size']}) | " +
      " | ".join(name for _, name in cols) + " |")
    w("|---:|---:|---:|" + "---:|" * len(cols))
    n_rows = max(len(v) for v in curves.values())
    for e in range(n_rows):
        seen = next(v[e][0] for v in curves.values() if e < len(v))
        pub = P["loss_curve"][e] if e < len(P["loss_curve"]) else None
        cells = [fmt(curves[k][e][1]) if e < len(curves[k]) else "" for k, _ in cols]
        w(f"| {e} | {seen} | {fmt(pub)} | " + " | ".join(cells) + " |")
    if "max_abs_diff_numpy_vs_theano_per_output" in lc:
        w(f"\nLargest difference from the NumPy reference: RNNTheano per_output "
          f"{lc['max_abs_diff_numpy_vs_theano_per_output']:.2e}, RNNTheano scan "
          f"{lc['max_abs_diff_numpy_vs_theano_scan']:.2e}.  Wall time: " +
          ", ".join(f"{k} {v:.0f} s" for k, v in lc["seconds"].items()) + ".\n")
    gc = r["gradient_check"]
    g = GRADIENT_CHECK
    w(f"### Gradient check (vocabulary {g['word_dim']}, hidden {g['hidden_dim']}, "
      f"x = {list(g['x'])}, y = {list(g['y'])}, h = {g['h']}, "
      f"threshold {g['error_threshold']})\n")
    w("| parameter | published | NumPy reference: max relative error | RNNTheano: max relative error |")
    w("|---|---|---:|---:|")
    for name in ("U", "V", "W"):
        n_, e1, ok1 = gc["numpy"][name]
        _, e2, ok2 = gc["theano"][name]
        w(f"| {name} | passed | {e1:.2e} ({'passed' if ok1 else 'FAILED'}) | "
          f"{e2:.2e} ({'passed' if ok2 else 'FAILED'}) |")
    t = r["sgd_step"]
    w(f"\n### One sgd_step (C = {t['word_dim']}, H = {t['hidden_dim']}, sentence X_train[{t['sentence_index']}] "
      f"of {t['sentence_length']} words; median of {t['repeats']} after a warm-up; "
      f"OPENBLAS_NUM_THREADS={r.get('openblas_num_threads') or 'unset'})\n")
    w("| implementation | published | here |")
    w("|---|---:|---:|")
    ms = reference.value
    w(f"| NumPy (`RNNNumpy.sgd_step`, per-output BPTT) | {P['sgd_step_ms']['numpy']:.0f} ms "
      f"(~{ms('wildml.part2.sgd_step_ms.numpy_text'):.0f} ms in the text, laptop) | "
      f"{t['numpy_ms']:.1f} ms |")
    w(f"| RNNTheano, scan truncation, mode {t['mode']} | {P['sgd_step_ms']['theano']} ms "
      f"({ms('wildml.part2.sgd_step_ms.theano_text_cpu'):.0f} ms Mac CPU, "
      f"{ms('wildml.part2.sgd_step_ms.theano_text_gpu'):.0f} ms GPU) | "
      f"{t['theano_scan_ms']:.1f} ms "
      f"(compile {t['theano_scan_compile_s']:.1f} s) |")
    w(f"| RNNTheano, truncation=\"per_output\", mode {t['mode']} | | "
      f"{t['theano_per_output_ms']:.1f} ms (compile {t['theano_per_output_compile_s']:.1f} s) |")
    w(f"\nTotal run time {r['total_seconds']:.0f} s.")
    return "\n".join(out) + "\n"


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("pytensor").setLevel(logging.ERROR)
    try:
        results = run(args)
    except (data.DataError, ValueError) as exc:
        print(f"reproduce_wildml_part2: error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(markdown(results))
    write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
