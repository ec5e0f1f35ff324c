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

import argparse
import logging
import math
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from theano_rnn import __version__, io, optim
from theano_rnn.cli import char as charcli
from theano_rnn.cli import classify as classifycli
from theano_rnn.cli import cloze as clozecli
from theano_rnn.data import corpora
from theano_rnn.data import words as data
from theano_rnn.data.words import MASK_TOKEN, UNKNOWN_TOKEN
from theano_rnn.errors import DataError
from theano_rnn.models.gradcheck import gradient_check
from theano_rnn.errors import CheckpointError
from theano_rnn.tasks.wordlm.minibatch import train_minibatches
from theano_rnn.models.word import GRAPHS, MODEL_CLASSES, TRUNCATIONS
from theano_rnn.tasks.sampling import generate_sentences_part2, generate_sentences_part4
from theano_rnn.errors import SamplingError
from theano_rnn.training.tutorial import ProgressBar, train_part4, train_with_sgd
from theano_rnn.errors import TrainingError, NonFiniteLossError
from theano_rnn.cli.util import LOG_LEVELS
from theano_rnn.errors import CLIError
from theano_rnn.cli.util import Parser as _Parser
from theano_rnn.cli.util import check_mode as _check_mode
from theano_rnn.cli.util import check_cell_memory, check_output, claim_output
from theano_rnn.cli.util import command_env, command_logging, parse_command_line, report_errors
from theano_rnn.cli.util import int_at_least as _int_at_least
from theano_rnn.cli.util import mode_type as _mode
from theano_rnn.cli.util import positive_float as _positive_float
from theano_rnn.cli.util import add_corpus_limit, progress_bar_done
from theano_rnn.cli.util import seed_type as _seed

__all__ = ["main", "build_parser", "ENV_DEFAULTS", "TUTORIAL_DEFAULTS", "EMBEDDED_DEFAULTS"]

PROG = "theano-rnn"
log = logging.getLogger("theano_rnn.cli.word")

SCHEMES = ("part2", "part4")
GATES = ("hard_sigmoid", "sigmoid")
OPTIMIZERS = optim.choices("word")  # "rmsprop" = rmsprop_tutorial

#: option dest -> (environment variable, tutorial script that read it)
ENV_DEFAULTS = {
    "vocabulary_size": ("VOCABULARY_SIZE", "train-theano.py / train.py"),
    "hidden_dim": ("HIDDEN_DIM", "train-theano.py / train.py"),
    "learning_rate": ("LEARNING_RATE", "train-theano.py / train.py"),
    "nepoch": ("NEPOCH", "train-theano.py / train.py"),
    "init_from": ("MODEL_FILE", "train-theano.py"),
    "output": ("MODEL_OUTPUT_FILE", "train.py"),
    "corpus": ("INPUT_DATA_FILE", "train.py"),
    "print_every": ("PRINT_EVERY", "train.py"),
}

#: Defaults when a corpus is given: the tutorial scripts' own.
#: ``vocabulary_size``/``nepoch`` follow the scheme (part 2 = train-theano.py,
#: part 4 = train.py), ``hidden_dim`` the cell, ``learning_rate`` the optimizer.
TUTORIAL_DEFAULTS = {
    "vocabulary_size": {"part2": 8000, "part4": 2000},
    "nepoch": {"part2": 100, "part4": 20},
    "hidden_dim": {"rnn": 80, "gru": 128, "lstm": 128},
    "bptt_truncate": {"rnn": 4, "gru": -1, "lstm": -1},
    "learning_rate": {"sgd": 0.005, "rmsprop": 0.001},
    "evaluate_loss_after": 5,
    "print_every": 25000,
    "max_sentences": None,
}

#: Defaults for the embedded corpus (no --corpus): a demonstration that
#: finishes in about a minute on two CPU cores, compilation included.
EMBEDDED_DEFAULTS = {
    "vocabulary_size": {"part2": 1000, "part4": 1000},
    "nepoch": {"part2": 2, "part4": 2},
    "hidden_dim": {"rnn": 50, "gru": 50, "lstm": 50},
    # Full BPTT: with scan truncation (RNNTheano's 4) only the last 4 outputs
    # of a sentence get any gradient, and a one-minute run learns little.
    "bptt_truncate": {"rnn": -1, "gru": -1, "lstm": -1},
    "learning_rate": {"sgd": 0.01, "rmsprop": 0.005},
    "evaluate_loss_after": 1,
    "print_every": None,  # once per epoch
    "max_sentences": 1000,
}

