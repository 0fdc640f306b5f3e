"""One course: one gradebook and one formgrader for every assignment's runs.

Each ``regloss grade`` run has its own folder (intake, reports, the instructor area, the
students' autograded notebooks and feedback). The *course folder* (``--course``; by default
``grading/course`` when the run's folder is the default one) joins them:

* its gradebook (``COURSE/gradebook.db``, or the run's ``--db``) is the one every run merges into,
  so formgrader, ``nbgrader export`` and the next runs see every assignment and every hand grade;
* :func:`link_run` makes it an nbgrader course whose ``source/<a>``, ``release/<a>`` and
  ``{submitted,autograded,feedback}/<student>/<a>`` are relative links into each assignment's
  latest run, and writes its ``nbgrader_config.py`` (:func:`formgrader_config_text`), so
  ``cd COURSE && jupyter lab`` opens formgrader on the whole course, submissions counted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from regloss.grading.report.formgrader import write_formgrader_config

GRADEBOOK = "gradebook.db"
#: What the course links, and where each lives in a run's folder.
KINDS = ("submitted", "autograded", "feedback")


def default_course(root: Path) -> Path:
    """The course folder of the instructor's repository."""
    return Path(root) / "grading" / "course"


def _link(link: Path, target: Path) -> None:
    """``link`` -> ``target``, relative, replacing what was there (a link into an earlier run)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    wanted = os.path.relpath(target, link.parent)
    if link.is_symlink():
        if os.readlink(link) == wanted:
            return
        link.unlink()
    elif link.exists():
        raise FileExistsError(f"{link} exists and is not a link: the course folder is not regloss's")
    link.symlink_to(wanted, target_is_directory=True)


def _link_pages(folder: Path, target: Path) -> None:
    """A student's feedback folder of the course: a real folder of links to the run's pages (nbgrader's
    own ``generate_feedback --force`` replaces the folder, which it cannot do to a link; the next
    run links regloss's pages again)."""
    if folder.is_symlink():
        folder.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    for page in sorted(target.iterdir()):
        link = folder / page.name
        if link.is_symlink() or link.is_file():
            link.unlink()
        link.symlink_to(os.path.relpath(page, folder))


def link_run(course: Path, out: Path, assignment: str, db_url: str, student_ids: Iterable[str]) -> Path:
    """Join the run in ``out`` to the course in ``course`` (see the module docstring); returns the
    course's ``nbgrader_config.py``."""
    course, out = Path(course).resolve(), Path(out).resolve()
    course.mkdir(parents=True, exist_ok=True)
    _link(course / "source" / assignment, out / "instructor" / "solutions" / assignment)
    _link(course / "release" / assignment, out / "instructor" / "notebooks" / assignment)
    ids = set(student_ids)
    for kind in KINDS:
        for sid in sorted(ids):
            target = out / kind / sid / assignment
            if target.is_dir() and kind == "feedback":
                _link_pages(course / kind / sid / assignment, target)
            elif target.is_dir():
                _link(course / kind / sid / assignment, target)
        # students of this assignment no longer in its run (a resubmitted class without them)
        for stale in (course / kind).glob(f"*/{assignment}"):
            into_this_run = Path(os.path.realpath(stale)).is_relative_to(out)
            if kind == "feedback" and not stale.is_symlink() and stale.parent.name not in ids:
                pages = list(stale.iterdir())
                if pages and all(p.is_symlink() and Path(os.path.realpath(p)).is_relative_to(out) for p in pages):
                    for p in pages:
                        p.unlink()
                    stale.rmdir()
                continue
            if stale.is_symlink() and stale.parent.name not in ids and into_this_run:
                stale.unlink()
    return write_formgrader_config(course, db_url, source="source", release="release")
