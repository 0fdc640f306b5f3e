"""Hidden tests stay out of the student's kernel when the judge checks them
(:mod:`regloss.grading.worker.hidden_tests`)."""

from __future__ import annotations

import nbformat
import pytest
from traitlets.config import Config

from regloss.course import cells as nbcells
from regloss.grading.worker.hidden_tests import STASH, WithoutHiddenTests, configure, restore, withheld

SOURCE = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nprint('done')"
VERDICTS = [{"grade_id": "t_hidden", "judged": True}, {"grade_id": "t_visible", "judged": True},
            {"grade_id": "t_unjudged", "judged": False}]
TESTS = {"t_hidden": True, "t_visible": False, "t_unjudged": True}


def test_only_judged_cells_that_hold_hidden_tests_are_withheld():
    assert withheld(VERDICTS, TESTS, "message") == {"t_hidden"}
    assert withheld(None, TESTS, "message") == set()  # --no-judge: the kernel grades, with its hidden tests
    assert withheld(VERDICTS, TESTS, "code") == set()  # the feedback shows hidden code anyway


@pytest.mark.parametrize("gid, kept", [("t_hidden", False), ("t_other", True)])
def test_the_preprocessor_strips_only_the_named_test_cells(gid, kept):
    cell = nbformat.v4.new_code_cell(SOURCE, metadata={"nbgrader": {"grade_id": gid, "grade": True, "points": 1}})
    nb = nbformat.v4.new_notebook(cells=[cell])
    WithoutHiddenTests(grade_ids=["t_hidden"]).preprocess(nb, {})
    assert ("f(2)" in nb.cells[0].source) == kept
    assert "assert f(1) == 1" in nb.cells[0].source and "print('done')" in nb.cells[0].source
    restore(nb)  # after the kernel: the cell as released, and no trace of the stash
    assert nb.cells[0].source == SOURCE and STASH not in nb.cells[0].metadata


def test_a_student_cell_that_writes_the_markers_is_left_alone():
    cell = nbformat.v4.new_code_cell(SOURCE, metadata={"nbgrader": {"grade_id": "t_hidden", "solution": True}})
    nb = nbformat.v4.new_notebook(cells=[cell])
    WithoutHiddenTests(grade_ids=["t_hidden"]).preprocess(nb, {})
    assert nb.cells[0].source == SOURCE


def test_it_runs_right_after_nbgrader_restores_the_test_cells():
    cfg = Config()
    configure(cfg, {"t_hidden"})
    names = [c.__name__ for c in cfg.Autograde.sanitize_preprocessors]
    assert names[names.index("OverwriteCells") + 1] == "WithoutHiddenTests"
    assert cfg.WithoutHiddenTests.grade_ids == ["t_hidden"]
    empty = Config()
    configure(empty, set())
    assert "sanitize_preprocessors" not in empty.Autograde  # nothing withheld: nbgrader's own pipeline


def test_without_hidden_tests():
    assert nbcells.without_hidden_tests(SOURCE) == "assert f(1) == 1\nprint('done')"
    assert nbcells.without_hidden_tests("a\n### BEGIN HIDDEN TESTS\nb") == "a"  # unclosed: to the end
