"""Intake: every layout an instructor may hand `regloss grade` (a folder per student,
Canvas's and Moodle's exports, each as a folder or a zip) and broken input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from regloss.course import CourseError
from regloss.grading.lms import canvas
from regloss.grading.run import intake

NB = "01_l1_mse.ipynb"


def _nb(text="x = 1"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(text)]
    return nbformat.writes(nb)


def _write(folder: Path, files: dict):
    for rel, content in files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return folder


def _zip(folder: Path, dest: Path, prefix=""):
    with zipfile.ZipFile(dest, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, prefix + str(p.relative_to(folder)))
    return dest


CANVAS = {
    "doejane_1001_5001_01_l1_mse.ipynb": _nb("a = 1"),
    "roebob_LATE_1002_5002_01_l1_mse.ipynb": _nb("b = 2"),
    "kimlee_1003_5003_01_l1_mse-1.ipynb": _nb("c = 3"),  # Canvas renames a resubmitted file
    "kimlee_1003_5003_data.csv": "x,y\n1,2\n",
}
MOODLE_FOLDERS = {
    "Jane Doe_2001_assignsubmission_file_/01_l1_mse.ipynb": _nb("a = 1"),
    "Bob Roe_2002_assignsubmission_file_/my work.ipynb": _nb("b = 2"),
    "Bob Roe_2002_assignsubmission_onlinetext_/onlinetext.html": "<p>hi</p>",
}
MOODLE_FLAT = {
    "Jane Doe_2001_assignsubmission_file_01_l1_mse.ipynb": _nb("a = 1"),
    "Bob Roe_2002_assignsubmission_file_01_l1_mse.ipynb": _nb("b = 2"),
}
FOLDERS = {"alice/01_l1_mse.ipynb": _nb("a = 1"), "bob/sub/01_l1_mse.ipynb": _nb("b = 2")}


def _read(tmp_path, source):
    root = intake.open_submissions(source, tmp_path / "scratch")
    layout, infos = intake.class_info(tmp_path / "scratch" / intake.CLASS_INFO)
    subs, loose = intake.read_class(root, [NB], {NB: set()})
    return layout, infos, {s.student_id: s for s in subs}, loose


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_canvas_download_submissions(tmp_path, as_zip):
    src = _write(tmp_path / "canvas", CANVAS)
    source = _zip(src, tmp_path / "submissions.zip") if as_zip else src
    layout, infos, subs, _ = _read(tmp_path, source)
    assert layout == "canvas"
    assert set(subs) == {"1001", "1002", "1003"}
    assert [infos[s].late for s in ("1001", "1002", "1003")] == [False, True, False]
    assert infos["1001"].name == "doejane"
    assert subs["1003"].notebooks[NB].name == NB  # the "-1" Canvas added is undone
    assert not subs["1003"].problems
    assert (subs["1003"].folder / "data.csv").is_file()  # the student's other file beside it
    assert nbformat.read(str(subs["1002"].notebooks[NB]), as_version=4).cells[0].source == "b = 2"


def test_canvas_zip_wrapped_in_a_folder(tmp_path):
    src = _write(tmp_path / "canvas", CANVAS)
    layout, _, subs, _ = _read(tmp_path, _zip(src, tmp_path / "s.zip", prefix="submissions/"))
    assert layout == "canvas" and set(subs) == {"1001", "1002", "1003"}


def test_canvas_loose_files_are_reported_not_graded(tmp_path):
    src = _write(tmp_path / "canvas", {**CANVAS, "README.txt": "exported"})
    intake.open_submissions(src, tmp_path / "scratch")
    data = json.loads((tmp_path / "scratch" / intake.CLASS_INFO).read_text())
    assert data["loose"] == ["README.txt"] and "README.txt" not in data["students"]


@pytest.mark.parametrize("files", [MOODLE_FOLDERS, MOODLE_FLAT], ids=["as-folders", "flat"])
@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_moodle_download_all_submissions(tmp_path, files, as_zip):
    src = _write(tmp_path / "moodle", files)
    source = _zip(src, tmp_path / "moodle.zip") if as_zip else src
    layout, infos, subs, _ = _read(tmp_path, source)
    assert layout == "moodle"
    assert set(subs) == {"2001", "2002"}
    assert infos["2001"].name == "Jane Doe" and not infos["2001"].late
    assert subs["2001"].notebooks[NB].name == NB
    assert NB in subs["2002"].notebooks  # "my work.ipynb" graded under the assignment's name


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_folder_per_student(tmp_path, as_zip):
    src = _write(tmp_path / "class", FOLDERS)
    source = _zip(src, tmp_path / "class.zip", prefix="class/") if as_zip else src
    layout, infos, subs, _ = _read(tmp_path, source)
    assert layout == "folders" and set(subs) == {"alice", "bob"}
    assert subs["bob"].notebooks[NB].parent.name == "sub"
    assert not infos["alice"].late


def test_folder_per_student_with_loose_file(tmp_path):
    src = _write(tmp_path / "class", {**FOLDERS, "notes.txt": "hi"})
    layout, _, subs, loose = _read(tmp_path, src)
    assert layout == "folders" and set(subs) == {"alice", "bob"} and loose == ["notes.txt"]


@pytest.mark.parametrize("files, words", [
    ({"alice.ipynb": _nb(), "bob.ipynb": _nb()}, "no layout regloss knows"),
    ({"Jane Doe_2001_assignsubmission_file_/a.ipynb": _nb(), "alice/a.ipynb": _nb()}, "mixes Moodle"),
    ({"doejane_1001_5001_a.ipynb": _nb(), "alice/a.ipynb": _nb()}, "mixes folders with Canvas"),
], ids=["loose-notebooks", "moodle-and-folders", "canvas-and-folders"])
def test_unknown_or_mixed_layout_is_a_clear_error(tmp_path, files, words):
    src = _write(tmp_path / "x", files)
    with pytest.raises(CourseError) as exc:
        intake.open_submissions(src, tmp_path / "scratch")
    msg = str(exc.value)
    assert words in msg
    for layout in ("a folder per student", "Canvas's Download Submissions", "Moodle's Download all submissions"):
        assert layout in msg, msg


def test_empty_folder_and_broken_zip(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CourseError, match="empty"):
        intake.open_submissions(tmp_path / "empty", tmp_path / "scratch")
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CourseError, match="zip"):
        intake.open_submissions(tmp_path / "bad.zip", tmp_path / "scratch")
    with pytest.raises(CourseError, match="not found"):
        intake.open_submissions(tmp_path / "missing", tmp_path / "scratch")


def test_unsafe_zip_path_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../outside.ipynb", _nb())
    with pytest.raises(CourseError, match="unsafe path"):
        intake.open_submissions(tmp_path / "evil.zip", tmp_path / "scratch")


def test_invalid_json_problem_reads_well(tmp_path):
    p = tmp_path / NB
    p.write_text('{"cells": [{"source": "unterminated')
    reason = intake.check_notebook(p)
    assert "not valid JSON" in reason and "line 1, column" in reason
    assert "at at" not in reason


@pytest.mark.parametrize("name, fields", [
    ("doejane_1001_5001_01_l1_mse.ipynb", ("doejane", None, "1001", "5001", "01_l1_mse.ipynb")),
    ("doejane_LATE_1001_5001_my_file_2.ipynb", ("doejane", "LATE_", "1001", "5001", "my_file_2.ipynb")),
])
def test_canvas_file_name_fields(name, fields):
    m = canvas.FILE.match(name)
    assert (m["name"], m["late"], m["user"], m["submission"], m["original"]) == fields


def test_class_info_absent_is_folders(tmp_path):
    assert intake.class_info(tmp_path / "nothing.json") == ("folders", {})


def test_a_moodle_upload_named_after_another_student_is_not_filed_under_them(tmp_path):
    """Issue 23: a student uploads ``x_<victim id>_assignsubmission_file_<notebook>``; in a flat export
    Moodle prefixes it with the uploader's own name and id, which is what files it."""
    files = {**MOODLE_FLAT,
             "Eve Mallory_3001_assignsubmission_file_x_2001_assignsubmission_file_01_l1_mse.ipynb": _nb("blank")}
    layout, infos, subs, _ = _read(tmp_path, _write(tmp_path / "moodle", files))
    assert layout == "moodle" and set(subs) == {"2001", "2002", "3001"}
    victim = subs["2001"].notebooks[NB]
    assert "a = 1" in victim.read_text() and len(infos["2001"].files) == 1
    assert infos["3001"].name == "Eve Mallory"


