#!/usr/bin/env python
"""Attribute Tang poems to their poets: bidirectional vs unidirectional LSTM (issue 6, item 4).

The Theano LSTM sentiment tutorial's classifier (:mod:`theano_rnn.tasks.classify.task`)
on the chinese-poetry JSON files (default
``$THEANO_RNN_SHARED_DATA/chinese/chinese-poetry/poet.tang.*.json``, else
``../shared/data`` next to the repository): the ``--top-k`` most prolific
poets except the unknown author 不詳, each poem's characters as tokens (at
most ``--max-length``, longer poems keep their beginning), a stratified
80/10/10 split.  Two models of the same size -- a bidirectional LSTM
(``directions=2``) and a forward-only one (``directions=1``), same
embedding and hidden sizes per direction, same data, split, seed and epoch
budget -- are trained with the tutorial's loop (Adadelta, dropout 0.5 on the
pooled vector, batch 16, validation once per epoch, early stopping with
``--patience`` validations), their best-validation parameters evaluated on
the test split, next to the majority-class baseline.

The defaults are sized for about 6-8 minutes in all on a shared 2-core CPU
machine: 48-dimensional embedding and hidden layers, top-5 poets, 100
characters, at most 40 epochs with patience 5; the training error is not
computed at each validation (``--train-error`` to do it, as the tutorial).

Output: a markdown report on stdout; ``--json PATH`` also writes the numbers
(``-`` = stdout), ``--markdown PATH`` the report.
"""

from __future__ import annotations

import os

# One BLAS thread unless told otherwise: these small products run faster
# single-threaded on a small, shared machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from _common import shared_data_dir, write_json  # noqa: E402

from theano_rnn.tasks.classify import task as seqclass  # noqa: E402
from theano_rnn.models.bidir import SequenceClassifier  # noqa: E402

log = logging.getLogger("reproduce_poets")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--poems", nargs="+", default=None, metavar="JSON",
                   help="chinese-poetry JSON files (default: the shared poet.tang.*.json)")
    p.add_argument("--top-k", type=int, default=5, help="number of poets (default 5)")
    p.add_argument("--authors", default=None, help="comma-separated poets instead of --top-k")
    p.add_argument("--max-length", type=int, default=100)
    p.add_argument("--embed-dim", type=int, default=48)
    p.add_argument("--hidden-dim", type=int, default=48)
    p.add_argument("--optimizer", default="adadelta", choices=("adadelta", "sgd", "rmsprop"))
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--train-error", action="store_true",
                   help="compute the training error at every validation (the tutorial does)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--mode", default="C", help="PyTensor backend (C, NUMBA, JAX)")
    p.add_argument("--models", default="2,1",
                   help="directions of the models to train, in order (default 2,1)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-' = stdout)")
    p.add_argument("--markdown", metavar="PATH", help="also write the markdown report to PATH")
    return p.parse_args(argv)


def train_one(data, args, directions):
    model = SequenceClassifier(
        len(data.vocab), len(data.labels), cell="lstm", embed_dim=args.embed_dim,
        hidden_dim=args.hidden_dim, directions=directions, dropout=args.dropout,
        optimizer=args.optimizer, seed=args.seed, mode=args.mode,
    )
    opts = seqclass.ClassifierTrainOptions(
        batch_size=args.batch_size, max_epochs=args.max_epochs, patience=args.patience,
        learning_rate=args.learning_rate, eval_train=args.train_error, seed=args.seed,
    )
    log.info("Training %r (%d parameters)", model, model.num_params())
    t0 = time.perf_counter()
    result = seqclass.train_classifier(model, data, opts)
    wall = time.perf_counter() - t0
    labels = data.labels.labels
    return {
        "directions": directions,
        "name": "bidirectional LSTM" if directions == 2 else "unidirectional LSTM",
        "num_params": model.num_params(),
        "test_accuracy": result.test.accuracy,
        "valid_accuracy": result.valid.accuracy,
        "train_accuracy": result.train.accuracy,
        "majority_baseline": result.majority_baseline,
        "per_class_test_accuracy": dict(zip(labels, map(float, result.test.per_class_accuracy))),
        "confusion_test": result.test.confusion.tolist(),
        "reason": result.reason,
        "updates": result.updates,
        "epochs_run": result.epochs_run,
        "stop_epoch": result.stop_epoch,
        "best_valid_err": result.best_valid_err,
        "train_time_s": result.train_time,
        "wall_time_s": wall,
        "history": result.history,
    }


