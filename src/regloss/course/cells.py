"""nbgrader's cell metadata and the source markers, read and written in one place.

An nbgrader notebook marks its cells in ``cell.metadata["nbgrader"]``: a
``grade_id``, whether the cell is a ``solution``, is ``grade``d (a test cell, or
a manually graded answer), is ``locked``, and its ``points``. In the source
(``solutions/``), a solution cell's answer sits between :data:`BEGIN_SOLUTION`
and :data:`END_SOLUTION`, and a test cell's hidden tests between
:data:`BEGIN_HIDDEN` and :data:`END_HIDDEN`.

Every reader here takes a cell as nbformat gives it (a ``NotebookNode``) or as
plain JSON -- including a student's hand-edited or hostile notebook, where
``metadata`` may be anything: a malformed cell reads as an unmarked one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

#: The course's name for a test cell: ``test_<function>__<tag>`` (``test_l1_loss__hidden``).
TEST_CELL = re.compile(r"^test_(?P<function>.+?)__(?P<tag>\w+)$")

#: A solution marker on a line of its own (with the line's end), as nbgrader reads it.
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.M)

#: The kinds of marked cell an author writes (:mod:`regloss.course.authoring`): a solution,
#: a test cell, a manually graded answer, a read-only code or markdown cell, a task.
CellKind = Literal["solution", "tests", "manual", "readonly", "readonly-md", "task"]


def grading_meta(cell: Any) -> Mapping[str, Any]:
    """The cell's ``metadata["nbgrader"]``, or ``{}`` when the cell has none (or a malformed one)."""
    meta = cell.get("metadata") if isinstance(cell, Mapping) else None
    nbg = meta.get("nbgrader") if isinstance(meta, Mapping) else None
    return nbg if isinstance(nbg, Mapping) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's ``grade_id`` (a string), or None."""
    gid = grading_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def source(cell: Any) -> str:
    """The cell's source as one string (nbformat's JSON may hold a list of lines)."""
    src = cell.get("source", "") if isinstance(cell, Mapping) else ""
    if isinstance(src, str):
        return src
    return "".join(str(x) for x in src) if isinstance(src, list) else ""


def is_code(cell: Any) -> bool:
    return isinstance(cell, Mapping) and cell.get("cell_type") == "code"


def is_solution(cell: Any) -> bool:
    """A cell the student writes (code or a written answer)."""
    return bool(grading_meta(cell).get("solution"))


def is_graded(cell: Any) -> bool:
    return bool(grading_meta(cell).get("grade"))


def is_locked(cell: Any) -> bool:
    return bool(grading_meta(cell).get("locked"))


def is_test(cell: Any) -> bool:
    """An autograded test cell: a graded code cell that is not a solution."""
    return is_code(cell) and is_graded(cell) and not is_solution(cell)


def tested_function(gid: str | None) -> str:
    """The graded function a test cell ``test_<function>__<tag>`` checks (else the cell id)."""
    m = TEST_CELL.match(gid or "")
    return m["function"] if m else (gid or "")


def grade_ids(cells: Iterable[Any]) -> set[str]:
    """Every ``grade_id`` among ``cells``."""
    return {g for g in (grade_id(c) for c in cells) if g}


def duplicated_grade_ids(cells: Iterable[Any]) -> dict[str, list[int]]:
    """``{grade id: [cell indexes]}`` of every grade id that more than one cell carries
    (a student duplicated a cell: nbgrader refuses such a notebook)."""
    where: dict[str, list[int]] = {}
    for i, c in enumerate(cells):
        gid = grade_id(c)
        if gid:
            where.setdefault(gid, []).append(i)
    return {gid: idx for gid, idx in where.items() if len(idx) > 1}


def keep_one_per_grade_id(cells: list[Any]) -> dict[str, int]:
    """Leave each grade id on one cell: a solution's last copy (the student's latest answer), any
    other cell's first (where the release put it); the other copies lose their nbgrader
    metadata and stay as ordinary cells (their code still runs, in order). Returns
    ``{grade id: index of the cell that keeps it}`` for the ids that were duplicated."""
    kept = {}
    for gid, idx in duplicated_grade_ids(cells).items():
        keep = idx[-1] if all(is_solution(cells[i]) for i in idx) else idx[0]
        for i in idx:
            if i != keep:
                cells[i]["metadata"].pop("nbgrader", None)
        kept[gid] = keep
    return kept


def without_solution_markers(text: str) -> str:
    """``text`` with its solution marker lines removed (the answer between them kept)."""
    return SOLUTION_MARKER.sub("", text)


def holds_hidden_tests(text: str) -> bool:
    return BEGIN_HIDDEN in text


def without_hidden_tests(text: str) -> str:
    """``text`` without its hidden-test regions (marker lines included); an unclosed region
    runs to the end."""
    out, hidden = [], False
    for line in text.split("\n"):
        if BEGIN_HIDDEN in line:
            hidden = True
        elif END_HIDDEN in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def nbgrader_meta(kind: CellKind, grade_id: str, points: float) -> dict[str, Any]:
    """The ``metadata["nbgrader"]`` nbgrader expects for a cell of ``kind``."""
    m: dict[str, Any] = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
                         "solution": False, "task": False}
    if kind == "solution":
        m["solution"] = True
    elif kind == "tests":
        m.update(grade=True, locked=True, points=points)
    elif kind == "manual":
        m.update(grade=True, solution=True, points=points)
    elif kind in ("readonly", "readonly-md"):
        m["locked"] = True
    elif kind == "task":
        m.update(task=True, locked=False, points=points)
    return m


def kind_of(cell: Any) -> CellKind | Literal["code", "markdown"]:
    """The kind of a cell, as :func:`nbgrader_meta` would have written it (unmarked: its type)."""
    m = grading_meta(cell)
    if not m:
        return "markdown" if isinstance(cell, Mapping) and cell.get("cell_type") == "markdown" else "code"
    if m.get("task"):
        return "task"
    if m.get("grade") and m.get("solution"):
        return "manual"
    if m.get("grade"):
        return "tests"
    if m.get("solution"):
        return "solution"
    return "readonly"
