"""The ``theano-rnn`` command line: ``train``, ``generate`` and ``gradcheck``.

``theano-rnn train``
    Word-level language model (RNN of WildML part 2, GRU/LSTM of part 4).
    With no arguments it trains a small RNN on a corpus embedded in Python
    itself (:mod:`theano_rnn.data.corpora`) in about a minute and prints sentences
    it generates.  With ``--corpus`` every default is the tutorials'.
``theano-rnn generate CKPT`` (alias ``sample``)
    Sentences from a checkpoint.
``theano-rnn gradcheck``
    The tutorials' numerical gradient check; exit status 1 when it fails.

Environment variables of the tutorial scripts are read here, and only here,
as *defaults* (a flag always wins): ``VOCABULARY_SIZE``, ``HIDDEN_DIM``,
``LEARNING_RATE``, ``NEPOCH``, ``MODEL_FILE`` (part 2's ``train-theano.py``:
the model to continue training) and ``MODEL_OUTPUT_FILE``,
``INPUT_DATA_FILE``, ``PRINT_EVERY`` (part 4's ``train.py``).

Errors in the input (missing or empty corpus, a CSV without a ``body``
column, a bad checkpoint, a diverging loss, a bad option) end the program
with one line ``theano-rnn: error: ...`` on stderr and a non-zero status
(2 for command-line usage errors, 1 for everything else), and write nothing.
Logging is configured only inside :func:`main` (a handler on the root logger
for the duration of the call).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from datetime import datetime

import numpy as np

from theano_rnn import io
from theano_rnn.cli import char as charcli
from theano_rnn.cli import classify as classifycli
from theano_rnn.cli import cloze as clozecli
from theano_rnn.data import corpora
from theano_rnn.data import words as data
from theano_rnn.data.words import UNKNOWN_TOKEN
from theano_rnn.errors import DataError
from theano_rnn.models.gradcheck import gradient_check
from theano_rnn.errors import CheckpointError
from theano_rnn.tasks.wordlm.session import WordRun
from theano_rnn.models.word import MODEL_CLASSES
from theano_rnn.tasks.sampling import generate_sentences_part2, generate_sentences_part4
from theano_rnn.errors import SamplingError
from theano_rnn.training.progress import TrainProgress
from theano_rnn.training.trainer import set_rng_state
from theano_rnn.errors import TrainingError
from theano_rnn.errors import CLIError
from theano_rnn.cli.util import check_mode as _check_mode
from theano_rnn.cli.util import check_cell_memory, claim_output
from theano_rnn.cli.util import command_env, command_logging, parse_command_line, report_errors
from theano_rnn.cli.util import StopFlag
from theano_rnn.runtime.allocator import tune_allocator
from theano_rnn.cli.recording import RunRecorder, run_options, word_evaluations
from theano_rnn.training.record import corpus_entry

from theano_rnn.cli.word_options import (
    DEFAULT_MIN_LENGTH, EMBEDDED_DEFAULTS, ENV_DEFAULTS, PROG, TUTORIAL_DEFAULTS, build_parser,
)
from theano_rnn.cli.word_options import check_nltk_data as _check_nltk_data
from theano_rnn.cli.word_options import default_scheme as _default_scheme
from theano_rnn.cli.word_options import resolve_train as _resolve_train

log = logging.getLogger("theano_rnn.cli.word")  # by name: also when run as __main__

__all__ = ["main", "build_parser", "ENV_DEFAULTS", "TUTORIAL_DEFAULTS", "EMBEDDED_DEFAULTS"]

# ------------------------------------------------------------------------- helpers






def _rng(seed):
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    return seed, np.random.RandomState(seed)


def _blas_note(mode):
    """Log (INFO) which BLAS the C backend links; ``ensure_blas`` already warned if none."""
    if mode != "C":
        return
    from theano_rnn.runtime.blas import blas_status

    log.info("BLAS: %s", blas_status().message)


def _sentence_tokenizer_for_embedded(documents, nltk_data):
    """Punkt when installed, else trained on the embedded corpus (logged at INFO, not WARNING)."""
    if data.find_punkt_model("english", nltk_data) is not None:
        return None  # let the data pipeline load it
    log.info("No NLTK Punkt model found: training Punkt on the embedded corpus itself")
    return data.train_sentence_tokenizer("\n\n".join(d.lower() for d in documents))


def _read_corpus(path, scheme, vocabulary_size, min_sent_characters, nltk_data):
    """Documents -> :class:`~theano_rnn.data.words.Corpus` with the scheme's pipeline."""
    if path is None:
        documents = corpora.default_corpus_documents()
        source = "the embedded corpus"
        tokenizer = _sentence_tokenizer_for_embedded(documents, nltk_data)
        log.info("Corpus: %s (%d paragraphs)", corpora.DEFAULT_CORPUS_NAME, len(documents))
    else:
        documents = data.read_corpus(path)
        source = str(path)
        tokenizer = None
        if not documents:
            raise DataError(f"{source} is empty: no text to train on")
        log.info("Corpus: %s (%d documents)", path, len(documents))
    if scheme == "part2":
        return data.prepare_part2(
            documents, vocabulary_size, sentence_tokenizer=tokenizer, nltk_data=nltk_data,
            source=source,
        )
    return data.prepare_part4(
        documents, vocabulary_size, min_sent_characters or 0, sentence_tokenizer=tokenizer,
        nltk_data=nltk_data, source=source,
    )




