"""Grader power: every catalogue entry is autograded with stock nbgrader.

Wrong implementations must lose points on their exercise; correct alternates
must keep full marks on every test; a function that delegates to torch, scipy
or regloss earns nothing for its exercise.
"""

import pytest

from regloss.course import assignments
from tests import harness
from tests.catalogue import CORRECT, DELEGATES, WRONG, all_entries

ENTRIES = all_entries()


@pytest.mark.parametrize("assignment", assignments(harness.ROOT))
def test_solution_gets_full_marks(graded_class, assignment):
    scores, log = graded_class(assignment)
    cells = scores["solution"]
    assert cells, f"nbgrader did not grade the solution:\n{log[-3000:]}"
    got, best = harness.auto_score(cells)
    assert best > 0 and got == best, {k: (c.score, c.max_score) for k, c in cells.items()}


@pytest.mark.parametrize("assignment", assignments(harness.ROOT))
def test_blank_release_scores_zero(graded_class, assignment):
    scores, log = graded_class(assignment)
    cells = scores["blank-release"]
    assert cells, f"nbgrader did not grade the blank release:\n{log[-3000:]}"
    assert harness.auto_score(cells)[0] == 0, {k: c.score for k, c in cells.items()}


@pytest.mark.parametrize("assignment", assignments(harness.ROOT))
def test_catalogue_covers_every_exercise(assignment):
    """At least five wrong and two correct entries for every graded function."""
    for ex in harness.exercises(assignment):
        mine = [e for e in ENTRIES if e.assignment == assignment and e.cell == ex]
        assert sum(e.expect == WRONG for e in mine) >= 5, f"{assignment}/{ex}: fewer than 5 wrong entries"
        assert sum(e.expect == CORRECT for e in mine) >= 2, f"{assignment}/{ex}: fewer than 2 correct entries"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e.assignment}:{e.student_id}")
def test_catalogue_entry(graded_class, entry):
    scores, log = graded_class(entry.assignment)
    cells = scores.get(entry.student_id)
    assert cells, f"nbgrader did not grade {entry.student_id}:\n{log[-3000:]}"
    got, best = harness.exercise_score(cells, entry.cell)
    assert best > 0, f"no test cells for exercise {entry.cell}"
    if entry.expect == WRONG:
        assert got < best, f"{entry.name} ({entry.why}) kept full marks {got}/{best} on {entry.cell}"
    elif entry.expect == DELEGATES:
        assert got == 0, f"{entry.name} delegates its work yet earned {got}/{best} on {entry.cell}"
    else:
        total, most = harness.auto_score(cells)
        failed = [k for k, c in cells.items() if harness.TEST_CELL.match(k) and (c.score or 0) < c.max_score]
        assert total == most, f"correct alternate {entry.name} lost points on {failed}"
