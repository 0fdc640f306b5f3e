"""The parent of a grading run: intake, the pool of workers, merging, the run's state.

:func:`grade_class` reads the submissions (:mod:`regloss.grading.run.intake`),
prepares the instructor area and the main gradebook
(:mod:`regloss.grading.run.gradebook`), turns each gradable student into a
:class:`~regloss.grading.wire.jobs.StudentJob` and hands it to a worker
(:func:`regloss.grading.worker.student.grade_student`), N at a time in local threads or
as tasks of a Dask cluster (:mod:`regloss.grading.run.pool`). It merges each
finished :class:`~regloss.grading.wire.jobs.StudentResult` into the main gradebook
serially, over one connection, one transaction per student, keeps the student's autograded notebook
and feedback, and records the student in ``DIR/state.jsonl``
(:mod:`regloss.grading.run.state`): a re-run skips
students already graded from the same files, and an interrupted run is
completed by the next one.
"""

from __future__ import annotations

import html
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from regloss import course
from regloss.course import CourseError
from regloss.course import cells as nbcells
from regloss.grading.processes import Processes
from regloss.grading.run import gradebook, hand_feedback, intake, memory_floor
from regloss.grading.run import pool as distributed
from regloss.grading.run.state import RunState
from regloss.grading.sandboxed import isolation as sandbox
from regloss.grading.sandboxed.environment import student_env
from regloss.grading.settings import Settings
from regloss.grading.wire import problems as P
from regloss.grading.wire.jobs import (
    FEEDBACK_SOURCE,
    InstructorBundle,
    StudentJob,
    StudentResult,
    read_tree,
    write_tree,
)

KEEP_WORKSPACES = "REGLOSS_KEEP_WORKSPACES"  # set: keep every scratch folder, for debugging


@dataclass
class ClassRun:
    """What grading a class gave.

    Attributes
    ----------
    results : list of StudentResult
        Every student's result, sorted by id.
    loose : list of str
        Files of the submissions that belong to no student (ignored).
    db_url : str
        The main gradebook's URL.
    isolation : Isolation
        The isolation that was in force.
    refreshed : list of str
        The students whose feedback was rendered again with the scores and comments of hand
        grading (:mod:`regloss.grading.run.hand_feedback`).
    """

    results: list[StudentResult]
    loose: list[str]
    db_url: str
    isolation: sandbox.Isolation
    refreshed: list[str] = field(default_factory=list)


def make_bundle(ia: gradebook.InstructorArea, root: Path, hide) -> InstructorBundle:
    """The :class:`InstructorBundle` of an instructor area."""
    return InstructorBundle(assignment=ia.assignment, config=(ia.root / course.CONFIG).read_text(),
                            source=read_tree(ia.source), release=read_tree(ia.release),
                            template_db=ia.template_db.read_bytes(), digest=ia.source_digest,
                            hide=[str(h) for h in hide])


def submission_files(sub: intake.Submission):
    """``{path: bytes}`` of a gradable submission, as :func:`intake.place` lays it out."""
    with tempfile.TemporaryDirectory(prefix="regloss-intake-") as tmp:
        intake.place(sub, Path(tmp))
        return read_tree(Path(tmp))


def write_plain_feedback(folder: Path, assignment, student_id, problems):
    """Feedback for a submission nbgrader could not run."""
    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems) or "<li>no notebook could be graded</li>"
    (folder / "feedback.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(assignment)}: {html.escape(student_id)}</title>"
        f"<h1>{html.escape(assignment)} — feedback for {html.escape(student_id)}</h1>"
        f"<p>Your submission could not be run, so every exercise scored 0:</p><ul>{items}</ul>"
        "<p>Submit the assignment's notebook, under its original name, as saved by Jupyter.</p>"
    )


def finish(res: StudentResult, main: gradebook.MainGradebook, assignment, out: Path, rubrics=None):
    """Merge one graded student into the main gradebook (one transaction on the run's
    open connection) and keep their files (serial); ``rubrics`` (``{notebook: {grade id: text}}``)
    go beside the written answers of the instructor's copy (:mod:`regloss.grading.report.rubric`)."""
    sid = res.student_id
    grades = None
    if res.graded and res.gradebook:
        with tempfile.TemporaryDirectory(prefix="regloss-merge-") as tmp:
            db = Path(tmp) / "gradebook.db"
            db.write_bytes(res.gradebook)
            grades = gradebook.read_private(db, assignment, sid)
        if grades is None:
            res.problems.append(P.Problem(P.Kind.NOT_GRADED, "nbgrader recorded no grades; scored 0"))
            res.graded = False
    main.merge(assignment, [(sid, grades)])
    for kind in ("autograded", "feedback", FEEDBACK_SOURCE):
        dest = out / kind / sid / assignment
        if dest.exists():
            shutil.rmtree(dest)
        if res.graded:
            files = {k[len(kind) + 1:]: v for k, v in res.outputs.items() if k.startswith(kind + "/")}
            write_tree(files, dest)
            if kind == "autograded" and rubrics:
                from regloss.grading.report import rubric
                from regloss.grading.worker.feedback import render_math

                rubric.annotate_files(dest, rubrics, render_math)
    fb = out / "feedback" / sid / assignment
    if not res.graded:
        write_plain_feedback(fb, assignment, sid, res.problems)
    htmls = sorted(fb.glob("*.html"))
    res.feedback = str(htmls[0].relative_to(out)) if htmls else ""
    res.gradebook, res.outputs = b"", {}


