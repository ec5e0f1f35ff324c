"""theano_rnn.theano: the names, theano.function's Theano features, config, modes, isolation."""

import importlib
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytensor
import pytest

import theano_rnn.theano as theano
import theano_rnn.theano.tensor as T
from theano_rnn.runtime.modes import mode_name

ROOT = Path(__file__).resolve().parents[2]

#: what the RNN tutorials of the Theano era used, by module
TUTORIAL_NAMES = {
    theano: ["function", "shared", "scan", "grad", "config", "Mode", "Param", "In", "Out",
             "clone", "printing", "gradient", "tensor", "sandbox", "ifelse", "scan_module",
             "shared_randomstreams"],
    T: ["matrix", "vector", "scalar", "ivector", "imatrix", "lscalar", "iscalar", "dmatrix",
        "fmatrix", "tensor3", "row", "col", "dot", "tanh", "exp", "log", "sqrt", "argmax", "max",
        "sum", "mean", "switch", "concatenate", "stack", "zeros", "zeros_like", "ones_like",
        "alloc", "cast", "arange", "neq", "eq", "round", "minimum", "maximum", "clip", "grad",
        "set_subtensor", "inc_subtensor", "flatten", "reshape", "abs_", "sqr", "outer",
        "nnet", "shared_randomstreams", "unbroadcast", "addbroadcast", "patternbroadcast",
        "TensorType", "sigmoid", "softplus", "tensordot", "batched_dot", "argsort", "sgn"],
    T.nnet: ["softmax", "sigmoid", "ultra_fast_sigmoid", "hard_sigmoid", "relu", "softplus",
             "categorical_crossentropy", "binary_crossentropy", "crossentropy_softmax_1hot",
             "softmax_with_bias", "logsoftmax", "elu", "softsign", "sigm", "nnet"],
    theano.gradient: ["grad_clip", "disconnected_grad", "zero_grad", "consider_constant",
                      "jacobian", "hessian"],
    theano.printing: ["pp", "debugprint", "pydotprint", "Print"],
}


@pytest.mark.parametrize("module", list(TUTORIAL_NAMES), ids=lambda m: m.__name__)
def test_every_tutorial_name_is_there(module):
    missing = [n for n in TUTORIAL_NAMES[module] if not hasattr(module, n)]
    assert missing == []


def test_submodules_import_as_theano_had_them():
    from theano_rnn.theano.sandbox.rng_mrg import MRG_RandomStreams
    from theano_rnn.theano.tensor.nnet.nnet import softmax
    from theano_rnn.theano.tensor.nnet.sigm import hard_sigmoid
    from theano_rnn.theano.tensor.shared_randomstreams import RandomStreams

    assert T.nnet.softmax is softmax and T.nnet.hard_sigmoid is hard_sigmoid
    assert theano.sandbox.rng_mrg.MRG_RandomStreams is MRG_RandomStreams
    assert T.shared_randomstreams.RandomStreams is RandomStreams


def test_gpu_modules_raise_one_error_naming_jax():
    with pytest.raises(ImportError, match="mode='JAX'"):
        importlib.import_module("theano_rnn.theano.sandbox.cuda")
    with pytest.raises(ImportError, match="JAX"):
        importlib.import_module("theano_rnn.theano.gpuarray")
    with pytest.raises(ImportError, match="JAX"):
        theano.sandbox.gpuarray
    with pytest.raises(ValueError, match="JAX"):
        theano.config.device = "cuda0"
    with pytest.raises(ValueError, match="JAX"):
        theano.function([], [], mode="GPU")


def test_function_param_and_in_defaults_like_theano():
    x = T.dvector("x")
    decay = T.dscalar("decay")
    scale = T.dscalar("scale")
    f = theano.function([x, theano.Param(decay, default=0.9), theano.In(scale, value=2.0)],
                        (x * decay).sum() * scale)
    a = np.array([1.0, 2.0, 3.0])
    assert f(a) == pytest.approx(6 * 0.9 * 2)
    assert f(a, 0.5) == pytest.approx(6.0)
    assert f(a, scale=1.0) == pytest.approx(6 * 0.9)
    assert f(a, decay=0.1, scale=3.0) == pytest.approx(6 * 0.1 * 3)
    assert f.defaults == {"decay": 0.9, "scale": 2.0}
    assert f.maker is f.fn.maker  # the compiled function's attributes pass through
    with pytest.raises(TypeError, match="no default"):
        f()
    with pytest.raises(TypeError, match="unexpected"):
        f(a, bogus=1)


