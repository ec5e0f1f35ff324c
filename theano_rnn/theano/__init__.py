"""A drop-in ``theano`` namespace on PyTensor, for Theano-era scripts.

Change the imports::

    import theano_rnn.theano as theano
    import theano_rnn.theano.tensor as T
    from theano_rnn.theano.sandbox.rng_mrg import MRG_RandomStreams

or run the unchanged script with ``theano-rnn legacy SCRIPT [ARGS...]``,
which makes ``import theano`` resolve here for that process only (this
package never installs a top-level ``theano`` module).

Top-level names: ``function`` (``Param``/``In`` defaults, ``givens``,
``updates`` dict or pairs, Theano's mode names), ``shared``, ``scan``
(Theano's ``(outputs, updates)``; random-drawing bodies), ``grad``,
``config`` (``floatX``, ``mode``), ``Mode``, ``Param``, ``In``, ``Out``,
``clone``, ``tensor``, ``printing``, ``gradient``, ``ifelse``, ``sandbox``
(``rng_mrg``), ``shared_randomstreams``, ``scan_module``.  GPU modules
(``theano.sandbox.cuda``, ``theano.gpuarray``) raise one ImportError that
names the JAX backend.

Importing this package changes nothing in PyTensor: no flag is set, no
function patched; only what a script asks for (``config.floatX = ...``)
is passed on.
"""

from __future__ import annotations

import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.replace import clone_replace

from theano_rnn.compat import scan
from theano_rnn.theano import gradient, ifelse, printing, sandbox, scan_module, shared_randomstreams, tensor
from theano_rnn.theano.compile import In, Out, Param, function
from theano_rnn.theano.configuration import config
from theano_rnn.theano.gradient import grad
from theano_rnn.theano.modes import GPU_MESSAGE, Mode

__all__ = [
    "function", "shared", "scan", "grad", "config", "Mode", "Param", "In", "Out", "clone",
    "tensor", "printing", "gradient", "ifelse", "sandbox", "scan_module", "shared_randomstreams",
    "SharedVariable", "GPU_MESSAGE", "__version__",
]

#: Theano's last release number, so ``theano.__version__`` checks in scripts pass
__version__ = "1.0.5"

shared = pytensor.shared


def clone(output, replace=None, strict=True, share_inputs=True):
    """``theano.clone``: copy of ``output`` with the ``replace`` substitutions."""
    return clone_replace(output, replace=replace, rebuild_strict=strict, share_inputs=share_inputs)


def __getattr__(name):
    if name in ("gpuarray", "cuda"):
        raise ImportError(GPU_MESSAGE)
    raise AttributeError(f"module 'theano' (theano_rnn.theano) has no attribute {name!r}")
