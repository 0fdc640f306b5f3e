"""Feedback after hand grading: the pages of the students whose written answers were graded since
their page was written, rendered again with the hand scores and comments.

A worker renders a student's feedback page before anyone has read their written answers: the
page says "0 / 3" for each. The instructor then grades those answers in formgrader, or in the
gradebook, which is the run's main gradebook. On the next ``regloss grade`` of the same class:

* :func:`hand_marks` reads, for one student, what a person put into the main gradebook: every
  manual score, extra credit and comment (plain data), and :func:`fingerprint` hashes it;
* :func:`refresh` compares that fingerprint with the one the student's page was last rendered
  with (``feedback-source/<student>/<assignment>/hand-marks.sha256``, removed whenever a
  worker grades the student again), and renders exactly the changed students' pages again with
  nbgrader's ``GenerateFeedback`` (which reads the scores and comments from the gradebook) from
  the notebook the worker rendered the first page from: the judge's result boxes in, hidden
  tests' source out (``feedback-source/``, :data:`regloss.grading.wire.jobs.FEEDBACK_SOURCE`).

No student code runs here: the notebook is made inert by the worker, and nbconvert only
renders it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from regloss.grading.wire.jobs import FEEDBACK_SOURCE

STAMP = "hand-marks.sha256"


@dataclass(frozen=True)
class HandMark:
    """One thing a person put into the gradebook for a cell of a submission."""

    notebook: str
    cell: str
    manual_score: float | None = None
    extra_credit: float | None = None
    comment: str | None = None

    def given(self) -> bool:
        return self.manual_score is not None or bool(self.extra_credit) or bool((self.comment or "").strip())


def hand_marks(gb, assignment: str, student_id: str) -> list[HandMark]:
    """What was graded by hand in ``student_id``'s submission of ``assignment``, in a fixed order
    (``gb``: an open :class:`nbgrader.api.Gradebook`); empty when there is no submission."""
    from nbgrader.api import MissingEntry

    try:
        sub = gb.find_submission(assignment, student_id)
    except MissingEntry:
        return []
    marks = []
    for nb in sub.notebooks:
        for g in nb.grades:
            marks.append(HandMark(nb.name, g.name, manual_score=g.manual_score, extra_credit=g.extra_credit))
        for c in nb.comments:
            marks.append(HandMark(nb.name, c.name, comment=c.manual_comment))
    return sorted((m for m in marks if m.given()), key=lambda m: (m.notebook, m.cell, m.comment is not None))


def fingerprint(marks: list[HandMark]) -> str:
    """A hash of ``marks`` (the empty list: nothing graded by hand)."""
    rows = [[m.notebook, m.cell, m.manual_score, m.extra_credit, m.comment] for m in marks]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def stale(stamp: Path, marks: list[HandMark]) -> bool:
    """Whether the page stamped ``stamp`` must be rendered again for ``marks``: the worker's page
    (no stamp) is right while nothing was graded by hand; otherwise the stamp must match."""
    if not stamp.is_file():
        return bool(marks)
    return stamp.read_text().strip() != fingerprint(marks)


def render(out: Path, assignment: str, student_id: str, db_url: str) -> bool:
    """Render ``student_id``'s feedback page again from their feedback source, with the scores and
    comments of the gradebook ``db_url``; replace the page under ``out/feedback``. True if it was."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from regloss.grading.run.gradebook import engine_url
    from regloss.grading.worker import feedback

    source = out / FEEDBACK_SOURCE / student_id / assignment
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        return False
    with tempfile.TemporaryDirectory(prefix="regloss-feedback-") as tmp:
        course = Path(tmp)
        autograded = course / "autograded" / student_id / assignment
        autograded.mkdir(parents=True)
        for nb in notebooks:
            shutil.copy(nb, autograded / nb.name)
        cfg = Config()
        cfg.CourseDirectory.root = str(course)
        cfg.CourseDirectory.autograded_directory = "autograded"
        cfg.CourseDirectory.feedback_directory = "feedback"
        cfg.CourseDirectory.db_url = engine_url(db_url)
        feedback.configure(cfg)
        api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
        result = api.generate_feedback(assignment, student_id, force=True)
        pages = sorted((course / "feedback" / student_id / assignment).glob("*.html"))
        if not result.get("success") or not pages:
            return False
        dest = out / "feedback" / student_id / assignment
        dest.mkdir(parents=True, exist_ok=True)
        for old in dest.glob("*.html"):
            old.unlink()
        for page in pages:
            feedback.finish_html(page)
            shutil.copy(page, dest / page.name)
    return True


def refresh(out: Path, assignment: str, db_url: str, student_ids, log=print) -> list[str]:
    """Render again the feedback of every student of ``student_ids`` whose hand grading changed
    since their page was rendered (see the module docstring); returns their ids."""
    from nbgrader.api import Gradebook

    from regloss.grading.run.gradebook import engine_url

    done = []
    with Gradebook(engine_url(db_url)) as gb:
        wanted = []
        for sid in student_ids:
            source = out / FEEDBACK_SOURCE / sid / assignment
            if not source.is_dir():
                continue
            marks = hand_marks(gb, assignment, sid)
            if stale(source / STAMP, marks):
                wanted.append((sid, marks))
    for sid, marks in wanted:
        if render(out, assignment, sid, db_url):
            (out / FEEDBACK_SOURCE / sid / assignment / STAMP).write_text(fingerprint(marks) + "\n")
            done.append(sid)
        else:
            log(f"the feedback of {sid} could not be rendered again with the hand grades")
    if done:
        log(f"feedback rendered again with the hand grades for {len(done)} student(s): "
            f"{', '.join(done[:10])}{', ...' if len(done) > 10 else ''}")
    return done
