"""theano_rnn.runtime.allocator: glibc's thresholds set on request, never on import."""

import subprocess
import sys

import pytest

from theano_rnn.runtime import allocator

GLIBC = sys.platform.startswith("linux") and allocator._libc() is not None


def test_opt_out_leaves_the_allocator_alone():
    for value in ("default", "0", "off"):
        assert allocator.tune_allocator(env={allocator.ENV_VAR: value}) is False
        state = allocator.allocator_state()
        assert state["tuned"] is False and allocator.ENV_VAR in state["reason"]


def test_thresholds_must_be_positive():
    for bad in (0, -1, 1 << 40):  # 1 << 40 would wrap to 0 through a C int
        with pytest.raises(ValueError, match="positive"):
            allocator.tune_allocator(mmap_threshold=bad, env={})


@pytest.mark.skipif(not GLIBC, reason="needs glibc's mallopt")
def test_sets_both_thresholds_and_records_them():
    assert allocator.tune_allocator(env={}) is True
    state = allocator.allocator_state()
    assert state == {"tuned": True, "mmap_threshold": allocator.MMAP_THRESHOLD,
                     "trim_threshold": allocator.TRIM_THRESHOLD, "reason": ""}


class _FakeLibc:
    def __init__(self, refuse):
        self.calls, self.refuse = [], refuse

        def mallopt(param, value):
            self.calls.append(param)
            return 0 if param == self.refuse else 1

        self.mallopt = mallopt


def test_refused_mmap_threshold_sets_nothing_else(monkeypatch):
    # a raised trim threshold alone is glibc's slow regime: never set it by itself
    fake = _FakeLibc(refuse=allocator._M_MMAP_THRESHOLD)
    monkeypatch.setattr(allocator, "_libc", lambda: fake)
    assert allocator.tune_allocator(env={}) is False
    assert fake.calls == [allocator._M_MMAP_THRESHOLD]
    assert "mmap threshold" in allocator.allocator_state()["reason"]


def test_no_mallopt_does_nothing(monkeypatch):
    monkeypatch.setattr(allocator, "_libc", lambda: None)
    assert allocator.tune_allocator(env={}) is False
    assert "no mallopt" in allocator.allocator_state()["reason"]


def test_not_called_on_import():
    code = ("import theano_rnn, theano_rnn.cli.main, theano_rnn.runtime.allocator as a; "
            "print(a.allocator_state()['reason'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "not called"

