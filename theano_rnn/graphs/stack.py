"""The (deep, bi)directional stacks' parameters and graph, for any cell.

Layout, initialisation and the masked directions (each one engine layer,
:func:`theano_rnn.graphs.engine.run_layer`) of :mod:`theano_rnn.models.bidir`
(see its docstring for the parameter table and the padding rule); the models
and their heads live there.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytensor.tensor as pt

from theano_rnn.cells import get_cell
from theano_rnn.graphs.engine import run_layer

__all__ = [
    "DIRECTION_NAMES", "check_dims", "stack_param_shapes", "init_stack_params", "direction_states",
    "bidirectional_stack",
]

DIRECTION_NAMES = ("f", "b")


def check_dims(vocab_size, embed_dim, hidden_dim, num_layers, directions, num_outputs):
    vals = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden_dim=hidden_dim,
                num_layers=num_layers, num_outputs=num_outputs)
    for name, v in vals.items():
        if int(v) != v or int(v) < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if directions not in (1, 2):
        raise ValueError(f"directions must be 1 (forward only) or 2 (bidirectional), got {directions!r}")


def stack_param_shapes(cell, vocab_size, embed_dim, hidden_dim, num_layers=1, directions=2,
                       num_outputs=None):
    """Parameter names and shapes, in initialisation order (see the module docstring)."""
    cell = get_cell(cell)
    num_outputs = vocab_size if num_outputs is None else num_outputs
    check_dims(vocab_size, embed_dim, hidden_dim, num_layers, directions, num_outputs)
    k, H = cell.blocks, int(hidden_dim)
    shapes = OrderedDict(E=(int(embed_dim), int(vocab_size)))
    for layer in range(int(num_layers)):
        d_in = int(embed_dim) if layer == 0 else directions * H
        for d in DIRECTION_NAMES[:directions]:
            shapes[f"Wx_{d}{layer}"] = (k * H, d_in)
            shapes[f"Wh_{d}{layer}"] = (k * H, H)
            shapes[f"b_{d}{layer}"] = (k * H,)
    shapes["V"] = (int(num_outputs), directions * H)
    shapes["c"] = (int(num_outputs),)
    return shapes


def _semi_orthogonal(rng, rows, cols):
    """The LSTM tutorial's ``ortho_weight`` (square), generalised: ``U V^T`` of a Gaussian."""
    u, _, vt = np.linalg.svd(rng.randn(rows, cols), full_matrices=False)
    return u @ vt


def init_stack_params(cell, vocab_size, embed_dim, hidden_dim, num_layers=1, directions=2,
                      num_outputs=None, rng=None, init="uniform"):
    """Draw the parameters from ``rng`` (a ``np.random.RandomState``).

    ``init="uniform"`` (WildML): every weight uniform in ``+-sqrt(1/fan_in)``
    (``E``: the vocabulary size; ``Wx``: its input size; ``Wh``: H; ``V``:
    dirs*H), drawn in :func:`stack_param_shapes` order; biases zero.

    ``init="orthogonal"`` (the Theano LSTM sentiment tutorial): ``E`` and ``V``
    are ``0.01 * randn``, each gate block of ``Wx`` and ``Wh`` is
    (semi-)orthogonal (``ortho_weight``), biases zero.
    """
    if rng is None:
        raise ValueError("init_stack_params needs an explicit rng (np.random.RandomState)")
    cell = get_cell(cell)
    shapes = stack_param_shapes(cell, vocab_size, embed_dim, hidden_dim, num_layers, directions,
                                num_outputs)
    H = int(hidden_dim)
    out = OrderedDict()
    for name, shape in shapes.items():
        if name in ("c",) or name.startswith("b_"):
            out[name] = np.zeros(shape)
        elif init == "uniform":
            fan = {"E": vocab_size, "V": directions * H}.get(name, H if name.startswith("Wh") else shape[1])
            out[name] = rng.uniform(-np.sqrt(1.0 / fan), np.sqrt(1.0 / fan), shape)
        elif init == "orthogonal":
            if name in ("E", "V"):
                out[name] = 0.01 * rng.randn(*shape)
            else:
                out[name] = np.concatenate(
                    [_semi_orthogonal(rng, H, shape[1]) for _ in range(cell.blocks)], axis=0
                )
        else:
            raise ValueError(f"init must be 'uniform' or 'orthogonal', got {init!r}")
    return out


def direction_states(cell, gate, pre, mask, Wh, hidden_dim, backwards):
    """One masked direction through the recurrent engine
    (:func:`theano_rnn.graphs.engine.run_layer`, zero initial states; a
    padded step keeps the state exactly); states ``(T, B, H)`` in time order."""
    B = pre.shape[1]
    init = [pt.zeros((B, hidden_dim), dtype=pre.dtype) for _ in range(cell.states_per_layer)]
    return run_layer(cell, gate, pre, Wh, init, mask, backwards=backwards)[0]


def bidirectional_stack(cell, params, X, M, num_layers, directions=2, gate=None):
    """Top-layer states ``(T, B, directions*H)`` of int32 tokens ``X`` ``(T, B)``.

    ``params`` maps the names of :func:`stack_param_shapes` to symbolic
    tensors (shared variables); ``M`` is the 0/1 float mask ``(T, B)``.
    """
    cell = get_cell(cell)
    gate = gate or cell.default_gate
    H = params["Wh_f0"].shape[1]
    # E.T[X] (T, B, D), gathered through one leading dummy index: the gradient of
    # a single-token gather (T = B = 1) trips PyTensor 3.0's runtime-broadcast
    # check in AdvancedIncSubtensor1 (it compares y's first axis with E's rather
    # than with the index); with >= 2 indices it never applies.  The dummy row
    # is sliced off, so its gradient contribution is exactly zero.
    flat = pt.concatenate([pt.zeros((1,), dtype=X.dtype), X.flatten()])
    below = params["E"].T[flat][1:].reshape((X.shape[0], X.shape[1], params["E"].shape[0]))
    for layer in range(num_layers):
        outs = []
        for i, d in enumerate(DIRECTION_NAMES[:directions]):
            pre = below.dot(params[f"Wx_{d}{layer}"].T) + params[f"b_{d}{layer}"]
            outs.append(direction_states(cell, gate, pre, M, params[f"Wh_{d}{layer}"], H, backwards=i == 1))
        below = outs[0] if directions == 1 else pt.concatenate(outs, axis=2)
    return below
