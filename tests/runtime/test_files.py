"""runtime.files: the one atomic writer (temp + fsync + rename, stale temps cleaned) and the output lock.

Contract: a write replaces the target whole or not at all; a failed write
(no space, file-size limit, no permission) raises one one-line OSError and
leaves the previous file byte-identical with no temp file behind; temp files
of killed writers of the same target are removed by the next write, those of
live writers are not; a lock of a live pid refuses, a dead pid's is taken over.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.errors import CheckpointError
from theano_rnn.runtime import files

ROOT = str(Path(__file__).resolve().parents[2])


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_atomic_savez_round_trip_and_no_temp_left(tmp_path):
    target = tmp_path / "x.npz"
    files.atomic_savez(target, {"a": np.arange(3.0)})
    assert np.load(target)["a"].tolist() == [0.0, 1.0, 2.0]
    assert files.temp_files(target) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_stale_temps_of_dead_writers_removed_on_next_write(tmp_path):
    target = tmp_path / "x.npz"
    dead = tmp_path / f".x.npz.{_dead_pid()}-abcd1234.tmp"      # kill -9 of a new writer
    old_style = tmp_path / ".x.npz.k3j_9a2z.tmp"                 # the old mkstemp naming
    live = tmp_path / f".x.npz.{os.getppid()}-abcd1234.tmp"      # a writer still running
    other = tmp_path / f".y.npz.{_dead_pid()}-abcd1234.tmp"      # another target's
    for f in (dead, old_style, live, other):
        f.write_bytes(b"partial" * 1000)
    past = time.time() - 2 * files.STALE_AGE
    os.utime(old_style, (past, past))
    files.atomic_savez(target, {"a": np.ones(2)})
    assert not dead.exists() and not old_style.exists()
    assert live.exists() and other.exists()


def test_recent_old_style_temp_is_kept(tmp_path):
    target = tmp_path / "x.npz"
    recent = tmp_path / ".x.npz.k3j_9a2z.tmp"
    recent.write_bytes(b"partial")
    assert files.remove_stale_temps(target) == []
    assert recent.exists()


def test_failed_write_keeps_previous_file_and_no_temp(tmp_path):
    target = tmp_path / "x.npz"
    files.atomic_savez(target, {"a": np.ones(2)})
    before = target.read_bytes()

    def boom(fh):
        fh.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as info:
        files.atomic_write(target, boom)
    msg = str(info.value)
    assert info.value.errno == errno.ENOSPC
    assert "\n" not in msg and "No space left on device" in msg and str(target) in msg
    assert "unchanged" in msg
    assert target.read_bytes() == before
    assert files.temp_files(target) == []


def test_io_save_disk_full_is_one_line_os_error(tmp_path, monkeypatch):
    target = tmp_path / "x.npz"
    io.atomic_savez(target, {"a": np.ones(2)})
    before = target.read_bytes()

    def full_disk(fh, **arrays):
        fh.write(b"PK partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.np, "savez", full_disk)
    with pytest.raises(OSError) as info:
        io.atomic_savez(target, {"a": np.ones(5)})
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == (f"cannot write {target}: No space left on device "
                               f"(the previous {target} is unchanged)")
    assert target.read_bytes() == before and files.temp_files(target) == []


_EFBIG = """
import resource, sys, numpy as np
from theano_rnn import io
io.atomic_savez(sys.argv[1], {"a": np.ones(10)})
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
try:
    io.atomic_savez(sys.argv[1], {"a": np.ones(100000)})
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_file_size_limit_efbig(tmp_path):
    target = tmp_path / "x.npz"
    out = subprocess.run([sys.executable, "-c", _EFBIG, str(target)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": ROOT}, timeout=120)
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith("OSError cannot write") and "File too large" in line
    assert np.load(target)["a"].shape == (10,)
    assert files.temp_files(target) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_unwritable_directory_eacces(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(OSError) as info:
            files.atomic_savez(d / "x.npz", {"a": np.ones(1)})
        assert info.value.errno == errno.EACCES and "Permission denied" in str(info.value)
    finally:
        d.chmod(0o700)


def test_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        io.atomic_savez(tmp_path / "nope" / "x.npz", {"a": np.ones(1)})


def test_lock_refuses_live_and_takes_over_dead(tmp_path):
    target = tmp_path / "x.npz"
    with files.OutputLock(target) as lock:
        assert lock.path.read_text().split()[0] == str(os.getpid())
        with pytest.raises(OSError, match=r"being written by another run \(pid \d+") as info:
            files.OutputLock(target).acquire()
        assert info.value.errno == errno.EBUSY
    assert not lock.path.exists()                       # released
    lock.path.write_text(f"{_dead_pid()} {os.uname().nodename}\n")   # a killed run's lock
    with files.OutputLock(target) as again:
        assert again.held and lock.path.read_text().split()[0] == str(os.getpid())
    assert not lock.path.exists()


_KILLED_WRITER = """
import sys, time
from theano_rnn.runtime import files

def slow(fh):
    fh.write(b"x" * 100000)
    fh.flush()
    print("writing", flush=True)
    time.sleep(60)

files.atomic_write(sys.argv[1], slow)
"""


def test_kill_9_during_a_write_then_next_write_cleans_up(tmp_path):
    target = tmp_path / "x.npz"
    files.atomic_savez(target, {"a": np.ones(2)})
    before = target.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target)],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert len(files.temp_files(target)) == 1          # its half-written temp file
        assert files.remove_stale_temps(target) == []       # the writer is alive: kept
    finally:
        proc.kill()
        proc.wait()
    assert target.read_bytes() == before                  # the target never saw the write
    (leftover,) = files.temp_files(target)
    assert leftover.stat().st_size == 100000
    files.atomic_savez(target, {"a": np.zeros(3)})        # the next write removes it
    assert files.temp_files(target) == [] and np.load(target)["a"].shape == (3,)
