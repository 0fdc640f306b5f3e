"""Grading a class in parallel: one private nbgrader course per student, N at a time.

The parent (:func:`grade_class`) reads the submissions, prepares the instructor
area and the main gradebook, then hands each gradable student to a worker
*process* (``python -m regloss.grading.runner --worker``, under ``unshare --net``
where allowed) that runs nbgrader's ``autograde`` and ``generate_feedback`` (its
Python API) in that student's workspace, with a wall-clock limit on the whole
process. The parent merges each finished student into the main gradebook
serially, one transaction per student, and records them in ``DIR/state.json``:
a re-run skips students already graded from the same files, and a run that was
interrupted is completed by the next one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from regloss import course
from regloss.course import CourseError
from regloss.grading import gradebook, intake, isolate
from regloss.grading.isolate import ACCESS_LOG

STATE_VERSION = 1
# shared scratch space: other users' and tools' files (executed solution notebooks, ...)
TEMP_DIRS = list(dict.fromkeys([tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]))


@dataclass
class Settings:
    workers: int = 0  # 0: the number of cores
    timeout: int = 60  # seconds per cell
    memory_mb: int = isolate.DEFAULT_MEMORY_MB
    max_output: int = isolate.DEFAULT_MAX_OUTPUT
    sandbox: bool = True
    force: bool = False  # regrade students already graded from the same files
    progress: bool = True


@dataclass
class StudentResult:
    student_id: str
    problems: list = field(default_factory=list)
    graded: bool = False  # autograded by nbgrader (False: scored 0 without running)
    feedback: str = ""  # path of the feedback HTML, relative to DIR
    seconds: float = 0.0
    digest: str = ""
    key: str = ""


# --------------------------------------------------------------------------- worker process


def worker_main(argv):
    """``python -m regloss.grading.runner --worker COURSE DB ASSIGNMENT STUDENT TIMEOUT RESULT``."""
    course_dir, db, assignment, student, timeout, result = argv
    if os.environ.pop("REGLOSS_NETNS", "0") == "1":
        isolate.bring_up_loopback()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(Path(course_dir) / "grading")).load_config()
    cfg.CourseDirectory.root = course_dir
    cfg.CourseDirectory.db_url = gradebook.sqlite_url(db)
    cfg.Execute.timeout = int(timeout)
    cfg.Execute.kernel_name = isolate.KERNEL_NAME
    cfg.Execute.startup_timeout = 120
    cfg.OverwriteCells.add_missing_cells = True
    coursedir = CourseDirectory(config=cfg)
    api = NbGraderAPI(coursedir=coursedir, config=cfg)
    out = {"autograde": api.autograde(assignment, student, force=True, create=True)}
    if out["autograde"].get("success"):
        out["feedback"] = api.generate_feedback(assignment, student, force=True)
    for v in out.values():
        for k in ("log", "error"):
            if isinstance(v.get(k), str) and len(v[k]) > 50_000:
                v[k] = v[k][:20_000] + "\n...\n" + v[k][-20_000:]
    Path(result).write_text(json.dumps(out))


# --------------------------------------------------------------------------- problems


def changed_tests(submitted: Path, release_nb):
    """Problems for the release's test cells (and read-only cells) that a submitted
    notebook deleted or edited; nbgrader restores both from the gradebook."""
    try:
        nb = nbformat.read(str(submitted), as_version=4)
    except Exception:  # noqa: BLE001 - checked at intake
        return []
    got = {}
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id") if isinstance(c.get("metadata"), dict) else None
        if gid and gid not in got:
            got[gid] = c.source
    found = []
    for c in release_nb.cells:
        m = c.metadata.get("nbgrader", {})
        gid = m.get("grade_id")
        if not gid or m.get("solution") or not (m.get("grade") or m.get("locked")):
            continue
        if gid not in got:
            if m.get("grade"):
                found.append(f"test cell {gid} was deleted; restored and run as released")
        elif got[gid].strip() != c.source.strip():
            what = "test cell" if m.get("grade") else "read-only cell"
            found.append(f"{what} {gid} was edited; graded as released")
    return found


def problems_from_run(log: str, notebooks, timeout: int, memory_mb: int):
    """What went wrong, in words, from nbgrader's log and the autograded notebooks."""
    found = []
    for nb in notebooks:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            where = meta.get("grade_id") or f"cell {i + 1}"
            is_test = meta.get("grade") and not meta.get("solution")
            for o in cell.get("outputs", []):
                if o.output_type == "error":
                    if o.ename == "CellTimeoutError":
                        found.append(f"{where} timed out after {timeout} s (endless loop?)")
                    elif o.ename == "MemoryError":
                        found.append(f"{where} ran out of memory (cap {memory_mb} MB)")
                    elif o.ename == "SystemExit" or "os._exit" in o.get("evalue", "") or "os.abort" in o.get("evalue", ""):
                        found.append(f"{where} tried to stop the kernel ({o.ename}: {o.get('evalue', '')[:80]})")
                elif o.output_type == "stream":
                    if "[regloss: output truncated" in o.text or "Output truncated" in o.text:
                        found.append(f"{where}: output truncated")
                    elif o.name == "stderr" and is_test:
                        found.append(f"{where} wrote to stderr (nbgrader scores it 0)")
    return list(dict.fromkeys(found))


