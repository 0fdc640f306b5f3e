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

__all__ = ["BY_ID", "CRASHED", "MISTAKES", "OTHER", "UNDEFINED", "UNNAMED", "Failure", "Mistake", "Tally", "classify",
           "count", "describe", "diagnosis", "failure_messages", "failures_in_notebook", "from_verdict", "function_of",
           "rank"]


OTHER = Mistake("other", "a wrong value with no named mistake")
CRASHED = Mistake("error", "the function raised an error")
UNDEFINED = Mistake("undefined", "the function was never defined: its cell raised an error, timed out or did not run")
#: The diagnoses that name no mistake of the student's reasoning: ranked after every named one.
UNNAMED = frozenset({OTHER.id, CRASHED.id, UNDEFINED.id})


_MISSING = re.compile(r"name '(?P<name>\w+)' is not defined")


def classify(message: str, ename: str = "AssertionError", function: str = "") -> str | None:
    """The stable id of the first mistake a failing check's message names (its first tag).

    Parameters
    ----------
    message : str
        The exception's message (``evalue``).
    ename : str
        The exception's class name; ``NotImplementedError`` (the release's stub,
        not attempted) gives ``None``, any other non-assertion ``"error"``.
    function : str
        The function the check checks: a ``NameError`` naming it (or, for ``l1_loss_grad``,
        the loss ``l1_loss`` it is the gradient of) says it was never defined; a name inside
        it (``np``) is a crash.

    Returns
    -------
    str or None
        An id of :data:`MISTAKES`, ``"other"`` for an assertion that names
        no mistake, ``"undefined"`` for a function that does not exist (a NameError),
        ``"error"`` for any other crash, ``None`` for a stub not attempted.
    """
    if ename == "NotImplementedError":
        return None
    missing = _MISSING.match(message) if ename == "NameError" and function else None
    if missing and (function == missing["name"] or function.startswith(missing["name"] + "_")):
        return UNDEFINED.id  # the checked function (or the loss its gradient checks) does not exist
    for mistake_id in tags(message):
        if mistake_id in BY_ID:
            return mistake_id
    # a failed check is an AssertionError; regloss.checks raises its subclass CheckFailed
    return "other" if ename in ("AssertionError", "CheckFailed") else "error"


def describe(mistake_id: str) -> str:
    """The words for a mistake id."""
    return {**BY_ID, OTHER.id: OTHER, CRASHED.id: CRASHED, UNDEFINED.id: UNDEFINED}.get(mistake_id, OTHER).description


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
    """How often one mistake was diagnosed in one function across the students of one assignment."""

    mistake: str
    function: str
    students: list = field(default_factory=list)
    count: int = 0  # failing checks of those students' function, diagnosed so
    of: int = 0  # the students of the assignment whose notebooks were graded
    assignment: str = ""

    @property
    def description(self):
        return describe(self.mistake)

    @property
    def share(self) -> float:
        return len(self.students) / self.of if self.of else 0.0


def diagnosis(failures: list[Failure]) -> str | None:
    """One student's diagnosis for one function from its failing checks, in test-cell order:
    the first named mistake, else the first diagnosis at all (``other``, ``undefined``,
    ``error``); None when every failure is a stub not attempted."""
    found = [m for m in (classify(f.message, f.ename, function_of(f.cell)) for f in failures) if m is not None]
    return next((m for m in found if m not in UNNAMED), found[0] if found else None)


def rank(tallies) -> list[Tally]:
    """Named mistakes first, then by the share of students, the failing checks, the id and the function."""
    return sorted(tallies, key=lambda t: (t.mistake in UNNAMED, -t.share, -len(t.students), -t.count, t.mistake,
                                          t.function, t.assignment))


def count(failures_by_student: dict, graded: int | None = None, assignment: str = "") -> list:
    """Tally ``{student: [Failure]}`` by (mistake, function): each student counts once per
    function, under :func:`diagnosis`; a stub not attempted counts nowhere.

    Parameters
    ----------
    failures_by_student : dict
    graded : int, optional
        The students of the assignment whose notebooks were graded (the share's denominator;
        default: the students in ``failures_by_student``).
    assignment : str

    Returns
    -------
    list of Tally
        Ranked by :func:`rank`.
    """
    of = len(failures_by_student) if graded is None else graded
    tallies: dict[tuple[str, str], Tally] = {}
    for sid, failures in failures_by_student.items():
        by_function: dict[str, list[Failure]] = {}
        for f in failures:
            by_function.setdefault(function_of(f.cell), []).append(f)
        for function, fs in by_function.items():
            mid = diagnosis(fs)
            if mid is None:
                continue
            t = tallies.setdefault((mid, function), Tally(mid, function, of=of, assignment=assignment))
            t.count += len(fs)
            t.students.append(sid)
    return rank(tallies.values())
