"""Pieces shared by the ``theano-rnn`` commands (:mod:`theano_rnn.cli.word`, :mod:`theano_rnn.cli.char`,
:mod:`theano_rnn.cli.cloze`, :mod:`theano_rnn.cli.classify`).

One-line errors, an argparse parser whose usage errors are one line, the
argument types and common options the command modules use, the check of
``--mode``, the Ctrl-C stop flag of the training commands and the wrapper that
runs a command and turns its errors into one line.  The checks of
``--output``, the output policy of the training commands and the size checks
live in :mod:`theano_rnn.cli.output` (re-exported here).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import signal
import sys
import threading
import warnings

from theano_rnn.cli.output import (
    check_cell_memory, check_output, check_params_memory, check_stack_memory, claim_output,
    command_scope,
)
from theano_rnn.data.text import corpus_byte_limit, parse_byte_size
from theano_rnn.runtime.modes import get_mode, mode_name
from theano_rnn.runtime.threads import blas_threads, pin_loaded_library
from theano_rnn.errors import CLIError

__all__ = [
    "PROG", "LOG_LEVELS", "CLIError", "Parser", "int_at_least", "float_in", "positive_float",
    "mode_type", "seed_type", "one_line", "add_common_options", "check_mode", "check_output",
    "claim_output", "command_scope", "check_params_memory", "check_cell_memory",
    "check_stack_memory",
    "StopFlag", "blas_threads", "pin_loaded_library", "LogFilter", "command_logging",
    "command_env", "report_errors", "run_handler", "command_parser", "parse_command_line",
    "standalone_main",
]

log = logging.getLogger(__name__)

PROG = "theano-rnn"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``theano-rnn: error: ...``)."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def int_at_least(minimum, what="value"):
    """An argparse type: an integer ``>= minimum``."""

    def convert(text):
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}, got {value}")
        return value

    convert.__name__ = "integer"
    return convert


def float_in(lo, hi, lo_open=True, hi_open=True, what="value"):
    """An argparse type: a finite number in the interval from ``lo`` to ``hi`` (None: unbounded).

    ``lo_open`` / ``hi_open`` exclude the bounds; the error names the interval,
    e.g. ``dropout must lie in [0, 1), got 2``.
    """

    def convert(text):
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        ok = math.isfinite(value)
        if lo is not None:
            ok = ok and (value > lo if lo_open else value >= lo)
        if hi is not None:
            ok = ok and (value < hi if hi_open else value <= hi)
        if not ok:
            lb = ("(" if lo_open else "[") + str(lo)
            ub = ("inf)" if hi is None else str(hi) + (")" if hi_open else "]"))
            raise argparse.ArgumentTypeError(f"{what} must lie in {lb}, {ub}, got {text}")
        return value

    convert.__name__ = "number"
    return convert


def positive_float(text):
    """An argparse type: a finite number ``> 0``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def mode_type(text):
    """An argparse type: a backend name (C, FAST_RUN, NUMBA, JAX, ...)."""
    try:
        return mode_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seed_type(text):
    """An argparse type: a seed in ``[0, 2**32)``."""
    value = int_at_least(0, "seed")(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"seed must be < 2**32, got {value}")
    return value


