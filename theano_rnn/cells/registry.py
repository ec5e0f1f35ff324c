"""The cell registry: the one place that maps cell names to cells.

Everything that offers or reads a cell by name (the CLIs' ``--cell``
choices, layout inference of files without metadata, the word-level model
classes, the graphs) asks here, so a cell registered at run time is
everywhere at once.
"""

from __future__ import annotations

from theano_rnn.cells.base import Cell
from theano_rnn.cells.gru import GRU
from theano_rnn.cells.lstm import LSTM
from theano_rnn.cells.rnn import RNN

__all__ = ["register_cell", "unregister_cell", "get_cell", "cell_names", "registered_cells"]

#: name -> cell, in registration order (the tutorials' three first)
_CELLS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}


def register_cell(cell, replace=False):
    """Make ``cell`` (a :class:`Cell` instance) available under ``cell.name``."""
    if not isinstance(cell, Cell):
        raise TypeError(f"register_cell takes a Cell instance, got {type(cell).__name__}")
    name = str(cell.name).lower()
    if not name or name != cell.name:
        raise ValueError(f"a cell's name must be a non-empty lower-case string, got {cell.name!r}")
    if name in _CELLS and not replace and _CELLS[name] is not cell:
        raise ValueError(f"a cell named {name!r} is already registered")
    _CELLS[name] = cell
    return cell


def unregister_cell(name):
    """Remove the cell called ``name`` (the tutorials' cells stay)."""
    name = str(getattr(name, "name", name)).lower()
    cell = _CELLS.get(name)
    if cell is None:
        raise ValueError(f"no cell named {name!r} is registered")
    if cell.tutorial:
        raise ValueError(f"the tutorial cell {name!r} cannot be unregistered")
    del _CELLS[name]


def cell_names():
    """The registered cells' names, in registration order."""
    return tuple(_CELLS)


def registered_cells():
    """The registered cells, in registration order."""
    return tuple(_CELLS.values())


def get_cell(name) -> Cell:
    """The cell called ``name`` (``"rnn"``, ``"gru"``, ``"lstm"`` or a registered one)."""
    if isinstance(name, Cell):
        return name
    try:
        return _CELLS[str(name).lower()]
    except KeyError:
        raise ValueError(
            f"unknown cell {name!r}; choose one of {', '.join(_CELLS)}"
        ) from None
