"""Where a command's files go: the output policy of the training commands and the size checks.

* :func:`check_output`: a path can be written (not a directory, in an
  existing writable directory);
* :func:`claim_output`: the one output policy of ``train``, ``train-char``,
  ``train-cloze`` and ``classify train`` -- a fresh name for each run
  without ``--output``, no silent replacement of another run's checkpoint,
  a lock file against a second concurrent run on the same output;
* :func:`check_params_memory` (and its cell / bidirectional-stack forms):
  parameters that cannot fit in the machine's memory are refused with one
  line before anything is allocated;
* :func:`command_scope`: what :func:`claim_output` sets up (the lock...) is
  undone when the command ends (``report_errors`` opens one per command).

Every refusal is a one-line :class:`~theano_rnn.errors.CLIError`.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import tempfile
import threading
from pathlib import Path

from theano_rnn.cells import get_cell
from theano_rnn.errors import CLIError
from theano_rnn.models.bidir import stack_param_shapes
from theano_rnn.runtime.files import OutputLock
from theano_rnn.runtime.memory import available_memory, nbytes_of_shapes

__all__ = [
    "check_output", "claim_output", "command_scope", "check_params_memory", "check_cell_memory",
    "check_stack_memory",
]

log = logging.getLogger(__name__)


def check_output(path, what="--output"):
    """A :class:`CLIError` unless ``path`` can be written (not a directory, in a writable one)."""
    path = Path(path)
    if path.is_dir():
        raise CLIError(f"{what} {path} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"cannot write {path}: directory {parent} does not exist")
    try:  # found now, not after the training: can a file be created there?
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise CLIError(f"cannot write {path}: directory {parent} is not writable "
                       f"({exc.strerror or exc})") from None


def _numbered(path, n):
    return path if n == 1 else path.with_name(f"{path.stem}_{n}{path.suffix}")


def _same_file(a, b):
    return a is not None and Path(a).resolve() == Path(b).resolve()


_FROM_ARGS = object()


def claim_output(args, default, *, companions=None, output=_FROM_ARGS, init_from=_FROM_ARGS,
                 what="--output"):
    """The checkpoint path a training run writes, checked and locked for the run; returns ``str``.

    The output policy of every training command (``train``, ``train-char``,
    ``train-cloze``, ``classify train``), one line of :class:`CLIError` each.
    ``output`` defaults to ``args.output or args.init_from``, ``init_from`` to
    ``args.init_from`` (the file the run resumes from), and ``args.overwrite``
    allows replacing another run's files:

    * no ``output``: ``default``, or the first free ``<stem>_2<suffix>``,
      ``_3``... when an earlier run's files are there (logged), so a run
      never replaces another's; its directory is created (and removed again
      at the end of the command if the run left it empty);
    * an ``output`` that exists (or one of ``companions(path)``, e.g. the
      ``_best`` file) is refused unless the run resumes from it
      (``init_from`` is that file) or ``--overwrite`` is given;
    * the directory must exist and be writable (checked before training);
    * ``<output>.lock`` (:class:`~theano_rnn.runtime.files.OutputLock`) is
      held until the command ends: a second run on the same output fails.
    """
    if init_from is _FROM_ARGS:
        init_from = getattr(args, "init_from", None)
    if output is _FROM_ARGS:
        output = getattr(args, "output", None) or init_from
    overwrite = bool(getattr(args, "overwrite", False))
    companions = companions or (lambda p: [])
    if output is not None:
        path = Path(output)
        check_output(path, what)
        busy = [p for p in [path, *map(Path, companions(path))] if p.exists()]
        if busy and not overwrite and not _same_file(init_from, path):
            raise CLIError(f"{what} {path}: {busy[0]} already holds a checkpoint of another run; "
                           f"pass --overwrite to replace it, --init-from {path} to continue it, "
                           f"or another {what}", status=2)
        if busy and overwrite:
            log.info("--overwrite: replacing %s", ", ".join(map(str, busy)))
        return _lock(path)
    default = Path(default)
    parent = default.parent if str(default.parent) else Path(".")
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise CLIError(f"cannot write {default}: cannot create directory {parent} "
                           f"({exc.strerror or exc})") from None
        _on_command_exit(lambda: _remove_if_empty(parent))
    check_output(default, what)
    for n in range(1, 10000):
        path = _numbered(default, n)
        lock = OutputLock(path)
        if any(p.exists() for p in [path, lock.path, *map(Path, companions(path))]):
            continue
        claimed = _lock(path, busy_ok=True)
        if claimed is None:  # another run took this name just now
            continue
        if n > 1:
            log.info("%s already holds an earlier run; this run writes %s (pass %s to choose)",
                     default, path, what)
        return claimed
    raise CLIError(f"no free name for {default} (tried {default.stem}_2 ... _9999); pass {what}")


def _lock(path, busy_ok=False):
    """``str(path)`` locked until the command ends; None if ``busy_ok`` and another run holds it."""
    lock = OutputLock(path)
    try:
        lock.acquire()
    except OSError as exc:
        if busy_ok and exc.errno == errno.EBUSY:
            return None
        raise CLIError(" ".join(str(exc).split())) from None
    _on_command_exit(lock.release)
    return str(path)


def _remove_if_empty(directory):
    with contextlib.suppress(OSError):
        directory.rmdir()


_scopes = threading.local()


@contextlib.contextmanager
def command_scope():
    """Runs the clean-ups registered by :func:`claim_output` (lock release...) when the command ends."""
    stacks = _scopes.__dict__.setdefault("stacks", [])
    with contextlib.ExitStack() as stack:
        stacks.append(stack)
        try:
            yield stack
        finally:
            stacks.pop()


def _on_command_exit(callback):
    stacks = getattr(_scopes, "stacks", None)
    if stacks:
        stacks[-1].callback(callback)
    else:  # outside a command (library use): at interpreter exit
        atexit.register(callback)


def check_params_memory(shapes, what, *, copies=4, itemsize=8, available=None):
    """A :class:`CLIError` when parameters of these ``shapes`` cannot fit in memory (one line).

    The one "absurd sizes" check of every training command, called before the
    model allocates anything.  ``copies``: parameters, gradients, optimizer
    state and one spare (a lower bound of what training holds).
    ``available``: bytes (default :func:`~theano_rnn.runtime.memory.available_memory`;
    unknown: nothing is checked).  Returns the number of parameters.
    """
    nparams = nbytes_of_shapes(shapes, 1)
    need = nparams * itemsize * copies
    available = available_memory() if available is None else available
    if available is not None and need > available:
        raise CLIError(f"{what}: {nparams:,} parameters would need at least {_size(need)} of "
                       f"memory to train, but {_size(available)} is available; choose smaller "
                       "sizes")
    return nparams


def check_cell_memory(cell, word_dim, hidden_dim, num_layers=1, input_mode=None, **kwargs):
    """:func:`check_params_memory` of a cell's ``param_shapes`` (word and char models)."""
    c = get_cell(cell)
    what = f"--hidden-dim {hidden_dim} with {num_layers} layer(s) and {word_dim} symbols"
    return check_params_memory(c.param_shapes(word_dim, hidden_dim, num_layers, input_mode),
                               what, **kwargs)


def check_stack_memory(s, vocab_size, num_outputs=None, **kwargs):
    """:func:`check_params_memory` of a bidirectional stack (cloze, classify) of settings ``s``.

    ``s``: the command's settings (``cell``, ``embed_dim``, ``hidden_dim``,
    ``num_layers``, ``directions``).
    """
    shapes = stack_param_shapes(s["cell"], vocab_size, s["embed_dim"], s["hidden_dim"],
                                s["num_layers"], s["directions"], num_outputs)
    what = (f"--hidden-dim {s['hidden_dim']}, --embed-dim {s['embed_dim']} with "
            f"{s['num_layers']} layer(s) and {vocab_size} words")
    return check_params_memory(shapes, what, **kwargs)


def _size(n):
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
