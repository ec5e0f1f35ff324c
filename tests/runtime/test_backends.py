"""The C, Numba and JAX backends give the same numbers (float64, round-off).

Every model is built from the same initial parameters in each backend and
driven only through its public methods; C (Theano's ``FAST_RUN``) is the
reference.  JAX runs in float64 (``compat.get_mode("JAX")`` enables JAX's x64
mode), so the tolerance is float64 round-off for all three backends.

Compiling is the cost here (Numba and JAX compile slowly, Numba caches to
disk): every model/backend pair is built and run once per module and shared by
the tests that compare it.  ``pytest -m slow`` adds the word-level LSTM (the
default run has the LSTM cell through CharRNN), the per-output truncation and
the embedding/fused-gates/Adam char model.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RNNTheano
from theano_rnn.models.char import CharRNN

RTOL = 1e-10
OTHER_BACKENDS = ("NUMBA", "JAX")


def rel_err(a, b):
    """``max|a - b| / max(1, max|b|)``: relative for large values, absolute near 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def assert_same(got, ref, what):
    """Every number of ``got`` within ``RTOL`` of ``ref`` (keys starting with _ are not numbers)."""
    keys = [k for k in ref if not k.startswith("_")]
    assert keys == [k for k in got if not k.startswith("_")], what
    for key in keys:
        assert len(got[key]) == len(ref[key]), (what, key)
        for i, (a, b) in enumerate(zip(got[key], ref[key])):
            err = rel_err(a, b)
            assert err <= RTOL, f"{what}: {key}[{i}] differs by {err:.3g} (relative)"


# ----------------------------------------------------------------------------
# word-level tutorial models
# ----------------------------------------------------------------------------
C, H = 12, 5
X = np.array([0, 3, 5, 3, 7, 1, 5], dtype=np.int32)  # repeated tokens on purpose
Y = np.array([3, 5, 3, 7, 1, 5, 2], dtype=np.int32)
LR = 0.05

WORD_CASES = {
    "rnn": (RNNTheano, dict(bptt_truncate=-1)),
    "rnn-scan-k2": (RNNTheano, dict(bptt_truncate=2)),
    "rnn-per_output-k2": (RNNTheano, dict(bptt_truncate=2, truncation="per_output")),  # slow
    "gru-2layers": (GRUTheano, dict(num_layers=2)),  # RMSprop, hard_sigmoid gates
    "lstm": (LSTMTheano, dict()),  # slow (the default run has the LSTM cell in CharRNN)
}


def _initial(case):
    cls, kwargs = WORD_CASES[case]
    params = cls(C, H, rng=np.random.RandomState(7), **kwargs).get_params()
    if "b" in params:  # non-zero biases, so that they are exercised too
        rng = np.random.RandomState(8)
        params["b"] = rng.uniform(-0.5, 0.5, params["b"].shape)
        params["c"] = rng.uniform(-0.5, 0.5, params["c"].shape)
    return params


@pytest.fixture(scope="module")
def word_run():
    cache = {}

    def run(case, mode):
        if (case, mode) not in cache:
            cls, kwargs = WORD_CASES[case]
            model = cls(C, H, params=_initial(case), mode=mode, **kwargs)
            assert model.mode == mode
            out = {
                "ce_error": [model.ce_error(X, Y)],
                "bptt": list(model.bptt(X, Y)),
                "sgd_step": [model.sgd_step(X, Y, LR), model.sgd_step(X, Y, LR)],
            }
            out["params"] = list(model.get_params().values())
            out["_initial"] = list(_initial(case).values())
            out["optimizer_state"] = list(model.get_optimizer_state().values())
            cache[case, mode] = out
        return cache[case, mode]

    return run


SLOW = pytest.mark.slow  # more compiles than the default run's time budget


def cases(names, slow):
    return [pytest.param(n, marks=SLOW) if n in slow else n for n in names]


@pytest.mark.parametrize("mode", OTHER_BACKENDS)
@pytest.mark.parametrize("case", cases(WORD_CASES, slow={"rnn", "rnn-per_output-k2", "gru-2layers", "lstm"}))
def test_word_models_agree_with_c(word_run, case, mode):
    ref = word_run(case, "C")
    assert len(ref["bptt"]) >= 3 and ref["ce_error"][0] > 0
    # the two steps changed every parameter (so the comparison below has teeth)
    assert min(rel_err(p, p0) for p, p0 in zip(ref["params"], ref["_initial"])) > 1e-6
    assert_same(word_run(case, mode), ref, f"{case} {mode} vs C")


def test_truncation_changes_the_gradient(word_run):
    """The truncated case really is truncated (else it tests nothing new)."""
    full = word_run("rnn", "C")["bptt"]
    truncated = word_run("rnn-scan-k2", "C")["bptt"]
    assert max(rel_err(a, b) for a, b in zip(truncated, full)) > 1e-3


# ----------------------------------------------------------------------------
# char-rnn
# ----------------------------------------------------------------------------
VOCAB, T, B = 9, 5, 3
CHAR_CASES = {
    # char-rnn's defaults: one-hot input, LSTM, RMSprop, clipping; with dropout
    "lstm-2layers-dropout": dict(cell="lstm", num_layers=2, dropout=0.25),
    # the default run's char case: one layer keeps the Numba compile short; the
    # dropout mask on the top layer still has to agree across backends
    "lstm-dropout": dict(cell="lstm", num_layers=1, dropout=0.25),
    # the engine's generic (scan) path; fused_gates, which chose between two scan
    # steps, is deprecated and changes nothing
    "gru-embedding-scan-adam": dict(
        cell="gru", num_layers=2, input_mode="embedding", engine=False, optimizer="adam",
        gate_activation="hard_sigmoid",
    ),
    "rnn": dict(cell="rnn", num_layers=1),
}


