"""C implementations of the row softmax, its gradient and the row log-softmax.

PyTensor 3's :class:`~pytensor.tensor.special.Softmax` and ``LogSoftmax`` are
``OpFromGraph`` ops: on the C backend each call goes through Python into a
separately compiled inner function, about 0.3 ms per call for a row of 8000
classes -- inside the tutorials' scans, once per token and direction.  Real
Theano had C ops for them (``Softmax``, ``SoftmaxGrad``, ``LogSoftmax``); this
module gives the C backend the same:

* :class:`SoftmaxRows` -- ``softmax(x, axis=-1)`` of a vector or of each row
  of a matrix (any strides), ``float32``/``float64``;
* :class:`SoftmaxRowsGrad` -- its gradient ``sm * (dy - sum(dy * sm))`` per
  row, one pass instead of PyTensor's four elementwise/reduction ops;
* :class:`LogSoftmaxRows` -- ``x - max - log(sum(exp(x - max)))`` per row.

They are installed **only** in theano_rnn's C mode
(:mod:`theano_rnn.runtime.modes`), by the graph rewrites
:data:`softmax_c_rewriter` (PyTensor's nodes -> these ops) and
:func:`scan_mode_rewriter` (scan inner graphs compiled with that mode).  The
graphs that models build stay pure PyTensor; NUMBA, JAX, PY and PyTensor's own
``FAST_RUN`` never see these ops.

Numbers: the same formulas as PyTensor's (shift by the row maximum, exponentiate,
divide by the sum), sums accumulated in double precision for both dtypes.  The
exponentials are NumPy's (its SIMD ``exp`` loop, called from the C code on the
whole shifted block): the C library's scalar ``exp`` made the op no faster
than PyTensor's Numba-backed one.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.rewriting.basic import copy_stack_trace, dfs_rewriter, node_rewriter
from pytensor.link.c.op import COp
from pytensor.scalar.basic import Mul, Sub
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Sum
from pytensor.tensor.special import LogSoftmax, Softmax

__all__ = [
    "SoftmaxRows",
    "SoftmaxRowsGrad",
    "LogSoftmaxRows",
    "softmax_rows",
    "softmax_rows_grad",
    "log_softmax_rows",
    "local_softmax_c",
    "local_log_softmax_c",
    "local_softmax_grad_c",
    "softmax_c_rewriter",
    "SOFTMAX_C_POSITION",
    "softmax_grad_c_rewriter",
    "SOFTMAX_GRAD_C_POSITION",
    "C_OPS",
]

_FLOATS = ("float32", "float64")

#: where :data:`softmax_c_rewriter` runs in the C mode's rewrite sequence:
#: after ``stabilize`` (1.5, which turns ``log(softmax)`` into ``LogSoftmax``)
#: and before the scan rewrites of ``scan_eqopt2`` (1.6), BLAS (1.7),
#: ``specialize`` (2) and the elementwise fusion (49)
SOFTMAX_C_POSITION = 1.55
#: where :data:`softmax_grad_c_rewriter` runs: before ``canonicalize`` (1),
#: which reshapes the gradient graph that ``Softmax.pullback`` builds
SOFTMAX_GRAD_C_POSITION = 0.9


def _as_rows(x, what):
    x = pt.as_tensor_variable(x)
    if x.type.ndim not in (1, 2):
        raise TypeError(f"{what} expects a vector or a matrix, got ndim={x.type.ndim}")
    if x.type.dtype not in _FLOATS:
        raise TypeError(f"{what} expects float32 or float64, got {x.type.dtype}")
    return x


# ---------------------------------------------------------------------------
# C code shared by the ops
# ---------------------------------------------------------------------------
def _geometry(x, what, fail):
    """C declarations of the rows/columns/byte strides of ``x`` (1-D: one row)."""
    return f"""
    npy_intp n_rows, n_cols, rs_{x}, cs_{x};
    if (PyArray_NDIM({x}) == 1) {{
        n_rows = 1; n_cols = PyArray_DIMS({x})[0];
        rs_{x} = 0; cs_{x} = PyArray_STRIDES({x})[0];
    }} else if (PyArray_NDIM({x}) == 2) {{
        n_rows = PyArray_DIMS({x})[0]; n_cols = PyArray_DIMS({x})[1];
        rs_{x} = PyArray_STRIDES({x})[0]; cs_{x} = PyArray_STRIDES({x})[1];
    }} else {{
        PyErr_SetString(PyExc_ValueError, "{what}: expected a vector or a matrix");
        {fail}
    }}
    """


def _strides_of(v, name):
    """C: byte strides ``rs_<name>``/``cs_<name>`` of ``v`` (same layout rules)."""
    return f"""
    npy_intp rs_{name}, cs_{name};
    if (PyArray_NDIM({v}) == 1) {{ rs_{name} = 0; cs_{name} = PyArray_STRIDES({v})[0]; }}
    else {{ rs_{name} = PyArray_STRIDES({v})[0]; cs_{name} = PyArray_STRIDES({v})[1]; }}
    """


def _alloc_like(out, x, typenum, fail):
    """C: make ``out`` a C-contiguous array of ``x``'s shape (reused when it is one)."""
    return f"""
    if ({out} == NULL || PyArray_NDIM({out}) != PyArray_NDIM({x})
        || !PyArray_ISCONTIGUOUS({out})
        || !PyArray_CompareLists(PyArray_DIMS({out}), PyArray_DIMS({x}), PyArray_NDIM({x}))) {{
        Py_XDECREF({out});
        {out} = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM({x}), PyArray_DIMS({x}), {typenum}, 0);
        if ({out} == NULL) {{
            PyErr_SetString(PyExc_MemoryError, "failed to allocate the output");
            {fail}
        }}
    }}
    """