PART4_LOSS_SENTENCES = 10000  # train.py: loss on x_train[:10000] at every callback
DEFAULT_MIN_LENGTH = {"part2": 7, "part4": 5}  # RNNLM.ipynb senten_min_length; utils.py min_length


# --------------------------------------------------------------------------- types


def _decay(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"RMSprop decay must lie in (0, 1), got {text}")
    return value


def _index_list(text):
    try:
        values = [int(v) for v in str(text).replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative word indices, got {text!r}")
    return values


_VOCAB = _int_at_least(3, "vocabulary size")
_POSITIVE = _int_at_least(1)
_NONNEG = _int_at_least(0)

#: converters for environment values (same checks as the flags)
_ENV_TYPES = {
    "vocabulary_size": _VOCAB,
    "hidden_dim": _POSITIVE,
    "learning_rate": _positive_float,
    "nepoch": _NONNEG,
    "init_from": str,
    "output": str,
    "corpus": str,
    "print_every": _POSITIVE,
}


# -------------------------------------------------------------------------- parser


def _add_common(p):
    p.add_argument("--mode", type=_mode, default="C", metavar="{C,NUMBA,JAX}",
                   help="PyTensor backend: C (Theano's FAST_RUN, default), NUMBA or JAX")
    p.add_argument("--seed", type=_seed, metavar="S", default=None,
                   help="seed of the np.random.RandomState used for the initial weights, "
                        "shuffling and sampling (default: random, recorded in the checkpoint)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="only warnings and errors on stderr, no progress bar")
    p.add_argument("--log-level", choices=LOG_LEVELS, type=str.upper, default=None,
                   help="logging level on stderr (default INFO; WARNING with --quiet)")


def _add_model(p, defaults):
    p.add_argument("--cell", choices=tuple(MODEL_CLASSES), default=defaults.get("cell"),
                   help="recurrent cell: rnn (part 2's RNNTheano, default), gru "
                        "(part 4's GRUTheano, 2 layers) or lstm (LSTMTheano, 1 layer)")
    p.add_argument("--hidden-dim", type=_POSITIVE, metavar="H", default=defaults.get("hidden_dim"),
                   help=defaults.get("hidden_help", "hidden size H"))
    p.add_argument("--num-layers", type=_POSITIVE, metavar="L", default=None,
                   help="stacked layers (default: the class's, RNN 1, GRU 2, LSTM 1)")
    p.add_argument("--gate-activation", choices=GATES, default=None,
                   help="gate nonlinearity of the GRU/LSTM (default: GRU hard_sigmoid as in "
                        "Theano, LSTM sigmoid)")
    p.add_argument("--bptt-truncate", type=int, metavar="K", default=defaults.get("bptt_truncate"),
                   help=defaults.get("bptt_help",
                                     "truncate_gradient of the scan; -1 = full BPTT "
                                     "(default: RNN 4, GRU/LSTM -1 with --corpus; -1 on the embedded corpus)"))
    p.add_argument("--truncation", choices=TRUNCATIONS, default=None,
                   help="scan: Theano's truncate_gradient semantics (default, as the "
                        "tutorial's RNNTheano); per_output: the NumPy tutorial's bptt")


def _add_corpus(p, train):
    add_corpus_limit(p).add_argument("--corpus", default=None, metavar="PATH",
                   help="CSV with a 'body' column (the tutorials' reddit file) or a text file "
                        "(paragraphs separated by blank lines)"
                        + ("; default: $INPUT_DATA_FILE, else the embedded corpus "
                           "(Python's own language reference, no download)" if train else
                           "; rebuilds the vocabulary of a checkpoint that stores none"))
    p.add_argument("--scheme", choices=SCHEMES, default=None,
                   help="tutorial whose vocabulary"
                        + (", training loop" if train else "")
                        + " and sampling policy to use: part2 (RNNLM.ipynb; default for rnn) "
                          "or part4 (gru-lstm utils.py; default for gru/lstm)")
    p.add_argument("--vocabulary-size", type=_VOCAB, metavar="C", default=None,
                   help=("vocabulary size C (default $VOCABULARY_SIZE, else part2 8000 / part4 "
                         "2000 with --corpus, 1000 on the embedded corpus); a small corpus "
                         "may give fewer words" if train else
                         "vocabulary size to rebuild (default: the checkpoint's word_dim)"))
    p.add_argument("--min-sent-characters", type=_NONNEG, metavar="N", default=None,
                   help="part4 only: drop sentences shorter than this (default 0)")
    p.add_argument("--nltk-data", default=None, metavar="DIR",
                   help="nltk_data directory holding the Punkt model (default: NLTK's search "
                        "path and $NLTK_DATA; without one Punkt is trained on the corpus)")


def build_parser(epilog="Run 'theano-rnn COMMAND --help' for the options of a command."):
    """The argument parser of ``theano-rnn``: every command name (see :func:`add_commands`)."""
    parser = _Parser(
        prog=PROG,
        description="The WildML Theano RNN/GRU/LSTM language-model tutorials on PyTensor.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_commands(parser.add_subparsers(dest="command", metavar="COMMAND"))
    return parser


def add_commands(sub):
    """Register every command on ``sub`` (what ``ArgumentParser.add_subparsers()`` returned)."""
    # ---- train
    t = sub.add_parser(
        "train",
        help="train a word-level language model, save it, print generated sentences",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Train a word-level language model and print sentences it generates.\n\n"
            "Without --corpus (and without $INPUT_DATA_FILE) it trains on an embedded corpus,\n"
            f"{corpora.DEFAULT_CORPUS_NAME},\n"
            "with small demonstration defaults that finish in about a minute on two CPU cores\n"
            "(compilation included): vocabulary 1000, hidden 50, full BPTT (bptt_truncate -1),\n"
            "the first 1000 sentences, 2 epochs, loss evaluated every epoch, learning rate\n"
            "0.01 (SGD) / 0.005 (RMSprop).\n\n"
            "With --corpus the defaults are the tutorial scripts':\n"
            "  rnn (scheme part2, train-theano.py): vocabulary 8000, hidden 80, bptt_truncate 4,\n"
            "      SGD lr 0.005, 100 epochs, examples in order, loss every 5 epochs, lr halved when it rises\n"
            "  gru/lstm (scheme part4, train.py): vocabulary 2000, hidden 128, RMSprop lr 0.001\n"
            "      decay 0.9, 20 epochs, examples reshuffled each epoch, loss every 25000 examples\n\n"
            "Environment variables give defaults (flags win): VOCABULARY_SIZE, HIDDEN_DIM,\n"
            "LEARNING_RATE, NEPOCH, MODEL_FILE (= --init-from), MODEL_OUTPUT_FILE (= --output),\n"
            "INPUT_DATA_FILE (= --corpus), PRINT_EVERY (= --print-every).\n\n"
            "The checkpoint (--output) is written atomically at every loss evaluation and at the\n"
            "end, with the vocabulary, the options and the loss history."
        ),
    )
    # the other tasks are rewritten to their commands before parsing (cli/main.py)
    t.add_argument("--task", choices=("wordlm",), default="wordlm", metavar="TASK",
                   help="wordlm (default: the options below), charlm, cloze or classify; "
                        "'theano-rnn train --task TASK --help' lists the options of TASK")
    _add_corpus(t, train=True)
    _add_model(t, {"hidden_help": "hidden size H (default $HIDDEN_DIM, else rnn 80 / gru, lstm "
                                  "128 with --corpus, 50 on the embedded corpus)"})
    t.add_argument("--optimizer", choices=OPTIMIZERS, type=optim.name_type("word"), default=None,
                   help="sgd (part 2) or rmsprop = rmsprop_tutorial (part 4); default sgd for rnn "
                        "unless --decay is given, rmsprop for gru/lstm")
    t.add_argument("--learning-rate", type=_positive_float, metavar="LR", default=None,
                   help="default $LEARNING_RATE, else 0.005 (sgd) / 0.001 (rmsprop) with "
                        "--corpus, 0.01 / 0.005 on the embedded corpus")
    t.add_argument("--decay", type=_decay, metavar="D", default=None,
                   help="RMSprop decay (default 0.9); implies --optimizer rmsprop")
    t.add_argument("--nepoch", type=_NONNEG, metavar="N", default=None,
                   help="epochs (default $NEPOCH, else part2 100 / part4 20 with --corpus, "
                        "2 on the embedded corpus)")
    t.add_argument("--evaluate-loss-after", type=_POSITIVE, metavar="N", default=None,
                   help="part2 loop: evaluate the loss (and checkpoint) every N epochs "
                        "(default 5; 1 on the embedded corpus)")
    t.add_argument("--print-every", type=_POSITIVE, metavar="N", default=None,
                   help="part4 loop: evaluate the loss (and checkpoint) every N examples "
                        "(default $PRINT_EVERY, else 25000; once per epoch on the embedded corpus)")
    t.add_argument("--max-sentences", type=_POSITIVE, metavar="N", default=None,
                   help="train on the first N sentences only (the vocabulary still comes from "
                        "the whole corpus; default all, 1000 on the embedded corpus)")
    t.add_argument("--output", "-o", default=None, metavar="PATH",
                   help="checkpoint to write (default $MODEL_OUTPUT_FILE, else "
                        "<cell>-theano-<H>-<C>-<timestamp>.npz in the current directory)")
    t.add_argument("--overwrite", action="store_true", help="replace another run's --output")
    t.add_argument("--init-from", default=None, metavar="CKPT",
                   help="continue training this checkpoint (default $MODEL_FILE); its sizes, "
                        "vocabulary and optimizer state are used")
    t.add_argument("--graph", choices=GRAPHS, default=None,
                   help="faithful: the tutorials' graphs (default); fast: the same numbers from "
                        "hoisted, merged, sparse-update graphs (several times faster)")
    t.add_argument("--batch-size", type=_POSITIVE, metavar="B", default=1,
                   help="sentences per step (default 1: the tutorials' loops); B > 1 trains "
                        "left-padded minibatches with masks on the fast graph, shuffled every "
                        "epoch, one step on the batch's mean gradient, a checkpoint every "
                        "--print-every examples (part4) or --evaluate-loss-after epochs (part2)")
    t.add_argument("--samples", type=_NONNEG, metavar="N", default=10,
                   help="sentences to print after training (default 10)")
    t.add_argument("--min-length", type=_NONNEG, metavar="N", default=None,
                   help="shortest sentence printed (default: part2 7 words, part4 5 tokens)")
    _add_common(t)

    # ---- generate
    g = sub.add_parser(
        "generate", aliases=["sample"],
        help="print sentences generated by a checkpoint",
        description="Print sentences generated by a checkpoint, one per line, with the "
                    "sampling policy of its tutorial (part2: resample UNKNOWN_TOKEN, at least "
                    "7 words; part4: reject sentences with UNKNOWN_TOKEN, at least 5 tokens).",
    )
    g.add_argument("checkpoint", metavar="CKPT", help="a .npz checkpoint")
    g.add_argument("-n", "--num-sentences", type=_NONNEG, metavar="N", default=10,
                   help="how many sentences (default 10)")
    g.add_argument("--min-length", type=_NONNEG, metavar="N", default=None,
                   help="shortest sentence (default: part2 7 words, part4 5 tokens)")
    g.add_argument("--max-tries", type=_POSITIVE, metavar="N", default=1000,
                   help="attempts per sentence before giving up (default 1000)")
    _add_corpus(g, train=False)
    _add_common(g)

    # ---- gradcheck
    c = sub.add_parser(
        "gradcheck",
        help="numerical gradient check of the back-propagation (exit 1 on failure)",
        description="The tutorials' gradient check: a model of vocabulary 100 and hidden "
                    "size 10 (np.random.RandomState(--seed)), the sentence x=[0,1,2,3], "
                    "y=[1,2,3,4], central differences with h=0.001, relative error "
                    "threshold 0.01.  Prints one row per parameter; exit status 1 if any "
                    "entry fails.",
    )
    c.add_argument("--vocabulary-size", type=_VOCAB, metavar="C", default=100,
                   help="word_dim of the checked model (default 100)")
    _add_model(c, {"cell": "rnn", "hidden_dim": 10, "bptt_truncate": -1,
                   "hidden_help": "hidden size H (default 10)",
                   "bptt_help": "bptt_truncate of the checked model (default -1; a truncating "
                                "model is checked through an untruncated copy)"})
    c.add_argument("--x", type=_index_list, default=[0, 1, 2, 3], metavar="I,J,...",
                   help="input word indices (default 0,1,2,3)")
    c.add_argument("--y", type=_index_list, default=[1, 2, 3, 4], metavar="I,J,...",
                   help="target word indices (default 1,2,3,4)")
    c.add_argument("--delta", type=_positive_float, metavar="H", default=0.001,
                   help="finite-difference step h (default 0.001)")
    c.add_argument("--error-threshold", type=_positive_float, metavar="E", default=0.01,
                   help="largest relative error that passes (default 0.01)")
    _add_common(c)
    c.set_defaults(seed=10)
    charcli.add_commands(sub)
    clozecli.add_commands(sub)
    classifycli.add_commands(sub)
    return sub


# ------------------------------------------------------------------------- helpers


def _env_value(dest, environ):
    name, _ = ENV_DEFAULTS[dest]
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return _ENV_TYPES[dest](raw.strip())
    except argparse.ArgumentTypeError as exc:
        raise CLIError(f"environment variable {name}={raw!r}: {exc}", status=2) from None


def _resolve(args, dest, environ, default, sources):
    """Flag, else environment variable, else ``default``; records where it came from."""
    value = getattr(args, dest)
    if value is not None:
        sources[dest] = "flag"
        return value
    if dest in ENV_DEFAULTS:
        value = _env_value(dest, environ)
        if value is not None:
            sources[dest] = "env:" + ENV_DEFAULTS[dest][0]
            return value
    sources[dest] = "default"
    return default


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


def _default_scheme(cell, index_to_word=None):
    if index_to_word:
        return "part4" if index_to_word[0] == MASK_TOKEN else "part2"
    return "part2" if cell == "rnn" else "part4"


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


def _mean_loss(model, X, Y, what):
    loss = float(model.calculate_loss(X, Y))
    if not math.isfinite(loss):
        raise NonFiniteLossError(f"non-finite training loss {loss} ({what})", loss=loss)
    return loss


# --------------------------------------------------------------------------- train


def _resolve_train(args, environ):
    """All train settings, resolved flag > environment > default; validated."""
    s = {}
    sources = {}
    s["corpus"] = _resolve(args, "corpus", environ, None, sources)
    s["init_from"] = _resolve(args, "init_from", environ, None, sources)
    embedded = s["corpus"] is None
    table = EMBEDDED_DEFAULTS if embedded else TUTORIAL_DEFAULTS
    s["embedded_corpus"] = embedded
    s["mode"] = _check_mode(args.mode)

    ckpt = None
    if s["init_from"] is not None:
        overrides = {}
        for key in ("bptt_truncate", "truncation", "gate_activation", "optimizer", "graph"):
            if getattr(args, key, None) is not None:
                overrides[key] = getattr(args, key)
        if args.decay is not None and args.optimizer is None:
            overrides["optimizer"] = "rmsprop"
        if args.graph is None and args.batch_size > 1:
            overrides["graph"] = "fast"
        ckpt = io.load(s["init_from"], mode=s["mode"], cell=args.cell, **overrides)
        m = ckpt.model
        for flag, dest, have in (("--hidden-dim", "hidden_dim", m.hidden_dim),
                                 ("--num-layers", "num_layers", m.num_layers)):
            want = getattr(args, dest)
            if want is not None and want != have:
                raise CLIError(
                    f"{flag} {want} does not match the checkpoint {s['init_from']} "
                    f"({dest}={have}); leave it out to continue that model"
                )
        s["cell"] = m.cell.name
        s["hidden_dim"] = m.hidden_dim
        s["num_layers"] = m.num_layers
        s["optimizer"] = m.optimizer
        s["bptt_truncate"] = m.bptt_truncate
        s["truncation"] = m.truncation
        s["gate_activation"] = m.gate_activation
        previous = ckpt.metadata.get("options", {}) if isinstance(ckpt.metadata, dict) else {}
        s["scheme"] = args.scheme or previous.get("scheme") or _default_scheme(
            s["cell"], ckpt.index_to_word
        )
        sources.update({k: "checkpoint" for k in ("cell", "hidden_dim", "num_layers")})
    else:
        s["cell"] = args.cell or "rnn"
        s["scheme"] = args.scheme or _default_scheme(s["cell"])
        s["optimizer"] = args.optimizer or (
            "rmsprop" if (s["cell"] != "rnn" or args.decay is not None) else "sgd"
        )
        row = s["cell"] if s["cell"] in table["hidden_dim"] else "rnn"  # unlisted: the RNN's
        s["hidden_dim"] = _resolve(args, "hidden_dim", environ, table["hidden_dim"][row],
                                   sources)
        s["num_layers"] = args.num_layers
        s["bptt_truncate"] = (
            args.bptt_truncate if args.bptt_truncate is not None
            else table["bptt_truncate"][row]
        )
        s["truncation"] = args.truncation or "scan"
        s["gate_activation"] = args.gate_activation
    if args.decay is not None and s["optimizer"] != "rmsprop":
        raise CLIError("--decay applies to RMSprop; it conflicts with --optimizer sgd")
    s["decay"] = (args.decay if args.decay is not None else 0.9) if s["optimizer"] == "rmsprop" else None

    scheme = s["scheme"]
    if scheme == "part2":
        if args.print_every is not None:
            raise CLIError("--print-every belongs to the part4 loop; with --scheme part2 use "
                           "--evaluate-loss-after (epochs)", status=2)
        if args.min_sent_characters is not None:
            raise CLIError("--min-sent-characters filters the part4 pipeline; it has no effect "
                           "with --scheme part2", status=2)
    elif args.evaluate_loss_after is not None:
        raise CLIError("--evaluate-loss-after belongs to the part2 loop; with --scheme part4 use "
                       "--print-every (examples)", status=2)

    vocab_default = ckpt.model.word_dim if ckpt is not None else table["vocabulary_size"][scheme]
    s["vocabulary_size"] = _resolve(args, "vocabulary_size", environ, vocab_default, sources)
    s["learning_rate"] = _resolve(args, "learning_rate", environ,
                                  table["learning_rate"][s["optimizer"]], sources)
    s["nepoch"] = _resolve(args, "nepoch", environ, table["nepoch"][scheme], sources)
    s["evaluate_loss_after"] = (
        (args.evaluate_loss_after or table["evaluate_loss_after"]) if scheme == "part2" else None
    )
    s["print_every"] = (
        _resolve(args, "print_every", environ, table["print_every"], sources)
        if scheme == "part4" else None
    )
    s["max_sentences"] = args.max_sentences or table["max_sentences"]
    s["min_sent_characters"] = (args.min_sent_characters or 0) if scheme == "part4" else None
    s["output"] = _resolve(args, "output", environ, None, sources)
    if s["output"] is not None:
        check_output(s["output"])
    s["nltk_data"] = _check_nltk_data(args.nltk_data)
    s["samples"] = args.samples
    s["min_length"] = args.min_length
    s["batch_size"] = args.batch_size
    s["graph"] = args.graph or ("fast" if args.batch_size > 1 else (
        ckpt.model.graph if ckpt is not None else "faithful"))
    s["seed"] = args.seed
    s["sources"] = sources
    return s, ckpt


def _check_nltk_data(path):
    if path is not None and not Path(path).is_dir():
        raise CLIError(f"--nltk-data {path}: no such directory")
    return path


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

    previous = dict(ckpt.metadata) if ckpt is not None and isinstance(ckpt.metadata, dict) else {}
    seen_before = int(previous.get("num_examples_seen", 0) or 0)
    history = [list(p) for p in previous.get("losses", [])]
    options = {k: v for k, v in s.items() if k != "sources"}
    state = {"learning_rate": s["learning_rate"], "epoch": 0}

    def save(num_examples_seen, loss, final=False):
        metadata = {
            "options": options,
            "option_sources": s["sources"],
            "corpus": corpora.DEFAULT_CORPUS_NAME if s["corpus"] is None else str(s["corpus"]),
            "num_train_sentences": len(X),
            "losses": history,
            "num_examples_seen": seen_before + num_examples_seen,
            "learning_rate": state["learning_rate"],
            "epoch": state["epoch"],
            "loss": loss,
            "final": final,
            "resumed_from": s["init_from"],
            "saved_at": datetime.now().isoformat(timespec="seconds"),
            "theano_rnn_version": __version__,
        }
        io.save(output, model, index_to_word=index_to_word, metadata=metadata)
        log.info("Saved %s (loss %.6f after %d examples)", output, loss,
                 seen_before + num_examples_seen)

    total = s["nepoch"] * len(X)
    bar = ProgressBar(total, label="train") if show_progress and total else None

    def on_eval(m, info):  # part 2: after each loss evaluation
        state["learning_rate"], state["epoch"] = info.learning_rate, info.epoch
        if not (history and history[-1][0] == seen_before + info.num_examples_seen):
            history.append([seen_before + info.num_examples_seen, info.loss])
        if bar is not None:
            bar.update(info.num_examples_seen, loss=info.loss)
        if info.num_examples_seen > 0:  # the untrained model is not worth a file
            save(info.num_examples_seen, info.loss)

    eval_n = min(len(X), PART4_LOSS_SENTENCES)

    def on_examples(m, num_examples_seen):  # part 4: every print_every examples
        loss = _mean_loss(m, X[:eval_n], Y[:eval_n], f"after {num_examples_seen} examples")
        state["epoch"] = num_examples_seen // len(X)
        history.append([seen_before + num_examples_seen, loss])
        log.info("Loss after num_examples_seen=%d: %f", num_examples_seen, loss)
        if bar is not None:
            bar.update(num_examples_seen, loss=loss)
        save(num_examples_seen, loss)

    with progress_bar_done(bar):
        if s["batch_size"] > 1:
            every = (s["print_every"] or len(X)) if s["scheme"] == "part4" else (
                s["evaluate_loss_after"] * len(X))
            stats = train_minibatches(
                model, X, Y, batch_size=s["batch_size"], learning_rate=s["learning_rate"],
                nepoch=s["nepoch"], decay=s["decay"], rng=rng, sort_window=20,
                callback=on_examples, callback_every=every, progress=bar,
            )
            log.info("Trained %d tokens in %.1f s: %.0f tokens/s (%.0f%% padding)",
                     stats.tokens, stats.seconds, stats.tokens_per_s,
                     100 * stats.padding_fraction)
        elif s["scheme"] == "part2":
            train_with_sgd(
                model, X, Y, learning_rate=s["learning_rate"], nepoch=s["nepoch"],
                evaluate_loss_after=s["evaluate_loss_after"], callback=on_eval,
                progress=bar, decay=s["decay"],
            )
        else:
            train_part4(
                model, X, Y, learning_rate=s["learning_rate"], nepoch=s["nepoch"],
                decay=s["decay"] if s["decay"] is not None else 0.9,
                callback_every=s["print_every"] or len(X), callback=on_examples, rng=rng,
                progress=bar,
            )
    state["epoch"] = s["nepoch"]
    if history and history[-1][0] == seen_before + total and total:
        loss = history[-1][1]  # the last callback evaluated the final model already
    else:
        loss = _mean_loss(model, X[:eval_n] if s["scheme"] == "part4" else X,
                          Y[:eval_n] if s["scheme"] == "part4" else Y, "after training")
        history.append([seen_before + total, loss])
    log.info("Final loss %.6f after %d examples (%.1f s)", loss, seen_before + total,
             time.perf_counter() - t0)
    save(total, loss, final=True)

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
