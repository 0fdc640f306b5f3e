"""The class's misconceptions: what the checks diagnosed, counted across students.

A failing test cell's message is what :mod:`regloss.checks` raised: the case, the
student's value and PyTorch's, then the likely mistake, a hint that ends with the
tag of its stable id (``... [mistake: sum-for-mean]``, :mod:`regloss.checks.mistakes`,
where the ids and their descriptions live). :func:`classify` reads the id of the
message's *first* tag; :func:`failure_messages` reads the messages of one student's
failing test cells; :func:`count` tallies a class.

Pure functions except :func:`failure_messages` (which reads notebooks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from regloss.checks.mistakes import BY_ID, MISTAKES, Mistake, tags
from regloss.course import cells as nbcells

__all__ = ["BY_ID", "CRASHED", "MISTAKES", "OTHER", "Failure", "Mistake", "Tally", "classify", "count", "describe",
           "failure_messages", "failures_in_notebook", "from_verdict", "function_of"]


OTHER = Mistake("other", "a wrong value with no named mistake")
CRASHED = Mistake("error", "the function raised an error")


def classify(message: str, ename: str = "AssertionError") -> str | None:
    """The stable id of the first mistake a failing check's message names (its first tag).

    Parameters
    ----------
    message : str
        The exception's message (``evalue``).
    ename : str
        The exception's class name; ``NotImplementedError`` (the release's stub,
        not attempted) gives ``None``, any other non-assertion ``"error"``.

    Returns
    -------
    str or None
        An id of :data:`MISTAKES`, ``"other"`` for an assertion that names
        no mistake, ``"error"`` for a crash, ``None`` for a stub not attempted.
    """
    if ename == "NotImplementedError":
        return None
    for mistake_id in tags(message):
        if mistake_id in BY_ID:
            return mistake_id
    # a failed check is an AssertionError; regloss.checks raises its subclass CheckFailed
    return "other" if ename in ("AssertionError", "CheckFailed") else "error"


def describe(mistake_id: str) -> str:
    """The words for a mistake id."""
    return {**BY_ID, "other": OTHER, "error": CRASHED}.get(mistake_id, OTHER).description


def function_of(grade_id: str) -> str:
    """The graded function a test cell ``test_<function>__<tag>`` checks (else the cell id)."""
    return nbcells.tested_function(grade_id)


@dataclass
class Failure:
    """One failing test cell of one student."""

    cell: str
    ename: str
    message: str


def failures_in_notebook(nb) -> list:
    """The failing test cells of an executed (autograded) notebook, with their first error."""
    out = []
    for cell in nb.cells:
        if not nbcells.is_test(cell):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(Failure(nbcells.grade_id(cell) or "", o.get("ename", ""), o.get("evalue", "")))
                break
    return out


_TYPED = re.compile(r"^(?P<ename>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): ?(?P<message>.*)$", re.S)


def from_verdict(grade_id: str, message: str) -> Failure:
    """A :class:`Failure` from the judge's verdict message: an assertion's message as it is,
    any other exception as ``"Type: message"``."""
    m = _TYPED.match(message or "")
    if m:
        return Failure(grade_id, m["ename"].rsplit(".", 1)[-1], m["message"])
    return Failure(grade_id, "AssertionError", message or "")


def failure_messages(out: Path, assignment: str, student_id: str, result=None) -> list:
    """Every failing test cell of one student, as :class:`Failure`.

    Read from the judge's verdicts in the per-student result when it has them
    (``result.verdicts``: objects or dicts with ``grade_id``, ``passed``,
    ``message``), else from the student's autograded notebooks
    (``out/autograded/<student>/<assignment>/*.ipynb``), where the failing test
    cells hold their error outputs.
    """
    verdicts = getattr(result, "verdicts", None) if result is not None else None
    if verdicts:
        found = []
        for v in verdicts:
            get = v.get if isinstance(v, dict) else (lambda k, v=v: getattr(v, k, None))
            if not get("passed"):
                found.append(from_verdict(get("grade_id") or "", get("message") or ""))
        return found
    import nbformat

    found = []
    folder = Path(out) / "autograded" / student_id / assignment
    for path in sorted(folder.glob("*.ipynb")):
        try:
            found += failures_in_notebook(nbformat.read(str(path), as_version=4))
        except Exception:  # noqa: BLE001 - an unreadable notebook has no messages to count
            continue
    return found


@dataclass
class Tally:
    """How often one mistake was diagnosed in one function across the class."""

    mistake: str
    function: str
    students: list = field(default_factory=list)
    count: int = 0  # failing checks diagnosed so

    @property
    def description(self):
        return describe(self.mistake)


def count(failures_by_student: dict) -> list:
    """Tally ``{student: [Failure]}`` by (mistake, function), most students first.

    Each failing check counts once, under its first diagnosis; a stub not
    attempted counts nowhere.

    Returns
    -------
    list of Tally
        Sorted by number of students (descending), then count, then id and function.
    """
    tallies: dict[tuple[str, str], Tally] = {}
    for sid, failures in failures_by_student.items():
        for f in failures:
            mid = classify(f.message, f.ename)
            if mid is None:
                continue
            t = tallies.setdefault((mid, function_of(f.cell)), Tally(mid, function_of(f.cell)))
            t.count += 1
            if sid not in t.students:
                t.students.append(sid)
    return sorted(tallies.values(), key=lambda t: (-len(t.students), -t.count, t.mistake, t.function))
