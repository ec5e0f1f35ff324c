"""Parameter layouts: which cell and sizes a set of tutorial-named arrays holds.

Used by :func:`theano_rnn.io.load` (files without metadata, such as the
tutorials' own ``.npz`` files) and by :meth:`RecurrentLM.resize`.
"""

from __future__ import annotations

from theano_rnn.cells.core import get_cell
from theano_rnn.errors import CheckpointError

__all__ = ["infer_layout"]

_RNN_KEYS = {"U", "V", "W"}
_GATED_CORE = {"W", "V", "b", "c"}


def infer_layout(shapes, cell=None):
    """``(cell name, word_dim, hidden_dim, num_layers)`` from parameter shapes.

    ``shapes`` maps key -> shape.  Raises :class:`CheckpointError` naming the
    offending key when the layout is not one of the tutorials'.
    """
    keys = set(shapes)
    input_mode = None
    if _GATED_CORE <= keys and ("E" in keys or "Ux" in keys):
        C, H = _shape(shapes, "V", 2)
        n = _shape(shapes, "W", 3)[0]
        input_mode = "onehot" if "Ux" in keys else "embedding"
        candidates = [c for c in ("gru", "lstm") if n % get_cell(c).blocks == 0 and n > 0]
        if cell is not None:
            cell = get_cell(cell).name
            if cell == "rnn" or cell not in candidates:
                held = " or ".join(c.upper() for c in candidates) or "unknown cell"
                raise CheckpointError(
                    f"checkpoint holds a {held} (W has {n} gate blocks), not a {cell.upper()}"
                )
        elif len(candidates) == 1:
            cell = candidates[0]
        elif not candidates:
            raise CheckpointError(
                f"key 'W' has {n} gate blocks: not a multiple of 3 (GRU) or 4 (LSTM)"
            )
        else:
            raise CheckpointError(
                f"key 'W' has {n} gate blocks, which fits both a GRU and an LSTM: "
                "pass cell='gru' or cell='lstm'"
            )
        layers = n // get_cell(cell).blocks
    elif _RNN_KEYS <= keys:
        if cell is not None and get_cell(cell).name != "rnn":
            raise CheckpointError(
                f"checkpoint holds an RNN (keys U, V, W), not a {get_cell(cell).name.upper()}"
            )
        cell = "rnn"
        H, C = _shape(shapes, "U", 2)
        W = shapes["W"]
        layers = 1 if len(W) == 2 else int(W[0])
    else:
        raise CheckpointError(
            f"unrecognised checkpoint layout: keys {sorted(keys)}; expected U, V, W (RNN) "
            "or E, U, W, V, b, c (GRU/LSTM)"
        )
    expected = get_cell(cell).param_shapes(C, H, layers, input_mode)
    for key, shape in expected.items():
        if key not in shapes:
            raise CheckpointError(f"checkpoint is missing key {key!r} for a {cell.upper()}")
        if tuple(shapes[key]) != tuple(shape):
            raise CheckpointError(
                f"key {key!r} has shape {tuple(shapes[key])}, expected {tuple(shape)} for "
                f"{_article(cell)} {cell.upper()} with word_dim={C}, hidden_dim={H}, num_layers={layers}"
            )
    return cell, int(C), int(H), int(layers)


def _article(cell):
    return "an" if cell == "rnn" else "a"


def _shape(shapes, key, ndim):
    shape = tuple(shapes[key])
    if len(shape) != ndim:
        raise CheckpointError(f"key {key!r} has shape {shape}, expected {ndim} dimensions")
    return shape
