"""The functions a call is given: :func:`functions_given`.

Shared by the own-work check in the kernel (:mod:`regloss.checks.own_work`) and
in the judge's answer process (:mod:`regloss.grading.sandboxed.answer`, which cannot import
``regloss.checks``): what runs inside a function the test passes in (a noise model
handed to a Monte Carlo study) is the caller's work, not the graded function's.
"""

from __future__ import annotations

import functools


def functions_given(args, kwargs, limit=10_000):
    """Every callable among ``args`` and ``kwargs``' values, also inside lists, tuples,
    dicts and :class:`functools.partial` (its function and its bound arguments); at
    most ``limit`` values are looked at."""
    found, todo, n = [], [*args, *kwargs.values()], 0
    while todo and n < limit:
        v, n = todo.pop(), n + 1
        if type(v) in (list, tuple):
            todo.extend(v)
        elif type(v) is dict:
            todo.extend(v.values())
        elif isinstance(v, functools.partial):
            todo.extend([v.func, *v.args, *v.keywords.values()])
        elif callable(v):
            found.append(v)
    return found


def code_of(fn):
    """The code object of a function or method (None for a builtin or a callable object)."""
    return getattr(getattr(fn, "__func__", fn), "__code__", None)


class GivenCalls:
    """For a profiler: whether an event happens inside a function the call was given.

    ``inside(frame, event)`` is True from the call of a function whose code is in
    ``given`` to its return, so what runs there is not counted as the graded
    function's work -- except the notebook's own code (``__main__``) called back
    from there, which counts again until it returns.
    """

    def __init__(self, given):
        self.given = given
        self.stack = []  # [(frame, exempt)]

    def inside(self, frame, event):
        stack = self.stack
        if stack and event == "return" and frame is stack[-1][0]:
            stack.pop()
            return True
        if event == "call":
            if frame.f_code in self.given:
                stack.append((frame, True))
                return True
            if stack and stack[-1][1] and frame.f_globals.get("__name__") == "__main__":
                stack.append((frame, False))
        return bool(stack and stack[-1][1])
