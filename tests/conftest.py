import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.catalogue import all_entries  # noqa: E402


@pytest.fixture(scope="session")
def graded_class():
    """``graded_class(assignment)``: the autograded scores of one class per assignment,
    holding the solution, the blank release and the catalogue entries of
    :func:`tests.harness.stock_sample`; computed once."""
    cache = {}

    def grade(assignment):
        if assignment not in cache:
            import nbformat

            source = harness.read_source(assignment)
            release = nbformat.read(str(harness.notebook_path(assignment, tree="notebooks")), as_version=4)
            subs = {"solution": source, "blank-release": release}
            for e in harness.stock_sample(all_entries()):
                if e.assignment == assignment:
                    subs[e.student_id] = harness.with_cells(source, e.replacements)
            cache[assignment] = harness.autograde_class(assignment, subs)
        return cache[assignment]

    return grade
