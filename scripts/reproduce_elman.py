"""gwtaylor's three lag tasks (theano-rnn ``rnn.py``) at his settings.

For each task: data from ``np.random.seed(0)``, MetaRNN weights drawn next
from NumPy's global generator (his script's order), his settings (n_hidden
10, lr 0.001, decay 0.999; 400 epochs for real, 250 for binary and softmax),
then the mean train loss before and after and the training time, next to the
figures measured with the original (``theano_rnn.reference``, keys
``gwtaylor.<task>.loss_before`` / ``loss_after``).  Its binary figures are
those of ``test_binary(multiple_out=True)`` (task ``binary2`` here, two
outputs; his ``__main__`` names that variant); the one-output ``binary`` task
has no published figure.

    python scripts/reproduce_elman.py [--tasks real,binary,binary2,softmax] [--plots DIR]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from theano_rnn import reference  # noqa: E402
from theano_rnn.tasks.seqpred import run_task  # noqa: E402
from theano_rnn.tasks.seqpred.run import need_matplotlib, plot_sequence  # noqa: E402

#: task -> (first, final) loss of the original (theano_rnn.reference), None if it has none
PUBLISHED = {task: None if task == "binary" else
             (reference.get(f"gwtaylor.{task}.loss_before"),
              reference.get(f"gwtaylor.{task}.loss_after"))
             for task in ("real", "binary", "binary2", "softmax")}


def published_text(task):
    """``measured <before> -> <after>, ... (source)`` for ``task``; says so if it has none."""
    if PUBLISHED[task] is None:
        return "no published figure"
    before, after = PUBLISHED[task]
    first = "untrained" if task == "real" else "first logged"
    return (f"{before.origin} with the original: {before.value} -> {after.value}, {first} -> "
            f"final ({before.citation})")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", default="real,binary,binary2,softmax")
    p.add_argument("--epochs", type=int, default=None, help="override his epochs (all tasks)")
    p.add_argument("--plots", metavar="DIR", help="write his figures (sequence 0) as PNG here")
    a = p.parse_args(argv)
    if a.plots:
        need_matplotlib()
        os.makedirs(a.plots, exist_ok=True)
    for task in a.tasks.split(","):
        if task not in PUBLISHED:
            p.error(f"unknown task {task!r}; choose from {', '.join(PUBLISHED)}")
        r = run_task("binary" if task == "binary2" else task, n_epochs=a.epochs,
                     multiple_out=task == "binary2")
        first = r["model"].history[0][2] if r["model"].history else float("nan")
        published = published_text(task)
        print(f"{task:8s} {r['n_epochs']} epochs: loss {r['loss_before']:.4f} (untrained), "
              f"{first:.4f} (first log) -> {r['loss_after']:.4f} in {r['seconds']:.1f} s  "
              f"({published})", flush=True)
        if a.plots:
            path = os.path.join(a.plots, f"{task}_seq0.png")
            if os.path.exists(path):
                print(f"{path} exists; not replaced", file=sys.stderr)
            else:
                plot_sequence(r["model"], r["seq"], r["targets"], 0, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
