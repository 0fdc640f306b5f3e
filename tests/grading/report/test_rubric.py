"""The model answer and rubric beside each written answer in the instructor's copy, and never in
what a student reads (:mod:`regloss.grading.report.rubric`)."""

from __future__ import annotations

import nbformat
import pytest

from regloss.course import assignments
from regloss.course import cells as nbcells
from regloss.grading.report import rubric
from tests.harness import ROOT, notebook_path


def _written_ids(nb):
    return {nbcells.grade_id(c) for c in nb.cells
            if nbcells.grading_meta(c).get("grade") and nbcells.grading_meta(c).get("solution")
            and c.cell_type == "markdown" or nbcells.grading_meta(c).get("task")}


@pytest.mark.parametrize("assignment", assignments(ROOT))
def test_every_written_answer_has_its_rubric_found(assignment):
    nb = nbformat.read(str(notebook_path(assignment)), as_version=4)
    found = rubric.rubrics_of(nb)
    assert set(found) == _written_ids(nb)
    for gid, text in found.items():
        assert nbcells.BEGIN_SOLUTION not in text and nbcells.END_SOLUTION not in text
        assert "rubric" in text.lower(), f"{assignment} {gid}: no rubric between the solution markers"


def _student_copy():
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_markdown_cell("My answer: the gradient is bounded.")
    answer.metadata["nbgrader"] = nbcells.nbgrader_meta("manual", "why", 3.0)
    test = nbformat.v4.new_code_cell(f"check(f)\n{nbcells.BEGIN_HIDDEN}\nsecret_case(f, seed=7)\n{nbcells.END_HIDDEN}")
    test.metadata["nbgrader"] = nbcells.nbgrader_meta("tests", "test_f__hidden", 2.0)
    test.outputs = [nbformat.v4.new_output("stream", text="secret seed 7\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), answer, test]
    return nb


def test_annotate_puts_the_rubric_after_its_answer_once():
    nb = _student_copy()
    assert rubric.annotate(nb, {"why": "**Model answer.** x\n\n**Rubric (3 points).** y"}) == 1
    assert rubric.annotate(nb, {"why": "**Rubric (3 points).** z"}) == 1  # again: replaced, not added
    note = nb.cells[2]
    assert rubric.is_instructor_only(note) and note.source.startswith(rubric.HEADING) and "z" in note.source
    assert len(nb.cells) == 4


def test_the_student_view_drops_the_rubric_and_the_hidden_source():
    nb = _student_copy()
    rubric.annotate(nb, {"why": "**Rubric (3 points).** the secret rubric"})
    seen, _ = rubric.StudentView()(nb, {})  # as nbconvert calls it: enabled without being told
    text = nbformat.writes(seen)
    assert "secret rubric" not in text and "secret_case" not in text and "secret seed" not in text
    assert "My answer" in text and rubric.HIDDEN_NOTE in text


def test_nbgrader_feedback_runs_the_student_view_first(tmp_path):
    from regloss.grading.report import formgrader
    from tests.grading.report.test_formgrader import load_config

    c = load_config(formgrader.write_formgrader_config(tmp_path, "sqlite:///x.db"))
    pre = c["GenerateFeedback"]["preprocessors"]
    assert pre[0] == "regloss.grading.report.rubric.StudentView" and "nbgrader.preprocessors.GetGrades" in pre