def _shift_rows(x, z, ctype):
    """C: ``z[i, :] = x[i, :] - max(x[i, :])`` for every row (``z`` C-contiguous)."""
    return f"""
    for (npy_intp i = 0; i < n_rows; ++i) {{
        const char* xr = PyArray_BYTES({x}) + i * rs_{x};
        {ctype}* zr = ({ctype}*)PyArray_BYTES({z}) + i * n_cols;
        if (n_cols == 0) continue;
        {ctype} m = *(const {ctype}*)xr;
        if (cs_{x} == (npy_intp)sizeof({ctype})) {{
            const {ctype}* xc = (const {ctype}*)xr;
            for (npy_intp j = 1; j < n_cols; ++j) if (xc[j] > m) m = xc[j];
            for (npy_intp j = 0; j < n_cols; ++j) zr[j] = xc[j] - m;
        }} else {{
            for (npy_intp j = 1; j < n_cols; ++j) {{
                {ctype} v = *(const {ctype}*)(xr + j * cs_{x});
                if (v > m) m = v;
            }}
            for (npy_intp j = 0; j < n_cols; ++j) zr[j] = *(const {ctype}*)(xr + j * cs_{x}) - m;
        }}
    }}
    """


def _exp_inplace(src, dst, fail):
    """C: ``numpy.exp(src, out=dst)``.

    NumPy's ``exp`` loop is vectorised (SIMD): about 6x faster than a loop of
    the C library's scalar ``exp`` for a row of 8000 doubles.  The ufunc is
    looked up once per module.
    """
    return f"""
    {{
        static PyObject* np_exp_ufunc = NULL;
        if (np_exp_ufunc == NULL) {{
            PyObject* np_mod = PyImport_ImportModule("numpy");
            if (np_mod == NULL) {{ {fail} }}
            np_exp_ufunc = PyObject_GetAttrString(np_mod, "exp");
            Py_DECREF(np_mod);
            if (np_exp_ufunc == NULL) {{ {fail} }}
        }}
        PyObject* exp_res = PyObject_CallFunctionObjArgs(
            np_exp_ufunc, (PyObject*){src}, (PyObject*){dst}, NULL);
        if (exp_res == NULL) {{ {fail} }}
        Py_DECREF(exp_res);
    }}
    """


def _c_types(dtype):
    """(C element type, NumPy type number) of ``dtype``."""
    if dtype == "float32":
        return "npy_float32", "NPY_FLOAT32"
    return "npy_float64", "NPY_FLOAT64"


