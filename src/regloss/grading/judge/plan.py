"""What the judge runs: the instructor's cells it needs, the test cells, and the student's
cells to send before each test (pure logic on two notebooks, as JSON dicts)."""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

from regloss.course import cells as nbcells


def python_of(src: str) -> str:
    """The Python of a cell (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(src)


def names_of(src):
    """``(defined, read)``: names a cell binds at top level (assignments, imports, defs)
    and every name it reads anywhere (over-approximated)."""
    try:
        tree = ast.parse(python_of(src))
    except SyntaxError:
        return set(), set()
    defined, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                defined.add((a.asname or a.name).split(".")[0])
    # names bound only inside functions are not the notebook's; keep it simple and
    # over-approximate: a name bound anywhere counts as defined by the cell
    return defined, read


@dataclass
class Plan:
    """What the judge runs, in order: ``("setup", source)`` instructor cells and
    ``("test", grade_id, source)`` test cells; and the student's cells to send before each test."""

    steps: list[tuple[str, ...]]
    student_before: dict[str, list[str]]  # grade id -> [student cell sources to run before it]
    student_after: list[str]  # student cells after the last test (run only if a later setup needs them)
    student_names: set[str]


def plan(source_nb: dict, student_nb: dict) -> Plan:
    """Decide which instructor cells run in the judge and which student cells precede each test."""
    code = [c for c in source_nb["cells"] if nbcells.is_code(c)]
    tests = [c for c in code if nbcells.is_test(c)]
    test_ids = nbcells.grade_ids(tests)
    solution_defs: set[str] = set()
    for c in code:
        if nbcells.is_solution(c):
            solution_defs |= names_of(nbcells.source(c))[0]
    needed: set[str] = set()
    for c in tests:
        needed |= names_of(nbcells.source(c))[1]
    include = set()
    for i in range(len(code) - 1, -1, -1):
        c = code[i]
        if nbcells.is_test(c) or nbcells.is_solution(c):
            continue
        defined, read = names_of(nbcells.source(c))
        if (defined - solution_defs) & needed:
            include.add(i)
            needed |= read
    steps: list = []
    judge_defs = set(dir(builtins))
    for i, c in enumerate(code):
        if i in include:
            steps.append(("setup", nbcells.source(c)))
            judge_defs |= names_of(nbcells.source(c))[0]
        elif nbcells.is_test(c):
            steps.append(("test", nbcells.grade_id(c), nbcells.source(c)))
    # the student's names: what the tests read and the instructor's cells do not define
    # (a name both define stays the instructor's: the student cannot replace it)
    student_names = (needed | solution_defs) - judge_defs
    # the student's cells: everything but test cells, in their order
    before: dict[str, list[str]] = {}
    pending: list[str] = []
    for c in student_nb.get("cells", []):
        if not nbcells.is_code(c):
            continue
        gid = nbcells.grade_id(c)
        if gid is not None and gid in test_ids:
            before.setdefault(gid, []).extend(pending)
            pending = []
            continue
        pending.append(nbcells.source(c))
    # a test the student deleted (nbgrader restores it where it was) runs after every
    # student cell up to the next test they kept
    ordered = [gid for gid in (nbcells.grade_id(c) for c in tests) if gid is not None]
    result: dict[str, list[str]] = {}
    taken: set[str] = set()
    for k, gid in enumerate(ordered):
        if gid in before:
            result[gid] = [] if gid in taken else before[gid]
            continue
        nxt = next((g for g in ordered[k + 1:] if g in before), None)
        if nxt is None:
            result[gid], pending = pending, []
        elif nxt in taken:
            result[gid] = []
        else:
            result[gid] = before[nxt]
            taken.add(nxt)
    return Plan(steps, result, pending, student_names)
