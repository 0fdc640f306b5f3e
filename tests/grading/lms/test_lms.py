"""A learning-management system is one record (:mod:`regloss.grading.lms`): intake and the report
read nothing else, so a new system is one entry."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from regloss.grading import lms
from regloss.grading.lms import Entry, canvas, moodle
from regloss.grading.lms.roster import Person
from regloss.grading.report.tables import Row
from regloss.grading.run import intake


def _parse_tiny(name: str) -> Entry | None:
    """A made-up system whose export holds files ``<userid>__<original name>``."""
    sid, sep, original = name.partition("__")
    return Entry(sid, f"user {sid}", original) if sep and sid.isdigit() else None


def _write_tiny(rows, who, assignment, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([[r.student_id, assignment, r.score] for r in rows])


TINY = lms.LMS(name="tiny", layout="Tiny's export: files <userid>__<original name>", parse=_parse_tiny,
               every_entry=False, gradebook="tiny.csv", write=_write_tiny)


@pytest.fixture
def with_tiny(monkeypatch):
    monkeypatch.setattr(lms, "LMSES", (*lms.LMSES, TINY))


def _nb() -> str:
    return nbformat.writes(nbformat.v4.new_notebook())


def test_a_new_system_is_one_entry(with_tiny, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    for name in ("41__01_l1_mse.ipynb", "42__01_l1_mse.ipynb", "notes.txt"):
        (export / name).write_text(_nb())
    assert intake.detect_layout(export) == "tiny"
    dest, layout, infos, loose = intake.normalise(export, tmp_path / "scratch")
    assert layout == "tiny" and loose == ["notes.txt"]
    assert sorted(p.name for p in dest.iterdir()) == ["41", "42"]
    assert (dest / "41" / "01_l1_mse.ipynb").is_file() and infos["42"].name == "user 42"
    assert "Tiny's export" in intake.layouts()["tiny"]
    row = Row("41", 3.0, 4.0, 3.0, 4.0, 0.0, "", "", graded=True)
    written = lms.write_gradebooks([row], {}, "01_l1_mse", tmp_path)
    assert [p.name for p in written] == ["canvas.csv", "moodle.csv", "tiny.csv"]
    assert (tmp_path / "tiny.csv").read_text().split() == ["41,01_l1_mse,3.0"]
    written = lms.write_gradebooks([row], {}, "01_l1_mse", tmp_path, lms.systems_for(layout))
    assert [p.name for p in written] == ["tiny.csv"]  # a Tiny class gets Tiny's file only
    assert not (tmp_path / "canvas.csv").exists() and not (tmp_path / "moodle.csv").exists()  # none left stale


@pytest.mark.parametrize("layout, requested, names", [
    ("canvas", None, ["canvas"]),
    ("moodle", None, ["moodle"]),
    ("folders", None, ["canvas", "moodle"]),  # the system is not known: every file
    ("canvas", ["moodle", "canvas"], ["canvas", "moodle"]),  # on request
])
def test_a_class_gets_the_gradebook_file_of_its_own_system(layout, requested, names):
    assert [s.name for s in lms.systems_for(layout, requested)] == names


def test_an_unknown_system_is_refused_by_name():
    with pytest.raises(intake.CourseError, match="unknown LMS 'blackboard'; known: canvas, moodle"):
        lms.systems_for("folders", ["blackboard"])


def test_without_it_the_same_export_is_no_layout(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "41__01_l1_mse.ipynb").write_text(_nb())
    with pytest.raises(intake.CourseError, match="no layout regloss knows"):
        intake.detect_layout(export)


@pytest.mark.parametrize("system, entry, expected", [
    (canvas, "doejane_LATE_1001_5001_01_l1_mse-1.ipynb",
     Entry("1001", "doejane", "01_l1_mse.ipynb", True, "5001", order=(5001, 1))),
    (canvas, "doejane_1001_5001_01_l1_mse.ipynb",
     Entry("1001", "doejane", "01_l1_mse.ipynb", False, "5001", order=(5001, 0))),
    (canvas, "README.txt", None),
    (moodle, "Jane Doe_2001_assignsubmission_file_", Entry("2001", "Jane Doe", "")),
    (moodle, "Jane Doe_2001_assignsubmission_onlinetext_onlinetext.html",
     Entry("2001", "Jane Doe", "assignsubmission_onlinetext_onlinetext.html")),
    (moodle, "alice", None),
    (moodle, "Eve_3001_assignsubmission_file_x_2001_assignsubmission_file_a.ipynb",  # the file named after 2001
     Entry("3001", "Eve", "x_2001_assignsubmission_file_a.ipynb",
           readings=(Entry("2001", "Eve_3001_assignsubmission_file_x", "a.ipynb"),))),
    (moodle, "A_1_assignsubmission_file__2_assignsubmission_file_b",  # overlapping separators: both read
     Entry("1", "A", "_2_assignsubmission_file_b", readings=(Entry("2", "A_1_assignsubmission_file_", "b"),))),
])
def test_what_an_entry_name_says(system, entry, expected):
    assert system.parse(entry) == expected


def test_every_system_is_named_once_with_its_own_gradebook():
    names = [s.name for s in lms.LMSES]
    assert len(set(names)) == len(names) and "folders" not in names
    assert len({s.gradebook for s in lms.LMSES}) == len(names)
    assert json.dumps(intake.layouts())  # plain text, for class.json and the summary


def test_a_moodle_file_named_after_another_student_stays_its_uploaders():
    """Moodle writes the uploader's name and id first; the rest is the name the student chose."""
    got = moodle.parse("Eve Mallory_3001_assignsubmission_file_x_2001_assignsubmission_file_01_l1_mse.ipynb")
    assert got is not None and got.student_id == "3001" and got.name == "Eve Mallory"
    assert got.original == "x_2001_assignsubmission_file_01_l1_mse.ipynb"