SUBMITTED_DIGEST = ".regloss-digest"


def keep_submitted(out: Path, assignment: str, subs) -> None:
    """``out/submitted/<student>/<assignment>``: each gradable submission as it was graded, in
    nbgrader's layout (formgrader counts a course's submissions there); re-copied only when the
    submission changed, removed when the student has no gradable submission any more."""
    for sub in subs:
        dest = out / "submitted" / sub.student_id / assignment
        stamp = dest / SUBMITTED_DIGEST
        if not sub.gradable:
            shutil.rmtree(dest, ignore_errors=True)
            continue
        if stamp.is_file() and stamp.read_text() == sub.digest:
            continue
        shutil.rmtree(dest, ignore_errors=True)
        intake.place(sub, dest)
        stamp.write_text(sub.digest)


def not_graded(job: StudentJob, exc: BaseException) -> StudentResult:
    """The result of a student whose grading raised (a Dask worker that died or
    differs, a lost connection): 0 for this run, with the reason, and no key, so
    that the next run of the same command grades them again."""
    return StudentResult(job.student_id, [*job.problems, P.Problem(
        P.Kind.WORKER_FAILED, f"grading failed ({type(exc).__name__}: {_first_sentence(str(exc))}); scored 0 for now: "
                         "grading the class again grades this student again")], digest=job.digest, key="")


def _first_sentence(text, limit=160):
    """The gist of an exception's message for the student's feedback and the table (Dask's
    KilledWorker, say, goes on about worker addresses and logs)."""
    first = (text.strip().splitlines() or [""])[0]
    first = first.split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[:limit - 3] + "..."


