#!/usr/bin/env python
"""Re-run WildML part 4's ``train.py`` (GRU language model) on the reddit prefix.

Like ``train.py``: the part-4 vocabulary (``<MASK/>``, ``UNKNOWN_TOKEN``, the
top words in ascending frequency; sentences with "http" dropped),
``GRUTheano(C, hidden_dim, bptt_truncate=-1)`` trained with RMSprop on
examples reshuffled every epoch, and every ``--print-every`` examples the loss
on (at most) the first 10000 sentences, a few generated sentences and,
with ``--output``, a checkpoint.  The defaults mirror the published
development run (``theano_rnn.reference``: ``wildml.part4.dev_run.settings``,
its losses ``wildml.part4.dev_run.losses`` and SGD step time
``wildml.part4.dev_run.sgd_step_ms``); pass ``--num-layers 2`` for the
tutorial's two-layer ``GRUTheano`` and bigger values for longer runs.

The time of one ``sgd_step`` is measured on a separate model of the same size
(so training starts from the untouched initial weights): the median of several
calls after a warm-up, with the compile time reported separately.  ``train.py``
timed a single call.

Output: a markdown report on stdout (``--json PATH`` also writes the numbers);
progress and the generated sentences are logged on stderr as they come.
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

from theano_rnn import io, reference
from theano_rnn.data import words as data
from theano_rnn.models.word import GRUTheano, LSTMTheano
from theano_rnn.tasks.sampling import generate_sentences_part4
from theano_rnn.errors import SamplingError
from theano_rnn.training.tutorial import train_part4
from theano_rnn.errors import NonFiniteLossError

log = logging.getLogger("reproduce_wildml_part4")

DEV_RUN = reference.value("wildml.part4.dev_run.settings")
TRAIN_DEFAULTS = reference.value("wildml.part4.train_defaults")
PUBLISHED = {  # plain values (they go into the JSON output)
    "config": (f"{DEV_RUN['num_layers']} layer, vocabulary {DEV_RUN['vocabulary_size']}, "
               f"{DEV_RUN['sentences']} sentences, {DEV_RUN['nepoch']} epochs"),
    "losses": list(reference.value("wildml.part4.dev_run.losses")),
    "sgd_step_ms": reference.value("wildml.part4.dev_run.sgd_step_ms"),
}
PUBLISHED_SOURCE = reference.get("wildml.part4.dev_run.losses").citation
LOSS_SENTENCES = 10000  # train.py: model.calculate_loss(x_train[:10000], y_train[:10000])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(reddit_prefix()),
                   help="reddit CSV (default: the prefix in $THEANO_RNN_SHARED_DATA or "
                        "../shared/data)")
    p.add_argument("--nltk-data", default=str(nltk_data_dir()))
    p.add_argument("--cell", choices=("gru", "lstm"), default="gru")
    p.add_argument("--vocabulary-size", type=int, default=DEV_RUN["vocabulary_size"])
    p.add_argument("--hidden-dim", type=int, default=TRAIN_DEFAULTS["HIDDEN_DIM"])
    p.add_argument("--num-layers", type=int, default=DEV_RUN["num_layers"],
                   help="1 (the published development run; default) or 2 (GRUTheano's default)")
    p.add_argument("--sentences", type=int, default=DEV_RUN["sentences"],
                   help="training sentences (0 = all)")
    p.add_argument("--nepoch", type=int, default=DEV_RUN["nepoch"])
    p.add_argument("--learning-rate", type=float, default=TRAIN_DEFAULTS["LEARNING_RATE"])
    p.add_argument("--decay", type=float, default=reference.value("wildml.part4.rmsprop")["decay"])
    p.add_argument("--print-every", type=int, default=None,
                   help="examples between reports (default: once per epoch)")
    p.add_argument("--samples", type=int, default=3, help="sentences generated at each report")
    p.add_argument("--max-tries", type=int, default=100,
                   help="rejected sentences allowed per generated one (default 100)")
    p.add_argument("--min-sent-characters", type=int, default=0)
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--mode", default="C", help="PyTensor backend")
    p.add_argument("--timing-repeats", type=int, default=5)
    p.add_argument("--output", help="checkpoint written at every report (as train.py did)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-' = stdout)")
    return p.parse_args(argv)


def build(args, C):
    cls = GRUTheano if args.cell == "gru" else LSTMTheano
    return cls(C, hidden_dim=args.hidden_dim, bptt_truncate=-1, num_layers=args.num_layers,
               rng=np.random.RandomState(args.seed), mode=args.mode)


def run(args):
    t_start = time.perf_counter()
    corpus = data.load_part4(args.data, args.vocabulary_size, args.min_sent_characters,
                             nltk_data=args.nltk_data)
    X, Y = corpus.X, corpus.Y
    if args.sentences:
        X, Y = X[: args.sentences], Y[: args.sentences]
    C = corpus.vocabulary_size
    i2w, w2i = corpus.index_to_word, corpus.word_to_index
    results = {
        "published": PUBLISHED, "data_file": args.data,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "data": {"sentences": corpus.num_sentences, "dropped": corpus.dropped,
                 "unique_tokens": corpus.num_unique_tokens, "vocabulary_size": C,
                 "train_sentences": len(X), "train_words": int(sum(len(y) for y in Y))},
        "config": {"cell": args.cell, "hidden_dim": args.hidden_dim,
                   "num_layers": args.num_layers, "nepoch": args.nepoch,
                   "learning_rate": args.learning_rate, "decay": args.decay,
                   "seed": args.seed, "mode": args.mode},
    }
    log.info("data: %s", results["data"])

    # one sgd_step, timed on a twin of the model (train.py: "SGD Step time")
    twin = build(args, C)
    t = time.perf_counter()
    twin.sgd_step  # noqa: B018 -- compile
    compile_s = time.perf_counter() - t
    i = min(10, len(X) - 1)
    twin.sgd_step(X[i], Y[i], args.learning_rate, args.decay)
    times = []
    for _ in range(args.timing_repeats):
        t = time.perf_counter()
        twin.sgd_step(X[i], Y[i], args.learning_rate, args.decay)
        times.append(time.perf_counter() - t)
    results["sgd_step"] = {"ms": 1000 * statistics.median(times), "compile_s": compile_s,
                           "sentence_index": i, "sentence_length": len(X[i]),
                           "repeats": args.timing_repeats}
    log.info("SGD Step time: %.1f milliseconds (median of %d; compile %.1f s)",
             results["sgd_step"]["ms"], args.timing_repeats, compile_s)

    model = build(args, C)
    n_loss = min(len(X), LOSS_SENTENCES)
    rng = np.random.RandomState(args.seed + 1)
    reports = []

    def report(m, num_examples_seen):
        loss = float(m.calculate_loss(X[:n_loss], Y[:n_loss]))
        if not math.isfinite(loss):
            raise NonFiniteLossError(f"non-finite loss {loss} after {num_examples_seen} examples")
        log.info("num_examples_seen=%d loss=%f", num_examples_seen, loss)
        sentences = []
        if num_examples_seen and args.samples:  # train.py sampled after training only
            try:
                sentences = generate_sentences_part4(m, args.samples, i2w, w2i, rng=rng,
                                                     max_tries=args.max_tries)
            except SamplingError as exc:
                log.info("  (no sentence generated: %s)", exc)
        for s in sentences:
            log.info("  %s", " ".join(s))
        reports.append({"num_examples_seen": num_examples_seen, "loss": loss,
                        "sentences": [" ".join(s) for s in sentences],
                        "elapsed_s": time.perf_counter() - t_train})
        if args.output:
            io.save(args.output, m, index_to_word=i2w,
                    metadata={"losses": [[r["num_examples_seen"], r["loss"]] for r in reports],
                              "options": results["config"]})

    t_train = time.perf_counter()
    report(model, 0)
    train_part4(model, X, Y, learning_rate=args.learning_rate, nepoch=args.nepoch,
                decay=args.decay, callback_every=args.print_every or len(X), callback=report,
                rng=np.random.RandomState(args.seed))
    results["reports"] = reports
    results["train_seconds"] = time.perf_counter() - t_train
    results["total_seconds"] = time.perf_counter() - t_start
    return results


def markdown(r):
    d, c, t = r["data"], r["config"], r["sgd_step"]
    out = []
    w = out.append
    w("## WildML part 4 (gru-lstm train.py) reproduced on the reddit prefix\n")
    w(f"Data: `{r['data_file']}`: {d['sentences']:,} sentences after the part-4 filter "
      f"({d['dropped'].get('http', 0)} with http dropped), {d['unique_tokens']:,} unique tokens, "
      f"vocabulary {d['vocabulary_size']:,}; training on the first {d['train_sentences']:,} "
      f"sentences ({d['train_words']:,} words).  Model: {c['cell'].upper()}Theano, "
      f"{c['num_layers']} layer(s), hidden {c['hidden_dim']}, bptt_truncate -1, RMSprop lr "
      f"{c['learning_rate']} decay {c['decay']}, {c['nepoch']} epochs, examples reshuffled "
      f"every epoch (seed {c['seed']}), mode {c['mode']}.  Published: the development run "
      f"({PUBLISHED['config']}; {PUBLISHED_SOURCE}, via `theano_rnn.reference`).\n")
    w("| report | examples seen | published loss | loss here | elapsed |")
    w("|---:|---:|---:|---:|---:|")
    for k, rep in enumerate(r["reports"]):
        pub = PUBLISHED["losses"][k] if k < len(PUBLISHED["losses"]) else None
        w(f"| {k} | {rep['num_examples_seen']} | {'' if pub is None else f'{pub:.3f}'} | "
          f"{rep['loss']:.3f} | {rep['elapsed_s']:.0f} s |")
    w(f"\nln C = {math.log(d['vocabulary_size']):.3f} (the loss of uniform predictions).\n")
    w(f"One sgd_step (sentence {t['sentence_index']}, {t['sentence_length']} words; median of "
      f"{t['repeats']} after a warm-up, OPENBLAS_NUM_THREADS="
      f"{r.get('openblas_num_threads') or 'unset'}): **{t['ms']:.1f} ms** here, "
      f"{PUBLISHED['sgd_step_ms']:.0f} ms published; compile {t['compile_s']:.1f} s.\n")
    last = r["reports"][-1] if r["reports"] else None
    if last and last["sentences"]:
        w("Sentences generated after training (part-4 policy: no UNKNOWN_TOKEN, 5+ tokens):\n")
        for s in last["sentences"]:
            w(f"- {s}")
    w(f"\nTraining {r['train_seconds']:.0f} s, total {r['total_seconds']:.0f} s.")
    return "\n".join(out) + "\n"


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("pytensor").setLevel(logging.ERROR)
    try:
        results = run(args)
    except (data.DataError, io.CheckpointError, NonFiniteLossError, ValueError) as exc:
        print(f"reproduce_wildml_part4: error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(markdown(results))
    write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
