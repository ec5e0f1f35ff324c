"""Sequence-classifier checkpoints: the kind tag and loading one (refusing any other kind)."""

from __future__ import annotations

from pathlib import Path

from theano_rnn import io

__all__ = ["KIND", "load_classifier"]

#: ``metadata["kind"]`` of a classifier checkpoint
KIND = "classify"


def load_classifier(path, mode=None):
    """:func:`io.load` of a classifier checkpoint, refusing any other kind (one-line errors)."""
    if not Path(path).is_file():
        raise io.CheckpointError(f"no such checkpoint: {path}")
    meta = io.read_metadata(path)
    md = meta.get("metadata") if isinstance(meta, dict) else None
    model_cfg = meta.get("model") if isinstance(meta, dict) else None
    if (not isinstance(md, dict) or md.get("kind") != KIND or not isinstance(model_cfg, dict)
            or model_cfg.get("class") != "SequenceClassifier"):
        raise io.CheckpointError(f"{path} is not a sequence-classifier checkpoint (written by "
                                 "'theano-rnn classify train')")
    ck = io.load(path, mode=mode)
    if ck.index_to_word is None or "labels" not in ck.extra:
        raise io.CheckpointError(f"checkpoint {path} stores no vocabulary or labels")
    return ck
