"""Student bundles (``regloss bundle``): what a student gets of each assignment, and nothing of
the instructor's (:mod:`regloss.course.bundle`)."""

from __future__ import annotations

import zipfile

import nbformat
import pytest

from regloss.course import bundle as B
from regloss.course.root import assignments
from tests.harness import ROOT, solution_sources

ASSIGNMENTS = assignments(ROOT)


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles")
    return {p.stem: p for p in B.bundle(out=out, root=ROOT)}


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_a_bundle_holds_the_release_its_shipped_files_and_a_readme(zips, a):
    names = zipfile.ZipFile(zips[a]).namelist()
    release = {f"{a}/{p.relative_to(ROOT / 'notebooks' / a).as_posix()}" for p in B.release_files(a, ROOT)}
    assert set(names) == release | {f"{a}/README.md"} and f"{a}/{a}.ipynb" in names
    readme = zipfile.ZipFile(zips[a]).read(f"{a}/README.md").decode()
    for step in ("## Install", "## Open", "## Check", "## Submit", "download.pytorch.org/whl/cpu", f"{a}.ipynb"):
        assert step in readme, step


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_a_bundle_holds_no_solution_hidden_test_or_rubric(zips, a):
    assert B.leaks(zips[a], a, ROOT) == []


def test_the_scan_finds_what_a_careless_bundle_would_hold(tmp_path):
    """The control: the instructor's notebook, a model answer pasted into the release, and a
    shipped file defining this assignment's answer are each found."""
    a = "02_huber"
    careless = tmp_path / f"{a}.zip"
    release = nbformat.read(str(ROOT / "notebooks" / a / f"{a}.ipynb"), as_version=4)
    release.cells.append(nbformat.v4.new_code_cell(solution_sources(a)["huber_loss"]))
    with zipfile.ZipFile(careless, "w") as zf:
        zf.write(ROOT / "solutions" / a / f"{a}.ipynb", f"{a}/solutions/{a}.ipynb")
        zf.writestr(f"{a}/{a}.ipynb", nbformat.writes(release))
        zf.writestr(f"{a}/answers.py", "import numpy as np\n\ndef huber_loss(input, target, delta=1.0):\n    pass\n")
    found = B.leaks(careless, a, ROOT)
    assert any("a file of the instructor's repository" in f for f in found)
    assert any("### BEGIN SOLUTION" in f for f in found)
    assert any(f.startswith(f"{a}/{a}.ipynb: model answer line") for f in found)
    assert any("defines huber_loss" in f for f in found)
