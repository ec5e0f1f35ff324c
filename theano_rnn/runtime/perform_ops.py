"""Run cheap structural ops through their Python ``perform`` on the C backend.

On the C backend every distinct op of a compiled function becomes one C
module, one ``g++`` run of 0.3-0.6 s on the project's 2-core VM, compiled
one after another.  Two thirds of a fast model's modules are ops that only
reshape, view, check or assemble small things -- ``Reshape``, ``DimShuffle``,
``SpecifyShape``, ``MakeVector``, ``Shape_i``, ``Alloc``, ``ARange``, basic
``Subtensor``/``IncSubtensor``, ``Join``/``Split``, ``Assert`` -- each run once
per call of the function, where their Python ``perform`` (NumPy views and
copies) costs microseconds.  Compiling them costs seconds (BENCHMARKS.md,
"Compile times").

:data:`perform_structural` (a rewrite the C mode runs last, after every
other rewrite, inplace ones included) wraps such a node's op in
:class:`PerformOnly`, an op with no C code whose thunk calls the wrapped op's
own ``perform``.  The values are the same NumPy arrays the op's C code makes
(views, copies, in-place additions: no arithmetic is reordered); the
wrapped op's ``view_map``/``destroy_map`` are kept.

Only the outer graph is rewritten: a ``scan``'s inner graph runs its ops
once per time step, and there the C VM's per-op overhead matters, so scans
get a mode without this rewrite (:mod:`theano_rnn.runtime.modes`).
Arithmetic, reductions, BLAS and every op not listed in
:data:`STRUCTURAL_OPS` keep their C code.  ``THEANO_RNN_PERFORM_OPS=0``
compiles everything in C, as PyTensor does.
"""

from __future__ import annotations

from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.features import ReplaceValidate
from pytensor.graph.rewriting.basic import GraphRewriter, node_rewriter
from pytensor.raise_op import CheckAndRaise
from pytensor.tensor.basic import (
    ARange,
    Alloc,
    AllocEmpty,
    Join,
    MakeVector,
    ScalarFromTensor,
    Split,
    TensorFromScalar,
)
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape
from pytensor.tensor.subtensor import IncSubtensor, Subtensor

from theano_rnn.runtime.switches import switched_off

__all__ = ["ENV_VAR", "STRUCTURAL_OPS", "PerformOnly", "perform_structural", "enabled"]

ENV_VAR = "THEANO_RNN_PERFORM_OPS"

#: op classes whose C module is not worth its compile: shape arithmetic, views,
#: checks, allocation, basic slicing and concatenation
STRUCTURAL_OPS = (Shape, Shape_i, Reshape, SpecifyShape, DimShuffle, MakeVector,
                  ScalarFromTensor, TensorFromScalar, ARange, Alloc, AllocEmpty, Join, Split,
                  CheckAndRaise, Subtensor, IncSubtensor)


def enabled():
    """Whether the C mode wraps structural ops (``THEANO_RNN_PERFORM_OPS`` not off)."""
    return not switched_off(ENV_VAR)


class PerformOnly(Op):
    """``op`` run through its Python ``perform``, never compiled to C."""

    __props__ = ("op",)

    def __init__(self, op):
        self.op = op
        self.view_map = dict(op.view_map)
        self.destroy_map = dict(op.destroy_map)

    def make_node(self, *inputs):
        inner = self.op.make_node(*inputs)
        return Apply(self, list(inner.inputs), [out.type() for out in inner.outputs])

    def _inner(self, node):
        return self.op.make_node(*node.inputs)

    def make_thunk(self, node, storage_map, compute_map, no_recycling, impl=None):
        inner = self._inner(node)
        self.op.prepare_node(inner, storage_map=None, compute_map=None, impl="py")
        perform = self.op.perform
        inputs = [storage_map[v] for v in node.inputs]
        outputs = [storage_map[v] for v in node.outputs]
        computed = [compute_map[v] for v in node.outputs] if compute_map is not None else []

        def thunk():
            perform(inner, [cell[0] for cell in inputs], outputs)
            for cell in computed:
                cell[0] = True

        thunk.inputs = inputs
        thunk.outputs = outputs
        thunk.perform = perform
        thunk.lazy = False
        return thunk

    def perform(self, node, inputs, outputs):
        self.op.perform(self._inner(node), inputs, outputs)

    def infer_shape(self, fgraph, node, input_shapes):
        return self.op.infer_shape(fgraph, self._inner(node), input_shapes)

    def __str__(self):
        return f"PerformOnly{{{self.op}}}"


@node_rewriter(list(STRUCTURAL_OPS))
def local_perform_structural(fgraph, node):
    """Wrap a structural node's op in :class:`PerformOnly` (same inputs, same types)."""
    # the node's own output types: rewrites may have refined them (static
    # shapes) beyond what ``op.make_node`` infers from the same inputs
    new = Apply(PerformOnly(node.op), list(node.inputs), [out.type() for out in node.outputs])
    return new.outputs


class PerformStructural(GraphRewriter):
    """Wrap every structural node of the graph at once, with a single validation.

    The wrapped nodes keep their inputs, output types, ``view_map`` and
    ``destroy_map``, so nothing a validation checks changes; replacing them
    one by one (a walking rewriter validates the whole graph, destroy handler
    included, after each) cost 1-2 ms per node.
    """

    def add_requirements(self, fgraph):
        fgraph.attach_feature(ReplaceValidate())

    @staticmethod
    def _pairs(nodes, fgraph):
        # a generator, consumed one pair at a time by ``replace_all_validate``:
        # each wrapped node is built from its inputs as they are *after* the
        # replacements before it (a node's inputs are rewired in place)
        for node in nodes:
            yield from zip(node.outputs, local_perform_structural.transform(fgraph, node))

    def apply(self, fgraph):
        nodes = [node for node in fgraph.toposort() if isinstance(node.op, STRUCTURAL_OPS)]
        if nodes:
            fgraph.replace_all_validate(self._pairs(nodes, fgraph), reason="perform_structural")


#: the rewrite, for ``Mode.register((perform_structural, POSITION))``
perform_structural = PerformStructural()
#: after PyTensor's last fast_run rewrite (merge3 at 100)
POSITION = 101.0
