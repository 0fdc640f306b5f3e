"""The worker: grade one student, ``StudentJob -> StudentResult``.

:func:`grade_student` lays the job out in a private scratch folder (a course of
its own: the nbgrader configuration, the assignment's support files, the
student's submission, a private copy of the template gradebook), then

1. runs the judge (:mod:`regloss.grading.judge.judging`), which runs the instructor's
   test cells against proxies of the student's functions, the student's code
   living in a separate sandboxed answer process (:mod:`regloss.grading.sandboxed.answer`);
2. runs nbgrader (:mod:`regloss.grading.worker.autograde`) in its own process, without
   network, with the sandbox kernel (:mod:`regloss.grading.sandboxed.kernel`): it executes
   the notebook for the feedback, records the judge's verdict per test cell in
   the private gradebook and writes the feedback; a cell that kills the kernel
   is replaced by one that raises and the student is graded again;
3. collects the problems (:mod:`regloss.grading.wire.problems`) and returns the
   private gradebook, the autograded notebook and the feedback as bytes.

It needs nothing of the parent but the job: it can run in a thread of the
parent, or on a remote worker.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import nbformat

from regloss import course
from regloss.course import cells as nbcells
from regloss.grading.processes import Processes, run_process
from regloss.grading.programs import Program
from regloss.grading.sandboxed.environment import student_env
from regloss.grading.sandboxed.isolation import Isolation, SandboxSpec
from regloss.grading.sandboxed.kernel import KERNEL_NAME, write_kernelspec
from regloss.grading.sandboxed.walls import student_uid_lease
from regloss.grading.wire import problems as P
from regloss.grading.wire.jobs import FEEDBACK_SOURCE, CellVerdict, StudentJob, StudentResult, read_tree, write_tree
from regloss.grading.worker.memory_watch import MemoryWatch

#: The kernel's notes, in its runtime folder.
CELL_LOG = "last_cell.txt"
ACCESS_LOG = "outside_access.txt"

# shared scratch space: other users' and tools' files (executed solution notebooks, ...)
TEMP_DIRS = list(dict.fromkeys([tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]))


def test_cells(bundle):
    """``{notebook name: {grade id: holds hidden tests}}`` from the source notebooks."""
    out = {}
    for name in bundle.notebook_names():
        nb = nbformat.reads(bundle.source[name].decode("utf-8"), as_version=4)
        out[name] = {nbcells.grade_id(c): nbcells.holds_hidden_tests(c.source)
                     for c in nb.cells if nbcells.is_test(c)}
    return out


class Workspace:
    """The scratch folders of one student."""

    def __init__(self, job: StudentJob, scratch: Path):
        self.job = job
        self.root = Path(scratch) / f"s{job.index:05d}"
        self.course = self.root / "course"
        self.submitted = self.course / "grading" / "submitted" / job.student_id / job.bundle.assignment
        self.autograded = self.course / "grading" / "autograded" / job.student_id / job.bundle.assignment
        self.feedback = self.course / "grading" / "feedback" / job.student_id / job.bundle.assignment
        # the notebook the feedback page was rendered from (no hidden source): the parent renders
        # the page again from it once written answers are graded by hand
        self.feedback_source = (self.course / "grading" / FEEDBACK_SOURCE / job.student_id
                                / job.bundle.assignment)
        self.runtime = self.course / "runtime"
        self.db = self.root / "private" / "gradebook.db"
        self.judge = self.root / "judge"
        self.answer = self.root / "answer"

    def create(self):
        b = self.job.bundle
        if self.root.exists():
            shutil.rmtree(self.root)
        (self.course / "grading").mkdir(parents=True)
        (self.course / course.CONFIG).write_text(b.config)
        # the assignment's support files (autograde restores them), never its notebook
        write_tree(b.support_files(), self.course / "solutions" / b.assignment)
        write_tree(self.job.files, self.submitted)
        self.db.parent.mkdir()
        self.db.write_bytes(b.template_db)
        self.runtime.mkdir()

    def reset(self):
        self.db.write_bytes(self.job.bundle.template_db)
        for d in (self.autograded, self.feedback, self.feedback_source):
            shutil.rmtree(d, ignore_errors=True)
        (self.runtime / CELL_LOG).unlink(missing_ok=True)
        (self.runtime / ACCESS_LOG).unlink(missing_ok=True)


def _neutralise_crash(ws: Workspace):
    """After a kernel death: replace the student's cell that was running (logged by the
    sandbox kernel) by one that raises, so the rest of the notebook can be graded.
    Returns the cell's label, or None when it is not the student's own cell."""
    logged = ws.runtime / CELL_LOG
    if not logged.is_file():
        return None
    raw = logged.read_text(errors="replace")
    for name in ws.job.bundle.notebook_names():
        path = ws.submitted / name
        if not path.is_file():
            continue
        nb = nbformat.read(str(path), as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or nbcells.is_test(cell):
                continue
            if cell.source.strip() == raw.strip():
                cell.source = ("raise RuntimeError('regloss: this cell crashed the kernel during grading, "
                               "so it was not run')")
                nbformat.write(nb, str(path))
                return nbcells.grade_id(cell) or f"cell {i + 1}"
    return None


def _judge(job: StudentJob, ws: Workspace, iso: Isolation, env, procs, tests, uid: int, warm=None):
    """Run the judge on each notebook; returns (verdicts, problems, seconds)."""
    from regloss.grading.judge.request import JudgeReport, JudgeRequest

    t0 = time.monotonic()
    b = job.bundle
    write_tree(b.source, ws.judge)
    ws.answer.mkdir()
    # the answer process sees the student's own small files and, over them, the
    # assignment's support files (shipped answers) as the instructor wrote them
    write_tree({k: v for k, v in job.files.items() if not k.endswith(".ipynb") and "/" not in k}, ws.answer)
    write_tree(b.support_files(), ws.answer)
    verdicts, found = [], []
    for name in b.notebook_names():
        if not (ws.submitted / name).is_file():
            verdicts += [CellVerdict(gid, False, "the notebook was not submitted") for gid in tests[name]]
            continue
        req = JudgeRequest(
            source=str(ws.judge / name), student=str(ws.submitted / name), answer_dir=str(ws.answer),
            workdir=str(ws.judge), report=str(ws.root / f"judge-{name}.json"), assignment=b.assignment,
            settings=job.settings, network_isolated=iso.network, uid=uid,
            filesystem=iso.filesystem,
            hide=[*b.hide, str(ws.judge), str(ws.course), str(ws.root / "private"), *TEMP_DIRS])
        req_path = ws.root / f"judge-{name}.request.json"
        req.write(req_path)
        n_tests = max(1, len(tests[name]))
        wall = (job.settings.timeout + 5) * (n_tests + 4) + 120
        if warm is not None:  # forked by the warm process, with torch and regloss.checks imported
            ok = warm.run(req_path, env, ws.judge, ws.root / "judge.log", wall, procs, (job.index, "judge"),
                          kind="judge")
        else:
            ok = run_process([*iso.net_prefix(), *Program.JUDGE.argv(str(req_path))],
                             ws.root / "judge.log", env, ws.judge, wall, procs, (job.index, "judge"))
        report = JudgeReport.read(req.report) if Path(req.report).is_file() else None
        if report is None:
            why = "did not finish in time" if not ok else "stopped: " + _tail(ws.root / "judge.log")
            found.append(P.Problem(P.Kind.JUDGE_FAILED, f"the independent check of {name} {why}; its tests scored 0"))
            verdicts += [CellVerdict(gid, False, "the independent check could not run") for gid in tests[name]]
            continue
        verdicts += report.verdicts
        found += report.problems
    return verdicts, found, time.monotonic() - t0


def _kernel_stands(verdicts, kernel_passed, notebooks):
    """For the test cells the judge could not check (``judged`` False), record the
    kernel's pass or fail and message in their verdicts, which is what they score."""
    errors = {}
    for nb in notebooks:
        for c in nb.cells:
            gid = nbcells.grade_id(c)
            for o in c.get("outputs", []):
                if gid and o.get("output_type") == "error" and gid not in errors:
                    errors[gid] = f"{o.get('ename')}: {o.get('evalue')}"
    for v in verdicts:
        if not v.judged:
            v.passed = bool(kernel_passed.get(v.grade_id))
            v.message = "" if v.passed else errors.get(v.grade_id, "the test failed in the notebook")


