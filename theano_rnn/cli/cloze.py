"""The cloze ("fill in the blank") task on the command line: ``train-cloze`` and ``cloze``.

``theano-rnn train-cloze [--corpus PATH]``
    Train a (deep) bidirectional :class:`~theano_rnn.models.bidir.ClozeModel` to
    predict a missing word from the words on both sides.  With no
    ``--corpus`` it trains on the embedded English text (Python's pydoc
    topics), so it works offline; ``--corpus`` takes a reddit ``.csv`` (the
    ``--column`` of each row) or a plain text such as tiny Shakespeare.
    Ends by printing the test split's accuracy, top-5 accuracy, mean
    log-likelihood of the missing word and perplexity, and a few example
    predictions.
``theano-rnn cloze CKPT "the cat sat on the ___ ."``
    The most probable words for the blank, one ``word<TAB>probability`` per line.

Conventions (those of :mod:`theano_rnn.cli.word`): errors are one line
``theano-rnn: error: ...`` on stderr; exit status 2 for command-line usage
errors, 1 for everything else, 130 after Ctrl-C (a checkpoint is saved first;
continue with ``--init-from``).  :func:`add_commands` registers the commands on
any ``argparse`` sub-parser collection, :func:`run` executes parsed arguments
and :func:`main` is a standalone entry point (``python -m theano_rnn.cli.cloze``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from theano_rnn import __version__, io, optim
from theano_rnn.cells import cell_names
from theano_rnn.data import seq as seqdata
from theano_rnn.cli.util import StopFlag, add_common_options, command_parser
from theano_rnn.errors import CLIError
from theano_rnn.cli.util import check_mode as _check_mode
from theano_rnn.cli.util import check_stack_memory, claim_output
from theano_rnn.cli.util import int_at_least, run_handler, seed_type
from theano_rnn.cli.util import standalone_main
from theano_rnn.cli.recording import RunRecorder, add_record_option, cloze_evaluations, run_options
from theano_rnn.cli.util import positive_float as _positive_float
from theano_rnn.errors import DataError
from theano_rnn.errors import CheckpointError
from theano_rnn.errors import TrainingError

__all__ = ["COMMANDS", "TRAIN_DEFAULTS", "DEFAULT_LEARNING_RATES", "add_commands", "run", "main",
           "build_parser"]

PROG = "theano-rnn"
COMMANDS = ("train-cloze", "cloze")
OPTIMIZERS = optim.choices("stack")  # "rmsprop" = rmsprop_graves

log = logging.getLogger("theano_rnn.cli.cloze")

TRAIN_DEFAULTS = {
    "column": "body",
    "vocabulary_size": 4000,
    "min_length": 4,
    "max_length": 40,
    "cell": "lstm",
    "embed_dim": 64,
    "hidden_dim": 64,
    "num_layers": 1,
    "directions": 2,
    "optimizer": "adam",
    "batch_size": 32,
    "epochs": 5,
    "seed": 1234,
    "output": "cloze.npz",
    "examples": 5,
}

#: default --learning-rate per optimizer (adadelta has none: Zeiler's rule, the LSTM tutorial's)
DEFAULT_LEARNING_RATES = {"adam": 1e-2, "sgd": 0.5, "adadelta": 1.0, "rmsprop": 1e-4,
                          "rmsprop_tutorial": 1e-3}

MODEL_KEYS = ("cell", "embed_dim", "hidden_dim", "num_layers", "directions", "optimizer")
DATA_KEYS = ("corpus", "column", "vocabulary_size", "min_length", "max_length", "max_sentences")


_POSITIVE = int_at_least(1)


_add_common = add_common_options


TRAIN_DESCRIPTION = """\
Train a bidirectional RNN to fill in a missing word (the cloze task of WildML
part 1: "to predict a missing word in a sequence you want to look at both the
left and the right context").

Sentences come from --corpus (a reddit .csv: the --column of each row; any
other file: plain text such as tiny Shakespeare, speaker lines dropped) or,
without --corpus, from the embedded English text (Python's pydoc topics), so
the command works offline.  Sentences of --min-length to --max-length tokens
(NLTK Punkt + Treebank, lower-cased) are split 80/10/10 into train/valid/test
(seeded); the vocabulary (--vocabulary-size, including <blank> and <unk>)
comes from the training sentences.  Each training sentence gets a fresh
random blank every epoch; valid and test blanks are drawn once.

Defaults: 1-layer bidirectional LSTM, embedding and hidden size 64, Adam with
learning rate 1e-2, batch 32, 5 epochs, seed 1234.  --directions 1 trains the
forward-only baseline of the same size.  The checkpoint (--output, default
cloze.npz) is written atomically after every epoch (and every
--checkpoint-every batches); the best validation model goes to
<name>_best.npz and is the one evaluated on the test split at the end.
--init-from CKPT continues a run exactly (weights, optimizer state, RNG,
position inside the epoch); pass a larger --epochs to train further.  Ctrl-C
saves a checkpoint and exits with status 130 (twice: abort without saving).
A NaN loss stops with status 1 and keeps the last good checkpoint.
"""

CLOZE_DESCRIPTION = """\
Fill in the blank: print the --top-k most probable words for the ___ in a
sentence, one "word<TAB>probability" per line (the model's probabilities;
<blank> and <unk> are never proposed).  The sentence is tokenized like the
training data and must have exactly one blank and at most the checkpoint's
--max-length tokens.
"""


def add_commands(subparsers):
    """Register ``train-cloze`` and ``cloze`` on ``subparsers``.

    Each sub-parser gets ``set_defaults(cloze_command=NAME)``; pass the parsed
    namespace to :func:`run`.
    """
    fmt = argparse.RawDescriptionHelpFormatter
    t = subparsers.add_parser("train-cloze", help="train a bidirectional fill-in-the-blank model",
                              description=TRAIN_DESCRIPTION, formatter_class=fmt)
    t.add_argument("--corpus", default=None, metavar="PATH",
                   help="a reddit .csv or a plain-text file (default: embedded English text)")
    t.add_argument("--column", default=None, metavar="NAME",
                   help="CSV column holding the text (default body)")
    t.add_argument("--vocabulary-size", type=int_at_least(3, "vocabulary size"), default=None,
                   metavar="N",
                   help="words in the vocabulary incl. <blank> and <unk> (default 4000)")
    t.add_argument("--min-length", type=_POSITIVE, default=None, metavar="N",
                   help="drop sentences shorter than N tokens (default 4)")
    t.add_argument("--max-length", type=_POSITIVE, default=None, metavar="N",
                   help="drop sentences longer than N tokens; the cloze command refuses longer "
                        "queries (default 40)")
    t.add_argument("--max-sentences", type=_POSITIVE, default=None, metavar="N",
                   help="use only the corpus's first N sentences (quick runs)")
    t.add_argument("--cell", choices=cell_names(), default=None, help="recurrent cell (default lstm)")
    t.add_argument("--embed-dim", type=_POSITIVE, default=None, metavar="D",
                   help="word embedding size (default 64)")
    t.add_argument("--hidden-dim", type=_POSITIVE, default=None, metavar="H",
                   help="hidden units per direction and layer (default 64)")
    t.add_argument("--num-layers", type=_POSITIVE, default=None, metavar="L",
                   help="stacked (bidirectional) layers (default 1)")
    t.add_argument("--directions", type=int, choices=(1, 2), default=None,
                   help="2: bidirectional (default); 1: forward-only baseline")
    t.add_argument("--optimizer", choices=OPTIMIZERS, type=optim.name_type("stack"), default=None,
                   help="adam (default), sgd, adadelta (the LSTM tutorial's, no learning rate), "
                        "rmsprop = rmsprop_graves (the LSTM tutorial's Graves RMSprop) or "
                        "rmsprop_tutorial (WildML part 4)")
    t.add_argument("--learning-rate", type=_positive_float, default=None, metavar="LR",
                   help="learning rate (default: adam 1e-2, sgd 0.5, rmsprop 1e-4, "
                        "rmsprop_tutorial 1e-3; ignored by adadelta)")
    t.add_argument("--batch-size", type=_POSITIVE, default=None, metavar="B",
                   help="sentences per minibatch (default 32)")
    t.add_argument("--epochs", type=_POSITIVE, default=None, metavar="N",
                   help="epochs to train in all (default 5; with --init-from, the total)")
    t.add_argument("--valid-every", type=_POSITIVE, default=None, metavar="N",
                   help="also validate every N batches (default: after each epoch only)")
    t.add_argument("--checkpoint-every", type=_POSITIVE, default=None, metavar="N",
                   help="also checkpoint every N batches (default: after each epoch only)")
    t.add_argument("--output", "-o", default=None, metavar="PATH",
                   help="checkpoint to write (default cloze.npz, or the --init-from file; "
                        "cloze_2.npz ... if taken)")
    t.add_argument("--overwrite", action="store_true", help="replace another run's --output")
    add_record_option(t)
    t.add_argument("--init-from", default=None, metavar="CKPT",
                   help="continue this checkpoint exactly (model, optimizer, data position)")
    t.add_argument("--nltk-data", default=None, metavar="DIR",
                   help="NLTK data directory holding the Punkt model (default: NLTK's search "
                        "path; without one Punkt is trained on the corpus)")
    t.add_argument("--seed", type=seed_type, default=None, metavar="S",
                   help="seed of the weights, the split, the blanks and the batches (default 1234)")
    t.add_argument("--examples", type=int_at_least(0), default=None, metavar="N",
                   help="example predictions to print at the end (default 5)")
    _add_common(t, corpus=True)
    t.set_defaults(cloze_command="train-cloze")

    c = subparsers.add_parser("cloze", help="fill in the blank (___) of a sentence",
                              description=CLOZE_DESCRIPTION, formatter_class=fmt)
    c.add_argument("checkpoint", metavar="CKPT", help="a checkpoint written by train-cloze")
    c.add_argument("text", metavar="TEXT",
                   help='a sentence with one blank, e.g. "the ___ is red ."')
    c.add_argument("--top-k", type=_POSITIVE, default=10, metavar="K",
                   help="how many candidates to print (default 10)")
    c.add_argument("--marker", default=seqdata.CLOZE_MARKER, metavar="STR",
                   help="the blank marker (default ___; any run of 3+ underscores)")
    _add_common(c)
    c.set_defaults(cloze_command="cloze")
    return subparsers


def build_parser():
    """A parser with only the cloze commands (for :func:`main`)."""
    return command_parser("cloze (fill in the blank) commands of theano-rnn.", add_commands,
                          __version__)


# ------------------------------------------------------------------------- helpers


class _StopFlag(StopFlag):
    """SIGINT: the first Ctrl-C asks the loop to save and stop, the second aborts."""

    message = ("Ctrl-C: stopping after this batch and saving a checkpoint "
               "(Ctrl-C again to abort without saving)")
    logger = log


def _checkpoint_meta(path, flag="--init-from"):
    if not Path(path).is_file():
        raise CLIError(f"{flag} {path}: no such checkpoint")
    meta = io.read_metadata(path)
    md = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    if model.get("class") != "ClozeModel" or md.get("kind") != "cloze":
        raise CLIError(f"{flag} {path} is not a cloze checkpoint written by train-cloze")
    return meta, md, model


def _resolve(args, stored):
    s = {}
    for key, default in TRAIN_DEFAULTS.items():
        flag = getattr(args, key, None)
        s[key] = flag if flag is not None else stored.get(key, default)
    s["corpus"] = args.corpus if args.corpus is not None else stored.get("corpus")
    s["max_sentences"] = (args.max_sentences if args.max_sentences is not None
                          else stored.get("max_sentences"))
    lr = args.learning_rate
    if lr is None:
        lr = stored.get("learning_rate") if stored.get("optimizer") == s["optimizer"] else None
    s["learning_rate"] = lr if lr is not None else DEFAULT_LEARNING_RATES[s["optimizer"]]
    s["valid_every"] = (args.valid_every if args.valid_every is not None
                        else stored.get("valid_every"))
    s["checkpoint_every"] = (args.checkpoint_every if args.checkpoint_every is not None
                             else stored.get("checkpoint_every"))
    return s


def _stored_settings(md, model):
    d = md.get("data", {})
    tr = md.get("train_options", {})
    stored = {k: model.get(k) for k in MODEL_KEYS}
    stored.update({k: d.get(k) for k in DATA_KEYS})
    stored["nltk_data"] = d.get("nltk_data")
    stored.update({k: tr.get(k) for k in ("batch_size", "learning_rate", "seed", "valid_every",
                                          "checkpoint_every", "epochs")})
    stored["seed"] = d.get("data_seed", stored.get("seed"))
    return {k: v for k, v in stored.items() if v is not None or k in ("corpus", "max_sentences")}


def _check_resume_flags(args, stored, path):
    for key in MODEL_KEYS + DATA_KEYS + ("seed",):
        want, have = getattr(args, key, None), stored.get(key)
        same_file = (key == "corpus" and want is not None and have is not None
                     and Path(want).resolve() == Path(have).resolve())
        if want is not None and want != have and not same_file:
            flag = "--" + key.replace("_", "-")
            raise CLIError(f"{flag} {want} does not match the checkpoint {path} ({key}={have}); "
                           "leave it out to continue that run")


def _examples(model, cloze_data, n, seed):
    """``n`` test sentences with their blank, the answer and the top-3 predictions."""
    vocab = cloze_data.vocab
    rng = np.random.RandomState(seed)
    chosen = rng.choice(len(cloze_data.test), size=min(n, len(cloze_data.test)), replace=False)
    lines = []
    for i in sorted(chosen.tolist()):
        ids, p = cloze_data.test[i], int(cloze_data.test_positions[i])
        X, M, pos, y = seqdata.cloze_batch([ids], [p], vocab.blank_index)
        logp = model.log_probs(X, M, pos)[0]
        logp[[vocab.blank_index, vocab.unk_index]] = -np.inf
        top = np.argsort(-logp, kind="stable")[:3]
        words = vocab.decode(ids)
        words[p] = "___"
        guesses = ", ".join(f"{vocab.index_to_token[j]} {math.exp(logp[j]):.3f}" for j in top)
        mark = "ok" if top[0] == y[0] else "  "
        lines.append(f"  [{mark}] {' '.join(words)}\n       answer: {vocab.index_to_token[y[0]]}; "
                     f"model: {guesses}")
    return lines


# ---------------------------------------------------------------------- train-cloze


def _corpus(path):
    """The run record's corpus: the file, or the embedded text the task reads."""
    from theano_rnn.data import corpora
    from theano_rnn.training.record import corpus_entry

    if path is not None:
        return corpus_entry(path)
    return corpus_entry(text=corpora.default_corpus_documents(), name="embedded")


def _train_cloze(args, show_progress, t_start):
    from theano_rnn.tasks.cloze import task as cloze
    from theano_rnn.models.bidir import ClozeModel

    mode = _check_mode(args.mode or "C")
    stored, model_cfg = {}, {}
    if args.init_from is not None:
        _, md, model_cfg = _checkpoint_meta(args.init_from)
        stored = _stored_settings(md, model_cfg)
        _check_resume_flags(args, stored, args.init_from)
    s = _resolve(args, stored)
    if s["min_length"] > s["max_length"]:
        raise CLIError(f"--min-length {s['min_length']} is larger than --max-length "
                       f"{s['max_length']}", status=2)
    if s["corpus"] is not None and not Path(s["corpus"]).is_file():
        raise CLIError(f"--corpus {s['corpus']}: no such file")
    nltk_data = args.nltk_data if args.nltk_data is not None else stored.get("nltk_data")
    if nltk_data is not None and not Path(nltk_data).is_dir():
        raise CLIError(f"--nltk-data {nltk_data}: no such directory")
    output = claim_output(args, TRAIN_DEFAULTS["output"],
                          companions=lambda p: [cloze.best_checkpoint_path(p)])
    best = cloze.best_checkpoint_path(output)
    recorder = RunRecorder(args, ["train-cloze"])
    if args.init_from is not None and Path(args.init_from).resolve() == Path(best).resolve():
        raise CLIError(f"--init-from {args.init_from} is the best-checkpoint file of --output "
                       f"{output}; pass another --output", status=2)

    cloze_data = cloze.load_cloze_data(
        s["corpus"], column=s["column"], vocabulary_size=s["vocabulary_size"],
        min_length=s["min_length"], max_length=s["max_length"], nltk_data=nltk_data,
        seed=s["seed"], max_sentences=s["max_sentences"],
    )
    log.info("Corpus: %s; %s", s["corpus"] or cloze.DEFAULT_CORPUS_NAME, cloze_data.summary())
    options = cloze.ClozeTrainOptions(
        epochs=s["epochs"], batch_size=s["batch_size"], learning_rate=s["learning_rate"],
        seed=s["seed"], valid_every=s["valid_every"], checkpoint_every=s["checkpoint_every"],
    )
    recorded = {"corpus": s["corpus"], "mode": mode, "theano_rnn_version": __version__,
                "init_from": args.init_from, "output": str(output)}
    if args.init_from is not None:
        trainer = cloze.ClozeTrainer.resume(args.init_from, cloze_data, mode=mode,
                                            checkpoint_path=output, best_path=best,
                                            options=options)
        if trainer.epoch >= options.epochs:
            raise CLIError(f"{args.init_from} has already trained {trainer.epoch} epochs; pass "
                           "a larger --epochs to continue")
        old_best = Path(cloze.best_checkpoint_path(args.init_from))
        if old_best.is_file() and old_best.resolve() != Path(best).resolve():
            # the best model so far comes along (the trainer's record of it does)
            shutil.copyfile(old_best, best)
        log.info("Continuing %r from %s at epoch %d, batch %d (step %d)", trainer.model,
                 args.init_from, trainer.epoch, trainer.batch, trainer.step)
    else:
        check_stack_memory(s, len(cloze_data.vocab))
        model = ClozeModel(len(cloze_data.vocab), cell=s["cell"], embed_dim=s["embed_dim"],
                           hidden_dim=s["hidden_dim"], num_layers=s["num_layers"],
                           directions=s["directions"], optimizer=s["optimizer"], seed=s["seed"],
                           mode=mode)
        trainer = cloze.ClozeTrainer(model, cloze_data, options, checkpoint_path=output,
                                     best_path=best)
    trainer.metadata = recorded
    model = trainer.model
    log.info("Model %r: %s parameters, %s (learning rate %g), %d batches of %d per epoch",
             model, f"{model.num_params():,}", model.optimizer, options.learning_rate,
             trainer.num_batches, options.batch_size)

    bar = None
    if show_progress:
        from theano_rnn.training.progress import TrainProgress

        bar = TrainProgress(options.epochs * trainer.num_batches,
                            initial=trainer.epoch * trainer.num_batches + trainer.batch,
                            label="train-cloze", unit="batches")
    stop = _StopFlag()

    def progress(done, total, loss):
        stop.training = True
        if bar is not None:
            bar(done, total, loss)

    with bar or contextlib.nullcontext(), stop:
        stop.training = True
        result = trainer.run(progress=progress, should_stop=lambda: stop.requested)
        stop.training = False
    if result.reason == "nan":
        kept = (f"the last good checkpoint {output} is kept" if Path(output).exists()
                else "nothing was saved")
        raise CLIError(f"training stopped at step {result.step + 1}: the loss or the parameters "
                       f"became NaN/inf; {kept}; try a lower --learning-rate")
    if result.reason == "stopped":
        print(f"{PROG}: interrupted at epoch {trainer.epoch + 1}, batch {trainer.batch}; "
              f"checkpoint saved to {result.checkpoint} (continue with --init-from "
              f"{result.checkpoint})", file=sys.stderr)
        return 130

    recorder.save(output, run_options(args), settings=s, corpus=_corpus(s["corpus"]),
                  seeds={"seed": s["seed"]}, mode=mode, evaluations=cloze_evaluations(trainer),
                  iterations=trainer.step, model=model)
    # test the best-by-validation model
    which = "final"
    if Path(best).is_file():
        arrays = io.load_arrays(best)
        model.set_params({n: arrays[n] for n in model.param_names})
        which = f"best validation (epoch {trainer.best_valid['epoch']:.2f})"
    test = trainer.evaluate("test")
    base, top_word = cloze.unigram_baseline(cloze_data)
    log.info("Trained to epoch %d (%d steps) in %.1f s", trainer.epoch, trainer.step,
             time.monotonic() - t_start)
    print(f"checkpoint: {output} (best: {best})")
    print(f"test split ({test.n} sentences, {which} model, "
          f"{'bidirectional' if model.directions == 2 else 'forward-only'} "
          f"{model.num_layers} x {model.hidden_dim} {model.cell.name.upper()}):")
    print(f"  accuracy              {test.accuracy:.4f}")
    print(f"  top-5 accuracy        {test.top5:.4f}")
    print(f"  mean log-likelihood   {test.mean_log_likelihood:.4f} nats")
    print(f"  perplexity            {test.perplexity:.1f}")
    print(f"  unigram baseline      accuracy {base.accuracy:.4f} (always {top_word!r}), top-5 "
          f"{base.top5:.4f}, perplexity {base.perplexity:.1f}")
    n_ex = s["examples"]
    if n_ex:
        print("examples:")
        for line in _examples(model, cloze_data, n_ex, s["seed"]):
            print(line)
    sys.stdout.flush()
    return 0


# ---------------------------------------------------------------------------- cloze


def _cloze(args, show_progress, t_start):
    from theano_rnn.tasks.cloze import task as cloze

    mode = _check_mode(args.mode or "C")
    path = args.checkpoint
    if not Path(path).is_file():
        raise CLIError(f"no such checkpoint: {path}")
    ck = cloze.load_cloze_checkpoint(path, mode=mode)
    md = ck.metadata if isinstance(ck.metadata, dict) else {}
    max_length = (md.get("data") or {}).get("max_length")
    tokens, _ = seqdata.tokenize_cloze(args.text, args.marker)
    if max_length is not None and len(tokens) > int(max_length):
        raise CLIError(f"the sentence has {len(tokens)} tokens but {path} was trained on sentences "
                       f"of at most {max_length} tokens (--max-length); shorten it")
    unknown = ck.vocab.unknown_tokens(t for t in tokens if t != seqdata.BLANK)
    if unknown and len(unknown) == len(tokens) - 1:
        log.warning("no word of the sentence is in the model's vocabulary")
    for word, p in cloze.predict_blank(ck.model, ck.vocab, args.text, top_k=args.top_k,
                                       marker=args.marker, max_length=max_length):
        print(f"{word}\t{p:.4g}")
    sys.stdout.flush()
    return 0


# ------------------------------------------------------------------------------ run

_HANDLERS = {"train-cloze": _train_cloze, "cloze": _cloze}


def run(args, show_progress=None) -> int:
    """Execute parsed ``train-cloze`` / ``cloze`` arguments; returns the exit status.

    0 ok, 1 error, 2 usage error, 130 interrupted; errors are one line on
    stderr.  Logging is not configured here (see :func:`main`).
    """
    t_start = time.monotonic()
    command = getattr(args, "cloze_command", None) or getattr(args, "command", None)
    if command not in _HANDLERS:
        print(f"{PROG}: error: unknown cloze command {command!r}", file=sys.stderr)
        return 2
    return run_handler(_HANDLERS[command], args, show_progress, t_start,
                       (DataError, CheckpointError, TrainingError, ValueError, OSError))


def main(argv=None) -> int:
    """``python -m theano_rnn.cli.cloze COMMAND ...``: the cloze commands on their own."""
    return standalone_main(build_parser(), argv, COMMANDS, run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
