"""Compatibility: the grading run moved to :mod:`regloss.grading.parent` (the parent)
and :mod:`regloss.grading.worker` (one student). Kept only until every caller
imports :mod:`regloss.grading.parent`."""

from regloss.grading.parent import Settings, grade_class  # noqa: F401
