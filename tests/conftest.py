"""Shared test setup.

The whole session uses a fresh, empty corpus-cache directory
(``$THEANO_RNN_CACHE_DIR``), set before any fixture runs (module-scoped
fixtures train on corpora too), so no test reads or writes the user's
``~/.cache/theano_rnn``.
"""

import pytest

from tests.shared_data import shared_data_dir


@pytest.fixture(autouse=True, scope="session")
def _corpus_cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THEANO_RNN_CACHE_DIR", str(tmp_path_factory.mktemp("theano_rnn_cache")))
        yield


@pytest.fixture(scope="session")
def shared_data():
    """The shared data folder (``$THEANO_RNN_SHARED_DATA``, default ``../shared/data``
    beside the repository); it may be absent, so tests check what they need."""
    return shared_data_dir()
