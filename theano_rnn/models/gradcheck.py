"""Numerical gradient check of a model's back-propagation (``gradient_check_theano``).

For every entry of every parameter (or of the ones named), the gradient of
the sentence's summed cross-entropy returned by ``model.bptt(x, y)`` is
compared with the central difference ``(L(p + h) - L(p - h)) / 2h``; the
relative error is ``|bp - est| / (|bp| + |est|)`` (0 when both are 0), as in
the tutorials' ``gradient_check_theano``.

Differences from the tutorials, all deliberate:

* Nothing is printed: a :class:`GradCheckReport` of per-entry
  :class:`GradCheckRecord` s is returned (``.passed``, ``.worst``,
  ``.failures``); every entry is checked instead of stopping at the first
  failure.
* The tutorial set ``model.bptt_truncate = 1000`` *after* the graph was
  compiled, which changed nothing: a truncated model was checked against the
  untruncated numerical gradient.  Here a model whose truncation shortens this
  sentence (``0 < bptt_truncate < len(x)``) is either replaced by an
  untruncated copy with the same weights (``rebuild=True``, logged) or
  refused with ``ValueError`` (``rebuild=False``).
* Gradients are matched to parameters by *name*: ``GRUTheano.bptt`` returns
  the tutorial's order ``[dE, dU, dW, db, dV, dc]``, not ``param_names``
  order (the part-4 tutorial's check indexed them by position); when a
  model's ``bptt`` order is unknown the gradients are compiled by name.
* Every parameter is restored to its exact original value afterwards, even
  when an exception interrupts the check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from theano_rnn.models.word import GRUTheano, RecurrentLM, model_from_config

__all__ = [
    "GradCheckRecord", "GradCheckReport", "gradient_check", "bptt_names", "named_gradients",
]

log = logging.getLogger(__name__)

#: ``GRUTheano.bptt`` (and ``LSTMTheano``'s, inherited) returns the tutorial's order.
_GATED_BPTT_ORDER = ("E", "U", "W", "b", "V", "c")


@dataclass(frozen=True)
class GradCheckRecord:
    """One parameter entry: back-propagated vs estimated gradient."""

    parameter: str
    index: tuple
    backprop: float
    estimate: float
    relative_error: float
    passed: bool


@dataclass
class GradCheckReport:
    """All records of one check, with its settings."""

    records: list = field(default_factory=list)
    h: float = 0.001
    error_threshold: float = 0.01
    rebuilt: bool = False
    parameters: tuple = ()

    @property
    def passed(self):
        """``True`` when every checked entry passed."""
        return all(r.passed for r in self.records)

    @property
    def failures(self):
        return [r for r in self.records if not r.passed]

    @property
    def worst(self):
        """The record with the largest relative error (``None`` if nothing was checked)."""
        if not self.records:
            return None
        return max(self.records, key=lambda r: r.relative_error)

    def for_parameter(self, name):
        return [r for r in self.records if r.parameter == name]

    def passed_for(self, name):
        """The tutorial's "Gradient check for parameter <name> passed"."""
        recs = self.for_parameter(name)
        if not recs:
            raise KeyError(f"parameter {name!r} was not checked")
        return all(r.passed for r in recs)

    def summary(self):
        """One line: verdict, entries checked, worst relative error."""
        w = self.worst
        if w is None:
            worst = "nothing checked"
        else:
            worst = f"worst {w.relative_error:.3g} at {w.parameter}{list(w.index)}"
        verdict = "passed" if self.passed else f"FAILED ({len(self.failures)} entries)"
        return (
            f"gradient check {verdict}: {len(self.records)} entries of "
            f"{', '.join(self.parameters)}; {worst}; threshold {self.error_threshold}, h={self.h}"
        )


def bptt_names(model):
    """The parameter name of each array ``model.bptt(x, y)`` returns, or ``None``.

    A model may declare the order as ``model.bptt_names``.  Otherwise: the
    base class's ``bptt`` returns ``param_names`` order; ``GRUTheano`` (and
    ``LSTMTheano``) with the tutorial's parameters ``E U W V b c`` return the
    tutorial's ``E, U, W, b, V, c``.  ``None`` means the order is unknown;
    :func:`named_gradients` then compiles the gradients by name.
    """
    names = getattr(model, "bptt_names", None)
    if names:
        return tuple(names)
    bptt = getattr(type(model), "bptt", None)
    if bptt is RecurrentLM.bptt:
        return tuple(model.param_names)
    if isinstance(model, GRUTheano) and set(model.param_names) == set(_GATED_BPTT_ORDER):
        return _GATED_BPTT_ORDER
    return None


