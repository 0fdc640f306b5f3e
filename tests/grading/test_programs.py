"""The programs a grading run starts (:class:`regloss.grading.programs.Program`): each name is a
module of the package that runs ``main`` when started with ``python -m``."""

from __future__ import annotations

import ast
import importlib

import pytest

from regloss.grading.programs import Program


@pytest.mark.parametrize("program", list(Program), ids=lambda p: p.name)
def test_every_program_is_a_module_with_main(program):
    module = importlib.import_module(program.value)
    assert callable(getattr(module, "main", None))
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    guards = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert guards and "main(sys.argv[1:])" in ast.unparse(guards[-1]), "python -m must run main(argv)"


def test_argv_runs_this_interpreter():
    import sys

    assert Program.JUDGE.argv("x") == [sys.executable, "-m", "regloss.grading.judge.judging", "x"]