def markdown(r):
    s = r["setup"]
    lines = [
        "## Tang poem attribution: bidirectional vs unidirectional LSTM",
        "",
        f"Task: {len(s['labels'])} poets ({', '.join(f'{a} {n}' for a, n in s['counts'].items())}"
        f" poems), {s['n_texts']} poems; split train/valid/test {s['split']}; characters as "
        f"tokens, first {s['max_length']} kept ({s['truncated']} poems cut); vocabulary "
        f"{s['vocab_size']} characters (from the training split).",
        f"Models: LSTM, embedding {s['embed_dim']}, hidden {s['hidden_dim']} per direction, "
        f"mean pooling, dropout {s['dropout']}, {s['optimizer']}, batch {s['batch_size']}, "
        f"at most {s['max_epochs']} epochs, validation once per epoch, patience "
        f"{s['patience']}, seed {s['seed']}.",
        "",
        "| model | params | test acc | majority baseline | valid acc | epochs run | "
        "stopped (epoch) | train time |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for m in r["models"]:
        stop = "early stop" if m["reason"] == "early_stop" else "max epochs"
        lines.append(
            f"| {m['name']} | {m['num_params']:,} | {m['test_accuracy']:.3f} | "
            f"{m['majority_baseline']:.3f} | {m['valid_accuracy']:.3f} | {m['epochs_run']:.0f} | "
            f"{stop} ({m['stop_epoch']}) | {m['train_time_s']:.0f} s |"
        )
    lines += ["", "Per-poet test accuracy:", "",
              "| model | " + " | ".join(s["labels"]) + " |",
              "|---|" + "---:|" * len(s["labels"])]
    for m in r["models"]:
        lines.append(f"| {m['name']} | " + " | ".join(
            f"{m['per_class_test_accuracy'][a]:.2f}" for a in s["labels"]) + " |")
    lines += ["", f"Command: `{r['command']}`", f"Machine: {r['machine']}; total "
              f"{r['total_time_s']:.0f} s.", ""]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    t_start = time.perf_counter()
    paths = args.poems or sorted(glob.glob(
        str(shared_data_dir() / "chinese" / "chinese-poetry" / "poet.tang.*.json")))
    if not paths:
        sys.exit("no poem files: pass --poems or set THEANO_RNN_SHARED_DATA")
    records = seqclass.load_poem_records(paths, top_k=args.top_k, authors=args.authors)
    data = seqclass.prepare_data(records, tokens="char", max_length=args.max_length,
                                 seed=args.seed)
    counts = {}
    for a, _ in records:
        counts[a] = counts.get(a, 0) + 1
    setup = {
        "poem_files": [Path(p).name for p in paths], "labels": data.labels.labels,
        "counts": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        "n_texts": len(records),
        "split": f"{len(data.train)}/{len(data.valid)}/{len(data.test)}",
        "max_length": args.max_length,
        "truncated": sum(len(t) > args.max_length for t in
                         (seqclass.seqdata.tokenize_for_classes(x) for _, x in records)),
        "vocab_size": len(data.vocab), "embed_dim": args.embed_dim,
        "hidden_dim": args.hidden_dim, "dropout": args.dropout, "optimizer": args.optimizer,
        "batch_size": args.batch_size, "max_epochs": args.max_epochs,
        "patience": args.patience, "seed": args.seed, "mode": args.mode,
    }
    models = [train_one(data, args, int(d)) for d in args.models.split(",")]
    results = {
        "setup": setup, "models": models,
        "command": "python scripts/reproduce_poets.py " + " ".join(sys.argv[1:] if argv is None
                                                                   else argv),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
                   f"{platform.release()}, Python {platform.python_version()}",
        "total_time_s": time.perf_counter() - t_start,
    }
    report = markdown(results)
    sys.stdout.write(report)
    if args.markdown:
        Path(args.markdown).write_text(report, encoding="utf-8")
    write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
