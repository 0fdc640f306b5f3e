"""An LMS round trip through the real command: Moodle's "Download all submissions" zip in,
Moodle's grading worksheet (and Canvas's import, grades.csv, mistakes.csv) out; and an
export in no known layout refused with a message naming the layouts. (Canvas's export
goes through the command in tests/grading/report/test_browser.py.)"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.catalogue import all_entries
from tests.harness import solution_sources

pytestmark = pytest.mark.slow  # runs the regloss command

ROOT = Path(__file__).resolve().parents[3]
A = "01_l1_mse"
NB = f"{A}.ipynb"


def _regloss(*args):
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return subprocess.run([sys.executable, "-m", "regloss", *args], capture_output=True, text=True, cwd=ROOT, env=env)


def _student(replace):
    nb = nbformat.read(str(ROOT / "notebooks" / A / NB), as_version=4)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in replace:
            c.source = replace[gid]
    return nbformat.writes(nb)


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_moodle_zip_in_moodle_worksheet_out(tmp_path):
    sol = solution_sources(A)
    (wrong,) = [e for e in all_entries() if e.assignment == A and e.cell == "l1_loss" and e.name == "always-sum"]
    with zipfile.ZipFile(tmp_path / "moodle.zip", "w") as zf:
        zf.writestr(f"Jane Doe_201_assignsubmission_file_/{NB}", _student(sol))
        zf.writestr("Bob Roe_202_assignsubmission_file_/my homework.ipynb", _student({**sol, "l1_loss": wrong.source}))
        zf.writestr("Bob Roe_202_assignsubmission_onlinetext_/onlinetext.html", "<p>see the notebook</p>")
    out = tmp_path / "run"
    p = _regloss("grade", A, str(tmp_path / "moodle.zip"), "--out", str(out), "--workers", "2", "--no-progress")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "submissions: Moodle's Download all submissions" in p.stdout
    grades = {r["student_id"]: r for r in _rows(out / "grades.csv")}
    assert set(grades) == {"201", "202"}
    assert float(grades["201"]["auto_score"]) == float(grades["201"]["auto_max_score"]) > 0
    assert float(grades["202"]["auto_score"]) < float(grades["202"]["auto_max_score"])
    assert grades["202"]["late"] == "no"
    moodle = {r["Identifier"]: r for r in _rows(out / "moodle.csv")}
    assert set(moodle) == {"Participant 201", "Participant 202"}
    assert moodle["Participant 201"]["Full name"] == "Jane Doe"
    assert float(moodle["Participant 202"]["Grade"]) == float(grades["202"]["score"])
    assert float(moodle["Participant 202"]["Maximum Grade"]) == float(grades["202"]["max_score"])
    mistakes = _rows(out / "mistakes.csv")
    assert [(m["mistake"], m["function"], m["student_ids"]) for m in mistakes][0] == ("sum-for-mean", "l1_loss", "202")
    assert "sum-for-mean" in p.stdout.split("misconceptions")[1]
    assert not (out / "canvas.csv").exists()  # a Moodle class gets Moodle's file only
    with zipfile.ZipFile(out / "moodle-feedback.zip") as zf:  # the feedback, as Moodle uploads many at once
        pages = {n: zf.read(n).decode() for n in zf.namelist()}
    assert sorted(pages) == [f"Bob Roe_202_assignfeedback_file/{A}-feedback.html",
                             f"Jane Doe_201_assignfeedback_file/{A}-feedback.html"]
    assert pages[f"Bob Roe_202_assignfeedback_file/{A}-feedback.html"] == (out / grades["202"]["feedback"]).read_text()
    assert "moodle-feedback.zip" in p.stdout
    p = _regloss("grade", A, str(tmp_path / "moodle.zip"), "--out", str(out), "--no-progress", "--lms", "canvas,moodle")
    assert p.returncode == 0, p.stdout + p.stderr
    canvas = list(csv.reader(open(out / "canvas.csv", newline="")))  # ...and Canvas's on request
    assert canvas[0][-1] == A and {r[1] for r in canvas[2:]} == {"201", "202"}


def test_an_export_in_no_known_layout_is_refused(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(_student({}))
    (folder / "bob.ipynb").write_text(_student({}))
    p = _regloss("grade", A, str(folder), "--out", str(tmp_path / "run"), "--no-progress")
    assert p.returncode == 2, p.stdout + p.stderr
    err = p.stderr.strip()
    assert err.startswith("regloss: error:") and len(err.splitlines()) == 1, err
    for layout in ("a folder per student", "Canvas's Download Submissions", "Moodle's Download all submissions"):
        assert layout in err
