"""The service with the real grader (the worker, judge and sandbox of ``regloss grade``, warm):
honest and blank notebooks, hidden tests that report without their code, every tampering
notebook of tests/tamper, the rate under concurrency, a bounded load test, graceful
shutdown of the real command, and the attempt log in PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from regloss.grading.service.backend import Grader, load_assignment
from regloss.grading.service.rate import Rate
from regloss.grading.service.store import AttemptStore
from regloss.grading.settings import Settings
from tests.grading.run.test_grade_command import FULL, NB, ROOT, A, student
from tests.grading.run.test_scale import env, grade_cmd
from tests.grading.service.helpers import TOKENS, running, student_token
from tests.grading.service.test_handlers import reserve_at_once
from tests.harness import hidden_test_lines
from tests.services import create_database, free_port
from tests.tamper import TAMPERS

pytestmark = pytest.mark.slow  # warm nbgrader processes, judges and kernels

INSTRUCTOR = "instructor-token"


def body(nb) -> bytes:
    return nbformat.writes(nb).encode()


HONEST = body(student())
BLANK = body(nbformat.read(str(ROOT / "notebooks" / A / NB), as_version=4))


#: files where student code could read them but for the hiding (a system folder, as /etc/regloss/tokens.csv
#: might be; the temporary folders and everything outside the system folders are hidden anyway): the
#: service's secret (as the tokens file and the attempt log are) and, to show the channel works, one that is not
OUTSIDE = Path("/run") / f"regloss-test-serve-{os.getpid()}"


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    state = tmp_path_factory.mktemp("serve-state")
    OUTSIDE.mkdir(mode=0o755, exist_ok=True)
    for name in ("secret", "visible"):
        (OUTSIDE / name).write_text(f"{name}-content-{os.getpid()}")
        (OUTSIDE / name).chmod(0o644)
    g = Grader({A: load_assignment(ROOT, A, state, secrets=[OUTSIDE / "secret"])},
               Settings(workers=2, timeout=20, progress=False))
    yield g
    g.close()
    shutil.rmtree(OUTSIDE, ignore_errors=True)


def test_student_code_cannot_read_the_services_secrets(svc):
    """A failing test's message reaches the student: an answer that raises a file's content
    shows the unhidden file, never the secret one (the tokens file, the attempt log)."""
    if not svc.service.grader.iso.filesystem:
        pytest.skip("no filesystem isolation on this machine: nothing is hidden from student code")
    leak = student(replace={"l1_loss": f'''def l1_loss(input, target, reduction="mean"):
    found = []
    for name in ("secret", "visible"):
        try:
            found.append(open({str(OUTSIDE)!r} + "/" + name).read())
        except OSError as exc:
            found.append(type(exc).__name__)
    raise RuntimeError(" ".join(found))
'''})
    status, res = svc.check(student_token(6), body(leak))
    assert status == 200, res
    text = json.dumps(res)
    assert f"visible-content-{os.getpid()}" in text, res["tests"][:2]  # the channel works
    assert f"secret-content-{os.getpid()}" not in text


@pytest.fixture
def svc(grader, tmp_path):
    with running(grader, tmp_path / "attempts.db") as r:
        yield r


def test_an_honest_notebook_gets_full_marks(svc):
    status, res = svc.check(student_token(1), HONEST)
    assert status == 200, res
    assert res["score"] == res["max_score"] == FULL
    assert all(t["passed"] and t["points"] == t["max_points"] for t in res["tests"])
    assert {t["hidden"] for t in res["tests"]} == {True, False}


def test_a_wrong_hidden_case_reports_its_message_never_its_code(svc):
    # right on the visible cases, wrong on others: only the hidden test can tell
    wrong = student(replace={"l1_loss": '''def l1_loss(input, target, reduction="mean"):
    import numpy as np
    d = np.abs(np.asarray(input, dtype=float) - np.asarray(target, dtype=float))
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction)
    if reduction == "none":
        return d
    return d.sum() if reduction == "sum" else (d.sum() / (d.size - 1) if d.size > 3 else d.mean())
'''})
    status, res = svc.check(student_token(2), body(wrong))
    assert status == 200, res
    by_id = {t["id"]: t for t in res["tests"]}
    assert res["score"] < FULL
    failed = [t for t in res["tests"] if not t["passed"]]
    assert failed and all(t["message"] for t in failed), failed
    text = html.unescape(json.dumps(res))
    for line in hidden_test_lines(A):
        assert line not in text, f"the answer shows the hidden line {line!r}"
    assert by_id["test_mse_loss__hidden"]["passed"]


def test_a_blank_notebook_scores_zero(svc):
    status, res = svc.check(student_token(3), BLANK)
    assert status == 200 and res["score"] == 0 and res["max_score"] == FULL
    assert all("NotImplementedError" in t["message"] for t in res["tests"])


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.student_id)
def test_a_tampering_notebook_gets_what_the_judge_gives(svc, tamper):
    status, res = svc.check(student_token(4), body(student(replace=tamper.cells())))
    assert status == 200, res
    assert res["score"] == 0, f"{tamper.student_id} ({tamper.why}) earned {res['score']}: {res['tests']}"


def test_the_rate_holds_under_20_parallel_real_checks(grader, tmp_path):
    with running(grader, tmp_path / "a.db", rate=Rate(5, 24)) as r:
        go = threading.Barrier(20)

        def one(_):
            go.wait()
            return r.check(student_token(5), HONEST)

        with ThreadPoolExecutor(20) as ex:
            results = list(ex.map(one, range(20)))
        assert Counter(s for s, _ in results) == {200: 5, 429: 15}
        assert all(res["score"] == FULL for s, res in results if s == 200)
        rows = r.service.store.rows(A)
        assert len(rows) == 5 and {x["status"] for x in rows} == {"graded"}


def test_load_100_checks_from_50_students_in_bursts(grader, tmp_path):
    """Bounded, on loopback: 4 bursts of 25 checks at once; none lost, each logged once."""
    with running(grader, tmp_path / "a.db", rate=Rate(2, 24)) as r:
        results = []
        with ThreadPoolExecutor(25) as ex:
            for burst in range(4):
                who = [(burst * 25 + k) % 50 for k in range(25)]
                results += list(ex.map(lambda i: (i, *r.check(student_token(i), HONEST)), who))
        assert Counter(s for _, s, _ in results) == {200: 100}
        assert all(res["student_id"] == f"s{i:03d}" and res["score"] == FULL for i, _, res in results)
        _, _, data = r.request("GET", f"/api/attempts/{A}", INSTRUCTOR)
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        assert len(rows) == 100 and Counter(x["student_id"] for x in rows) == {f"s{i:03d}": 2 for i in range(50)}
        assert {x["score"] for x in rows} == {"12"}


def test_regloss_grade_through_the_service_gives_the_cold_runs_grades_and_pages(grader, tmp_path):
    """``regloss grade --service``: the same grades.csv and the same feedback pages as a run with
    its own workers; a student's token is refused before anyone is graded."""
    from tests.grading.run.test_scale import make_class, read_grades, regloss_grade

    subs = make_class(tmp_path / "subs", A, n_good=1, n_wrong=1)
    regloss_grade(A, subs, tmp_path / "cold", "--workers", "2")
    with running(grader, tmp_path / "attempts.db") as r:
        os.environ["REGLOSS_TOKEN"] = student_token(3)
        try:
            refused = subprocess.run(grade_cmd(A, subs, tmp_path / "refused", "--service", r.url),
                                     capture_output=True, text=True, cwd=ROOT, env=env())
            os.environ["REGLOSS_TOKEN"] = INSTRUCTOR
            warm = regloss_grade(A, subs, tmp_path / "warm", "--service", r.url)
        finally:
            os.environ.pop("REGLOSS_TOKEN", None)
        status, _, log = r.request("GET", f"/api/attempts/{A}", INSTRUCTOR)
    assert refused.returncode != 0 and "an instructor's token" in refused.stderr
    assert not (tmp_path / "refused" / "grades.csv").exists()
    assert f"the warm service {r.url}: 2 workers" in warm.stdout
    cold, through = read_grades(tmp_path / "cold"), read_grades(tmp_path / "warm")
    assert through == cold and {x["score"] for x in cold.values()} > {"0"}
    pages = sorted(p.relative_to(tmp_path / "cold") for p in (tmp_path / "cold" / "feedback").rglob("*.html"))
    assert len(pages) == len(cold)
    for p in pages:
        assert (tmp_path / "warm" / p).read_bytes() == (tmp_path / "cold" / p).read_bytes(), p
    assert log.decode().strip().count("\n") == 0  # a class graded through the service is no student's attempt


