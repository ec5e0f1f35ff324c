#!/usr/bin/env python
"""The cloze task: a bidirectional RNN against a forward-only one of the same size.

WildML part 1: "to predict a missing word in a sequence you want to look at
both the left and the right context".  This trains a bidirectional model
(``--directions 2``) and the unidirectional baseline (``--directions 1``) with
everything else equal -- cell, sizes, layers, epochs, data, split, blanks,
seed -- and reports on the test split: accuracy, top-5 accuracy, mean
log-likelihood of the missing word (nats), perplexity, parameters and training
time, next to the unigram baseline (always predict the training set's most
frequent blankable word).  The best-by-validation checkpoint of each model is
the one tested.

Example (the figures in the README)::

    python scripts/reproduce_cloze.py \\
        --corpus $THEANO_RNN_SHARED_DATA/tinyshakespeare/input.txt --out-dir cloze_results

Output: ``<out-dir>/cloze_results.json`` and ``<out-dir>/cloze_results.md``
(the markdown is also printed), plus the checkpoints ``cloze_bi.npz`` /
``cloze_uni.npz`` (and their ``_best`` files).
"""

from __future__ import annotations

import os

# One BLAS thread unless told otherwise: these small products run faster that way
# on a small shared machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from _common import nltk_data_dir, shared_data_dir  # noqa: E402

from theano_rnn import __version__, io
from theano_rnn.tasks.cloze import task as cloze  # noqa: E402
from theano_rnn.models.bidir import ClozeModel  # noqa: E402

log = logging.getLogger("reproduce_cloze")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=str(shared_data_dir() / "tinyshakespeare" / "input.txt"),
                   help="corpus file (default: the shared tiny Shakespeare)")
    p.add_argument("--column", default="body", help="CSV column (reddit)")
    p.add_argument("--nltk-data",
                   default=str(nltk_data_dir()) if nltk_data_dir().is_dir() else None)
    p.add_argument("--vocabulary-size", type=int, default=4000)
    p.add_argument("--min-length", type=int, default=4)
    p.add_argument("--max-length", type=int, default=40)
    p.add_argument("--max-sentences", type=int, default=None)
    p.add_argument("--cell", default="lstm", choices=("rnn", "gru", "lstm"))
    p.add_argument("--embed-dim", type=int, default=64)
    p.add_argument("--hidden-dim", type=int, default=64)
    p.add_argument("--num-layers", type=int, default=1)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--learning-rate", type=float, default=1e-2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--directions", default="2,1",
                   help="which models to train: '2,1' (default), '2' or '1'")
    p.add_argument("--mode", default=None, help="PyTensor backend (default C)")
    p.add_argument("--out-dir", default="cloze_results")
    return p.parse_args(argv)


def train_one(args, data, directions, out_dir):
    model = ClozeModel(len(data.vocab), cell=args.cell, embed_dim=args.embed_dim,
                       hidden_dim=args.hidden_dim, num_layers=args.num_layers,
                       directions=directions, optimizer=args.optimizer, seed=args.seed,
                       mode=args.mode)
    name = "bi" if directions == 2 else "uni"
    ckpt = out_dir / f"cloze_{name}.npz"
    options = cloze.ClozeTrainOptions(epochs=args.epochs, batch_size=args.batch_size,
                                      learning_rate=args.learning_rate, seed=args.seed)
    trainer = cloze.ClozeTrainer(model, data, options, checkpoint_path=ckpt,
                                 metadata={"script": "reproduce_cloze.py", "corpus": args.corpus})
    log.info("training %r: %d parameters, %d batches per epoch", model, model.num_params(),
             trainer.num_batches)
    t0 = time.perf_counter()
    result = trainer.run()
    seconds = time.perf_counter() - t0
    if result.reason != "done":
        raise SystemExit(f"training the {name} model stopped: {result.reason}")
    best = io.load_arrays(trainer.best_path)
    model.set_params({n: best[n] for n in model.param_names})
    test = trainer.evaluate("test")
    log.info("%s test: %s", name, test)
    return {
        "model": ("bidirectional" if directions == 2 else "forward-only (baseline)"),
        "directions": directions,
        "params": model.num_params(),
        "train_seconds": round(seconds, 1),
        "best_epoch": trainer.best_valid["epoch"],
        "valid": trainer.best_valid,
        "history": result.history,
        "test": test.as_dict(),
        "checkpoint": str(ckpt),
    }


def markdown(results):
    cfg = results["config"]
    lines = [
        f"Cloze task on `{Path(cfg['corpus']).name}`: {cfg['train_sentences']} train / "
        f"{cfg['valid_sentences']} valid / {cfg['test_sentences']} test sentences "
        f"({cfg['min_length']}-{cfg['max_length']} tokens), vocabulary {cfg['vocabulary']}; "
        f"{cfg['num_layers']} x {cfg['hidden_dim']} {cfg['cell'].upper()}, embedding "
        f"{cfg['embed_dim']}, {cfg['optimizer']} lr {cfg['learning_rate']:g}, batch "
        f"{cfg['batch_size']}, {cfg['epochs']} epochs, seed {cfg['seed']}.",
        "",
        "| model | accuracy | top-5 | mean log-lik. (nats) | perplexity | params | train time |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["models"]:
        t = r["test"]
        lines.append(f"| {r['model']} | {t['accuracy']:.4f} | {t['top5']:.4f} | "
                     f"{t['mean_log_likelihood']:.3f} | {t['perplexity']:.1f} | {r['params']:,} | "
                     f"{r['train_seconds']:.0f} s |")
    b = results["unigram_baseline"]
    lines.append(f"| unigram baseline (always '{b['word']}') | {b['accuracy']:.4f} | "
                 f"{b['top5']:.4f} | {b['mean_log_likelihood']:.3f} | {b['perplexity']:.1f} "
                 "| - | - |")
    lines += ["", f"Machine: {results['machine']}; theano_rnn {results['theano_rnn_version']}, "
              f"backend {cfg['mode'] or 'C'}.  Train time includes compilation and the "
              "per-epoch validation; the test uses each model's best-validation epoch."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("pytensor").setLevel(logging.WARNING)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dirs = [int(d) for d in args.directions.split(",")]
    t0 = time.perf_counter()
    data = cloze.load_cloze_data(args.corpus, column=args.column,
                                 vocabulary_size=args.vocabulary_size, min_length=args.min_length,
                                 max_length=args.max_length, nltk_data=args.nltk_data,
                                 seed=args.seed, max_sentences=args.max_sentences)
    base, word = cloze.unigram_baseline(data)
    models = [train_one(args, data, d, out_dir) for d in dirs]
    results = {
        "config": dict(vars(args), vocabulary=len(data.vocab), train_sentences=len(data.train),
                       valid_sentences=len(data.valid), test_sentences=len(data.test)),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
                   f"Python {platform.python_version()}",
        "theano_rnn_version": __version__,
        "models": models,
        "unigram_baseline": dict(base.as_dict(), word=word),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    (out_dir / "cloze_results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    md = markdown(results)
    (out_dir / "cloze_results.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
