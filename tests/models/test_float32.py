"""float32 everywhere: floatX=float32 models train like float64 ones, with no upcasts.

Models are built and trained under ``change_flags(floatX="float32")`` (a
context manager: no other test sees the flag).  A model reads the flag once,
at construction (``model.dtype``); built under float32 it must also compile
float32 graphs when first called after the flag is back to float64.

"Within 1e-4 relative" means ``max|a - b| / max(1, max|b|) <= 1e-4`` over each
array (relative for values above 1, absolute below), ``b`` being the float64
run; 5 training steps from the same float64 initial parameters.
"""

import inspect

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RecurrentLM, RNNTheano
from theano_rnn.models.char import CharRNN

REL = 1e-4
STEPS = 5
C, H = 12, 5


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def float64_variables(fn):
    """``(where, variable)`` for every float64 variable of a compiled function,
    scan inner graphs and fused elementwise (Composite) graphs included."""
    while fn is not None and not hasattr(fn, "maker"):  # tutorial/default-argument wrappers
        fn = getattr(fn, "fn", None)
    assert fn is not None, "no compiled function found"
    found, seen = [], set()

    def walk(fgraph, where):
        if id(fgraph) in seen:
            return
        seen.add(id(fgraph))
        for var in fgraph.variables:
            if getattr(var.type, "dtype", None) == "float64":
                found.append((where, var))
        for node in fgraph.apply_nodes:
            inner = getattr(node.op, "fgraph", None)
            if inner is not None:
                walk(inner, f"{where}/{type(node.op).__name__}")

    walk(fn.maker.fgraph, fn.name or "outer")
    return found


def test_float64_walker_finds_upcasts():
    """The check below can fail: a float64 constant inside a float32 scan is found."""
    x = pt.vector("x", dtype="float32")
    out = pytensor.scan(lambda v: pt.exp(v) * np.float64(1.5), sequences=[x], return_updates=False)
    found = float64_variables(pytensor.function([x], out.astype("float32"), mode="FAST_COMPILE"))
    assert any("Scan" in where for where, _ in found)


# ----------------------------------------------------------------------------
# word-level models
# ----------------------------------------------------------------------------
GRAPHS = ("faithful", "fast") if "graph" in inspect.signature(RecurrentLM).parameters else ("faithful",)
WORD_MODELS = {
    "rnn": (RNNTheano, dict(bptt_truncate=3)),  # SGD, Theano's scan truncation
    "gru": (GRUTheano, dict(num_layers=1)),  # hard_sigmoid, RMSprop (1 layer: compiles faster)
    "lstm": (LSTMTheano, dict()),  # RMSprop
}


