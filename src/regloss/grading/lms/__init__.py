"""The learning-management systems: how each names a class's submissions in its export,
and the gradebook file it imports. One module per system, one :class:`LMS` record each.

Intake (:mod:`regloss.grading.run.intake`) tells an export's layout apart and lays it out
as a folder per student with the records' :attr:`LMS.parse` and :attr:`LMS.every_entry`;
the report writes every record's gradebook file (:func:`write_gradebooks`).
A new system is a module here with its record, named in :data:`LMSES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Entry:
    """What an export's file (or folder) name says.

    Attributes
    ----------
    student_id : str
        The system's id of the student.
    name : str
        The student's name as the system wrote it.
    original : str
        The file's name as the student handed it in ("" when it holds nothing to grade).
    late : bool
        The system marked the submission late.
    tag : str
        Tells apart two files of one name (a submission's id).
    order : tuple of int
        Where the system says which of two files of one name is the later (Canvas: the
        submission's id and the resubmission's number); ``()``: it does not say.
    readings : tuple of Entry
        Other ways to read the same name, where a part the student chose (their file's name,
        their name) holds the system's pattern again (Moodle): ``()`` when the name is
        unambiguous. Intake files such an entry only where exactly one reading agrees with
        the rest of the export.
    """

    student_id: str
    name: str
    original: str
    late: bool = False
    tag: str = ""
    order: tuple[int, ...] = ()
    readings: tuple[Entry, ...] = ()


#: ``write(rows, people_by_id, assignment, path)``: the system's gradebook import.
Writer = Callable[[Sequence[Any], dict, str, Path], None]
#: ``write(rows, people_by_id, assignment, out, path)``: the feedback pages under ``out`` as the system
#: uploads many at once; returns how many pages it holds.
FeedbackWriter = Callable[[Sequence[Any], dict, str, Path, Path], int]


@dataclass(frozen=True)
class LMS:
    """One learning-management system.

    Attributes
    ----------
    name : str
        Its id (``"canvas"``), the layout's name in ``class.json`` and the report.
    layout : str
        How its export looks, in the words of an error message.
    parse : callable
        ``parse(entry name) -> Entry | None``: what one entry of its export says, or None
        when the name is not the system's.
    every_entry : bool
        Its exports hold only its own entries (files or folders): one entry of its form
        claims the folder, and any other entry is a mixture (Moodle). Otherwise its
        exports are files, and a file of another form is a loose file (Canvas).
    gradebook : str
        The file the report writes for the system's gradebook import.
    write : Writer
    feedback : str
        The file the report writes for the system's upload of every student's feedback page at
        once ("": the system has none).
    write_feedback : FeedbackWriter or None
    """

    name: str
    layout: str
    parse: Callable[[str], Entry | None]
    every_entry: bool
    gradebook: str
    write: Writer
    feedback: str = ""
    write_feedback: FeedbackWriter | None = None


def _registry() -> tuple[LMS, ...]:
    from regloss.grading.lms import canvas, moodle

    return (canvas.LMS_RECORD, moodle.LMS_RECORD)


#: Every system regloss knows, in the order intake tries them.
LMSES: tuple[LMS, ...] = _registry()


def by_name(name: str) -> LMS | None:
    """The system named ``name``, or None."""
    return next((s for s in LMSES if s.name == name), None)


def systems_for(layout: str, requested: Sequence[str] | None = None) -> tuple[LMS, ...]:
    """The systems whose gradebook files a class gets: those ``requested`` by name, else the
    system its export came from, else (a folder per student: the system is not known) all."""
    from regloss.course import CourseError

    if requested:
        unknown = [n for n in requested if by_name(n) is None]
        if unknown:
            raise CourseError(f"unknown LMS {', '.join(map(repr, unknown))}; known: "
                              f"{', '.join(s.name for s in LMSES)}")
        return tuple(s for s in LMSES if s.name in requested)
    own = by_name(layout)
    return (own,) if own is not None else LMSES


def write_gradebooks(rows: Sequence[Any], people_by_id: dict, assignment: str, out: Path,
                     systems: Sequence[LMS] = ()) -> list[Path]:
    """Write the gradebook import of each of ``systems`` (default: every system) under ``out``, and
    its feedback upload where it has one, and remove another system's files an earlier run left
    there; returns the files written."""
    systems = tuple(systems) or LMSES
    written = []
    for system in LMSES:
        path = out / system.gradebook
        feedback = out / system.feedback if system.feedback else None
        if system in systems:
            system.write(rows, people_by_id, assignment, path)
            written.append(path)
            if feedback is not None and system.write_feedback is not None:
                if system.write_feedback(rows, people_by_id, assignment, out, feedback):
                    written.append(feedback)
                else:
                    feedback.unlink(missing_ok=True)
        else:
            path.unlink(missing_ok=True)
            if feedback is not None:
                feedback.unlink(missing_ok=True)
    return written
