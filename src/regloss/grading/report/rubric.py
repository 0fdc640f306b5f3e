"""The model answer and rubric beside each written answer, where the instructor grades it, and
never where a student reads.

A written answer is an nbgrader manual cell; its source (``solutions/``) holds the model answer
and the rubric between the solution markers. Formgrader shows the student's autograded notebook,
not the source, so the grader would need a second window. :func:`annotate` puts, right after each
written answer of a student's autograded notebook (the instructor's copy, ``autograded/``), a
markdown cell holding that cell's model answer and rubric, marked instructor-only
(:data:`METADATA_KEY`). Students never see it:

* regloss's feedback is rendered from the feedback source (:mod:`regloss.grading.run.hand_feedback`),
  a copy made before the rubric is added;
* nbgrader's own ``generate_feedback`` on a run or the course (formgrader's "Generate Feedback"
  button, ``nbgrader generate_feedback``) runs :class:`StudentView` first, as the run's nbgrader
  config says: the instructor-only cells go, and a hidden test's source is replaced by a note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from regloss.course import cells as nbcells

#: The metadata that marks a cell for the instructor's eyes only.
METADATA_KEY = "regloss"
INSTRUCTOR_ONLY = {"instructor_only": True}
HEADING = "**For the grader: model answer and rubric** (from the source; students never see this cell)"
#: What a hidden test's source becomes in nbgrader's own feedback.
HIDDEN_NOTE = "# This test cell holds hidden tests: their code is not shown."


def rubrics_of(source_notebook: Any) -> dict[str, str]:
    """``{grade id: the model answer and rubric}`` of the written answers (manual markdown cells,
    and manual code cells) of a source notebook: what stands between their solution markers."""
    found = {}
    for cell in source_notebook.cells:
        meta = nbcells.grading_meta(cell)
        gid = nbcells.grade_id(cell)
        if not gid or not (meta.get("grade") and meta.get("solution") or meta.get("task")):
            continue
        text = nbcells.source(cell)
        if nbcells.BEGIN_SOLUTION not in text:
            continue
        inside = text.split(nbcells.BEGIN_SOLUTION, 1)[1].split(nbcells.END_SOLUTION, 1)[0].strip()
        if inside:
            found[gid] = f"```python\n{inside}\n```" if nbcells.is_code(cell) else inside
    return found


def is_instructor_only(cell: Any) -> bool:
    return bool(cell.get("metadata", {}).get(METADATA_KEY, {}).get("instructor_only"))


def annotate(nb: Any, rubrics: dict[str, str], render=lambda text: text) -> int:
    """Insert, after each written answer of ``nb`` that ``rubrics`` knows, an instructor-only
    markdown cell with its model answer and rubric (``render``: the maths made offline, say);
    returns how many. A notebook annotated before is annotated afresh."""
    import nbformat

    cells = [c for c in nb.cells if not is_instructor_only(c)]
    out, added = [], 0
    for cell in cells:
        out.append(cell)
        gid = nbcells.grade_id(cell)
        if gid in rubrics:
            note = nbformat.v4.new_markdown_cell(render(f"{HEADING}\n\n{rubrics[gid]}"))
            note.metadata[METADATA_KEY] = dict(INSTRUCTOR_ONLY)
            out.append(note)
            added += 1
    nb.cells = out
    return added


def annotate_files(folder: Path, rubrics_by_notebook: dict[str, dict[str, str]], render=lambda text: text) -> None:
    """:func:`annotate` every notebook of ``folder`` (a student's autograded assignment) in place."""
    import nbformat

    for path in sorted(Path(folder).glob("*.ipynb")):
        rubrics = rubrics_by_notebook.get(path.name)
        if not rubrics:
            continue
        nb = nbformat.read(str(path), as_version=4)
        annotate(nb, rubrics, render)
        nbformat.write(nb, str(path))


class StudentView(Preprocessor):
    """A notebook as a student may read it: instructor-only cells removed, hidden tests' source
    replaced by :data:`HIDDEN_NOTE` and their outputs dropped (configured in front of nbgrader's
    ``GenerateFeedback`` by the run's and the course's ``nbgrader_config.py``; on by default, as
    nbgrader registers its preprocessors without enabling them)."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        kept = []
        for cell in nb.cells:
            if is_instructor_only(cell):
                continue
            if nbcells.is_test(cell) and nbcells.holds_hidden_tests(nbcells.source(cell)):
                cell.source = HIDDEN_NOTE
                cell.outputs = []
            kept.append(cell)
        nb.cells = kept
        return nb, resources
