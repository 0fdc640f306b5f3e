"""Answer files an assignment ships, generated from one source each.

An assignment that needs an earlier assignment's answers (03 uses 02's Huber,
05 fits lines with the losses of 01-03, ...) ships them as a Python file in its
own folder. Each such file is *generated* here, never kept by hand:

- :class:`FromSolutions` takes functions from the solution cells of the
  assignment that asks for them (``### BEGIN SOLUTION`` markers removed), with
  every top-level helper and import they use;
- :class:`FromCourseModule` takes a whole module of the course's ``answers/``
  folder (for answers that no single assignment asks for in that form, such as
  06's batched line fits).

:data:`SHIPPED` says which assignment ships which file from what;
:func:`render` gives a file's text (with a header saying it is generated and
must not be edited); :func:`write` puts every file in ``solutions/<a>/``, from
where ``nbgrader generate_assignment`` copies it into the release. The tests
fail when a committed copy differs from :func:`render`.

This module holds no answer itself: it only copies the instructor's.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from regloss.course import cells
from regloss.course.root import CourseError, find_root


@dataclass(frozen=True)
class FromSolutions:
    """Functions ``names`` from the solution cells of ``assignment``'s source notebook."""

    assignment: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class FromCourseModule:
    """The whole module ``answers/<path>`` of the course root, which answers ``answers_of``."""

    path: str
    answers_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShippedFile:
    """One generated file: its docstring and where its code comes from."""

    doc: str
    parts: tuple = field(default_factory=tuple)


_CORE_LOSSES = (
    FromSolutions("01_l1_mse", ("l1_loss", "l1_loss_grad", "mse_loss", "mse_loss_grad")),
    FromSolutions("02_huber", ("huber_loss", "huber_loss_grad")),
    FromSolutions("03_smooth_l1", ("smooth_l1_loss", "smooth_l1_loss_grad")),
)
_CORE_DOC = (
    "The four losses of assignments 01-03 and their gradients, in NumPy.\n\n"
    "Shipped with this assignment so that it does not depend on your earlier answers.\n"
    "Each function behaves like its namesake in ``torch.nn.functional``; ``<name>_grad``\n"
    "returns d loss / d input with the shape of ``input``, as\n"
    "``torch.autograd.grad(loss.sum(), input)`` would."
)

_REDUCTIONS = ShippedFile(
    "Assignment 01's reduction helpers, in NumPy: ``check_reduction(reduction)``,\n"
    "``reduce(values, reduction)`` and ``reduce_grad(grad, reduction)``.\n\n"
    "Shipped with this assignment so that its losses spend their lines on the maths:\n"
    "``from reductions import check_reduction, reduce, reduce_grad``.",
    (FromSolutions("01_l1_mse", ("check_reduction", "reduce", "reduce_grad")),),
)

SHIPPED: dict[str, dict[str, ShippedFile]] = {
    "02_huber": {"reductions.py": _REDUCTIONS},
    "03_smooth_l1": {
        "reductions.py": _REDUCTIONS,
        "huber.py": ShippedFile(
            "Assignment 02's answers: the Huber loss and its gradient, in NumPy.\n\n"
            "Assignment 03 imports them to check huber(delta) = delta * smooth_l1(beta=delta).",
            (FromSolutions("02_huber", ("huber_loss", "huber_loss_grad")),),
        ),
    },
    "04_gradients_and_outliers": {"losses.py": ShippedFile(_CORE_DOC, _CORE_LOSSES)},
    "05_robust_line_fit": {"losses.py": ShippedFile(_CORE_DOC, _CORE_LOSSES)},
    "06_choosing_a_loss": {
        "fits.py": ShippedFile(
            "",  # the module's own docstring
            (FromCourseModule("fits.py", answers_of=("05_robust_line_fit",)),),
        ),
    },
    "07_beyond_huber": {
        "irls.py": ShippedFile(
            "Assignment 05's answer: the Huber line fit by iteratively reweighted least squares.\n\n"
            "Assignment 07 compares it with scikit-learn's HuberRegressor.",
            (FromSolutions("05_robust_line_fit", ("fit_line_irls",)),),
        ),
    },
    "08_training": {"losses.py": ShippedFile(_CORE_DOC, _CORE_LOSSES)},
}
"""assignment -> {file name -> what it is generated from}."""


def solution_code(assignment, root=None):
    """The code of ``assignment``'s source notebook that a perfect student writes and
    every import it runs: its solution cells (markers removed) and the top-level
    imports of its other non-test code cells, as one Python source."""
    root = Path(root) if root else find_root()
    nbs = sorted((root / "solutions" / assignment).glob("*.ipynb"))
    if len(nbs) != 1:
        raise CourseError(f"solutions/{assignment} must hold exactly one notebook, found {len(nbs)}")
    nb = nbformat.read(nbs[0], as_version=4)
    chunks = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cells.is_solution(cell):
            chunks.append(cells.without_solution_markers(cell.source))
        elif not cells.is_graded(cell):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            chunks += [ast.get_source_segment(cell.source, n) for n in tree.body
                       if isinstance(n, (ast.Import, ast.ImportFrom))]
    return "\n\n".join(chunks)