def test_a_name_chosen_to_read_as_another_student_files_the_upload_under_no_one(tmp_path):
    """Issue 23: a student whose Moodle name is ``Jane Doe_2001_assignsubmission_file_x`` makes
    each of their flat entries read as Jane's (2001) too. Both readings agree with the rest of
    the export, so the upload is no one's: Jane's own notebook is graded, and told why."""
    files = {**MOODLE_FLAT,
             "Jane Doe_2001_assignsubmission_file_x_3001_assignsubmission_file_01_l1_mse.ipynb": _nb("blank")}
    layout, infos, subs, _ = _read(tmp_path, _write(tmp_path / "moodle", files))
    assert set(subs) == {"2001", "2002"}
    assert "a = 1" in subs["2001"].notebooks[NB].read_text() and infos["2001"].files == [
        "Jane Doe_2001_assignsubmission_file_01_l1_mse.ipynb"]
    assert any("graded as no one's" in p for p in infos["2001"].problems)
    loose = json.loads((tmp_path / "scratch" / intake.CLASS_INFO).read_text())["loose"]
    assert any("participant 2001 or 3001: filed under no one" in x for x in loose), loose


@pytest.mark.parametrize("files, graded, other", [
    ({"doejane_1001_5001_01_l1_mse.ipynb": "a = 1", "doejane_1001_5002_01_l1_mse.ipynb": "b = 2"},
     "doejane_1001_5002_01_l1_mse.ipynb", "doejane_1001_5001_01_l1_mse.ipynb"),  # a later submission
    ({"doejane_1001_5001_01_l1_mse.ipynb": "a = 1", "doejane_1001_5001_01_l1_mse-1.ipynb": "b = 2"},
     "doejane_1001_5001_01_l1_mse-1.ipynb", "doejane_1001_5001_01_l1_mse.ipynb"),  # submitted again (read first)
    ({"doejane_1001_5001_01_l1_mse-2.ipynb": "b = 2", "doejane_1001_5001_01_l1_mse-1.ipynb": "a = 1"},
     "doejane_1001_5001_01_l1_mse-2.ipynb", "doejane_1001_5001_01_l1_mse-1.ipynb"),
])
def test_two_files_claiming_one_notebook_of_one_student_are_a_stated_problem(tmp_path, files, graded, other):
    root = intake.open_submissions(_write(tmp_path / "canvas", {k: _nb(v) for k, v in files.items()}),
                                   tmp_path / "scratch")
    subs, _ = intake.read_class(root, [NB], {NB: set()})
    intake.add_export_problems(subs, tmp_path / "scratch")
    (sub,) = subs
    assert "b = 2" in sub.notebooks[NB].read_text()
    assert sub.problems[0] == (f"two files of the export are your {NB}; graded the later one, {graded}; "
                               f"{other} was not graded"), sub.problems
