"""``regloss release-exchange``: an assignment released to nbgrader's exchange, gated by the due dates.

nbgrader's own ``release_assignment`` copies whatever is in the release folder; in this course an
assignment's folder ships earlier assignments' answers (:data:`regloss.course.shipped.SHIPPED`), so
releasing 03 while a student is still on an extension for 02 would hand them 02's answers. This
command releases exactly the files a bundle holds (the generated release notebook and the files it
ships, :func:`regloss.course.bundle.release_files`), with nbgrader's own exchange code
(``ExchangeReleaseAssignment``: the same folders and modes as ``nbgrader release_assignment``),
and refuses, as ``regloss bundle`` does, while an assignment whose answers it ships is not yet due
(:mod:`regloss.course.schedule`; ``early`` releases anyway).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from regloss.course.root import CourseError, check_assignment, find_root


def release_to_exchange(assignment: str, exchange, course_id: str, root=None, due=None, early: bool = False,
                        now=None, force: bool = False) -> str:
    """Release ``assignment`` to ``exchange`` for ``course_id`` (see the module docstring); a line
    saying what was released."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeError
    from nbgrader.exchange.default import ExchangeReleaseAssignment
    from traitlets.config import Config

    from regloss.course import schedule
    from regloss.course.bundle import release_files
    from regloss.course.hub import check_course

    root = Path(root) if root else find_root()
    check_assignment(assignment, root)
    check_course(course_id)
    due, where = schedule.load(due, root)
    if not early:
        schedule.check_release(assignment, due, now, where)
    files = release_files(assignment, root)
    folder = root / "notebooks" / assignment
    with tempfile.TemporaryDirectory(prefix="regloss-release-") as tmp:
        course = Path(tmp)
        for p in files:
            dest = course / "release" / assignment / p.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, dest)
        cfg = Config()
        cfg.CourseDirectory.root = str(course)
        cfg.CourseDirectory.course_id = course_id
        cfg.CourseDirectory.assignment_id = assignment
        cfg.Exchange.root = str(Path(exchange).resolve())
        cfg.ExchangeReleaseAssignment.force = force
        coursedir = CourseDirectory(config=cfg)
        release = ExchangeReleaseAssignment(coursedir=coursedir, authenticator=Authenticator(config=cfg), config=cfg)
        try:
            release.start()
        except ExchangeError as exc:
            raise CourseError(f"nbgrader could not release {assignment} to {exchange}: {exc}"
                              + ("" if force else " (released before? --force replaces it)")) from None
    names = ", ".join(sorted(p.relative_to(folder).as_posix() for p in files))
    return f"released {assignment} to {Path(exchange) / course_id / 'outbound' / assignment}: {names}"