def outside_access_problem(log_path: Path):
    """The problem to state when the sandbox kernel saw cells look outside their folder."""
    if not log_path.is_file():
        return []
    paths = list(dict.fromkeys(p for p in log_path.read_text(errors="replace").splitlines() if p))
    if not paths:
        return []
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return [f"looked for files outside its folder ({shown})"]


# --------------------------------------------------------------------------- one student


@dataclass
class Job:
    index: int
    sub: intake.Submission
    key: str


class Run:
    """Everything one ``regloss grade`` run shares between its threads."""

    def __init__(self, root, ia, db_url, out, settings, iso, hide):
        self.root, self.ia, self.db_url, self.out = root, ia, db_url, out
        self.s, self.iso, self.hide = settings, iso, hide
        self.tmp = Path(tempfile.mkdtemp(prefix="regloss-run-"))
        os.chmod(self.tmp, 0o700)
        self.share = self.tmp / "share"
        isolate.write_kernelspec(self.share, iso, settings.memory_mb, settings.max_output)
        self.procs = {}
        self.lock = threading.Lock()
        self.stopping = False
        n_code = sum(1 for name in ia.notebook_names()
                     for c in nbformat.read(str(ia.source / name), as_version=4).cells if c.cell_type == "code")
        self.wall = settings.timeout * (n_code + 4) + 180
        self.releases = {name: nbformat.read(str(ia.release / name), as_version=4) for name in ia.notebook_names()}

    def close(self):
        if not os.environ.get("REGLOSS_KEEP_WORKSPACES"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def kill_all(self):
        self.stopping = True
        with self.lock:
            procs = list(self.procs.values())
        for p in procs:
            _kill_tree(p.pid)

    def workspace(self, job: Job):
        ws = self.tmp / f"s{job.index:05d}"
        a = self.ia.assignment
        crs = ws / "course"
        (crs / "grading").mkdir(parents=True)
        shutil.copy(self.ia.root / course.CONFIG, crs / course.CONFIG)
        # the assignment's support files (autograde restores them), never its notebook
        shutil.copytree(self.ia.source, crs / "solutions" / a,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"))
        intake.place(job.sub, crs / "grading" / "submitted" / job.sub.student_id / a)
        (ws / "private").mkdir()
        shutil.copy(self.ia.template_db, ws / "private" / "gradebook.db")
        (crs / "runtime").mkdir()
        return ws

    def _attempt(self, job: Job, ws: Path, env):
        """Run the worker process once; returns (its result dict, problem or None)."""
        cmd = [*self.iso.net_prefix(), sys.executable, "-m", "regloss.grading.runner", "--worker",
               str(ws / "course"), str(ws / "private" / "gradebook.db"), self.ia.assignment,
               job.sub.student_id, str(self.s.timeout), str(ws / "result.json")]
        (ws / "result.json").unlink(missing_ok=True)
        problem = None
        with open(ws / "worker.log", "wb") as log:
            if self.stopping:
                raise KeyboardInterrupt
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, cwd=str(ws), start_new_session=True)
            with self.lock:
                self.procs[job.index] = p
            try:
                p.wait(timeout=self.wall)
            except subprocess.TimeoutExpired:
                _kill_tree(p.pid)
                p.wait()
                problem = f"grading stopped after {self.wall} s (the notebook never finished); scored 0"
            finally:
                with self.lock:
                    self.procs.pop(job.index, None)
        if self.stopping:
            raise KeyboardInterrupt
        out = {}
        if (ws / "result.json").is_file():
            out = json.loads((ws / "result.json").read_text())
        elif problem is None:
            tail = (ws / "worker.log").read_text(errors="replace")[-300:].strip().splitlines()
            problem = "the grading process failed" + (f" ({tail[-1]})" if tail else "") + "; scored 0"
        return out, problem

    def _neutralise_crash(self, job: Job, ws: Path):
        """After a kernel death: replace the student's cell that was running (logged by the
        sandbox kernel) by one that raises, so the rest of the notebook can be graded.
        Returns the cell's label, or None when it is not the student's own cell."""
        logged = ws / "course" / "runtime" / "last_cell.txt"
        if not logged.is_file():
            return None
        raw = logged.read_text(errors="replace")
        a, sid = self.ia.assignment, job.sub.student_id
        for name in self.ia.notebook_names():
            path = ws / "course" / "grading" / "submitted" / sid / a / name
            if not path.is_file():
                continue
            nb = nbformat.read(str(path), as_version=4)
            for i, cell in enumerate(nb.cells):
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
                    continue
                if cell.source.strip() == raw.strip():
                    cell.source = ("raise RuntimeError('regloss: this cell crashed the kernel during grading, "
                                   "so it was not run')")
                    nbformat.write(nb, str(path))
                    return meta.get("grade_id") or f"cell {i + 1}"
        return None

    def _reset_workspace(self, job: Job, ws: Path):
        shutil.copy(self.ia.template_db, ws / "private" / "gradebook.db")
        for kind in ("autograded", "feedback"):
            shutil.rmtree(ws / "course" / "grading" / kind, ignore_errors=True)
        (ws / "course" / "runtime" / "last_cell.txt").unlink(missing_ok=True)
        (ws / "course" / "runtime" / ACCESS_LOG).unlink(missing_ok=True)

    def grade(self, job: Job) -> tuple:
        """Autograde one student in a worker process; returns (result, ws)."""
        t0 = time.monotonic()
        res = StudentResult(job.sub.student_id, list(job.sub.problems), digest=job.sub.digest, key=job.key)
        for name, path in job.sub.notebooks.items():
            res.problems.extend(changed_tests(path, self.releases[name]))
        ws = self.workspace(job)
        env = course.tool_env({
            "JUPYTER_PATH": str(self.share),
            "JUPYTER_RUNTIME_DIR": str(ws / "course" / "runtime"),
            "TMPDIR": str(ws / "course" / "runtime"),  # connection files: visible to the kernel
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "REGLOSS_NETNS": "1" if self.iso.network else "0",
            "REGLOSS_KEEP": str(ws / "course"),
            "REGLOSS_CELL_LOG": str(ws / "course" / "runtime" / "last_cell.txt"),
            "REGLOSS_ACCESS_LOG": str(ws / "course" / "runtime" / ACCESS_LOG),
            "REGLOSS_HIDE": os.pathsep.join(str(h) for h in [
                *self.hide, self.tmp, *TEMP_DIRS,
                ws / "course" / "grading" / "submitted", ws / "course" / "grading" / "feedback"]),
        })
        for attempt in range(3):
            out, problem = self._attempt(job, ws, env)
            ag = out.get("autograde", {})
            log_text = (ag.get("log") or "") + "\n" + (ag.get("error") or "")
            res.graded = bool(ag.get("success"))
            dead = "DeadKernelError" in log_text or "ernel died" in log_text
            if res.graded or problem or not dead or attempt == 2:
                break
            cell = self._neutralise_crash(job, ws)
            if cell is None:
                break
            res.problems.append(f"{cell} crashed the Python kernel; graded without running it")
            self._reset_workspace(job, ws)
        if problem:
            res.problems.append(problem)
        elif not res.graded:
            why = "nbgrader could not grade the notebook"
            if dead:
                why = "the notebook crashed the Python kernel"
            elif "CellTimeoutError" in log_text or "Timeout" in log_text:
                why = "the kernel stopped responding"
            res.problems.append(f"{why}; scored 0")
        nbs = []
        if res.graded:
            adir = ws / "course" / "grading" / "autograded" / job.sub.student_id / self.ia.assignment
            for name in self.ia.notebook_names():
                if (adir / name).is_file():
                    try:
                        nbs.append(nbformat.read(str(adir / name), as_version=4))
                    except Exception:  # noqa: BLE001
                        pass
            res.problems.extend(problems_from_run(log_text, nbs, self.s.timeout, self.s.memory_mb))
        res.problems.extend(outside_access_problem(ws / "course" / "runtime" / ACCESS_LOG))
        res.seconds = time.monotonic() - t0
        return res, ws

    def finish(self, res: StudentResult, ws):
        """Merge one graded student into the main gradebook and keep their files (parent, serial)."""
        sid, a = res.student_id, self.ia.assignment
        ok = False
        if res.graded:
            ok = gradebook.merge_student(self.db_url, ws / "private" / "gradebook.db", a, sid)
            if not ok:
                res.problems.append("nbgrader recorded no grades; scored 0")
                res.graded = False
        if not ok:
            gradebook.record_zero(self.db_url, a, sid)
        for kind in ("autograded", "feedback"):
            dest = self.out / kind / sid / a
            if dest.exists():
                shutil.rmtree(dest)
            src = ws / "course" / "grading" / kind / sid / a if ws else None
            if src is not None and src.is_dir() and res.graded:
                shutil.copytree(src, dest)
        fb = self.out / "feedback" / sid / a
        if not res.graded:
            write_plain_feedback(fb, a, sid, res.problems)
        htmls = sorted(fb.glob("*.html"))
        res.feedback = str(htmls[0].relative_to(self.out)) if htmls else ""
        if ws is not None and not os.environ.get("REGLOSS_KEEP_WORKSPACES"):
            shutil.rmtree(ws, ignore_errors=True)


def write_plain_feedback(folder: Path, assignment, student_id, problems):
    """Feedback for a submission nbgrader could not run."""
    import html

    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems) or "<li>no notebook could be graded</li>"
    (folder / "feedback.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(assignment)}: {html.escape(student_id)}</title>"
        f"<h1>{html.escape(assignment)} — feedback for {html.escape(student_id)}</h1>"
        f"<p>Your submission could not be run, so every exercise scored 0:</p><ul>{items}</ul>"
        "<p>Submit the assignment's notebook, under its original name, as saved by Jupyter.</p>"
    )


