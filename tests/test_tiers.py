"""The fast tier, `pytest -m "not slow"`, stays a tier: big enough to be worth running,
without a notebook cell, and every test module that starts processes says which of its
tests are slow (tests/conftest.py marks what no decorator does). What a fast test starts
at run time is caught there too: in a `-m "not slow"` run it fails."""

import re
from pathlib import Path

from tests import conftest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

#: what starts a kernel, a server, a browser, an answer process or a command, in a test module
STARTS_PROCESSES = re.compile(
    r"^\s*(import subprocess|from subprocess import)|\b(NotebookClient|AnswerClient|start_answer_zygote|start_copies"
    r"|Gradebook|course\.release|autograde_class|judge_class|graded_class|pg_server|dask_scheduler|sync_playwright)\b",
    re.M)


def _module(nodeid):
    return nodeid.split("::")[0]


def test_the_fast_tier_holds_at_least_200_tests(collected):
    fast = [n for n, slow in collected.items() if not slow]
    assert len(fast) >= 200, f"the fast tier has shrunk to {len(fast)} tests"
    assert len(fast) < len(collected), "nothing is marked slow"


def test_every_notebook_cell_is_slow(collected):
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "solutions").glob("*/*.ipynb"))
    cells = {n: slow for n, slow in collected.items() if _module(n).endswith(".ipynb")}
    assert notebooks and {_module(n) for n in cells} == set(notebooks), "nbval collected other notebooks"
    fast = [n for n, slow in cells.items() if not slow]
    assert not fast, f"{len(fast)} notebook cells are in the fast tier, the first: {fast[:3]}"


def test_modules_that_start_processes_have_slow_tests(collected):
    by_module = {}
    for n, slow in collected.items():
        by_module.setdefault(_module(n), []).append(slow)
    cheap = {_module(p) for p in conftest.CHEAP_PROCESSES}
    starting = [p.relative_to(ROOT).as_posix() for p in sorted(TESTS.rglob("test_*.py"))
                if p.name != Path(__file__).name and STARTS_PROCESSES.search(p.read_text())]
    assert "tests/grading/run/test_grade_command.py" in starting  # the pattern still sees what it is for
    unmarked = [m for m in starting if m in by_module and not any(by_module[m]) and m not in cheap]
    assert not unmarked, f"these start processes but have no test marked slow: {unmarked}"


def test_every_test_named_in_conftest_exists(collected):
    """A renamed test would lose its mark (or its exemption) without a word."""
    bases = {n.split("[")[0] for n in collected}
    assert not {n for n in conftest.SLOW_TESTS if n not in bases}, "SLOW_TESTS names tests that are gone"
    assert all(any(n.startswith(p) for n in collected) for p in conftest.CHEAP_PROCESSES), \
        "CHEAP_PROCESSES names tests that are gone"
    assert all(collected[n] for n in collected if n.split("[")[0] in conftest.SLOW_TESTS), "SLOW_TESTS unmarked"
