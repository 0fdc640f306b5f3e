"""Honest notebooks keep their marks: IPython magics and shell lines in answer cells, and a
duplicated answer cell, graded through the real command (issue 23, item 7)."""

from __future__ import annotations

import copy

import pytest

from regloss.course import cells as nbcells
from tests.grading.run.test_grade_command import FULL, grade_class, read_grades, student

pytestmark = pytest.mark.slow  # grades a class through the regloss command


def _duplicated(first_source=None):
    """The full solution with the l1_loss answer cell copied just above itself (the copy holds
    ``first_source`` if given: an earlier attempt the student kept)."""
    nb = student()
    i = next(k for k, c in enumerate(nb.cells) if nbcells.grade_id(c) == "l1_loss")
    dup = copy.deepcopy(nb.cells[i])
    dup["id"] = dup["id"] + "-copy"
    if first_source is not None:
        dup.source = first_source
    nb.cells.insert(i, dup)
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("honest")
    magics = student(prepend={"l1_loss": "%matplotlib inline\n%load_ext autoreload\n",
                              "l1_loss_grad": "!echo checking\nfiles = !ls\n"})
    i = next(k for k, c in enumerate(magics.cells) if nbcells.grade_id(c) == "mse_loss")
    magics.cells[i].source = "%%time\n" + magics.cells[i].source
    kinds = {"magics": magics, "duplicate": _duplicated(),
             "duplicate_first_wrong": _duplicated("def l1_loss(input, target, reduction='mean'):\n    return 0.0\n")}
    _, out = grade_class(base, kinds)
    return read_grades(out)


@pytest.mark.parametrize("sid", ["magics", "duplicate", "duplicate_first_wrong"])
def test_an_honest_variant_keeps_full_marks(graded, sid):
    assert float(graded[sid]["auto_score"]) == FULL, graded[sid]


def test_a_duplicated_cell_is_said_not_silently_chosen(graded):
    assert "cell l1_loss appears 2 times in 01_l1_mse.ipynb; graded the last" in graded["duplicate"]["problems"]
    assert graded["magics"]["problems"] == ""