def sentences():
    rng = np.random.RandomState(4)
    out = []
    for T in (6, 8, 5, 7, 9):
        x = rng.randint(0, C, T).astype(np.int32)
        x[T // 2] = x[0]  # a repeated token
        out.append((x, np.roll(x, -1)))
    return out


def train_word(model):
    losses = [model.sgd_step(x, y, 0.05) for x, y in sentences()[:STEPS]]
    return losses, model


def initial_word_params(cell):
    cls, kwargs = WORD_MODELS[cell]
    params = cls(C, H, rng=np.random.RandomState(2), **kwargs).get_params()
    if "b" in params:
        params["b"] = np.random.RandomState(3).uniform(-0.3, 0.3, params["b"].shape)
    return params


# the default run: each graph once, each with a cell of its own (rnn-fast and
# gru-faithful); rnn-faithful's float32 compile is also checked by
# test_word_model_built_under_float32_compiles_float32_later; the rest is slow
WORD_DEFAULT = {("rnn", "fast"), ("gru", "faithful")} if len(GRAPHS) > 1 else {("rnn", "faithful"), ("gru", "faithful")}
WORD_MATRIX = [
    (c, g) if (c, g) in WORD_DEFAULT else pytest.param(c, g, marks=pytest.mark.slow)
    for c in WORD_MODELS for g in GRAPHS
]


@pytest.mark.parametrize("cell,graph", WORD_MATRIX)
def test_word_model_float32_tracks_float64(cell, graph):
    cls, kwargs = WORD_MODELS[cell]
    extra = {} if graph == "faithful" else {"graph": graph}
    params = initial_word_params(cell)
    with pytensor.config.change_flags(floatX="float32"):
        m32 = cls(C, H, params=params, **kwargs, **extra)
        assert m32.dtype == "float32"
        losses32, _ = train_word(m32)
    assert pytensor.config.floatX == "float64"
    losses64, m64 = train_word(cls(C, H, params=params, **kwargs, **extra))

    assert rel_err(losses32, losses64) <= REL
    assert losses64[-1] != losses64[0]
    for name, p64 in m64.get_params().items():
        p32 = m32.get_params()[name]
        assert p32.dtype == np.float32, name
        assert rel_err(p32, p64) <= REL, name
        assert rel_err(p64, params[name]) > 10 * REL, name  # it did train
    for name, s64 in m64.get_optimizer_state().items():
        s32 = m32.get_optimizer_state()[name]
        assert s32.dtype == np.float32 and rel_err(s32, s64) <= REL, name
    # no silent upcast anywhere in the compiled training step
    assert float64_variables(m32.sgd_step) == []


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("cell", ["rnn", pytest.param("gru", marks=pytest.mark.slow)])
def test_word_model_built_under_float32_compiles_float32_later(cell, graph):
    """floatX is read at construction: compiling after the flag is restored
    must not mix in float64 (Python float constants take floatX's dtype when
    the graph is built, so graphs must be built under the model's dtype)."""
    cls, kwargs = WORD_MODELS[cell]
    extra = {} if graph == "faithful" else {"graph": graph}
    with pytensor.config.change_flags(floatX="float32"):
        m32 = cls(C, H, params=initial_word_params(cell), **kwargs, **extra)
    x, y = sentences()[0]
    loss = m32.sgd_step(x, y, 0.05)  # compiled now, floatX back at float64
    assert np.isfinite(loss)
    assert all(p.dtype == np.float32 for p in m32.get_params().values())
    assert float64_variables(m32.sgd_step) == []


# ----------------------------------------------------------------------------
# char-rnn
# ----------------------------------------------------------------------------
CHAR_MODELS = {
    "lstm-rmsprop": dict(cell="lstm", num_layers=1),  # char-rnn's RMSprop, grad clip 5
    "gru-adam-dropout": dict(cell="gru", num_layers=2, optimizer="adam", dropout=0.2),
}
VOCAB, T, B = 9, 6, 3


def train_char(model):
    rng = np.random.RandomState(9)
    drop = np.random.default_rng(1)
    states = model.zero_states(B)
    losses = []
    for _ in range(STEPS):
        x = rng.randint(0, VOCAB, (T, B)).astype(np.int32)
        y = rng.randint(0, VOCAB, (T, B)).astype(np.int32)
        loss, states = model.train_step(x, y, 0.01, states, rng=drop)
        losses.append(loss)
    val, _ = model.eval_loss(x, y, states)
    return losses + [val], states


@pytest.mark.parametrize("case", ["lstm-rmsprop", pytest.param("gru-adam-dropout", marks=pytest.mark.slow)])
def test_charrnn_float32_tracks_float64(case):
    kwargs = CHAR_MODELS[case]
    params = CharRNN(VOCAB, hidden_dim=H, seed=5, **kwargs).get_params()
    with pytensor.config.change_flags(floatX="float32"):
        m32 = CharRNN(VOCAB, hidden_dim=H, params=params, **kwargs)
    assert m32.dtype == "float32" and pytensor.config.floatX == "float64"
    losses32, states32 = train_char(m32)
    m64 = CharRNN(VOCAB, hidden_dim=H, params=params, **kwargs)
    losses64, states64 = train_char(m64)

    assert rel_err(losses32, losses64) <= REL
    for s32, s64 in zip(states32, states64):
        assert s32.dtype == np.float32 and rel_err(s32, s64) <= REL
    for name, p64 in m64.get_params().items():
        p32 = m32.get_params()[name]
        assert p32.dtype == np.float32 and rel_err(p32, p64) <= REL, name
        assert rel_err(p64, params[name]) > 10 * REL, name  # it did train
    for name, s64 in m64.get_optimizer_state().items():
        s32 = m32.get_optimizer_state()[name]
        assert s32.dtype == np.float32 and rel_err(s32, s64) <= REL, name
    assert float64_variables(m32._fns["train"]) == []
    assert float64_variables(m32._fns["eval"]) == []
