"""``regloss grade`` and ``regloss demo``: grade a class of submissions in one call.

:func:`grade` runs the whole class (:mod:`regloss.grading.runner`), writes the
report files (:mod:`regloss.grading.report`) and returns the summary text the
command prints.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from regloss.course import CourseError, find_root

DEMO_ASSIGNMENT = "01_l1_mse"


@dataclass(frozen=True)
class Options:
    """The instructor's choices for one grading run (the command's flags)."""

    workers: int = 0
    timeout: int = 60
    memory: int = 2048
    max_output: int = 100_000
    force: bool = False
    sandbox: bool = True
    progress: bool = True

    def validate(self):
        """Raise :class:`CourseError` for a negative or zero limit."""
        for name in ("workers", "timeout", "memory", "max_output"):
            v = getattr(self, name)
            if v < 0 or (name in ("timeout", "max_output") and v == 0):
                raise CourseError(f"--{name.replace('_', '-')} must be positive, got {v}")


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def grade(assignment, submissions, out=None, db=None, options=Options(), root=None):
    """Grade a class, write ``grades.csv``, ``scores.png`` and the feedback under ``out``,
    and return the summary to print."""
    from regloss.grading import report, runner

    try:  # SIGTERM stops a run as cleanly as Ctrl-C: workers killed, gradebook consistent
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        pass

    options.validate()
    settings = runner.Settings(workers=options.workers, timeout=options.timeout, memory_mb=options.memory,
                               max_output=options.max_output, sandbox=options.sandbox, force=options.force,
                               progress=options.progress)
    results, loose, db_url, iso = runner.grade_class(assignment, submissions, out=out, db=db,
                                                      settings=settings, root=root)
    root = Path(root) if root else find_root()
    out = Path(out).resolve() if out else root / "grading" / "runs" / assignment
    rows = report.build_rows(results, db_url, assignment)
    report.write_csv(rows, out / "grades.csv")
    report.plot_distribution(rows, out / "scores.png", f"{assignment}: {len(rows)} students")
    lines = ["", report.summary_table(rows)]
    if any(r.manual_pending for r in rows):
        lines.append("(+: written answers still to be graded by hand in the gradebook)")
    mistakes = report.common_mistakes(rows)
    lines.append("\ncommon mistakes (test cells failed):")
    lines += [f"  {t:<40} {n:>3}/{total} students" for t, n, total in mistakes] or ["  none"]
    if loose:
        lines.append(f"\nignored loose files beside the student folders: {', '.join(loose[:10])}")
    n_prob = sum(1 for r in rows if r.problems)
    lines.append(f"\n{len(rows)} students graded, {n_prob} with problems. Written to {out}:")
    lines.append(f"  grades.csv, scores.png, feedback/<student>/{assignment}/*.html, gradebook {db_url}")
    return "\n".join(lines)


def demo(out=None, options=Options(), root=None):
    """Grade the bundled sample class (``grading/sample_class/``) on an embedded SQLite
    gradebook; returns the summary to print."""
    root = Path(root) if root else find_root()
    sample = root / "grading" / "sample_class"
    if not sample.is_dir():
        raise CourseError(f"the sample class is missing: {sample}")
    out = Path(out) if out else root / "grading" / "demo-out"
    print(f"regloss demo: grading the sample class {sample.relative_to(root)} for {DEMO_ASSIGNMENT} "
          f"into {os.path.relpath(out, os.getcwd())}", flush=True)
    return grade(DEMO_ASSIGNMENT, sample, out=out, db=None, options=options, root=root)