def _sentences(model, scheme, n, index_to_word, rng, min_length, max_tries=1000):
    w2i = {w: i for i, w in enumerate(index_to_word)}
    if min_length is None:
        min_length = DEFAULT_MIN_LENGTH[scheme]
    if scheme == "part2":
        return generate_sentences_part2(
            model, n, index_to_word, w2i, rng, min_length=min_length, max_tries=max_tries
        )
    return generate_sentences_part4(
        model, n, index_to_word, w2i, rng=rng, min_length=min_length, max_tries=max_tries
    )


# --------------------------------------------------------------------------- train






def _default_output(cell, hidden_dim, word_dim):
    ts = datetime.now().strftime("%Y-%m-%d-%H-%M-%S")  # train-theano.py's timestamp
    return f"{cell}-theano-{hidden_dim}-{word_dim}-{ts}.npz"


def _encode_with(corpus, index_to_word, path):
    """Re-encode a corpus with a checkpoint's vocabulary."""
    w2i = {w: i for i, w in enumerate(index_to_word)}
    if UNKNOWN_TOKEN not in w2i:
        raise CLIError(f"the vocabulary stored in {path} has no {UNKNOWN_TOKEN}: it is not a "
                       "word-level vocabulary of the tutorials")
    return data.encode(corpus.sentences, w2i)


