"""``regloss grade`` and ``regloss demo``: grade a class of submissions in one call
(``demo``: a sample class for every assignment, made from the tests' catalogue).

:func:`grade` runs the whole class (:mod:`regloss.grading.run.parent`), writes the
report files (:mod:`regloss.grading.report.tables`) and returns the summary text the
command prints.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from regloss.course import CourseError, find_root
from regloss.grading.settings import Settings


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def grade(assignment, submissions, out=None, db=None, settings: Settings | None = None, root=None, roster=None,
          lms=None, course_dir=None):
    """Grade a class, write ``grades.csv``, the LMS gradebook (``canvas.csv`` for a Canvas
    export, ``moodle.csv`` for a Moodle one, both for a folder per student, or those named in
    ``lms``), the misconceptions (``mistakes.csv``, ``mistakes.png``), ``scores.png`` and the
    feedback under ``out``, and return the summary to print.

    ``roster`` (a CSV, see :func:`regloss.grading.lms.roster.read_roster`) fills names,
    sections and SIS ids in the LMS gradebooks. ``course_dir`` (default: ``grading/course`` when
    ``out`` is the default) is the course folder the run joins (:mod:`regloss.grading.report.course`):
    its gradebook is the run's unless ``db`` says otherwise.
    """
    from regloss.grading.run import parent

    settings = settings or Settings()
    try:  # SIGTERM stops a run as cleanly as Ctrl-C: workers killed, gradebook consistent
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        pass

    settings.validate()
    if lms:
        from regloss.grading import lms as systems

        systems.systems_for("", lms)  # an unknown name is refused before anything is graded
    people_of_roster = _roster(roster)
    root = Path(root) if root else find_root()
    course_dir = course_folder(root, out, course_dir)
    if course_dir is not None and db is None:
        db = course_gradebook(course_dir)
    run = parent.grade_class(assignment, submissions, out=out, db=db, settings=settings, root=root)
    out = Path(out).resolve() if out else root / "grading" / "runs" / assignment
    text = write_report(assignment, run.results, run.loose, run.db_url, out, people_of_roster, lms, run.refreshed)
    if course_dir is not None:
        text += "\n" + join_course(course_dir, out, assignment, run)
    return text


def course_folder(root: Path, out, course) -> Path | None:
    """The course folder a run joins: ``course``, else ``grading/course`` for a run in its default
    folder, else none."""
    from regloss.grading.report.course import default_course

    if course:
        return Path(course).resolve()
    return None if out else default_course(root)


def course_gradebook(course_dir: Path) -> str:
    from regloss.grading.report.course import GRADEBOOK
    from regloss.grading.run.gradebook import sqlite_url

    course_dir.mkdir(parents=True, exist_ok=True)
    return sqlite_url(course_dir / GRADEBOOK)


def join_course(course_dir: Path, out: Path, assignment: str, run) -> str:
    """Link the run into the course (:func:`regloss.grading.report.course.link_run`); the line to print."""
    from regloss.grading.report.course import link_run

    link_run(course_dir, out, assignment, run.db_url, [r.student_id for r in run.results])
    return f"Formgrader on the whole course (every assignment): cd {course_dir} && jupyter lab"


def _roster(roster):
    from regloss.grading.lms import roster as lms_roster

    return lms_roster.read_roster(roster) if roster else {}


@dataclass
class ClassReport:
    """What :func:`write_files` wrote, for a summary."""

    assignment: str
    rows: list
    tallies: list
    layout: str
    loose: list
    gradebooks: list = field(default_factory=list)  # the LMS files written
    similar: list = field(default_factory=list)  # the pairs similarity.csv flags


def write_files(assignment, results, loose, db_url, out: Path, roster=None, lms_names=None) -> ClassReport:
    """Write every report file of a graded class under ``out``: grades.csv, the LMS gradebooks
    (:func:`regloss.grading.lms.systems_for`), mistakes.csv, mistakes.png, scores.png and the
    formgrader config."""
    from regloss.grading import lms
    from regloss.grading.lms import roster as lms_roster
    from regloss.grading.report import formgrader, mistakes, similarity
    from regloss.grading.report import tables as report
    from regloss.grading.run import intake

    formgrader.write_formgrader_config(out, db_url)
    layout, infos = intake.class_info(out / "intake" / intake.CLASS_INFO)
    loose = list(loose) + [n for n in _loose_of(out) if n not in loose]
    rows = report.build_rows(results, db_url, assignment, infos)
    report.write_csv(rows, out / "grades.csv")
    who = lms_roster.people(rows, infos, roster or {})
    lms_roster.name_students(db_url, who)
    written = lms.write_gradebooks(rows, who, assignment, out, lms.systems_for(layout, lms_names))
    report.plot_distribution(rows, out / "scores.png", f"{assignment}: {len(rows)} students")
    by_id = {r.student_id: r for r in results}
    failures = {row.student_id: mistakes.failure_messages(out, assignment, row.student_id, by_id.get(row.student_id))
                for row in rows if row.graded}
    tallies = mistakes.count(failures, sum(1 for r in rows if r.graded), assignment)
    report.write_mistakes(tallies, out / "mistakes.csv")
    report.plot_mistakes(tallies, out / "mistakes.png", f"{assignment}: misconceptions ({len(rows)} students)")
    similar = similarity.write_similarity(out, assignment, answers_of(out, assignment, rows))
    return ClassReport(assignment, rows, tallies, layout, loose, [p.name for p in written], similar)


def answers_of(out: Path, assignment: str, rows) -> dict[str, dict[str, str]]:
    """``{student: {function: the code of their answer cell}}`` of the graded students, read from
    their autograded notebooks."""
    import nbformat

    from regloss.grading.report.similarity import answer_code

    found: dict[str, dict[str, str]] = {}
    for row in rows:
        if not row.graded:
            continue
        for path in sorted((out / "autograded" / row.student_id / assignment).glob("*.ipynb")):
            try:
                found.setdefault(row.student_id, {}).update(answer_code(nbformat.read(str(path), as_version=4)))
            except Exception:  # noqa: BLE001 - an unreadable notebook has no code to compare
                continue
    return found


def write_report(assignment, results, loose, db_url, out: Path, roster=None, lms_names=None, refreshed=()):
    """Write every report file of a graded class under ``out`` (:func:`write_files`);
    return the summary text (``refreshed``: the students whose feedback now carries their hand grades)."""
    from regloss.grading.report import tables as report
    from regloss.grading.run import gradebook, intake

    rep = write_files(assignment, results, loose, db_url, out, roster, lms_names)
    rows, tallies, loose = rep.rows, rep.tallies, rep.loose
    lines = ["", f"submissions: {intake.layouts().get(rep.layout, rep.layout).split(':')[0]}",
             report.summary_table(rows)]
    if any(r.manual_pending for r in rows):
        lines.append("(+: written answers still to be graded by hand in the gradebook)")
    if refreshed:
        lines.append(f"(feedback rendered again with the hand grades: {len(refreshed)} student(s))")
    if any(r.late for r in rows):
        lines.append("(late: " + ", ".join(r.student_id for r in rows if r.late) + ")")
    common = report.common_mistakes(rows)
    lines.append("\ncommon mistakes (test cells failed):")
    lines += [f"  {t:<40} {n:>3}/{total} students" for t, n, total in common] or ["  none"]
    lines.append("\nmisconceptions (each student once per function: the first named mistake of its failing checks):")
    lines += report.mistakes_summary(tallies)
    alike = [f"{p.student_a} and {p.student_b} in {p.function} ({p.similarity:.2f})" for p in rep.similar]
    lines.append("\nunusually alike answers, to look at side by side (similarity.csv): "
                 + ("; ".join(alike[:5]) + (f" and {len(alike) - 5} more" if len(alike) > 5 else "") or "none"))
    if loose:
        lines.append(f"\nignored loose files beside the student folders: {', '.join(loose[:10])}")
    n_prob = sum(1 for r in rows if r.problems)
    lines.append(f"\n{len(rows)} students graded, {n_prob} with problems. Written to {out}:")
    lines.append(f"  grades.csv, {', '.join(rep.gradebooks)}, mistakes.csv, mistakes.png, scores.png, "
                 f"similarity.csv, similarity.png, feedback/<student>/{assignment}/*.html, "
                 f"gradebook {gradebook.shown_url(db_url)}")
    lines.append(f"Written answers: cd {out} && jupyter lab   (then Nbgrader -> Formgrader)")
    return "\n".join(lines)


def _loose_of(out: Path):
    import json

    try:
        return json.loads((out / "intake" / "class.json").read_text()).get("loose", [])
    except (OSError, ValueError):
        return []


def demo(out=None, settings: Settings | None = None, root=None, assignments=None):
    """Grade a sample class for every assignment, generated from the catalogue of the
    course's tests (:mod:`regloss.grading.run.sample`), each on its own embedded SQLite
    gradebook under ``out/<assignment>/``; returns one summary for the course.

    An assignment that cannot be graded (no release yet, a broken source) is
    reported in the summary and does not stop the others.
    """
    from regloss import course
    from regloss.grading.run import parent, sample

    settings = settings or Settings()
    root = Path(root) if root else find_root()
    out = Path(out).resolve() if out else root / "grading" / "demo-out"
    entries = sample.load_catalogue(root)
    wanted = list(assignments or course.assignments(root))
    print(f"regloss demo: a sample class of {len(sample.STUDENTS)} students for each of {len(wanted)} assignments, "
          f"made from the catalogue (tests/catalogue/), graded into {os.path.relpath(out, os.getcwd())}", flush=True)
    settings.validate()
    reports, failed = [], []
    for a in wanted:
        try:
            subs = sample.write_sample_class(root, a, entries, out / "sample_class" / a)
            run = parent.grade_class(a, subs, out=out / a, db=course_gradebook(out / "course"), settings=settings,
                                     root=root)
            reports.append((write_files(a, run.results, run.loose, run.db_url, out / a), run.db_url))
            join_course(out / "course", out / a, a, run)
        except CourseError as exc:
            failed.append((a, str(exc).strip().splitlines()[0][:200]))
    return demo_summary(reports, failed, out)


def demo_summary(reports, failed, out: Path) -> str:
    """One table for the course (assignment x student, autograded score), the course's
    misconceptions ranked, and where everything was written."""
    from regloss.grading.report import mistakes
    from regloss.grading.report import tables as report

    students = list(dict.fromkeys(r.student_id for rep, _ in reports for r in rep.rows))
    aw = max([len("assignment")] + [len(rep.assignment) for rep, _ in reports])
    cols = [max(len(s), 9) for s in students]
    lines = ["", f"{'assignment':<{aw}}  " + "  ".join(f"{s:>{w}}" for s, w in zip(students, cols))]
    lines.append(f"{'-' * aw}  " + "  ".join("-" * w for w in cols))
    for rep, _ in reports:
        by = {r.student_id: r for r in rep.rows}
        cells = []
        for s, w in zip(students, cols):
            r = by.get(s)
            cell = f"{r.auto_score:g}/{r.auto_max_score:g}" + ("+" if r.manual_pending else "") if r else "-"
            cells.append(f"{cell:>{w}}")
        lines.append(f"{rep.assignment:<{aw}}  " + "  ".join(cells))
    lines.append("(autograded score; +: written answers still to be graded by hand)")
    tallies = mistakes.rank(t for rep, _ in reports for t in rep.tallies)
    lines.append("\nmisconceptions across the course (each student once per function, out of the students "
                 "of that assignment):")
    lines += report.mistakes_summary(tallies, limit=12, assignments=True)
    problems = [(rep.assignment, r.student_id, r.problems) for rep, _ in reports for r in rep.rows if r.problems]
    if problems:
        lines.append("\nproblems:")
        lines += [f"  {a} {s}: {p[:100]}" for a, s, p in problems]
    for a, why in failed:
        lines.append(f"\n{a}: NOT GRADED: {why}")
    lines.append(f"\n{sum(len(rep.rows) for rep, _ in reports)} submissions of {len(reports)} assignments graded. "
                 f"Written to {out}/<assignment>/: grades.csv, canvas.csv, moodle.csv, mistakes.csv, mistakes.png, "
                 f"scores.png, feedback/")
    lines.append(f"One gradebook and formgrader for the whole course: cd {out / 'course'} && jupyter lab")
    return "\n".join(lines)