def grade_class(assignment, submissions, out=None, db=None, settings: Settings | None = None, root=None,
                log=print) -> ClassRun:
    """Grade every student of ``submissions`` for ``assignment``; see ``regloss grade --help``.

    Returns
    -------
    ClassRun
    """
    s = settings or Settings()
    os.environ["PATH"] = course.tool_env()["PATH"]  # the Gradebook API runs `alembic`
    root = Path(root) if root else course.find_root()
    course.check_assignment(assignment, root)
    memory_floor.refuse_below_floor(s.memory_mb)
    out = Path(out) if out else root / "grading" / "runs" / assignment
    out = out.resolve()
    subs_path = Path(submissions)
    if not subs_path.exists():
        raise CourseError(f"submissions not found: {subs_path}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / ".write-test").write_text("")
        (out / ".write-test").unlink()
    except OSError as exc:
        raise CourseError(f"cannot write to the output folder {out}: {exc}") from exc
    db_url = db or gradebook.sqlite_url(out / "gradebook.db")
    class_root = intake.open_submissions(subs_path, out / "intake")
    iso = sandbox.probe(s.sandbox)
    workers = s.workers or os.cpu_count() or 1
    warm = None
    if not s.scheduler and not s.service:  # the local workers' nbgrader processes start while it is generated
        warm = distributed.WarmPool(iso)
        folders = sum(1 for p in class_root.iterdir() if p.is_dir()) if class_root.is_dir() else 0
        warm.prestart(min(workers, folders), student_env({"PYTHONDONTWRITEBYTECODE": "1"}))
    try:
        return _grade_class(assignment, s, root, out, subs_path, db_url, class_root, iso, workers, warm, log)
    finally:
        if warm is not None:
            warm.close()


def _memory(memory_mb: int, iso: sandbox.Isolation) -> str:
    """What the memory cap holds on this machine, in words."""
    if not memory_mb:
        return "no memory cap"
    if iso.own_users:
        return f"{memory_mb} MB per process and for all of a student's processes together"
    return f"{memory_mb} MB per process (not for a student's processes together: no user of their own here)"


def _grade_class(assignment, s, root, out, subs_path, db_url, class_root, iso, workers, warm, log):
    ia = gradebook.prepare_instructor_area(root, assignment, out)
    gradebook.prepare_main_gradebook(ia, db_url)
    expected = ia.notebook_names()
    ids = {n: nbcells.grade_ids(nbformat.read(str(ia.source / n), as_version=4).cells) for n in expected}
    subs, loose = intake.read_class(class_root, expected, ids)
    intake.add_export_problems(subs, out / "intake")
    if not subs:
        raise CourseError(f"no student folders in {subs_path} (expected one sub-folder per student)")

    from regloss.grading.report.rubric import rubrics_of

    rubrics = {n: rubrics_of(nbformat.read(str(ia.source / n), as_version=4)) for n in expected}
    state = RunState(out)
    settings_key = s.grading_key(ia.source_digest)
    results, todo = {}, []
    in_gradebook = gradebook.class_cells(db_url, assignment, [sub.student_id for sub in subs])
    for i, sub in enumerate(subs):
        key = f"{sub.digest}:{settings_key}"
        prev = state.students.get(sub.student_id)
        if not s.force and prev and prev.get("key") == key and sub.student_id in in_gradebook:
            results[sub.student_id] = StudentResult.from_summary(prev)
        else:
            todo.append((i, sub, key))

    hide = [root / "solutions", root / "grading", out, subs_path.resolve(), class_root]
    db_file = gradebook.sqlite_file(db_url)  # the main gradebook holds the hidden tests: wherever it is (a course)
    if db_file is not None:
        hide += [db_file, *(db_file.with_name(db_file.name + x) for x in ("-journal", "-wal", "-shm"))]
    if s.service:
        from regloss.grading.run import via_service

        where = via_service.describe(s.service)
    else:
        where = distributed.describe(s.scheduler) if s.scheduler else f"{workers} workers"
    log(f"grading {assignment}: {len(subs)} students ({len(subs) - len(todo)} already graded), "
        f"{where}, {s.timeout} s per cell, {_memory(s.memory_mb, iso)}")
    log(f"isolation: {iso.describe()}")
    if s.judge:
        from regloss.grading.sandboxed.policy import describe_policy

        log(f"judge: {describe_policy(assignment, iso)}")
    else:
        log("judge: OFF (--no-judge): grades come from the student's own kernel and can be forged")

    def record(res):
        results[res.student_id] = res
        state.record(res.student_id, {**res.summary(), "finished": round(time.time(), 3)})  # when: for benchmarks

    bundle = make_bundle(ia, root, hide)
    wsettings = replace(s, keep_workspace=bool(os.environ.get(KEEP_WORKSPACES)))
    scratch = Path(tempfile.mkdtemp(prefix="regloss-run-"))
    os.chmod(scratch, 0o700)
    procs = Processes()
    bar = None
    main = gradebook.MainGradebook(db_url)
    try:
        gradable = []
        for i, sub, key in todo:
            if not sub.gradable:  # nothing to run: 0, with the reason
                said = any(p.rstrip().endswith("scored 0") for p in sub.problems)  # wording only
                res = StudentResult(sub.student_id, [*(P.Problem(P.Kind.INTAKE, p) for p in sub.problems), *(
                    [] if said else [P.Problem(P.Kind.SCORED_ZERO, "scored 0")])], digest=sub.digest, key=key)
                finish(res, main, assignment, out, rubrics)
                record(res)
            else:
                gradable.append((i, sub, key))

        def jobs():  # each submission is read when a worker is about to need it, not the class at once
            for i, sub, key in gradable:
                yield StudentJob(sub.student_id, submission_files(sub), bundle, wsettings,
                                 [P.Problem(P.Kind.INTAKE, p) for p in sub.problems], sub.digest, key, i)

        if gradable:
            from tqdm import tqdm

            bar = tqdm(total=len(gradable), desc=f"grading {assignment}", unit="student",
                       disable=not s.progress, file=sys.stderr)
            finished = distributed.results(jobs(), workers=workers, scheduler=s.scheduler,
                                           scratch=scratch, iso=iso, procs=procs, warm=warm, service=s.service)
            try:
                for j, res in finished:
                    if isinstance(res, BaseException):  # one student must not stop the class
                        res = not_graded(j, res)
                    finish(res, main, assignment, out, rubrics)
                    record(res)
                    bar.update(1)
            finally:  # stopped early (Ctrl-C, SIGTERM): local workers killed, cluster tasks cancelled
                finished.close()
    finally:
        main.close()
        try:
            state.compact()
        except OSError:  # the journal as appended still holds every student
            state.close()
        if bar is not None:
            bar.close()
        if not wsettings.keep_workspace:
            shutil.rmtree(scratch, ignore_errors=True)
    ordered = [results[sub.student_id] for sub in subs]
    again = [r.student_id for r in ordered if not r.key and any(p.kind == P.Kind.WORKER_FAILED for p in r.problems)]
    if again:
        log(f"{len(again)} student(s) could not be graded, through no fault of their own "
            f"({', '.join(again[:10])}{', ...' if len(again) > 10 else ''}): run the same command again "
            "to grade just them")
    unjudged = sorted({v.grade_id for r in ordered for v in r.verdicts if not v.judged})
    if unjudged:
        log(f"judge: {len(unjudged)} test cell(s) of {assignment} cannot be checked outside the kernel "
            f"({', '.join(unjudged)}): they pass the student's function something that cannot cross, such as "
            "a lambda of the test's own; their scores come from the student's kernel and can be forged")
    keep_submitted(out, assignment, subs)
    refreshed = hand_feedback.refresh(out, assignment, db_url, [r.student_id for r in ordered if r.graded], log)
    return ClassRun(ordered, loose, db_url, iso, refreshed)
