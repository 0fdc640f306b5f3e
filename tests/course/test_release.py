"""notebooks/ is exactly what nbgrader generate_assignment makes of solutions/,
and holds no solution, no hidden test and no output."""

import json
import shutil

import nbformat
import pytest

from regloss import course
from tests.harness import ROOT

ASSIGNMENTS = course.assignments(ROOT)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def release_files(a, root=ROOT):
    base = root / "notebooks" / a
    return {p.relative_to(base).as_posix(): p for p in sorted(base.rglob("*")) if p.is_file()
            and ".ipynb_checkpoints" not in p.parts}


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("release")
    (tmp / "grading").mkdir()
    shutil.copy(ROOT / "grading" / "nbgrader_config.py", tmp / "grading")
    shutil.copytree(ROOT / "solutions", tmp / "solutions")
    shutil.copytree(ROOT / "answers", tmp / "answers")
    course.release(root=tmp)
    return tmp


def test_every_solution_has_a_release():
    assert ASSIGNMENTS, "no assignment under solutions/"
    released = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    assert released == ASSIGNMENTS


@pytest.mark.slow  # fresh_release runs nbgrader
@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_release_in_sync_with_source(fresh_release, a):
    committed, fresh = release_files(a), release_files(a, fresh_release)
    assert sorted(committed) == sorted(fresh), "files differ: run `regloss release`"
    for name, path in fresh.items():
        if name.endswith(".ipynb"):
            assert json.loads(committed[name].read_text()) == json.loads(path.read_text()), \
                f"notebooks/{a}/{name} differs from a fresh release: run `regloss release {a}`"
        else:
            assert committed[name].read_bytes() == path.read_bytes(), f"notebooks/{a}/{name} differs"


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_release_holds_no_solution_hidden_test_or_output(a):
    for name, path in release_files(a).items():
        text = path.read_text(errors="replace")
        for m in MARKERS:
            assert m not in text, f"notebooks/{a}/{name} holds {m!r}"
        if name.endswith(".ipynb"):
            nb = nbformat.read(str(path), as_version=4)
            for cell in nb.cells:
                if cell.cell_type == "code":
                    assert cell.outputs == [], f"{name}: committed output in cell {cell.id}"
                    assert cell.execution_count is None, f"{name}: execution count in cell {cell.id}"


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_sources_have_no_outputs_and_follow_the_cell_convention(a):
    """Source notebooks carry no outputs either, and their graded cells are named so
    that the tests can find each exercise's points (``test_<function>__<tag>``)."""
    for path in sorted((ROOT / "solutions" / a).glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        solution_ids = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: output in {cell.id}"
            if meta.get("solution") and cell.cell_type == "code":
                solution_ids.add(meta["grade_id"])
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                gid = meta["grade_id"]
                assert gid.startswith("test_") and "__" in gid, f"{path.name}: test cell {gid!r}"
                assert gid[5:].split("__")[0] in solution_ids, f"{path.name}: {gid!r} names no solution cell"
