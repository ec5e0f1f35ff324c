"""Options of the char-rnn commands: char-rnn's defaults, argument types and their parsers.

``train-char`` (Karpathy's ``train.lua`` flags and defaults), ``sample-char``
(``sample.lua``) and ``plot``; :func:`add_commands` registers them on the
program's parser.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from theano_rnn import __version__, io, optim
from theano_rnn.cells import cell_names
from theano_rnn.data import corpora
from theano_rnn.cli.recording import add_record_option
from theano_rnn.cli.util import add_common_options, command_parser
from theano_rnn.cli.util import float_in as _float_in
from theano_rnn.cli.util import int_at_least as _int_at_least
from theano_rnn.cli.util import seed_type as _seed

__all__ = [
    "PROG", "COMMANDS", "CHAR_DEFAULTS", "EMBEDDED_CHAR_DEFAULTS", "MODEL_KEYS", "DATA_KEYS",
    "TRAIN_KEYS", "add_commands", "build_parser", "is_char_checkpoint", "route_argv",
]

PROG = "theano-rnn"
COMMANDS = ("train-char", "sample-char", "plot")

#: char-rnn's ``train.lua`` defaults (used with ``--corpus``).
CHAR_DEFAULTS = {
    "cell": "lstm",
    "num_layers": 2,
    "hidden_dim": 128,
    "input": "onehot",
    "dropout": 0.0,
    "gate_activation": "sigmoid",
    "seq_length": 50,
    "batch_size": 50,
    "min_freq": 1,
    "train_frac": 0.95,
    "val_frac": 0.05,
    "optimizer": "rmsprop",
    "learning_rate": 2e-3,
    "decay_rate": 0.95,
    "learning_rate_decay": 0.97,
    "learning_rate_decay_after": 10,
    "grad_clip": 5.0,
    "max_epochs": 50.0,
    "eval_val_every": 1000,
    "seed": 123,
    "time_budget": None,
    "samples": 0,
    "prime": "",
    "temperature": 1.0,
    "encoding": "utf-8",
}

#: Defaults without ``--corpus``: the standard library's source, a model small
#: enough to learn something in the time budget on two CPU cores.
EMBEDDED_CHAR_DEFAULTS = dict(
    CHAR_DEFAULTS,
    hidden_dim=128,
    num_layers=1,
    batch_size=50,
    seq_length=50,
    learning_rate=1e-2,
    eval_val_every=50,
    time_budget=40.0,
    samples=500,
    prime="def ",
    corpus_chars=corpora.PYTHON_SOURCE_MAX_CHARS,
)

#: options that define the model; with --init-from they come from the checkpoint
MODEL_KEYS = ("cell", "num_layers", "hidden_dim", "input", "dropout", "gate_activation",
              "optimizer", "decay_rate", "grad_clip")
#: options that define the data; with --init-from they default to the checkpoint's
DATA_KEYS = ("corpus", "encoding", "min_freq", "batch_size", "seq_length", "train_frac",
             "val_frac", "corpus_chars")
#: CharTrainOptions fields; with --init-from they default to the checkpoint's
TRAIN_KEYS = ("learning_rate", "learning_rate_decay", "learning_rate_decay_after", "max_epochs",
              "eval_val_every", "seed")


# --------------------------------------------------------------------------- types


_POSITIVE = _int_at_least(1)
_NONNEG = _int_at_least(0)
_POS_FLOAT = _float_in(0, None, what="value")
_NONNEG_FLOAT = _float_in(0, None, lo_open=False, what="value")
_FRACTION = _float_in(0, 1, lo_open=False, hi_open=False, what="fraction")


# -------------------------------------------------------------------------- parser


def _add_common(p, mode=True, **kw):
    add_common_options(p, mode=mode, **kw, blas_note="; these small matrix products run several "
                                               "times faster on one thread")


TRAIN_DESCRIPTION = f"""\
Train a character-level language model (Karpathy's char-rnn, train.lua).

With --corpus the defaults are char-rnn's: 2-layer LSTM, hidden 128, one-hot
input, seq_length 50, batch_size 50, RMSprop lr 2e-3 (alpha 0.95), learning
rate x0.97 per epoch after epoch 10, element-wise gradient clip 5, dropout 0,
train/val 0.95/0.05, validation every 1000 iterations, 50 epochs, seed 123.
Text files are read as UTF-8 characters (--encoding to change); .json files
are chinese-poetry poem lists (one poem per blank-line-separated block); several
files are joined with blank lines.  --min-freq N folds characters seen fewer
than N times into one unknown symbol (Chinese corpora).

Without --corpus it trains on Python's own standard-library source (no
download; Karpathy's "Linux source" experiment in Python form): the first
{corpora.PYTHON_SOURCE_MAX_CHARS:,} characters of the stdlib's top-level modules, a 1 x 128 LSTM,
lr 1e-2, validation every 50 iterations, --time-budget 40 (training time), then
a 500-character sample primed with "def " -- under a minute on two CPU cores with
a warm PyTensor cache, about a minute and a half on a fresh machine (compiling).

Checkpoints (--output, default cv/<corpus>_<cell>.npz) are written atomically at
every validation and at the end; the best validation loss is kept beside it as
<name>_best.npz.  --init-from CKPT continues a run exactly (weights, RMSprop
caches, hidden states, batch position, learning rate, loss history); it writes
back to CKPT unless --output is given.  Ctrl-C stops after the current
iteration, saves a checkpoint and exits with status 130 (Ctrl-C twice aborts
without saving).  A NaN loss, or a loss above 3x the first one, stops training
with status 1 and keeps the last good checkpoint.
"""


def add_commands(subparsers):
    """Register ``train-char``, ``sample-char`` and ``plot`` on ``subparsers``.

    ``subparsers`` is what ``ArgumentParser.add_subparsers()`` returned.
    Each sub-parser gets ``set_defaults(char_command=NAME)``; pass the parsed
    namespace to :func:`run`.
    """
    fmt = argparse.RawDescriptionHelpFormatter

    # ---- train-char
    t = subparsers.add_parser(
        "train-char", help="train a character-level model (char-rnn); default: on Python's "
                           "own source in about a minute",
        description=TRAIN_DESCRIPTION, formatter_class=fmt,
    )
    t.add_argument("--corpus", nargs="+", action="extend", default=None, metavar="PATH",
                   help="UTF-8 text file(s), or chinese-poetry .json files (default: the "
                        "Python standard library's source)")
    t.add_argument("--encoding", default=None, metavar="ENC",
                   help="text encoding of the corpus files (default utf-8)")
    t.add_argument("--corpus-chars", type=_POSITIVE, default=None, metavar="N",
                   help="without --corpus: characters of stdlib source to use "
                        f"(default {corpora.PYTHON_SOURCE_MAX_CHARS})")
    t.add_argument("--cell", choices=cell_names(), default=None, help="recurrent cell (default lstm)")
    t.add_argument("--num-layers", type=_POSITIVE, default=None, metavar="L",
                   help="stacked layers (default 2; 1 without --corpus)")
    t.add_argument("--hidden-dim", "--rnn-size", type=_POSITIVE, default=None, metavar="H",
                   help="hidden units per layer, char-rnn's rnn_size (default 128)")
    t.add_argument("--input", choices=("onehot", "embedding"), default=None,
                   help="input layer: onehot (char-rnn, default) or embedding (gru/lstm only)")
    t.add_argument("--dropout", type=_float_in(0, 1, lo_open=False, what="dropout"), default=None,
                   metavar="P", help="dropout between layers and before the output (default 0)")
    t.add_argument("--gate-activation", choices=("sigmoid", "hard_sigmoid"), default=None,
                   help="gate nonlinearity of gru/lstm (default sigmoid)")
    t.add_argument("--seq-length", type=_POSITIVE, default=None, metavar="T",
                   help="characters per sequence, the truncated-BPTT length (default 50)")
    t.add_argument("--batch-size", type=_POSITIVE, default=None, metavar="B",
                   help="parallel sequences per batch (default 50)")
    t.add_argument("--min-freq", type=_POSITIVE, default=None, metavar="N",
                   help="characters seen fewer than N times map to an unknown symbol (default 1)")
    t.add_argument("--train-frac", type=_FRACTION, default=None, metavar="F",
                   help="fraction of the batches for training (default 0.95)")
    t.add_argument("--val-frac", type=_FRACTION, default=None, metavar="F",
                   help="fraction for validation (default 0.05; the rest is the test split)")
    t.add_argument("--optimizer", choices=optim.choices("char"), type=optim.name_type("char"),
                   default=None, help="rmsprop = rmsprop_torch (Torch's, default) or adam")
    t.add_argument("--learning-rate", type=_POS_FLOAT, default=None, metavar="LR",
                   help="learning rate (default 2e-3; 1e-2 without --corpus); with --init-from "
                        "it replaces the checkpoint's current (decayed) rate")
    t.add_argument("--decay-rate", type=_float_in(0, 1, what="decay rate"), default=None,
                   metavar="A", help="RMSprop alpha (default 0.95)")
    t.add_argument("--learning-rate-decay", type=_float_in(0, 1, hi_open=False,
                                                          what="learning rate decay"),
                   default=None, metavar="D",
                   help="multiply the learning rate by D after each epoch (default 0.97)")
    t.add_argument("--learning-rate-decay-after", type=_NONNEG, default=None, metavar="E",
                   help="start decaying after epoch E (default 10)")
    t.add_argument("--grad-clip", type=_NONNEG_FLOAT, default=None, metavar="C",
                   help="clip each gradient entry to [-C, C] (default 5; 0 = off)")
    t.add_argument("--max-epochs", type=_POS_FLOAT, default=None, metavar="E",
                   help="epochs to train in all (default 50; fractions allowed)")
    t.add_argument("--max-iterations", type=_POSITIVE, default=None, metavar="N",
                   help="stop after N more iterations (a checkpoint is saved)")
    t.add_argument("--time-budget", type=_NONNEG_FLOAT, default=None, metavar="SECONDS",
                   help="stop cleanly after training this long (wall clock from the first "
                        "iteration, so compilation is not counted), evaluate, save a "
                        "checkpoint and finish normally (default: none; 40 without --corpus; "
                        "0 = none); the run record stores the iterations run")
    t.add_argument("--eval-val-every", type=_POSITIVE, default=None, metavar="N",
                   help="validate and checkpoint every N iterations (default 1000; 50 without "
                        "--corpus)")
    t.add_argument("--seed", type=_seed, default=None, metavar="S",
                   help="seed of the initial weights, dropout masks and the final sample "
                        "(default 123)")
    t.add_argument("--output", "-o", default=None, metavar="PATH",
                   help="checkpoint to write (default cv/<corpus>_<cell>.npz, or the "
                        "--init-from file; <name>_2.npz ... if taken); the best one goes to <name>_best.npz")
    t.add_argument("--overwrite", action="store_true", help="replace another run's --output")
    add_record_option(t)
    t.add_argument("--init-from", default=None, metavar="CKPT",
                   help="continue training this checkpoint exactly (model, optimizer, data "
                        "position; corpus and data options default to the checkpoint's)")
    t.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="where to cache the preprocessed corpus (default: $THEANO_RNN_CACHE_DIR, "
                        "else $XDG_CACHE_HOME/theano_rnn, else ~/.cache/theano_rnn)")
    t.add_argument("--samples", type=_NONNEG, default=None, metavar="N",
                   help="characters to sample and print after training (default 0; 500 "
                        "without --corpus)")
    t.add_argument("--prime", default=None, metavar="TEXT",
                   help="prime text of that sample (default none; 'def ' without --corpus)")
    t.add_argument("--temperature", type=_POS_FLOAT, default=None, metavar="T",
                   help="sampling temperature of that sample (default 1.0)")
    _add_common(t, corpus=True)
    t.set_defaults(char_command="train-char")

    # ---- sample-char
    s = subparsers.add_parser(
        "sample-char", help="stream characters sampled from a char-rnn checkpoint",
        formatter_class=fmt,
        description=(
            "Sample characters from a char-rnn checkpoint (sample.lua) and stream them to\n"
            "stdout as they are produced.  The prime text is fed through the model first\n"
            "and printed; without one the first character is drawn uniformly.\n\n"
            "Prime characters missing from the checkpoint's vocabulary map to its unknown\n"
            "symbol (--prime-policy unknown, the default; an error when the vocabulary has\n"
            "no unknown symbol) or are refused (--prime-policy error).  A prime with no\n"
            "character in the vocabulary is always an error."
        ),
    )
    s.add_argument("checkpoint", metavar="CKPT", help="a checkpoint written by train-char")
    s.add_argument("--length", type=_NONNEG, default=2000, metavar="N",
                   help="characters to generate after the prime (default 2000)")
    s.add_argument("--temperature", "-t", type=_POS_FLOAT, default=1.0, metavar="T",
                   help="divide the log-probabilities by T: lower is more conservative "
                        "(default 1.0)")
    s.add_argument("--prime", default="", metavar="TEXT", help="text to start from (default none)")
    s.add_argument("--prime-policy", choices=("unknown", "error"), default="unknown",
                   help="prime characters outside the vocabulary: map to the unknown symbol "
                        "(default) or refuse")
    s.add_argument("--seed", type=_seed, default=123, metavar="S",
                   help="random seed (default 123, as sample.lua)")
    s.add_argument("--argmax", action="store_true",
                   help="always take the most likely character (char-rnn's -sample 0)")
    s.add_argument("--stop", default=None, metavar="STRING",
                   help="stop once the generated text contains STRING (printed)")
    s.add_argument("-n", "--num-samples", type=_POSITIVE, default=1, metavar="N",
                   help="independent samples, separated by a blank line; sample i uses seed "
                        "S+i (default 1)")
    _add_common(s)
    s.set_defaults(char_command="sample-char")

    # ---- plot
    p = subparsers.add_parser(
        "plot", help="PNG of the training/validation loss of a checkpoint (needs matplotlib)",
        description="Plot the loss history stored in a checkpoint: training loss per "
                    "iteration (raw and smoothed) and validation loss, against the "
                    "iteration (char-rnn checkpoints; word-level checkpoints plot their loss "
                    "against the examples seen).  Needs matplotlib: "
                    "pip install 'theano_rnn[plot]'.",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a .npz checkpoint")
    p.add_argument("-o", "--output", default=None, metavar="PNG",
                   help="image to write (default <CKPT stem>_loss.png beside it)")
    p.add_argument("--smooth", type=_POSITIVE, default=None, metavar="N",
                   help="moving-average window of the training curve (default: 1/50 of the "
                        "iterations, at least 1)")
    p.add_argument("--dpi", type=_POSITIVE, default=120, help="resolution (default 120)")
    _add_common(p, mode=False)
    p.set_defaults(char_command="plot")
    return subparsers


def build_parser():
    """A parser with only the char commands (for :func:`main`)."""
    return command_parser("char-rnn commands of theano-rnn.", add_commands, __version__)


# ------------------------------------------------------------------- routing


def is_char_checkpoint(path) -> bool:
    """Whether ``path`` is a checkpoint written by ``train-char`` (reads only its metadata)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if io.META_KEY not in z.files:
                return False
            meta = json.loads(str(z[io.META_KEY][()]))
    except Exception:  # noqa: BLE001 -- any unreadable file is "not a char checkpoint"
        return False
    if not isinstance(meta, dict):
        return False
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    metadata = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
    return model.get("class") == "CharRNN" or metadata.get("kind") == "char"


def route_argv(argv):
    """``sample``/``generate`` of a char checkpoint becomes ``sample-char``.

    Returns a new list: if the command (the first argument not starting with
    ``-``) is ``sample`` or ``generate`` and one of the following arguments
    names an existing char checkpoint (:func:`is_char_checkpoint`), that
    command is replaced by ``sample-char``; otherwise ``argv`` unchanged.
    """
    argv = list(argv)
    idx = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if idx is None or argv[idx] not in ("sample", "generate"):
        return argv
    for a in argv[idx + 1:]:
        if not a.startswith("-") and os.path.isfile(a) and is_char_checkpoint(a):
            argv[idx] = "sample-char"
            break
    return argv
