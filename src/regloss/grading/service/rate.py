"""The rate of ``--rate N/HOURS``: at most N graded attempts per student and assignment in
any window of HOURS hours (a sliding window), and its arithmetic, pure."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from regloss.course import CourseError


@dataclass(frozen=True)
class Rate:
    """At most ``n`` attempts in any ``hours`` hours."""

    n: int
    hours: float

    @property
    def window(self) -> float:
        """The window in seconds."""
        return self.hours * 3600.0

    def __str__(self) -> str:
        return f"{self.n}/{self.hours:g}"


def parse_rate(text: str) -> Rate:
    """``"5/24"`` -> ``Rate(5, 24.0)``; ``"N"`` alone means per hour."""
    n_text, _, h_text = str(text).strip().partition("/")
    try:
        n = int(n_text)
        hours = float(h_text) if h_text else 1.0
    except ValueError:
        raise CourseError(f"--rate must be N/HOURS (e.g. 5/24), got {text!r}") from None
    if n < 1 or not hours > 0 or not math.isfinite(hours):
        raise CourseError(f"--rate must be N/HOURS with N >= 1 and HOURS > 0, got {text!r}")
    return Rate(n, hours)


@dataclass(frozen=True)
class Decision:
    """Whether an attempt at ``now`` is allowed; what is left after it; when to retry if not."""

    allowed: bool
    remaining: int  # attempts left in the window once this one (if allowed) is counted
    retry_after: int  # seconds (0 when allowed)


def decide(rate: Rate, times: Iterable[float], now: float) -> Decision:
    """Allow an attempt at ``now`` given the times of the earlier counted ones.

    Attempts older than the window no longer count; with ``n`` in the window, the next is
    allowed when the oldest of them leaves it: ``retry_after`` is rounded up to a whole
    second, and at least 1.
    """
    recent = sorted(t for t in times if now - t < rate.window)
    if len(recent) < rate.n:
        return Decision(True, rate.n - len(recent) - 1, 0)
    # the attempt that must leave the window for one more to fit
    frees = recent[len(recent) - rate.n] + rate.window
    return Decision(False, 0, max(1, math.ceil(frees - now)))
