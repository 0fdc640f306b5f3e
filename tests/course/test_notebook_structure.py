"""No markdown stuck in a code cell: a section heading written as a comment at the end of a
code cell never renders (in the source or in the release), so its section is lost to a reader.

A line of a code cell is a *stuck markdown heading* when it is

* a commented-out markdown heading, as the percent format writes markdown (``# ## 5. Title``):
  ``#``, optional blanks, one to six ``#``, a blank and a title; or a bare heading of two to
  six ``#`` (``## Title``) that is not one of nbgrader's markers (``### BEGIN SOLUTION``, ...);
* or a one-``#`` heading (``# Title``, capitalised or numbered) that stands alone after code: a
  line of code comes before it in the cell, the line just above it is blank (or a bare ``#``),
  and only comments and blank lines follow it to the end of the cell, a block of prose
  pasted after the code.

An ordinary comment is none of these: it starts the cell (``# The worked examples: ...``),
or code follows it.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from regloss import course
from tests.harness import ROOT

COMMENTED_HEADING = re.compile(r"^#\s*#{1,6}\s+\S")
BARE_HEADING = re.compile(r"^#{2,6}\s+\S")
NBGRADER_MARKER = re.compile(r"^###\s+(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS)\b")
TITLE = re.compile(r"^#{1,6} [A-Z0-9]")


def _is_code(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def _is_blank(line: str) -> bool:
    return line.strip() in ("", "#")


def stuck_headings(source: str) -> list[str]:
    """The lines of a code cell's ``source`` that are markdown headings (see the module's doc)."""
    lines = source.split("\n")
    found = []
    for i, line in enumerate(lines):
        if NBGRADER_MARKER.match(line):
            continue
        if COMMENTED_HEADING.match(line) or BARE_HEADING.match(line):
            found.append(line)
        elif (TITLE.match(line) and i > 0 and _is_blank(lines[i - 1])
              and any(_is_code(x) for x in lines[:i]) and not any(_is_code(x) for x in lines[i + 1:])):
            found.append(line)
    return found


def _notebooks():
    for a in course.assignments(ROOT):
        yield from sorted((ROOT / "solutions" / a).glob("*.ipynb"))


@pytest.mark.parametrize("path", list(_notebooks()), ids=lambda p: p.stem)
def test_no_markdown_heading_in_a_code_cell(path):
    nb = nbformat.read(str(path), as_version=4)
    stuck = {cell.id: found for cell in nb.cells if cell.cell_type == "code"
             if (found := stuck_headings(cell.source))}
    assert not stuck, f"{path.name}: markdown headings in code cells (make them markdown cells): {stuck}"


@pytest.mark.parametrize("source", [
    "x = 1\n#\n# ## 5. Where the two names come from\n#\n# * prose",
    "print(1)\n# ## 8. Which fit to trust",
    "## Results\nx = 1",
    "y = f(x)\n\n# Where the two names come from\n#\n# Some prose that follows.",
    "y = f(x)\n\n# 5. Conclusions",
])
def test_a_heading_stuck_in_code_is_found(source):
    assert stuck_headings(source), source


@pytest.mark.parametrize("source", [
    "# The worked examples: [3, 1] vs [1, 3], under every reduction.\nfor r in R:\n    check(r)",
    "# Hidden tests run here when your notebook is graded.\n### BEGIN HIDDEN TESTS\ncheck()\n### END HIDDEN TESTS",
    "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION",
    "x = 1\n\n# Now the same with float32:\ny = np.float32(x)",
    "x = 1  # A trailing comment\n# so is this: lower case after code",
    "import numpy as np\n\n# Called like torch: defaults\ncheck(f)",
])
def test_an_ordinary_comment_is_not_a_heading(source):
    assert not stuck_headings(source), source
