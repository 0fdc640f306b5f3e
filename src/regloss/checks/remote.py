"""The seam between the checks and the grader's judge: a function that lives elsewhere.

Under the grader, a test cell's checks run in the judge process, and the student's
function is not there: it lives in the sandboxed answer process, and the judge hands
the checks a proxy (:class:`regloss.grading.judge.client.RemoteFunction`). Two checks
must then do their work where the function lives, not in the judge:

* the own-work check (:func:`regloss.checks.own_work.forbidden_calls`) profiles the
  call in the answer process (:meth:`Elsewhere.forbidden_calls`);
* a probe of how the function behaves on torch tensors (:mod:`regloss.checks.training`)
  runs beside it there (:meth:`Elsewhere.call_beside`).

The checks recognise such a function with ``isinstance(fn, Elsewhere)``: this module
defines the interface the checks need, and the grader implements it (the checks never
import the grader). In a student's kernel every function is an ordinary one.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any


class Elsewhere(abc.ABC):
    """A function that runs in another process; calling it sends plain data there."""

    __name__: str

    @abc.abstractmethod
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function where it lives."""

    @abc.abstractmethod
    def call_beside(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` run in the process where this function lives.

        ``fn`` must be importable there by name (or a :class:`functools.partial` of such
        a function); ``args`` may hold this function (or any :class:`Elsewhere`).
        """

    @abc.abstractmethod
    def forbidden_calls(self, args: Sequence[Any], kwargs: dict[str, Any], forbidden: Sequence[str]) -> list[str]:
        """The forbidden calls this function makes on ``args`` and ``kwargs``, profiled where it
        lives (``forbidden``: qualified functions, and ``"module:<name>"`` for whole modules)."""
