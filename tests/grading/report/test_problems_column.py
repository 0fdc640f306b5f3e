"""The ``problems`` column states every student-caused failure in a short line, and
``mistakes.csv`` agrees with what the student was told (issue 27, item 1); graded through
the real command on a planted class."""

from __future__ import annotations

import csv

import pytest

from tests.grading.run.test_grade_command import grade_class, read_grades, student

pytestmark = pytest.mark.slow  # grades a class through the regloss command

CLASS = {
    "syntax": student(replace={"l1_loss": "def l1_loss(pred, target)\n    return abs(pred - target).mean()\n"}),
    "raises": student(prepend={"mse_loss": "x = 1 / 0\n"}),
    "lines": student(prepend={"l1_loss": "for i in range(300_000):\n    print(i)\n"}),
    "slow": student(prepend={"l1_loss": "import time\ntime.sleep(30)\n"}),
    "good": student(),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    p, out = grade_class(tmp_path_factory.mktemp("problems"), CLASS, extra=("--timeout", "8"))
    with open(out / "mistakes.csv", newline="") as f:
        tallies = list(csv.DictReader(f))
    with open(out / "similarity.csv", newline="") as f:
        alike = list(csv.DictReader(f))
    return read_grades(out), tallies, alike, p.stdout, out


@pytest.mark.parametrize("sid, said", [
    ("syntax", "l1_loss: SyntaxError on line 1: expected ':'"),
    ("raises", "mse_loss raised ZeroDivisionError: division by zero"),
    ("lines", "l1_loss: output truncated"),  # 300,000 lines, cut by nbgrader at 1,000
    ("slow", "l1_loss timed out after 8 s"),
])
def test_every_student_caused_failure_is_a_short_line(graded, sid, said):
    problems = graded[0][sid]["problems"]
    assert said in problems, problems
    assert len(problems) < 200  # a short line, not a traceback


def test_the_honest_student_has_no_problem_and_a_timeout_is_not_also_an_error(graded):
    assert graded[0]["good"]["problems"] == ""
    assert "NameError" not in graded[0]["slow"]["problems"]  # what follows from the timeout is not repeated


def test_mistakes_csv_says_the_function_was_never_defined_not_that_it_raised(graded):
    rows = {(r["function"], r["mistake"]): r["student_ids"].split() for r in graded[1]}
    assert sorted(rows[("l1_loss", "undefined")]) == ["slow", "syntax"]
    assert rows[("mse_loss", "undefined")] == ["raises"]
    assert not any(m == "error" for _, m in rows), rows


def test_grades_csv_points_per_function_add_up_to_the_autograded_score(graded):
    from regloss.grading.report.tables import COLUMNS

    for sid, row in graded[0].items():
        functions = {k: float(v) for k, v in row.items() if k not in COLUMNS}
        assert set(functions) == {"l1_loss", "mse_loss", "l1_loss_grad", "mse_loss_grad"}, row
        assert sum(functions.values()) == float(row["auto_score"]), sid
    assert float(graded[0]["raises"]["mse_loss"]) == 0 and float(graded[0]["raises"]["l1_loss"]) > 0


def test_one_line_answers_everyone_writes_alike_flag_no_one(graded):
    """Four students hand in the model answers word for word: 01's functions are one line each,
    so alike by nature; the similarity report lists the pairs and flags none."""
    _, _, alike, stdout, out = graded
    assert alike and set(alike[0]) == {"function", "student_a", "student_b", "similarity", "flagged"}
    assert {r["function"] for r in alike} >= {"l1_loss", "mse_loss"}
    assert {r["flagged"] for r in alike} == {"no"}
    assert "unusually alike answers, to look at side by side (similarity.csv): none" in stdout
    assert (out / "similarity.png").stat().st_size > 1000


def test_the_notebook_formgrader_shows_has_its_maths_as_mathml(graded):
    """Formgrader's page loads MathJax from a CDN: offline, written answers were graded as raw TeX."""
    import nbformat

    from tests.grading.run.test_grade_command import A

    out = graded[4]
    nb = nbformat.read(str(out / "autograded" / "good" / A / f"{A}.ipynb"), as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert markdown.count("<math") > 5 and "$" not in markdown.replace("&#x24;", "")