def _batches():
    rng = np.random.RandomState(5)
    return [
        (rng.randint(0, VOCAB, (T, B)).astype(np.int32), rng.randint(0, VOCAB, (T, B)).astype(np.int32))
        for _ in range(3)
    ]


@pytest.fixture(scope="module")
def char_run():
    cache = {}

    def run(case, mode):
        if (case, mode) not in cache:
            kwargs = CHAR_CASES[case]
            params = CharRNN(VOCAB, hidden_dim=H, seed=3, **kwargs).get_params()
            model = CharRNN(VOCAB, hidden_dim=H, params=params, mode=mode, **kwargs)
            assert model.mode == mode
            (x0, y0), (x1, y1), (xv, yv) = _batches()
            rng = np.random.default_rng(11)  # dropout masks: the same in every backend
            states = model.zero_states(B)
            losses, finals = [], []
            for x, y in ((x0, y0), (x1, y1)):  # hidden state carried across batches
                loss, states = model.train_step(x, y, 0.01, states, rng=rng)
                losses.append(loss)
                finals.extend(states)
            val, val_states = model.eval_loss(xv, yv, states)
            logits, step_states = model.step(xv[0], states)
            cache[case, mode] = {
                "train_step": losses,
                "final_states": finals,
                "eval_loss": [val, *val_states],
                "step": [logits, *step_states],
                "params": list(model.get_params().values()),
                "optimizer_state": list(model.get_optimizer_state().values()),
                "_fn": model._fns["train"],
            }
        return cache[case, mode]

    return run


@pytest.mark.parametrize("mode", OTHER_BACKENDS)
@pytest.mark.parametrize("case", cases(CHAR_CASES, slow={"lstm-2layers-dropout", "gru-embedding-scan-adam", "rnn"}))
def test_charrnn_agrees_with_c(char_run, case, mode):
    ref = char_run(case, "C")
    assert ref["train_step"][1] != ref["train_step"][0]
    got = char_run(case, mode)
    linker = type(got["_fn"].maker.linker).__name__
    assert mode.lower() in linker.lower(), linker  # really compiled by that backend
    assert_same(got, ref, f"char {case} {mode} vs C")


def test_charrnn_jax_compiles_per_batch_shape():
    """JAX needs static shapes: another batch shape gets its own function."""
    model = CharRNN(VOCAB, "rnn", H, 1, seed=3, mode="JAX")
    ref = CharRNN(VOCAB, "rnn", H, 1, seed=3, mode="C")
    rng = np.random.RandomState(6)
    for shape in ((T, B), (T + 2, B - 1)):
        x = rng.randint(0, VOCAB, shape).astype(np.int32)
        y = rng.randint(0, VOCAB, shape).astype(np.int32)
        got = model.eval_loss(x, y, model.zero_states(shape[1]))[0]
        assert got == pytest.approx(ref.eval_loss(x, y, ref.zero_states(shape[1]))[0], rel=RTOL)
    assert {k for k in model._fns if isinstance(k, tuple)} == {
        ("eval", (T, B)), ("eval", (T + 2, B - 1))
    }


# ----------------------------------------------------------------------------
# JAX precision: x64 per compiled function
# ----------------------------------------------------------------------------
@pytest.mark.slow
def test_jax_float32_and_float64_models_in_one_process():
    """PyTensor fixes JAX's process-global x64 flag from floatX at the first
    import of its JAX dispatch: float32 first would make later float64 graphs
    compute in float32, and x64 on breaks float32 scans (broadcast Python
    scalars become float64).  ``get_mode("JAX")`` scopes x64 per function.
    A fresh process, since the flag is global."""
    code = textwrap.dedent(
        """
        import numpy as np, pytensor, pytensor.tensor as pt
        from theano_rnn.models.char import CharRNN
        from theano_rnn.compat import get_mode
        rng = np.random.RandomState(0)
        x, y = rng.randint(0, 7, (4, 2)).astype(np.int32), rng.randint(0, 7, (4, 2)).astype(np.int32)
        losses = {}
        for mode in ("JAX", "C"):  # JAX first: its dispatch is imported under float32
            with pytensor.config.change_flags(floatX="float32"):
                m = CharRNN(7, "rnn", 4, 1, seed=1, mode=mode)
                out = [m.train_step(x, y, 0.01, m.zero_states(2))[0] for _ in range(2)]
                assert all(p.dtype == np.float32 for p in m.get_params().values())
            losses[mode] = out
        rel32 = max(abs(a - b) / abs(b) for a, b in zip(losses["JAX"], losses["C"]))
        b = pt.dvector("b")
        f64 = pytensor.function([b], b * (1 + 1e-12), mode=get_mode("JAX"))
        r = f64(np.ones(2))
        print(np.asarray(r).dtype, repr(float(r[0] - 1.0)), repr(rel32))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    dtype, diff, rel32 = out.stdout.split()
    assert dtype == "float64"
    assert float(diff) == pytest.approx(1e-12, rel=1e-3)  # float64 precision, not float32's
    assert float(rel32) <= 1e-5  # float32 JAX tracks float32 C