def one_line(exc):
    """An exception's message squeezed onto one line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def byte_size(text):
    """argparse type of ``--max-corpus-bytes``: :func:`theano_rnn.data.text.parse_byte_size`."""
    try:
        return parse_byte_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_corpus_limit(p):
    """``--max-corpus-bytes N`` (applied around the command by :func:`command_env`); returns ``p``."""
    p.add_argument("--max-corpus-bytes", type=byte_size, default=None, metavar="N",
                   help="refuse corpus files larger than N bytes (K/M/G suffixes; default 512M)")
    return p


def add_common_options(p, mode=True, blas_note="", progress_bar=True, corpus=False):
    """``--mode`` and ``--blas-threads`` (unless ``mode`` is false), ``--quiet``, ``--log-level``.

    ``blas_note`` is appended to the ``--blas-threads`` help; ``progress_bar``
    says whether ``--quiet`` also hides a progress bar (its help says so);
    ``corpus`` adds ``--max-corpus-bytes`` (:func:`add_corpus_limit`).
    """
    if corpus:
        add_corpus_limit(p)
    if mode:
        p.add_argument("--mode", type=mode_type, default=None, metavar="{C,NUMBA,JAX}",
                       help="PyTensor backend: C (default), NUMBA or JAX")
        p.add_argument("--blas-threads", type=int_at_least(0), default=None, metavar="N",
                       help="OpenBLAS threads while the command runs (default 1 unless "
                            "$OPENBLAS_NUM_THREADS is set; 0 = leave as is)" + blas_note)
    p.add_argument("--quiet", "-q", action="store_true",
                   help="only warnings and errors on stderr"
                        + (", no progress bar" if progress_bar else ""))
    p.add_argument("--log-level", choices=LOG_LEVELS, type=str.upper, default=None,
                   help="logging level on stderr (default INFO; WARNING with --quiet)")


def check_mode(mode):
    """``mode`` if its backend can be used; else a :class:`CLIError` ``--mode X: why``."""
    try:
        get_mode(mode)
    except (RuntimeError, ValueError, ImportError) as exc:
        raise CLIError(f"--mode {mode}: {exc}") from None
    return mode


class StopFlag:
    """SIGINT during training: the first Ctrl-C asks the loop to save and stop, the second aborts.

    A context manager that installs :meth:`handler` for SIGINT (main thread
    only) and restores the previous handler.  While :attr:`training` is false
    (nothing to save yet) a Ctrl-C aborts at once.  Subclasses set
    :attr:`message` (logged, not printed: a progress bar shares stderr),
    :attr:`logger` and :attr:`training_at_start`.
    """

    message = "Ctrl-C: stopping and saving a checkpoint (Ctrl-C again to abort without saving)"
    logger = log
    training_at_start = False

    def __init__(self):
        self.requested = False
        self.training = self.training_at_start
        self._old = None
        self._installed = False

    def handler(self, signum, frame):
        if self.requested or not self.training:
            raise KeyboardInterrupt
        self.requested = True
        self.logger.warning(self.message)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self.handler)
            self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:
            signal.signal(signal.SIGINT, self._old if self._old is not None else signal.SIG_DFL)
        return False


class LogFilter(logging.Filter):
    """Show this package's records at the chosen level, other libraries' only from WARNING.

    (Below DEBUG everything passes.)  PyTensor's per-compile "NumPy C-API
    based implementation for BLAS" record is dropped.
    """

    def __init__(self, level):
        super().__init__()
        self.level = level

    def filter(self, record):
        if record.name.startswith("pytensor") and "C-API based implementation" in str(record.msg):
            return False
        if self.level <= logging.DEBUG or record.name.startswith("theano_rnn"):
            return True
        return record.levelno >= logging.WARNING


@contextlib.contextmanager
def command_logging(level):
    """A stderr handler on the root logger for the duration of one command.

    Logging is configured only here, inside a command's ``main``; the handler
    and the root level are restored afterwards.
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    handler.addFilter(LogFilter(getattr(logging, level)))
    handler.setLevel(level)
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, getattr(logging, level)))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)


@contextlib.contextmanager
def command_env(n_threads, max_corpus_bytes=None):
    """A command's surroundings: :func:`blas_threads`, no "could not link to a BLAS" warning
    and the corpus byte limit (:func:`theano_rnn.data.text.corpus_byte_limit`)."""
    with warnings.catch_warnings(), blas_threads(n_threads), corpus_byte_limit(max_corpus_bytes):
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        yield


def report_errors(call, errors, broken_pipe=None):
    """``call()``'s exit status, its errors one line on stderr.

    :class:`CLIError`: its message and status; ``errors`` (a tuple of
    exception classes): :func:`one_line` of the message and status 1; Ctrl-C:
    ``interrupted`` and 130.  With ``broken_pipe`` a :class:`BrokenPipeError`
    among ``errors`` returns ``broken_pipe()`` instead (``| head``).
    """
    try:
        with command_scope():
            return call()
    except CLIError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except errors as exc:
        if broken_pipe is not None and isinstance(exc, BrokenPipeError):
            return broken_pipe()
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def run_handler(handler, args, show_progress, t_start, errors, broken_pipe=None):
    """``handler(args, show_progress, t_start)`` in :func:`command_env`, via :func:`report_errors`.

    ``show_progress`` None: "not --quiet and the log level is INFO or lower".
    The BLAS thread count is ``args.blas_threads`` (None when absent).
    """
    if show_progress is None:
        level = getattr(args, "log_level", None) or ("WARNING" if args.quiet else "INFO")
        show_progress = not args.quiet and getattr(logging, level) <= logging.INFO

    def call():
        with command_env(getattr(args, "blas_threads", None), getattr(args, "max_corpus_bytes", None)):
            return handler(args, show_progress, t_start)

    return report_errors(call, errors, broken_pipe)


def command_parser(description, add_commands, version):
    """A parser with ``--version`` and the sub-commands ``add_commands(subparsers)`` registers."""
    parser = Parser(prog=PROG, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    add_commands(parser.add_subparsers(dest="command", metavar="COMMAND"))
    return parser


def parse_command_line(parser, argv, commands):
    """``(args, None)``, or ``(None, status)`` after --help/--version, a usage error or no command.

    A missing command prints ``theano-rnn: error: missing command (A, B); see
    'theano-rnn --help'`` (``commands`` listed) and gives status 2.
    """
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return None, (exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2))
    if args.command is None:
        print(f"{PROG}: error: missing command ({', '.join(commands)}); see '{PROG} --help'",
              file=sys.stderr)
        return None, 2
    return args, None


def standalone_main(parser, argv, commands, run):
    """The ``main`` of a command module run on its own (``python -m theano_rnn.cli.char``).

    Parses ``argv`` (:func:`parse_command_line`), then ``run(args)`` with
    :func:`command_logging` at ``--log-level`` (default INFO; WARNING with
    ``--quiet``); returns the exit status.
    """
    args, status = parse_command_line(parser, argv, commands)
    if args is None:
        return status
    level = getattr(args, "log_level", None) or (
        "WARNING" if getattr(args, "quiet", False) else "INFO")
    with command_logging(level):
        return run(args)
