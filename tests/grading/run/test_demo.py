"""`regloss demo`: sample classes generated from the catalogue for every assignment, and
one of them graded through the real command."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from regloss.course import assignments
from regloss.grading.run import sample
from tests.catalogue import CORRECT, WRONG, all_entries

ROOT = Path(__file__).resolve().parents[3]
RELEASED = [a for a in assignments(ROOT) if any((ROOT / "notebooks" / a).glob("*.ipynb"))]


def _cells(nb):
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}


@pytest.mark.parametrize("assignment", RELEASED)
def test_sample_class_is_made_from_the_catalogue(assignment):
    entries = all_entries()
    cls = sample.sample_class(ROOT, assignment, entries)
    assert tuple(cls) == sample.STUDENTS
    release = nbformat.read(str(next((ROOT / "notebooks" / assignment).glob("*.ipynb"))), as_version=4)
    for nb in cls.values():
        nbformat.validate(nb)
        assert [c.cell_type for c in nb.cells] == [c.cell_type for c in release.cells]
    assert _cells(cls["ben_blank"]) == _cells(release)
    perfect = _cells(cls["ada_perfect"])
    assert not any("BEGIN SOLUTION" in src or "NotImplementedError" in src
                   for gid, src in perfect.items() if gid in sample.solution_sources(release))
    mine = [e for e in entries if e.assignment == assignment]
    cleo = _cells(cls["cleo_mistakes"])
    first_wrong = {}
    for e in mine:
        if e.expect == WRONG:
            first_wrong.setdefault(e.cell, e)
    for cell, e in first_wrong.items():  # every graded function has its first wrong entry, unless taken
        assert cleo[cell] == e.source or any(cell in o.also for o in first_wrong.values() if o is not e)
    dan = _cells(cls["dan_mixed"])
    alternates = [e for e in mine if e.expect == CORRECT]
    assert any(dan[e.cell] == e.source for e in alternates), "dan uses no correct alternate"


def test_write_sample_class_copies_the_release_files(tmp_path):
    a = RELEASED[-1]
    dest = sample.write_sample_class(ROOT, a, all_entries(), tmp_path / a)
    others = sorted(p.name for p in (ROOT / "notebooks" / a).iterdir() if p.suffix != ".ipynb" and p.is_file())
    for sid in sample.STUDENTS:
        got = sorted(p.name for p in (dest / sid).iterdir())
        assert got == sorted(others + [next((ROOT / "notebooks" / a).glob("*.ipynb")).name])


def test_no_hand_written_sample_class_is_kept():
    assert not (ROOT / "grading" / "sample_class").exists()
    assert "grading/demo-out/" in (ROOT / ".gitignore").read_text()


def _demo(out, *flags):
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    p = subprocess.run([sys.executable, "-m", "regloss", "demo", "01_l1_mse", "--out", str(out),
                        "--timeout", "60", "--no-progress", *flags], capture_output=True, text=True, cwd=ROOT, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def _scores(stdout):
    lines = stdout.splitlines()
    header = next(ln for ln in lines if ln.startswith("assignment"))
    assert header.split()[1:] == list(sample.STUDENTS)
    row = next(ln for ln in lines if ln.startswith("01_l1_mse")).split()[1:]
    return {s: tuple(float(x) for x in v.rstrip("+").split("/")) for s, v in zip(sample.STUDENTS, row)}


@pytest.mark.slow
def test_demo_grades_on_the_dask_cluster_it_is_given(dask_scheduler, tmp_path):
    """``regloss demo --scheduler`` grades on that cluster (it used to parse the flag and grade locally)."""
    p = _demo(tmp_path, "--scheduler", dask_scheduler)
    assert f"Dask cluster {dask_scheduler}: 2 workers" in p.stdout
    scores = _scores(p.stdout)
    assert scores["ada_perfect"][0] == scores["ada_perfect"][1] > 0
    assert scores["ben_blank"][0] == 0


@pytest.mark.slow
def test_demo_grades_a_generated_class_through_the_command(tmp_path):
    p = _demo(tmp_path)
    assert "Dask" not in p.stdout
    lines = p.stdout.splitlines()
    header = next(ln for ln in lines if ln.startswith("assignment"))
    assert header.split()[1:] == list(sample.STUDENTS)
    row = next(ln for ln in lines if ln.startswith("01_l1_mse")).split()[1:]
    scores = {s: tuple(float(x) for x in v.rstrip("+").split("/")) for s, v in zip(sample.STUDENTS, row)}
    assert scores["ada_perfect"][0] == scores["ada_perfect"][1] > 0
    assert scores["ben_blank"][0] == 0
    assert scores["cleo_mistakes"][0] < scores["cleo_mistakes"][1]
    assert "misconceptions across the course" in p.stdout
    with open(tmp_path / "01_l1_mse" / "mistakes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert any(r["mistake"] != "other" and "cleo_mistakes" in r["student_ids"] for r in rows), rows
    for name in ("grades.csv", "canvas.csv", "moodle.csv", "mistakes.png", "scores.png", "nbgrader_config.py"):
        assert (tmp_path / "01_l1_mse" / name).is_file(), name
