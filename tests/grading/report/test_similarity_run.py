"""The similarity report of a graded class (issue 27, item 5), through ``regloss grade`` on 05:
a disguised copy of one student's IRLS fit is flagged with its original; the independent
correct fits (the catalogue's) are not; the functions everyone answered with the model
answer (``fit_line_ols``, ``fit_line_gd``) flag no one."""

from __future__ import annotations

import csv

import nbformat
import pytest

from regloss.grading.report.similarity import SIMILAR_ENOUGH
from tests.catalogue import CORRECT, all_entries
from tests.grading.run.test_grade_command import regloss
from tests.harness import ROOT, solution_sources, with_cells

pytestmark = pytest.mark.slow  # grades a class through the regloss command

A = "05_robust_line_fit"

DISGUISED = '''def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
    # IRLS with Huber weights -- my own version
    xs = np.asarray(x, dtype=float); ys = np.asarray(y, dtype=float)
    design = np.column_stack([xs, np.ones_like(xs)])
    coef = np.linalg.lstsq(design, ys, rcond=None)[0]   # start from OLS
    for it in range(n_iter):
        resid = ys - design @ coef
        weights = np.ones_like(resid)
        outl = np.abs(resid) > delta
        weights[outl] = delta / np.abs(resid[outl])
        root_w = np.sqrt(weights)
        updated = np.linalg.lstsq(design * root_w[:, None], ys * root_w, rcond=None)[0]
        done = np.all(np.abs(updated - coef) <= tol)
        coef = updated
        if done:
            break
    return float(coef[0]), float(coef[1])
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("alike")
    release = nbformat.read(str(ROOT / "notebooks" / A / f"{A}.ipynb"), as_version=4)
    model = solution_sources(A)
    fits = {e.name: e.source for e in all_entries()
            if e.assignment == A and e.cell == "fit_line_irls" and e.expect == CORRECT}
    assert len(fits) >= 3 and "sqrt-weight-lstsq" in fits
    students = {"model": {}, **{name: {"fit_line_irls": src} for name, src in fits.items()},
                "copier": {"fit_line_irls": DISGUISED}}
    for sid, replace in students.items():
        (base / "subs" / sid).mkdir(parents=True)
        nbformat.write(with_cells(release, {**model, **replace}), str(base / "subs" / sid / f"{A}.ipynb"))
    out = base / "out"
    p = regloss("grade", A, str(base / "subs"), "--out", str(out), "--workers", "2", "--no-progress", timeout=1800)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(out / "similarity.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(out / "grades.csv", newline="") as f:
        grades = {r["student_id"]: r for r in csv.DictReader(f)}
    return rows, grades, p.stdout


def test_every_student_wrote_a_correct_fit(run):
    _, grades, _ = run
    assert len({g["auto_score"] for g in grades.values()}) == 1 and all(g["problems"] == "" for g in grades.values())


def test_the_disguised_copy_is_flagged_with_its_original_and_nothing_else_is(run):
    rows, _, stdout = run
    flagged = [(r["function"], r["student_a"], r["student_b"]) for r in rows if r["flagged"] == "yes"]
    assert flagged == [("fit_line_irls", "copier", "sqrt-weight-lstsq")]
    pair = next(r for r in rows if r["student_a"] == "copier" and r["student_b"] == "sqrt-weight-lstsq")
    assert float(pair["similarity"]) >= SIMILAR_ENOUGH
    assert "copier and sqrt-weight-lstsq in fit_line_irls" in stdout


def test_the_functions_everyone_answered_alike_flag_no_one(run):
    rows, _, _ = run
    for function in ("fit_line_ols", "fit_line_gd"):
        alike = [r for r in rows if r["function"] == function]
        assert alike and all(r["flagged"] == "no" for r in alike), function
