"""What a grading run has finished, kept in ``DIR/state.jsonl`` as it goes.

A re-run skips the students already graded from the same files (and settings),
and an interrupted run is completed by the next one. The record is a journal:
a header line, then one JSON line per finished student, appended and flushed
as each finishes, so recording a student costs the same for the first of a
class as for the ten-thousandth (the previous ``state.json`` was rewritten whole
after every student: quadratic in the class). When several lines name the same
student the last one holds; a last line cut short by a crash is ignored.
:meth:`RunState.compact` rewrites the journal with one line per student
(atomically) at the end of a run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO

VERSION = 3
JOURNAL = "state.jsonl"
LEGACY = "state.json"  # version 2: {"version": 2, "students": {id: summary}}, rewritten per student


class RunState:
    """The journal of one output folder.

    Attributes
    ----------
    students : dict
        ``{student id: summary}`` (:meth:`StudentResult.summary`), as recorded.
    """

    def __init__(self, out: Path):
        self.path = Path(out) / JOURNAL
        self.students = read_students(out)
        self._file: TextIO | None = None

    def record(self, student_id: str, summary: dict):
        """Append one finished student (flushed before returning)."""
        if self._file is None:
            fresh = not self.path.is_file() or self.path.stat().st_size == 0
            if not fresh and not _header_ok(self.path):
                self._rewrite()
            self._file = open(self.path, "a", encoding="utf-8")
            if fresh:
                self._file.write(json.dumps({"version": VERSION}) + "\n")
            elif not _ends_with_newline(self.path):  # a line cut short by a crash: end it
                self._file.write("\n")
        self.students[student_id] = summary
        assert self._file is not None
        self._file.write(json.dumps({"student": student_id, "summary": summary}, sort_keys=True) + "\n")
        self._file.flush()

    def compact(self):
        """Rewrite the journal with one line per student; the legacy file goes."""
        self.close()
        self._rewrite()
        (self.path.parent / LEGACY).unlink(missing_ok=True)

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def _rewrite(self):
        tmp = self.path.with_name(JOURNAL + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps({"version": VERSION}) + "\n")
            for sid in sorted(self.students):
                f.write(json.dumps({"student": sid, "summary": self.students[sid]}, sort_keys=True) + "\n")
        os.replace(tmp, self.path)


def _header_ok(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return json.loads(f.readline()).get("version") == VERSION
    except (OSError, ValueError, AttributeError):
        return False


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def parse_journal(lines):
    """``{student id: summary}`` from the journal's lines (pure): the header must
    name this version (else nothing is known), the last line per student holds,
    and a line that is not a whole record (cut short by a crash) is skipped."""
    lines = iter(lines)
    try:
        if json.loads(next(lines)).get("version") != VERSION:
            return {}
    except (StopIteration, ValueError, AttributeError):
        return {}
    students = {}
    for line in lines:
        try:
            rec = json.loads(line)
            students[str(rec["student"])] = dict(rec["summary"])
        except (ValueError, KeyError, TypeError):
            continue
    return students


def read_students(out: Path) -> dict:
    """``{student id: summary}`` of what the runs into ``out`` have finished."""
    out = Path(out)
    try:
        with open(out / JOURNAL, encoding="utf-8") as f:
            return parse_journal(f)
    except OSError:
        pass
    try:  # a folder graded before the journal
        legacy = json.loads((out / LEGACY).read_text())
        if legacy.get("version") == 2 and isinstance(legacy.get("students"), dict):
            return dict(legacy["students"])
    except (OSError, ValueError, AttributeError):
        pass
    return {}
