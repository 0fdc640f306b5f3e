"""What a student installs: the package (wheel) built from this repository holds no secret, and
in a clean virtual environment holding only that package (no repository) every bundle, answered,
runs with every visible test passing."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from regloss.course import bundle as B
from regloss.course.root import assignments
from tests.harness import ROOT, solution_sources, with_cells

pytestmark = pytest.mark.slow  # builds the wheel with pip; installs it into a new environment

ASSIGNMENTS = assignments(ROOT)

#: Lines that a model answer shares with the package and that give nothing away, each with why.
SHARED_LINES = {
    "rng = np.random.default_rng(seed)": "the seeded generator every helper makes (DESIGN: seeds passed explicitly)",
    "x = np.asarray(x, dtype=np.float64)": "argument conversion",
    "x = np.asarray(x, dtype=float)": "argument conversion",
    "y = np.asarray(y, dtype=float)": "argument conversion",
    "values = np.asarray(values, dtype=float)": "argument conversion",
    "for label, fit in fits.items():": "a loop over the fits a study is given",
}
#: Lines of 06's study and bootstrap choice that the checker's truth (regloss.checks.robust_stats's
#: ``study_reference`` and ``bootstrap_choice_reference``) shares: an exercise with no library
#: equivalent is checked against the course's own implementation of it. Known, listed, and not
#: to grow: a new one fails the test.
CHECKER_REFERENCE_LINES = {
    "for noise_label, draw in noise_models.items():",
    "idx = rng.integers(0, x.size, size=(n_boot, x.size))",
    "for fit_label, fit in fits.items():",
    "err = np.asarray(fit(x, Y)[0], dtype=float) - slope",
}


def build_wheel(dest: Path) -> Path:
    """The package as a student's ``pip install`` gets it: a wheel built from this repository."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dest),
                    str(ROOT)], check=True, capture_output=True, text=True)
    (wheel,) = dest.glob("regloss-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _defined_functions(text: str) -> set[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def wheel_leaks(wheel: Path, root: Path = ROOT) -> list[str]:
    """What of the instructor's material the wheel holds: a file of ``solutions/``, ``tests/`` or
    ``grading/``; a solution or hidden-test marker or a rubric; a function named as a graded
    answer; a line of a model answer or a hidden test not listed above as shared."""
    found = []
    answers = {a: B.model_answer_lines(a, root) for a in assignments(root)}
    graded = {f: a for a in assignments(root) for f in B.answer_functions(a, root)}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if re.search(r"(^|/)(solutions|tests|grading/runs|catalogue)(/|$)", name):
                found.append(f"{name}: a file of the instructor's repository")
            if not name.endswith((".py", ".txt", ".json", ".csv", ".md", ".ipynb", ".cfg", ".toml")):
                continue
            text = zf.read(name).decode("utf-8", errors="replace")
            # a marker alone on its line opens or closes a region (the package names them in strings)
            found += [f"{name}: {m}" for m in B.INSTRUCTOR_MARKERS
                      if re.search(rf"^[ \t]*{re.escape(m)}[ \t]*$", text, re.M)]
            if re.search(r"\*\*Rubric \(\d", text):
                found.append(f"{name}: a rubric")
            if name.endswith(".py"):
                found += [f"{name}: defines {f}, an answer of {graded[f]}" for f in sorted(_defined_functions(text))
                          if f in graded]
            lines = {ln.strip() for ln in text.splitlines()}
            for a, lines_of_a in answers.items():
                hit = (lines_of_a & lines) - set(SHARED_LINES) - CHECKER_REFERENCE_LINES
                found += [f"{name}: a line of {a}'s model answers: {ln!r}" for ln in sorted(hit)]
    return found


def test_the_wheel_holds_no_solution_hidden_test_rubric_or_catalogue(wheel):
    assert wheel_leaks(wheel) == []


def test_the_wheel_scan_finds_what_a_careless_package_would_hold(tmp_path, wheel):
    """The control: a model answer, a hidden test and a catalogue file added to the package are found."""
    careless = tmp_path / wheel.name
    sol = solution_sources("02_huber")["huber_loss"]
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(careless, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("regloss/answers.py", sol)
        dst.writestr("regloss/tests/catalogue/a01.py", "ENTRIES = []\n")
        dst.writestr("regloss/hidden.py", "### BEGIN HIDDEN TESTS\ncheck(f)\n### END HIDDEN TESTS\n")
    found = wheel_leaks(careless)
    assert any("defines huber_loss" in f for f in found)
    assert any("a file of the instructor's repository" in f for f in found)
    assert any("### BEGIN HIDDEN TESTS" in f for f in found)
    assert any("a line of 02_huber's model answers" in f for f in found)


# ------------------------------------------------------------------- a clean virtual environment
RUN = r'''
import sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
import regloss
assert "site-packages" in regloss.__file__, regloss.__file__  # the installed package, not a checkout
nb = nbformat.read(sys.argv[1], as_version=4)
try:
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
except CellExecutionError as exc:
    print("FAILED:", str(exc)[-3000:])
    sys.exit(1)
print("ran", len(nb.cells), "cells")
'''


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory, wheel):
    """A virtual environment with only the package (and its dependencies) installed: no repository."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-compile", str(wheel)],  # no .pyc: faster
                       capture_output=True, text=True, cwd=venv.parent)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return venv / "bin" / "python"


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_every_bundle_answered_runs_in_a_clean_environment(tmp_path, student_venv, a):
    (zip_path,) = B.bundle([a], out=tmp_path / "bundles", root=ROOT, early=True)  # the dates are the course's
    work = tmp_path / "student"
    zipfile.ZipFile(zip_path).extractall(work)
    folder = work / a
    nb_path = folder / f"{a}.ipynb"
    answered = with_cells(nbformat.read(str(nb_path), as_version=4), solution_sources(a))
    nbformat.write(answered, str(nb_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.update(PATH=f"{student_venv.parent}{os.pathsep}{env.get('PATH', '')}", HOME=str(work),
               MPLBACKEND="Agg", VIRTUAL_ENV=str(student_venv.parent.parent))
    p = subprocess.run([str(student_venv), "-c", RUN, str(nb_path), str(folder)], cwd=folder, env=env,
                       capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-3000:]
