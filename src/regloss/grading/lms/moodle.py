"""Moodle: "Download all submissions" in, the offline grading worksheet (``moodle.csv``) out.

* Its export holds folders ``<Full Name>_<participantid>_assignsubmission_<plugin>_/<file>``
  (or, without "download as folders", files ``<Full Name>_<participantid>_assignsubmission_
  <plugin>_<file>``); the id is the participant id; the ``file`` plugin's entries hold what
  is graded, other plugins' (online text, ...) are kept beside.
* ``moodle.csv`` is Moodle's assignment "offline grading worksheet": columns ``Identifier``
  ("Participant <id>"), ``Full name``, ``Email address``, ``Status``, ``Grade``, ``Maximum
  Grade``, ``Grade can be changed``, ``Last modified (submission)``, ``Last modified
  (grade)``, ``Feedback comments``. Moodle's importer (``assignfeedback_offline``) finds the
  rows by ``Identifier``, the score in ``Grade``, and skips a grade whose ``Last modified
  (grade)`` is older than the one it holds.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import replace
from pathlib import Path

from regloss.grading.lms import LMS, Entry
from regloss.grading.lms.roster import MOODLE_PARTICIPANT, Person
from regloss.grading.lms.roster import score_text as _score
from regloss.grading.report.spreadsheet import Writer

MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments"]


def parse(entry: str) -> Entry | None:
    """What one entry's name says. Moodle writes the student's name and participant id first;
    the rest is the file's name as the student uploaded it. Either part may hold
    ``_<id>_assignsubmission_<plugin>_`` again (a file named after someone else, or a name
    chosen so): the first reading is returned, the others in :attr:`Entry.readings`."""
    found = [_entry(entry, m) for m in _SEPARATOR.finditer(entry) if m.start() > 0]
    if not found:
        return None
    first, *others = found
    return replace(first, readings=tuple(others))


#: Moodle's separator between the name and the file, found wherever it stands (overlapping too).
_SEPARATOR = re.compile(r"(?=(?P<sep>_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_))")


def _entry(whole: str, sep: re.Match[str]) -> Entry:
    name, original = whole[:sep.start()], whole[sep.end("sep"):]
    if sep["plugin"] != "file":  # online text and other plugins: nothing to grade, kept beside
        original = f"assignsubmission_{sep['plugin']}_{original}".rstrip("_")
    return Entry(sep["participant"], name, original)


def moodle_time(when: _dt.datetime) -> str:
    """Moodle's own date format in its worksheets (``strftimedatetime``), which its importer parses."""
    hour = when.hour % 12 or 12
    return f"{when:%A}, {when.day} {when:%B %Y}, {hour}:{when:%M} {'AM' if when.hour < 12 else 'PM'}"


def write_moodle(rows, people_by_id: dict, path: Path, when=None):
    """Write ``moodle.csv``: Moodle's offline grading worksheet, one row per student.

    ``Identifier`` is ``Participant <id>`` (the id of Moodle's export),
    ``Grade`` the score with two decimals, ``Last modified (grade)`` the time of
    this run (so Moodle does not skip it as stale), ``Feedback comments`` the
    score, the points of each graded function and any problem (the worksheet's importer reads
    its own columns only, so the points per function travel in the comment).
    """
    when = when or _dt.datetime.now()
    stamp = moodle_time(when)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = Writer(f)
        w.writerow(MOODLE_COLUMNS)
        for r in rows:
            p = people_by_id.get(r.student_id) or Person(r.student_id)
            submitted = r.graded or not r.problems.startswith("no notebook submitted")
            comment = f"autograded {_score(r.auto_score)}/{_score(r.auto_max_score)}"
            if r.functions:
                comment += f" ({r.functions_text()})"
            if r.manual_pending:
                comment += f"; {_score(r.manual_pending)} points of written answers still to be graded"
            if r.problems:
                comment += f"; {r.problems}"
            w.writerow([f"{MOODLE_PARTICIPANT}{r.student_id}", p.name, p.email,
                        "Submitted for grading" if submitted else "No submission",
                        f"{r.score:.2f}", f"{r.max_score:.2f}", "Yes", "", stamp, comment])


def feedback_folder(participant_id: str, name: str) -> str:
    """The folder of one student's feedback files in Moodle's "Upload multiple feedback files in a
    zip": ``<Full Name>_<participantid>_assignfeedback_file`` (the names Moodle's own download gives
    since 4.1; its importer, ``assignfeedback_file_zip_importer``, splits a path part on ``_`` and
    reads the participant id second and the plugin third and fourth, so the name loses its ``_``)."""
    shown = re.sub(r"[_/\\]+", " ", name).strip() or f"Participant {participant_id}"
    return f"{shown}_{participant_id}_assignfeedback_file"


def write_feedback_zip(rows, people_by_id: dict, assignment: str, out: Path, path: Path) -> int:
    """Write ``moodle-feedback.zip``: each student's feedback page in their folder of Moodle's
    feedback upload (:func:`feedback_folder`), for the students whose id is a Moodle participant id;
    returns how many pages it holds (0: no file is written)."""
    import zipfile

    pages = []
    for r in rows:
        page = Path(out) / r.feedback if r.feedback else None
        if page is None or not page.is_file() or not r.student_id.isdigit():
            continue
        p = people_by_id.get(r.student_id) or Person(r.student_id)
        pages.append((f"{feedback_folder(r.student_id, p.name)}/{assignment}-feedback.html", page))
    if not pages:
        path.unlink(missing_ok=True)
        return 0
    tmp = path.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, page in pages:
            z.write(page, arcname)
    tmp.replace(path)
    return len(pages)


LMS_RECORD = LMS(
    name="moodle",
    layout="Moodle's Download all submissions: folders <Full Name>_<participantid>_assignsubmission_file_/<file>",
    parse=parse, every_entry=True, gradebook="moodle.csv",
    write=lambda rows, who, assignment, path: write_moodle(rows, who, path),
    feedback="moodle-feedback.zip", write_feedback=write_feedback_zip)
