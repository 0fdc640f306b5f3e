"""The grading behind the service: ONE notebook, with the worker, judge and sandbox of
``regloss grade``, in warm workers kept across requests.

:class:`Grader` prepares each assignment once (nbgrader's ``generate_assignment``, in the
service's state folder, as ``regloss grade`` does in its output folder) and keeps
``workers`` threads, each with its warm nbgrader process
(:class:`regloss.grading.run.pool.WarmPool`: nbgrader, torch and ``regloss.checks``
imported once; every student's judge and kernel are still fresh processes, in the
sandbox). A check is a :class:`~regloss.grading.wire.jobs.StudentJob` of one notebook,
graded by :func:`regloss.grading.worker.student.grade_student`: the verdicts are the
judge's, the points those nbgrader recorded in the student's private gradebook, never
anything the student's process said.

The queue is bounded (:attr:`Grader.capacity` checks waiting or running); :meth:`close`
finishes every queued check (or, with ``cancel``, cancels those not started: their
callers record them as interrupted).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from regloss.course import cells as nbcells


@dataclass(frozen=True)
class TestCell:
    """One autograded test cell of the assignment."""

    id: str
    hidden: bool
    max_points: float


@dataclass
class Assignment:
    """An assignment the service checks: its bundle and its test cells."""

    name: str
    bundle: object  # InstructorBundle
    tests: list[TestCell]
    grade_ids: dict[str, set[str]]  # notebook name -> its grade ids

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests)


@dataclass
class CheckResult:
    """The answer to one check."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    tests: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    graded: bool = False

    def mistakes(self) -> str:
        """The failing tests and the mistake each one's message names, ``grade_id:mistake``
        joined by ``;`` (for the attempt log)."""
        from regloss.grading.report.mistakes import classify, from_verdict, function_of

        out = []
        for t in self.tests:
            if not t["passed"]:
                f = from_verdict(t["id"], t["message"])
                out.append(f"{t['id']}:{classify(f.message, f.ename, function_of(t['id'])) or 'not-attempted'}")
        return ";".join(out)


def test_cells(source_nb) -> list[TestCell]:
    """The autograded test cells of a source notebook, in order."""
    out = []
    for c in source_nb.cells:
        if nbcells.is_test(c):
            meta = nbcells.grading_meta(c)
            out.append(TestCell(nbcells.grade_id(c) or "", nbcells.holds_hidden_tests(c.source),
                                float(meta.get("points") or 0)))
    return out


def result_of(a: Assignment, student_id: str, res) -> CheckResult:
    """A :class:`CheckResult` from a worker's :class:`StudentResult`: pass/fail and messages
    from the judge's verdicts, points from the private gradebook nbgrader graded in."""
    from regloss.grading.run import gradebook

    problems = [str(p) for p in res.problems]
    verdicts = {v.grade_id: v for v in res.verdicts}
    points: dict[str, float] = {}
    if res.graded and res.gradebook:
        with tempfile.TemporaryDirectory(prefix="regloss-check-") as tmp:
            db = Path(tmp) / "gradebook.db"
            db.write_bytes(res.gradebook)
            grades = gradebook.read_private(db, a.name, student_id)
        if grades is not None:
            points = {g[1]: float(g[2] or 0) for g in grades.grades if g[2] is not None}
    graded = bool(points)
    why = "; ".join(problems) or "the notebook could not be graded"
    tests: list[dict[str, Any]] = []
    for t in a.tests:
        v = verdicts.get(t.id)
        passed = bool(graded and v is not None and v.passed)
        got = points.get(t.id, 0.0) if graded else 0.0
        message = (v.message if v is not None else "") if graded else why
        tests.append({"id": t.id, "hidden": t.hidden, "passed": passed, "points": got,
                      "max_points": t.max_points, "message": message})
    score = float(sum(t_["points"] for t_ in tests))
    return CheckResult(student_id, a.name, score, a.max_score, tests, problems, graded)


def load_assignment(root: Path, name: str, state: Path, secrets=()) -> Assignment:
    """Generate ``name`` (once per source: kept under ``state/name``) and read its test cells.

    Student code is kept from the sources, the gradebooks, ``state`` and ``secrets`` (the
    tokens file, the attempt log) as in ``regloss grade``."""
    from regloss import course
    from regloss.grading.run import gradebook
    from regloss.grading.run.parent import make_bundle

    course.check_assignment(name, root)
    ia = gradebook.prepare_instructor_area(root, name, state / name)
    bundle = make_bundle(ia, root, [root / "solutions", root / "grading", state, *secrets])
    tests, ids = [], {}
    for nb_name in ia.notebook_names():
        nb = nbformat.read(str(ia.source / nb_name), as_version=4)
        tests += test_cells(nb)
        ids[nb_name] = nbcells.grade_ids(nb.cells)
    return Assignment(name, bundle, tests, ids)


