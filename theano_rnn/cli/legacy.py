"""``theano-rnn legacy SCRIPT [ARGS...]``: run an unmodified Theano script on PyTensor.

For this process only, ``import theano`` and every ``import theano.X`` /
``from theano.X import ...`` resolve to :mod:`theano_rnn.theano` (an import
hook placed first on ``sys.meta_path``, so an installed Theano is shadowed
here and nowhere else); a submodule the namespace lacks is PyTensor's of the
same name (``theano.tensor.extra_ops``, ``theano.tensor.signal``...).  The
script then runs as ``__main__`` (``runpy``) with ``sys.argv = [SCRIPT,
ARGS...]`` and its own folder first on ``sys.path``, as ``python SCRIPT
ARGS...`` would run it.  ``$THEANO_FLAGS``
(``floatX=float32,mode=FAST_RUN``) is applied first, and PyTensor's loggers
are kept at WARNING as Theano kept its own (a script's
``logging.basicConfig(level=INFO)`` shows the script's messages only).

Exit status and errors:

* a missing script, a folder, a script with a syntax error (typically a
  Python 2 ``print`` statement) or a bad ``THEANO_FLAGS``: one line on stderr,
  exit status 2;
* an exception raised *by the script*: its own traceback (frames of this
  command left out) -- it is the user's program and the traceback is what
  they need -- and exit status 1;
* ``sys.exit(n)`` in the script: status ``n``; Ctrl-C: 130; otherwise 0.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import logging
import os
import runpy
import sys
import traceback

from theano_rnn.cli.util import PROG

__all__ = ["main", "TheanoAliasFinder", "theano_alias", "USAGE"]

ALIAS = "theano"
TARGET = "theano_rnn.theano"
FALLBACK = "pytensor"

USAGE = f"""usage: {PROG} legacy SCRIPT [ARGS...]

Run an unmodified Theano-era script on PyTensor: its 'import theano' and
'import theano.tensor as T' resolve to theano_rnn.theano for this process only.
ARGS are passed to the script (sys.argv[1:]).  $THEANO_FLAGS (floatX, mode) is
applied before the script starts.  The script needs its Python-3 changes
(print(), range...) but no other edit.
"""


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already imported namespace module under the ``theano`` name."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass  # already executed under its own name


def _find(name):
    try:
        return importlib.util.find_spec(name)
    except ImportError:
        return None


class TheanoAliasFinder(importlib.abc.MetaPathFinder):
    """``theano`` / ``theano.X`` -> ``theano_rnn.theano`` / ``theano_rnn.theano.X``;
    a submodule the namespace does not have falls back to PyTensor's module of
    the same name (``theano.tensor.extra_ops`` -> ``pytensor.tensor.extra_ops``),
    which kept Theano's names."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        rest = fullname[len(ALIAS):]
        for real in (TARGET + rest, FALLBACK + rest):
            found = _find(real)
            if found is not None:
                return importlib.util.spec_from_loader(
                    fullname, _AliasLoader(real), is_package=found.submodule_search_locations is not None)
        return None  # the usual "No module named 'theano.X'"


@contextlib.contextmanager
def theano_alias():
    """Within the block ``import theano`` gives :mod:`theano_rnn.theano`; afterwards
    the import system and ``sys.modules`` are as before."""
    saved = {k: v for k, v in sys.modules.items() if k == ALIAS or k.startswith(ALIAS + ".")}
    for k in saved:
        del sys.modules[k]
    finder = TheanoAliasFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if k == ALIAS or k.startswith(ALIAS + ".")]:
            del sys.modules[k]
        sys.modules.update(saved)


def _fail(message):
    print(f"{PROG}: error: legacy: {message}", file=sys.stderr)
    return 2


def _check_script(path):
    """The compiled script, or an error line."""
    if not os.path.exists(path):
        return None, f"no such script: {path}"
    if os.path.isdir(path):
        return None, f"{path} is a folder, not a script"
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    try:
        return compile(source, path, "exec", dont_inherit=True), None
    except SyntaxError as exc:
        hint = ""
        if "print" in (exc.msg or "") or "Missing parentheses" in (exc.msg or ""):
            hint = " (a Python 2 script: apply its Python-3 changes first)"
        where = f"{path}:{exc.lineno}" if exc.lineno else path
        return None, f"{where}: syntax error: {exc.msg}{hint}"
    except ValueError as exc:  # null bytes
        return None, f"{path}: {exc}"


def _print_script_traceback(exc, script):
    """The traceback from the script's first frame on (this command's frames dropped)."""
    te = traceback.TracebackException.from_exception(exc)
    stack = te.stack
    script = os.path.abspath(script)
    for i, frame in enumerate(stack):
        if os.path.abspath(frame.filename) == script:
            te.stack = traceback.StackSummary.from_list(stack[i:])
            break
    sys.stderr.write("".join(te.format()))


def run_script(script, args=(), environ=None):
    """Run ``script`` as ``__main__`` under the alias; returns the exit status."""
    environ = os.environ if environ is None else environ
    code, error = _check_script(script)
    if error:
        return _fail(error)
    del code  # checked; runpy compiles it again with the right globals
    from theano_rnn.theano import config

    try:
        config.apply_flags(environ.get("THEANO_FLAGS", ""))
    except ValueError as exc:
        return _fail(f"THEANO_FLAGS: {exc}")
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    # Theano kept its own loggers at WARNING, so a script's basicConfig(level=INFO)
    # showed only the script's messages; PyTensor's loggers would inherit INFO
    pt_logger = logging.getLogger("pytensor")
    saved_level = pt_logger.level
    if saved_level == logging.NOTSET:
        pt_logger.setLevel(logging.WARNING)
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        with theano_alias():
            runpy.run_path(script, run_name="__main__")
        return 0
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the script's own error: its traceback
        _print_script_traceback(exc, script)
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        pt_logger.setLevel(saved_level)


def main(argv=None, environ=None):
    """``theano-rnn legacy SCRIPT [ARGS...]``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        (sys.stdout if argv else sys.stderr).write(USAGE)
        return 0 if argv else 2
    if argv[0] == "--":
        argv = argv[1:]
        if not argv:
            return _fail("missing SCRIPT")
    return run_script(argv[0], argv[1:], environ=environ)
