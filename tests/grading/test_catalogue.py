"""Grader power: every catalogue entry is graded by the judge, and a sample by stock nbgrader.

Wrong implementations must lose points on their exercise; correct alternates
must keep full marks on every test; a function that delegates to torch, scipy
or regloss earns nothing for its exercise. The judge (what ``regloss grade``
scores with) grades every entry; stock nbgrader, running the same test cells in
the student's kernel, grades the solution, the blank release and
:func:`tests.harness.stock_sample` (the first entry of each kind per exercise;
``REGLOSS_STOCK_CATALOGUE=all`` for every entry), each wrong entry in a notebook of its own
and the correct and the delegating ones together (:func:`tests.harness.stock_students`).

Some exercises are the exception: judging an entry reruns, in the answer process, every cell
of the notebook before its tests. Before 08's ``dynamic_beta`` and ``self_adjusting_beta`` those
are the δ-factor training runs: 14 s for the solution's ``test_dynamic_beta__visible`` alone
(measured on 2 cores, with ``harness.judge_class``). The judge grades the first entry of each
kind of them (:data:`JUDGE_SAMPLED`), and every entry with ``REGLOSS_JUDGE_CATALOGUE=all``.
07's Monte Carlo and MM-fit exercises were sampled too while the judge also ran, for each
entry, an instructor demo that calls the student's loss thousands of times across the process
boundary (27 s); the judge now runs an instructor cell only when a later test needs a name it
binds (``regloss.grading.judge.plan.names_of``), and 07 is judged whole.
"""

import os

import pytest

from regloss.course import assignments
from tests import harness
from tests.catalogue import CORRECT, DELEGATES, WRONG, all_entries

ENTRIES = all_entries()


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments(harness.ROOT))
def test_solution_gets_full_marks(graded_class, assignment):
    scores, log = graded_class(assignment)
    cells = scores["solution"]
    assert cells, f"nbgrader did not grade the solution:\n{log[-3000:]}"
    got, best = harness.auto_score(cells)
    assert best > 0 and got == best, {k: (c.score, c.max_score) for k, c in cells.items()}


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("entry", harness.stock_sample(ENTRIES), ids=lambda e: f"{e.assignment}:{e.student_id}")
def test_catalogue_entry(graded_class, entry):
    scores, log = graded_class(entry.assignment)
    mine = [e for e in harness.stock_sample(ENTRIES) if e.assignment == entry.assignment]
    sid = harness.stock_student_of(entry, mine)
    cells = scores.get(sid)
    assert cells, f"nbgrader did not grade {sid}:\n{log[-3000:]}"
    got, best = harness.exercise_score(cells, entry.cell)
    assert best > 0, f"no test cells for exercise {entry.cell}"
    if entry.expect == WRONG:
        assert got < best, f"{entry.name} ({entry.why}) kept full marks {got}/{best} on {entry.cell}"
    elif entry.expect == DELEGATES:
        assert got == 0, f"{entry.name} delegates its work yet earned {got}/{best} on {entry.cell}"
    else:
        total, most = harness.auto_score(cells)
        failed = [k for k, c in cells.items() if harness.TEST_CELL.match(k) and (c.score or 0) < c.max_score]
        assert total == most, f"correct alternate {entry.name}, graded with others in {sid}, lost points on {failed}"


# --------------------------------------------------------------------------- under the judge

#: Exercises whose test cells cannot be judged outside the kernel (none: 06's tests pass
#: noise models and fits by name, 08's checks observe torch through
#: regloss.teaching.torch_probes). An exercise listed here is not judged by the tests
#: below, and test_every_test_cell_is_judge_compatible fails as soon as it becomes
#: compatible (so it leaves this table).
NOT_JUDGE_COMPATIBLE = {}

#: Entries whose mistake cannot be seen across the judge's process boundary (none today:
#: arrays changed in place and generators advanced come back from the answer process);
#: an entry listed here makes the test below fail as soon as the judge catches it.
JUDGE_BLIND = set()

_JUDGED = {}

#: Exercises whose entries the judge grades a sample of (the first of each kind), unless
#: ``REGLOSS_JUDGE_CATALOGUE=all``: each costs over 14 s to judge (see the module docstring).
JUDGE_SAMPLED = {("08_training", "dynamic_beta"), ("08_training", "self_adjusting_beta")}
JUDGE_CATALOGUE = "REGLOSS_JUDGE_CATALOGUE"