def test_sigterm_finishes_every_queued_check(tmp_path):
    """The real command: 6 checks queued on one worker, SIGTERM, every one answered and logged."""
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(TOKENS)
    port = free_port()
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "regloss", "serve", A, "--port", str(port), "--tokens", str(tokens),
                             "--workers", "1", "--timeout", "20", "--state", str(tmp_path / "state")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    from tests.grading.service.helpers import Running

    r = Running(f"http://127.0.0.1:{port}", None)  # type: ignore[arg-type]
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if r.request("GET", "/api/health", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        with ThreadPoolExecutor(6) as ex:
            futures = [ex.submit(r.check, student_token(i), HONEST) for i in range(6)]
            time.sleep(3)  # all six sent; one grading, five queued
            proc.send_signal(signal.SIGTERM)
            results = [f.result() for f in futures]
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "finishing the queued checks" in out
    assert [s for s, _ in results] == [200] * 6, results
    rows = AttemptStore(str(tmp_path / "state" / "attempts.db")).rows(A)
    assert sorted(x["student_id"] for x in rows) == [f"s{i:03d}" for i in range(6)]
    assert {x["status"] for x in rows} == {"graded"}


def test_the_attempt_log_in_postgresql_holds_the_rate(pg_server):
    url = create_database(pg_server, "regloss_serve")
    stores = [AttemptStore(url) for _ in range(2)]
    got = reserve_at_once(stores, 20, Rate(5, 1))
    assert len(got) == 5 and len(stores[0].rows(A)) == 5
    stores[1].finish(got[0], "graded", 101.0, 12.0, 12.0, "")
    assert stores[0].rows(A, "s001")[0]["score"] == 12.0
    assert stores[0].recover() == 4
