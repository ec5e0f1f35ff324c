"""``theano-rnn classify``: train and use a sequence classifier (Theano LSTM sentiment tutorial).

``theano-rnn classify train (--poems JSON ... | --data TSV) [options]``
    Train a (bi)directional LSTM with mean pooling and a softmax classifier
    (:mod:`theano_rnn.tasks.classify.task`), with the tutorial's early stopping; print
    the test accuracy, the majority-class baseline and the accuracy per class.
``theano-rnn classify predict CKPT [FILE | --text TEXT] [--top-k 3]``
    Classify texts (one per line; ``label<TAB>text`` lines also give the
    accuracy; ``-`` reads stdin).

This module is self-contained like :mod:`theano_rnn.cli.char`:
:func:`add_commands` registers ``classify`` on an ``argparse`` sub-parser
collection, :func:`run` executes the parsed arguments and returns the exit
status, :func:`main` is a standalone entry point
(``python -m theano_rnn.cli.classify``).  Errors are one line
``theano-rnn: error: ...`` on stderr; exit status 2 for usage errors, 1 for
other errors, 130 after Ctrl-C (a checkpoint is saved first).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

from theano_rnn import __version__, io, optim
from theano_rnn.cells import cell_names
from theano_rnn.data import seq as seqdata
from theano_rnn.cli.util import StopFlag, add_common_options, command_parser
from theano_rnn.errors import CheckpointError, CLIError, DataError
from theano_rnn.cli.util import check_mode as _check_mode, float_in as _float_in
from theano_rnn.cli.util import check_stack_memory, claim_output, run_handler, standalone_main
from theano_rnn.cli.util import int_at_least as _int_at_least, seed_type as _seed
from theano_rnn.cli.recording import RunRecorder, add_record_option, classify_evaluations
from theano_rnn.cli.recording import corpus_entry, run_options

__all__ = ["COMMANDS", "TRAIN_DEFAULTS", "add_commands", "run", "main", "build_parser"]

PROG = "theano-rnn"
COMMANDS = ("classify",)

log = logging.getLogger("theano_rnn.cli.classify")

#: the tutorial's ``train_lstm`` defaults where it has them
TRAIN_DEFAULTS = {
    "cell": "lstm",
    "directions": 2,
    "num_layers": 1,
    "embed_dim": 128,
    "hidden_dim": 128,
    "optimizer": "adadelta",
    "learning_rate": 1e-4,
    "dropout": 0.5,
    "decay_c": 0.0,
    "batch_size": 16,
    "valid_batch_size": 64,
    "max_epochs": 5000,
    "patience": 10,
    "valid_freq": None,
    "max_length": 100,
    "on_long": "truncate",
    "tokens": None,  # char for poems, word for --data
    "min_freq": 1,
    "top_k_poets": 5,
    "authors": None,
    "seed": 1234,
    "eval_train": True,
}
#: options that define the model: with --init-from they must match the checkpoint
MODEL_KEYS = ("cell", "directions", "num_layers", "embed_dim", "hidden_dim", "optimizer",
              "dropout", "decay_c")
#: options that define the data: with --init-from they must match the checkpoint
DATA_KEYS = ("poems", "data", "top_k_poets", "authors", "tokens", "max_length", "on_long",
             "min_freq", "seed", "batch_size")


_POS = _int_at_least(1)

TRAIN_DESCRIPTION = """\
Train a sequence classifier: the Theano LSTM sentiment tutorial's model (embedding,
LSTM under a padding mask, mean pooling over time, dropout, softmax) on a
bidirectional stack (--directions 2, default; 1 = the unidirectional baseline).

Data: --poems chinese-poetry JSON files (the author is the label; the --top-k-poets
most prolific poets except 不詳, or --authors 李白,杜甫 in the files' traditional
characters; characters are the tokens), or --data a UTF-8 file of label<TAB>text
lines (whitespace-separated words are the tokens; --tokens char for characters).
The texts are split 80/10/10 per class (seeded by --seed); the vocabulary comes
from the training split (--min-freq); a text longer than --max-length tokens keeps
its first --max-length tokens (one warning says how many were cut), or is refused
with --on-long error.

