#!/usr/bin/env python
"""Karpathy's char-rnn experiments on the shared corpora, on a wall-clock budget.

``--experiment`` picks the corpus (paths under ``--data``, default
``$THEANO_RNN_SHARED_DATA`` or ``../shared/data`` next to the repository):

=============  ==========================================================  =========
experiment     corpus                                                       min_freq
=============  ==========================================================  =========
shakespeare    tinyshakespeare/input.txt (char-rnn's own example)           1
linux          linux/linux-1.0-kernel-mm-fs.c.txt (the "Linux source" run)   1
latex          latex/stacks-project/{sets,topology,schemes}.tex             1
hongloumeng    chinese/novels/hongloumeng.txt (《红楼梦》)                    10
luxun          chinese/luxun/luxun_essays.txt (鲁迅 essays)                   10
tang           chinese/chinese-poetry/poet.tang.*.json (5,003 Tang poems,    10
               one per blank-line-separated block)
=============  ==========================================================  =========

The model and training options are char-rnn's ``train.lua`` defaults (2 x 128
LSTM, one-hot input, seq_length 50, batch 50, RMSprop 2e-3 / alpha 0.95, clip
5, train/val 0.95/0.05, seed 123); the Chinese corpora fold characters seen
fewer than ``--min-freq`` times into one unknown symbol (the Chinese forks'
option), which keeps the softmax small.  Training stops after
``--time-budget`` seconds of wall clock (compilation included).  The
validation loss is evaluated every ``--eval-val-every`` iterations and at the
end, and printed against the wall-clock time, followed by a short sample.

Output: a markdown report on stdout; ``--json PATH`` also writes the numbers
(``-`` = stdout).  Example: ``python scripts/reproduce_char.py --experiment
shakespeare --time-budget 120``.
"""

from __future__ import annotations

import os

# One BLAS thread unless told otherwise: these small matrix products run several
# times faster single-threaded on a small, shared machine (measured 2-4x).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json
import logging
import math
import platform
import sys
import time
from pathlib import Path

from _common import shared_data_dir

import numpy as np

from theano_rnn import reference
from theano_rnn.data.chars import CharLoader, CharVocab, load_corpus, read_chars, read_poems_json
from theano_rnn.models.char import CharRNN
from theano_rnn.tasks.charlm.trainer import CharTrainer, CharTrainOptions
from theano_rnn.tasks.sampling import sample_chars

log = logging.getLogger("reproduce_char")

EXPERIMENTS = {
    "shakespeare": {"paths": ["tinyshakespeare/input.txt"], "min_freq": 1, "prime": "ROMEO:"},
    "linux": {"paths": ["linux/linux-1.0-kernel-mm-fs.c.txt"], "min_freq": 1, "prime": "static "},
    "latex": {"paths": ["latex/stacks-project/sets.tex", "latex/stacks-project/topology.tex",
                        "latex/stacks-project/schemes.tex"], "min_freq": 1, "prime": "\\begin{"},
    "hongloumeng": {"paths": ["chinese/novels/hongloumeng.txt"], "min_freq": 10, "prime": "宝玉"},
    "luxun": {"paths": ["chinese/luxun/luxun_essays.txt"], "min_freq": 10, "prime": "我"},
    "tang": {"glob": "chinese/chinese-poetry/poet.tang.*.json", "min_freq": 10, "prime": ""},
}

#: Published reference figures (theano_rnn.reference, charrnn.*), plain values for the JSON
PUBLISHED = {"shakespeare": {
    "characters": reference.value("charrnn.tinyshakespeare.characters"),
    "vocabulary": reference.value("charrnn.tinyshakespeare.vocabulary"),
    "parameters": reference.value("charrnn.default_model.parameters")}}
PUBLISHED_SOURCE = "; ".join(reference.get(k).citation for k in (
    "charrnn.tinyshakespeare.characters", "charrnn.default_model.parameters"))
