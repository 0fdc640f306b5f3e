"""nbgrader's cell metadata, read and written in one place (:mod:`regloss.course.cells`)."""

from __future__ import annotations

import copy

import pytest

from regloss.course import cells as nbcells


def test_one_grade_id_per_cell_keeps_a_solutions_last_copy_and_a_tests_first():
    sol = {"cell_type": "code", "source": "", "metadata": {"nbgrader": {"grade_id": "f", "solution": True}}}
    test = {"cell_type": "code", "source": "", "metadata": {"nbgrader": {"grade_id": "t", "grade": True}}}
    cells = [copy.deepcopy(sol), copy.deepcopy(test), copy.deepcopy(sol), copy.deepcopy(test)]
    assert nbcells.keep_one_per_grade_id(cells) == {"f": 2, "t": 1}
    assert [nbcells.grade_id(c) for c in cells] == [None, "t", "f", None]
    assert nbcells.duplicated_grade_ids(cells) == {}


@pytest.mark.parametrize("cell", [None, 3, {}, {"metadata": None}, {"metadata": {"nbgrader": "x"}},
                                  {"metadata": {"nbgrader": {"grade_id": 7}}}, {"cell_type": "code", "source": None}])
def test_a_malformed_cell_reads_as_an_unmarked_one(cell):
    assert nbcells.grade_id(cell) is None and not nbcells.is_test(cell) and not nbcells.is_solution(cell)
    assert nbcells.source(cell) == ""


def test_markers_and_names():
    assert nbcells.without_solution_markers("a\n    ### BEGIN SOLUTION\nx = 1\n### END SOLUTION\nb") == "a\nx = 1\nb"
    assert nbcells.holds_hidden_tests("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS")
    assert nbcells.tested_function("test_l1_loss_grad__hidden") == "l1_loss_grad"
    assert nbcells.tested_function("derive") == "derive"
    assert nbcells.source({"source": ["a\n", "b"]}) == "a\nb"


@pytest.mark.parametrize("kind", ["solution", "tests", "manual", "readonly", "task"])
def test_what_is_written_reads_back_as_the_same_kind(kind):
    cell = {"cell_type": "markdown" if kind in ("manual", "task") else "code", "source": "",
            "metadata": {"nbgrader": nbcells.nbgrader_meta(kind, "g", 2.0)}}
    assert nbcells.kind_of(cell) == kind and nbcells.grade_id(cell) == "g"
