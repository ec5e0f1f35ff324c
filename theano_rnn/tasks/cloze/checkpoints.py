"""Cloze checkpoints: recognising and loading them; where the best one goes.
"""

from __future__ import annotations

from pathlib import Path

from theano_rnn import io
from theano_rnn.data import seq as seqdata
from theano_rnn.errors import DataError

KIND = "cloze"

__all__ = ["KIND", "best_checkpoint_path", "is_cloze_checkpoint", "load_cloze_checkpoint"]

def best_checkpoint_path(path):
    """Where the best-validation checkpoint of ``path`` goes: ``<stem>_best.npz`` beside it."""
    p = Path(path)
    return str(p.with_name(p.stem + "_best" + (p.suffix or ".npz")))






def is_cloze_checkpoint(path):
    """Whether ``path`` is a readable cloze checkpoint (reads only its metadata)."""
    try:
        meta = io.read_metadata(path)
    except (io.CheckpointError, ValueError, OSError):
        return False
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    return model.get("class") == "ClozeModel"


def load_cloze_checkpoint(path, mode=None):
    """:func:`theano_rnn.io.load` that insists on a cloze model with a vocabulary.

    Raises :class:`~theano_rnn.io.CheckpointError` with a one-line message for
    a missing or corrupt file and for any other kind of checkpoint.
    """
    meta = io.read_metadata(path)  # raises CheckpointError for missing / unreadable
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    cls = model.get("class")
    if cls != "ClozeModel":
        what = {"SequenceClassifier": "a sequence classifier", "CharRNN": "a char-rnn model"}.get(
            cls, f"a {cls} model" if cls else "a model without a recorded class")
        raise io.CheckpointError(f"{path} is not a cloze checkpoint: it holds {what}")
    ck = io.load(path, mode=mode)
    if ck.index_to_word is None:
        raise io.CheckpointError(f"{path} stores no vocabulary")
    try:
        vocab = seqdata.Vocab(ck.index_to_word)
    except DataError as exc:
        raise io.CheckpointError(f"{path}: bad vocabulary ({exc})") from None
    if vocab.blank_index is None:
        raise io.CheckpointError(f"{path}: the vocabulary has no {seqdata.BLANK!r} token")
    ck.vocab = vocab
    return ck
