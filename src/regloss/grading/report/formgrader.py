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


def formgrader_config_text(db_url: str, course_id: str = "regloss") -> str:
    """The ``nbgrader_config.py`` of a grading run's folder (see the module docstring)."""
    return f'''# nbgrader configuration of this grading run, written by `regloss grade`.
# Formgrader on this run's class:   cd <this folder> && jupyter lab   (Nbgrader -> Formgrader)
# Plain nbgrader on it works here too, e.g.:   nbgrader export --to nbgrader-export.csv
import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

_here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = _here
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.source_directory = os.path.join("instructor", "solutions")
c.CourseDirectory.release_directory = os.path.join("instructor", "notebooks")
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = {db_url!r}
# `nbgrader export` must not overwrite regloss's grades.csv beside it
c.ExportPlugin.to = "nbgrader-export.csv"
c.Execute.kernel_name = "python3"
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
'''


def write_formgrader_config(out: Path, db_url: str) -> Path:
    """Write ``out/nbgrader_config.py`` for formgrader on this run; returns its path.
    It holds the gradebook's URL: when that has a password, only its owner may read it."""
    from regloss.grading.run.gradebook import shown_url

    path = Path(out) / FORMGRADER_CONFIG
    text = formgrader_config_text(db_url)
    if shown_url(db_url) != db_url:  # a password in the URL: for the instructor's eyes only
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path
