"""The ``theano-rnn`` program: one naming scheme over every task.

``theano-rnn train [--task wordlm|charlm|cloze|classify] ...``
    Train a model; ``--task`` picks the task (default ``wordlm``, the word-level
    language model).  ``train --task charlm`` is ``train-char``, ``--task cloze``
    is ``train-cloze``, ``--task classify`` is ``classify train``.
``theano-rnn sample CKPT ...`` (alias ``generate``)
    Use a checkpoint of any kind; the kind, read from the checkpoint, picks the
    command: sentences (word level, ``generate``), characters (char-rnn,
    ``sample-char``), the words for the blank of TEXT (cloze, ``cloze CKPT
    TEXT``), the labels of texts (classifier, ``classify predict``).
``theano-rnn eval CKPT ...``
    The same for the checkpoints that score inputs (cloze and classifier).
``theano-rnn gradcheck``, ``theano-rnn plot CKPT``
    As before.
``theano-rnn verify RUN.json``
    Re-run the training run a record describes and compare (:mod:`theano_rnn.cli.verify`).

Every older command name (``train-char``, ``sample-char``, ``train-cloze``,
``cloze``, ``classify train|predict``, ``generate``, ``plot``...) keeps its
flags and behaviour: this module only rewrites the new forms into them and
hands the result to :func:`theano_rnn.cli.word.main`, which parses and runs it.
``sample --help`` lists the options of every checkpoint kind, grouped by kind;
an option of another kind than the checkpoint's is one error line naming the
kind (exit status 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from theano_rnn import io
from theano_rnn.cli import char as charcli
from theano_rnn.cli import word
from theano_rnn.cli.util import PROG, Parser
from theano_rnn.errors import CheckpointError, CLIError

__all__ = ["main", "build_parser", "TASK_COMMANDS", "KINDS", "checkpoint_kind", "translate_argv", "sample_help"]

#: ``train --task`` value -> the command it runs
TASK_COMMANDS = {
    "wordlm": ("train",),
    "charlm": ("train-char",),
    "cloze": ("train-cloze",),
    "classify": ("classify", "train"),
}

#: checkpoint kind -> (what it is, what sample prints, the command that applies it)
KINDS = {
    "word": ("word-level language model", "sentences, one per line", ("generate",)),
    "char": ("char-rnn", "a stream of characters", ("sample-char",)),
    "cloze": ("cloze", "the words that fit the blank of TEXT", ("cloze",)),
    "classify": ("sequence-classifier", "the labels of the texts of FILE or --text",
                 ("classify", "predict")),
}
#: the kinds ``eval`` applies (they score inputs)
EVAL_KINDS = ("cloze", "classify")
#: commands whose checkpoint picks the command run
CHECKPOINT_COMMANDS = ("sample", "generate", "eval")

EPILOG = """\
One naming scheme (the older command names stay as aliases):
  train [--task wordlm|charlm|cloze|classify]  train a model (default task wordlm;
                      charlm = train-char, cloze = train-cloze, classify = classify train)
  sample CKPT ...     use a checkpoint of any kind (alias generate): sentences (word),
                      characters (char = sample-char), the blank's words (cloze CKPT TEXT),
                      labels (classifier = classify predict)
  eval CKPT ...       the same, for cloze and classifier checkpoints
  gradcheck, plot     as before
  seq demo|train      gwtaylor's Elman RNN sequence predictor (theano-rnn seq --help)
  verify RUN.json     re-run a recorded training run (--record, or <checkpoint>.run.json)
                      and compare its losses and parameters (theano-rnn verify --help)
  legacy SCRIPT ...   run an unmodified Theano script on PyTensor (theano-rnn legacy --help)
