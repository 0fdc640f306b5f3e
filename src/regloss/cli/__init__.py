"""The ``regloss`` command: ``regloss release | bundle | release-exchange | grade | demo | serve |
student-setup | hub-config``.

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

    kwargs = dict(out=args.out, db=args.db, settings=settings.from_arguments(args), roster=args.roster,
                  lms=[n for n in (args.lms or "").split(",") if n] or None, course_dir=args.course_dir)
    if args.exchange or args.course:  # straight from nbgrader's exchange (docs/jupyterhub.md)
        from regloss.grading.run.exchange import grade_from_exchange

        if not (args.exchange and args.course) or args.submissions:
            raise CourseError("--exchange and --course go together, without a submissions folder")
        return grade_from_exchange(args.assignment, args.exchange, args.course, **kwargs)
    if not args.submissions:
        raise CourseError("name the submissions (a folder or an export), or --exchange DIR --course ID")
    return grade(args.assignment, args.submissions, **kwargs)


def _demo(args):
    from regloss.grading.run.command import demo

    return demo(out=args.out, settings=settings.from_arguments(args), assignments=args.assignments or None)


def _bundle(args):
    from regloss.course.bundle import bundle

    return "\n".join(f"wrote {p}" for p in bundle(args.assignments or None, out=args.out, due=args.due_dates,
                                                     early=args.early))


def _release_exchange(args):
    from regloss.course.exchange_release import release_to_exchange

    return release_to_exchange(args.assignment, args.exchange, args.course, due=args.due_dates, early=args.early,
                               force=args.force)


def _hub_config(args):
    from regloss.course.hub import write_hub_config

    return write_hub_config(args.course, args.exchange, args.out, args.students.split(","),
                            (args.instructors or "").split(","), course_root=args.course_root, ip=args.ip,
                            port=args.port, authenticator=args.authenticator, hub_port=args.hub_port,
                            proxy_api_port=args.proxy_api_port, check_port=args.check_port,
                            check_assignments=args.check_assignments.split(",") if args.check_assignments else (),
                            check_rate=args.check_rate)


def _serve(args):
    from regloss.grading.service.command import serve

    return serve(args.assignments or None, port=args.port, tokens=args.tokens, rate=args.rate, due=args.due,
                 db=args.db, workers=args.workers, host=args.host, state=args.state, timeout=args.timeout,
                 instructors=[n for n in (args.instructors or "").split(",") if n])


def _student_setup(args):
    from regloss.course.student_lab import student_setup

    return student_setup(args.level)


#: What ``regloss --help`` says first (plain text: the module docstring is reStructuredText).
DESCRIPTION = ("regloss: the course on regression losses. Regenerate the students' notebooks (release), "
               "zip them for students (bundle), grade a class (grade), grade a sample class end to end (demo), "
               "set up a student's JupyterLab (student-setup) or a JupyterHub for a course (hub-config).")


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
    g.add_argument("submissions", nargs="?",
                   help="folder with one sub-folder per student id, Canvas's 'Download Submissions' "
                        "or Moodle's 'Download all submissions' (a folder or the zip)")
    settings.add_arguments(g)
    g.add_argument("--out", help="output folder (default: grading/runs/<assignment>)")
    g.add_argument("--db", help="gradebook SQLAlchemy URL (default: the course's, COURSE/gradebook.db; without a "
                                "course, sqlite under --out), e.g. postgresql://...")
    g.add_argument("--course-dir", metavar="COURSE", help="the course folder this run joins: one gradebook and one "
                                                         "formgrader for every assignment (default: grading/course "
                                                         "when --out is not given)")
    g.add_argument("--roster", help="CSV of the class (student id, name, section, SIS ids, email; a Canvas "
                                    "gradebook export or a Moodle grading worksheet will do) "
                                    "for canvas.csv and moodle.csv")
    g.add_argument("--lms", metavar="NAMES", help="the LMS gradebook files to write, comma-separated (canvas, "
                                                  "moodle); default: the export's own system, or all for a folder "
                                                  "per student")
    g.add_argument("--exchange", metavar="DIR", help="grade the newest submission of each student in nbgrader's "
                                                     "exchange DIR (no submissions folder), then release feedback "
                                                     "through it; with --course")
    g.add_argument("--course", metavar="ID", help="the course id in the exchange (with --exchange)")
    g.set_defaults(func=_grade)
    b = sub.add_parser("bundle", help="write a zip per assignment for students: the release notebook, the files "
                                      "it ships and a README (install, open, check, submit)")
    b.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    b.add_argument("--out", default="bundles", help="where the zips go (default: bundles/)")
    b.add_argument("--due-dates", metavar="FILE", help="CSV assignment,due (ISO 8601): an assignment that ships "
                                                       "earlier answers is bundled once they are due (default: "
                                                       "grading/due_dates.csv)")
    b.add_argument("--early", action="store_true", help="bundle even before the assignments whose answers it ships "
                                                       "are due (for graders, not students)")
    b.set_defaults(func=_bundle)
    x = sub.add_parser("release-exchange", help="release an assignment to nbgrader's exchange (JupyterHub), once "
                                                "the assignments whose answers it ships are due")
    x.add_argument("assignment", help="assignment id, e.g. 03_smooth_l1")
    x.add_argument("--exchange", required=True, help="the exchange's root, e.g. /srv/nbgrader/exchange")
    x.add_argument("--course", required=True, metavar="ID", help="the course id in the exchange")
    x.add_argument("--due-dates", metavar="FILE", help="CSV assignment,due (ISO 8601); default: "
                                                       "grading/due_dates.csv")
    x.add_argument("--early", action="store_true", help="release even before the assignments whose answers it "
                                                       "ships are due (for graders, not students)")
    x.add_argument("--force", action="store_true", help="replace a release already in the exchange")
    x.set_defaults(func=_release_exchange)
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
    v.add_argument("--instructors", metavar="NAMES", help="as a JupyterHub service: the Hub users who are "
                                                         "instructors, comma-separated (Hub admins are too)")
    v.set_defaults(func=_serve)
    s = sub.add_parser("student-setup", help="turn off nbgrader's instructor tools (Formgrader, Create Assignment, "
                                             "Course List) in this environment's JupyterLab, for students")
    s.add_argument("--level", choices=["sys-prefix", "user"], default="sys-prefix",
                   help="sys-prefix: everyone using this environment (default); user: only the current user")
    s.set_defaults(func=_student_setup)
    h = sub.add_parser("hub-config", help="write a JupyterHub set-up for a course with nbgrader's exchange "
                                          "(docs/jupyterhub.md)")
    h.add_argument("--course", required=True, help="the course id (nbgrader's, in the exchange)")
    h.add_argument("--exchange", required=True, help="the exchange's root, e.g. /srv/nbgrader/exchange (made 1777)")
    h.add_argument("--out", required=True, help="folder for jupyterhub_config.py and the users' Jupyter config")
    h.add_argument("--students", required=True, help="Unix user names, comma-separated")
    h.add_argument("--instructors", help="Unix user names, comma-separated (their servers keep Formgrader)")
    h.add_argument("--course-root", help="the instructor's course folder, for formgrader (CourseDirectory.root)")
    h.add_argument("--ip", default="127.0.0.1", help="address the Hub listens on (default 127.0.0.1)")
    h.add_argument("--port", type=int, default=8000, help="port the Hub listens on (default 8000)")
    h.add_argument("--hub-port", type=int, help="the Hub's internal API port (default JupyterHub's, 8081)")
    h.add_argument("--proxy-api-port", type=int, help="the proxy's API port (default JupyterHub's, 8001)")
    h.add_argument("--authenticator", choices=["pam", "dummy"], default="pam",
                   help="pam: Unix passwords (default); dummy: one password from $REGLOSS_HUB_PASSWORD, for tests")
    h.add_argument("--check-port", type=int, help="run the check service (regloss serve) as a Hub service on this "
                                                  "local port, behind the proxy at /services/regloss-check/")
    h.add_argument("--check-assignments", metavar="A,B", help="the assignments it checks (default: all)")
    h.add_argument("--check-rate", metavar="N/HOURS", help="its rate per student and assignment (default: none)")
    h.set_defaults(func=_hub_config)
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