class QueueFull(RuntimeError):
    """More checks waiting than the queue holds."""


class Grader:
    """Warm workers grading one notebook per check (see the module docstring).

    Parameters
    ----------
    assignments : dict
        ``{name: Assignment}``.
    settings : Settings
        The grading settings (the judge on; ``workers`` is the number of workers).
    capacity : int
        Checks waiting or running at most (beyond: :class:`QueueFull`).
    """

    def __init__(self, assignments, settings, capacity: int = 200, iso=None, hide=()):
        from regloss import course
        from regloss.grading.processes import Processes
        from regloss.grading.run.pool import WarmPool
        from regloss.grading.sandboxed import isolation
        from regloss.grading.sandboxed.environment import student_env

        os.environ["PATH"] = course.tool_env()["PATH"]  # nbgrader's Gradebook API runs `alembic`
        self.assignments = assignments
        self.settings = settings
        self.hide = [str(p) for p in hide]  # the service's own files (tokens, attempt log, state): never seen
        self.workers = max(1, settings.workers or 1)
        self.capacity = max(self.workers, capacity)
        self.iso = iso if iso is not None else isolation.probe(settings.sandbox)
        self.procs = Processes()
        self.scratch = Path(tempfile.mkdtemp(prefix="regloss-serve-"))
        os.chmod(self.scratch, 0o700)
        self.warm = WarmPool(self.iso)
        self.warm.prestart(self.workers, student_env({"PYTHONDONTWRITEBYTECODE": "1"}))
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="regloss-check")
        self.count = itertools.count()
        self.lock = threading.Lock()
        self.in_queue = 0
        self.closed = False

    def submit(self, assignment: str, student_id: str, name: str, body: bytes) -> Future:
        """Queue a check of ``body`` (the notebook ``name`` of ``assignment``); a future of its
        :class:`CheckResult`. :class:`QueueFull` when the queue is full or the service stopping."""
        return self._queue(self._grade, assignment, student_id, name, body, next(self.count))

    def grade_job(self, job) -> Future:
        """Queue an instructor's :class:`~regloss.grading.wire.jobs.StudentJob` (``regloss grade
        --service``); a future of its :class:`~regloss.grading.wire.jobs.StudentResult`, feedback
        included. The job's own settings grade it, except the walls: this service's sandbox,
        and its secrets hidden as well as the folders the job's bundle hides."""
        return self._queue(self._grade_job, job)

    def _queue(self, fn, *args) -> Future:
        with self.lock:
            if self.closed or self.in_queue >= self.capacity:
                raise QueueFull("the service is stopping" if self.closed else "too many checks are waiting")
            self.in_queue += 1
        try:
            fut = self.pool.submit(fn, *args)
        except BaseException:
            self._done()
            raise
        fut.add_done_callback(lambda _f: self._done())
        return fut

    def reserve_slot(self) -> bool:
        """Whether the queue has room now (a hint before an attempt is reserved)."""
        with self.lock:
            return not self.closed and self.in_queue < self.capacity

    def _done(self):
        with self.lock:
            self.in_queue -= 1

    def _grade(self, assignment, student_id, name, body, index) -> CheckResult:
        import hashlib

        from regloss.grading.wire.jobs import StudentJob
        from regloss.grading.worker.student import grade_student

        a = self.assignments[assignment]
        job = StudentJob(student_id, {name: body}, a.bundle, self.settings, [],
                         hashlib.sha256(body).hexdigest(), "", index % 100_000)
        res = grade_student(job, self.scratch, self.iso, self.procs, warm=self.warm.get())
        return result_of(a, student_id, res)

    def _grade_job(self, job):
        from dataclasses import replace

        from regloss.grading.worker.student import grade_student

        bundle = replace(job.bundle, hide=[*job.bundle.hide, *self.hide])
        settings = replace(job.settings, sandbox=self.settings.sandbox, keep_workspace=False, workers=self.workers,
                           scheduler=None, service=None, progress=False)
        job = replace(job, bundle=bundle, settings=settings, index=next(self.count) % 100_000)
        return grade_student(job, self.scratch, self.iso, self.procs, warm=self.warm.get())

    def close(self, cancel: bool = False) -> None:
        """Stop: finish every queued check (``cancel``: cancel those not started), then stop the
        warm processes."""
        with self.lock:
            self.closed = True
        self.pool.shutdown(wait=True, cancel_futures=cancel)
        self.warm.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
