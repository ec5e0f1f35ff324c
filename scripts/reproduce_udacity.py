#!/usr/bin/env python
"""The Udacity ``6_lstm.ipynb`` LSTM on a text8-style corpus: validation perplexity over steps.

The notebook's model and loop (:class:`theano_rnn.models.udacity.UdacityLSTM`,
:func:`theano_rnn.models.udacity.train_notebook`): 64 nodes, batch 64, 10
unrollings, SGD lr 10 x0.1 every 5000 steps, global-norm clip 1.25, 7001
steps, a summary every 100 steps.  The corpus is Tiny Shakespeare under
text8's character rules (:mod:`theano_rnn.data.text8`; about 1.06 M characters
instead of text8's 100 M), first 1000 characters as validation -- so the
curve can only be compared in shape with the published one.

Output: a markdown table (step, mean loss, minibatch and validation
perplexity, the published validation perplexity where the notebook printed
one) and the wall time; ``--json PATH`` writes the numbers.  Example:
``python scripts/reproduce_udacity.py --steps 7001 --seed 1``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from _common import shared_data_dir

from theano_rnn import reference
from theano_rnn.data.text8 import VALID_SIZE, BatchGenerator, load_text8_style
from theano_rnn.models.udacity import INITS, UdacityLSTM, train_notebook

#: the notebook's printed validation perplexities (text8), step -> perplexity
PUBLISHED_FIGURE = reference.get("udacity.valid_perplexity")
PUBLISHED = PUBLISHED_FIGURE.value


def run(steps=7001, seed=1, init="listing", summary_frequency=100, corpus=None, samples=True,
        progress=None):
    """Train; returns ``{"history": [...], "wall_s": ..., ...}``."""
    corpus = load_text8_style(corpus or shared_data_dir() / "tinyshakespeare" / "input.txt")
    model = UdacityLSTM(rng=seed, init=init)
    train_batches = BatchGenerator(corpus.train_text, model.batch_size, model.num_unrollings)
    valid_batches = BatchGenerator(corpus.valid_text, 1, 1)
    start = time.perf_counter()
    history = train_notebook(model, train_batches, valid_batches, VALID_SIZE, num_steps=steps,
                             summary_frequency=summary_frequency, rng=seed + 1,
                             num_samples=5 if samples else 0, callback=progress)
    return {"steps": steps, "seed": seed, "init": init, "corpus": corpus.source,
            "corpus_chars": len(corpus.text), "wall_s": time.perf_counter() - start,
            "history": history}


def report(result):
    lines = [f"Udacity 6_lstm, {result['steps']} steps, seed {result['seed']}, init "
             f"{result['init']}, corpus {result['corpus']} ({result['corpus_chars']:,} chars "
             f"after the text8 filter); wall {result['wall_s']:.0f} s",
             f"Published column: {PUBLISHED_FIGURE.measures} ({PUBLISHED_FIGURE.citation}); "
             f"compare the {PUBLISHED_FIGURE.compare} only", "",
             "| step | mean loss | minibatch ppl | valid ppl | published valid ppl (text8) |",
             "|---:|---:|---:|---:|---:|"]
    for h in result["history"]:
        pub = PUBLISHED.get(h["step"])
        lines.append(f"| {h['step']} | {h['mean_loss']:.3f} | {h['minibatch_perplexity']:.2f} | "
                     f"{h['valid_perplexity']:.2f} | {'' if pub is None else f'{pub:.2f}'} |")
    last = [h for h in result["history"] if "samples" in h]
    if last:
        lines += ["", f"Samples at step {last[-1]['step']}:", ""]
        lines += ["    " + s for s in last[-1]["samples"]]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=7001)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--init", choices=INITS, default="listing")
    ap.add_argument("--summary-frequency", type=int, default=100)
    ap.add_argument("--corpus", default=None, help="text file (default: Tiny Shakespeare)")
    ap.add_argument("--json", default=None, help="also write the numbers here ('-' = stdout)")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.summary_frequency < 1:
        ap.error("--steps and --summary-frequency must be positive")

    def progress(h):
        print(f"step {h['step']}: valid ppl {h['valid_perplexity']:.2f}", file=sys.stderr,
              flush=True)

    result = run(args.steps, args.seed, args.init, args.summary_frequency, args.corpus,
                 progress=progress)
    print(report(result))
    if args.json:
        text = json.dumps(result, indent=1)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
