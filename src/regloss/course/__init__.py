"""The course on disk: its root and assignments, nbgrader as a tool, the release
(with its generated answer files), and authoring (notebook <-> text).

Modules: :mod:`~regloss.course.root`, :mod:`~regloss.course.nbgrader_tool`,
:mod:`~regloss.course.shipped`, :mod:`~regloss.course.release`,
:mod:`~regloss.course.authoring`.
"""

from regloss.course.nbgrader_tool import nbgrader, tool_env
from regloss.course.release import release
from regloss.course.root import CONFIG, CourseError, assignments, check_assignment, find_root

__all__ = ["CONFIG", "CourseError", "assignments", "check_assignment", "find_root", "nbgrader", "release", "tool_env"]
