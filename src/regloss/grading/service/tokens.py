"""The tokens file of ``regloss serve --tokens FILE``: a CSV ``token,student_id,role``.

Role ``student`` or ``instructor``. A header row (``token,student_id,role``) is optional;
blank lines and lines starting with ``#`` are skipped. Every mistake in the file is the
instructor's, so it is a :class:`regloss.course.CourseError` naming the line.
"""

from __future__ import annotations

import csv
import hmac
import io
from dataclasses import dataclass
from pathlib import Path

from regloss.course import CourseError

ROLES = ("student", "instructor")
HEADER = ["token", "student_id", "role"]
MIN_TOKEN = 8  # characters: a shorter token can be guessed


@dataclass(frozen=True)
class Account:
    """Who a token is."""

    token: str
    student_id: str
    role: str

    @property
    def instructor(self) -> bool:
        return self.role == "instructor"


def parse_tokens(text: str, where: str = "tokens file") -> dict[str, Account]:
    """``{token: Account}`` of the CSV ``text``."""
    out: dict[str, Account] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if n == 1 and [c.lower() for c in cells] == HEADER:
            continue
        if len(cells) != 3:
            raise CourseError(f"{where}, line {n}: expected token,student_id,role, got {len(cells)} field(s)")
        token, sid, role = cells
        if role not in ROLES:
            raise CourseError(f"{where}, line {n}: role must be student or instructor, got {role!r}")
        if len(token) < MIN_TOKEN or any(c.isspace() for c in token):
            raise CourseError(f"{where}, line {n}: a token needs at least {MIN_TOKEN} characters and no spaces")
        if not sid or "/" in sid or sid.startswith("."):
            raise CourseError(f"{where}, line {n}: {sid!r} is not a student id")
        if token in out:
            raise CourseError(f"{where}, line {n}: this token is already given to {out[token].student_id}")
        out[token] = Account(token, sid, role)
    if not out:
        raise CourseError(f"{where}: no tokens")
    return out


def read_tokens(path) -> dict[str, Account]:
    """``{token: Account}`` of the file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"cannot read the tokens file {p}: {exc}") from exc
    return parse_tokens(text, str(p))


def authenticate(header: str | None, accounts: dict[str, Account]) -> Account | None:
    """The account of an ``Authorization: token <token>`` header (``Bearer`` too), or None.

    Compared in constant time against every known token (no timing oracle)."""
    if not header:
        return None
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not given.strip():
        return None
    given_b = given.strip().encode()
    found = None
    for token, account in accounts.items():
        if hmac.compare_digest(token.encode(), given_b):
            found = account
    return found
