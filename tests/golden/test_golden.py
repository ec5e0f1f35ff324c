"""The port against golden results recorded with the real Theano 1.0.5.

The ``.npz`` files beside this module were written by
``scripts/make_theano_golden.py`` in the environment that
``scripts/make_theano_env.py`` builds (their ``meta`` string records the
Theano, NumPy, SciPy, Python and BLAS versions and the THEANO_FLAGS).  Theano
is not needed here: the port is built with the golden initial parameters and
every recorded quantity is compared.

"Relative difference" of an array is ``max|port - theano| / max|theano|``
(absolute where the Theano array is all zeros); the bound is 1e-10 in float64
and 1e-4 in float32.

Every recorded quantity is compared in the default run (issue 15: the default
suite holds the port to every golden result), float64 and float32: about 130 s
of one worker, most of it compiling the faithful GRU/LSTM graphs (5-10 s each).

``python tests/golden/test_golden.py`` prints the measured maxima.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytensor
import pytest

from theano_rnn import GRUTheano, LSTMTheano, RNNTheano
from theano_rnn.models.elman import MetaRNN
from theano_rnn.runtime.compile import compile_function
from theano_rnn.runtime.modes import get_mode

HERE = Path(__file__).resolve().parent
TOL = {"float64": 1e-10, "float32": 1e-4}
WORD = {"rnn_t4": (RNNTheano, 4), "rnn_full": (RNNTheano, -1), "gru": (GRUTheano, -1),
        "lstm": (LSTMTheano, -1)}
ELMAN = ("real", "binary", "softmax")
#: the trained model's location (it is not shipped: 3.2 MB)
TRAINED_ENV = "THEANO_RNN_TRAINED_MODEL"


def load(name):
    """``(arrays, meta)`` of ``tests/golden/<name>.npz``."""
    with np.load(HERE / f"{name}.npz") as f:
        arrays = {k: f[k] for k in f.files if k != "meta"}
        meta = json.loads(str(f["meta"]))
    return arrays, meta


def dataset():
    with np.load(HERE / "dataset.npz") as f:
        tokens, offsets = f["tokens"], f["offsets"]
    seqs = [tokens[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    return [s[:-1].astype(np.int32) for s in seqs], [s[1:].astype(np.int32) for s in seqs]


def rel(port, ref):
    port, ref = np.asarray(port, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert port.shape == ref.shape, (port.shape, ref.shape)
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    diff = float(np.max(np.abs(port - ref))) if ref.size else 0.0
    return diff / scale if scale > 0 else diff


class Comparer:
    """Collects ``name -> relative difference`` and checks them against the bound."""

    def __init__(self, precision):
        self.tol = TOL[precision]
        self.diffs = {}

    def __call__(self, name, port, ref):
        self.diffs[name] = rel(port, ref)

    def check(self):
        bad = {k: v for k, v in self.diffs.items() if not v <= self.tol}
        assert not bad, f"beyond {self.tol:g}: {bad}"
        return max(self.diffs.values())


def build_word(kind, precision, g):
    cls, truncate = WORD[kind]
    names = [k.split("/", 1)[1] for k in g if k.startswith("init/")]
    params = {n: g[f"init/{n}"] for n in names}
    C, H = params["V"].shape
    with pytensor.config.change_flags(floatX=precision):
        model = cls(C, H, truncate, params=params)
    assert model.dtype == precision
    return model


def word_gradients(kind, precision):
    """Probabilities, ``ce_error`` and every gradient on the probe sentence."""
    g, meta = load(f"{kind}_{precision}")
    X, Y = dataset()
    model = build_word(kind, precision, g)
    cmp = Comparer(precision)
    i = int(g["probe/index"])
    x, y = X[i], Y[i]
    assert len(x) > 4 + 4  # longer than the truncation
    cmp("probs", model.forward_propagation(x), g["probe/probs"])
    cmp("ce_error", model.ce_error(x, y), g["probe/ce_error"])
    assert list(model.bptt_names) == meta["settings"]["names"]
    for n, grad in zip(model.bptt_names, model.bptt(x, y)):
        cmp(f"grad/{n}", grad, g[f"probe/grad/{n}"])
    return cmp


def word_step(kind, precision, model=None, cmp=None):
    """``ce_error`` and one ``sgd_step`` on the probe sentence: parameters
    (and RMSprop caches) after it.  Resets ``model`` to the initial state after."""
    g, meta = load(f"{kind}_{precision}")
    X, Y = dataset()
    model = model or build_word(kind, precision, g)
    cmp = cmp or Comparer(precision)
    i = int(g["probe/index"])
    x, y = X[i], Y[i]
    cmp("ce_error", model.ce_error(x, y), g["probe/ce_error"])
    args = (meta["settings"]["decay"],) if meta["settings"]["caches"] else ()
    model.sgd_step(x, y, meta["settings"]["learning_rate"], *args)
    for n, value in model.get_params().items():
        cmp(f"step/{n}", value, g[f"step/{n}"])
    for m, value in model.get_optimizer_state().items():
        cmp(f"step/{m}", value, g[f"step/{m}"])
    assert sorted(model.get_optimizer_state()) == sorted(meta["settings"]["caches"])
    model.set_params({n: g[f"init/{n}"] for n in meta["settings"]["names"]})
    state = model.get_optimizer_state()
    model.set_optimizer_state({m: np.zeros_like(v) for m, v in state.items()})
    return cmp


def word_curve(kind, precision):
    """One step (:func:`word_step`), then from the initial state again the
    tutorial's loop: evaluate at the start of every epoch (lr halving for the
    SGD RNN), one step per sentence in order; then the final loss."""
    g, meta = load(f"{kind}_{precision}")
    s = meta["settings"]
    X, Y = dataset()
    model = build_word(kind, precision, g)
    cmp = word_step(kind, precision, model)
    args = (s["decay"],) if s["caches"] else ()
    losses, rates, lr, seen = [], [], s["learning_rate"], 0
    for _epoch in range(s["nepoch"]):
        losses.append((seen, model.calculate_loss(X, Y)))
        if s["lr_halving"] and len(losses) > 1 and losses[-1][1] > losses[-2][1]:
            lr *= 0.5
        rates.append(lr)
        for x, y in zip(X, Y):
            model.sgd_step(x, y, lr, *args)
            seen += 1
    ref = g["curve/losses"]
    assert [n for n, _ in losses] == list(ref[:, 0])
    cmp("losses", [loss for _, loss in losses], ref[:, 1])
    assert rates == list(g["curve/learning_rates"])
    cmp("final_loss", model.calculate_loss(X, Y), g["curve/final_loss"])
    for n, value in model.get_params().items():
        cmp(f"final/{n}", value, g[f"final/{n}"])
    for m, value in model.get_optimizer_state().items():
        cmp(f"final/{m}", value, g[f"final/{m}"])
    return cmp


def elman(output_type, precision):
    g, meta = load(f"elman_{output_type}_{precision}")
    s = meta["settings"]
    cfg = {k: s[k] for k in ("n_in", "n_hidden", "n_out", "learning_rate", "n_epochs", "L1_reg",
                             "L2_reg", "learning_rate_decay", "final_momentum",
                             "initial_momentum", "momentum_switchover", "output_type")}
    with pytensor.config.change_flags(floatX=precision):
        model = MetaRNN(activation=s["activation"], **cfg)
        names = [p.name for p in model.rnn.params]
        model._set_weights([g[f"init/{n}"] for n in names])
        cmp = Comparer(precision)
        X, Y = g["data/X"], g["data/Y"]
        # the training cost and its gradients on sequence 0, before training
        cost = model.cost(model.y)
        grads = pytensor.grad(cost, model.rnn.params)
        probe = compile_function([model.x, model.y], [cost, *grads], mode=get_mode("C"),
                                 name="golden.elman_probe")
        out = probe(model._x(X[0]), model._y(Y[0]))
        cmp("probe/cost", out[0], g["probe/cost"])
        for n, grad in zip(names, out[1:]):
            cmp(f"probe/grad/{n}", grad, g[f"probe/grad/{n}"])
        # his fit loop, the train loss after every update; the per-update cost
        # is read by wrapping the instance's compiled training function
        costs, history = [], []
        train = model._fn("train")

        def recording(*a):
            out = train(*a)
            costs.append(float(out))
            return out

        model._fns["train"] = recording
        model.fit(X, Y, validation_frequency=1, callback=lambda e, tr, te: history.append(tr))
    assert len(history) == len(g["train/history"]) == 20
    cmp("train/costs", costs, g["train/costs"])
    cmp("train/history", history, g["train/history"])
    for n, p in zip(names, model.rnn.params):
        cmp(f"final/{n}", p.get_value(), g[f"final/{n}"])
        cmp(f"final/v_{n}", model.rnn.updates[p].get_value(), g[f"final/v_{n}"])
    return cmp


# ---------------------------------------------------------------------------
PRECISIONS = ["float64", "float32"]


def test_golden_files_record_their_environment():
    _, meta = load("rnn_t4_float64")
    env = meta["env"]
    assert env["theano"] == "1.0.5" and env["numpy"] == "1.23.5" and env["scipy"] == "1.10.1"
    assert env["blas_so"] and "openblas" in env["blas_so"] and env["floatX"] == "float64"
    assert env["python"].startswith("3.11") and "blas.ldflags" in env["theano_flags"]
    X, Y = dataset()
    assert len(X) == 300 and max(int(np.max(y)) for y in Y) < 200


def word_cases():
    """Every word-level model in both precisions."""
    return [pytest.param(kind, precision, id=f"{kind}-{precision}")
            for precision in ("float64", "float32") for kind in sorted(WORD)]


@pytest.mark.parametrize("kind, precision", word_cases())
def test_word_gradients(kind, precision):
    """Probabilities, ce_error and every gradient on one sentence longer than
    the truncation."""
    word_gradients(kind, precision).check()


def test_probe_sentence_exercises_the_truncation():
    """Theano's gradients with truncate_gradient=4 and -1 differ on the probe
    sentence (its outputs before the last 4 steps get no gradient with 4)."""
    t4, _ = load("rnn_t4_float64")
    full, _ = load("rnn_full_float64")
    np.testing.assert_array_equal(t4["probe/ce_error"], full["probe/ce_error"])
    assert rel(t4["probe/grad/V"], full["probe/grad/V"]) > 0.1


@pytest.mark.parametrize("kind, precision", word_cases())
def test_word_step_and_curve(kind, precision):
    """One step (parameters and caches after it), then 3 epochs of the
    tutorial's loop: losses, learning rates, final parameters and caches."""
    word_curve(kind, precision).check()


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("output_type", ELMAN)
def test_elman_trajectory(output_type, precision):
    """gwtaylor's MetaRNN: cost and gradients at the start, the 20-update
    momentum trajectory (cost and mean train loss), final weights and velocities."""
    elman(output_type, precision).check()


