"""A service on loopback for the tests: the real handlers and attempt log, with the real
grader (slow tests) or a stand-in that scores without running anything (fast tests)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from regloss.grading.service.backend import Assignment, CheckResult, QueueFull, TestCell
from regloss.grading.service.handlers import Service, make_server
from regloss.grading.service.store import AttemptStore
from regloss.grading.service.tokens import parse_tokens

A = "01_l1_mse"
TOKENS = "token,student_id,role\n" + "".join(
    f"student-token-{i:03d},s{i:03d},student\n" for i in range(60)) + "instructor-token,prof,instructor\n"
IDS = {f"{A}.ipynb": {"l1_loss", "test_l1_loss__visible", "test_l1_loss__hidden", "mse_loss"}}


def student_token(i: int) -> str:
    return f"student-token-{i:03d}"


def notebook(ids=("l1_loss", "test_l1_loss__visible", "test_l1_loss__hidden"), extra_source="") -> bytes:
    """A small nbformat 4 notebook holding cells with these grade ids."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    for gid in ids:
        c = nbformat.v4.new_code_cell(extra_source)
        c.metadata["nbgrader"] = {"grade_id": gid, "grade": gid.startswith("test_"), "solution": not gid.startswith(
            "test_"), "locked": gid.startswith("test_"), "schema_version": 3, **(
            {"points": 1} if gid.startswith("test_") else {})}
        nb.cells.append(c)
    return nbformat.writes(nb).encode()


@dataclass
class FakeGrader:
    """Scores every notebook 1 of 2 after ``delay`` seconds; counts what it graded."""

    delay: float = 0.05
    capacity: int = 1000
    graded: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.assignments = {A: Assignment(A, None, [TestCell("test_l1_loss__visible", False, 1.0),
                                                     TestCell("test_l1_loss__hidden", True, 1.0)], IDS)}
        self.pool = ThreadPoolExecutor(4)
        self.waiting = 0

    def reserve_slot(self):
        return self.waiting < self.capacity

    def submit(self, assignment, student_id, name, body):
        if self.waiting >= self.capacity:
            raise QueueFull("full")
        return self.pool.submit(self._grade, assignment, student_id)

    def grade_job(self, job):
        """A class member's job (``regloss grade --service``): a result naming the student and
        the bundle's assignment, as the real worker's would."""
        from regloss.grading.wire.jobs import StudentResult

        if self.waiting >= self.capacity:
            raise QueueFull("full")

        def grade():
            with self.lock:
                self.graded.append(("job", job.bundle.assignment, job.student_id))
            return StudentResult(job.student_id, [], graded=True, digest=job.digest, key=job.key)

        return self.pool.submit(grade)

    def _grade(self, assignment, student_id):
        time.sleep(self.delay)
        with self.lock:
            self.graded.append(student_id)
        tests = [{"id": "test_l1_loss__visible", "hidden": False, "passed": True, "points": 1.0, "max_points": 1.0,
                  "message": ""},
                 {"id": "test_l1_loss__hidden", "hidden": True, "passed": False, "points": 0.0, "max_points": 1.0,
                  "message": "l1_loss([1.0], [0.0]) is 2.0, torch says 1.0"}]
        return CheckResult(student_id, assignment, 1.0, 2.0, tests, [], True)


@dataclass
class Running:
    url: str
    service: Service

    def request(self, method, path, token=None, body=None, headers=None, timeout=600):
        """``(status, headers, body bytes)`` of one request."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"token {token}"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def check(self, token, body, assignment=A, **kw):
        status, headers, data = self.request("POST", f"/api/check/{assignment}", token, body, **kw)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {"raw": data.decode(errors="replace")}


@contextlib.contextmanager
def running(grader, db, rate=None, due=None, clock=time.time, tokens=TOKENS, max_bytes=None):
    """The service's real handlers and attempt log on a free loopback port."""
    store = AttemptStore(str(db))
    svc = Service(parse_tokens(tokens), grader, store, rate, due, clock=clock, quiet=True,
                  **({"max_bytes": max_bytes} if max_bytes else {}))
    server = make_server(svc, "127.0.0.1", 0)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield Running(f"http://127.0.0.1:{server.server_address[1]}", svc)
    finally:
        server.shutdown()
        server.server_close()
        t.join()
