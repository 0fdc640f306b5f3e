"""A notebook's total output capped by the grader (:mod:`regloss.grading.worker.output_cap`)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from regloss.grading.wire.problems import Kind, kernel_problems
from regloss.grading.worker.output_cap import TRACEBACK_LINES, cap_notebook, message_bytes, output_size


def stream(n, name="stdout"):
    return new_output("stream", name=name, text="x" * n)


def error(lines=50):
    return new_output("error", ename="AssertionError", evalue="wrong", traceback=[f"line {i}" for i in range(lines)])


def notebook(*cells_outputs):
    nb = new_notebook(cells=[new_markdown_cell("# title")])
    for outs in cells_outputs:
        c = new_code_cell("print(1)")
        c.outputs = list(outs)
        nb.cells.append(c)
    return nb


@pytest.mark.parametrize("out, size", [
    (stream(7), 7),
    (new_output("display_data", data={"text/plain": "abc", "image/png": "Zm9v"}), 7),
    (new_output("execute_result", data={"text/plain": "42"}, execution_count=1), 2),
    (new_output("error", ename="E", evalue="boom", traceback=["a", "bc"]), 7),
])
def test_an_output_counts_its_text_data_and_error(out, size):
    assert output_size(out) == size


def test_a_notebook_under_its_cap_is_left_as_it_was():
    nb = notebook([stream(10)], [stream(20), error(3)])
    before = nbformat.writes(nb)
    assert cap_notebook(nb, 1000) == []
    assert nbformat.writes(nb) == before


def test_six_hundred_cells_of_output_keep_what_the_cap_allows_and_say_where_they_were_cut():
    nb = notebook(*[[stream(100_000)] for _ in range(600)])
    cut = cap_notebook(nb, 5_000_000)
    kept = sum(output_size(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs
               if "truncated" not in o.get("text", ""))
    assert kept == 5_000_000 and len(cut) == 550
    assert len(nbformat.writes(nb)) < 5_000_000 + 600 * 500  # each cell its JSON and a note: not 60 MB
    problems = kernel_problems([nb], 60, 2048)  # one problem for the flood, not 550
    assert [(p.kind, p.cell) for p in problems] == [(Kind.OUTPUT_TRUNCATED, "cell 52")]
    assert "what 550 cell(s) printed from cell 52 on was cut" in problems[0]


def test_an_error_is_always_kept_so_the_score_is_the_same_but_its_traceback_is_shortened():
    nb = notebook([stream(100)], [stream(50), error(500)])
    cap_notebook(nb, 100)
    outs = nb.cells[2].outputs
    assert [o.output_type for o in outs] == ["error", "stream"]
    assert len(outs[0].traceback) == TRACEBACK_LINES and outs[0].traceback[-1] == "line 499"


def test_capping_twice_adds_no_second_note():
    nb = notebook([stream(100)], [stream(100)])
    cap_notebook(nb, 150)
    once = nbformat.writes(nb)
    cap_notebook(nb, 150)
    assert nbformat.writes(nb) == once


def test_no_single_message_may_be_larger_than_the_whole_allowance():
    assert message_bytes(5_000_000) >= 4 * 5_000_000
    assert message_bytes(10) < message_bytes(5_000_000)
