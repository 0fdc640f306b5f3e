"""The ``regloss`` command: ``regloss release | bundle | grade | demo | student-setup``.

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
from regloss.grading import settings  # noqa: E402


def _release(args):
    from regloss.course import release

    return "\n".join(f"released {a}: solutions/{a} -> notebooks/{a}" for a in release(args.assignments or None))


def _grade(args):
    from regloss.grading.run.command import grade

    return grade(args.assignment, args.submissions, out=args.out, db=args.db, settings=settings.from_arguments(args),
                 roster=args.roster, lms=[n for n in (args.lms or "").split(",") if n] or None)


def _demo(args):
    from regloss.grading.run.command import demo

    return demo(out=args.out, settings=settings.from_arguments(args), assignments=args.assignments or None)


def _bundle(args):
    from regloss.course.bundle import bundle

    return "\n".join(f"wrote {p}" for p in bundle(args.assignments or None, out=args.out))


def _serve(args):
    from regloss.grading.service.command import serve

    return serve(args.assignments or None, port=args.port, tokens=args.tokens, rate=args.rate, due=args.due,
                 db=args.db, workers=args.workers, host=args.host, state=args.state, timeout=args.timeout)


def _student_setup(args):
    from regloss.course.student_lab import student_setup

    return student_setup(args.level)


#: What ``regloss --help`` says first (plain text: the module docstring is reStructuredText).
DESCRIPTION = ("regloss: the course on regression losses. Regenerate the students' notebooks (release), "
               "zip them for students (bundle), grade a class (grade), grade a sample class end to end (demo), "
               "or set up a student's JupyterLab (student-setup).")


def build_parser():
    """The argument parser of the ``regloss`` command."""
    p = argparse.ArgumentParser(prog="regloss", description=DESCRIPTION)
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
    settings.add_arguments(g)
    g.add_argument("--out", help="output folder (default: grading/runs/<assignment>)")
    g.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite under --out), e.g. postgresql://...")
    g.add_argument("--roster", help="CSV of the class (student id, name, section, SIS ids, email; a Canvas "
                                    "gradebook export or a Moodle grading worksheet will do) "
                                    "for canvas.csv and moodle.csv")
    g.add_argument("--lms", metavar="NAMES", help="the LMS gradebook files to write, comma-separated (canvas, "
                                                  "moodle); default: the export's own system, or all for a folder "
                                                  "per student")
    g.set_defaults(func=_grade)
    b = sub.add_parser("bundle", help="write a zip per assignment for students: the release notebook, the files "
                                      "it ships and a README (install, open, check, submit)")
    b.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    b.add_argument("--out", default="bundles", help="where the zips go (default: bundles/)")
    b.set_defaults(func=_bundle)
    d = sub.add_parser("demo", help="grade a sample class for every assignment, made from the tests' catalogue "
                                    "of right and wrong answers, end to end, with one summary")
    settings.add_arguments(d)
    d.add_argument("--out", help="output folder (default: grading/demo-out)")
    d.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    d.set_defaults(func=_demo)
    v = sub.add_parser("serve", help="official checks on demand: grade one student's notebook per request "
                                     "(the judge's verdicts, hidden tests included), rate-limited and logged",
                       description="A grading service: POST /api/check/<assignment> with 'Authorization: token T' and "
                                   "the notebook; GET /api/attempts/<assignment> (instructors, CSV); GET /api/health.")
    v.add_argument("assignments", nargs="*", help="assignment ids to check (default: all)")
    v.add_argument("--port", type=int, required=True, help="the port to listen on")
    v.add_argument("--tokens", metavar="FILE", help="CSV token,student_id,role (student or instructor); as a "
                                                    "JupyterHub service, the Hub's tokens are accepted too")
    v.add_argument("--rate", metavar="N/HOURS", help="at most N checks per student and assignment in any HOURS hours "
                                                    "(default: no limit)")
    v.add_argument("--due", metavar="ISO8601", help="no checks for students from this time (no zone: UTC)")
    v.add_argument("--db", metavar="URL", help="the attempt log: a file, sqlite:///PATH or postgresql://... "
                                               "(default: grading/serve/attempts.db)")
    v.add_argument("--workers", type=int, default=1, help="warm grading workers (default 1)")
    v.add_argument("--timeout", type=int, default=60, help="seconds per cell before it is interrupted (default 60)")
    v.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1; put a TLS proxy "
                                                      "in front to serve other machines)")
    v.add_argument("--state", help="where the generated assignments are kept (default: grading/serve)")
    v.set_defaults(func=_serve)
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
