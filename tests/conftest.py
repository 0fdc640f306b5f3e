import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.catalogue import all_entries  # noqa: E402

#: the fixtures of real services (pg_server, dask_scheduler), for every test module
pytest_plugins = ["tests.services"]

# --------------------------------------------------------------------------- the fast tier
# `pytest -m "not slow"` leaves out what starts kernels, servers, browsers or the
# `regloss` command. Whole modules say so with `pytestmark = pytest.mark.slow`, single
# tests with `@pytest.mark.slow`; the rules below mark what has no decorator to carry it.
# Kept honest twice: tests/test_tiers.py checks what is collected, and in a run that
# leaves slow tests out, a test that starts a process anyway fails (see _started).

#: fixtures that start kernels or servers (here and in tests/services.py): a test using one is slow
SLOW_FIXTURES = {"graded_class", "pg_server", "dask_scheduler"}

#: slow tests named here rather than decorated (tests/checks/ holds only pure checks but these)
SLOW_TESTS = {
    "tests/checks/test_failure_messages.py::test_a_student_sees_their_call_and_the_message_in_jupyter",  # a kernel
    "tests/checks/test_training_checks.py::test_reference_train_is_what_torch_optim_does",  # 4-13 s of training
    # 5-12 s for its three cases (huber_are stays in the fast tier through its quadrature checks)
    "tests/checks/test_efficiency_crosschecks.py::test_huber_are_agrees_with_a_monte_carlo_experiment",
}

#: tests in the fast tier that start a process all the same, cheaply (node id prefixes)
CHEAP_PROCESSES = {
    "tests/grading/test_forked.py::": "`sleep 30`, waited for and killed",
    "tests/grading/run/test_cluster_match.py::test_the_digest_changes_with_one_edited_file": "2 x `python -c`",
    "tests/grading/run/test_cluster_match.py::test_the_probe_runs_where_regloss_is_not_installed": "`python -I -S -c`",
    "tests/grading/sandboxed/test_import_graph.py::test_importing_the_answer_side_loads_nothing_blocked": "`python -c`",
    "tests/grading/sandboxed/test_walls.py::test_a_lease_held_by_another_process": "`python -c` holding a lock, killed",
}


def is_notebook_item(item):
    """A cell nbval collected from a notebook (every solutions/*.ipynb under --nbval-lax)."""
    return item.path.suffix == ".ipynb"


def is_slow(item):
    return item.get_closest_marker("slow") is not None


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if (is_notebook_item(item) or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.nodeid.split("[")[0] in SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
    config.stash[_COLLECTED] = {item.nodeid: is_slow(item) for item in items}


_COLLECTED = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def collected(request):
    """{node id: marked slow?} of every test this run collected, before `-m` chose among them.
    Only a run of the whole suite (no paths given) has them all; other runs skip the test."""
    config = request.config
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        pytest.skip("checks the whole suite's collection: run pytest without paths (with or without -m)")
    return config.stash[_COLLECTED]


#: what the running test started: `subprocess.Popen` (kernels, servers, commands) and `os.fork`
#: (zygotes, warm servers); watched only in a run that leaves slow tests out
_started = []


def _watch_processes():
    popen = subprocess.Popen._execute_child

    def execute_child(self, args, *a, **k):
        _started.append(args if isinstance(args, (str, bytes)) else shlex.join(map(str, args)))
        return popen(self, args, *a, **k)

    subprocess.Popen._execute_child = execute_child
    os.register_at_fork(before=lambda: _started.append("os.fork()"))


def pytest_configure(config):
    if "not slow" in (config.option.markexpr or ""):
        _watch_processes()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _started.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (call.when == "teardown" and _started and not is_slow(item)
            and not any(item.nodeid.startswith(prefix) for prefix in CHEAP_PROCESSES)):
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} is in the fast tier but started {len(_started)} process(es), "
                           f"first {_started[0][:200]!r}: mark it @pytest.mark.slow (or, if that is cheap, "
                           f"name it in CHEAP_PROCESSES in tests/conftest.py)")


@pytest.fixture(scope="session")
def graded_class():
    """``graded_class(assignment)``: the autograded scores of one class per assignment,
    holding the solution, the blank release and the catalogue entries of
    :func:`tests.harness.stock_sample` (as :func:`tests.harness.stock_students` puts them
    together); computed once."""
    cache = {}

    def grade(assignment):
        if assignment not in cache:
            import nbformat

            source = harness.read_source(assignment)
            release = nbformat.read(str(harness.notebook_path(assignment, tree="notebooks")), as_version=4)
            subs = {"solution": source, "blank-release": release}
            mine = [e for e in harness.stock_sample(all_entries()) if e.assignment == assignment]
            for sid, group in harness.stock_students(mine).items():
                subs[sid] = harness.together(source, group)
            cache[assignment] = harness.autograde_class(assignment, subs)
        return cache[assignment]

    return grade
