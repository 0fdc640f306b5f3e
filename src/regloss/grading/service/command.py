"""``regloss serve``: the grading service, wired together and run until SIGTERM or Ctrl-C.

The first SIGTERM (or Ctrl-C) stops taking checks (new ones get 503), finishes every
check already queued and answers it, records it in the attempt log, and exits; a second
one cancels the checks not yet started (recorded as ``interrupted``, not counted) and
waits only for those running.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

from regloss.course import CourseError


def parse_due(text: str | None) -> float | None:
    """An ISO 8601 date and time as epoch seconds (no time zone: UTC); None for None."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CourseError(f"--due must be an ISO 8601 date and time (e.g. 2026-12-24T23:59:00+01:00), "
                          f"got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def serve(assignments=None, *, port: int, tokens, rate: str | None = None, due: str | None = None,
          db: str | None = None, workers: int = 1, host: str = "127.0.0.1", state=None, settings=None,
          timeout: int = 60, root=None, queue: int = 200, instructors=(), log=print) -> str:
    """Run the service until it is stopped; see ``regloss serve --help``. Returns a last line."""
    from regloss import course
    from regloss.grading.service.backend import Grader, load_assignment
    from regloss.grading.service.handlers import Service, make_server
    from regloss.grading.service.rate import parse_rate
    from regloss.grading.service.store import AttemptStore
    from regloss.grading.service.tokens import read_tokens
    from regloss.grading.settings import Settings

    hub_url = os.environ.get("JUPYTERHUB_API_URL")
    if not tokens and not hub_url:
        raise CourseError("--tokens FILE is needed (or run as a JupyterHub service, with $JUPYTERHUB_API_URL)")
    accounts = read_tokens(tokens) if tokens else {}
    the_rate = parse_rate(rate) if rate else None
    due_at = parse_due(due)
    if workers < 1:
        raise CourseError(f"--workers must be positive, got {workers}")
    root = Path(root) if root else course.find_root()
    names = list(assignments or course.assignments(root))
    for name in names:  # every name checked before anything is generated
        course.check_assignment(name, root)
    state = Path(state) if state else root / "grading" / "serve"
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    attempts = AttemptStore(db, default_path=state / "attempts.db")
    secrets = [Path(tokens).resolve()] if tokens else []
    if attempts.path is not None:
        secrets += [attempts.path.resolve().with_name(attempts.path.name + x) for x in ("", "-wal", "-shm")]
    lost = attempts.recover()
    if lost:
        log(f"{lost} attempt(s) left queued by a service that stopped were recorded as interrupted")
    # a check answers in JSON: no feedback page to render (a class graded through the service has its own)
    s = replace(settings or Settings(), workers=workers, progress=False, timeout=timeout, feedback=False)
    s.validate()
    loaded = {}
    for name in names:
        log(f"preparing {name} ...")
        loaded[name] = load_assignment(root, name, state, secrets)
    grader = Grader(loaded, s, capacity=max(queue, workers), hide=[state.resolve(), *secrets])
    service = Service(accounts, grader, attempts, the_rate, due_at)
    if hub_url:
        from regloss.grading.service.hub import HubAuth

        service.hub = HubAuth(hub_url, frozenset(a.student_id for a in accounts.values() if a.instructor)
                              | frozenset(instructors))
        # behind the Hub's proxy, requests keep the service's prefix (/services/<name>/api/...)
        service.prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "").rstrip("/")
        log(f"students are authenticated by JupyterHub at {hub_url} too")
    try:
        server = make_server(service, host, port)
    except OSError as exc:
        grader.close(cancel=True)
        raise CourseError(f"cannot listen on {host}:{port}: {exc}") from exc
    signals = {"n": 0}

    def stop(signum, _frame):
        signals["n"] += 1
        service.stopping = True
        if signals["n"] == 1:
            log(f"{signal.Signals(signum).name}: finishing the queued checks, then stopping")
            threading.Thread(target=server.shutdown, daemon=True).start()
        else:
            log("stopping now: checks not yet started are cancelled (recorded as interrupted)")
            grader.pool.shutdown(wait=False, cancel_futures=True)

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    host_, port_ = server.server_address[:2]
    where = f"http://{host_!s}:{port_}"
    log(f"serving {', '.join(names)} on {where}: {grader.workers} worker(s), isolation: {grader.iso.describe()}; "
        f"rate {the_rate or 'unlimited'} (attempts/hours), due {due or 'never'}; attempt log {attempts.url}")
    t0 = time.monotonic()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()  # waits for every request being answered
        grader.close(cancel=signals["n"] > 1)
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return f"stopped after {time.monotonic() - t0:.0f} s"
