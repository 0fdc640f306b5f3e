"""The worker's nbgrader process: autograde one student, record the judge's verdicts,
write the feedback.

The worker (:mod:`regloss.grading.worker.student`) starts ``python -m
regloss.grading.worker.autograde REQUEST.json`` (without network where allowed). It
runs nbgrader's ``autograde`` through its Python API, in the student's private
course, with the sandbox kernel; then, when the request holds the judge's
verdicts, writes them into the private gradebook (a test cell scores its points
only when the judge passed it) and generates the feedback from a copy of the
autograded notebook prepared by :mod:`regloss.grading.worker.feedback`. It reports in
``REPORT.json`` (:class:`AutogradeReport`).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from regloss.grading.settings import CarriesSettings, Settings


@dataclass
class AutogradeRequest(CarriesSettings):
    """What the worker asks of its nbgrader process.

    Attributes
    ----------
    course : str
        The student's private course folder.
    db : str
        The private SQLite gradebook file.
    assignment, student_id : str
    settings : Settings
        The run's settings (``timeout``: seconds per cell; ``feedback_hidden``: what the
        feedback shows of a hidden test).
    kernel : str
        The kernel's name (the sandbox kernel).
    netns : bool
        The process runs in a fresh network namespace: bring up ``lo`` first.
    verdicts : list of dict or None
        ``CellVerdict`` fields per test cell; None: no judge, keep nbgrader's scores.
    tests : dict
        grade id -> True for the test cells that hold hidden tests, False for the others.
    report : str
        Where to write the :class:`AutogradeReport` (JSON).
    """

    course: str
    db: str
    assignment: str
    student_id: str
    settings: Settings
    kernel: str
    report: str
    netns: bool = False
    verdicts: list | None = None
    tests: dict = field(default_factory=dict)


@dataclass
class AutogradeReport:
    """What the nbgrader process found.

    Attributes
    ----------
    success : bool
        nbgrader autograded the notebook.
    log : str
        nbgrader's log and error (shortened).
    kernel_passed : dict
        grade id -> whether the test cell passed in the student's kernel.
    feedback : bool
        Feedback HTML was written.
    """

    success: bool = False
    log: str = ""
    kernel_passed: dict = field(default_factory=dict)
    feedback: bool = False


def _short(text, limit=50_000):
    return text if len(text) <= limit else text[:20_000] + "\n...\n" + text[-20_000:]


def apply_verdicts(db_url, assignment, student_id, tests, verdicts):
    """Score each test cell of the private gradebook from the judge: full points
    where it passed, 0 where it failed or has no verdict (a cell the judge could
    not check keeps nbgrader's score). Returns
    ``{grade id: passed in the kernel}`` read before the change."""
    from nbgrader.api import Gradebook

    by_id = {v["grade_id"]: v for v in verdicts}
    kernel = {}
    with Gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student_id)
        for nb in sub.notebooks:
            for g in nb.grades:
                if g.name not in tests:
                    continue
                kernel[g.name] = g.auto_score is not None and g.auto_score >= g.max_score
                v = by_id.get(g.name)
                if v is not None and v.get("judged", True) is False:
                    continue  # the test cannot be checked outside the kernel: nbgrader's score stands
                g.auto_score = float(g.max_score) if v is not None and v["passed"] else 0.0
        gb.db.commit()
    return kernel


def kernel_scores(db_url, assignment, student_id, tests):
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student_id)
        return {g.name: g.auto_score is not None and g.auto_score >= g.max_score
                for nb in sub.notebooks for g in nb.grades if g.name in tests}


def run(req: AutogradeRequest) -> AutogradeReport:
    """Autograde, apply the verdicts, write the feedback (see the module docstring)."""
    if req.netns:
        from regloss.grading.sandboxed.isolation import bring_up_loopback

        bring_up_loopback()
    import nbformat
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    from regloss.course.nbgrader_tool import sqlite_url
    from regloss.grading.wire.jobs import FEEDBACK_SOURCE
    from regloss.grading.worker import feedback, hidden_tests, output_cap
    from regloss.grading.worker.inert import make_inert
    from regloss.grading.worker.kernel_manager import SandboxKernelManager
    from regloss.grading.worker.wrapped import wrap_errors

    course = Path(req.course)
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course / "grading")).load_config()
    cfg.CourseDirectory.root = str(course)
    cfg.CourseDirectory.db_url = sqlite_url(req.db)
    cfg.Execute.timeout = int(req.settings.timeout)
    cfg.Execute.kernel_name = req.kernel
    cfg.Execute.startup_timeout = 120
    # the kernel is killed when the notebook is done (its logs are written after each
    # cell): a polite shutdown request waits up to 0.1 s more per student for nothing
    cfg.Execute.shutdown_kernel = "immediate"
    cfg.Execute.kernel_manager_class = f"{SandboxKernelManager.__module__}.{SandboxKernelManager.__qualname__}"
    cfg.OverwriteCells.add_missing_cells = True
    output_cap.configure(cfg, req.settings.max_total_output)
    withheld = hidden_tests.withheld(req.verdicts, req.tests, req.settings.feedback_hidden)
    hidden_tests.configure(cfg, withheld)
    feedback.configure(cfg)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    out = AutogradeReport()
    ag = api.autograde(req.assignment, req.student_id, force=True, create=True)
    out.success = bool(ag.get("success"))
    out.log = _short((ag.get("log") or "") + "\n" + (ag.get("error") or ""))
    if not out.success:
        return out
    db_url = sqlite_url(req.db)
    if req.verdicts is not None:
        out.kernel_passed = apply_verdicts(db_url, req.assignment, req.student_id, req.tests, req.verdicts)
    else:
        out.kernel_passed = kernel_scores(db_url, req.assignment, req.student_id, req.tests)
    if not req.settings.feedback:  # the scores are recorded: a check answers in JSON, with no page
        return out
    adir = course / "grading" / "autograded" / req.student_id / req.assignment
    for nbfile in sorted(adir.glob("*.ipynb")):  # inert before the feedback, and as formgrader will show it
        nb = nbformat.read(str(nbfile), as_version=4)
        hidden_tests.restore(nb)
        make_inert(nb)
        wrap_errors(nb)
        for cell in nb.cells:  # formgrader's page loads MathJax from a CDN: its maths offline too
            if cell.cell_type == "markdown":
                cell.source = feedback.render_math(cell.source)
        nbformat.write(nb, str(nbfile))
    kept = course / "runtime" / "autograded-original"
    shutil.copytree(adir, kept, dirs_exist_ok=True)
    try:  # feedback is rendered from a copy made for the student: no hidden source
        verdicts = {v["grade_id"]: v for v in (req.verdicts or [])}
        for nbfile in sorted(adir.glob("*.ipynb")):
            feedback.prepare_notebook(nbfile, verdicts, req.tests, req.settings.feedback_hidden, withheld)
        fb = api.generate_feedback(req.assignment, req.student_id, force=True)
        out.log = _short(out.log + "\n" + (fb.get("log") or "") + (fb.get("error") or ""))
        fdir = course / "grading" / "feedback" / req.student_id / req.assignment
        for html in sorted(fdir.glob("*.html")):
            feedback.finish_html(html)
        out.feedback = bool(fb.get("success"))
        if out.feedback:  # what the page was rendered from, for the page with the hand grades later
            shutil.copytree(adir, course / "grading" / FEEDBACK_SOURCE / req.student_id / req.assignment,
                            dirs_exist_ok=True)
    finally:
        shutil.rmtree(adir)
        shutil.copytree(kept, adir)
    return out


def main(argv):
    req = AutogradeRequest.read(argv[0])
    report = run(req)
    Path(req.report).write_text(json.dumps(asdict(report)))


if __name__ == "__main__":
    main(sys.argv[1:])
