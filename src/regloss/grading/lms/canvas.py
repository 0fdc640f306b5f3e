"""Canvas: "Download Submissions" in, the gradebook import (``canvas.csv``) out.

* Its export is one flat folder of files named ``<name>_<userid>_<submissionid>_<original
  name>`` (late ones ``<name>_LATE_<userid>_<submissionid>_<original name>``); the id is
  the Canvas user id, and Canvas appends ``-1``, ``-2``, ... to a file submitted again.
* ``canvas.csv`` is Canvas's gradebook import (the format of its gradebook export):
  columns ``Student, ID, SIS User ID, SIS Login ID, Section`` and one column named after
  the assignment holding the score; the second row is the ``Points Possible`` row Canvas's
  own export has (the maximum score). Canvas reads every other column as an assignment (and
  creates one for a name it does not know), so the points per function stay in ``grades.csv``.
"""

from __future__ import annotations

import re
from pathlib import Path

from regloss.grading.lms import LMS, Entry
from regloss.grading.lms.roster import Person
from regloss.grading.lms.roster import score_text as _score
from regloss.grading.report.spreadsheet import Writer

FILE = re.compile(r"^(?P<name>[^_]+)_(?P<late>LATE_)?(?P<user>\d+)_(?P<submission>\d+)_(?P<original>.+)$")
RESUBMIT = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.[A-Za-z0-9]+)$")
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"


def original_name(name: str) -> str:
    """Canvas appends ``-1``, ``-2``, ... to a file a student submitted again: undo it."""
    m = RESUBMIT.match(name)
    return m["stem"] + m["ext"] if m else name


def parse(entry: str) -> Entry | None:
    """What one file's name says: Canvas's name field holds no ``_``, so the name is read one
    way only."""
    m = FILE.match(entry)
    if not m:
        return None
    again = RESUBMIT.match(m["original"])
    return Entry(m["user"], m["name"], original_name(m["original"]), late=bool(m["late"]), tag=m["submission"],
                 order=(int(m["submission"]), int(again["n"]) if again else 0))


def write_canvas(rows, people_by_id: dict, assignment: str, path: Path, column=None):
    """Write ``canvas.csv``: Canvas's gradebook import format, one row per student.

    Parameters
    ----------
    rows : list of regloss.grading.report.tables.Row
    people_by_id : dict of str -> Person
    assignment : str
        The assignment column's header (Canvas matches it to an assignment by name,
        or "Name (assignment id)").
    """
    column = column or assignment
    top = max([r.max_score for r in rows] + [0.0])
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = Writer(f)
        w.writerow(CANVAS_FIXED + [column])
        w.writerow([CANVAS_POINTS_POSSIBLE, "", "", "", "", _score(top)])
        for r in rows:
            p = people_by_id.get(r.student_id) or Person(r.student_id)
            w.writerow([p.name, r.student_id, p.sis_user_id, p.sis_login_id, p.section, _score(r.score)])


LMS_RECORD = LMS(
    name="canvas",
    layout="Canvas's Download Submissions: files <name>_<userid>_<submissionid>_<original name> "
           "(late: <name>_LATE_<userid>_<submissionid>_<original name>)",
    parse=parse, every_entry=False, gradebook="canvas.csv",
    write=lambda rows, who, assignment, path: write_canvas(rows, who, assignment, path))
