"""The one atomic file writer, and the lock file of a run's output.

Every checkpoint, cache and result file of the package is written by
:func:`atomic_write` (or its wrappers :func:`atomic_write_bytes` and
:func:`atomic_savez`):

1. the content goes to a temporary file in the target's own directory, named
   ``.<target name>.<pid>-<random>.tmp`` (hidden; the writer's pid in the name);
2. the file is flushed and ``fsync``-ed, given the permissions ``open()``
   would give (``0666 & ~umask``), then renamed over the target
   (``os.replace``: readers see the old file or the new one, never half of
   one), and the directory is ``fsync``-ed so the rename survives a crash;
3. before writing, temporary files of earlier writes to the *same* target
   whose writer is gone (killed with ``kill -9``, out of power...) are
   removed: those with a dead pid in their name, and nameless-pid ones of the
   old naming (``.<name>.XXXXXXXX.tmp``) not touched for :data:`STALE_AGE` s.

A failed write (disk full, ``ulimit -f``, no permission...) removes its
temporary file, leaves the previous target byte-identical and raises one
:class:`OSError` whose message is one line naming the file, e.g. ``cannot
write cv/x.npz: No space left on device (the previous cv/x.npz is
unchanged)``; its ``errno`` is the original one.

:class:`OutputLock` is an ``O_EXCL`` lock file ``<target>.lock`` holding the
pid of the run that writes ``<target>``: a second run on the same target gets
a one-line :class:`OSError` (``errno.EBUSY``); a lock left by a dead process
is taken over.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import socket
import time
from pathlib import Path

import numpy as np

__all__ = [
    "STALE_AGE", "atomic_write", "atomic_write_bytes", "atomic_savez", "remove_stale_temps",
    "temp_files", "pid_alive", "OutputLock",
]

log = logging.getLogger(__name__)

#: seconds after which a temporary file without a pid in its name counts as stale
STALE_AGE = 600.0

_TEMP_SUFFIX = ".tmp"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _directory(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def temp_files(path) -> list[Path]:
    """The temporary files of writes to ``path`` present now (any writer, alive or not)."""
    path = Path(path)
    prefix = f".{path.name}."
    try:
        names = os.listdir(_directory(path))
    except OSError:
        return []
    return sorted(_directory(path) / n for n in names
                  if n.startswith(prefix) and n.endswith(_TEMP_SUFFIX))


def _writer_pid(temp: Path, target_name: str):
    """The pid in a temp file's name (``.<name>.<pid>-<hex>.tmp``), or None (old naming)."""
    middle = temp.name[len(target_name) + 2:-len(_TEMP_SUFFIX)]
    m = re.fullmatch(r"(\d+)-[0-9a-f]+", middle)
    return int(m.group(1)) if m else None


def remove_stale_temps(path, *, now=None) -> list[Path]:
    """Remove the leftover temporary files of earlier writes to ``path``; returns them.

    Kept: files of live writers (their pid is in the name), and files of the
    old naming modified in the last :data:`STALE_AGE` seconds.
    """
    path = Path(path)
    now = time.time() if now is None else now
    removed = []
    for temp in temp_files(path):
        pid = _writer_pid(temp, path.name)
        try:
            if pid is not None:
                if pid_alive(pid):
                    continue
            elif now - temp.stat().st_mtime < STALE_AGE:
                continue
            size = temp.stat().st_size
            temp.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove the stale temporary file %s: %s", temp, exc)
            continue
        removed.append(temp)
        log.info("removed %s (%d bytes), left by an interrupted write of %s", temp, size, path)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a directory: the rename is done anyway
        pass
    finally:
        os.close(fd)


def _write_error(path: Path, exc: OSError) -> OSError:
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    kept = f" (the previous {path} is unchanged)" if path.exists() else ""
    err = OSError(f"cannot write {path}: {reason}{kept}")
    err.errno = exc.errno
    return err


def atomic_write(path, write, *, mode: int | None = None) -> str:
    """Write ``path`` atomically: ``write(fh)`` fills a binary temp file, then it replaces ``path``.

    ``mode``: the new file's permissions (default ``0666 & ~umask``).  Errors:
    one-line :class:`OSError` (see the module docstring), also for an
    ``OSError`` raised inside ``write``; its other exceptions pass through.  Either way the temporary file is
    removed and ``path`` is untouched.  Returns ``str(path)``.
    """
    path = Path(path)
    directory = _directory(path)
    if not directory.is_dir():
        err = OSError(f"cannot write {path}: directory {directory} does not exist")
        err.errno = errno.ENOENT
        raise err
    remove_stale_temps(path)
    tmp = directory / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{_TEMP_SUFFIX}"
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, (0o666 & ~_umask()) if mode is None else mode)
            os.replace(tmp, path)
        except OSError as exc:
            raise _write_error(path, exc) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)
    return str(path)


def atomic_write_bytes(path, data: bytes, *, mode: int | None = None) -> str:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda fh: fh.write(data), mode=mode)


def atomic_savez(path, arrays: dict, *, mode: int | None = None) -> str:
    """``np.savez(path, **arrays)`` through :func:`atomic_write` (no ``.npz`` appended)."""
    return atomic_write(path, lambda fh: np.savez(fh, **arrays), mode=mode)


# ------------------------------------------------------------------------ locks


def _busy(message):
    err = OSError(message)
    err.errno = errno.EBUSY
    return err


class OutputLock:
    """``<target>.lock``, created with ``O_EXCL``, holding ``"<pid> <host>"`` of the run writing ``target``.

    :meth:`acquire` raises a one-line :class:`OSError` (``errno.EBUSY``; the
    message names the holder's pid and the lock file) while another live
    process holds it; a lock whose pid is dead (on this host) is taken over.
    :meth:`release` removes the file if it is still ours.  A context manager.
    """

    def __init__(self, target):
        self.target = Path(target)
        self.path = self.target.with_name(self.target.name + ".lock")
        self.held = False
        self._token = f"{os.getpid()} {socket.gethostname()} {secrets.token_hex(4)}\n"

    def _read(self):
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self._token)
        return True

    def acquire(self) -> "OutputLock":
        for _ in range(5):
            try:
                if self._create():
                    self.held = True
                    return self
            except OSError as exc:
                raise _write_error(self.path, exc) from None
            text = self._read()
            if text is None:  # released meanwhile
                continue
            fields = text.split()
            pid = int(fields[0]) if fields and fields[0].isdigit() else None
            host = fields[1] if len(fields) > 1 else None
            same_host = host in (None, socket.gethostname())
            if pid is not None and (not same_host or pid_alive(pid)):
                where = "" if same_host else f" on {host}"
                raise _busy(
                    f"{self.target} is being written by another run (pid {pid}{where}; lock "
                    f"file {self.path}): wait for it to finish or pass another --output")
            # dead (or unreadable) owner: take the lock over, unless it changed meanwhile
            if self._read() == text:
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                log.info("took over the stale lock %s of %s", self.path,
                         f"pid {pid} (not running)" if pid is not None else "an unknown run")
        raise _busy(f"could not lock {self.target} (lock file {self.path} keeps changing)")

    def release(self) -> None:
        if self.held:
            self.held = False
            if self._read() == self._token:
                try:
                    self.path.unlink()
                except OSError:
                    pass

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False
