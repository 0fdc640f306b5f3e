"""08's probes under tampering: a student who rebinds the probes of
regloss.teaching.torch_probes in the answer process, or delegates to torch through a
patched autograd.Function, earns nothing for numpy_loss_function under the judge; the
honest solution keeps full marks (tests/grading/test_catalogue.py judges it too)."""

from __future__ import annotations

import pytest

from tests import harness
from tests.tamper.t08_probes import TAMPERS_08

pytestmark = pytest.mark.slow  # the judge's answer processes

A = "08_training"


@pytest.fixture(scope="module")
def judged():
    source = harness.read_source(A)
    subs = {"honest": source}
    subs.update({sid: harness.with_cells(source, {"numpy_loss_function": code}) for sid, code in TAMPERS_08.items()})
    tests = {c.metadata["nbgrader"]["grade_id"] for c in source.cells
             if harness.TEST_CELL.match(c.metadata.get("nbgrader", {}).get("grade_id", ""))}
    only = {sid: {g for g in tests if "numpy_loss_function" in g} for sid in subs}
    return harness.judge_class(A, subs, only=only)


def test_honest_numpy_loss_function_keeps_full_marks(judged):
    scores, messages = judged
    got, best = harness.exercise_score(scores["honest"], "numpy_loss_function")
    assert best > 0 and got == best, messages["honest"]


@pytest.mark.parametrize("sid", sorted(TAMPERS_08))
def test_tampered_probe_earns_nothing(judged, sid):
    scores, messages = judged
    got, best = harness.exercise_score(scores[sid], "numpy_loss_function")
    assert best > 0 and got == 0, (sid, messages[sid])