def _moodle_import(path: str, participants: set[int]):
    """Moodle's ``assignfeedback_file_zip_importer::is_valid_filename_for_import``, line for line:
    ``(participant id, plugin type, plugin name, file name)`` of a zip entry, or None."""
    parts = path.split("/")
    while parts:
        info = parts.pop(0).split("_", 4)  # PHP's explode('_', $part, 5)
        if len(info) < 4 or not info[1].isdigit() or int(info[1]) not in participants:
            continue
        parts.insert(0, info[4] if len(info) == 5 else "")
        return int(info[1]), info[2], info[3], "/".join(parts)
    return None


@pytest.mark.parametrize("name", ["Jane Doe", "Jane_Doe", "O'Brien / Mary", "", "李 小龙"])
def test_moodle_feedback_zip_names_are_read_by_moodles_importer(tmp_path, name):
    page = tmp_path / "feedback" / "201" / "01_l1_mse" / "01_l1_mse.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>feedback</p>")
    row = Row("201", 3.0, 4.0, 3.0, 4.0, 0.0, "", "feedback/201/01_l1_mse/01_l1_mse.html")
    other = Row("alice", 1.0, 4.0, 1.0, 4.0, 0.0, "", "")  # not a participant id: not in the zip
    zpath = tmp_path / "moodle-feedback.zip"
    people = {"201": Person("201", name)}
    assert moodle.write_feedback_zip([row, other], people, "01_l1_mse", tmp_path, zpath) == 1
    import zipfile

    (entry,) = zipfile.ZipFile(zpath).namelist()
    assert _moodle_import(entry, {201}) == (201, "assignfeedback", "file", "/01_l1_mse-feedback.html")
    assert _moodle_import(entry, {202}) is None  # another participant's upload is not theirs


def test_no_feedback_zip_without_a_participant(tmp_path):
    zpath = tmp_path / "moodle-feedback.zip"
    zpath.write_text("old")
    row = Row("alice", 1.0, 4.0, 1.0, 4.0, 0.0, "", "")
    assert moodle.write_feedback_zip([row], {}, "01_l1_mse", tmp_path, zpath) == 0
    assert not zpath.exists()
