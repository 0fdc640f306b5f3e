"""Where the course lives: the root folder and its assignments.

The course root is the repository (or any folder laid out like it): it holds
``solutions/<assignment>/`` (nbgrader's source), ``notebooks/<assignment>/``
(nbgrader's release) and ``grading/nbgrader_config.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG = Path("grading") / "nbgrader_config.py"


class CourseError(Exception):
    """An instructor's mistake: no course here, an unknown assignment, ..."""


def find_root(start=None):
    """The course root: the first of ``start`` (default: the current directory),
    its parents, and this package's checkout that holds ``grading/nbgrader_config.py``.

    Raises
    ------
    CourseError
        When none does.
    """
    here = Path(start or os.getcwd()).resolve()
    candidates = [here, *here.parents, Path(__file__).resolve().parents[3]]
    for c in candidates:
        if (c / CONFIG).is_file() and (c / "solutions").is_dir():
            return c
    raise CourseError(f"no course found: no {CONFIG} with a solutions/ folder beside it in {here} or above")


def assignments(root=None):
    """The assignment ids, in teaching order (the sorted folder names under ``solutions/``)."""
    root = Path(root) if root else find_root()
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def check_assignment(assignment, root=None):
    """Raise :class:`CourseError` unless ``assignment`` is one of the course's."""
    known = assignments(root)
    if assignment not in known:
        raise CourseError(f"unknown assignment {assignment!r}; the course has: {', '.join(known)}")
