"""What the judge runs: the instructor's cells it needs, the test cells, and the student's
cells to send before each test (pure logic on two notebooks, as JSON dicts)."""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass

from regloss.course import cells as nbcells


def python_of(src: str) -> str:
    """The Python of a cell (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(src)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _loads(node) -> set[str]:
    """Names an expression or statement loads when it runs (not inside the bodies of the
    functions, lambdas or classes it defines, whose reads count when they are called; a
    comprehension's own targets are its own)."""
    out: set[str] = set()
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            out.add(n.id)
        elif isinstance(n, _SCOPES):
            todo.extend(getattr(n, "decorator_list", []))
            args = getattr(n, "args", None)
            if isinstance(args, ast.arguments):
                todo.extend(args.defaults + [d for d in args.kw_defaults if d is not None])
            todo.extend(getattr(n, "bases", []))
            continue
        elif isinstance(n, _COMPREHENSIONS):
            inner = _loads_children(n)
            own = {t.id for g in n.generators for t in ast.walk(g.target) if isinstance(t, ast.Name)}
            out |= inner - own
            continue
        todo.extend(ast.iter_child_nodes(n))
    return out


def _loads_children(node) -> set[str]:
    out: set[str] = set()
    for child in ast.iter_child_nodes(node):
        out |= _loads(child)
    return out


def _binds(stmt) -> set[str]:
    """The names a simple statement certainly binds at the level it runs in."""
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    return set()


def _read_before_bound(stmts, bound: set[str]) -> set[str]:
    """Names the statements load where this cell has not certainly bound them yet: what the
    cell needs from the cells before it. Names bound inside a branch or a loop count as
    bound there only; ``del`` unbinds."""
    need: set[str] = set()
    bound = set(bound)
    for st in stmts:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            need |= _loads(st) - bound
        elif isinstance(st, (ast.For, ast.AsyncFor)):
            need |= _loads(st.iter) - bound
            inner = bound | {n.id for n in ast.walk(st.target) if isinstance(n, ast.Name)}
            need |= _read_before_bound(st.body, inner) | _read_before_bound(st.orelse, bound)
        elif isinstance(st, (ast.While, ast.If)):
            need |= _loads(st.test) - bound
            need |= _read_before_bound(st.body, bound) | _read_before_bound(st.orelse, bound)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            for item in st.items:
                need |= _loads(item.context_expr) - bound
            inner = bound | {n.id for item in st.items if item.optional_vars is not None
                             for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
            need |= _read_before_bound(st.body, inner)
        elif isinstance(st, ast.Try) or type(st).__name__ == "TryStar":
            need |= _read_before_bound(st.body, bound) | _read_before_bound(st.orelse, bound)
            need |= _read_before_bound(st.finalbody, bound)
            for h in st.handlers:
                need |= _loads(h.type) - bound if h.type is not None else set()
                need |= _read_before_bound(h.body, bound | ({h.name} if h.name else set()))
        elif isinstance(st, ast.Match):
            need |= _loads(st.subject) - bound
            for case in st.cases:
                captured = bound | _pattern_names(case.pattern)
                need |= _loads(case.pattern) - bound
                need |= _loads(case.guard) - captured if case.guard is not None else set()
                need |= _read_before_bound(case.body, captured)
        else:
            need |= _loads(st) - bound
            if isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name):
                need |= {st.target.id} - bound  # x += 1 reads x first
            if isinstance(st, ast.Delete):
                bound -= {n.id for t in st.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        bound |= _binds(st)
    return need


def _pattern_names(pattern) -> set[str]:
    return {n for p in ast.walk(pattern) for n in (getattr(p, "name", None), getattr(p, "rest", None))
            if isinstance(n, str)}


def names_of(src):
    """``(defined, read)`` of a cell.

    ``defined``: the names it binds in the notebook's namespace (assignments, imports, defs
    and classes at top level, ``global`` and ``:=`` bindings inside them); a name bound only
    inside a function, a class body or a comprehension is not the notebook's.

    ``read``: the names it needs from the cells before it: loaded at top level before the
    cell certainly binds them, or read in the bodies of its functions and not bound by the
    cell at top level (over-approximated: a name bound in a branch does not count as bound
    after it). A cell whose loop reads its own ``label`` needs no ``label`` from elsewhere.
    """
    code = python_of(src)
    try:
        tree = ast.parse(code)
        table = symtable.symtable(code, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set(), set()
    defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    called_later: set[str] = set()  # read by the bodies of functions (and lambdas, classes) it defines
    inner = list(table.get_children())
    while inner:
        t = inner.pop()
        for sym in t.get_symbols():
            if sym.is_declared_global() and sym.is_assigned():
                defined.add(sym.get_name())
            elif sym.is_global() and sym.is_referenced():
                called_later.add(sym.get_name())
        inner.extend(t.get_children())
    read = _read_before_bound(tree.body, set()) | (called_later - defined)
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
