"""Feedback after hand grading: written answers graded in the gradebook (as formgrader does)
reach exactly the changed students' feedback on the next ``regloss grade``, hidden tests still
hidden, and the terminal table shows the totals grades.csv shows."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from regloss.grading.run import hand_feedback
from regloss.grading.run.hand_feedback import HandMark, fingerprint, stale
from tests.grading.run.test_grade_command import TIMEOUT, A, grade_class, regloss, student

COMMENT = "Good derivation; the subgradient at 0 needs one more sentence."


# ----------------------------------------------------------------------------- pure logic
@pytest.mark.parametrize(("mark", "given"), [
    (HandMark("n", "c"), False),
    (HandMark("n", "c", manual_score=0.0), True),  # a zero given by hand is a mark
    (HandMark("n", "c", extra_credit=0.0), False),
    (HandMark("n", "c", extra_credit=1.0), True),
    (HandMark("n", "c", comment="  "), False),
    (HandMark("n", "c", comment="ok"), True),
])
def test_what_counts_as_graded_by_hand(mark, given):
    assert mark.given() is given


def test_a_page_is_stale_when_the_hand_marks_changed(tmp_path):
    stamp = tmp_path / hand_feedback.STAMP
    marks = [HandMark("n", "derive", manual_score=3.0)]
    assert not stale(stamp, [])  # the worker's page, nothing graded by hand: right as it is
    assert stale(stamp, marks)  # graded by hand, never rendered with it
    stamp.write_text(fingerprint(marks) + "\n")
    assert not stale(stamp, marks)
    assert stale(stamp, [HandMark("n", "derive", manual_score=2.0)])
    assert stale(stamp, [*marks, HandMark("n", "derive", comment="see me")])
    assert stale(stamp, [])  # a hand grade taken back


# ----------------------------------------------------------------------------- end to end
def _grade_by_hand(db: Path, student_id: str, score: float, comment: str):
    """What formgrader does when a written answer is graded: a manual score and a comment."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}") as gb:
        nb = gb.find_submission_notebook(A, A, student_id)
        for g in nb.grades:
            if g.name == "derive_gradients":
                g.manual_score = score
        for c in nb.comments:
            if c.name == "derive_gradients":
                c.manual_comment = comment
        gb.db.commit()


def _page(out: Path, sid: str) -> str:
    (page,) = (out / "feedback" / sid / A).glob("*.html")
    return page.read_text()


def _table_row(stdout: str, sid: str) -> str:
    return next(ln for ln in stdout.splitlines() if re.match(rf"{sid}\s", ln))


@pytest.mark.slow
def test_hand_grades_reach_the_feedback_of_exactly_the_changed_students(tmp_path):
    first, out = grade_class(tmp_path, {"ana": student(), "ben": student()}, workers=1)
    before = {sid: _page(out, sid) for sid in ("ana", "ben")}
    assert "Good derivation" not in before["ana"]

    _grade_by_hand(out / "gradebook.db", "ana", 4.0, COMMENT)
    same = ("grade", A, str(tmp_path / "subs"), "--out", str(out), "--workers", "1", "--timeout", TIMEOUT,
            "--no-progress")  # as grade_class ran it: nobody is graded again
    p = regloss(*same, check=0)
    assert "2 already graded" in p.stdout + p.stderr
    assert "feedback rendered again with the hand grades" in p.stdout + p.stderr
    assert "(feedback rendered again with the hand grades: 1 student(s))" in p.stdout
    page = _page(out, "ana")
    assert COMMENT in page
    assert "4.0 / 4.0" in page or "4 / 4" in page, "the hand score is on the page"
    for gid in ("test_l1_loss__hidden", "test_mse_loss__hidden"):  # still hidden: source not shown
        assert "This test cell holds hidden tests" in page, gid
    assert "BEGIN HIDDEN TESTS" not in page
    assert _page(out, "ben") == before["ben"], "a student nobody graded by hand keeps the page they had"

    # the terminal table and grades.csv agree, hand points included
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert float(rows["ana"]["score"]) == float(rows["ben"]["score"]) + 4.0
    for sid in ("ana", "ben"):
        assert f"{rows[sid]['score']}/{rows[sid]['max_score']}" in _table_row(p.stdout, sid)

    # nothing changed since: nothing is rendered again
    again = regloss(*same, check=0)
    assert "feedback rendered again" not in again.stdout + again.stderr
    assert _page(out, "ana") == page
