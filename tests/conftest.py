"""Shared test setup.

The whole session uses a fresh, empty corpus-cache directory
(``$THEANO_RNN_CACHE_DIR``), set before any fixture runs (module-scoped
fixtures train on corpora too), so no test reads or writes the user's
``~/.cache/theano_rnn``.

Compiling dominates the suite's time, so models that several tests build
identically come from the session-wide ``shared_model`` cache: each call hands
back the one compiled instance with its initial weights and optimizer state
restored (the compiled functions are kept).  A test that needs a fresh compile
(a new graph, float32, a resize) builds its own model.
"""

import numpy as np
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


@pytest.fixture(scope="session")
def shared_model():
    """``shared_model(cls, *args, seed=None, **kwargs)``: the session's one
    ``cls(*args, **kwargs)`` (``rng=np.random.RandomState(seed)`` when ``seed`` is
    given; keyword values must be hashable), reset to its initial parameters and
    optimizer state on every call."""
    cache = {}

    def get(cls, *args, seed=None, **kwargs):
        key = (cls, args, seed, tuple(sorted(kwargs.items())))
        if key not in cache:
            if seed is not None:
                kwargs["rng"] = np.random.RandomState(seed)
            model = cls(*args, **kwargs)
            cache[key] = (model, model.get_params(), model.get_optimizer_state())
        model, params, state = cache[key]
        model.set_params(params)
        model.set_optimizer_state(state)
        return model

    return get