class _RowsCOp(COp):
    """Shared plumbing: C headers, one output of the first input's type."""

    __props__ = ()

    def c_headers(self, **kwargs):
        return ["<math.h>"]

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[-1]]


# ---------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------
class SoftmaxRows(_RowsCOp):
    """``softmax(x, axis=-1)`` of a vector or of each row of a matrix, in C."""

    def make_node(self, x):
        x = _as_rows(x, "SoftmaxRows")
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        outputs[0][0] = (e / e.sum(axis=-1, keepdims=True, dtype=np.float64)).astype(x.dtype)

    def pullback(self, inputs, outputs, output_grads):
        return [softmax_rows_grad(output_grads[0], outputs[0])]

    def pushforward(self, inputs, outputs, eval_points):
        return [softmax_rows_grad(eval_points[0], outputs[0])]

    def c_code(self, node, name, inp, out, sub):
        (x,) = inp
        (z,) = out
        fail = sub["fail"]
        ctype, typenum = _c_types(node.inputs[0].type.dtype)
        return "{" + f"""
        {_geometry(x, "SoftmaxRows", fail)}
        {_alloc_like(z, x, typenum, fail)}
        {_shift_rows(x, z, ctype)}
        {_exp_inplace(z, z, fail)}
        for (npy_intp i = 0; i < n_rows; ++i) {{
            {ctype}* zr = ({ctype}*)PyArray_BYTES({z}) + i * n_cols;
            double s = 0.0;
            for (npy_intp j = 0; j < n_cols; ++j) s += zr[j];
            const {ctype} sc = ({ctype})s;
            for (npy_intp j = 0; j < n_cols; ++j) zr[j] /= sc;
        }}
        """ + "}"  # a block: the fail gotos jump out of it, never past a declaration

    def c_code_cache_version(self):
        return (3,)


class SoftmaxRowsGrad(_RowsCOp):
    """Gradient of :class:`SoftmaxRows`: ``sm * (dy - sum(dy * sm, axis=-1))``.

    Inputs ``(dy, sm)`` of the same type and shape; the output has their shape.
    """

    def make_node(self, dy, sm):
        sm = _as_rows(sm, "SoftmaxRowsGrad")
        dy = _as_rows(dy, "SoftmaxRowsGrad")
        if dy.type.ndim != sm.type.ndim:
            raise TypeError("SoftmaxRowsGrad: dy and sm must have the same ndim")
        if dy.type.dtype != sm.type.dtype:
            dy = pt.cast(dy, sm.type.dtype)
        return Apply(self, [dy, sm], [sm.type()])

    def perform(self, node, inputs, outputs):
        dy, sm = inputs
        if dy.shape != sm.shape:
            raise ValueError(f"SoftmaxRowsGrad: shapes differ, dy {dy.shape} vs sm {sm.shape}")
        s = (dy * sm).sum(axis=-1, keepdims=True, dtype=np.float64).astype(sm.dtype)
        outputs[0][0] = sm * (dy - s)

    def pullback(self, inputs, outputs, output_grads):
        dy, sm = inputs
        (g,) = output_grads
        s = pt.sum(dy * sm, axis=-1, keepdims=True)
        gs = pt.sum(g * sm, axis=-1, keepdims=True)
        return [softmax_rows_grad(g, sm), g * (dy - s) - gs * dy]

    def c_code(self, node, name, inp, out, sub):
        dy, sm = inp
        (z,) = out
        fail = sub["fail"]
        ctype, typenum = _c_types(node.inputs[1].type.dtype)
        return "{" + f"""
        {_geometry(sm, "SoftmaxRowsGrad", fail)}
        if (PyArray_NDIM({dy}) != PyArray_NDIM({sm})
            || !PyArray_CompareLists(PyArray_DIMS({dy}), PyArray_DIMS({sm}), PyArray_NDIM({sm}))) {{
            PyErr_SetString(PyExc_ValueError, "SoftmaxRowsGrad: dy and sm have different shapes");
            {fail}
        }}
        {_strides_of(dy, "dy_" + name)}
        {_alloc_like(z, sm, typenum, fail)}
        for (npy_intp i = 0; i < n_rows; ++i) {{
            const char* sr = PyArray_BYTES({sm}) + i * rs_{sm};
            const char* dr = PyArray_BYTES({dy}) + i * rs_dy_{name};
            {ctype}* zr = ({ctype}*)PyArray_BYTES({z}) + i * n_cols;
            double s = 0.0;
            for (npy_intp j = 0; j < n_cols; ++j) {{
                s += (double)(*(const {ctype}*)(dr + j * cs_dy_{name}))
                     * (*(const {ctype}*)(sr + j * cs_{sm}));
            }}
            const {ctype} sc = ({ctype})s;
            for (npy_intp j = 0; j < n_cols; ++j) {{
                zr[j] = (*(const {ctype}*)(sr + j * cs_{sm}))
                        * ((*(const {ctype}*)(dr + j * cs_dy_{name})) - sc);
            }}
        }}
        """ + "}"  # a block: the fail gotos jump out of it, never past a declaration

    def c_code_cache_version(self):
        return (3,)


