"""Grading at scale against real services the tests start themselves: a PostgreSQL
gradebook (two runs merging into one server at the same time), a Dask cluster
(grades equal a local run's), and the warm worker (one student leaves nothing
behind for the next)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.harness import solution_sources
from tests.services import create_database

pytestmark = pytest.mark.slow  # PostgreSQL, Dask and the regloss command

ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = "30"

WRONG = {  # one realistic mistake per assignment, so the class's scores differ
    "01_l1_mse": {"l1_loss": 'def l1_loss(input, target, reduction="mean"):\n'
                             '    import numpy as np\n'
                             '    return np.sum(np.abs(np.asarray(input) - np.asarray(target)))\n'},
    "02_huber": {"huber_loss": 'def huber_loss(input, target, reduction="mean", delta=1.0):\n'
                               '    import numpy as np\n'
                               '    e = np.asarray(input) - np.asarray(target)\n'
                               '    return np.mean(0.5 * e ** 2)\n'},
}


def submission(assignment, replace=None):
    """The release with every solution filled in (then ``replace`` some solution cells)."""
    sol = dict(solution_sources(assignment), **(replace or {}))
    nb = nbformat.read(str(ROOT / "notebooks" / assignment / f"{assignment}.ipynb"), as_version=4)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sol:
            c.source = sol[gid]
    return nb


def make_class(folder: Path, assignment, n_good=1, n_wrong=1, blank=True):
    """A small class: ``n_good`` perfect submissions, ``n_wrong`` with one mistake, a blank one."""
    kinds = {f"good{i}": submission(assignment) for i in range(n_good)}
    kinds.update({f"wrong{i}": submission(assignment, WRONG[assignment]) for i in range(n_wrong)})
    if blank:
        kinds["blank"] = nbformat.read(str(ROOT / "notebooks" / assignment / f"{assignment}.ipynb"), as_version=4)
    for sid, nb in kinds.items():
        (folder / sid).mkdir(parents=True)
        nbformat.write(nb, str(folder / sid / f"{assignment}.ipynb"))
    return folder


def env():
    return dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def grade_cmd(assignment, subs, out, *extra):
    return [sys.executable, "-m", "regloss", "grade", assignment, str(subs), "--out", str(out),
            "--timeout", TIMEOUT, "--no-progress", *extra]


def regloss_grade(assignment, subs, out, *extra):
    p = subprocess.run(grade_cmd(assignment, subs, out, *extra), capture_output=True, text=True,
                       cwd=ROOT, env=env())
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def read_grades(out: Path):
    with open(out / "grades.csv", newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def server_scores(db_url, assignment):
    """``{student: (score, max_score)}`` read from the PostgreSQL server with plain SQL
    (nbgrader's schema: grade -> submitted_notebook -> submitted_assignment)."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            SELECT sa.student_id,
                   SUM(COALESCE(g.manual_score, g.auto_score, 0) + COALESCE(g.extra_credit, 0)),
                   SUM(COALESCE(gc.max_score_gradecell, gc.max_score_taskcell, 0))
            FROM grade g
            JOIN submitted_notebook sn ON g.notebook_id = sn.id
            JOIN submitted_assignment sa ON sn.assignment_id = sa.id
            JOIN assignment a ON sa.assignment_id = a.id
            LEFT JOIN (SELECT b.id, gcl.max_score AS max_score_gradecell, tc.max_score AS max_score_taskcell
                       FROM base_cell b LEFT JOIN grade_cells gcl ON gcl.id = b.id
                       LEFT JOIN task_cells tc ON tc.id = b.id) gc ON gc.id = g.cell_id
            WHERE a.name = %s
            GROUP BY sa.student_id
            """, (assignment,)).fetchall()
    return {sid: (float(score), float(mx)) for sid, score, mx in rows}


# --------------------------------------------------------------------------- PostgreSQL


def test_postgresql_gradebook_rows_equal_grades_csv(pg_server, tmp_path):
    db = create_database(pg_server, "one_class")
    subs = make_class(tmp_path / "class", "01_l1_mse")
    out = tmp_path / "out"
    p = regloss_grade("01_l1_mse", subs, out, "--db", db, "--workers", "2")
    assert "postgresql" in p.stdout
    csv_rows = read_grades(out)
    in_server = server_scores(db, "01_l1_mse")
    assert set(in_server) == set(csv_rows) == {"good0", "wrong0", "blank"}
    for sid, row in csv_rows.items():
        assert in_server[sid] == (float(row["score"]), float(row["max_score"])), sid
    assert in_server["good0"][0] > in_server["wrong0"][0] > in_server["blank"][0]
    # the psycopg spelling of the URL reaches the same rows; a re-run grades nobody again
    again = regloss_grade("01_l1_mse", subs, out, "--db", db.replace("postgresql://", "postgresql+psycopg://"))
    assert "(3 already graded)" in again.stdout
    assert server_scores(db, "01_l1_mse") == in_server


def test_two_runs_of_different_assignments_merge_into_one_server_at_once(pg_server, tmp_path):
    db = create_database(pg_server, "two_runs")
    runs = {}
    for a in ("01_l1_mse", "02_huber"):
        subs = make_class(tmp_path / a / "class", a, n_good=2, n_wrong=1)
        runs[a] = (tmp_path / a / "out", subprocess.Popen(
            grade_cmd(a, subs, tmp_path / a / "out", "--db", db, "--workers", "1"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env()))
    for _a, (_out, p) in runs.items():
        text, _ = p.communicate(timeout=900)
        assert p.returncode == 0, text
    for a, (out, _p) in runs.items():
        csv_rows = read_grades(out)
        in_server = server_scores(db, a)
        assert set(in_server) == set(csv_rows) == {"good0", "good1", "wrong0", "blank"}, a
        for sid, row in csv_rows.items():
            assert in_server[sid] == (float(row["score"]), float(row["max_score"])), (a, sid)
        assert csv_rows["good0"]["auto_score"] == csv_rows["good0"]["auto_max_score"], a  # written answers pending
        assert in_server["good0"][0] > in_server["wrong0"][0], a
    import psycopg

    with psycopg.connect(db) as conn:  # one student row per id, whichever run inserted it first
        assert conn.execute("SELECT COUNT(*) FROM student").fetchone()[0] == 4
        assert conn.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone()[0] == 8


def test_a_password_in_the_url_is_never_printed_and_only_its_owner_can_read_it(pg_server, tmp_path):
    import psycopg

    secret = "s3cret-Pw:x"
    with psycopg.connect(pg_server + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS pw_class")
        conn.execute("DROP ROLE IF EXISTS grader")
        conn.execute(f"CREATE ROLE grader LOGIN PASSWORD '{secret}'")
        conn.execute("CREATE DATABASE pw_class OWNER grader")
    host = pg_server.split("@", 1)[1]
    db = f"postgresql://grader:{secret}@{host}/pw_class"
    subs = make_class(tmp_path / "class", "01_l1_mse", n_wrong=0, blank=False)
    out = tmp_path / "out"
    p = regloss_grade("01_l1_mse", subs, out, "--db", db)
    assert secret not in p.stdout + p.stderr
    assert f"postgresql://grader:***@{host}/pw_class" in p.stdout
    config = out / "nbgrader_config.py"
    assert secret in config.read_text()  # formgrader on this run still reaches the server
    assert config.stat().st_mode & 0o077 == 0, oct(config.stat().st_mode)
    holding = [f.relative_to(out) for f in out.rglob("*") if f.is_file() and secret.encode() in f.read_bytes()]
    assert holding == [Path("nbgrader_config.py")], holding
    bad = subprocess.run(grade_cmd("01_l1_mse", subs, tmp_path / "out2", "--db", db.replace("pw_class", "nope")),
                         capture_output=True, text=True, cwd=ROOT, env=env(), timeout=300)
    assert bad.returncode == 2 and 'database "nope" does not exist' in bad.stderr, bad.stdout + bad.stderr
    assert secret not in bad.stdout + bad.stderr and "grader:***@" in bad.stderr


# --------------------------------------------------------------------------- Dask


def _comparable(rows):
    return {sid: (r["score"], r["max_score"], r["auto_score"], r["problems"]) for sid, r in rows.items()}


def test_a_dask_cluster_grades_as_a_local_run_does(dask_scheduler, tmp_path):
    subs = make_class(tmp_path / "class", "01_l1_mse")
    local = tmp_path / "local"
    regloss_grade("01_l1_mse", subs, local, "--workers", "2")
    remote = tmp_path / "dask"
    p = regloss_grade("01_l1_mse", subs, remote, "--scheduler", dask_scheduler)
    assert f"Dask cluster {dask_scheduler}: 2 workers" in p.stdout
    assert _comparable(read_grades(remote)) == _comparable(read_grades(local))
    assert float(read_grades(remote)["good0"]["auto_score"]) > float(read_grades(remote)["wrong0"]["auto_score"])
    for sid in ("good0", "wrong0", "blank"):  # the feedback came back from the workers as bytes
        assert list((remote / "feedback" / sid / "01_l1_mse").glob("*.html")), sid


def test_an_unreachable_scheduler_is_an_instructor_error(tmp_path):
    from tests.services import free_port

    subs = make_class(tmp_path / "class", "01_l1_mse", n_wrong=0, blank=False)
    p = subprocess.run(grade_cmd("01_l1_mse", subs, tmp_path / "out", "--scheduler",
                                 f"tcp://127.0.0.1:{free_port()}"), capture_output=True, text=True,
                       cwd=ROOT, env=env(), timeout=300)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "cannot reach the Dask scheduler" in p.stderr + p.stdout


def test_a_worker_that_would_grade_differently_stops_the_run_before_anyone_is_graded(tmp_path):
    """A worker whose regloss is an edited copy (on its PYTHONPATH, ahead of the installed one)."""
    import shutil

    from tests.services import dask_cluster

    edited = tmp_path / "edited"
    shutil.copytree(ROOT / "src" / "regloss", edited / "regloss", ignore=shutil.ignore_patterns("__pycache__"))
    with open(edited / "regloss" / "checks" / "compare.py", "a") as f:
        f.write("\n# a worker's own edit\n")
    subs = make_class(tmp_path / "class", "01_l1_mse", n_wrong=0, blank=False)
    out = tmp_path / "out"
    with dask_cluster(2, worker_env={1: {"PYTHONPATH": str(edited)}}) as address:
        p = subprocess.run(grade_cmd("01_l1_mse", subs, out, "--scheduler", address), capture_output=True,
                           text=True, cwd=ROOT, env=env(), timeout=600)
    said = p.stdout + p.stderr
    assert p.returncode == 2, said
    assert "worker w1 (tcp://127.0.0.1:" in said and "regloss's files differ" in said, said
    assert "worker w0" not in said, said  # the worker like this machine is not blamed
    assert not (out / "grades.csv").exists() and not (out / "state.jsonl").exists()


def test_students_whose_worker_died_are_graded_by_the_next_run(tmp_path):
    """A Dask worker killed (SIGKILL) while it grades; the scheduler gives up on its tasks at
    once (``allowed-failures`` 0): those students get 0 with the reason, the others are graded,
    and the same command run again grades just the ones that failed."""
    import signal
    import time

    from distributed import Client

    from tests.services import dask_cluster

    subs = make_class(tmp_path / "class", "01_l1_mse", n_good=2)
    out = tmp_path / "out"
    with dask_cluster(2, env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}) as address:
        with Client(address, timeout=60) as client:
            pids = client.run(os.getpid)
            run = subprocess.Popen(grade_cmd("01_l1_mse", subs, out, "--scheduler", address),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env())
            killed, deadline = None, time.monotonic() + 300
            while killed is None and run.poll() is None and time.monotonic() < deadline:
                for addr, keys in client.processing().items():
                    if any(str(k).startswith("regloss-") for k in keys):
                        os.kill(pids[addr], signal.SIGKILL)
                        killed = addr
                        break
                time.sleep(0.05)
            said = run.communicate(timeout=600)[0]
        assert killed, "no task was seen running"
        assert run.returncode == 0, said
        first = read_grades(out)
        failed = {sid for sid, r in first.items() if "grading failed" in r["problems"]}
        assert failed, first  # those the killed worker held (the scheduler may have given it all four)
        assert all(first[sid]["score"] == "0" for sid in failed)
        assert "could not be graded, through no fault of their own" in said, said
        again = regloss_grade("01_l1_mse", subs, out, "--scheduler", address)
    assert f"4 students ({4 - len(failed)} already graded)" in again.stdout, again.stdout
    second = read_grades(out)
    assert not any("grading failed" in r["problems"] for r in second.values()), second
    assert second["good0"]["score"] == second["good1"]["score"] != "0"
    assert all(second[sid] == first[sid] for sid in set(first) - failed)  # kept as they were
    assert float(second["wrong0"]["score"]) < float(second["good0"]["score"])


# --------------------------------------------------------------------------- one student after another

POLLUTE = r'''
import builtins, os, sys, types
import numpy
open("LEFT_BEHIND.txt", "w").write("a")
open(os.path.join(os.path.expanduser("~"), "LEFT_BEHIND.txt"), "w").write("a")
try:
    open("/tmp/regloss-left-behind.txt", "w").write("a")
except OSError:
    pass
os.environ["REGLOSS_LEFT_BEHIND"] = "a"
numpy.LEFT_BEHIND = True
numpy.mean = lambda *args, **kwargs: 0.0
numpy.abs = lambda x, *args, **kwargs: x
builtins.LEFT_BEHIND = True
sys.modules["left_behind"] = types.ModuleType("left_behind")
try:
    import regloss.checks.compare as _c
    _c.LEFT_BEHIND = True
except ImportError:
    pass
'''

PROBE = r'''
import builtins, glob, os, sys
import numpy
traces = []
if glob.glob("**/LEFT_BEHIND.txt", recursive=True) or glob.glob("../**/LEFT_BEHIND.txt", recursive=True):
    traces.append("file in the working folder")
if os.path.exists(os.path.join(os.path.expanduser("~"), "LEFT_BEHIND.txt")):
    traces.append("file in the home folder")
if os.path.exists("/tmp/regloss-left-behind.txt"):
    traces.append("file in /tmp")
if "REGLOSS_LEFT_BEHIND" in os.environ:
    traces.append("environment variable")
if hasattr(numpy, "LEFT_BEHIND") or numpy.mean([1.0, 2.0]) != 1.5 or numpy.abs(-1.0) != 1.0:
    traces.append("numpy patched")
if hasattr(builtins, "LEFT_BEHIND"):
    traces.append("builtins patched")
if "left_behind" in sys.modules:
    traces.append("module injected")
try:
    import regloss.checks.compare as _c
    if hasattr(_c, "LEFT_BEHIND"):
        traces.append("regloss patched")
except ImportError:
    pass
print("TRACES:", traces)
'''


def test_one_student_leaves_nothing_behind_for_the_next(tmp_path):
    """Two students graded one after the other by the same worker (its warm nbgrader
    process): the first plants files, environment variables, monkeypatches of numpy,
    builtins and regloss, and a fake module; the second finds none of them and keeps
    full marks. A third plants and probes in one notebook: the probe does see traces."""
    home_trace = Path(os.path.expanduser("~")) / "LEFT_BEHIND.txt"
    tmp_trace = Path("/tmp/regloss-left-behind.txt")
    existed = {p: p.exists() for p in (home_trace, tmp_trace)}
    a = "01_l1_mse"
    sol = solution_sources(a)
    subs = tmp_path / "class"
    for sid, extra in (("a_polluter", POLLUTE), ("b_probe", PROBE), ("c_self", POLLUTE + PROBE)):
        (subs / sid).mkdir(parents=True)
        nbformat.write(submission(a, {"l1_loss": extra + "\n" + sol["l1_loss"]}), str(subs / sid / f"{a}.ipynb"))
    out = tmp_path / "out"
    try:
        p = regloss_grade(a, subs, out, "--workers", "1")
    finally:
        for path, was in existed.items():
            if not was:
                path.unlink(missing_ok=True)
    hidden = "files NOT hidden" not in p.stdout

    def traces_of(sid):
        nb = nbformat.read(str(out / "autograded" / sid / a / f"{a}.ipynb"), as_version=4)
        said = [o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if "TRACES:" in o.get("text", "")]
        assert said, f"the probe did not run for {sid}"
        return eval(said[0].split("TRACES:", 1)[1].strip())

    assert {"file in the working folder", "environment variable", "numpy patched", "builtins patched",
            "module injected", "regloss patched"} <= set(traces_of("c_self"))
    traces = traces_of("b_probe")
    if not hidden:  # without mount namespaces the kernel shares /tmp and the home folder with the machine
        traces = [t for t in traces if t not in ("file in /tmp", "file in the home folder")]
    assert traces == []
    rows = read_grades(out)
    assert rows["b_probe"]["auto_score"] == rows["b_probe"]["auto_max_score"], rows["b_probe"]
