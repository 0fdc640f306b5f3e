"""The class roster, and the people an export or a roster names: for the gradebook files and formgrader.

A roster (``--roster FILE``, CSV with a header row) fills names, sections and SIS ids.
Its columns are recognised by name, so a Canvas gradebook export or a Moodle grading
worksheet serves as a roster as it is (see :data:`ROSTER_COLUMNS`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from regloss.course import CourseError

#: How Moodle writes an id in its worksheets (``Participant 123``), read back as ``123``.
MOODLE_PARTICIPANT = "Participant "
# roster field -> header names accepted (compared case-insensitively, spaces and _ alike)
ROSTER_COLUMNS = {
    "student_id": ["student_id", "student id", "id", "identifier", "participant", "user id"],
    "name": ["name", "student", "full name", "fullname", "student name"],
    "section": ["section", "sections", "group"],
    "sis_user_id": ["sis user id", "sis_user_id", "id number", "idnumber"],
    "sis_login_id": ["sis login id", "sis_login_id", "login", "username"],
    "email": ["email", "email address", "e-mail"],
}


@dataclass
class Person:
    """What the roster (or the LMS export) knows of a student."""

    student_id: str
    name: str = ""
    section: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    email: str = ""


def _key(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lower())


def _clean_id(value: str) -> str:
    v = value.strip()
    if v.lower().startswith(MOODLE_PARTICIPANT.strip().lower()):  # Moodle's "Participant 123"
        v = v[len(MOODLE_PARTICIPANT.strip()):].strip()
    return v


def read_roster(path) -> dict:
    """``{student_id: Person}`` from a roster CSV.

    Recognised headers (any case): the student id (``student_id``, ``ID``,
    ``Identifier`` -- Moodle's ``Participant <id>`` is understood), the name
    (``name``, ``Student``, ``Full name``), ``Section``, ``SIS User ID``,
    ``SIS Login ID`` and ``Email address``. Canvas's ``Points Possible`` row is skipped.

    Raises
    ------
    CourseError
        The file is missing or unreadable, or has no id column.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"cannot read the roster {path}: {exc}") from exc
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise CourseError(f"the roster {path} is empty; expected a header row with a student id column")
    header = [_key(h) for h in rows[0]]
    where = {}
    for field, names in ROSTER_COLUMNS.items():
        for i, h in enumerate(header):
            if h in names and field not in where:
                where[field] = i
    if "student_id" not in where:
        raise CourseError(f"the roster {path} has no student id column (found {', '.join(rows[0])}); "
                          f"expected one of: {', '.join(ROSTER_COLUMNS['student_id'])}")
    people = {}
    for row in rows[1:]:
        get = {f: (row[i].strip() if i < len(row) else "") for f, i in where.items()}
        if "Points Possible" in get.get("name", "") or not get["student_id"]:
            continue
        sid = _clean_id(get.pop("student_id"))
        people[sid] = Person(sid, **get)
    return people


def people(rows, infos: dict, roster: dict) -> dict:
    """``{student_id: Person}`` for the graded rows: the roster first, else what the
    LMS export's file names said (:class:`regloss.grading.run.intake.StudentInfo`)."""
    out = {}
    for r in rows:
        p = roster.get(r.student_id)
        if p is None:
            info = infos.get(r.student_id)
            p = Person(r.student_id, name=info.name if info else "")
        out[r.student_id] = p
    return out


def score_text(x: float) -> str:
    """A score as the gradebook files write it (``12``, ``7.5``)."""
    return f"{x:g}"


def split_name(name: str):
    """``(first, last)`` of a display name: ``"Doe, Jane"`` (Canvas) or ``"Jane Doe"`` (Moodle);
    a single word (Canvas's file names, ``doejane``) is the last name."""
    name = (name or "").strip()
    if not name:
        return None, None
    if "," in name:
        last, first = (x.strip() for x in name.split(",", 1))
        return first or None, last or None
    parts = name.split()
    if len(parts) == 1:
        return None, parts[0]
    return " ".join(parts[:-1]), parts[-1]


def gradebook_names(p: Person) -> dict[str, str]:
    """The gradebook's ``first_name``, ``last_name`` and ``email`` for ``p``: formgrader shows
    ``last, first`` and writes "None" for what is missing, so nothing is left missing: a single
    word (Canvas's ``babbagecharles``) is the last name, no name at all the student id, and no
    e-mail an empty one."""
    first, last = split_name(p.name)
    return {"first_name": first or "", "last_name": last or p.student_id, "email": p.email or ""}


def name_students(db_url: str, people_by_id: dict):
    """Give the gradebook's students the names and e-mails the roster (or the export) knows,
    so formgrader shows them (:func:`gradebook_names`); a student the gradebook lacks is left
    out, a name or e-mail already there (an instructor's edit) kept."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        for sid, p in people_by_id.items():
            try:
                student = gb.find_student(sid)
            except MissingEntry:
                continue
            changes = {k: v for k, v in gradebook_names(p).items() if not getattr(student, k)
                       and getattr(student, k) != v}
            if changes:
                gb.update_or_create_student(sid, **changes)
