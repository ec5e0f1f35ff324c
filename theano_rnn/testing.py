"""Regression tests against recorded runs, for pytest users (and any test runner).

A run record (``--record RUN.json`` of any training command, or the
``<checkpoint>.run.json`` beside its checkpoint; see
:mod:`theano_rnn.training.record`) is a reference: these helpers re-run it and
compare.  pytest is imported only by :func:`recorded_run_fixture`.

``load_record(path)``
    The record dict (:class:`~theano_rnn.training.record.RecordError` when
    missing or damaged).
``rerun(record, tmpdir)``
    Re-run the recorded command with its files in ``tmpdir``; returns the new
    record (``theano-rnn verify`` without the printing).
``assert_loss_curve(record, actual, rtol=..., atol=...)``
    ``actual``: a re-run record or a list of losses (in the record's order).
    Raises :class:`AssertionError` with the per-evaluation table unless they
    match: bit-exact for a record of the same backend, precision and BLAS,
    else within the tolerance.
``recorded_run_fixture(path)``
    A pytest fixture that re-runs a record in ``tmp_path`` and returns
    ``(record, rerun record)``.  In a ``conftest.py``::

        from theano_rnn.testing import recorded_run_fixture
        char_run = recorded_run_fixture("runs/char.json")

    and in a test::

        from theano_rnn.testing import assert_loss_curve

        def test_char_run_reproduces(char_run):
            recorded, rerun = char_run
            assert_loss_curve(recorded, rerun)
"""

from __future__ import annotations

from pathlib import Path

from theano_rnn.errors import CLIError
from theano_rnn.training import record as records
from theano_rnn.training.record import RecordError, load_record

__all__ = ["load_record", "rerun", "assert_loss_curve", "recorded_run_fixture", "RecordError"]


def rerun(record, tmpdir, mode=None):
    """The record of a fresh run of ``record`` (a path or dict) in ``tmpdir``.

    ``mode``: another backend than the recorded one.  Raises
    :class:`RecordError` when the record is bad or its corpus changed, and
    :class:`RuntimeError` when the re-run fails.
    """
    from theano_rnn.cli import verify

    rec = load_record(record)
    Path(tmpdir).mkdir(parents=True, exist_ok=True)
    try:
        return verify.rerun(rec, tmpdir, mode)
    except CLIError as exc:
        raise (RecordError if exc.status == 2 else RuntimeError)(str(exc)) from None


def assert_loss_curve(record, actual, rtol=None, atol=None, exact=None):
    """Raise :class:`AssertionError` (with the table) unless ``actual`` matches ``record``.

    ``record``: a path or a loaded record; ``actual``: a record (path or dict)
    or a list of losses.  ``exact`` None: bit-exact when ``actual`` is a record
    of the same backend, precision and BLAS; otherwise ``rtol`` / ``atol``
    (defaults of :func:`theano_rnn.training.record.compare_records`).
    Returns the :class:`~theano_rnn.training.record.Comparison`.
    """
    rec = load_record(record)
    if isinstance(actual, (str, Path)):
        actual = load_record(actual)
    elif isinstance(actual, dict):
        actual = load_record(actual)
    cmp = records.compare_records(rec, actual, rtol=rtol, atol=atol, exact=exact)
    if not cmp.ok:
        raise AssertionError("the run does not reproduce the record:\n" + records.format_table(cmp))
    return cmp


def recorded_run_fixture(path, *, mode=None, name=None, scope="function"):
    """A pytest fixture: ``(record, rerun record)`` of the run recorded in ``path``.

    ``path`` relative to the current directory (or absolute); ``mode``: re-run
    on another backend; ``scope``: pytest's (``"session"`` re-runs once).
    Assign it to a name in a ``conftest.py`` or a test module.
    """
    import pytest

    @pytest.fixture(scope=scope, name=name)
    def recorded_run(tmp_path_factory):
        rec = load_record(path)
        return rec, rerun(rec, tmp_path_factory.mktemp("rerun"), mode)

    return recorded_run
