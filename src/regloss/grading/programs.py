"""The programs a grading run starts, by name: the one place their module paths are written.

Each is a module of this package run as ``python -m <module>`` (or, where a warm
process or a zygote forks it, its ``main`` called in the fork); each defines
``main(argv)``. ``tests/grading/test_programs.py`` checks that every name imports and
has its ``main``.
"""

from __future__ import annotations

import sys
from enum import StrEnum


class Program(StrEnum):
    """A program of the grader (its module)."""

    JUDGE = "regloss.grading.judge.judging"          # the instructor's tests against proxies
    ANSWER = "regloss.grading.sandboxed.answer"      # the student's code, for the judge
    KERNEL = "regloss.grading.sandboxed.kernel"      # the student's code, for the feedback
    AUTOGRADE = "regloss.grading.worker.autograde"   # nbgrader for one student
    WARM = "regloss.grading.worker.warm"             # nbgrader for many students, warm
    ISOLATION = "regloss.grading.sandboxed.isolation"  # the sandbox's probes
    KERNEL_START = "regloss.grading.sandboxed.kernel_start"  # what a kernel needs to start (--memory's floor)

    def argv(self, *args: str) -> list[str]:
        """``[python, "-m", module, *args]`` with this interpreter."""
        return [sys.executable, "-m", self.value, *args]
