"""The ``regloss`` command: ``regloss release | grade | demo | student-setup``.

It only parses the command line, calls one function of :mod:`regloss.course` or
:mod:`regloss.grading`, and prints what that returns. ``python -m regloss`` is
the same command.
"""

from __future__ import annotations

import argparse
import sys

from regloss.startup import skip_slow_optional_imports

skip_slow_optional_imports()  # before nbformat (through regloss.course) imports jsonschema

from regloss.course import CourseError  # noqa: E402


def _release(args):
    from regloss.course import release

    return "\n".join(f"released {a}: solutions/{a} -> notebooks/{a}" for a in release(args.assignments or None))


def _grade(args):
    from regloss.grading.run.command import grade

    return grade(args.assignment, args.submissions, out=args.out, db=args.db, options=_options(args),
                 roster=args.roster)


def _demo(args):
    from regloss.grading.run.command import demo

    return demo(out=args.out, options=_options(args), assignments=args.assignments or None)


def _student_setup(args):
    from regloss.grading.report.formgrader import student_setup

    return student_setup(args.level)


def _options(args):
    from regloss.grading.run.command import Options

    return Options(workers=args.workers, timeout=args.timeout, memory=args.memory, max_output=args.max_output,
                   force=args.force, sandbox=not args.no_sandbox, progress=not args.no_progress,
                   feedback_hidden=args.feedback_hidden, judge=not args.no_judge,
                   scheduler=getattr(args, "scheduler", None))


def _grading_options(p):
    p.add_argument("--workers", type=int, default=0, help="parallel workers (default: number of cores)")
    p.add_argument("--timeout", type=int, default=60, help="seconds per cell before it is interrupted (default 60)")
    p.add_argument("--memory", type=int, default=2048, help="memory cap per kernel, in MB (default 2048; 0: none)")
    p.add_argument("--max-output", type=int, default=100_000, help="characters of output kept per cell")
    p.add_argument("--force", action="store_true", help="regrade students already graded from the same files")
    p.add_argument("--no-sandbox", action="store_true", help="do not use Linux namespaces (unshare)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--feedback-hidden", choices=("message", "code"), default="message",
                   help="what feedback shows of a hidden test: its result and message (default), or its code too")
    p.add_argument("--no-judge", action="store_true",
                   help="score test cells in the student's own kernel, as plain nbgrader does (forgeable)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="grade on a Dask distributed cluster: each student is a task of this scheduler's workers")


def build_parser():
    """The argument parser of the ``regloss`` command."""
    p = argparse.ArgumentParser(prog="regloss", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="regenerate notebooks/ (and the shipped answer files) from solutions/")
    r.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    r.set_defaults(func=_release)
    g = sub.add_parser(
        "grade",
        help="autograde a class (a folder per student, or a Canvas or Moodle export; folder or zip)",
        description="Autograde every student's submission with nbgrader, in parallel and in isolation; "
                    "write grades.csv, feedback, the class's common mistakes and a score histogram under --out.",
    )
    g.add_argument("assignment", help="assignment id, e.g. 01_l1_mse (a folder of solutions/)")
    g.add_argument("submissions", help="folder with one sub-folder per student id, Canvas's 'Download Submissions' "
                                       "or Moodle's 'Download all submissions' (a folder or the zip)")
    _grading_options(g)
    g.add_argument("--out", help="output folder (default: grading/runs/<assignment>)")
    g.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite under --out), e.g. postgresql://...")
    g.add_argument("--roster", help="CSV of the class (student id, name, section, SIS ids, email; a Canvas "
                                    "gradebook export or a Moodle grading worksheet will do) for canvas.csv and moodle.csv")
    g.set_defaults(func=_grade)
    d = sub.add_parser("demo", help="grade a sample class for every assignment, made from the tests' catalogue "
                                    "of right and wrong answers, end to end, with one summary")
    _grading_options(d)
    d.add_argument("--out", help="output folder (default: grading/demo-out)")
    d.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    d.set_defaults(func=_demo)
    s = sub.add_parser("student-setup", help="turn off nbgrader's instructor tools (Formgrader, Create Assignment, "
                                             "Course List) in this environment's JupyterLab, for students")
    s.add_argument("--level", choices=["sys-prefix", "user"], default="sys-prefix",
                   help="sys-prefix: everyone using this environment (default); user: only the current user")
    s.set_defaults(func=_student_setup)
    return p


def main(argv=None):
    """Run the command; returns the exit status (0, or 2 for an instructor's error)."""
    args = build_parser().parse_args(argv)
    try:
        text = args.func(args)
    except CourseError as exc:
        print(f"regloss: error: {exc}", file=sys.stderr)
        return 2
    if text:
        print(text)
    return 0
