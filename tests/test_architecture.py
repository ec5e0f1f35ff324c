"""The package's shape, read from its source (AST): layers that import one way.

Contract (issue 11, ../shared/DESIGN.md):
- no import cycle among theano_rnn's modules, counting imports inside
  functions too (a lazy import only hides a cycle);
- no module imports another module's private (``_name``) names;
- the layers point one way: ``errors``/``runtime``/``data`` at the bottom,
  then ``compat``, ``cells``, ``graphs``, ``models``, ``training``, ``tasks``,
  ``cli`` on top; a lower layer never imports a higher one;
- no module over ~500 lines, except the ones listed in ``OVERSIZED`` below
  with their current length: the list may only shrink (a listed module that
  grows, or a new one over the limit, fails).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "theano_rnn"
MAX_LINES = 500

# Modules still over the limit, with the length they may not exceed.  Splitting
# one removes it from this list.
OVERSIZED = {
}

# Layer rank: a module may import modules of its own or a lower rank only.
LAYERS = {
    "errors": 0, "runtime": 0, "data": 0, "reference": 0,
    "optim": 1, "compat": 1,
    "theano": 1,  # the drop-in Theano namespace, beside compat (see below)
    "cells": 2,
    "graphs": 3,
    "models": 4, "io": 5,
    "training": 6,
    "tasks": 7,
    "utils": 8, "gru_utils": 8,
    "cli": 9, "__main__": 10, "legacy": 10,
    "testing": 10,  # theano_rnn.testing: pytest helpers over cli.verify (issue 15)
}

# ``theano_rnn.theano`` may import only these (and itself): it sits beside compat
THEANO_NAMESPACE_DEPS = ("theano_rnn.runtime", "theano_rnn.compat", "theano_rnn.errors",
                         "theano_rnn.theano")


def _modules():
    mods = {}
    for path in PKG.rglob("*.py"):
        parts = path.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


MODULES = _modules()


def _resolve(name):
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module):
    """``(target module, imported name or None, line)`` for every theano_rnn import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("theano_rnn"):
                    yield _resolve(alias.name), None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if not base.startswith("theano_rnn"):
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:
                    yield full, None, node.lineno
                    # "from package import submodule" runs the package's
                    # __init__ first: an edge to the package as well
                    if base in MODULES:
                        yield base, None, node.lineno
                else:
                    yield _resolve(base), alias.name, node.lineno


def _graph():
    return {
        m: {t for t, _, _ in _imports(m) if t and t != m and t != "theano_rnn"}
        for m in MODULES
    }


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _layer(module):
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else None


def test_the_checker_finds_a_cycle_and_reads_relative_imports():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    # the checker sees the package's real edges (one known import each)
    graph = _graph()
    assert "theano_rnn.runtime.blas" in graph["theano_rnn.runtime.modes"]
    assert "theano_rnn.models.word" in graph["theano_rnn.io"]


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_no_module_imports_another_modules_private_names():
    bad = [
        f"{m}:{line} imports {name} from {target}"
        for m in MODULES
        for target, name, line in _imports(m)
        if name and name.startswith("_") and not name.startswith("__") and target != m
    ]
    assert bad == []


def test_every_module_belongs_to_a_layer():
    unknown = [m for m in MODULES if m != "theano_rnn" and m.split(".")[1] not in LAYERS]
    assert unknown == []


def test_dependencies_point_down_the_layers():
    upward = [
        f"{m} -> {t}"
        for m, targets in _graph().items()
        for t in targets
        if m != "theano_rnn" and _layer(t) is not None and _layer(t) > _layer(m)
    ]
    assert upward == []


def test_the_theano_namespace_imports_only_runtime_and_compat():
    bad = [
        f"{m} -> {t}"
        for m, targets in _graph().items() if m.startswith("theano_rnn.theano")
        for t in targets
        if not any(t == d or t.startswith(d + ".") for d in THEANO_NAMESPACE_DEPS)
    ]
    assert [m for m in MODULES if m.startswith("theano_rnn.theano.")]  # the checker sees it
    assert bad == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_size(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    limit = OVERSIZED.get(module, MAX_LINES)
    assert lines <= limit, f"{module} has {lines} lines (limit {limit}): split it"
    if module in OVERSIZED:
        # a module that got under the limit leaves the list for good
        assert lines > MAX_LINES, f"{module} is {lines} lines now: remove it from OVERSIZED"
