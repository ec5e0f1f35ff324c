"""The preprocessed-corpus cache: a cache directory, never beside the user's data.

Where: ``cache_dir`` when a caller gives one (``--cache-dir``), else
``$THEANO_RNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/theano_rnn`` (when set and
absolute), else ``~/.cache/theano_rnn`` (:func:`default_cache_dir`).

Keys: the file name carries a hash of the corpus's resolved path
(``<name>.<hash12>.theano_rnn-cache.npz``; char-rnn data sets are all called
``input.txt``), so two corpora never share a file; inside, a JSON key (the
sha256 of the corpus's bytes, the options and :data:`CACHE_FORMAT`) makes a
changed corpus or option rebuild it.  Files are plain ``.npz`` (no pickle),
written to a temp file in the same folder, fsynced and renamed; a cache that
cannot be read is rebuilt and one that cannot be written is only a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from theano_rnn.data.vocab import Vocab
from theano_rnn.errors import DataError
from theano_rnn.runtime.files import atomic_savez

__all__ = [
    "CACHE_SUFFIX",
    "CACHE_FORMAT",
    "CACHE_DIR_ENV",
    "default_cache_dir",
    "user_cache_dir",
    "cache_path_for",
    "cache_key",
    "read_cache",
    "write_cache",
]

log = logging.getLogger(__name__)

#: Cache file name suffix: ``<corpus name>.<hash12>.theano_rnn-cache.npz``.
CACHE_SUFFIX = ".theano_rnn-cache.npz"
#: Version of the cache layout; a cache with another version is rebuilt.
CACHE_FORMAT = 1
#: Environment variable naming the cache directory.
CACHE_DIR_ENV = "THEANO_RNN_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$THEANO_RNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/theano_rnn`` (absolute), else ``~/.cache/theano_rnn``."""
    own = os.environ.get(CACHE_DIR_ENV)
    if own:
        return Path(own).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "theano_rnn"


#: The old name of :func:`default_cache_dir`.
user_cache_dir = default_cache_dir


def cache_path_for(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache file of corpus ``path`` in ``cache_dir`` (default :func:`default_cache_dir`)."""
    path = Path(path)
    folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
    tag = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:12]
    return folder / f"{path.name}.{tag}{CACHE_SUFFIX}"


def cache_key(sha256: str, min_freq: int, encoding: str) -> dict:
    """What a cache must match to be used."""
    return {"format": CACHE_FORMAT, "sha256": sha256, "min_freq": int(min_freq), "encoding": encoding}


def read_cache(cache: Path, key: dict) -> tuple[Vocab, np.ndarray] | None:
    """``(vocab, ids)`` from ``cache`` when it exists, is readable and matches ``key``."""
    if not cache.is_file():
        return None
    try:
        with np.load(cache, allow_pickle=False) as z:
            found = json.loads(str(z["key"][()]))
            if found != key:
                log.info("cache %s is stale (corpus or options changed); rebuilding", cache)
                return None
            chars = [chr(c) for c in z["vocab_codepoints"].tolist()]
            unk = int(z["unknown_index"][()])
            ids = np.asarray(z["ids"], dtype=np.int32)
        vocab = Vocab.of_chars(chars, unknown=None if unk < 0 else chars[unk])
        if ids.ndim != 1 or ids.size == 0 or ids.min() < 0 or ids.max() >= len(vocab):
            raise ValueError("ids out of range")
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile, DataError) as exc:
        log.warning("ignoring unreadable cache %s (%s); rebuilding", cache, exc)
        return None
    log.info("loaded cached corpus %s", cache)
    return vocab, ids


def write_cache(cache: Path, key: dict, vocab: Vocab, ids: np.ndarray) -> bool:
    """Write the cache through the one atomic writer (:func:`theano_rnn.runtime.files.atomic_savez`).

    Returns whether it was written; a failure is logged (WARNING), not raised.
    """
    arrays = {
        "key": np.array(json.dumps(key, sort_keys=True)),
        "vocab_codepoints": np.array([ord(c) for c in vocab.index_to_token], dtype=np.int32),
        "unknown_index": np.array(-1 if vocab.unknown is None else vocab.unknown_index,
                                  dtype=np.int32),
        "ids": np.asarray(ids, dtype=np.int32),
    }
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_savez(cache, arrays, mode=0o644)  # a cache is not secret
    except OSError as exc:
        log.warning("cannot write the corpus cache %s (%s); it will be preprocessed again",
                    cache, exc.strerror or exc)
        return False
    log.info("cached the preprocessed corpus in %s", cache)
    return True
