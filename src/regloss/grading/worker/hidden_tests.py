"""Hidden tests stay out of the student's kernel when the judge checks them.

nbgrader restores every test cell of the submission from the gradebook (``OverwriteCells``)
and runs the notebook in the student's kernel, hidden tests included: the kernel holds their
source (``In``, ``_ih``, the cell's code object), and a later cell can print it into the
student's own feedback. Under the judge the kernel's run is only for the feedback page: a
cell the judge checked gets its grade from the judge, which runs the hidden tests itself. So
:class:`WithoutHiddenTests`, placed right after ``OverwriteCells``, removes the hidden-test
regions of those cells before the kernel starts, and :func:`restore` puts them back in the
autograded notebook once it has run (so formgrader shows each test cell as released). A cell
the judge could not check (``judged`` False) keeps them: its grade comes from the kernel.
With ``--feedback-hidden code`` the instructor shows hidden tests to students anyway, and
they are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import List as TList

from regloss.course import cells as nbcells

#: Where a withheld cell's whole source waits, in the cell's metadata, while the kernel runs.
STASH = "regloss_withheld_source"


def withheld(verdicts: Iterable[Mapping[str, Any]] | None, tests: Mapping[str, bool], feedback_hidden: str) -> set[str]:
    """The test cells whose hidden tests the kernel does not get: those holding hidden tests that
    the judge checked (none without the judge, or when the feedback shows hidden code)."""
    if verdicts is None or feedback_hidden == "code":
        return set()
    return {v["grade_id"] for v in verdicts if v.get("judged", True) and tests.get(v["grade_id"])}


class WithoutHiddenTests(NbGraderPreprocessor):
    """Remove the hidden-test regions of the test cells named in :attr:`grade_ids`."""

    grade_ids: TList[str] = TList([], help="grade ids of the test cells to run without their hidden tests").tag(
        config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if nbcells.is_test(cell) and nbcells.grade_id(cell) in set(self.grade_ids):
            cell.metadata[STASH] = cell.source  # metadata never reaches the kernel; put back by restore()
            cell.source = nbcells.without_hidden_tests(cell.source)
        return cell, resources


def restore(nb: Any) -> None:
    """Put the withheld test cells' whole source back, after the kernel has run: the autograded
    notebook formgrader shows holds each test cell as released."""
    for cell in nb.cells:
        if STASH in cell.get("metadata", {}):
            cell.source = cell.metadata.pop(STASH)


def configure(cfg: Any, grade_ids: Iterable[str]) -> None:
    """Run :class:`WithoutHiddenTests` for ``grade_ids`` right after nbgrader restores the test cells."""
    ids = sorted(grade_ids)
    if not ids:
        return
    sanitize = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    sanitize.insert(sanitize.index(OverwriteCells) + 1, WithoutHiddenTests)
    cfg.Autograde.sanitize_preprocessors = sanitize
    cfg.WithoutHiddenTests.grade_ids = ids