#: char-rnn's train.lua defaults, the defaults of this script's model and training options
TRAIN_LUA = reference.value("charrnn.train_defaults")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See the module docstring for the experiments.")
    p.add_argument("--experiment", choices=sorted(EXPERIMENTS), default="shakespeare")
    p.add_argument("--data", default=None,
                   help="shared data folder (default $THEANO_RNN_SHARED_DATA or ../shared/data)")
    p.add_argument("--corpus", nargs="+", default=None, metavar="PATH",
                   help="corpus file(s) instead of the experiment's (.json = chinese-poetry)")
    p.add_argument("--time-budget", type=float, default=300.0, metavar="SECONDS",
                   help="wall-clock training budget, compilation included (default 300)")
    p.add_argument("--cell", choices=("rnn", "gru", "lstm"), default=TRAIN_LUA["model"])
    p.add_argument("--num-layers", type=int, default=TRAIN_LUA["num_layers"])
    p.add_argument("--hidden-dim", "--rnn-size", type=int, default=TRAIN_LUA["rnn_size"])
    p.add_argument("--seq-length", type=int, default=TRAIN_LUA["seq_length"])
    p.add_argument("--batch-size", type=int, default=TRAIN_LUA["batch_size"])
    p.add_argument("--min-freq", type=int, default=None,
                   help="default: 1 for the English/code corpora, 10 for the Chinese ones")
    p.add_argument("--learning-rate", type=float, default=TRAIN_LUA["learning_rate"])
    p.add_argument("--dropout", type=float, default=TRAIN_LUA["dropout"])
    p.add_argument("--max-epochs", type=float, default=TRAIN_LUA["max_epochs"])
    p.add_argument("--eval-val-every", type=int, default=100,
                   help="validate every N iterations (default 100; char-rnn's 1000 is too "
                        "sparse for short budgets)")
    p.add_argument("--seed", type=int, default=TRAIN_LUA["seed"])
    p.add_argument("--mode", default="C", help="PyTensor backend (C, NUMBA, JAX)")
    p.add_argument("--sample-length", type=int, default=300)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--prime", default=None, help="prime text of the sample (default per corpus)")
    p.add_argument("--output", default=None, help="checkpoint to write (default: none)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-' = stdout)")
    return p.parse_args(argv)


def corpus_paths(args):
    if args.corpus:
        return [Path(p) for p in args.corpus]
    root = Path(args.data) if args.data else shared_data_dir()
    exp = EXPERIMENTS[args.experiment]
    if "glob" in exp:
        paths = sorted(root.glob(exp["glob"]))
        if not paths:
            sys.exit(f"reproduce_char: error: no files match {root / exp['glob']} "
                     "(set --data or $THEANO_RNN_SHARED_DATA)")
        return paths
    paths = [root / p for p in exp["paths"]]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"reproduce_char: error: corpus file not found: {missing[0]} "
                 "(set --data or $THEANO_RNN_SHARED_DATA)")
    return paths


def load(paths, args, min_freq):
    fractions = (TRAIN_LUA["train_frac"], TRAIN_LUA["val_frac"])
    if len(paths) == 1 and paths[0].suffix.lower() != ".json":
        vocab, loader = load_corpus(paths[0], args.batch_size, args.seq_length, min_freq,
                                    split_fractions=fractions)
        return vocab, loader, loader.n_chars
    if all(p.suffix.lower() == ".json" for p in paths):
        text = read_poems_json(paths)  # poems separated by blank lines
    else:
        text = "".join(read_chars(p) for p in paths)  # raw concatenation, as Karpathy's data
    vocab = CharVocab.from_text(text, min_freq=min_freq)
    return vocab, CharLoader(text, vocab, args.batch_size, args.seq_length, fractions), len(text)


