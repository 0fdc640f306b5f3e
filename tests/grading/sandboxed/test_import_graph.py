"""The answer side never imports ``regloss.checks``, torch or SciPy: a rule on the import graph.

The judge's answer process runs the student's code where the reference and the libraries
that could do an exercise's work cannot be imported (:mod:`regloss.grading.sandboxed.policy`);
its zygote preloads modules before forking it. Both hold only what the modules of the
answer side import. Checked twice: statically, on the import statements that run when a
module is imported (module level, not inside functions) followed through ``regloss``; and
by importing them in a fresh interpreter.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys

import pytest

from regloss.grading.sandboxed.answer_zygote import ANSWER_PRELOAD
from regloss.grading.sandboxed.policy import BLOCKED

#: The modules of the answer side: what the answer process and its zygote are made of.
ANSWER_SIDE = ("regloss.grading.sandboxed.answer", "regloss.grading.sandboxed.answer_zygote",
               *[m for m in ANSWER_PRELOAD if m.startswith("regloss")])


def _module_level_imports(name: str) -> set[str]:
    """The modules ``name``'s import statements name, outside function and class bodies."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin, name
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    package = name if spec.submodule_search_locations else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                    if node.level else node.module or ""
                found.add(base)
                for a in node.names:  # ``from pkg import submodule``
                    if importlib.util.find_spec(base) and _is_module(f"{base}.{a.name}"):
                        found.add(f"{base}.{a.name}")
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []) or [])

    visit(tree.body)
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def import_closure(roots) -> set[str]:
    """Every module ``roots`` import when imported, followed through ``regloss``
    (other packages are listed, not followed); a package's ``__init__`` counts."""
    seen: set[str] = set()
    todo = [p for r in roots for p in _parents(r)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.split(".")[0] == "regloss" and _is_module(name):
            todo.extend(p for m in _module_level_imports(name) for p in _parents(m))
    return seen


def _blocked(names) -> list[str]:
    return sorted(n for n in names if any(n == b or n.startswith(b + ".") for b in BLOCKED))


def test_the_rule_can_fail():
    """The same analysis finds the reference behind the checks, and torch behind the kernel zygote."""
    assert "regloss.checks.reference" in import_closure(["regloss.checks"])
    assert _blocked(import_closure(["regloss.grading.judge.judging"]))


@pytest.mark.parametrize("module", ANSWER_SIDE)
def test_no_answer_side_module_imports_a_blocked_one(module):
    closure = import_closure([module])
    assert not _blocked(closure), f"{module} imports {_blocked(closure)}"


def test_importing_the_answer_side_loads_nothing_blocked():
    code = ("import importlib, json, sys\n"
            f"for m in {list(ANSWER_SIDE)!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert not _blocked(json.loads(out.stdout))
