"""Student HTML is inert wherever it is rendered: the feedback page and the autograded notebook
formgrader shows (:mod:`regloss.grading.worker.inert`), graded through the real command.

The attacks: a ``<script>`` and a ``<style>`` that hides every result box, displayed as an
output; a JavaScript output; an event handler, a tracking image and a ``javascript:`` link;
the same in a written answer (markdown). None runs, styles or loads; the result boxes stay.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from tests.grading.run.test_grade_command import FULL, A, grade_class, read_grades, student

pytestmark = pytest.mark.slow  # grades a class through the regloss command

OUTPUTS = '''from IPython.display import HTML, Javascript, display
display(HTML("<script>document.title = 'pwned-script'</script>"
             "<style>/*pwned-style*/ .regloss-result {display: none !important}</style>"
             "<div onmouseover='pwned_handler()'>hover</div><img src='https://tracker.example/pwned.gif'>"
             "<a href='javascript:pwned_link()'>click</a><b>kept-bold</b>"))
display(Javascript("pwned_js()"))
'''
ANSWER = ("**Written answer.** Squaring <script>pwned_md()</script><style>/*pwned-md-style*/</style>"
          "<img src=x onerror=pwned_onerror()> punishes <b>md-bold</b> errors.")
MARKERS = ("pwned-script", "pwned-style", "pwned_handler", "tracker.example", "pwned_link", "pwned_js",
           "pwned-md-style")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("inert")
    _, out = grade_class(base, {"honest": student(), "html": student(prepend={"l1_loss": OUTPUTS},
                                                                     replace={"why_mse_punishes": ANSWER})})
    return out


def test_the_attacker_keeps_the_marks_of_its_code_and_the_honest_student_full_marks(run):
    rows = read_grades(run)
    assert float(rows["honest"]["auto_score"]) == FULL
    assert float(rows["html"]["auto_score"]) == FULL  # the functions are right; the outputs are only made inert


def _live(page: str) -> list[str]:
    """What of the attacks is live markup in ``page`` (real tags; the student's code, shown as
    escaped text, does not count)."""
    found = []
    for tag in ("script", "style"):
        found += [m.group(0)[:80] for m in re.finditer(rf"<{tag}[^>]*>[^<]*pwned", page, re.I)]
    found += [m.group(0)[:80] for m in re.finditer(r"<[a-z][^>]*\son\w+\s*=[^>]*>", page, re.I)]
    found += [m.group(0)[:80] for m in re.finditer(r"<img[^>]+src=[\"']?https?:", page, re.I)]
    found += [m.group(0)[:80] for m in re.finditer(r"<a[^>]+href=[\"']?\s*javascript:", page, re.I)]
    return found


def test_the_feedback_page_runs_styles_and_loads_nothing_of_the_students(run):
    page = next((run / "feedback" / "html" / A).glob("*.html")).read_text(encoding="utf-8")
    honest = next((run / "feedback" / "honest" / A).glob("*.html")).read_text(encoding="utf-8")
    assert _live(honest) == [], "the check itself finds something in an honest page"
    assert _live(page) == []
    assert page.count("<script") == honest.count("<script")  # the template's own, no more
    assert page.count("<style") == honest.count("<style")
    boxes = '<div class="regloss-result"'
    assert page.count(boxes) == honest.count(boxes) > 0  # every result box is there
    assert "<b>kept-bold</b>" in page and "<b>md-bold</b>" in page  # what only reads is kept, in both


def test_the_check_finds_live_markup():
    assert _live("<script>pwned()</script><div onclick=x()><a href='javascript:y'>") == [
        "<script>pwned", "<div onclick=x()>", "<a href='javascript:"]
    assert _live("&lt;a href='javascript:y'&gt; &lt;script&gt;pwned") == []  # shown code is no markup


def test_the_autograded_notebook_formgrader_shows_is_inert(run):
    nb = nbformat.read(str(next((run / "autograded" / "html" / A).glob("*.ipynb"))), as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    for marker in MARKERS:
        assert marker not in text, marker
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "why_mse_punishes")
    assert "<script" not in answer.source and "&lt;script>pwned_md()" in answer.source
