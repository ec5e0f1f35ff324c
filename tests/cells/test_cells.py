"""The cells and their registry, without a model.

Contract: each tutorial cell lives in its own file and declares its engine
kernel (none is inherited); its per-block step (the faithful graphs') is derived from its one
merged step and gives the same numbers (<= 1e-12); every cell recognises its
own parameter layout; the registry refuses what is not a cell.
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn.cells import GRU, LSTM, RNN, cell_names, get_cell, register_cell, registered_cells
from theano_rnn.models.layout import infer_layout

CELLS = ("rnn", "gru", "lstm")


def test_tutorial_cells_are_registered_in_order_with_kernels():
    assert cell_names()[:3] == CELLS
    assert registered_cells()[:3] == (RNN, GRU, LSTM)
    for name in CELLS:
        cell = get_cell(name)
        assert cell.tutorial
        assert type(cell).__module__ == f"theano_rnn.cells.{name}"
        # declared in the cell's own class body, named after the cell
        assert vars(type(cell))["engine_kernel"] == name
        assert not hasattr(cell, "backward") and not hasattr(cell, "make_backward")
    assert get_cell("GRU") is GRU and get_cell(LSTM) is LSTM


def test_registry_refuses_what_is_not_a_cell():
    with pytest.raises(TypeError, match="Cell instance"):
        register_cell("rnn")
    with pytest.raises(ValueError, match="lower-case"):
        register_cell(type(RNN)(name="Relu"))
    with pytest.raises(ValueError, match="already registered"):
        register_cell(type(RNN)(name="rnn"))
    with pytest.raises(ValueError, match="unknown cell 'nope'; choose one of rnn, gru, lstm"):
        get_cell("nope")


@pytest.mark.parametrize("name, layers, mode", [
    ("rnn", 1, None), ("rnn", 2, None), ("gru", 2, "embedding"), ("gru", 2, "onehot"),
    ("lstm", 1, "embedding"), ("lstm", 2, "onehot"),
])
def test_each_cell_recognises_its_layout(name, layers, mode):
    cell = get_cell(name)
    shapes = cell.param_shapes(7, 5, layers, mode)
    assert cell.fits_keys(shapes)
    assert cell.layout_of(shapes) == (7, 5, layers, cell.check_input_mode(mode))
    assert infer_layout(shapes, name) == (name, 7, 5, layers)
    others = [c for c in registered_cells() if c is not cell and c.fits_keys(shapes)]
    assert all(c.blocks != cell.blocks for c in others)  # gated cells share keys, not blocks


@pytest.mark.parametrize("name", CELLS)
def test_per_block_step_is_the_merged_step(name):
    cell = get_cell(name)
    L, C, H, B = 2, 6, 4, 3
    mode = None if name == "rnn" else "embedding"
    rs = np.random.RandomState(5)
    values = {k: rs.uniform(-0.5, 0.5, s) for k, s in cell.param_shapes(C, H, L, mode).items()}
    params = {k: pt.constant(v) for k, v in values.items()}
    x = pt.constant(np.array([1, 5, 0], dtype=np.int32))
    states = [pt.constant(rs.uniform(-1, 1, (B, H))) for _ in range(cell.states_per_layer * L)]
    per_block, top = cell.step(x, states, params, L, None)
    merged, h, n = [], None, cell.states_per_layer
    for layer in range(L):
        pre = cell.merged_inputs(x, params, layer, L, h_below=h)
        st, h = cell.merged_step(pre, states[n * layer : n * (layer + 1)],
                                 cell.merged_recurrent(params, layer, L), None)
        merged.extend(st)
    got = pytensor.function([], per_block + merged + [top, h])()
    k = len(per_block)
    for a, b in zip(got[:k] + [got[-2]], got[k:-2] + [got[-1]]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        assert np.abs(a).max() > 0