# ---------------------------------------------------------------------------
# log-softmax
# ---------------------------------------------------------------------------
class LogSoftmaxRows(_RowsCOp):
    """``log_softmax(x, axis=-1)`` of a vector or of each row of a matrix, in C."""

    def make_node(self, x):
        x = _as_rows(x, "LogSoftmaxRows")
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        xs = x - x.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(xs).sum(axis=-1, keepdims=True, dtype=np.float64)).astype(x.dtype)
        outputs[0][0] = xs - lse

    def pullback(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [gz - pt.sum(gz, axis=-1, keepdims=True) * softmax_rows(x)]

    def c_code(self, node, name, inp, out, sub):
        (x,) = inp
        (z,) = out
        fail = sub["fail"]
        ctype, typenum = _c_types(node.inputs[0].type.dtype)
        return "{" + f"""
        {_geometry(x, "LogSoftmaxRows", fail)}
        {_alloc_like(z, x, typenum, fail)}
        {_shift_rows(x, z, ctype)}
        PyArrayObject* e_{name} = (PyArrayObject*)PyArray_EMPTY(
            PyArray_NDIM({z}), PyArray_DIMS({z}), {typenum}, 0);
        if (e_{name} == NULL) {{ {fail} }}
        {_exp_inplace(z, "e_" + name, "Py_DECREF(e_%s); %s" % (name, fail))}
        for (npy_intp i = 0; i < n_rows; ++i) {{
            const {ctype}* er = (const {ctype}*)PyArray_BYTES(e_{name}) + i * n_cols;
            {ctype}* zr = ({ctype}*)PyArray_BYTES({z}) + i * n_cols;
            double s = 0.0;
            for (npy_intp j = 0; j < n_cols; ++j) s += er[j];
            const {ctype} lse = ({ctype})log(s);
            for (npy_intp j = 0; j < n_cols; ++j) zr[j] -= lse;
        }}
        Py_DECREF(e_{name});
        """ + "}"  # a block: the fail gotos jump out of it, never past a declaration

    def c_code_cache_version(self):
        return (3,)


softmax_rows = SoftmaxRows()
softmax_rows_grad = SoftmaxRowsGrad()
log_softmax_rows = LogSoftmaxRows()

#: the op classes this module installs (tests look for them in compiled graphs)
C_OPS = (SoftmaxRows, SoftmaxRowsGrad, LogSoftmaxRows)


# ---------------------------------------------------------------------------
# rewrites (installed by runtime.modes in the C mode only)
# ---------------------------------------------------------------------------
def _rows_axis(op, x):
    """Whether ``op`` (Softmax/LogSoftmax) normalises ``x`` along its last axis
    and ``x`` is a float32/float64 vector or matrix."""
    ndim = x.type.ndim
    if ndim not in (1, 2) or x.type.dtype not in _FLOATS:
        return False
    axis = op.axis
    if axis is None:
        return ndim == 1
    return tuple(a % ndim for a in axis) == (ndim - 1,)


@node_rewriter([Softmax])
def local_softmax_c(fgraph, node):
    """PyTensor ``Softmax`` over the last axis of a vector/matrix -> :class:`SoftmaxRows`."""
    (x,) = node.inputs
    if not _rows_axis(node.op, x):
        return None
    out = softmax_rows(x)
    copy_stack_trace(node.outputs, out)
    return [out]


@node_rewriter([LogSoftmax])
def local_log_softmax_c(fgraph, node):
    """PyTensor ``LogSoftmax`` over the last axis -> :class:`LogSoftmaxRows`."""
    (x,) = node.inputs
    if not _rows_axis(node.op, x):
        return None
    out = log_softmax_rows(x)
    copy_stack_trace(node.outputs, out)
    return [out]


def _is_softmax_rows_out(v):
    """Whether ``v`` is the output of a row softmax (PyTensor's or ours)."""
    owner = v.owner
    if owner is None:
        return False
    if isinstance(owner.op, SoftmaxRows):
        return True
    return isinstance(owner.op, Softmax) and _rows_axis(owner.op, owner.inputs[0])


def _elemwise_of(v, scalar_op, n_inputs=2):
    owner = v.owner
    if (owner is not None and isinstance(owner.op, Elemwise)
            and isinstance(owner.op.scalar_op, scalar_op) and len(owner.inputs) == n_inputs):
        return owner.inputs
    return None


def _product_with_softmax(v):
    """``(other, sm)`` if ``v = other * sm`` (either order) with ``sm`` a row softmax."""
    factors = _elemwise_of(v, Mul)
    if factors is None:
        return None
    a, b = factors
    if _is_softmax_rows_out(b):
        return a, b
    if _is_softmax_rows_out(a):
        return b, a
    return None


def _row_sum_kept(v):
    """``d`` if ``v`` is ``sum(d, axis=-1, keepdims=True)`` (a Sum then an ExpandDims)."""
    owner = v.owner
    if owner is None or not isinstance(owner.op, DimShuffle):
        return None
    s = owner.inputs[0]
    if s.owner is None or not isinstance(s.owner.op, Sum):
        return None
    d = s.owner.inputs[0]
    nd = d.type.ndim
    axis = s.owner.op.axis
    if axis is None or tuple(a % nd for a in axis) != (nd - 1,):
        return None
    if owner.op.new_order != tuple(range(nd - 1)) + ("x",):
        return None
    return d


@node_rewriter([Elemwise])
def local_softmax_grad_c(fgraph, node):
    """PyTensor's softmax gradient ``d - sm * sum(d, axis=-1, keepdims=True)``
    with ``d = dy * sm`` -> ``SoftmaxRowsGrad(dy, sm)``.

    That is the graph :meth:`Softmax.pullback` builds; it is matched before
    canonicalisation can reshape it (:data:`softmax_grad_c_rewriter` at
    :data:`SOFTMAX_GRAD_C_POSITION`; again in :data:`softmax_c_rewriter`).  ``dy`` must have ``sm``'s static type
    (no broadcasting), otherwise the graph is left as it is.
    """
    if not isinstance(node.op.scalar_op, Sub) or len(node.inputs) != 2:
        return None
    d, rhs = node.inputs
    d_parts = _product_with_softmax(d)
    if d_parts is None:
        return None
    dy, sm = d_parts
    r_parts = _elemwise_of(rhs, Mul)
    if r_parts is None:
        return None
    a, b = r_parts
    if a is sm:
        summed = _row_sum_kept(b)
    elif b is sm:
        summed = _row_sum_kept(a)
    else:
        return None
    if summed is not d:
        return None
    if dy.type.dtype != sm.type.dtype or dy.type.broadcastable != sm.type.broadcastable:
        return None
    out = softmax_rows_grad(dy, sm)
    if out.type != node.outputs[0].type:
        return None
    copy_stack_trace(node.outputs, out)
    return [out]


#: the gradient rewrite alone, before canonicalisation
softmax_grad_c_rewriter = dfs_rewriter(local_softmax_grad_c)

#: the three rewrites in one pass (gradient first: it matches PyTensor's
#: ``Softmax`` output before that node is itself replaced)
softmax_c_rewriter = dfs_rewriter(local_softmax_grad_c, local_softmax_c, local_log_softmax_c)
