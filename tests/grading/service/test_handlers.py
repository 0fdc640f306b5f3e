"""The service's endpoints and status codes, its rate limit under concurrency, the due
date and who may read what: the real handlers and attempt log (SQLite) on loopback, with a
stand-in grader (the real one: test_service.py, slow)."""

from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from regloss.grading.service import store as S
from regloss.grading.service.rate import Rate
from tests.grading.service.helpers import A, FakeGrader, notebook, running, student_token

INSTRUCTOR = "instructor-token"


@pytest.fixture
def svc(tmp_path):
    with running(FakeGrader(), tmp_path / "attempts.db", rate=Rate(5, 24)) as r:
        yield r


def attempts(r, token=INSTRUCTOR, assignment=A):
    status, headers, body = r.request("GET", f"/api/attempts/{assignment}", token)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_health(svc):
    status, _, body = svc.request("GET", "/api/health")
    assert status == 200 and json.loads(body)["assignments"] == [A]


def test_a_check_answers_with_the_result(svc):
    status, res = svc.check(student_token(1), notebook())
    assert status == 200, res
    assert set(res) == {"student_id", "assignment", "score", "max_score", "tests", "remaining"}
    assert (res["student_id"], res["assignment"], res["score"], res["max_score"], res["remaining"]) == (
        "s001", A, 1.0, 2.0, 4)
    assert [set(t) for t in res["tests"]] == [{"id", "hidden", "passed", "points", "max_points", "message"}] * 2
    (row,) = attempts(svc)
    assert row["student_id"] == "s001" and (row["score"], row["max_score"]) == ("1", "2")
    assert row["mistakes"].startswith("test_l1_loss__hidden:") and row["time"].endswith("Z")


@pytest.mark.parametrize(("method", "path", "token", "body", "status"), [
    ("POST", f"/api/check/{A}", None, "nb", 401),
    ("POST", f"/api/check/{A}", "not-a-token-at-all", "nb", 401),
    ("POST", "/api/check/99_nothing", "student", "nb", 404),
    ("POST", f"/api/check/{A}", "student", b"{}", 400),
    ("POST", f"/api/check/{A}", "student", b"", 400),
    ("POST", f"/api/check/{A}", "student", "other", 400),
    ("POST", "/api/nothing", "student", "nb", 404),
    ("GET", f"/api/attempts/{A}", "student", None, 403),
    ("GET", f"/api/attempts/{A}", None, None, 401),
    ("GET", "/api/attempts/99_nothing", INSTRUCTOR, None, 404),
    ("GET", "/", None, None, 404),
    ("PUT", f"/api/check/{A}", "student", b"x", 405),
])
def test_status_codes(svc, method, path, token, body, status):
    token = student_token(2) if token == "student" else token
    body = {"nb": notebook(), "other": notebook(ids=("huber", "test_huber__visible"))}.get(body, body)
    got, _, data = svc.request(method, path, token, body)
    assert got == status, data
    assert "error" in json.loads(data)
    assert attempts(svc) == []  # a refused request is no attempt


def test_behind_the_hubs_proxy_the_services_prefix_is_understood(svc):
    svc.service.prefix = "/services/regloss-check"
    status, res = svc.check(student_token(1), notebook(), assignment=A)  # without it, as before
    assert status == 200, res
    status, _, body = svc.request("POST", f"/services/regloss-check/api/check/{A}", student_token(2), notebook())
    assert status == 200 and json.loads(body)["student_id"] == "s002"
    assert svc.request("GET", "/services/regloss-check/api/health")[0] == 200
    assert svc.request("GET", "/services/regloss-checkX/api/health")[0] == 404
    assert [r["student_id"] for r in attempts(svc)] == ["s001", "s002"]


def test_too_large_is_413_and_not_read(tmp_path):
    with running(FakeGrader(), tmp_path / "a.db", max_bytes=1000) as r:
        status, res = r.check(student_token(1), notebook() + b" " * 2000)
        assert status == 413 and "more than the 1000" in res["error"]
        assert r.check(student_token(1), notebook())[0] == 200
        assert len(attempts(r)) == 1


def test_the_queue_full_is_503_and_not_counted(tmp_path):
    with running(FakeGrader(capacity=0), tmp_path / "a.db", rate=Rate(1, 1)) as r:
        status, res = r.check(student_token(1), notebook())
        assert status == 503 and res["retry_after"] > 0
        assert attempts(r) == []


def test_a_student_never_reads_the_attempt_log(svc):
    assert svc.check(student_token(1), notebook())[0] == 200
    for i in (1, 2):
        status, _, body = svc.request("GET", f"/api/attempts/{A}", student_token(i))
        assert status == 403 and b"s001" not in body


def test_over_the_rate_is_429_with_retry_after(tmp_path):
    clock = {"now": 1_000_000.0}
    with running(FakeGrader(), tmp_path / "a.db", rate=Rate(2, 1), clock=lambda: clock["now"]) as r:
        assert [r.check(student_token(1), notebook())[1]["remaining"] for _ in range(2)] == [1, 0]
        clock["now"] += 600
        status, _, body = r.request("POST", f"/api/check/{A}", student_token(1), notebook())
        assert status == 429
        res = json.loads(body)
        assert res["retry_after"] == 3000
        assert r.check(student_token(2), notebook())[0] == 200  # another student has their own count
        assert r.check(student_token(1), notebook(), headers={})[0] == 429
        clock["now"] += 3000
        assert r.check(student_token(1), notebook())[0] == 200  # the first attempt has left the window
        assert [row["student_id"] for row in attempts(r)] == ["s001", "s001", "s002", "s001"]


