"""Student bundles (``regloss bundle``): what a student gets of each assignment, and nothing of
the instructor's (:mod:`regloss.course.bundle`)."""

from __future__ import annotations

import datetime as dt
import zipfile

import nbformat
import pytest

from regloss.course import CourseError, schedule, shipped
from regloss.course import bundle as B
from regloss.course.root import assignments
from tests.harness import ROOT, solution_sources

ASSIGNMENTS = assignments(ROOT)
#: Every assignment due a year ago: every bundle may go out.
PAST = {a: dt.datetime.now(dt.UTC) - dt.timedelta(days=365) for a in ASSIGNMENTS}


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles")
    return {p.stem: p for p in B.bundle(out=out, root=ROOT, due=PAST)}


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


# ------------------------------------------------------------------ answers only after they are due
NOW = dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.UTC)


def test_an_assignment_shipping_answers_not_yet_due_is_refused(tmp_path):
    due = tmp_path / "due_dates.csv"
    due.write_text("assignment,due\n01_l1_mse,2027-01-10T10:00:00+00:00\n02_huber,2027-01-20\n")
    B.bundle(["02_huber"], out=tmp_path / "a", root=ROOT, due=due, now=NOW)  # 01 is due: 02 may go
    with pytest.raises(CourseError) as err:  # 03 ships 02's Huber, due in 5 days
        B.bundle(["03_smooth_l1"], out=tmp_path / "b", root=ROOT, due=due, now=NOW)
    assert "03_smooth_l1/huber.py holds answers of 02_huber, due 2027-01-20T23:59:59+00:00" in str(err.value)
    assert not (tmp_path / "b" / "03_smooth_l1.zip").exists()
    with pytest.raises(CourseError, match="04_gradients_and_outliers/losses.py holds answers of 03_smooth_l1, "
                                          "which has no due date"):
        B.bundle(["04_gradients_and_outliers"], out=tmp_path / "c", root=ROOT, due=due, now=NOW)
    assert B.bundle(["03_smooth_l1"], out=tmp_path / "d", root=ROOT, due=due, now=NOW, early=True)


def test_an_assignment_shipping_nothing_needs_no_due_date(tmp_path):
    assert B.bundle(["01_l1_mse"], out=tmp_path, root=ROOT, due={}, now=NOW)


@pytest.mark.parametrize(("text", "iso"), [
    ("2027-01-20", "2027-01-20T23:59:59+00:00"),  # a date: the whole day, UTC
    ("2027-01-20T09:30", "2027-01-20T09:30:00+00:00"),
    ("2027-01-20T09:30:00+01:00", "2027-01-20T09:30:00+01:00"),
])
def test_due_dates_are_read_as_iso_8601(text, iso):
    assert schedule.parse_due(text).isoformat() == iso


def test_every_shipped_file_names_the_assignments_it_answers():
    for a in ASSIGNMENTS:
        for name, sources in shipped.answers_shipped_by(a).items():
            assert sources and all(s in ASSIGNMENTS and s < a for s in sources), (a, name, sources)