def test_function_updates_as_dict_or_pairs_givens_and_options():
    w = theano.shared(np.float64(1.0), name="w")
    lr = T.dscalar("lr")
    step_dict = theano.function([lr], w, updates=OrderedDict([(w, w - lr)]))
    step_pairs = theano.function([lr], w, updates=[(w, w * 2 + lr)])
    assert step_dict(0.25) == 1.0 and w.get_value() == 0.75
    assert step_pairs(0.0) == 0.75 and w.get_value() == 1.5
    data = theano.shared(np.arange(6.0).reshape(3, 2))
    i = T.lscalar("i")
    row = T.dvector("row")
    pick = theano.function([i], row.sum(), givens={row: data[i]})
    assert pick(2) == 9.0
    # allow_input_downcast: a float64 value into a float32 input
    v = T.fvector("v")
    f = theano.function([v], v * 2, allow_input_downcast=True)
    assert f(np.array([1.5])).dtype == np.float32
    unused = T.dscalar("unused")
    g = theano.function([v, unused], v.sum(), on_unused_input="ignore", allow_input_downcast=True)
    assert g([1.0, 2.0], 7.0) == 3.0
    with pytest.raises(Exception, match="unused"):
        theano.function([v, unused], v.sum())
    assert theano.function([lr], updates=[(w, w + lr)])(1.0) == []


def test_modes_follow_theano_names():
    x = T.dvector("x")
    for name, backend in [("FAST_RUN", "C"), ("NUMBA", "NUMBA"), ("ProfileMode", "C")]:
        assert mode_name(theano.function([x], x + 1, mode=name).maker.mode) == backend
    slow = theano.function([x], x + 1, mode="FAST_COMPILE").maker.mode
    assert type(slow.linker).__name__ == "PerformLinker"
    assert mode_name(theano.function([x], x + 1).maker.mode) == "C"  # config.mode FAST_RUN
    m = theano.Mode(linker="cvm")  # gwtaylor's
    assert type(m.linker).__name__ == "VMLinker" and m.linker.use_cloop
    assert type(theano.Mode(linker="c").linker).__name__ == "VMLinker"  # runs ops without C code
    assert type(theano.Mode(linker="py").linker).__name__ == "PerformLinker"
    with pytest.raises(ValueError, match="unknown optimizer"):
        theano.Mode(optimizer="o9")