def run(args):
    t0 = time.monotonic()
    paths = corpus_paths(args)
    exp = EXPERIMENTS[args.experiment]
    min_freq = args.min_freq if args.min_freq is not None else (
        exp["min_freq"] if not args.corpus else 1)
    vocab, loader, n_chars = load(paths, args, min_freq)
    model = CharRNN(len(vocab), args.cell, args.hidden_dim, args.num_layers,
                    dropout=args.dropout, seed=args.seed, mode=args.mode)
    options = CharTrainOptions(learning_rate=args.learning_rate, max_epochs=args.max_epochs,
                               eval_val_every=args.eval_val_every, seed=args.seed)
    trainer = CharTrainer(model, vocab, loader, options, checkpoint_path=args.output)
    chars_per_batch = loader.batch_size * loader.seq_length
    results = {
        "experiment": args.experiment if not args.corpus else "custom",
        "corpus": [str(p) for p in paths],
        "data": {"characters": n_chars, "vocabulary": len(vocab), "min_freq": min_freq,
                 "unknown": vocab.unknown, "batches": dict(loader.split_sizes._asdict())},
        "config": {"cell": args.cell, "num_layers": args.num_layers,
                   "hidden_dim": args.hidden_dim, "seq_length": args.seq_length,
                   "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                   "dropout": args.dropout, "seed": args.seed, "mode": args.mode,
                   "parameters": model.num_params(), "time_budget_s": args.time_budget,
                   "eval_val_every": args.eval_val_every},
        "environment": {"python": platform.python_version(), "machine": platform.machine(),
                        "cpus": os.cpu_count(),
                        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS")},
        "published": PUBLISHED.get(args.experiment),
        "curve": [],
    }
    log.info("%s: %s characters, vocabulary %d; %r with %d parameters",
             results["experiment"], f"{n_chars:,}", len(vocab), model, model.num_params())

    curve = results["curve"]
    evaluate = trainer.evaluate
    first = {}

    def timed_evaluate(split="val"):
        v = evaluate(split)
        if split == "val" and v is not None:
            recent = [loss for _, loss in trainer.train_losses[-20:]]
            curve.append({"wall_s": time.monotonic() - t0, "iteration": trainer.iteration,
                          "epoch": trainer.epoch, "val_loss": v,
                          "train_loss_recent": float(np.mean(recent)) if recent else None})
            log.info("%.0f s: iteration %d, val loss %.4f", curve[-1]["wall_s"],
                     trainer.iteration, v)
        return v

    trainer.evaluate = timed_evaluate

    def progress(i, total, loss, cps):
        if "t" not in first:
            first.update(t=time.monotonic(), i=i, wall=time.monotonic() - t0)

    def should_stop():
        return time.monotonic() - t0 >= args.time_budget

    result = trainer.run(progress=progress, should_stop=should_stop)
    t_end = time.monotonic()
    if result.reason in ("nan", "exploded"):
        log.error("training diverged (%s) at iteration %d", result.reason, result.iteration)
    if not curve or curve[-1]["iteration"] != trainer.iteration:
        trainer.evaluate("val")
    results["stop_reason"] = result.reason
    results["iterations"] = trainer.iteration
    results["epochs"] = trainer.epoch
    results["first_iteration_s"] = first.get("wall")  # load + compile + one step
    steps = trainer.iteration - first.get("i", trainer.iteration)
    results["chars_per_second"] = (steps * chars_per_batch / (t_end - first["t"])
                                   if steps > 0 and t_end > first.get("t", t_end) else None)
    prime = args.prime if args.prime is not None else (exp["prime"] if not args.corpus else "")
    t = time.monotonic()
    results["sample"] = sample_chars(model, vocab, args.sample_length, prime=prime,
                                     temperature=args.temperature,
                                     rng=np.random.RandomState(args.seed))
    results["sample_s"] = time.monotonic() - t
    results["sample_prime"] = prime
    results["total_s"] = time.monotonic() - t0
    if args.output:
        trainer.save()
    return results


def markdown(r):
    d, c, e = r["data"], r["config"], r["environment"]
    out = []
    w = out.append
    w(f"## char-rnn: {r['experiment']} ({c['time_budget_s']:g} s budget)\n")
    corpus = ", ".join(f"`{Path(p).name}`" for p in r["corpus"][:6])
    if len(r["corpus"]) > 6:
        corpus += f" and {len(r['corpus']) - 6} more"
    unk = f", characters seen < {d['min_freq']} times -> {d['unknown']!r}" if d["unknown"] else ""
    w(f"Corpus {corpus}: {d['characters']:,} characters, vocabulary {d['vocabulary']:,}{unk}; "
      f"batches train/val/test {d['batches']['train']}/{d['batches']['val']}/"
      f"{d['batches']['test']}.  Model: {c['num_layers']} x {c['hidden_dim']} "
      f"{c['cell'].upper()}, {c['parameters']:,} parameters, seq_length {c['seq_length']}, "
      f"batch {c['batch_size']}, RMSprop {c['learning_rate']:g}, dropout {c['dropout']:g}, "
      f"seed {c['seed']}, mode {c['mode']}.")
    pub = r.get("published")
    if pub:
        w(f"Published ({PUBLISHED_SOURCE}): {pub['characters']:,} characters, "
          f"{pub['vocabulary']} distinct, default model {pub['parameters']:,} parameters "
          "(ours has one bias per gate instead of Torch's two).")
    w("")
    w("| wall clock | iteration | epoch | train loss (last 20) | val loss | val perplexity |")
    w("|---:|---:|---:|---:|---:|---:|")
    for p in r["curve"]:
        tl = "" if p["train_loss_recent"] is None else f"{p['train_loss_recent']:.3f}"
        w(f"| {p['wall_s']:.0f} s | {p['iteration']} | {p['epoch']:.2f} | {tl} | "
          f"{p['val_loss']:.3f} | {math.exp(min(p['val_loss'], 700)):.2f} |")
    cps = r["chars_per_second"]
    w(f"\nln V = {math.log(d['vocabulary']):.3f} (uniform predictions).  First iteration after "
      f"{r['first_iteration_s']:.1f} s (loading + compilation); then "
      f"{'-' if cps is None else f'{cps:,.0f}'} characters/s; stopped ({r['stop_reason']}) at "
      f"iteration {r['iterations']}, epoch {r['epochs']:.2f}; total {r['total_s']:.0f} s.  "
      f"Python {e['python']}, {e['cpus']} CPUs, OPENBLAS_NUM_THREADS="
      f"{e['openblas_num_threads'] or 'unset'}.\n")
    w(f"Sample (temperature {r.get('temperature', 0.8)}, prime {r['sample_prime']!r}):\n")
    w("```")
    w(r["sample"])
    w("```")
    return "\n".join(out) + "\n"


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    logging.getLogger("pytensor").setLevel(logging.ERROR)
    import warnings

    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    results = run(args)
    results["temperature"] = args.temperature
    sys.stdout.write(markdown(results))
    if args.json:
        text = json.dumps(results, indent=1, ensure_ascii=False)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
