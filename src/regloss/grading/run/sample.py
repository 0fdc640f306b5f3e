"""The demo's sample classes, generated from the catalogue of the course's tests.

``tests/catalogue/`` (in the course's checkout) holds, for every graded
function, realistic wrong implementations and differently written correct ones
(each checked by ``tests/grading/test_catalogue.py``). A sample class for an assignment
is built from its released notebook, never written by hand:

* ``ada_perfect``: every solution cell of the source;
* ``ben_blank``: the release as handed out;
* ``cleo_mistakes``: for each graded function, the first wrong entry of the catalogue;
* ``dan_mixed``: the graded functions in turn: a correct alternate of the first
  (which must keep its marks), the second wrong entry of the next, and so on.

Four students per assignment keep ``regloss demo`` to a few minutes for the course.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import nbformat

from regloss.course import CourseError
from regloss.course import cells as nbcells

STUDENTS = ("ada_perfect", "ben_blank", "cleo_mistakes", "dan_mixed")


def load_catalogue(root: Path) -> list:
    """Every catalogue entry (``tests.catalogue.all_entries()`` of the checkout at ``root``).

    Raises
    ------
    CourseError
        The checkout has no catalogue.
    """
    root = Path(root)
    if not (root / "tests" / "catalogue" / "__init__.py").is_file():
        raise CourseError(f"no catalogue at {root / 'tests' / 'catalogue'}: the demo's sample classes are made from it")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("tests.catalogue").all_entries()


def solution_sources(source_nb) -> dict:
    """``{grade_id: code}`` of the source's solution code cells, markers removed."""
    out = {}
    for c in source_nb.cells:
        gid = nbcells.grade_id(c)
        if gid and nbcells.is_solution(c) and nbcells.is_code(c):
            out[gid] = nbcells.without_solution_markers(c.source)
    return out


def _filled(release_nb, replacements: dict):
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for c in nb.cells:
        gid = nbcells.grade_id(c)
        if gid in replacements:
            c.source = replacements[gid]
    return nb


def _pick(entries, expect, which):
    """One entry per graded cell: the ``which``-th (0-based) of kind ``expect``, else the first."""
    by_cell = {}
    for e in entries:
        if e.expect == expect:
            by_cell.setdefault(e.cell, []).append(e)
    return [es[which] if len(es) > which else es[0] for es in by_cell.values()]


def _combined(base: dict, picked) -> dict:
    """``base`` with each picked entry's replacements, skipping one that would undo an earlier pick."""
    out, taken = dict(base), set[str]()
    for e in picked:
        reps = e.replacements
        if taken & set(reps):
            continue
        out.update(reps)
        taken |= set(reps)
    return out


def sample_class(root: Path, assignment: str, entries: list) -> dict:
    """``{student_id: notebook}`` of an assignment's sample class (see the module docstring)."""
    from regloss.course import CourseError as _E

    root = Path(root)
    sources = sorted((root / "solutions" / assignment).glob("*.ipynb"))
    releases = sorted((root / "notebooks" / assignment).glob("*.ipynb"))
    if len(sources) != 1 or len(releases) != 1:
        raise _E(f"{assignment}: expected one source and one released notebook, found "
                 f"{len(sources)} and {len(releases)} (run `regloss release {assignment}`)")
    source = nbformat.read(str(sources[0]), as_version=4)
    release = nbformat.read(str(releases[0]), as_version=4)
    mine = [e for e in entries if e.assignment == assignment]
    perfect = solution_sources(source)
    alternates = {e.cell: e for e in _pick(mine, "correct", 0)}
    second_wrong = {e.cell: e for e in _pick(mine, "wrong", 1)}
    cells = list(dict.fromkeys(e.cell for e in mine))
    mixed = [(alternates if i % 2 == 0 else second_wrong).get(cell) for i, cell in enumerate(cells)]
    return {
        "ada_perfect": _filled(release, perfect),
        "ben_blank": _filled(release, {}),
        "cleo_mistakes": _filled(release, _combined(perfect, _pick(mine, "wrong", 0))),
        "dan_mixed": _filled(release, _combined(perfect, [e for e in mixed if e is not None])),
    }


def write_sample_class(root: Path, assignment: str, entries: list, dest: Path) -> Path:
    """Write an assignment's sample class as a folder per student under ``dest``; returns ``dest``.

    Each student's folder holds the notebook and the release's other files (as a
    student hands in the released folder).
    """
    import shutil

    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    release_dir = Path(root) / "notebooks" / assignment
    for sid, nb in sample_class(root, assignment, entries).items():
        folder = dest / sid
        shutil.copytree(release_dir, folder, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints",
                                                                            "__pycache__"))
        name = next(release_dir.glob("*.ipynb")).name
        nbformat.write(nb, str(folder / name))
    return dest