def _kill_tree(pid):
    """Kill a worker and every process it started (nbgrader starts kernels in their own sessions)."""
    try:
        import psutil

        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
        for q in procs:
            try:
                q.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(procs, timeout=10)
    except Exception:  # noqa: BLE001 - already gone
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


# --------------------------------------------------------------------------- state


def load_state(out: Path):
    p = out / "state.json"
    if p.is_file():
        try:
            s = json.loads(p.read_text())
            if s.get("version") == STATE_VERSION:
                return s
        except (OSError, json.JSONDecodeError):
            pass
    return {"version": STATE_VERSION, "students": {}}


def save_state(out: Path, state):
    tmp = out / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, out / "state.json")


# --------------------------------------------------------------------------- the class


def grade_class(assignment, submissions, out=None, db=None, settings=None, root=None, log=print):
    """Grade every student of ``submissions`` for ``assignment``; see ``regloss grade --help``.

    Returns
    -------
    (list of StudentResult, list of str, str, Isolation)
        Every student's result (sorted by id), loose files ignored, the gradebook
        URL, and the isolation that was in force.
    """
    s = settings or Settings()
    os.environ["PATH"] = course.tool_env()["PATH"]  # the Gradebook API runs `alembic`
    root = Path(root) if root else course.find_root()
    course.check_assignment(assignment, root)
    out = Path(out) if out else root / "grading" / "runs" / assignment
    out = out.resolve()
    subs_path = Path(submissions)
    if not subs_path.exists():
        raise CourseError(f"submissions not found: {subs_path}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / ".write-test").write_text("")
        (out / ".write-test").unlink()
    except OSError as exc:
        raise CourseError(f"cannot write to the output folder {out}: {exc}") from exc
    db_url = db or gradebook.sqlite_url(out / "gradebook.db")
    class_root = intake.open_submissions(subs_path, out / "intake")
    ia = gradebook.prepare_instructor_area(root, assignment, out)
    gradebook.prepare_main_gradebook(ia, db_url)
    expected = ia.notebook_names()
    ids = {n: {c.metadata.get("nbgrader", {}).get("grade_id") for c in
               nbformat.read(str(ia.source / n), as_version=4).cells} - {None} for n in expected}
    subs, loose = intake.read_class(class_root, expected, ids)
    if not subs:
        raise CourseError(f"no student folders in {subs_path} (expected one sub-folder per student)")

    state = load_state(out)
    settings_key = f"{ia.source_digest}:{s.timeout}:{s.memory_mb}:{s.max_output}"
    results, todo = {}, []
    in_gradebook = gradebook.class_cells(db_url, assignment, [sub.student_id for sub in subs])
    for i, sub in enumerate(subs):
        key = f"{sub.digest}:{settings_key}"
        prev = state["students"].get(sub.student_id)
        if not s.force and prev and prev.get("key") == key and sub.student_id in in_gradebook:
            results[sub.student_id] = StudentResult(**{k: v for k, v in prev.items()})
        else:
            todo.append(Job(i, sub, key))

    hide = [root / "solutions", root / "grading", out, subs_path.resolve(), class_root]
    iso = isolate.probe(s.sandbox)
    workers = s.workers or os.cpu_count() or 1
    log(f"grading {assignment}: {len(subs)} students ({len(subs) - len(todo)} already graded), "
        f"{workers} workers, {s.timeout} s per cell, {s.memory_mb} MB per kernel")
    log(f"isolation: {iso.describe()}")

    def record(res):
        results[res.student_id] = res
        state["students"][res.student_id] = asdict(res)
        save_state(out, state)

    run = Run(root, ia, db_url, out, s, iso, hide)
    bar = None
    try:
        gradable = [j for j in todo if j.sub.gradable]
        for j in todo:
            if not j.sub.gradable:  # nothing to run: 0, with the reason
                res = StudentResult(j.sub.student_id, list(j.sub.problems), digest=j.sub.digest, key=j.key)
                res.problems.append("scored 0") if not any("scored 0" in p for p in res.problems) else None
                run.finish(res, None)
                record(res)
        if gradable:
            from tqdm import tqdm

            bar = tqdm(total=len(gradable), desc=f"grading {assignment}", unit="student",
                       disable=not s.progress, file=sys.stderr)
            with ThreadPoolExecutor(max_workers=workers) as ex:
                pending = {ex.submit(run.grade, j): j for j in gradable}
                try:
                    while pending:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for f in done:
                            j = pending.pop(f)
                            try:
                                res, ws = f.result()
                            except KeyboardInterrupt:
                                raise
                            except Exception as exc:  # noqa: BLE001 - one student must not stop the class
                                res = StudentResult(j.sub.student_id, [*j.sub.problems,
                                                    f"grading failed ({type(exc).__name__}: {exc}); scored 0"],
                                                    digest=j.sub.digest, key=j.key)
                                ws = run.tmp / f"s{j.index:05d}"
                            run.finish(res, ws)
                            record(res)
                            bar.update(1)
                except BaseException:
                    for f in pending:
                        f.cancel()
                    run.kill_all()
                    raise
    finally:
        if bar is not None:
            bar.close()
        run.close()
    ordered = [results[sub.student_id] for sub in subs]
    return ordered, loose, db_url, iso


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker_main(sys.argv[2:])