def _cmd_train(args, environ, show_progress):
    s, ckpt = _resolve_train(args, environ)
    previous = dict(ckpt.metadata) if ckpt is not None and isinstance(ckpt.metadata, dict) else {}
    stored_rng = previous.get("rng_state")
    if stored_rng is not None:
        # exact resume: the shuffle generator continues where the checkpoint left it
        stored_seed = (previous.get("options") or {}).get("seed")
        if s["seed"] is not None and s["seed"] != stored_seed:
            log.warning("--seed %d ignored: continuing the random generator stored in %s "
                        "(seed %s)", s["seed"], s["init_from"], stored_seed)
        seed, rng = _rng(stored_seed)
        set_rng_state(rng, stored_rng)
    else:
        seed, rng = _rng(s["seed"])
    s["seed"] = seed
    corpus = _read_corpus(s["corpus"], s["scheme"], s["vocabulary_size"],
                          s["min_sent_characters"], s["nltk_data"])
    if ckpt is not None:
        model = ckpt.model
        if ckpt.index_to_word is not None:
            index_to_word = ckpt.index_to_word
            X, Y = _encode_with(corpus, index_to_word, s["init_from"])
        else:
            index_to_word = corpus.index_to_word
            if len(index_to_word) != model.word_dim:
                raise CLIError(
                    f"{s['init_from']} stores no vocabulary and the rebuilt one has "
                    f"{len(index_to_word)} words, but the model has word_dim={model.word_dim}: "
                    "pass the corpus and --vocabulary-size it was trained with"
                )
            X, Y = corpus.X, corpus.Y
        log.info("Continuing %r from %s", model, s["init_from"])
    else:
        index_to_word = corpus.index_to_word
        X, Y = corpus.X, corpus.Y
    if s["max_sentences"] is not None:
        X, Y = X[: s["max_sentences"]], Y[: s["max_sentences"]]
    output = claim_output(args, _default_output(s["cell"], s["hidden_dim"], len(index_to_word)),
                          output=s["output"], init_from=s["init_from"])
    s["output"] = str(output)
    recorder = RunRecorder(args, ["train"])

    if ckpt is None:
        check_cell_memory(s["cell"], len(index_to_word), s["hidden_dim"], s["num_layers"] or 1)
        cls = MODEL_CLASSES[s["cell"]]
        kwargs = dict(gate_activation=s["gate_activation"], truncation=s["truncation"],
                      optimizer=s["optimizer"], rng=rng, mode=s["mode"], graph=s["graph"])
        if s["num_layers"] is not None:
            kwargs["num_layers"] = s["num_layers"]
        model = cls(len(index_to_word), s["hidden_dim"], s["bptt_truncate"], **kwargs)
        s["num_layers"] = model.num_layers
        s["gate_activation"] = model.gate_activation
    log.info(
        "Model %r (%s, %s), %d training sentences, %d words; seed %d",
        model, s["optimizer"], s["scheme"], len(X), int(sum(len(y) for y in Y)), seed,
    )
    _blas_note(s["mode"])
    t0 = time.perf_counter()
    log.info("Compiling the model (about half a minute the first time; cached afterwards)...")
    if s["batch_size"] > 1:
        model.batch_loss, model.batch_step  # noqa: B018 -- compile now
    else:
        model.ce_error, model.sgd_step  # noqa: B018 -- compile now, not inside the first step
    log.info("Compiled in %.1f s", time.perf_counter() - t0)

    bar = (TrainProgress(s["nepoch"] * len(X), label="train", unit="examples")
           if show_progress and len(X) * s["nepoch"] else None)
    stop = StopFlag()
    run = WordRun(s, model, X, Y, index_to_word, output, rng, previous,
                  should_stop=lambda: stop.requested, show=bar)
    with bar or contextlib.nullcontext(), stop:
        stop.training = True  # from now on Ctrl-C means "save and stop"
        stopped_at = run.run()
    if stopped_at is not None:
        print(f"{PROG}: interrupted after {stopped_at} examples; checkpoint saved to "
              f"{output} (continue with --init-from {output})", file=sys.stderr)
        return 130
    loss = run.finish()
    corpus = (corpus_entry(s["corpus"]) if s["corpus"] is not None else corpus_entry(
        text=corpora.default_corpus_documents(), name=corpora.DEFAULT_CORPUS_NAME))
    env = {k: s[k] for k, src in s["sources"].items() if src.startswith("env:")}
    recorder.save(output, run_options(args, {**env, "seed": seed}), settings=s, corpus=corpus,
                  seeds={"seed": seed},
                  mode=s["mode"], evaluations=word_evaluations(run.history),
                  iterations=run.seen_before + run.total, model=model,
                  extra={"start_iteration": run.seen_before})
    log.info("Final loss %.6f after %d examples (%.1f s)", loss, run.seen_before + run.total,
             time.perf_counter() - t0)

    if s["samples"]:
        try:
            sentences = _sentences(model, s["scheme"], s["samples"], index_to_word, rng,
                                   s["min_length"])
        except SamplingError as exc:
            print(f"{PROG}: warning: no sentences generated: {exc}", file=sys.stderr)
            return 0
        for words in sentences:
            print(" ".join(words))
        sys.stdout.flush()
    return 0


# ------------------------------------------------------------------------ generate


def _cmd_generate(args, environ, show_progress):
    mode = _check_mode(args.mode)
    ckpt = io.load(args.checkpoint, mode=mode)
    model = ckpt.model
    index_to_word = ckpt.index_to_word
    options = ckpt.metadata.get("options", {}) if isinstance(ckpt.metadata, dict) else {}
    if index_to_word is None:
        if args.corpus is None:
            raise CLIError(
                f"{args.checkpoint} stores no vocabulary (the tutorials' layout): pass --corpus "
                "FILE (with --vocabulary-size and --scheme if needed) to rebuild the vocabulary "
                "it was trained with"
            )
        scheme = args.scheme or _default_scheme(model.cell.name)
        size = args.vocabulary_size or model.word_dim
        corpus = _read_corpus(args.corpus, scheme, size, args.min_sent_characters,
                              _check_nltk_data(args.nltk_data))
        index_to_word = corpus.index_to_word
        if len(index_to_word) != model.word_dim:
            raise CLIError(
                f"the vocabulary rebuilt from {args.corpus} has {len(index_to_word)} words but "
                f"{args.checkpoint} has word_dim={model.word_dim}: use the training corpus and "
                "--vocabulary-size"
            )
    else:
        if args.corpus is not None:
            log.warning("%s stores its vocabulary; --corpus is ignored", args.checkpoint)
        scheme = args.scheme or options.get("scheme") or _default_scheme(
            model.cell.name, index_to_word
        )
    seed, rng = _rng(args.seed)
    log.info("Generating %d sentences from %r (%s policy, seed %d)", args.num_sentences, model,
             scheme, seed)
    sentences = _sentences(model, scheme, args.num_sentences, index_to_word, rng,
                           args.min_length, args.max_tries)
    for words in sentences:
        print(" ".join(words))
    sys.stdout.flush()
    return 0


