"""Write nbgrader source notebooks as text, and read them back as text.

The instructor notebooks under ``solutions/`` are ordinary ``.ipynb`` files;
this module converts them to and from a "percent" text format that is easy
to edit and to review in a diff::

    # %% [markdown]
    # Some *prose*.

    # %% solution id=l1_loss
    def l1_loss(...):
        ...

    # %% tests id=test_l1_loss__visible points=2
    check_loss(l1_loss, "l1_loss", ...)

Cell kinds and the nbgrader metadata they get:

=============  ================================================
``code``       plain code (the default)
``markdown``   plain markdown (lines start with ``# ``)
``solution``   autograded answer: ``solution=True``
``tests``      autograder tests: ``grade=True, locked=True, points``
``manual``     manually graded answer (markdown): ``grade=True, solution=True, points``
``readonly``   locked code or markdown: ``locked=True``
``task``       manually graded task (markdown): ``task=True, points``
=============  ================================================

Cell ids are the ``id=`` given, or ``cell-<n>``, so that regenerating a
notebook is byte-for-byte repeatable.
"""

from __future__ import annotations

import re
import sys

import nbformat

from regloss.course import cells

HEADER = re.compile(r"^# %%(?: \[(?P<md>markdown)\])?(?P<rest>.*)$")

KINDS = ("code", "markdown", "solution", "tests", "manual", "readonly", "readonly-md", "task")


def _parse_header(line):
    m = HEADER.match(line)
    if not m:
        return None
    words = m.group("rest").split()
    kind = "markdown" if m.group("md") else "code"
    opts = {}
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            opts[k] = v
        else:
            kind = w
    if kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r} in {line!r}")
    if m.group("md") and kind == "readonly":
        kind = "readonly-md"
    return kind, opts


def _unmark(lines):
    out = []
    for ln in lines:
        if ln.startswith("# "):
            out.append(ln[2:])
        elif ln.strip() == "#":
            out.append("")
        else:
            raise ValueError(f"markdown line does not start with '# ': {ln!r}")
    return out


def text_to_notebook(text, kernel="python3"):
    """Build an nbformat v4 notebook from percent-format ``text``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": kernel},
                   "language_info": {"name": "python"}}
    blocks, current = [], None
    for line in text.splitlines():
        header = _parse_header(line)
        if header:
            current = [header, []]
            blocks.append(current)
        elif current is not None:
            current[1].append(line)
    for n, ((kind, opts), lines) in enumerate(blocks):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        is_md = kind in ("markdown", "manual", "task", "readonly-md")
        source = "\n".join(_unmark(lines) if is_md else lines)
        cell = nbformat.v4.new_markdown_cell(source) if is_md else nbformat.v4.new_code_cell(source)
        cell.id = opts.get("id", f"cell-{n}")
        if kind not in ("code", "markdown"):
            if "id" not in opts:
                raise ValueError(f"cell {n} of kind {kind!r} needs id=")
            cell.metadata["nbgrader"] = cells.nbgrader_meta(kind, opts["id"], float(opts.get("points", 0)))
        nb.cells.append(cell)
    return nb


def notebook_to_text(nb):
    """The percent-format text of a notebook (inverse of :func:`text_to_notebook`)."""
    parts = []
    for cell in nb.cells:
        kind = cells.kind_of(cell)
        m = cells.grading_meta(cell)
        head = "# %%"
        if cell.cell_type == "markdown":
            head += " [markdown]"
        if kind not in ("code", "markdown"):
            head += f" {kind}"
        if m:
            head += f" id={m['grade_id']}"
            if kind in ("tests", "manual", "task"):
                pts = m.get("points", 0)
                head += f" points={int(pts) if float(pts).is_integer() else pts}"
        elif not cell.id.startswith("cell-"):
            head += f" id={cell.id}"
        body = cell.source
        if cell.cell_type == "markdown":
            body = "\n".join(("# " + ln) if ln else "#" for ln in body.split("\n"))
        parts.append(head + "\n" + body + "\n")
    return "\n".join(parts)


def main(argv=None):
    """``python -m regloss.course.authoring SRC DST``: convert ``.py`` <-> ``.ipynb``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m regloss.course.authoring SRC DST  (.py -> .ipynb or .ipynb -> .py)", file=sys.stderr)
        return 2
    src, dst = argv
    if src.endswith(".py"):
        with open(src, encoding="utf-8") as f:
            nb = text_to_notebook(f.read())
        nbformat.write(nb, dst)
    else:
        nb = nbformat.read(src, as_version=4)
        with open(dst, "w", encoding="utf-8") as f:
            f.write(notebook_to_text(nb))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
