"""Cells: one file per cell (:mod:`.rnn`, :mod:`.gru`, :mod:`.lstm`) on a
shared base (:mod:`.base`), and the registry (:mod:`.registry`) that drives
everything that names a cell."""

from theano_rnn.cells.base import Cell, GatedCell, embed, matvec
from theano_rnn.cells.gru import GRU
from theano_rnn.cells.lstm import LSTM
from theano_rnn.cells.registry import (
    cell_names,
    get_cell,
    register_cell,
    registered_cells,
    unregister_cell,
)
from theano_rnn.cells.rnn import RNN

__all__ = [
    "Cell", "GatedCell", "RNN", "GRU", "LSTM", "matvec", "embed",
    "register_cell", "unregister_cell", "get_cell", "cell_names", "registered_cells",
]
