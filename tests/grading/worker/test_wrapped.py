"""Error messages wrapped for formgrader (:mod:`regloss.grading.worker.wrapped`)."""

from __future__ import annotations

import re

import nbformat
import pytest

from regloss.grading.worker.wrapped import WIDTH, wrap_errors, wrap_line

ANSI = re.compile(r"\x1b\[[0-9;]*m")
MESSAGE = ("\x1b[31mCheckFailed\x1b[39m: l1_loss(input, target, reduction='none') [input=[3, 1], target=[1, 3]] "
           "returned shape (), PyTorch gives (2,): reduction='none' keeps the shape of input [mistake: wrong-shape]")


def visible(text: str) -> list[str]:
    return ANSI.sub("", text).split("\n")


@pytest.mark.parametrize("line", [MESSAGE, "x " * 200, "short", "a" * 150])
def test_no_visible_line_is_longer_than_the_width_unless_one_word_is(line):
    got = wrap_line(line)
    assert ANSI.sub("", got).split() == ANSI.sub("", line).split()  # the same words, in order
    for v in visible(got):
        assert len(v) <= WIDTH or " " not in v.strip(), v


def test_the_colour_of_the_exception_name_is_kept():
    assert wrap_line(MESSAGE).startswith("\x1b[31mCheckFailed\x1b[39m: l1_loss(")
    assert wrap_line(MESSAGE).split("\n")[1].startswith("    ")


def test_a_notebook_keeps_its_error_value_whole_for_the_report():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("check()")
    cell.outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue=MESSAGE[20:], traceback=[MESSAGE])]
    nb.cells = [cell]
    wrap_errors(nb)
    assert cell.outputs[0].evalue == MESSAGE[20:] and "\n" in cell.outputs[0].traceback[0]
    nbformat.validate(nb)
