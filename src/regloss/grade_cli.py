"""``regloss grade`` and ``regloss demo``: grade a class of submissions in one command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from regloss import course

DEMO_ASSIGNMENT = "01_l1_mse"


def add_commands(sub):
    """Register ``grade`` and ``demo`` on the ``regloss`` sub-command parser."""
    g = sub.add_parser(
        "grade",
        help="autograde a class (a folder with one sub-folder per student, or a zip of it)",
        description="Autograde every student's submission with nbgrader, in parallel and in isolation; "
                    "write grades.csv, feedback, the class's common mistakes and a score histogram under --out.",
    )
    g.add_argument("assignment", help="assignment id, e.g. 01_l1_mse (a folder of solutions/)")
    g.add_argument("submissions", help="folder with one sub-folder per student id, or a zip of such a folder")
    _common(g)
    g.add_argument("--out", help="output folder (default: grading/runs/<assignment>)")
    g.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite under --out), e.g. postgresql://...")
    g.set_defaults(func=_grade)
    d = sub.add_parser("demo", help="grade the bundled sample class (grading/sample_class/) end to end")
    _common(d)
    d.add_argument("--out", help="output folder (default: grading/demo-out)")
    d.set_defaults(func=_demo, db=None)


def _common(p):
    p.add_argument("--workers", type=int, default=0, help="parallel workers (default: number of cores)")
    p.add_argument("--timeout", type=int, default=60, help="seconds per cell before it is interrupted (default 60)")
    p.add_argument("--memory", type=int, default=2048, help="memory cap per kernel, in MB (default 2048; 0: none)")
    p.add_argument("--max-output", type=int, default=100_000, help="characters of output kept per cell")
    p.add_argument("--force", action="store_true", help="regrade students already graded from the same files")
    p.add_argument("--no-sandbox", action="store_true", help="do not use Linux namespaces (unshare)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _positive(args):
    for name in ("workers", "timeout", "memory", "max_output"):
        v = getattr(args, name)
        if v < 0 or (name in ("timeout", "max_output") and v == 0):
            raise course.CourseError(f"--{name.replace('_', '-')} must be positive, got {v}")


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_grade(assignment, submissions, out=None, db=None, args=None, root=None):
    """Grade a class and print the report; returns the exit status (0)."""
    import signal

    from regloss.grading import report, runner

    try:  # SIGTERM stops a run as cleanly as Ctrl-C: workers killed, gradebook consistent
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        pass

    _positive(args)
    settings = runner.Settings(workers=args.workers, timeout=args.timeout, memory_mb=args.memory,
                               max_output=args.max_output, sandbox=not args.no_sandbox, force=args.force,
                               progress=not args.no_progress)
    results, loose, db_url, iso = runner.grade_class(assignment, submissions, out=out, db=db,
                                                      settings=settings, root=root)
    root = Path(root) if root else course.find_root()
    out = Path(out).resolve() if out else root / "grading" / "runs" / assignment
    rows = report.build_rows(results, db_url, assignment)
    report.write_csv(rows, out / "grades.csv")
    report.plot_distribution(rows, out / "scores.png", f"{assignment}: {len(rows)} students")
    print()
    print(report.summary_table(rows))
    if any(r.manual_pending for r in rows):
        print("(+: written answers still to be graded by hand in the gradebook)")
    mistakes = report.common_mistakes(rows)
    print("\ncommon mistakes (test cells failed):")
    if mistakes:
        for t, n, total in mistakes:
            print(f"  {t:<40} {n:>3}/{total} students")
    else:
        print("  none")
    if loose:
        print(f"\nignored loose files beside the student folders: {', '.join(loose[:10])}")
    n_prob = sum(1 for r in rows if r.problems)
    print(f"\n{len(rows)} students graded, {n_prob} with problems. Written to {out}:")
    print(f"  grades.csv, scores.png, feedback/<student>/{assignment}/*.html, gradebook {db_url}")
    return 0


def _grade(args):
    return run_grade(args.assignment, args.submissions, out=args.out, db=args.db, args=args)


def _demo(args):
    root = course.find_root()
    sample = root / "grading" / "sample_class"
    if not sample.is_dir():
        raise course.CourseError(f"the sample class is missing: {sample}")
    out = Path(args.out) if args.out else root / "grading" / "demo-out"
    print(f"regloss demo: grading the sample class {sample.relative_to(root)} for {DEMO_ASSIGNMENT} "
          f"into {os.path.relpath(out, os.getcwd())}")
    return run_grade(DEMO_ASSIGNMENT, sample, out=out, db=None, args=args, root=root)


if __name__ == "__main__":  # pragma: no cover
    from regloss.cli import main

    sys.exit(main(["grade", *sys.argv[1:]]))
