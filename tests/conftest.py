import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.catalogue import all_entries  # noqa: E402

# --------------------------------------------------------------------------- the fast tier
# `pytest -m "not slow"` leaves out what starts kernels, servers, browsers or the
# `regloss` command. Whole modules say so with `pytestmark = pytest.mark.slow`, single
# tests with `@pytest.mark.slow`; the rules below mark what has no decorator to carry it.

#: fixtures that start kernels or servers (here and in tests/services.py): a test using one is slow
SLOW_FIXTURES = {"graded_class", "pg_server", "dask_scheduler"}

#: slow tests named here rather than decorated (tests/checks/ holds only pure checks but these)
SLOW_TESTS = {
    "tests/checks/test_failure_messages.py::test_a_student_sees_their_call_and_the_message_in_jupyter",  # a kernel
    "tests/checks/test_training_checks.py::test_reference_train_is_what_torch_optim_does",  # 4-13 s of training
    # 5-12 s for its three cases (huber_are stays in the fast tier through its quadrature checks)
    "tests/checks/test_efficiency_crosschecks.py::test_huber_are_agrees_with_a_monte_carlo_experiment",
}


def is_notebook_item(item):
    """A cell nbval collected from a notebook (every solutions/*.ipynb under --nbval-lax)."""
    return item.path.suffix == ".ipynb"


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if (is_notebook_item(item) or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.nodeid.split("[")[0] in SLOW_TESTS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def graded_class():
    """``graded_class(assignment)``: the autograded scores of one class per assignment,
    holding the solution, the blank release and the catalogue entries of
    :func:`tests.harness.stock_sample`; computed once."""
    cache = {}

    def grade(assignment):
        if assignment not in cache:
            import nbformat

            source = harness.read_source(assignment)
            release = nbformat.read(str(harness.notebook_path(assignment, tree="notebooks")), as_version=4)
            subs = {"solution": source, "blank-release": release}
            for e in harness.stock_sample(all_entries()):
                if e.assignment == assignment:
                    subs[e.student_id] = harness.with_cells(source, e.replacements)
            cache[assignment] = harness.autograde_class(assignment, subs)
        return cache[assignment]

    return grade