def _bound_names(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used_names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def extract(source, names, where="the source", modules=None):
    """The top-level statements of ``source`` that define ``names``, with everything
    they use (helpers, constants, imports), in source order.

    The closure follows every global name a chosen statement reads: a helper
    ``_reduce`` called by ``l1_loss`` comes along, and so does ``import numpy as np``.

    Parameters
    ----------
    source : str
        Python source.
    names : sequence of str
        Top-level names to extract.
    where : str
        How error messages name ``source``.
    modules : dict of str to str, optional
        ``{module name: its source}`` of modules to inline: a chosen
        ``from <module> import a, b`` is replaced by the statements of that
        module that define the names it imports and the chosen code uses (with
        their own helpers and imports), so that the result does not import the
        module. The shipped files of an assignment, whose solution cells import
        them, are inlined this way.

    Returns
    -------
    list of str
        The statements' source segments, each once.

    Raises
    ------
    CourseError
        When a name is not defined at the top level of ``source`` (or of an
        inlined module), or when an inlined module is imported in another form
        than ``from <module> import name, ...``.
    """
    modules = modules or {}
    tree = ast.parse(source)
    defines = {}
    for i, node in enumerate(tree.body):
        for name in _bound_names(node):
            defines[name] = i  # the last definition wins, as when the notebook runs
    missing = [n for n in names if n not in defines]
    if missing:
        raise CourseError(f"{where} defines no top-level {', '.join(missing)}")
    chosen, todo = set(), [defines[n] for n in names]
    while todo:
        i = todo.pop()
        if i in chosen:
            continue
        chosen.add(i)
        todo += [defines[n] for n in _used_names(tree.body[i]) if n in defines]
    used = set(names).union(*(_used_names(tree.body[i]) for i in chosen))
    out = []
    for i in sorted(chosen):
        node = tree.body[i]
        inlined = _inlined_module(node, modules, where)
        if inlined is None:
            out.append(ast.get_source_segment(source, node))
            continue
        wanted = [a.name for a in node.names if a.name in used]
        out += extract(modules[inlined], wanted, where=f"{inlined}.py (imported by {where})", modules=modules)
    return list(dict.fromkeys(out))


def _inlined_module(node, modules, where):
    """The name of the module ``node`` imports from, if it is one to inline, else None."""
    shipped = [a.name for a in getattr(node, "names", ()) if a.name.split(".")[0] in modules]
    if isinstance(node, ast.Import) and shipped:
        raise CourseError(f"{where}: write `from {shipped[0]} import name, ...` for a shipped module, "
                          f"not `import {shipped[0]}`, so that what it uses can be inlined")
    if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules):
        return None
    renamed = [a.name for a in node.names if a.asname and a.asname != a.name]
    if renamed or any(a.name == "*" for a in node.names):
        raise CourseError(f"{where}: import the names of {node.module}.py as they are (no `as`, no `*`) "
                          "so that they can be inlined")
    return node.module


def _header(sources, assignment, name):
    lines = ["# GENERATED by `regloss release` from", *[f"#   {s}" for s in sources],
             f"# Do not edit: edit the source and run `regloss release {assignment}`."]
    return "\n".join(lines) + "\n"


def render(assignment, name, root=None):
    """The text of the shipped file ``name`` of ``assignment``."""
    root = Path(root) if root else find_root()
    spec = SHIPPED[assignment][name]
    imports, body, sources, doc = [], [], [], spec.doc
    for part in spec.parts:
        if isinstance(part, FromSolutions):
            sources.append(f"solutions/{part.assignment} (cells {', '.join(part.names)})")
            stmts = extract(solution_code(part.assignment, root), part.names,
                            where=f"solutions/{part.assignment}", modules=_shipped_modules(part.assignment, root))
        elif isinstance(part, FromCourseModule):
            path = root / "answers" / part.path
            sources.append(f"answers/{part.path}")
            text = path.read_text()
            tree = ast.parse(text)
            doc = doc or ast.get_docstring(tree, clean=False)
            stmts = [ast.get_source_segment(text, n) for n in tree.body
                     if not (isinstance(n, ast.Expr) and isinstance(getattr(n, "value", None), ast.Constant)
                             and n is tree.body[0])]
        else:  # pragma: no cover - a new kind of part
            raise TypeError(part)
        for s in stmts:
            target = imports if s.startswith(("import ", "from ")) else body
            if s not in target:  # a helper shared by two parts is written once
                target.append(s)
    doc = '"""' + doc.strip("\n").rstrip() + '\n"""'
    parts = [doc, "\n".join(imports), "\n\n\n".join(body)]
    return _header(sources, assignment, name) + "\n\n".join(p for p in parts[:2] if p) + "\n\n\n" + parts[2] + "\n"


def _shipped_modules(assignment, root):
    """``{module name: generated source}`` of the files ``assignment`` ships: its solution
    cells import them, and what is taken from those cells inlines them."""
    return {Path(name).stem: render(assignment, name, root) for name in shipped_files(assignment)
            if name.endswith(".py")}


def shipped_files(assignment):
    """The names of the files ``assignment`` ships (possibly none)."""
    return sorted(SHIPPED.get(assignment, {}))


def write(assignment, root=None):
    """Write every shipped file of ``assignment`` into ``solutions/<assignment>/``; returns their paths."""
    root = Path(root) if root else find_root()
    out = []
    for name in shipped_files(assignment):
        path = root / "solutions" / assignment / name
        path.write_text(render(assignment, name, root))
        out.append(path)
    return out


def answers_shipped_by(assignment: str) -> dict[str, tuple[str, ...]]:
    """``{file name: the assignments whose answers it holds}`` of the files ``assignment`` ships."""
    out = {}
    for name, spec in SHIPPED.get(assignment, {}).items():
        sources: list[str] = []
        for part in spec.parts:
            sources += [part.assignment] if isinstance(part, FromSolutions) else list(part.answers_of)
        out[name] = tuple(dict.fromkeys(sources))
    return out