Training follows train_lstm: shuffled minibatches of --batch-size, Adadelta
(or sgd / rmsprop with --learning-rate), validation every --valid-freq updates
(default: once per epoch) computing train/valid/test error, early stopping after
more than --patience validations without improvement, at most --max-epochs; the
best parameters are kept and reported.

The checkpoint (--output) is written atomically at every validation: its model is
the best so far (for 'classify predict'); it also holds the current training state,
so --init-from CKPT continues the run exactly.  Ctrl-C saves it and exits with
status 130.  A NaN cost stops training (status 1) and keeps the last good checkpoint.
"""


def add_commands(subparsers):
    """Register ``classify`` (with actions ``train`` and ``predict``) on ``subparsers``."""
    fmt = argparse.RawDescriptionHelpFormatter
    c = subparsers.add_parser(
        "classify", help="train or use a sequence classifier (LSTM sentiment tutorial; "
                         "Tang poem attribution)",
        description="Sequence classification with a (bi)directional LSTM: "
                    "'classify train' and 'classify predict'.",
    )
    # so that a bare 'theano-rnn classify' (no action) still has the common attributes
    c.set_defaults(quiet=False, log_level=None, mode=None, blas_threads=None)
    actions = c.add_subparsers(dest="classify_action", metavar="ACTION")

    t = actions.add_parser("train", help="train a classifier", description=TRAIN_DESCRIPTION,
                           formatter_class=fmt)
    src = t.add_argument_group("data")
    src.add_argument("--poems", nargs="+", action="extend", default=None, metavar="PATH",
                     help="chinese-poetry JSON files (label = author)")
    src.add_argument("--top-k-poets", type=_int_at_least(2, "--top-k-poets"), default=None,
                     metavar="K", help="the K most prolific poets (default 5)")
    src.add_argument("--authors", default=None, metavar="A,B",
                     help="comma-separated poets instead of --top-k-poets (e.g. 李白,杜甫)")
    src.add_argument("--data", default=None, metavar="TSV",
                     help="a UTF-8 file of label<TAB>text lines")
    src.add_argument("--tokens", choices=("char", "word"), default=None,
                     help="tokens: characters (default for --poems) or whitespace-separated "
                          "words (default for --data)")
    src.add_argument("--min-freq", type=_POS, default=None, metavar="N",
                     help="tokens seen fewer than N times in training read as <unk> (default 1)")
    src.add_argument("--max-length", type=_POS, default=None, metavar="T",
                     help="maximum tokens per text (default 100)")
    src.add_argument("--on-long", choices=("truncate", "error"), default=None,
                     help="longer texts: keep the first T tokens with a warning (default), or "
                          "refuse")
    m = t.add_argument_group("model")
    m.add_argument("--cell", choices=cell_names(), default=None,
                   help="recurrent cell (default lstm)")
    m.add_argument("--directions", type=int, choices=(1, 2), default=None,
                   help="2 = bidirectional (default), 1 = forward only")
    m.add_argument("--num-layers", type=_POS, default=None, metavar="L",
                   help="stacked (bi)directional layers (default 1)")
    m.add_argument("--embed-dim", type=_POS, default=None, metavar="D",
                   help="embedding size (default 128, the tutorial's dim_proj)")
    m.add_argument("--hidden-dim", type=_POS, default=None, metavar="H",
                   help="hidden units per direction (default 128)")
    m.add_argument("--dropout", type=_float_in(0, 1, lo_open=False, what="--dropout"),
                   default=None,
                   metavar="P", help="dropout on the pooled vector (default 0.5; 0 disables)")
    m.add_argument("--decay-c", type=_float_in(0, None, lo_open=False, what="--decay-c"),
                   default=None,
                   metavar="C", help="weight decay on the classifier weights (default 0)")
    o = t.add_argument_group("training")
    o.add_argument("--optimizer", choices=optim.choices("stack", ("adadelta", "sgd", "rmsprop_graves")),
                   type=optim.name_type("stack"), default=None, help="adadelta (default), sgd, or "
                   "rmsprop = rmsprop_graves (Graves', as the tutorial)")
    o.add_argument("--learning-rate", type=_float_in(0, None, what="--learning-rate"),
                   default=None, metavar="LR",
                   help="learning rate of sgd and rmsprop (default 1e-4; adadelta has none)")
    o.add_argument("--batch-size", type=_POS, default=None, metavar="B",
                   help="training minibatch size (default 16)")
    o.add_argument("--max-epochs", type=_POS, default=None, metavar="E",
                   help="at most E epochs in all (default 5000)")
    o.add_argument("--patience", type=_int_at_least(1, "--patience"), default=None, metavar="P",
                   help="validations without improvement before stopping (default 10)")
    o.add_argument("--valid-freq", type=_POS, default=None, metavar="N",
                   help="validate every N updates (default: once per epoch)")
    o.add_argument("--no-train-error", dest="eval_train", action="store_false", default=None,
                   help="skip the training error at each validation (faster)")
    o.add_argument("--max-updates", type=_POS, default=None, metavar="N",
                   help="stop after N more updates (a checkpoint is saved; continue with "
                        "--init-from)")
    o.add_argument("--output", "-o", default=None, metavar="PATH",
                   help="checkpoint to write (default clf.npz, or the --init-from file)")
    o.add_argument("--overwrite", action="store_true", help="replace another run's --output")
    add_record_option(o)
    o.add_argument("--init-from", default=None, metavar="CKPT",
                   help="continue this checkpoint's run exactly (data and model options come "
                        "from it)")
    o.add_argument("--json", default=None, metavar="PATH",
                   help="also write the results as JSON to PATH")
    o.add_argument("--seed", type=_seed, default=None, metavar="S",
                   help="seed of the split, the weights, the shuffling and dropout (default 1234)")
    _add_common(t, corpus=True)
    t.set_defaults(classify_action="train")

    p = actions.add_parser(
        "predict", help="classify texts with a trained checkpoint", formatter_class=fmt,
        description="Classify texts with a checkpoint of 'classify train'.  FILE holds one\n"
                    "text per line, or label<TAB>text lines: then the accuracy is printed too\n"
                    "(a label the model does not know is an error).  '-' reads stdin;\n"
                    "--text classifies one text.  Each output line: the input's line number,\n"
                    "the predicted label, the --top-k labels with their probabilities (and\n"
                    "the true label when given).",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint written by 'classify train'")
    p.add_argument("file", nargs="?", default=None, metavar="FILE",
                   help="texts, one per line ('-' = stdin)")
    p.add_argument("--text", default=None, help="classify this one text")
    p.add_argument("--top-k", type=_POS, default=3, metavar="K",
                   help="show the K most probable labels (default 3)")
    p.add_argument("--on-long", choices=("truncate", "error"), default=None,
                   help="texts longer than the checkpoint's maximum length: truncate with a "
                        "warning (default: the checkpoint's rule) or refuse")
    p.add_argument("--batch-size", type=_POS, default=64, metavar="B",
                   help="texts per batch (default 64)")
    _add_common(p)
    p.set_defaults(classify_action="predict")
    return subparsers


def _add_common(p, **kw):
    add_common_options(p, progress_bar=False, **kw)


def build_parser():
    """A parser with only the ``classify`` command (for :func:`main`)."""
    return command_parser("Sequence classification commands of theano-rnn.", add_commands,
                          __version__)


# ------------------------------------------------------------------------ helpers


class _StopFlag(StopFlag):
    """SIGINT during training: the first Ctrl-C asks for a clean stop, the second aborts."""

    message = ("Ctrl-C: stopping after this update and saving a checkpoint "
               "(Ctrl-C again to abort at once; the state of the last update is saved)")
    logger = log
    training_at_start = True  # the trainer saves at any point of the run


# --------------------------------------------------------------------------- train


def _stored_settings(path):
    meta = io.read_metadata(path)
    md = meta.get("metadata") if isinstance(meta, dict) else None
    if not isinstance(md, dict) or md.get("kind") != "classify":
        raise CheckpointError(f"{path} is not a sequence-classifier checkpoint (written by "
                              "'theano-rnn classify train')")
    return dict(md.get("options", {}).get("settings", {}))


def _resolve(args, stored):
    s, sources = {}, {}
    for key, default in TRAIN_DEFAULTS.items():
        flag = getattr(args, key, None)
        if flag is not None:
            s[key], sources[key] = flag, "flag"
        elif key in stored:
            s[key], sources[key] = stored[key], "checkpoint"
        else:
            s[key], sources[key] = default, "default"
    for key in ("poems", "data"):
        s[key] = getattr(args, key) if getattr(args, key) is not None else stored.get(key)
    if s["tokens"] is None:
        s["tokens"] = "char" if s["poems"] else "word"
    return s, sources


def _check_train_args(args, stored):
    if args.poems is not None and args.data is not None:
        raise CLIError("--poems and --data exclude each other", status=2)
    if args.init_from is None and args.poems is None and args.data is None:
        raise CLIError("give the data: --poems JSON [JSON ...] or --data TSV", status=2)
    if args.data is not None and (args.top_k_poets is not None or args.authors is not None):
        raise CLIError("--top-k-poets and --authors go with --poems, not --data", status=2)
    if args.top_k_poets is not None and args.authors is not None:
        raise CLIError("--top-k-poets and --authors exclude each other", status=2)
    if stored:
        for key in MODEL_KEYS + DATA_KEYS:
            want = getattr(args, key, None)
            have = stored.get(key)
            if key in ("poems", "data") and want is not None:
                want = [str(x) for x in want] if isinstance(want, list) else str(want)
            if want is not None and want != have:
                flag = "--" + key.replace("_", "-")
                raise CLIError(f"{flag} {want} does not match the checkpoint {args.init_from} "
                               f"({key}={have}); leave it out to continue that run")


def _load_records(s):
    from theano_rnn.tasks.classify import task as seqclass

    if s["poems"]:
        return seqclass.load_poem_records(s["poems"], top_k=s["top_k_poets"], authors=s["authors"])
    return seqclass.load_tsv_records(s["data"])


def _train(args, show_progress, t_start):
    from theano_rnn.tasks.classify import task as seqclass
    from theano_rnn.models.bidir import SequenceClassifier

    mode = _check_mode(args.mode or "C")
    stored = {}
    if args.init_from is not None:
        if not Path(args.init_from).is_file():
            raise CLIError(f"--init-from {args.init_from}: no such checkpoint")
        stored = _stored_settings(args.init_from)
    _check_train_args(args, stored)
    s, sources = _resolve(args, stored)
    s["poems"] = [str(x) for x in s["poems"]] if s["poems"] else s["poems"]
    s["data"] = str(s["data"]) if s["data"] else s["data"]
    if s["optimizer"] == "adadelta" and args.learning_rate is not None:
        log.warning("--learning-rate has no effect with adadelta (the tutorial's adadelta has "
                    "no learning rate)")
    output = claim_output(args, "clf.npz")
    recorder = RunRecorder(args, ["classify", "train"])

    records = _load_records(s)
    data = seqclass.prepare_data(records, tokens=s["tokens"], max_length=s["max_length"],
                                 on_long=s["on_long"], min_freq=s["min_freq"], seed=s["seed"])
    log.info("Data: %d texts, %d classes (%s); %s; vocabulary %d %s tokens",
             len(records), len(data.labels), ", ".join(data.labels.labels), data.summary(),
             len(data.vocab), s["tokens"])
    options = seqclass.ClassifierTrainOptions(
        batch_size=s["batch_size"], valid_batch_size=s["valid_batch_size"],
        max_epochs=s["max_epochs"], patience=s["patience"], valid_freq=s["valid_freq"],
        learning_rate=s["learning_rate"], eval_train=s["eval_train"], seed=s["seed"],
    )
    recorded = {"settings": s, "sources": sources, "theano_rnn_version": __version__}
    if args.init_from is not None:
        trainer = seqclass.ClassifierTrainer.resume(args.init_from, data, mode=mode,
                                                    options=options, checkpoint_path=output)
        if trainer.estop:
            raise CLIError(f"{args.init_from} has finished training (early stop at update "
                           f"{trainer.uidx}); there is nothing to continue")
        if trainer.finished:
            raise CLIError(f"{args.init_from} has finished training ({trainer.epoch} epochs); "
                           "pass a larger --max-epochs to continue")
        log.info("Continuing %r from %s at update %d (epoch %.2f)", trainer.model,
                 args.init_from, trainer.uidx, trainer.epochs_run)
    else:
        check_stack_memory(s, len(data.vocab), len(data.labels))
        model = SequenceClassifier(
            len(data.vocab), len(data.labels), cell=s["cell"], embed_dim=s["embed_dim"],
            hidden_dim=s["hidden_dim"], num_layers=s["num_layers"], directions=s["directions"],
            dropout=s["dropout"], decay_c=s["decay_c"], optimizer=s["optimizer"],
            seed=s["seed"], mode=mode,
        )
        trainer = seqclass.ClassifierTrainer(model, data, options, checkpoint_path=output)
    trainer.metadata = recorded
    model = trainer.model
    log.info("Model %r: %s parameters, %s; %d updates per epoch, validation every %d",
             model, f"{model.num_params():,}", model.optimizer, trainer.n_batches,
             trainer.valid_freq)

    stop = _StopFlag()
    with stop:
        result = trainer.run(max_updates=args.max_updates, should_stop=lambda: stop.requested)
    if result.reason == "nan":
        kept = (f"the last good checkpoint {output} is kept" if Path(output).is_file()
                else "nothing was saved")
        raise CLIError(f"training stopped at update {result.updates + 1}: the cost is not "
                       f"finite; {kept}; try another --optimizer or a lower --learning-rate")
    if result.reason in ("stopped", "interrupted"):
        print(f"{PROG}: interrupted at update {result.updates}; checkpoint saved to "
              f"{result.checkpoint} (continue with --init-from {result.checkpoint})",
              file=sys.stderr)
        return 130
    recorder.save(result.checkpoint, run_options(args), settings=s, mode=mode, model=model,
                  corpus=corpus_entry(s["poems"] or s["data"]), seeds={"seed": s["seed"]},
                  evaluations=classify_evaluations(trainer), iterations=result.updates)
    if result.reason == "max_updates":
        print(f"stopped after update {result.updates} (epoch {result.epochs_run:.2f}); "
              f"checkpoint {result.checkpoint} (continue with --init-from {result.checkpoint})")
        return 0
    labels = data.labels.labels
    print(f"stopped: {'early stop' if result.reason == 'early_stop' else 'max epochs'} "
          f"after {result.updates} updates ({result.epochs_run:.2f} epochs); "
          f"train time {result.train_time:.1f} s")
    print(f"test accuracy {result.test.accuracy:.4f} ({result.test.n} texts); "
          f"majority baseline {result.majority_baseline:.4f}; "
          f"valid accuracy {result.valid.accuracy:.4f}; train accuracy "
          f"{result.train.accuracy:.4f}")
    for name, acc, c, n in zip(labels, result.test.per_class_accuracy,
                               result.test.per_class_correct, result.test.per_class_total):
        print(f"  {name}\t{'-' if n == 0 else f'{acc:.4f}'}\t({c}/{n})")
    print(f"checkpoint {result.checkpoint}")
    if args.json:
        import json

        payload = result.to_dict(labels)
        payload.update(labels=labels, settings=s, num_params=model.num_params())
        Path(args.json).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return 0


# ------------------------------------------------------------------------- predict


def _read_input(args):
    """``(records, source)``: LabelledText records of FILE / stdin / --text."""
    if args.text is not None:
        if args.file is not None:
            raise CLIError("give FILE or --text, not both", status=2)
        if not args.text.strip():
            raise CLIError("--text is empty")
        return [seqdata.LabelledText(None, args.text.strip(), 1)], "--text"
    if args.file is None:
        raise CLIError("give a FILE of texts ('-' for stdin) or --text TEXT", status=2)
    if args.file == "-":
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise CLIError(f"<stdin> is not valid UTF-8 (byte offset {exc.start})") from None
        return seqdata.parse_labelled_text(raw, "<stdin>", require_labels=False), "<stdin>"
    if not Path(args.file).is_file():
        raise CLIError(f"no such file: {args.file}")
    return seqdata.read_labelled_file(args.file, require_labels=False), args.file


def _predict(args, show_progress, t_start):
    from theano_rnn.tasks.classify import task as seqclass

    mode = _check_mode(args.mode or "C")
    ck = seqclass.load_classifier(args.checkpoint, mode=mode)
    md = ck.metadata
    dopts = md.get("data", {})
    vocab = seqdata.Vocab(ck.index_to_word)
    labelset = seqdata.LabelSet.from_array(ck.extra["labels"])
    records, source = _read_input(args)
    labelled = [r for r in records if r.label is not None]
    if labelled and len(labelled) != len(records):
        first = next(r for r in records if r.label is None)
        raise DataError(f"{source} line {first.line} has no label (no tab) but other lines "
                        "have one: label every line or none")
    y = None
    if labelled:
        y = labelset.encode([r.label for r in records],
                            where=[f"{source} line {r.line}" for r in records])
    on_long = args.on_long or dopts.get("on_long", "truncate")
    tokens, max_length = dopts.get("tokens", "char"), int(dopts.get("max_length", 100))
    if on_long == "error":
        for r in records:
            n = len(seqdata.tokenize_for_classes(r.text, tokens))
            if n > max_length:
                raise DataError(f"{source} line {r.line}: the text has {n} tokens, more than "
                                f"the model's max_length={max_length} (--on-long truncate keeps "
                                "the first ones)")
    probs = seqclass.predict_texts(
        ck.model, vocab, labelset, [r.text for r in records], tokens=tokens,
        max_length=max_length, on_long=on_long, batch_size=args.batch_size,
    )
    k = min(args.top_k, len(labelset))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    names = labelset.labels
    out = []
    for i, r in enumerate(records):
        top = "  ".join(f"{names[j]} {probs[i, j]:.3f}" for j in order[i])
        line = f"{r.line}\t{names[order[i, 0]]}\t{top}"
        if y is not None:
            line += f"\t(true: {r.label})"
        out.append(line)
    print("\n".join(out))
    if y is not None:
        pred = probs.argmax(axis=1)
        correct = int((pred == y).sum())
        print(f"accuracy {correct / len(y):.4f} ({correct}/{len(y)})")
    sys.stdout.flush()
    return 0


# ----------------------------------------------------------------------------- run

_HANDLERS = {"train": _train, "predict": _predict}


def run(args, show_progress=None) -> int:
    """Execute parsed ``classify`` arguments; returns the exit status."""
    t_start = time.monotonic()
    action = getattr(args, "classify_action", None)
    if action not in _HANDLERS:
        print(f"{PROG}: error: missing action: 'classify train' or 'classify predict' "
              f"(see '{PROG} classify --help')", file=sys.stderr)
        return 2
    return run_handler(_HANDLERS[action], args, show_progress, t_start,
                       (DataError, CheckpointError, ValueError, OSError), lambda: 0)


def main(argv=None) -> int:
    """``python -m theano_rnn.cli.classify classify ...``: this command on its own."""
    return standalone_main(build_parser(), argv, COMMANDS, run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