def judged_entries(entries):
    """The catalogue entries the judge grades (every one, but a sample of :data:`JUDGE_SAMPLED`)."""
    if os.environ.get(JUDGE_CATALOGUE) == "all":
        return list(entries)
    sampled = {(e.assignment, e.cell, e.expect): e for e in reversed(list(entries))}  # the first of each kind
    return [e for e in entries if (e.assignment, e.cell) not in JUDGE_SAMPLED
            or sampled[(e.assignment, e.cell, e.expect)] is e]


def judged_class(assignment):
    """The judge's scores of the same class as :func:`graded_class` (solution, blank
    release, every catalogue entry), through one answer process; computed once."""
    if assignment not in _JUDGED:
        import nbformat

        source = harness.read_source(assignment)
        release = nbformat.read(str(harness.notebook_path(assignment, tree="notebooks")), as_version=4)
        import re

        subs = {"solution": source, "blank-release": release}
        only = {}
        tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if harness.TEST_CELL.match(c.metadata.get("nbgrader", {}).get("grade_id", ""))}
        for e in judged_entries(ENTRIES):
            if e.assignment == assignment:
                subs[e.student_id] = harness.with_cells(source, e.replacements)
                # an entry changes one function: the judge runs the test cells that call it (its
                # exercise's, and any other that uses it); the rest are the solution's, judged once
                only[e.student_id] = {g for g, src in tests.items()
                                      if harness.TEST_CELL.match(g).group("function") == e.cell
                                      or re.search(rf"\b{re.escape(e.cell)}\b", src)}
        _JUDGED[assignment] = harness.judge_class(assignment, subs, only=only)
    return _JUDGED[assignment]


def _compatible(assignment, gid):
    mt = harness.TEST_CELL.match(gid)
    return not (mt and mt.group("function") in NOT_JUDGE_COMPATIBLE.get(assignment, ()))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments(harness.ROOT))
def test_every_test_cell_is_judge_compatible(assignment):
    """The solution keeps full marks under the judge: every test cell passes only plain
    data and functions importable by name to the student's functions."""
    scores, messages = judged_class(assignment)
    failed = {g: messages["solution"].get(g, "") for g, c in scores["solution"].items() if c.score < c.max_score}
    if NOT_JUDGE_COMPATIBLE.get(assignment):
        bad = {g for g in failed if not _compatible(assignment, g)}
        assert bad, f"{assignment} is judge-compatible now: remove it from NOT_JUDGE_COMPATIBLE"
        failed = {g: m for g, m in failed.items() if _compatible(assignment, g)}
    assert not failed, failed
    assert harness.auto_score(scores["blank-release"])[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e.assignment}:{e.student_id}")
def test_catalogue_entry_under_the_judge(entry):
    if entry.cell in NOT_JUDGE_COMPATIBLE.get(entry.assignment, ()):
        pytest.skip(f"{entry.assignment}'s {entry.cell} tests are not judge-compatible yet")
    if entry not in judged_entries(ENTRIES):
        pytest.skip(f"{entry.cell} is judged on the first entry of each kind ({JUDGE_CATALOGUE}=all: every one)")
    scores, messages = judged_class(entry.assignment)
    cells = scores[entry.student_id]
    got, best = harness.exercise_score(cells, entry.cell)
    assert best > 0
    if (entry.assignment, entry.student_id) in JUDGE_BLIND:
        assert got == best, f"the judge now catches {entry.name}: remove it from JUDGE_BLIND"
        pytest.xfail(f"{entry.name} ({entry.why}): arguments cross to the answer process as copies")
    if entry.expect == WRONG:
        assert got < best, f"{entry.name} ({entry.why}) kept full marks under the judge"
    elif entry.expect == DELEGATES:
        assert got == 0, f"{entry.name} delegates its work yet the judge gave {got}/{best}"
    else:
        lost = {g: messages[entry.student_id].get(g, "")[:300] for g, c in cells.items()
                if _compatible(entry.assignment, g) and c.score < c.max_score}
        assert not lost, f"correct alternate {entry.name} lost points under the judge: {lost}"
