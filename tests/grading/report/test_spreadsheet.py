"""The report's CSV files open in a spreadsheet as text, never as a formula
(:mod:`regloss.grading.report.spreadsheet`)."""

from __future__ import annotations

import csv

import pytest

from regloss.grading.lms import canvas, moodle
from regloss.grading.lms.roster import Person
from regloss.grading.report import tables
from regloss.grading.report.spreadsheet import FORMULA_START, cell
from regloss.grading.report.tables import Row

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_is_written_as_text(value):
    assert cell(value) == "'" + value


@pytest.mark.parametrize("value", ["ada", "Doe, Jane", "12", "7.5", "", " =not at the start", "'quoted"])
def test_everything_else_is_written_as_it_is(value):
    assert cell(value) == value
    assert cell(3.5) == 3.5


def _cells(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [c for row in csv.reader(f) for c in row]


def test_no_file_of_the_report_starts_a_cell_with_a_formula(tmp_path):
    rows = [Row(sid, 1.0, 2.0, 1.0, 2.0, 0.0, problem, "feedback.html", graded=True)
            for sid, problem in zip(HOSTILE, HOSTILE[::-1])]
    who = {r.student_id: Person(r.student_id, name=v, section=v, sis_user_id=v, sis_login_id=v, email=v)
           for r, v in zip(rows, HOSTILE)}
    tables.write_csv(rows, tmp_path / "grades.csv")
    canvas.write_canvas(rows, who, "=assignment", tmp_path / "canvas.csv")
    moodle.write_moodle(rows, who, tmp_path / "moodle.csv")
    for name in ("grades.csv", "canvas.csv", "moodle.csv"):
        cells = _cells(tmp_path / name)
        assert not [c for c in cells if c.startswith(FORMULA_START)], name
        assert any(c.lstrip("'").startswith("=HYPERLINK") for c in cells), name  # the text is kept