def test_explicit_c_modes_get_the_c_softmax():
    """``theano.Mode(linker='cvm')`` (gwtaylor's) is the project's C mode, C softmax included."""
    x = T.dmatrix("x")
    for mode in (theano.Mode(linker="cvm"), theano.Mode(linker="c|py"), "FAST_RUN"):
        f = theano.function([x], T.nnet.softmax(x), mode=mode)
        assert [type(n.op).__name__ for n in f.maker.fgraph.toposort()] == ["SoftmaxRows"]
        v = np.array([[1.0, 2.0, 3.0], [0.0, -1e300, 5.0]])
        e = np.exp(v - v.max(axis=1, keepdims=True))
        np.testing.assert_allclose(f(v), e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    py = theano.function([x], T.nnet.softmax(x), mode=theano.Mode(linker="py"))
    assert "SoftmaxRows" not in [type(n.op).__name__ for n in py.maker.fgraph.toposort()]


def test_config_floatx_is_pytensors_and_mode_is_ours():
    before = pytensor.config.floatX
    assert theano.config.floatX == before
    try:
        theano.config.floatX = "float32"  # a script asked for float32 graphs
        assert pytensor.config.floatX == "float32" and T.matrix().dtype == "float32"
    finally:
        theano.config.floatX = before
    with pytest.raises(ValueError):
        theano.config.floatX = "float8"
    assert theano.config.mode == "FAST_RUN" and theano.config.device == "cpu"
    with pytest.raises(ValueError):
        theano.config.mode = "NO_SUCH_MODE"
    assert theano.config.optimizer == pytensor.config.optimizer  # read through


def test_theano_flags_string():
    from theano_rnn.theano.configuration import TheanoConfig

    cfg = TheanoConfig()
    before = pytensor.config.floatX
    try:
        cfg.apply_flags("floatX=float32, mode=FAST_COMPILE,device=cpu,lib.cnmem=0.5")
        assert pytensor.config.floatX == "float32" and cfg.mode == "FAST_COMPILE"
    finally:
        pytensor.config.floatX = before
    with pytest.raises(ValueError, match="name=value"):
        cfg.apply_flags("floatX")


def test_tensor_differences_from_pytensor():
    a, b = T.dscalar("a"), T.dscalar("b")
    m = T.dmatrix("m")
    f = theano.function([a, b, m], [T.stack(a, b), T.stack([a, b]), T.flatten(m, outdim=1),
                                     T.flatten(m, 2), T.abs_(a), T.inv(b)])
    s1, s2, flat, flat2, ab, iv = f(-2.0, 4.0, np.ones((2, 3)))
    np.testing.assert_array_equal(s1, [-2.0, 4.0])
    np.testing.assert_array_equal(s2, [-2.0, 4.0])
    assert flat.shape == (6,) and flat2.shape == (2, 3) and ab == 2.0 and iv == 0.25
    row = T.TensorType("float64", (True, False))("row")
    assert row.type.shape == (1, None)
    free = T.unbroadcast(row, 0)
    assert free.type.shape == (None, None)
    g = theano.grad((free * 2).sum(), row)  # the gradient has the input's type
    assert g.type.shape == (1, None)
    np.testing.assert_array_equal(theano.function([row], [free, g])(np.ones((1, 2)))[1], [[2, 2]])
    assert T.addbroadcast(T.dmatrix(), 0).type.shape[0] == 1
    assert T.patternbroadcast(row, (False, False)).type.shape == (None, None)
    with pytest.raises(AttributeError, match="no such name"):
        T.no_such_function


def test_importing_the_namespace_changes_nothing_and_installs_no_theano():
    code = (
        "import importlib.util, sys, pytensor\n"
        "before = (pytensor.config.floatX, pytensor.config.mode, pytensor.config.linker,\n"
        "          pytensor.config.optimizer, list(sys.meta_path), pytensor.function, pytensor.scan)\n"
        "real = importlib.util.find_spec('theano')\n"
        "import theano_rnn.theano, theano_rnn.theano.tensor, theano_rnn.theano.sandbox.rng_mrg\n"
        "after = (pytensor.config.floatX, pytensor.config.mode, pytensor.config.linker,\n"
        "         pytensor.config.optimizer, list(sys.meta_path), pytensor.function, pytensor.scan)\n"
        "assert before == after, (before, after)\n"
        "assert importlib.util.find_spec('theano') == real  # nothing new named theano\n"
        "if real is None:\n"
        "    try:\n"
        "        import theano\n"
        "    except ImportError:\n"
        "        pass\n"
        "    else:\n"
        "        raise AssertionError('import theano worked outside theano-rnn legacy')\n"
        "else:\n"
        "    import theano\n"
        "    assert not theano.__name__.startswith('theano_rnn')\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "ok\n"


def test_scan_keywords_go_backwards_n_steps_strict():
    x = T.dvector("x")
    w = theano.shared(np.float64(2.0), name="w")
    back, updates = theano.scan(lambda v, acc, w: acc * w + v, sequences=x, outputs_info=T.zeros(()),
                                non_sequences=[w], go_backwards=True, strict=True)
    counted, _ = theano.scan(lambda acc: acc + 1, outputs_info=T.zeros(()), n_steps=4)
    assert updates == {}
    b, c = theano.function([x], [back, counted])(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(b, [100.0, 210.0, 421.0])  # 100, 100*2+10, 210*2+1
    np.testing.assert_array_equal(c, [1, 2, 3, 4])
    with pytest.raises(Exception):  # strict: w used but not passed as a non-sequence
        theano.scan(lambda v, acc: acc * w + v, sequences=x, outputs_info=T.zeros(()), strict=True)
