"""The HTTP endpoints of ``regloss serve`` and their status codes.

* ``POST /api/check/<assignment>`` (``Authorization: token <token>``, body: the notebook)
  -> 200 and the result as JSON; 401 unknown token; 404 unknown assignment; 403 after the
  due date (instructors exempt); 413 too large; 400 not a notebook of that assignment;
  429 over the rate (``retry_after`` seconds, and a ``Retry-After`` header); 503 the queue
  is full or the service is stopping.
* ``GET /api/attempts/<assignment>`` -> the attempt log as CSV for an instructor's token,
  403 for a student's.
* ``GET /api/health`` -> 200, with the assignments and the number of workers.
* For ``regloss grade --service URL`` (an instructor's token only; 403 for a student's):
  ``PUT /api/bundles/<sha256>`` (body: the assignment's files, :meth:`InstructorBundle.to_bytes`)
  -> 201; ``POST /api/grade/<sha256>`` (body: one student's job, :meth:`StudentJob.to_bytes`
  without the bundle) -> 200 and :meth:`StudentResult.to_bytes` (feedback included), 409 when
  the service does not hold that bundle (send it, then again). Not rate-limited, not in the
  attempt log: the run records them in its gradebook.

The checks run in this order, so a refused request costs nothing: who (401), what (404),
when (403), how large (413), is it the assignment's notebook (400), is there room (503),
the rate (429, the attempt reserved in the same transaction), then the grading. A
student only ever gets their own result, in the answer to their own request.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from regloss.grading.service import store as S
from regloss.grading.service.backend import QueueFull
from regloss.grading.service.rate import Rate
from regloss.grading.service.tokens import Account, authenticate
from regloss.grading.service.validate import MAX_BYTES, BadNotebook, notebook_of

_CHECK = re.compile(r"^/api/check/(?P<a>[^/]+)/?$")
_ATTEMPTS = re.compile(r"^/api/attempts/(?P<a>[^/]+)/?$")
_BUNDLE = re.compile(r"^/api/bundles/(?P<sha>[0-9a-f]{64})/?$")
_GRADE = re.compile(r"^/api/grade/(?P<sha>[0-9a-f]{64})/?$")
_BUNDLES_KEPT = 4  # the latest assignments' files sent by ``regloss grade --service``
_DRAIN = 64 * 10**6  # a too-large body is read and dropped up to this much (so the client sees the 413)


@dataclass
class Service:
    """What the handlers need: the accounts, the assignments' grader, the attempt log, the rules."""

    accounts: dict[str, Account]
    grader: Any  # backend.Grader (or a stand-in with .assignments, .submit, .reserve_slot)
    store: S.AttemptStore
    rate: Rate | None = None
    due: float | None = None  # epoch seconds
    max_bytes: int = MAX_BYTES
    clock: Any = time.time
    quiet: bool = False
    stopping: bool = field(default=False)
    hub: Any = None  # hub.HubAuth: tokens the tokens file does not know are asked of JupyterHub
    instructor_max_bytes: int = 20 * MAX_BYTES  # a bundle or a class member's job (``regloss grade --service``)
    bundles: dict = field(default_factory=dict)  # sha256 -> InstructorBundle, the latest few
    bundles_lock: Any = field(default_factory=threading.Lock)  # requests are answered in parallel threads
    prefix: str = ""  # behind JupyterHub's proxy: /services/<name> (requests keep it)

    def known(self, assignment: str) -> bool:
        return assignment in self.grader.assignments


