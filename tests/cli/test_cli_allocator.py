"""The theano-rnn commands tune glibc's allocator before they run (runtime.allocator)."""

from theano_rnn.cli import word


def test_command_tunes_the_allocator_first(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(word, "tune_allocator", lambda: calls.append("tuned"))
    status = word.main(["generate", str(tmp_path / "missing.npz")], environ={})
    assert calls == ["tuned"]
    assert status != 0 and "missing.npz" in capsys.readouterr().err


def test_help_does_not_tune(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(word, "tune_allocator", lambda: calls.append("tuned"))
    try:
        word.main(["generate", "--help"], environ={})
    except SystemExit:
        pass
    assert calls == []
