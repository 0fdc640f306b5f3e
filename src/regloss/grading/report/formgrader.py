"""Formgrader on a grading run.

:func:`write_formgrader_config` makes a grading run's folder ``DIR`` an nbgrader
course of its own (``DIR/nbgrader_config.py``): its root is ``DIR``, its
source and release the run's private instructor area, its autograded
notebooks and feedback the run's, and its gradebook the run's (``--db`` or
``DIR/gradebook.db``). nbgrader's formgrader reads the config of the folder
JupyterLab starts in, so ``cd DIR && jupyter lab`` opens formgrader on that
run's class (a ``--CourseDirectory.db_url`` given to ``jupyter lab`` is
overridden by any config file formgrader loads, which is why the gradebook's
URL is written into the file).
"""

from __future__ import annotations

import os
from pathlib import Path

FORMGRADER_CONFIG = "nbgrader_config.py"


#: nbgrader's own feedback (formgrader's "Generate Feedback", ``nbgrader generate_feedback``) as a
#: student may read it: :class:`regloss.grading.report.rubric.StudentView` first.
FEEDBACK_PREPROCESSORS = ["regloss.grading.report.rubric.StudentView", "nbgrader.preprocessors.GetGrades",
                          "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]


def formgrader_config_text(db_url: str, course_id: str = "regloss", source: str = "instructor/solutions",
                           release: str = "instructor/notebooks", what: str = "grading run") -> str:
    """The ``nbgrader_config.py`` of a grading run's folder, or of the course folder (``source`` and
    ``release`` relative to it; see the module docstring)."""
    return f'''# nbgrader configuration of this {what}, written by `regloss grade`.
# Formgrader on it:   cd <this folder> && jupyter lab   (Nbgrader -> Formgrader)
# Plain nbgrader on it works here too, e.g.:   nbgrader export --to nbgrader-export.csv
import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

_here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = _here
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.release_directory = {release!r}
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = {db_url!r}
# `nbgrader export` must not overwrite regloss's grades.csv beside it
c.ExportPlugin.to = "nbgrader-export.csv"
c.Execute.kernel_name = "python3"
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# nbgrader's own feedback shows no hidden test's source and no grader's note
c.GenerateFeedback.preprocessors = {FEEDBACK_PREPROCESSORS!r}
'''


def write_formgrader_config(out: Path, db_url: str, source: str | None = None, release: str | None = None) -> Path:
    """Write ``out/nbgrader_config.py`` for formgrader on this run (or, with ``source`` and
    ``release``, on the course); returns its path.
    It holds the gradebook's URL: when that has a password, only its owner may read it."""
    from regloss.grading.run.gradebook import shown_url

    path = Path(out) / FORMGRADER_CONFIG
    text = (formgrader_config_text(db_url, source=source, release=release, what="course")
            if source and release else formgrader_config_text(db_url))
    if shown_url(db_url) != db_url:  # a password in the URL: for the instructor's eyes only
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path
