"""Options of the word-level commands: defaults, argument types, the parser, train settings.

The parser of the whole ``theano-rnn`` program is built here
(:func:`build_parser`; the char, cloze and classify commands register
their own sub-parsers), and :func:`resolve_train` turns a ``train``
command line plus the tutorial scripts' environment variables into the
run's settings (flag > environment variable > default).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from theano_rnn import __version__, io, optim
from theano_rnn.cli import char as charcli
from theano_rnn.cli import classify as classifycli
from theano_rnn.cli import cloze as clozecli
from theano_rnn.data import corpora
from theano_rnn.data.words import MASK_TOKEN
from theano_rnn.tasks.wordlm.session import check_word_checkpoint
from theano_rnn.models.word import GRAPHS, MODEL_CLASSES, TRUNCATIONS
from theano_rnn.cli.recording import add_record_option
from theano_rnn.cli.util import LOG_LEVELS
from theano_rnn.errors import CLIError
from theano_rnn.cli.util import Parser as _Parser
from theano_rnn.cli.util import check_mode as _check_mode
from theano_rnn.cli.util import check_output
from theano_rnn.cli.util import int_at_least as _int_at_least
from theano_rnn.cli.util import mode_type as _mode
from theano_rnn.cli.util import positive_float as _positive_float
from theano_rnn.cli.util import add_corpus_limit
from theano_rnn.cli.util import seed_type as _seed

__all__ = [
    "PROG", "ENV_DEFAULTS", "TUTORIAL_DEFAULTS", "EMBEDDED_DEFAULTS", "DEFAULT_MIN_LENGTH",
    "build_parser", "add_commands", "env_value", "resolve", "default_scheme", "resolve_train",
    "check_nltk_data",
]

PROG = "theano-rnn"

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
    add_record_option(t)
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


# ------------------------------------------------------------ resolving train options


def env_value(dest, environ):
    name, _ = ENV_DEFAULTS[dest]
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return _ENV_TYPES[dest](raw.strip())
    except argparse.ArgumentTypeError as exc:
        raise CLIError(f"environment variable {name}={raw!r}: {exc}", status=2) from None


def resolve(args, dest, environ, default, sources):
    """Flag, else environment variable, else ``default``; records where it came from."""
    value = getattr(args, dest)
    if value is not None:
        sources[dest] = "flag"
        return value
    if dest in ENV_DEFAULTS:
        value = env_value(dest, environ)
        if value is not None:
            sources[dest] = "env:" + ENV_DEFAULTS[dest][0]
            return value
    sources[dest] = "default"
    return default


def default_scheme(cell, index_to_word=None):
    if index_to_word:
        return "part4" if index_to_word[0] == MASK_TOKEN else "part2"
    return "part2" if cell == "rnn" else "part4"


def resolve_train(args, environ):
    """All train settings, resolved flag > environment > default; validated."""
    s = {}
    sources = {}
    s["corpus"] = resolve(args, "corpus", environ, None, sources)
    s["init_from"] = resolve(args, "init_from", environ, None, sources)
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
        check_word_checkpoint(s["init_from"])
        ckpt = io.load(s["init_from"], mode=s["mode"], cell=args.cell, **overrides)
        m = ckpt.model
        if not isinstance(m, tuple(MODEL_CLASSES.values())):
            raise CLIError(f"{s['init_from']} holds a {type(m).__name__} model, not a word-level "
                           "language model of 'theano-rnn train'")
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
        s["scheme"] = args.scheme or previous.get("scheme") or default_scheme(
            s["cell"], ckpt.index_to_word
        )
        sources.update({k: "checkpoint" for k in ("cell", "hidden_dim", "num_layers")})
    else:
        s["cell"] = args.cell or "rnn"
        s["scheme"] = args.scheme or default_scheme(s["cell"])
        s["optimizer"] = args.optimizer or (
            "rmsprop" if (s["cell"] != "rnn" or args.decay is not None) else "sgd"
        )
        row = s["cell"] if s["cell"] in table["hidden_dim"] else "rnn"  # unlisted: the RNN's
        s["hidden_dim"] = resolve(args, "hidden_dim", environ, table["hidden_dim"][row],
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
    s["vocabulary_size"] = resolve(args, "vocabulary_size", environ, vocab_default, sources)
    s["learning_rate"] = resolve(args, "learning_rate", environ,
                                  table["learning_rate"][s["optimizer"]], sources)
    s["nepoch"] = resolve(args, "nepoch", environ, table["nepoch"][scheme], sources)
    s["evaluate_loss_after"] = (
        (args.evaluate_loss_after or table["evaluate_loss_after"]) if scheme == "part2" else None
    )
    s["print_every"] = (
        resolve(args, "print_every", environ, table["print_every"], sources)
        if scheme == "part4" else None
    )
    s["max_sentences"] = args.max_sentences or table["max_sentences"]
    s["min_sent_characters"] = (args.min_sent_characters or 0) if scheme == "part4" else None
    s["output"] = resolve(args, "output", environ, None, sources)
    if s["output"] is not None:
        check_output(s["output"])
    s["nltk_data"] = check_nltk_data(args.nltk_data)
    s["samples"] = args.samples
    s["min_length"] = args.min_length
    s["batch_size"] = args.batch_size
    s["graph"] = args.graph or ("fast" if args.batch_size > 1 else (
        ckpt.model.graph if ckpt is not None else "faithful"))
    s["seed"] = args.seed
    s["sources"] = sources
    return s, ckpt


def check_nltk_data(path):
    if path is not None and not Path(path).is_dir():
        raise CLIError(f"--nltk-data {path}: no such directory")
    return path