@pytest.mark.parametrize("kind", sorted(WORD))
def test_seed_10_draws_theanos_initial_parameters(kind):
    """``np.random.seed(10)`` then the port's constructor draws exactly the
    weights the Theano listing drew (same order, same shapes)."""
    g, _ = load(f"{kind}_float64")
    cls, truncate = WORD[kind]
    C, H = g["init/V"].shape
    np.random.seed(10)
    model = cls(C, H, truncate)
    for n, value in model.get_params().items():
        np.testing.assert_array_equal(value, g[f"init/{n}"], err_msg=n)


@pytest.mark.parametrize("output_type", ELMAN)
def test_seed_10_draws_gwtaylors_initial_weights(output_type):
    g, meta = load(f"elman_{output_type}_float64")
    s = meta["settings"]
    np.random.seed(10)
    model = MetaRNN(n_in=s["n_in"], n_hidden=s["n_hidden"], n_out=s["n_out"], output_type=output_type)
    for p in model.rnn.params:
        np.testing.assert_array_equal(p.get_value(), g[f"init/{p.name}"], err_msg=p.name)


def test_trained_model_probabilities():
    """The tutorial's shipped data/trained-model-theano.npz (not in this
    repository): same shapes, file hash and probabilities as under Theano."""
    g, meta = load("trained_model_float64")
    s = meta["settings"]
    assert s["shapes"] == {"U": [50, 8000], "V": [8000, 50], "W": [50, 50]}
    path = os.environ.get(TRAINED_ENV)
    if not path or not os.path.isfile(path):
        pytest.skip(f"set {TRAINED_ENV} to the tutorial's data/trained-model-theano.npz "
                    "(dennybritz/rnn-tutorial-rnnlm) to compare its probabilities")
    import hashlib

    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == s["sha256"]
    with np.load(path) as f:
        params = {k: f[k] for k in ("U", "V", "W")}
    model = RNNTheano(8000, 50, 4, params=params)
    probs = model.forward_propagation(g["x"])
    cmp = Comparer("float64")
    cmp("probs_rows", probs[g["rows"]], g["probs_rows"])
    cmp("p_targets", probs[np.arange(len(g["y"])), g["y"]], g["p_targets"])
    cmp("ce_error", model.ce_error(g["x"], g["y"]), g["ce_error"])
    np.testing.assert_array_equal(probs.argmax(axis=1), g["argmax"])
    cmp.check()


