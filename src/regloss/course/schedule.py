"""Due dates: an assignment's answers reach students (in the files a later assignment ships) only
after it is due.

Assignments 02-08 ship earlier assignments' answers beside their notebooks
(:data:`regloss.course.shipped.SHIPPED`): a student still working on 01 under an extension must not
find 01's answers in 02's folder. The course's due dates are a CSV, ``grading/due_dates.csv`` by
default, with columns ``assignment,due`` (``due`` in ISO 8601; without a time zone, UTC).
:func:`early_answers` says which shipped files of an assignment hold answers of an assignment not
yet due (or with no due date); :func:`check_release` refuses such a release, naming them.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from regloss.course.root import CourseError
from regloss.course.shipped import answers_shipped_by

SCHEDULE = Path("grading") / "due_dates.csv"


def parse_due(text: str) -> dt.datetime:
    """An ISO 8601 date or date-time; a naive one is UTC, a date alone the end of that day."""
    text = text.strip()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CourseError(f"not an ISO 8601 date or time: {text!r}") from exc
    if len(text) == 10:  # YYYY-MM-DD: the whole day
        when = when.replace(hour=23, minute=59, second=59)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def read_schedule(path: Path) -> dict[str, dt.datetime]:
    """``{assignment: due}`` of a due-dates CSV (``assignment,due``)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise CourseError(f"cannot read the due dates {path}: {exc}") from exc
    if rows and not {"assignment", "due"} <= set(rows[0]):
        raise CourseError(f"{path}: the columns must be 'assignment,due'")
    return {r["assignment"].strip(): parse_due(r["due"]) for r in rows if (r.get("assignment") or "").strip()}


def early_answers(assignment: str, due: dict[str, dt.datetime] | None, now: dt.datetime) -> list[str]:
    """A sentence for each file ``assignment`` ships that holds answers of an assignment not yet due
    at ``now`` (or whose due date ``due`` does not give); empty when it may be released."""
    found = []
    for name, sources in answers_shipped_by(assignment).items():
        for source in sources:
            when = (due or {}).get(source)
            if when is None:
                found.append(f"{assignment}/{name} holds answers of {source}, which has no due date")
            elif when > now:
                found.append(f"{assignment}/{name} holds answers of {source}, due {when.isoformat()}")
    return found


def load(due, root: Path) -> tuple[dict[str, dt.datetime] | None, str]:
    """The due dates ``due`` names (``{assignment: datetime}``, a CSV's path, or None: the course's
    ``grading/due_dates.csv`` where it exists) and where they come from, for the messages."""
    where = str(due) if isinstance(due, str | Path) else str(SCHEDULE)
    if isinstance(due, str | Path) or due is None and (root / SCHEDULE).is_file():
        due = read_schedule(Path(due) if due is not None else root / SCHEDULE)
    return due, where


def check_release(assignment: str, due: dict[str, dt.datetime] | None, now: dt.datetime | None = None,
                  where: str = str(SCHEDULE)) -> None:
    """Refuse (:class:`CourseError`) to hand ``assignment`` to students before the assignments whose
    answers it ships are due."""
    early = early_answers(assignment, due, now or dt.datetime.now(dt.UTC))
    if early:
        raise CourseError(f"{assignment} cannot go to students yet: " + "; ".join(early)
                          + f". Give the due dates in {where} (columns assignment,due), wait until they "
                            "have passed, or hand it out anyway with --early (say, to a grader).")
