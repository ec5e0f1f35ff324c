"""Seed 002's NumPy GRU as printed vs corrected, at the post's settings, over seeds.

Runs ``legacy_ref.seed002_gru.run_gru`` ("abcdefg" x 12, sequence length 6, hidden 16,
5000 epochs) for every (model, lr, seed) combination and reports the final epoch loss
(the script's ``loss / batch_num``), the 50 characters generated from ``'a'`` and the
wall time of each run.  Models: ``printed`` (the listing, bugs included),
``corrected`` (``CorrectedGRU``: transposes in the backward, output layer trained) and,
with ``--char-gru``, the project's older ``CharGRU`` demo (``abcdefg_demo``).

Weights come from ``np.random.RandomState(seed)`` (identical to the listing's global
``np.random.randn`` after ``np.random.seed(seed)``); the vocabulary is sorted (the
listing's ``list(set(...))`` order changes between Python 3 processes).

    python scripts/reproduce_seed002.py [--seeds 0 1 2] [--lrs 1e-4 1e-3] [--epochs 5000]
                                        [--jobs 2] [--char-gru] [--json out.json]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from _common import write_json

from theano_rnn import reference

#: 'a' + 50 characters, if learnt: what the post says the model writes
CLEAN_FIGURE = reference.get("seed002.clean_text")
CLEAN = CLEAN_FIGURE.value


def one_run(job):
    model_name, lr, seed, epochs = job
    t0 = time.perf_counter()
    if model_name == "char_gru":
        from legacy_ref.char_gru import abcdefg_demo

        _, text = abcdefg_demo(seed=seed, epochs=epochs, learning_rate=lr, sample_length=50)
        final = None  # abcdefg_demo returns no losses
    else:
        from legacy_ref.seed002_gru import run_gru

        _, losses, text = run_gru(rng=seed, lr=lr, max_epoch=epochs, corrected=(model_name == "corrected"))
        final = float(losses[-1])
    return {
        "model": model_name, "lr": lr, "seed": seed, "epochs": epochs,
        "final_loss": final, "text": text, "clean": text == CLEAN,
        "wall_s": round(time.perf_counter() - t0, 2),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 1e-3])
    p.add_argument("--epochs", type=int, default=5000)
    p.add_argument("--models", nargs="+", default=["printed", "corrected"], choices=["printed", "corrected", "char_gru"])
    p.add_argument("--char-gru", action="store_true", help="also run CharGRU's abcdefg_demo (seed list, same lrs)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--json", help="write the results as JSON here ('-' = stdout)")
    args = p.parse_args(argv)
    models = list(args.models) + (["char_gru"] if args.char_gru and "char_gru" not in args.models else [])
    jobs = [(m, lr, s, args.epochs) for m in models for lr in args.lrs for s in args.seeds]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as ex:
            runs = list(ex.map(one_run, jobs))
    else:
        runs = [one_run(j) for j in jobs]
    total = round(time.perf_counter() - t0, 1)
    print("%-10s %-7s %-4s %-10s %-7s %s" % ("model", "lr", "seed", "final", "wall_s", "text from 'a'"))
    for r in runs:
        final = "-" if r["final_loss"] is None else "%.4f" % r["final_loss"]
        print("%-10s %-7g %-4d %-10s %-7.1f %s" % (r["model"], r["lr"], r["seed"], final, r["wall_s"], r["text"]))
    print("total wall time %.1f s (%d jobs)" % (total, args.jobs))
    print("clean = the text %s" % CLEAN_FIGURE.describe())
    write_json({"runs": runs, "total_wall_s": total, "jobs": args.jobs, "clean_text": CLEAN}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
