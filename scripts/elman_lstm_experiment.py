"""Seed 004's question: why did the LSTM swap do worse than the Elman RNN on test_real?

Trains gwtaylor's MetaRNN on his test_real data (``np.random.seed(0)``) with
three cells -- ``rnn`` (his), ``lstm_seed`` (the post's swap: one shared
preact for all gates) and ``lstm`` (separate gate weights) -- over a small
grid of settings, several weight seeds each (explicit ``RandomState(s)``),
and writes one CSV row per run (final train MSE, wall time) as it goes.

Efficient on a small CPU: all runs of one cell share one compiled training
function (``compile_function`` swaps the shared variables), C backend.

    python scripts/elman_lstm_experiment.py --epochs 100 --seeds 3 --out exp.csv
    python scripts/elman_lstm_experiment.py --summarize exp.csv
"""

import argparse
import csv
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from theano_rnn.models.elman.meta import MetaRNN  # noqa: E402
from theano_rnn.tasks.seqpred.data import TASKS, make_task  # noqa: E402

CELLS = ("rnn", "lstm_seed", "lstm")

#: name -> overrides of his test_real settings (applied to the cells listed)
GRID = [
    ("his settings", {}, CELLS),
    ("lr 0.01", {"learning_rate": 0.01}, CELLS),
    ("forget bias 1", {"forget_bias": 1.0}, ("lstm",)),
    ("init 0.1", {"init_scale": 0.1}, CELLS),
    ("momentum 0.5 throughout", {"final_momentum": 0.5}, CELLS),
    ("hidden 20", {"n_hidden": 20}, CELLS),
    ("lr 0.01, init 0.1", {"learning_rate": 0.01, "init_scale": 0.1}, CELLS),
]

FIELDS = ["setting", "cell", "seed", "epochs", "mse_before", "mse_after", "seconds", "mse_every_100"]


def run(setting, overrides, cell, seed, epochs):
    seq, targets = make_task("real", seed=0)
    params = dict(TASKS["real"], n_epochs=epochs, cell=cell)
    params.update(overrides)
    model = MetaRNN(**params, rng=np.random.RandomState(seed))
    before = model.loss(seq, targets)
    t0 = time.perf_counter()
    # the train MSE every 100 epochs comes from fit's own validation log
    model.fit(seq, targets, validation_frequency=100 * len(seq))
    seconds = time.perf_counter() - t0
    every = " ".join(f"{h[2]:.4f}" for h in model.history)
    return dict(setting=setting, cell=cell, seed=seed, epochs=epochs, mse_before=before,
                mse_after=model.loss(seq, targets), seconds=seconds, mse_every_100=every)


def summarize(path):
    rows = list(csv.DictReader(open(path)))
    groups = {}
    for r in rows:
        groups.setdefault((r["epochs"], r["setting"], r["cell"]), []).append(float(r["mse_after"]))
    print("| epochs | setting | cell | runs | final MSE mean | std | min | max |")
    print("|---|---|---|---|---|---|---|---|")
    for (ep, setting, cell), v in groups.items():
        v = np.array(v)
        print(f"| {ep} | {setting} | {cell} | {len(v)} | {v.mean():.4f} | {v.std():.4f} | "
              f"{v.min():.4f} | {v.max():.4f} |")
    print(f"total wall time {sum(float(r['seconds']) for r in rows):.0f} s over {len(rows)} runs")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", default="elman_lstm_experiment.csv")
    p.add_argument("--settings", default="", help="comma-separated subset of the grid's names")
    p.add_argument("--summarize", metavar="CSV")
    a = p.parse_args(argv)
    if a.summarize:
        summarize(a.summarize)
        return 0
    if os.path.exists(a.out):
        print(f"{a.out} exists; choose another --out", file=sys.stderr)
        return 2
    wanted = set(filter(None, a.settings.split(",")))
    with open(a.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        for setting, overrides, cells in GRID:
            if wanted and setting not in wanted:
                continue
            for cell in cells:
                for seed in range(a.seeds):
                    row = run(setting, overrides, cell, seed, a.epochs)
                    w.writerow(row)
                    fh.flush()
                    print(f"{setting:24s} {cell:10s} seed {seed}: {row['mse_before']:.4f} -> "
                          f"{row['mse_after']:.4f} ({row['seconds']:.1f} s)", flush=True)
    summarize(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