def _tail(path):
    try:
        lines = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "?"
    return lines[-1][-200:] if lines else "?"


def grade_student(job: StudentJob, scratch: Path, iso: Isolation, procs: Processes | None = None,
                  warm=None) -> StudentResult:
    """Grade one student (see the module docstring).

    Parameters
    ----------
    job : StudentJob
    scratch : Path
        A private folder (mode 0700) for the worker's files; the student's
        sub-folder is removed at the end unless ``job.settings.keep_workspace``.
    iso : Isolation
        What the machine allows (:func:`regloss.grading.sandboxed.isolation.probe`).
    procs : Processes, optional
        Where the started processes are registered (for the parent's Ctrl-C).
    warm : WarmAutograder, optional
        A long-lived nbgrader process (:mod:`regloss.grading.worker.warm`) to autograde in, and
        to fork the judge from, instead of new ``python -m regloss.grading.worker.autograde``
        and ``python -m regloss.grading.judge.judging`` processes.

    Returns
    -------
    StudentResult
    """
    with student_uid_lease(job.index) as uid:  # no other job on this machine runs as this user meanwhile
        return _grade_student(job, scratch, iso, procs, warm, uid)


def _grade_student(job: StudentJob, scratch: Path, iso: Isolation, procs, warm, uid: int) -> StudentResult:
    t0 = time.monotonic()
    s, b = job.settings, job.bundle
    res = StudentResult(job.student_id, list(job.problems), digest=job.digest, key=job.key)
    ws = Workspace(job, scratch)
    ws.create()
    releases = {n: nbformat.reads(b.release[n].decode("utf-8"), as_version=4) for n in b.notebook_names()
                if n in b.release}
    for name, rel in releases.items():
        if (ws.submitted / name).is_file():
            try:
                sub_nb = nbformat.read(str(ws.submitted / name), as_version=4)
            except Exception:  # noqa: BLE001 - checked at intake
                continue
            res.problems.extend(P.changed_tests(sub_nb, rel))
    share = ws.root / "share"
    write_kernelspec(share, iso, s.memory_mb, s.max_output)
    spec = SandboxSpec(hide=[*b.hide, str(scratch), *TEMP_DIRS, str(ws.course / "grading" / "submitted"),
                             str(ws.course / "grading" / "feedback"), str(ws.course / "grading" / FEEDBACK_SOURCE)],
                       keep=[str(ws.course)], filesystem=iso.filesystem,
                       cell_log=str(ws.runtime / CELL_LOG), access_log=str(ws.runtime / ACCESS_LOG),
                       uid=uid)
    env = student_env({
        "JUPYTER_PATH": str(share),
        "JUPYTER_RUNTIME_DIR": str(ws.runtime),
        "TMPDIR": str(ws.runtime),  # connection files: visible to the kernel
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        **spec.to_env(),
    })
    tests = test_cells(b)
    all_tests = {gid: hidden for per in tests.values() for gid, hidden in per.items()}
    verdicts = None
    # behind the walls a student's processes are theirs alone: their memory is capped together
    watch = MemoryWatch(uid, s.memory_mb).start() if iso.own_users and s.memory_mb else None
    try:
        if s.judge:
            verdicts, found, res.judge_seconds = _judge(job, ws, iso, env, procs, tests, uid, warm)
            res.verdicts = verdicts
            res.problems.extend(found)
        n_code = sum(1 for n in b.notebook_names()
                     for c in nbformat.reads(b.source[n].decode("utf-8"), as_version=4).cells if c.cell_type == "code")
        wall = s.timeout * (n_code + 4) + 180
        from regloss.grading.worker.autograde import AutogradeReport, AutogradeRequest

        req = AutogradeRequest(course=str(ws.course), db=str(ws.db), assignment=b.assignment,
                               student_id=job.student_id, settings=s, kernel=KERNEL_NAME,
                               report=str(ws.root / "autograde.json"), netns=iso.network,
                               verdicts=[asdict(v) for v in verdicts] if verdicts is not None else None,
                               tests=all_tests)
        req.write(ws.root / "autograde.request.json")
        report, problem, dead = AutogradeReport(), None, False
        for attempt in range(3):
            (ws.root / "autograde.json").unlink(missing_ok=True)
            if warm is not None:
                ok = warm.run(ws.root / "autograde.request.json", env, ws.root, ws.root / "worker.log", wall,
                              procs, (job.index, "autograde"))
            else:
                ok = run_process([*iso.net_prefix(), *Program.AUTOGRADE.argv(),
                                  str(ws.root / "autograde.request.json")], ws.root / "worker.log", env, ws.root,
                                 wall, procs, (job.index, "autograde"))
            if (ws.root / "autograde.json").is_file():
                report = AutogradeReport(**json.loads((ws.root / "autograde.json").read_text()))
            elif not ok:
                problem = P.Problem(P.Kind.WALL_TIMEOUT,
                                    f"grading stopped after {wall} s (the notebook never finished); scored 0")
            else:
                problem = P.Problem(P.Kind.WORKER_FAILED,
                                    f"the grading process failed ({_tail(ws.root / 'worker.log')}); scored 0")
            dead = "DeadKernelError" in report.log or "ernel died" in report.log
            if report.success or problem or not dead or attempt == 2:
                break
            cell = _neutralise_crash(ws)
            if cell is None:
                break
            res.problems.append(P.Problem(P.Kind.KERNEL_CRASH, f"{cell} crashed the Python kernel; graded without "
                                                          "running it", cell))
            ws.reset()
        res.graded = report.success
        if problem:
            res.problems.append(problem)
        elif not res.graded:
            why = "nbgrader could not grade the notebook"
            if dead:
                why = "the notebook crashed the Python kernel"
            elif "CellTimeoutError" in report.log or "Timeout" in report.log:
                why = "the kernel stopped responding"
            res.problems.append(P.Problem(P.Kind.NOT_GRADED, f"{why}; scored 0"))
        if res.graded:
            nbs = []
            for name in b.notebook_names():
                if (ws.autograded / name).is_file():
                    try:
                        nbs.append(nbformat.read(str(ws.autograded / name), as_version=4))
                    except Exception:  # noqa: BLE001
                        pass
            res.problems.extend(P.kernel_problems(nbs, s.timeout, s.memory_mb))
            if verdicts is not None:
                from regloss.grading.worker import hidden_tests

                withheld = hidden_tests.withheld([asdict(v) for v in verdicts], all_tests, s.feedback_hidden)
                res.problems.extend(P.judge_disagreements(report.kernel_passed, verdicts, withheld))
                _kernel_stands(verdicts, report.kernel_passed, nbs)
            res.gradebook = ws.db.read_bytes()
            if s.feedback:  # without a page (a check of the service), the notebook was not made inert either
                res.outputs = {**{f"autograded/{k}": v for k, v in read_tree(ws.autograded).items()},
                               **{f"feedback/{k}": v for k, v in read_tree(ws.feedback).items()},
                               **{f"{FEEDBACK_SOURCE}/{k}": v for k, v in read_tree(ws.feedback_source).items()}}
        log = ws.runtime / ACCESS_LOG
        if log.is_file():
            res.problems.extend(P.outside_access(log.read_text(errors="replace").splitlines()))
        if watch is not None:
            watch.stop()
            if watch.problem():
                res.problems.append(P.Problem(P.Kind.MEMORY, watch.problem() or ""))
        res.problems = P.unique(res.problems)
    finally:
        if watch is not None:
            watch.stop()
        if not s.keep_workspace:
            shutil.rmtree(ws.root, ignore_errors=True)
    res.seconds = time.monotonic() - t0
    return res