def named_gradients(model, x, y):
    """``name -> gradient`` of the model's (possibly truncated) cost on one sentence.

    Uses ``model.bptt`` when its output order is known (:func:`bptt_names`);
    otherwise compiles the gradients of the model's graph, which are in
    ``param_names`` order by construction.
    """
    names = bptt_names(model)
    if names is not None:
        grads = model.bptt(x, y)
        if len(grads) != len(names):
            raise TypeError(
                f"model.bptt returned {len(grads)} arrays for {len(names)} names {names}"
            )
        return dict(zip(names, grads))
    graph = model._graph()
    fn = model._function([graph["x"], graph["y"]], graph["grads"], name="named_gradients")
    return dict(zip(model.param_names, fn(x, y)))


def _untruncated_copy(model):
    config = dict(model.config())
    config["bptt_truncate"] = -1
    mode = getattr(model, "_mode", None) or getattr(model, "mode", None)
    return model_from_config(config, params=model.get_params(), mode=mode)


def _relative_error(bp, est):
    denom = abs(bp) + abs(est)
    return 0.0 if denom == 0 else abs(bp - est) / denom


def gradient_check(model, x, y, h=0.001, error_threshold=0.01, rebuild=True, parameters=None):
    """Check ``model.bptt`` against central differences on every parameter entry.

    Args:
        model: a :class:`~theano_rnn.models.word.RecurrentLM` (RNN, GRU or LSTM).
        x, y: one sentence (index sequences of equal length).
        h: finite-difference step.
        error_threshold: largest relative error that passes.
        rebuild: for a model whose ``bptt_truncate`` truncates this sentence,
            check an untruncated copy with the same weights (``True``, logged
            at INFO) or raise ``ValueError`` (``False``).
        parameters: names to check (default: all, in ``param_names`` order).
    Returns a :class:`GradCheckReport`.  The model's parameters are restored
    bit for bit.
    """
    x = np.asarray(x, dtype=np.int32)
    y = np.asarray(y, dtype=np.int32)
    if x.ndim != 1 or y.shape != x.shape or x.size == 0:
        raise ValueError(
            f"x and y must be non-empty index vectors of equal length, got {x.shape}, {y.shape}"
        )
    names = tuple(model.param_names) if parameters is None else tuple(parameters)
    unknown = [n for n in names if n not in model.param_names]
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; the model has {list(model.param_names)}")
    if getattr(model, "dtype", "float64") != "float64":
        log.warning(
            "gradient check on a %s model: central differences with h=%g are imprecise; "
            "use floatX=float64", model.dtype, h,
        )

    target = model
    rebuilt = False
    k = int(getattr(model, "bptt_truncate", -1))
    if 0 < k < len(x):
        if not rebuild:
            raise ValueError(
                f"bptt_truncate={k} truncates the gradient of this {len(x)}-step sentence, so "
                "bptt cannot match the numerical gradient; build the model with "
                "bptt_truncate=-1 or pass rebuild=True"
            )
        log.info(
            "gradient check: bptt_truncate=%d < sentence length %d; checking an untruncated "
            "copy of the model with the same weights", k, len(x),
        )
        target = _untruncated_copy(model)
        rebuilt = True

    shared = {n: target.params[n] for n in target.param_names}
    originals = {n: s.get_value(borrow=False) for n, s in shared.items()}
    model_originals = (
        {n: s.get_value(borrow=False) for n, s in model.params.items()} if rebuilt else None
    )
    report = GradCheckReport(
        h=float(h), error_threshold=float(error_threshold), rebuilt=rebuilt, parameters=names
    )
    try:
        grads = named_gradients(target, x, y)
        for name in names:
            g = np.asarray(grads[name])
            if g.shape != originals[name].shape:
                raise TypeError(
                    f"bptt output for {name!r} has shape {g.shape}, the parameter "
                    f"{originals[name].shape}: bptt_names does not match model.bptt"
                )
        for name in names:
            param = shared[name]
            value = originals[name].copy()
            grad = np.asarray(grads[name], dtype=np.float64)
            for ix in np.ndindex(value.shape):
                original = value[ix]
                value[ix] = original + h
                param.set_value(value)
                plus = float(target.ce_error(x, y))
                value[ix] = original - h
                param.set_value(value)
                minus = float(target.ce_error(x, y))
                value[ix] = original
                estimate = (plus - minus) / (2 * h)
                bp = float(grad[ix])
                rel = _relative_error(bp, estimate)
                ok = rel <= error_threshold
                if not ok:
                    log.debug(
                        "gradient check error: %s%s backprop %g estimate %g relative error %g",
                        name, ix, bp, estimate, rel,
                    )
                report.records.append(GradCheckRecord(name, ix, bp, estimate, rel, ok))
            param.set_value(originals[name])
    finally:
        for name, s in shared.items():
            s.set_value(originals[name])
        if model_originals is not None:
            for name, s in model.params.items():
                s.set_value(model_originals[name])
    log.info("%s", report.summary())
    return report
