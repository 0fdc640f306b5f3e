"""``regloss grade --service URL``: the class graded on a running ``regloss serve``'s warm workers.

A cold ``regloss grade`` starts its nbgrader processes and kernel zygotes (torch, nbgrader and
``regloss.checks`` imported) for every run; a small class pays that start-up more than its
grading. Through the service the parent does everything else as usual (intake, the main
gradebook, the reports) and sends each student's :class:`~regloss.grading.wire.jobs.StudentJob`
to the service instead of a local thread or a Dask cluster:

1. ``PUT /api/bundles/<sha256>``: the assignment's files (hidden tests included: an instructor's
   token only, as for the attempt log), once per run, and again if the service restarted;
2. ``POST /api/grade/<sha256>`` per student, at most twice as many in flight as the service has
   workers: the answer is the :class:`~regloss.grading.wire.jobs.StudentResult` as the local
   worker would have returned it (private gradebook, autograded notebook, feedback).

Only plain data crosses (JSON; no pickle). The service grades with its own sandbox, and hides
its own files (tokens, attempt log) as well as the folders the run hides. A student whose
request fails gets the reason and 0, as any worker failure; a refused token or an unreachable
service stops the run before anyone is graded.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from regloss.course import CourseError
from regloss.grading.wire.jobs import StudentResult

#: the environment variable holding the instructor's token (the same as ``official_check``'s)
TOKEN_VARIABLE = "REGLOSS_TOKEN"
BUSY_WAIT = 600.0  # seconds a student's request waits for room in a full queue, in all


class ServiceError(RuntimeError):
    """The service refused or failed one request (its status and reason)."""

    def __init__(self, status: int, reason: str, retry_after: float | None = None):
        super().__init__(f"the grading service answered {status}: {reason}")
        self.status, self.reason, self.retry_after = status, reason, retry_after


def token_from_env() -> str:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise CourseError(f"--service needs an instructor's token of that service in ${TOKEN_VARIABLE}")
    return token


def call(url: str, method: str, path: str, token: str | None = None, body: bytes | None = None,
         timeout: float = 30) -> bytes:
    """One request; its body, or :class:`ServiceError` (a refusal) or :class:`OSError` (no answer)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    req = urllib.request.Request(url.rstrip("/") + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            info = json.loads(raw)
        except ValueError:
            info = {"error": raw.decode("utf-8", "replace")[:200]}
        raise ServiceError(exc.code, str(info.get("error", exc.reason)), info.get("retry_after")) from None


def health(url: str) -> dict:
    """The service's ``/api/health`` (its assignments and workers), or a :class:`CourseError`."""
    try:
        return json.loads(call(url, "GET", "/api/health"))
    except (OSError, ServiceError, ValueError) as exc:
        raise CourseError(f"cannot reach the grading service {url}: {exc}") from exc


def describe(url: str) -> str:
    h = health(url)
    return f"the warm service {url}: {h.get('workers', 1)} workers"


def send_bundle(url: str, token: str, data: bytes) -> str:
    """PUT the assignment's files; their sha256. A :class:`CourseError` when refused."""
    sha = hashlib.sha256(data).hexdigest()
    try:
        call(url, "PUT", f"/api/bundles/{sha}", token, data, timeout=600)
    except ServiceError as exc:
        hint = " (an instructor's token of the service is needed)" if exc.status in (401, 403) else ""
        raise CourseError(f"the grading service {url} refused the assignment: {exc.reason}{hint}") from None
    except OSError as exc:
        raise CourseError(f"cannot reach the grading service {url}: {exc}") from exc
    return sha


def grade_one(url: str, token: str, sha: str, job_bytes: bytes, resend, clock=time.monotonic,
              sleep=time.sleep) -> StudentResult:
    """POST one student's job; the result. The bundle is sent again when the service lost it
    (``resend()``), and a full queue is waited out (up to :data:`BUSY_WAIT` seconds)."""
    waited, resent = 0.0, False
    while True:
        try:
            return StudentResult.from_bytes(call(url, "POST", f"/api/grade/{sha}", token, job_bytes, timeout=6 * 3600))
        except ServiceError as exc:
            if exc.status == 409 and not resent:
                resend()
                resent = True
                continue
            if exc.status == 503 and waited < BUSY_WAIT:
                pause = min(30.0, float(exc.retry_after or 5))
                t0 = clock()
                sleep(pause)
                waited += max(pause, clock() - t0)
                continue
            raise


def results(jobs, url: str):
    """Grade ``jobs`` on the service at ``url``; yield ``(job, StudentResult or Exception)`` as each
    finishes (see the module docstring)."""
    from regloss.grading.run.pool import InFlight

    token = token_from_env()
    workers = int(health(url).get("workers", 1) or 1)
    sent: dict = {}

    def ensure_bundle(bundle, again=False):
        key = id(bundle)
        if again or key not in sent:
            data = bundle.to_bytes()
            sent[key] = send_bundle(url, token, data)
        return sent[key]

    window = 2 * workers
    ex = ThreadPoolExecutor(max_workers=window, thread_name_prefix="regloss-via-service")

    def submit(job):
        sha = ensure_bundle(job.bundle)  # in this thread: a refusal stops the run before anyone is graded
        return ex.submit(grade_one, url, token, sha, job.to_bytes(with_bundle=False),
                         lambda: ensure_bundle(job.bundle, again=True))

    flight = InFlight(jobs, submit, lambda fs: wait(fs, return_when=FIRST_COMPLETED).done, window=window)
    try:
        yield from flight.outcomes()
    except BaseException:  # stopped early: what was not sent is not; what is grading finishes there
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
