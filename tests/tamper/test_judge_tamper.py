"""The tamper catalogue (``tests/tamper``) graded through the real command, as one class:
every trick earns nothing, an honest student keeps full marks, and no feedback page
holds a line of a hidden test."""

from __future__ import annotations

import html
import re

import nbformat
import pytest

from tests.grading.run.test_grade_command import FULL, NB, TIMEOUT, A, read_grades, regloss, student
from tests.harness import hidden_test_lines
from tests.tamper import TAMPERS

pytestmark = pytest.mark.slow  # grades a class through the regloss command


@pytest.fixture(scope="module")
def tamper_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("tamper")
    subs = base / "subs"
    kinds = {"honest": student()}
    kinds.update({t.student_id: student(replace=t.cells()) for t in TAMPERS})
    for sid, nb in kinds.items():
        (subs / sid).mkdir(parents=True)
        nbformat.write(nb, str(subs / sid / NB))
    out = base / "out"
    p = regloss("grade", A, str(subs), "--out", str(out), "--workers", "2", "--timeout", TIMEOUT,
                "--no-progress", timeout=2400)
    assert p.returncode == 0, p.stdout + p.stderr
    return {"proc": p, "out": out, "rows": read_grades(out)}


def test_honest_student_keeps_full_marks(tamper_class):
    row = tamper_class["rows"]["honest"]
    assert float(row["auto_score"]) == FULL, row
    assert row["problems"] == "", row


def test_a_grade_forged_in_the_kernel_is_named_as_such(tamper_class):
    problems = tamper_class["rows"]["t01_rebind_checks"]["problems"]
    assert "test_l1_loss__visible passed in your notebook but failed when checked independently: " in problems


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.student_id)
def test_tamper_earns_nothing(tamper_class, tamper):
    row = tamper_class["rows"][tamper.student_id]
    assert float(row["auto_score"]) == 0, f"{tamper.student_id} ({tamper.why}) earned {row['auto_score']}: {row}"


def test_the_run_says_how_student_code_was_isolated(tamper_class):
    out = tamper_class["proc"].stdout
    assert "isolation:" in out and "judge: test cells run outside the student's kernel" in out


def test_feedback_shows_no_hidden_test(tamper_class):
    out = tamper_class["out"]
    pages = sorted((out / "feedback").rglob("*.html"))
    assert len(pages) == len(TAMPERS) + 1
    hidden = hidden_test_lines(A)
    for page in pages:
        text = html.unescape(page.read_text(encoding="utf-8"))
        for line in hidden:
            assert line not in text, f"{page.relative_to(out)} shows the hidden line {line!r}"


def test_feedback_explains_a_failed_hidden_test_and_needs_no_network(tamper_class):
    page = next((tamper_class["out"] / "feedback" / "t01_rebind_checks" / A).glob("*.html"))
    text = page.read_text(encoding="utf-8")
    assert "regloss-result" in text and "Failed" in text
    assert "l1_loss" in html.unescape(text)  # the judge's message names the function and the case
    assert not re.search(r"<script[^>]*src=[\"']?(https?:)?//", text), "the page loads a script from the network"
    assert "cdnjs" not in text and "mathjax" not in text.lower()
    assert "<math" in text  # the maths is MathML, rendered by the browser without a script