def test_instructors_are_not_rate_limited(tmp_path):
    with running(FakeGrader(), tmp_path / "a.db", rate=Rate(1, 1)) as r:
        results = [r.check(INSTRUCTOR, notebook()) for _ in range(3)]
        assert [s for s, _ in results] == [200] * 3 and results[0][1]["remaining"] is None


@pytest.mark.parametrize(("n", "rate"), [(20, 5), (12, 1)])
def test_parallel_requests_cannot_pass_the_rate(tmp_path, n, rate):
    grader = FakeGrader(delay=0.2)
    with running(grader, tmp_path / "a.db", rate=Rate(rate, 24)) as r:
        go = threading.Barrier(n)

        def one(_):
            go.wait()
            return r.check(student_token(7), notebook())

        with ThreadPoolExecutor(n) as ex:
            results = list(ex.map(one, range(n)))
        codes = sorted(s for s, _ in results)
        assert codes == [200] * rate + [429] * (n - rate)
        assert sorted(res["remaining"] for s, res in results if s == 200) == list(range(rate))
        assert all(res["retry_after"] > 0 for s, res in results if s == 429)
        assert len(grader.graded) == rate
        assert len(attempts(r)) == rate  # each graded attempt logged once


def test_due_date_closes_checks_for_students_only(tmp_path):
    clock = {"now": 1000.0}
    with running(FakeGrader(), tmp_path / "a.db", due=2000.0, clock=lambda: clock["now"]) as r:
        assert r.check(student_token(1), notebook())[0] == 200
        clock["now"] = 2000.0
        status, res = r.check(student_token(1), notebook())
        assert status == 403 and "closed at 1970-01-01T00:33:20Z" in res["error"]
        assert r.check(INSTRUCTOR, notebook())[0] == 200
        assert [row["student_id"] for row in attempts(r)] == ["s001", "prof"]


def test_a_failed_grading_is_500_and_not_counted(tmp_path):
    class Broken(FakeGrader):
        def _grade(self, assignment, student_id):
            raise RuntimeError("the worker died")

    with running(Broken(), tmp_path / "a.db", rate=Rate(1, 1)) as r:
        assert r.check(student_token(1), notebook())[0] == 500
        assert r.check(student_token(1), notebook())[0] == 500  # not counted: the second is still allowed
        rows = r.service.store.rows(A)
        assert [x["status"] for x in rows] == [S.FAILED, S.FAILED]
        assert [row["mistakes"] for row in attempts(r)] == ["(failed)", "(failed)"]


def test_an_attempt_left_queued_is_recovered_as_interrupted(tmp_path):
    store = S.AttemptStore(str(tmp_path / "a.db"))
    _, attempt = store.reserve(A, "s001", 10.0, Rate(1, 1))
    assert attempt is not None and store.reserve(A, "s001", 11.0, Rate(1, 1))[1] is None
    assert S.AttemptStore(f"sqlite:///{tmp_path / 'a.db'}").recover() == 1
    assert [r["status"] for r in store.rows(A)] == [S.INTERRUPTED]
    assert store.reserve(A, "s001", 12.0, Rate(1, 1))[1] is not None  # an interrupted attempt is not counted


def reserve_at_once(stores, n, rate):
    """``n`` threads reserve an attempt of one student at the same moment, alternating between
    ``stores``; the attempts they got (None: refused)."""
    go = threading.Barrier(n)

    def one(i):
        go.wait()
        return stores[i % len(stores)].reserve(A, "s001", 100.0 + i * 1e-3, rate)[1]

    with ThreadPoolExecutor(n) as ex:
        return [a for a in ex.map(one, range(n)) if a is not None]


def test_two_stores_on_one_file_share_the_count(tmp_path):
    """Two services (or processes) on one SQLite file: BEGIN IMMEDIATE serialises them."""
    stores = [S.AttemptStore(str(tmp_path / "a.db")) for _ in range(2)]
    got = reserve_at_once(stores, 16, Rate(3, 1))
    assert len(got) == 3 and len(stores[0].rows(A)) == 3


def test_a_jupyterhub_token_is_asked_of_the_hub(tmp_path):
    """As a Hub service: a token the file does not know is asked of the Hub (GET /user with it)."""
    import http.server

    from regloss.grading.service.hub import HubAuth

    users = {"hub-token-ann": {"name": "ann", "admin": False}, "hub-token-boss": {"name": "boss", "admin": True}}
    asked = []

    class Hub(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            token = self.headers.get("Authorization", "").partition(" ")[2]
            asked.append((self.path, token))
            user = users.get(token)
            data = json.dumps(user or {"error": "no"}).encode()
            self.send_response(200 if user else 403)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    try:
        with running(FakeGrader(), tmp_path / "a.db", rate=Rate(5, 1)) as r:
            r.service.hub = HubAuth(f"http://127.0.0.1:{hub.server_address[1]}/hub/api/")
            status, res = r.check("hub-token-ann", notebook())
            assert status == 200 and res["student_id"] == "ann"
            assert r.check("hub-token-ann", notebook())[0] == 200
            assert asked == [("/hub/api/user", "hub-token-ann")]  # kept, not asked twice
            assert r.check("hub-token-nobody", notebook())[0] == 401
            assert r.request("GET", f"/api/attempts/{A}", "hub-token-ann")[0] == 403
            assert [row["student_id"] for row in attempts(r, "hub-token-boss")] == ["ann", "ann"]  # a Hub admin
            assert r.check(student_token(1), notebook())[0] == 200  # the file's tokens still work, asked of no Hub
            assert all(t != student_token(1) for _, t in asked)
    finally:
        hub.shutdown()
        hub.server_close()
