"""What a grading run hands back: grades.csv, the summary table, the class's common
mistakes (failing cells, and the misconceptions diagnosed: mistakes.csv and a bar
chart), and a PNG of the score distribution. The LMS gradebooks are in
:mod:`regloss.grading.lms`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from regloss.course import cells as nbcells
from regloss.grading.report.spreadsheet import Writer
from regloss.grading.run import gradebook

COLUMNS = ["student_id", "score", "max_score", "auto_score", "auto_max_score",
           "manual_pending", "problems", "feedback", "late"]
MISTAKE_COLUMNS = ["mistake", "function", "students", "count", "description", "student_ids"]


@dataclass
class Row:
    student_id: str
    score: float
    max_score: float
    auto_score: float
    auto_max_score: float
    manual_pending: float  # points of written answers still to be graded by hand
    problems: str
    feedback: str
    failed_tests: list = field(default_factory=list)
    graded: bool = False
    late: bool = False  # the LMS export marked the submission late (Canvas: _LATE_)
    #: graded function -> (points its test cells earned, their maximum), in the notebook's order
    functions: dict = field(default_factory=dict)

    def functions_text(self) -> str:
        """``l1_loss 3/3, mse_loss 1.5/3``: the points per function, in words."""
        return ", ".join(f"{f} {_fmt(p)}/{_fmt(m)}" for f, (p, m) in self.functions.items())


def _fmt(x):
    return f"{x:g}"


def build_rows(results, db_url, assignment, infos=None):
    """One :class:`Row` per student, scores read back from the main gradebook;
    ``infos`` (``{student: StudentInfo}`` of the intake) gives lateness."""
    infos = infos or {}
    rows = []
    known = gradebook.class_cells(db_url, assignment, [r.student_id for r in results])
    for r in results:
        cells = known.get(r.student_id, [])
        tests = [c for c in cells if c.is_test]
        manual = [c for c in cells if not c.is_test]
        rows.append(Row(
            student_id=r.student_id,
            score=sum(c.score for c in cells),
            max_score=sum(c.max_score for c in cells),
            auto_score=sum(c.score for c in tests),
            auto_max_score=sum(c.max_score for c in tests),
            manual_pending=sum(c.max_score for c in manual if c.needs_manual_grade),
            problems="; ".join(r.problems),
            feedback=r.feedback,
            failed_tests=[c.name for c in tests if c.score < c.max_score],
            graded=r.graded,
            late=bool(getattr(infos.get(r.student_id), "late", False)),
            functions=points_per_function(tests),
        ))
    return rows


def points_per_function(tests) -> dict[str, tuple[float, float]]:
    """``{function: (points, max)}`` of a student's test cells (``test_<function>__<tag>``), in
    their order: the points add up to the autograded score."""
    out: dict[str, tuple[float, float]] = {}
    for c in tests:
        function = nbcells.tested_function(c.name)
        points, top = out.get(function, (0.0, 0.0))
        out[function] = (points + c.score, top + c.max_score)
    return out


def function_columns(rows) -> list[str]:
    """The graded functions of a class, in the notebook's order (every student's, once)."""
    return list(dict.fromkeys(f for r in rows for f in r.functions))


def write_csv(rows, path: Path):
    """``grades.csv``: :data:`COLUMNS`, then one column per graded function (named after it)
    with the points its test cells earned; blank for a student with no graded notebook."""
    functions = function_columns(rows)
    with open(path, "w", newline="") as f:
        w = Writer(f)
        w.writerow(COLUMNS + functions)
        for r in rows:
            w.writerow([r.student_id, _fmt(r.score), _fmt(r.max_score), _fmt(r.auto_score),
                        _fmt(r.auto_max_score), _fmt(r.manual_pending), r.problems, r.feedback,
                        "yes" if r.late else "no",
                        *(_fmt(r.functions[fn][0]) if fn in r.functions else "" for fn in functions)])


def common_mistakes(rows):
    """``[(test cell, students failing it, students whose notebook ran)]``, most failed first."""
    ran = [r for r in rows if r.graded]
    counts = {}
    for r in ran:
        for t in r.failed_tests:
            counts[t] = counts.get(t, 0) + 1
    return sorted(((t, n, len(ran)) for t, n in counts.items()), key=lambda x: (-x[1], x[0]))


def summary_table(rows, width=60):
    """The terminal table: student, score (the total grades.csv shows; ``+``: written answers
    still to be graded), problems (shortened)."""
    sid_w = max([len("student")] + [len(r.student_id) for r in rows])
    lines = [f"{'student':<{sid_w}}  {'score':>11}  problems", f"{'-' * sid_w}  {'-' * 11}  {'-' * 8}"]
    for r in rows:
        score = f"{_fmt(r.score)}/{_fmt(r.max_score)}"  # as grades.csv: hand-graded points included
        if r.manual_pending:
            score += "+"
        probs = r.problems if len(r.problems) <= width else r.problems[: width - 3] + "..."
        lines.append(f"{r.student_id:<{sid_w}}  {score:>11}  {probs}")
    return "\n".join(lines)


#: Up to this many points, the histogram has a bar per point.
MAX_POINT_BINS = 40


def score_bins(top: float) -> list[float]:
    """Histogram edges for scores out of ``top``: bars centred on the scores they hold, one per
    point up to :data:`MAX_POINT_BINS` points (8/8 in the bar of 8, not of 7-8; 7.5 with 8), else 20 equal
    bars centred on multiples of ``top / 20`` (the full score in the last)."""
    width = 1.0 if top <= MAX_POINT_BINS else top / 20
    n = int(math.ceil(top / width - 1e-9))
    return [(i - 0.5) * width for i in range(n + 2)]


def plot_distribution(rows, path: Path, title):
    """A histogram of the autograded scores, saved as a PNG (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    scores = np.array([r.auto_score for r in rows], dtype=float)
    top = max([r.auto_max_score for r in rows] + [1.0])
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.hist(scores, bins=score_bins(top), color="#4c72b0", edgecolor="white")
    ax.axvline(scores.mean(), color="#c44e52", linestyle="--", label=f"mean {scores.mean():.1f}")
    ax.set_xlabel(f"autograded score (out of {top:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(title)
    edges = score_bins(top)
    ax.set_xlim(edges[0], edges[-1])
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_mistakes(tallies, path: Path):
    """``mistakes.csv``: one row per (mistake, function), most students first.

    Columns: ``mistake`` (a stable id of :data:`regloss.grading.report.mistakes.MISTAKES`),
    ``function``, ``students`` (how many made it), ``count`` (failing checks
    diagnosed so), ``description``, ``student_ids`` (space-separated).
    """
    with open(path, "w", newline="") as f:
        w = Writer(f)
        w.writerow(MISTAKE_COLUMNS)
        for t in tallies:
            w.writerow([t.mistake, t.function, len(t.students), t.count, t.description, " ".join(t.students)])


def mistakes_summary(tallies, limit=10, assignments=False):
    """The ranked list of misconceptions for the terminal: each with its students out of the
    students of its assignment (``assignments``: name the assignment too, for a course)."""
    if not tallies:
        return ["  none diagnosed"]
    lines = []
    for i, t in enumerate(tallies[:limit], 1):
        where = f"{t.assignment}: {t.function}" if assignments and t.assignment else t.function
        lines.append(f"  {i:>2}. {t.mistake:<22} in {where:<34} {len(t.students):>3}/{t.of} students"
                     f"  ({t.description})")
    if len(tallies) > limit:
        lines.append(f"  ... {len(tallies) - limit} more in mistakes.csv")
    return lines


def plot_mistakes(tallies, path: Path, title, limit=15):
    """A horizontal bar chart of the most common misconceptions (students per mistake), PNG."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    shown = tallies[:limit]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.4 * max(len(shown), 1)), dpi=100)
    if shown:
        labels = [f"{t.mistake} ({t.function})" for t in shown][::-1]
        ax.barh(labels, [len(t.students) for t in shown][::-1], color="#c44e52")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("students")
    else:
        ax.text(0.5, 0.5, "no mistakes diagnosed", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
