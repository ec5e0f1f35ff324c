"""Where the tests find the shared data folder (one place for the rule).

``$THEANO_RNN_SHARED_DATA`` when set, else ``../shared/data`` beside the
repository.  Test modules call :func:`shared_data_dir` at import time (their
``skipif`` marks need the path); tests that only need it at run time take the
``shared_data`` fixture from ``tests/conftest.py``.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The shared data folder (it may be absent: callers skip on that)."""
    env = os.environ.get("THEANO_RNN_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"