# ----------------------------------------------------------------------- gradcheck


def _cmd_gradcheck(args, environ, show_progress):
    mode = _check_mode(args.mode)
    x = np.asarray(args.x, dtype=np.int32)
    y = np.asarray(args.y, dtype=np.int32)
    if len(x) != len(y):
        raise CLIError(f"--x has {len(x)} indices but --y has {len(y)}", status=2)
    top = int(max(x.max(), y.max()))
    if top >= args.vocabulary_size:
        raise CLIError(f"word index {top} is outside the vocabulary of size "
                       f"{args.vocabulary_size}", status=2)
    kwargs = dict(gate_activation=args.gate_activation, truncation=args.truncation or "scan",
                  rng=np.random.RandomState(args.seed), mode=mode)
    if args.num_layers is not None:
        kwargs["num_layers"] = args.num_layers
    model = MODEL_CLASSES[args.cell](args.vocabulary_size, args.hidden_dim, args.bptt_truncate,
                                     **kwargs)
    log.info("Gradient check of %r on x=%s y=%s (h=%g, threshold %g)", model, x.tolist(), y.tolist(),
             args.delta, args.error_threshold)
    report = gradient_check(model, x, y, h=args.delta, error_threshold=args.error_threshold)
    rows = []
    for name in report.parameters:
        recs = report.for_parameter(name)
        worst = max(recs, key=lambda r: r.relative_error)
        failed = sum(not r.passed for r in recs)
        rows.append((name, str(len(recs)), f"{worst.relative_error:.3e}",
                     str(list(worst.index)), "passed" if not failed else f"FAILED ({failed})"))
    header = ("parameter", "entries", "max relative error", "at index", "result")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    print(report.summary())
    sys.stdout.flush()
    return 0 if report.passed else 1


COMMANDS = {"train": _cmd_train, "generate": _cmd_generate, "sample": _cmd_generate,
            "gradcheck": _cmd_gradcheck}


def _run_with(module):
    """A COMMANDS entry that hands the parsed arguments to ``module.run``."""
    return lambda args, environ, show_progress: module.run(args, show_progress=show_progress)


COMMANDS.update({name: _run_with(module) for module in (charcli, clozecli, classifycli)
                 for name in module.COMMANDS})


# ---------------------------------------------------------------------------- main


def main(argv=None, environ=None):
    """Run ``theano-rnn`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    ``environ`` (default ``os.environ``) supplies the tutorial scripts'
    environment variables as defaults.
    """
    environ = os.environ if environ is None else environ
    args, status = parse_command_line(
        build_parser(), charcli.route_argv(sys.argv[1:] if argv is None else argv),
        ("train", "generate", "gradcheck", *charcli.COMMANDS, *clozecli.COMMANDS,
         *classifycli.COMMANDS))
    if args is None:
        return status

    level = args.log_level or ("WARNING" if args.quiet else "INFO")

    def call():
        # glibc keeps the steps' large buffers for reuse instead of page-faulting
        # them in afresh every step (THEANO_RNN_MALLOC=default: leave it alone)
        tune_allocator()
        # NumPy's OpenBLAS pinned to one thread for the command (unless
        # OPENBLAS_NUM_THREADS/OMP_NUM_THREADS say otherwise): 2-4x faster
        # steps for these small products on a 2-core machine
        with command_logging(level), command_env(None, getattr(args, "max_corpus_bytes", None)):
            show_progress = not args.quiet and getattr(logging, level) <= logging.INFO
            return COMMANDS[args.command](args, environ, show_progress=show_progress)

    return report_errors(call, (DataError, CheckpointError, TrainingError, SamplingError,
                                ValueError, OSError))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
