"""Error messages wrapped for the notebook formgrader shows.

A check's message is one long line (the call, the values, PyTorch's, the likely mistake):
formgrader shows a cell's error (its traceback lines) in a block that does not wrap, so the
message ran off the right edge while an instructor graded. :func:`wrap_errors` breaks every
traceback line longer than :data:`WIDTH` characters into lines of at most that many (the
colour codes that start a line kept, not counted), in the autograded notebook, after it is
made inert and before the feedback is made from it. The error's value (``evalue``) is left
whole: the report reads the mistake's tag from it.
"""

from __future__ import annotations

import textwrap
from typing import Any

from regloss.grading.wire.problems import ANSI

#: The longest line of an error formgrader shows.
WIDTH = 100


def wrap_line(line: str, width: int = WIDTH) -> str:
    """``line`` (one line, or several) with each line longer than ``width`` visible characters
    broken at spaces, continuation lines indented by four; words are never split."""
    out = []
    for part in line.split("\n"):
        if len(ANSI.sub("", part)) <= width:
            out.append(part)
            continue
        # nbgrader colours the start of a line ("\x1b[31mCheckFailed\x1b[39m: ..."): that prefix
        # is kept as it is and counted by its visible width; the rest is plain text
        codes = list(ANSI.finditer(part))
        cut = codes[-1].end() if codes else 0
        prefix, rest = part[:cut], part[cut:]
        lead = " " * len(ANSI.sub("", prefix))
        wrapped = textwrap.fill(rest, width=width, initial_indent=lead, subsequent_indent="    ",
                                break_long_words=False, break_on_hyphens=False)
        out.append(prefix + wrapped[len(lead):])
    return "\n".join(out)


def wrap_errors(nb: Any, width: int = WIDTH) -> None:
    """Wrap every error output's traceback lines in ``nb``, in place."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                out["traceback"] = [wrap_line(str(t), width) for t in out.get("traceback", [])]