def test_dataset_is_rebuilt_from_the_corpus(shared_data):
    """The golden script's own dataset code (numpy + stdlib; Theano is only
    imported inside its run functions) rebuilds dataset.npz from the corpus."""
    import importlib.util

    corpus = shared_data / "tinyshakespeare" / "input.txt"
    if not corpus.is_file():
        pytest.skip(f"{corpus} absent")
    spec = importlib.util.spec_from_file_location(
        "_script_make_theano_golden", HERE.parents[1] / "scripts" / "make_theano_golden.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    tokens, offsets, index_to_word, digest, size = script.build_dataset(str(corpus))
    with np.load(HERE / "dataset.npz") as f:
        np.testing.assert_array_equal(tokens, f["tokens"])
        np.testing.assert_array_equal(offsets, f["offsets"])
        assert list(index_to_word) == list(f["index_to_word"])
        meta = json.loads(str(f["meta"]))
    assert (digest, size) == (meta["sha256"], meta["size"])


if __name__ == "__main__":  # the measured maxima, for the README
    for precision in ("float64", "float32"):
        for kind in sorted(WORD):
            for what, fn in (("gradients", word_gradients), ("step+curve", word_curve)):
                d = fn(kind, precision).diffs
                worst = max(d, key=d.get)
                print(f"{precision} {kind:8s} {what}: max rel {d[worst]:.2e} ({worst})")
        for out in ELMAN:
            d = elman(out, precision).diffs
            worst = max(d, key=d.get)
            print(f"{precision} elman_{out:7s} trajectory: max rel {d[worst]:.2e} ({worst})")
