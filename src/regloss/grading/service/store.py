"""The attempt log and the rate counter, in a database: one row per attempt.

An attempt is *reserved* (a row with status ``queued``) in the same transaction that
counts the student's earlier attempts, before it is graded: with SQLite a ``BEGIN
IMMEDIATE`` transaction (one writer at a time, across processes too), with PostgreSQL a
transaction-level advisory lock on the (assignment, student) pair. So parallel requests
cannot pass the rate together. Then the attempt is *finished*: ``graded`` (score, the
mistakes), or ``failed`` (the service could not grade it: not the student's fault, not
counted) or ``interrupted`` (the service stopped before grading it: recorded, not
counted). An attempt still ``queued`` when a service starts was left by one that died:
it is marked ``interrupted``.

``--db``: a file path or ``sqlite:///PATH`` (SQLite, the default), or a
``postgresql://`` URL (psycopg 3). The table is ``regloss_attempts``, beside nbgrader's
tables when the URL is the gradebook's.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from regloss.course import CourseError
from regloss.grading.service.rate import Decision, Rate, decide

QUEUED, GRADED, FAILED, INTERRUPTED = "queued", "graded", "failed", "interrupted"
#: the statuses that count toward the rate
COUNTED = (QUEUED, GRADED)
CSV_HEADER = ["student_id", "time", "score", "max_score", "mistakes"]

_COLUMNS = ("assignment TEXT NOT NULL, student_id TEXT NOT NULL, started DOUBLE PRECISION NOT NULL, "
            "finished DOUBLE PRECISION, status TEXT NOT NULL, score DOUBLE PRECISION, "
            "max_score DOUBLE PRECISION, mistakes TEXT NOT NULL DEFAULT ''")


def iso_time(epoch: float) -> str:
    """``epoch`` as ISO 8601 UTC, to the second."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def attempts_csv(rows: list[dict[str, Any]]) -> str:
    """The CSV ``student_id,time,score,max_score,mistakes`` of attempt rows (in order).

    An attempt that was not graded has no score; its ``mistakes`` says what became of it."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for r in rows:
        graded = r["status"] == GRADED
        w.writerow([r["student_id"], iso_time(r["started"]), _num(r["score"]) if graded else "",
                    _num(r["max_score"]) if graded else "", r["mistakes"] if graded else f"({r['status']})"])
    return buf.getvalue()


def _num(x) -> str:
    return "" if x is None else f"{float(x):g}"


class AttemptStore:
    """The attempt log of one database (thread-safe: a connection per call)."""

    def __init__(self, url: str | None, default_path: Path | None = None):
        url = url or f"sqlite:///{default_path}"
        self.postgres = url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))
        if self.postgres:
            self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)
            self.path = None
        else:
            rest = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
            if "://" in rest:
                raise CourseError(f"--db must be a file, sqlite:///PATH or postgresql://..., got {url}")
            self.path = Path(rest)
            self.url = f"sqlite:///{self.path}"
        self._lock = threading.Lock()
        try:
            self._create()
        except Exception as exc:  # noqa: BLE001 - an unreachable server, a folder we cannot write
            from regloss.grading.run.gradebook import without_password

            raise CourseError(without_password(f"cannot open the attempt log {self.url}: {exc}", self.url)) from exc

    # ------------------------------------------------------------------ connections
    @contextlib.contextmanager
    def _tx(self, exclusive: bool = False) -> Iterator[Any]:
        """A connection inside one transaction (committed on success, rolled back on error)."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url, connect_timeout=10) as pg:  # commits or rolls back on exit
                yield pg
            return
        assert self.path is not None
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def _create(self):
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.closing(sqlite3.connect(self.path)) as c:
                c.execute("PRAGMA journal_mode = WAL")
            self.path.chmod(0o600)  # the class's attempts: the instructor's alone (its -wal, -shm follow it)
        key = "id BIGSERIAL PRIMARY KEY" if self.postgres else "id INTEGER PRIMARY KEY AUTOINCREMENT"
        with self._tx(exclusive=True) as conn:
            if self.postgres:  # two services creating the table at once
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key("regloss_attempts"),))
            conn.execute(f"CREATE TABLE IF NOT EXISTS regloss_attempts ({key}, {_COLUMNS})")
            conn.execute("CREATE INDEX IF NOT EXISTS regloss_attempts_who ON regloss_attempts "
                         "(assignment, student_id, started)")

    # ------------------------------------------------------------------ attempts
    def recover(self) -> int:
        """Mark the attempts a service that died left ``queued`` as ``interrupted``; how many."""
        with self._tx(exclusive=True) as conn:
            cur = conn.execute(self._q("UPDATE regloss_attempts SET status = ?, mistakes = ? WHERE status = ?"),
                               (INTERRUPTED, "", QUEUED))
            return cur.rowcount or 0

    def reserve(self, assignment: str, student_id: str, now: float, rate: Rate | None) -> tuple[Decision, int | None]:
        """Count the student's attempts and, if the rate allows one more, record it as
        ``queued``, atomically. Returns the decision and the new attempt's id (None if refused)."""
        with self._tx(exclusive=True) as conn:
            if self.postgres:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(f"{assignment}\0{student_id}"),))
            decision = Decision(True, -1, 0)
            if rate is not None:
                rows = conn.execute(self._q(
                    "SELECT started FROM regloss_attempts WHERE assignment = ? AND student_id = ? "
                    f"AND status IN ({', '.join('?' for _ in COUNTED)}) AND started > ?"),
                    (assignment, student_id, *COUNTED, now - rate.window)).fetchall()
                decision = decide(rate, [r[0] for r in rows], now)
                if not decision.allowed:
                    return decision, None
            sql = "INSERT INTO regloss_attempts (assignment, student_id, started, status) VALUES (?, ?, ?, ?)"
            row = (assignment, student_id, now, QUEUED)
            if self.postgres:
                attempt = conn.execute(self._q(sql + " RETURNING id"), row).fetchone()[0]
            else:
                attempt = conn.execute(sql, row).lastrowid
            return decision, int(attempt)

    def finish(self, attempt: int, status: str, finished: float, score: float | None = None,
               max_score: float | None = None, mistakes: str = "") -> None:
        """Record what became of a reserved attempt."""
        with self._tx() as conn:
            conn.execute(self._q("UPDATE regloss_attempts SET status = ?, finished = ?, score = ?, max_score = ?, "
                                 "mistakes = ? WHERE id = ?"), (status, finished, score, max_score, mistakes, attempt))

    def rows(self, assignment: str, student_id: str | None = None) -> list[dict[str, Any]]:
        """The attempts at ``assignment`` (of one student, or everyone's), oldest first."""
        sql = "SELECT id, student_id, started, finished, status, score, max_score, mistakes FROM regloss_attempts " \
              "WHERE assignment = ?"
        args: tuple = (assignment,)
        if student_id is not None:
            sql, args = sql + " AND student_id = ?", (*args, student_id)
        with self._tx() as conn:
            got = conn.execute(self._q(sql + " ORDER BY started, id"), args).fetchall()
        keys = ("id", "student_id", "started", "finished", "status", "score", "max_score", "mistakes")
        return [dict(zip(keys, r, strict=True)) for r in got]


def _lock_key(text: str) -> int:
    """A signed 64-bit advisory-lock key for ``text``."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)