Run 'theano-rnn COMMAND --help' for the options of a command."""

TRAINED_BY = {"word": "train", "char": "train --task charlm",
              "cloze": "train --task cloze", "classify": "train --task classify"}


def checkpoint_kind(path):
    """``"word"``, ``"char"``, ``"cloze"`` or ``"classify"``: the kind of checkpoint ``path``.

    Reads only the metadata.  A file with none (the tutorials' own ``.npz``
    layout) or one that cannot be read counts as ``"word"``, whose command
    then reports what is wrong with it.
    """
    if charcli.is_char_checkpoint(path):
        return "char"
    try:
        meta = io.read_metadata(path)
    except (CheckpointError, OSError, ValueError):
        return "word"
    meta = meta if isinstance(meta, dict) else {}
    md = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    if md.get("kind") == "classify" or model.get("class") == "SequenceClassifier":
        return "classify"
    if md.get("kind") == "cloze" or model.get("class") == "ClozeModel":
        return "cloze"
    return "word"


# --------------------------------------------------------------- argparse access


def _subparser(parser, *names):
    """The sub-parser ``names`` (e.g. ``"classify", "predict"``) of ``parser``."""
    for name in names:
        parser = next(a.choices for a in parser._actions if isinstance(a.choices, dict))[name]
    return parser


def _options(parser):
    """Option string -> action, for every option of ``parser`` but ``--help``."""
    return {o: a for a in parser._actions if a.dest != "help" for o in a.option_strings}


# ------------------------------------------------------------------- rewriting


def _pop_option(args, name):
    """``(value, args without it)`` for ``name VALUE`` / ``name=VALUE`` in ``args``."""
    for k, tok in enumerate(args):
        if tok == "--":
            break
        if tok == name:
            if k + 1 >= len(args):
                raise CLIError(f"argument {name}: expected one argument "
                               f"(see '{PROG} train --help')", status=2)
            return args[k + 1], args[:k] + args[k + 2:]
        if tok.startswith(name + "="):
            return tok.split("=", 1)[1], args[:k] + args[k + 1:]
    return None, args


def _find_checkpoint(parser, args):
    """The first argument that is neither an option nor an option's value and names an
    existing file (None: none)."""
    takes_value = {}
    for _, _, command in KINDS.values():
        for opt, action in _options(_subparser(parser, *command)).items():
            takes_value[opt] = takes_value.get(opt, False) or action.nargs != 0
    skip = False
    for tok in args:
        if skip:
            skip = False
        elif tok.startswith("-"):
            skip = "=" not in tok and takes_value.get(tok, False)
        elif Path(tok).is_file():
            return tok
    return None


def _looks_like_number(tok):
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _check_fit(parser, kind, path, args):
    """A :class:`CLIError` (status 2) for the first option in ``args`` of another kind."""
    own = _options(_subparser(parser, *KINDS[kind][2]))
    others = {}
    for other, (_, _, command) in KINDS.items():
        if other != kind:
            for opt in _options(_subparser(parser, *command)):
                others.setdefault(opt, other)
    skip = False
    for tok in args:
        if skip:
            skip = False
            continue
        if tok == "--":
            break
        if not tok.startswith("-") or tok == "-" or _looks_like_number(tok):
            continue
        opt = tok.split("=", 1)[0]
        if opt in own:
            skip = "=" not in tok and own[opt].nargs != 0
        elif opt in others:
            fitting = sorted({max(a.option_strings, key=len) for a in own.values()})
            raise CLIError(
                f"{opt} does not fit {path}: it is a {KINDS[kind][0]} checkpoint, whose "
                f"options are {', '.join(fitting)} (see '{PROG} sample --help')", status=2)


def translate_argv(argv, parser):
    """``argv`` in the older command names that :func:`theano_rnn.cli.word.main` parses.

    ``train --task T`` becomes T's command; ``sample``/``generate``/``eval``
    with a checkpoint become the command of the checkpoint's kind (after the
    options have been checked against that kind).  Returns None after printing
    the help of the program or of ``sample``/``generate``/``eval``; other
    arguments are returned unchanged.  ``parser`` is :func:`build_parser`'s.
    """
    argv = list(argv)
    i = next((k for k, a in enumerate(argv) if not a.startswith("-")), None)
    if i is None:
        if "-h" in argv or "--help" in argv:
            sys.stdout.write(parser.format_help())
            return None
        return argv
    command, rest = argv[i], argv[i + 1:]
    if command == "train":
        task, rest = _pop_option(rest, "--task")
        if task is None or task == "wordlm":
            return argv
        if task not in TASK_COMMANDS:
            raise CLIError(f"argument --task: invalid choice {task!r} (choose from "
                           f"{', '.join(TASK_COMMANDS)})", status=2)
        return argv[:i] + list(TASK_COMMANDS[task]) + rest
    if command not in CHECKPOINT_COMMANDS:
        return argv
    if "-h" in rest or "--help" in rest:
        sys.stdout.write(sample_help(parser, command))
        sys.stdout.flush()
        return None
    path = _find_checkpoint(parser, rest)
    if path is None:
        if command == "eval":
            raise CLIError(f"eval needs an existing checkpoint CKPT (see '{PROG} eval --help')",
                           status=2)
        return argv  # the word-level command reports what is missing
    kind = checkpoint_kind(path)
    if command == "eval" and kind not in EVAL_KINDS:
        raise CLIError(f"{path} is a {KINDS[kind][0]} checkpoint: eval takes cloze and "
                       f"classifier checkpoints; use '{PROG} sample {path}'", status=2)
    _check_fit(parser, kind, path, rest)
    return argv[:i] + list(KINDS[kind][2]) + rest


# ------------------------------------------------------------------------ help


def sample_help(parser, command="sample"):
    """The ``--help`` of ``sample``/``generate``/``eval``: every option, grouped by checkpoint kind."""
    kinds = EVAL_KINDS if command == "eval" else tuple(KINDS)
    aliases = {"sample": " (alias: generate)", "generate": " (alias of sample)", "eval": ""}
    hp = Parser(
        prog=f"{PROG} {command}", formatter_class=argparse.RawDescriptionHelpFormatter,
        usage=f"{PROG} {command} CKPT [ARG] [options]",
        description=(
            f"Use a checkpoint{aliases[command]}.  The checkpoint's kind, read from the file,\n"
            "picks what is printed and which options apply; an option of another kind is an\n"
            "error.  The kinds and the older command each one runs:\n"
            + "".join(f"  {KINDS[k][0]:26s} {KINDS[k][1]}  ({PROG} {' '.join(KINDS[k][2])})\n"
                      for k in kinds)),
    )
    hp.add_argument("checkpoint", metavar="CKPT", help="a checkpoint of one of the kinds above")
    parsers = {k: _subparser(parser, *KINDS[k][2]) for k in kinds}
    options = {k: _options(p) for k, p in parsers.items()}
    common = set.intersection(*(set(o) for o in options.values()))
    shown = set()
    group = hp.add_argument_group("options of every kind")
    for a in parsers[kinds[0]]._actions:
        if a.option_strings and set(a.option_strings) <= common:
            group._group_actions.append(a)
    for k in kinds:
        group = hp.add_argument_group(
            f"{KINDS[k][0]} checkpoints (written by '{PROG} {TRAINED_BY[k]}')")
        for a in parsers[k]._actions:
            if a.dest in ("help", "checkpoint") or id(a) in shown:
                continue
            if a.option_strings and set(a.option_strings) <= common:
                continue
            shown.add(id(a))
            group._group_actions.append(a)
    return hp.format_help()


# ------------------------------------------------------------------------ main


def build_parser():
    """The parser of every command name, its help ending with the naming scheme."""
    return word.build_parser(epilog=EPILOG)


def main(argv=None, environ=None):
    """Run ``theano-rnn`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    ``environ`` (default ``os.environ``) supplies the tutorial scripts'
    environment variables as defaults (:func:`theano_rnn.cli.word.main`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["seq"]:  # gwtaylor's sequence predictor: its own small parser
        from theano_rnn.cli import seq

        return seq.main(argv[1:])
    if argv[:1] == ["verify"]:  # re-run a run record and compare
        from theano_rnn.cli import verify

        return verify.main(argv[1:])
    if argv[:1] == ["legacy"]:  # a Theano script: import theano -> theano_rnn.theano
        from theano_rnn.cli import legacy

        return legacy.main(argv[1:])
    try:
        routed = translate_argv(argv, build_parser())
    except CLIError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    if routed is None:
        return 0
    return word.main(routed, environ=environ)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