class Handler(BaseHTTPRequestHandler):
    server_version = "regloss-serve"
    timeout = 120  # seconds a client may take to send its request (a stalled one frees its thread)
    service: Service  # set on the subclass made by make_server

    # ------------------------------------------------------------------ replies
    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _error(self, status: int, message: str, **extra) -> None:
        self._json(status, {"error": message, **extra})

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if not self.service.quiet:
            sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} {format % args}\n")

    def _account(self) -> Account | None:
        header = self.headers.get("Authorization")
        found = authenticate(header, self.service.accounts)
        if found is None and self.service.hub is not None and header:
            scheme, _, token = header.strip().partition(" ")
            if scheme.lower() in ("token", "bearer") and token.strip():
                try:
                    found = self.service.hub.account(token.strip())
                except OSError as exc:  # the Hub is down: nobody new gets in
                    self.log_error("cannot ask JupyterHub about a token: %r", exc)
        return found

    def _path(self) -> str:
        """The request's path without its query and without the service's prefix."""
        path = self.path.split("?", 1)[0]
        prefix = self.service.prefix
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            path = path[len(prefix):] or "/"
        return path

    # ------------------------------------------------------------------ GET
    def do_GET(self):  # noqa: N802 - the base class's name
        path = self._path()
        if path in ("/api/health", "/api/health/"):
            return self._json(200, {"status": "stopping" if self.service.stopping else "ok",
                                    "assignments": sorted(self.service.grader.assignments),
                                    "workers": getattr(self.service.grader, "workers", 1)})
        m = _ATTEMPTS.match(path)
        if not m:
            return self._error(404, "no such endpoint")
        who = self._account()
        if who is None:
            return self._error(401, "unknown token (send the header 'Authorization: token <your token>')")
        a = m["a"]
        if not self.service.known(a):
            return self._error(404, f"unknown assignment {a!r}")
        if not who.instructor:
            return self._error(403, "the attempt log is for instructors")
        csv_text = S.attempts_csv(self.service.store.rows(a))
        self._send(200, csv_text.encode(), "text/csv; charset=utf-8")

    # ------------------------------------------------------------------ a class (regloss grade --service)
    def _instructor_body(self) -> bytes | None:
        """The body of an instructor-only request, or None once the refusal is sent."""
        who = self._account()
        if who is None:
            self._drain()
            self._error(401, "unknown token (send the header 'Authorization: token <your token>')")
            return None
        if not who.instructor:
            self._drain()
            self._error(403, "grading a class is for instructors")
            return None
        return self._body(self.service.instructor_max_bytes, "the body")

    def _body(self, limit: int, what: str) -> bytes | None:
        """The request's body, at most ``limit`` bytes, or None once the refusal (411, 400, 413) is sent."""
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._error(411 if "Content-Length" not in self.headers else 400, "a Content-Length is needed")
            return None
        if length > limit:
            self._drain(length)
            self._error(413, f"{what} is {length} bytes, more than the {limit} accepted")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def do_PUT(self):  # noqa: N802 - the base class's name
        import hashlib

        from regloss.grading.wire.jobs import InstructorBundle

        m = _BUNDLE.match(self._path())
        if not m:
            self._drain()
            return self._error(405 if not self._path().startswith("/api/bundles") else 404, "method not allowed")
        body = self._instructor_body()
        if body is None:
            return None
        if hashlib.sha256(body).hexdigest() != m["sha"]:
            return self._error(400, "the bundle's sha256 is not the one in the address")
        try:
            bundle = InstructorBundle.from_bytes(body)
        except (ValueError, TypeError, KeyError) as exc:
            return self._error(400, f"not an assignment's bundle: {exc}")
        with self.service.bundles_lock:
            kept = self.service.bundles
            while len(kept) >= _BUNDLES_KEPT:
                kept.pop(next(iter(kept)))
            kept[m["sha"]] = bundle
        return self._json(201, {"bundle": m["sha"], "assignment": bundle.assignment})

    def _grade_class_member(self, sha: str):
        from regloss.grading.wire.jobs import StudentJob

        svc = self.service
        body = self._instructor_body()
        if body is None:
            return None
        with svc.bundles_lock:
            bundle = svc.bundles.get(sha)
        if bundle is None:
            return self._error(409, "this service does not hold that assignment's bundle: PUT it to /api/bundles/"
                                    f"{sha}, then send the job again")
        try:
            job = StudentJob.from_bytes(body, bundle=bundle)
        except (ValueError, TypeError, KeyError) as exc:
            return self._error(400, f"not a student's job: {exc}")
        if svc.stopping:
            return self._error(503, "the service is stopping; try again", retry_after=30)
        try:
            res = svc.grader.grade_job(job).result()
        except (QueueFull, CancelledError):
            return self._error(503, "the service is busy or stopping; try again", retry_after=30)
        except Exception as exc:  # noqa: BLE001 - the service's failure: the run reports it for this student
            self.log_error("grading %s for a class failed: %r", job.student_id, exc)
            return self._error(500, f"grading failed on the server: {type(exc).__name__}")
        return self._send(200, res.to_bytes(), "application/json")

    # ------------------------------------------------------------------ POST
    def do_POST(self):  # noqa: N802 - the base class's name
        svc = self.service
        g = _GRADE.match(self._path())
        if g:
            return self._grade_class_member(g["sha"])
        m = _CHECK.match(self._path())
        if not m:
            self._drain()
            return self._error(404, "no such endpoint")
        who = self._account()
        if who is None:
            self._drain()
            return self._error(401, "unknown token (send the header 'Authorization: token <your token>')")
        a = m["a"]
        if not svc.known(a):
            self._drain()
            return self._error(404, f"unknown assignment {a!r}")
        if svc.due is not None and not who.instructor and svc.clock() >= svc.due:
            self._drain()
            return self._error(403, f"the checks of {a} closed at {S.iso_time(svc.due)}")
        body = self._body(svc.max_bytes, "the notebook")
        if body is None:
            return None
        try:
            name = notebook_of(body, a, svc.grader.assignments[a].grade_ids)
        except BadNotebook as exc:
            return self._error(400, str(exc))
        if svc.stopping or not svc.grader.reserve_slot():
            return self._error(503, "the service is busy or stopping; try again", retry_after=30)
        now = svc.clock()
        decision, attempt = svc.store.reserve(a, who.student_id, now, None if who.instructor else svc.rate)
        if attempt is None:
            return self._json(429, {"error": f"at most {svc.rate} checks per student (attempts/hours)",
                                    "retry_after": decision.retry_after},
                              {"Retry-After": str(decision.retry_after)})
        self._grade(a, who, name, body, attempt, None if who.instructor or svc.rate is None else decision.remaining)

    def _grade(self, a, who, name, body, attempt, remaining):
        svc = self.service
        try:
            res = svc.grader.submit(a, who.student_id, name, body).result()
        except (QueueFull, CancelledError):
            svc.store.finish(attempt, S.INTERRUPTED, svc.clock())
            return self._error(503, "the service stopped before grading this; it was not counted", retry_after=30)
        except Exception as exc:  # noqa: BLE001 - the service's failure, not the student's
            svc.store.finish(attempt, S.FAILED, svc.clock(), mistakes=type(exc).__name__)
            self.log_error("check %s of %s failed: %r", a, who.student_id, exc)
            return self._error(500, "the check failed on the server; it was not counted")
        svc.store.finish(attempt, S.GRADED, svc.clock(), res.score, res.max_score, res.mistakes())
        self._json(200, {"student_id": who.student_id, "assignment": a, "score": res.score,
                         "max_score": res.max_score, "tests": res.tests, "remaining": remaining})

    def _drain(self, length: int | None = None):
        """Read and drop the request's body (up to a limit), so the client reads the answer."""
        if length is None:
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                return
        left = min(max(0, length), _DRAIN)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
        if length > _DRAIN:
            self.close_connection = True

    def do_DELETE(self):  # noqa: N802
        self._error(405, "method not allowed")

    do_PATCH = do_DELETE  # noqa: N815


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for every request being answered
    block_on_close = True
    request_queue_size = 128


def make_server(service: Service, host: str = "127.0.0.1", port: int = 0) -> Server:
    """An HTTP server of ``service`` (port 0: a free one, read ``server.server_address``)."""
    handler = type("BoundHandler", (Handler,), {"service": service})
    return Server((host, port), handler)
