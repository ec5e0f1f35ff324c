"""Parameter layouts: which cell and sizes a set of tutorial-named arrays holds.

Used by :func:`theano_rnn.io.load` (files without metadata, such as the
tutorials' own ``.npz`` files) and by :meth:`RecurrentLM.resize`.  Each
registered cell says whether a key set is its layout and reads the sizes
from the shapes (:meth:`Cell.fits_keys`, :meth:`Cell.layout_of`); nothing
here names a cell.
"""

from __future__ import annotations

from theano_rnn.cells import get_cell, registered_cells
from theano_rnn.errors import CheckpointError

__all__ = ["infer_layout"]


def _names(cells):
    return " or ".join(c.name.upper() for c in cells)


def infer_layout(shapes, cell=None):
    """``(cell name, word_dim, hidden_dim, num_layers)`` from parameter shapes.

    ``shapes`` maps key -> shape.  Raises :class:`CheckpointError` naming the
    offending key when the layout is not one of the registered cells'.
    Without ``cell``, a layout that several cells fit is read as the
    tutorials' cell among them, if exactly one is (else: pass ``cell=``).
    """
    keys = set(shapes)
    by_keys = [c for c in registered_cells() if c.fits_keys(keys)]
    if not by_keys:
        expected = " or ".join(f"{k} ({'/'.join(n)})" for k, n in _families().items())
        raise CheckpointError(f"unrecognised checkpoint layout: keys {sorted(keys)}; expected {expected}")
    sizes = {c.name: c.layout_of(shapes) for c in by_keys}
    fitting = [c for c in by_keys if sizes[c.name] is not None]
    if cell is not None:
        chosen = get_cell(cell)
        if chosen not in fitting:
            held = _names(fitting) or "unknown cell"
            note = by_keys[0].layout_note(shapes)
            raise CheckpointError(
                f"checkpoint holds {_article(held)} {held} ({note}), not a {chosen.name.upper()}"
            )
    elif not fitting:
        raise CheckpointError(
            f"key 'W' has {tuple(shapes['W'])[0]} gate blocks: not a multiple of "
            + " or ".join(f"{c.blocks} ({c.name.upper()})" for c in by_keys)
        )
    else:
        tutorial = [c for c in fitting if c.tutorial]
        candidates = fitting if len(fitting) == 1 else tutorial
        if len(candidates) != 1:
            candidates = candidates or fitting
            both = "both" if len(candidates) == 2 else "several of"
            held = " and ".join(f"{_spoken_article(c.name)} {c.name.upper()}" for c in candidates)
            raise CheckpointError(
                f"key 'W' has {tuple(shapes['W'])[0]} gate blocks, which fits {both} {held}: pass "
                + " or ".join(f"cell={c.name!r}" for c in candidates)
            )
        chosen = candidates[0]
    C, H, layers, input_mode = sizes[chosen.name]
    name = chosen.name
    expected = chosen.param_shapes(C, H, layers, input_mode)
    for key, shape in expected.items():
        if key not in shapes:
            raise CheckpointError(f"checkpoint is missing key {key!r} for a {name.upper()}")
        if tuple(shapes[key]) != tuple(shape):
            raise CheckpointError(
                f"key {key!r} has shape {tuple(shapes[key])}, expected {tuple(shape)} for "
                f"{_article(name)} {name.upper()} with word_dim={C}, hidden_dim={H}, num_layers={layers}"
            )
    return name, int(C), int(H), int(layers)


def _families():
    """Layout description -> the names of the cells with that layout."""
    out = {}
    for c in registered_cells():
        out.setdefault(c.layout_keys(), []).append(c.name.upper())
    return out


def _spoken_article(name):
    """The article of the spelled-out name ('an LSTM', 'a GRU')."""
    return "an" if name[:1].lower() in "aefhilmnorsx" else "a"


def _article(name):
    """'an RNN', 'a GRU', 'a LSTM' (the messages' wording since the tutorials' port)."""
    return "an" if name.lower().startswith("rnn") else "a"
