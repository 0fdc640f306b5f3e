"""The instructor's command line: ``regloss release | grade | demo``."""

from __future__ import annotations

import argparse
import sys

from regloss import course, grade_cli


def _release(args):
    ids = course.release(args.assignments or None)
    for a in ids:
        print(f"released {a}: solutions/{a} -> notebooks/{a}")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="regloss", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="regenerate notebooks/ from solutions/ with nbgrader generate_assignment")
    r.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    r.set_defaults(func=_release)
    grade_cli.add_commands(sub)  # grading commands live in their own module
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except course.CourseError as exc:
        print(f"regloss: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
