"""Student bundles: what a student gets of an assignment, without the instructor's repository.

``regloss bundle [<a> ...] --out DIR`` writes ``DIR/<a>.zip`` for each assignment (all when
none is named), holding one folder ``<a>/``:

* the release notebook ``<a>.ipynb`` as ``regloss release`` generated it in ``notebooks/<a>/``
  (answer cells emptied, hidden tests removed, no outputs);
* the answer files the assignment ships beside it (earlier assignments' answers its cells
  import, generated from their one source by :mod:`regloss.course.shipped`) and any other file
  of the release folder, once those earlier assignments are due (:mod:`regloss.course.schedule`);
* ``README.md``: how to install, open, check and submit (:func:`student_readme`).

Nothing else of the repository goes in: not ``solutions/``, not the tests' catalogue, not a
gradebook. :func:`leaks` says what of an assignment's instructor-only material a bundle holds
(tested to be nothing for every assignment).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat

from regloss.course import cells as nbcells
from regloss.course.root import assignments, check_assignment, find_root

#: Release files that are no part of an assignment.
_SKIP = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}
#: Markers that exist only in the instructor's notebooks.
INSTRUCTOR_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
#: A line of a model answer shorter than this is too common to count as leaked (``return x``).
MIN_LEAK_LINE = 30


def student_readme(assignment: str, shipped: list[str]) -> str:
    """The short README of a bundle: install, open, check, submit."""
    beside = (f"\nThe files beside it ({', '.join(shipped)}) hold answers of earlier assignments that "
              f"its cells import; leave them where they are.\n") if shipped else ""
    return f"""# {assignment}

## Install (once)

Python 3.11 or later. In a new virtual environment:

```bash
python -m venv .venv && source .venv/bin/activate
pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu   # torch's CPU build
pip install regloss jupyterlab   # or the regloss wheel your instructor gives you: pip install regloss-*.whl
```

(Without the first line pip installs torch with its CUDA packages: gigabytes you do not need.)

## Open

```bash
jupyter lab {assignment}.ipynb
```
{beside}
## Check

Write your answers in the cells that say `# YOUR CODE HERE` (and the written answers in the
cells that say `YOUR ANSWER HERE`), then Kernel -> Restart Kernel and Run All Cells. Every visible test cell must run
without an error. Hidden tests, run when your work is graded, check more cases than the
visible ones; the visible tests' messages name the case that failed and the likely mistake.

## Submit

Upload `{assignment}.ipynb` as it is (keep its name; do not rename or copy cells) where your
instructor asks: your course's LMS, or JupyterHub's Assignment List.
"""


def release_files(assignment: str, root: Path) -> list[Path]:
    """The files of ``notebooks/<assignment>/`` (the release), sorted."""
    folder = root / "notebooks" / assignment
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part in _SKIP for part in p.relative_to(folder).parts))


def bundle(assignment_ids=None, out: str | Path = "bundles", root=None, due=None, early=False,
           now=None) -> list[Path]:
    """Write ``out/<a>.zip`` for each assignment (see the module docstring); returns the zips.

    An assignment that ships earlier assignments' answers is bundled only once those are due
    (:mod:`regloss.course.schedule`): ``due`` is ``{assignment: datetime}`` or a due-dates CSV
    (default: the course's ``grading/due_dates.csv``, where it exists); ``early`` bundles anyway.
    """
    from regloss.course import schedule

    root = Path(root) if root else find_root()
    ids = list(assignment_ids) if assignment_ids else assignments(root)
    for a in ids:
        check_assignment(a, root)
    due, where = schedule.load(due, root)
    if not early:
        for a in ids:
            schedule.check_release(a, due, now, where)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for a in ids:
        files = release_files(a, root)
        folder = root / "notebooks" / a
        shipped = [p.name for p in files if p.suffix == ".py"]
        path = out / f"{a}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in files:
                zf.write(p, f"{a}/{p.relative_to(folder).as_posix()}")
            zf.writestr(f"{a}/README.md", student_readme(a, shipped))
        written.append(path)
    return written


def model_answer_lines(assignment: str, root: Path) -> set[str]:
    """The lines of ``solutions/<a>``'s answer cells that the release does not hold itself: what
    a bundle must not contain (lines shorter than :data:`MIN_LEAK_LINE` left out)."""
    source = nbformat.read(str(root / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    release = nbformat.read(str(root / "notebooks" / assignment / f"{assignment}.ipynb"), as_version=4)
    released = {ln.strip() for c in release.cells for ln in nbcells.source(c).splitlines()}
    answers = set()
    for c in source.cells:
        if nbcells.is_solution(c) or nbcells.holds_hidden_tests(nbcells.source(c)):
            for ln in nbcells.source(c).splitlines():
                ln = ln.strip()
                if len(ln) >= MIN_LEAK_LINE and ln not in released and not ln.startswith("#"):
                    answers.add(ln)
    return answers


def _text(name: str, data: bytes) -> str:
    """A file's text; a notebook's as its cells' sources and outputs' text (not its JSON)."""
    text = data.decode("utf-8", errors="replace")
    if not name.endswith(".ipynb"):
        return text
    nb = nbformat.reads(text, as_version=4)
    parts = [nbcells.source(c) for c in nb.cells]
    parts += [str(o.get("text", "")) + str((o.get("data") or {}).get("text/plain", ""))
              for c in nb.cells for o in c.get("outputs", [])]
    return "\n".join(parts)


def answer_functions(assignment: str, root: Path) -> set[str]:
    """The functions ``assignment``'s students write (its answer cells' grade ids)."""
    source = nbformat.read(str(root / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    return {gid for c in source.cells if nbcells.is_solution(c) and nbcells.is_code(c)
            and (gid := nbcells.grade_id(c))}


def leaks(zip_path: Path, assignment: str, root: Path) -> list[str]:
    """What of ``assignment``'s instructor-only material the bundle ``zip_path`` holds; empty when none:

    * a file of ``solutions/``, ``tests/`` or ``grading/``;
    * a marker of :data:`INSTRUCTOR_MARKERS` in any file;
    * in the notebook, a line of a model answer, of a written answer's model answer or of a
      hidden test (:func:`model_answer_lines`);
    * in a shipped file, a definition of a function this assignment's students write
      (:func:`answer_functions`): the shipped files hold earlier assignments' answers, whose
      lines this one's may share.
    """
    found = []
    answers = model_answer_lines(assignment, root)
    defined = re.compile(r"^\s*def\s+(" + "|".join(map(re.escape, sorted(answer_functions(assignment, root))))
                         + r")\s*\(", re.M)
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if re.search(r"(^|/)(solutions|tests|grading)(/|$)", name):
                found.append(f"{name}: a file of the instructor's repository")
            text = _text(name, zf.read(name))
            found += [f"{name}: {m}" for m in INSTRUCTOR_MARKERS if m in text]
            if name.endswith(".ipynb"):
                lines = {ln.strip() for ln in text.splitlines()}
                found += [f"{name}: model answer line {ln!r}" for ln in sorted(answers & lines)]
            else:
                found += [f"{name}: defines {m[1]}, an answer of {assignment}" for m in defined.finditer(text)]
    return found
