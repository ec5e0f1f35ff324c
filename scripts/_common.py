"""Shared helpers of the scripts (not part of the package): where the shared data lives.

The *package* never guesses data locations; these scripts may.  The data
folder is ``$THEANO_RNN_SHARED_DATA`` if set, else ``../shared/data`` next to
the repository (``<repo>/../shared/data``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO))


def shared_data_dir() -> Path:
    return Path(os.environ.get("THEANO_RNN_SHARED_DATA") or REPO.parent / "shared" / "data")


def reddit_prefix() -> Path:
    return shared_data_dir() / "reddit" / "reddit-comments-2015-08.first212.csv"


def nltk_data_dir() -> Path:
    return shared_data_dir() / "nltk_data"


def has_option(argv, *names) -> bool:
    """Whether ``argv`` sets one of the long options ``names`` (``--x v`` or ``--x=v``)."""
    return any(a == n or a.startswith(n + "=") for a in argv for n in names)


def tutorial_data_args(argv, environ=os.environ) -> list[str]:
    """``--corpus``/``--nltk-data`` pointing at the shared data, unless already chosen.

    Like the tutorial scripts, which read ``data/reddit-comments-2015-08.csv``:
    the corpus is ``--corpus``, else ``$INPUT_DATA_FILE``, else the shared
    reddit prefix (if present; otherwise the CLI's embedded corpus).
    """
    extra = []
    if not has_option(argv, "--corpus") and not environ.get("INPUT_DATA_FILE"):
        if reddit_prefix().is_file():
            extra += ["--corpus", str(reddit_prefix())]
    if not has_option(argv, "--nltk-data") and not environ.get("NLTK_DATA"):
        if nltk_data_dir().is_dir():
            extra += ["--nltk-data", str(nltk_data_dir())]
    return extra


def write_json(results, path) -> None:
    """``--json PATH``: the results as JSON to ``PATH`` (``-`` = stdout); nothing if unset."""
    if not path:
        return
    text = json.dumps(results, indent=2, sort_keys=True)
    if path == "-":
        print(text)
    else:
        with open(path, "w") as fh:
            fh.write(text + "\n")


def zipf_sentences(n, C, rng, mean_len=21):
    """Synthetic sentences: Zipf word ids below C, lengths ~ 2 + Poisson (reddit prefix: mean 21)."""
    p = 1.0 / np.arange(1, C + 1)
    p /= p.sum()
    X, Y = [], []
    for _ in range(n):
        ids = rng.choice(C, 2 + rng.poisson(mean_len - 1), p=p).astype(np.int32)
        X.append(ids[:-1])
        Y.append(ids[1:])
    return X, Y


def compiled_functions(obj, seen=None):
    """The PyTensor functions reachable from a model's compile caches (wrappers, dicts)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if hasattr(obj, "maker"):
        return [obj]
    found = []
    if isinstance(obj, Mapping):
        for value in obj.values():
            found += compiled_functions(value, seen)
        return found
    inner = getattr(obj, "fn", None)  # the tutorial wrappers keep the function as .fn
    if inner is not None:
        found += compiled_functions(inner, seen)
    d = getattr(obj, "__dict__", {})
    for key in ("_compiled", "_fns", "_fast_graph"):
        if d.get(key) is not None:
            found += compiled_functions(d[key], seen)
    return found
