"""Every hint the checks give carries the stable id of a mistake regloss.checks.mistakes describes.

A hint is a :class:`~regloss.checks.mistakes.Hint` made where its words are written (in
regloss.checks: diagnose, the loss records, compare, own_work, gradcheck, training,
schedules); these tests read every place one is made, so that a hint with no id, or with an
id the table does not describe, is caught without having to provoke it. The class report
reads the ids back from the printed message (tests/grading/report/test_report.py counts them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import regloss.checks
from regloss.checks.mistakes import BY_ID, MISTAKES, TAG, Hint, render, tag, tags
from regloss.grading.report import mistakes as report

CHECKS = Path(regloss.checks.__file__).parent


def _hint_calls():
    """``(file, line, first argument)`` of every ``Hint(...)`` call in regloss.checks."""
    for path in sorted(CHECKS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Hint":
                first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "id"), None)
                yield path.name, node.lineno, first


CALLS = list(_hint_calls())


def test_hints_are_made_in_every_module_that_writes_them():
    files = {f for f, _, _ in CALLS}
    assert files >= {"diagnose.py", "diagnose_robust.py", "losses.py", "compare.py", "own_work.py", "gradcheck.py",
                     "training.py", "schedules.py"}, files


@pytest.mark.parametrize("where, line, first", CALLS, ids=[f"{f}:{n}" for f, n, _ in CALLS])
def test_every_hint_names_a_described_mistake_literally(where, line, first):
    assert isinstance(first, ast.Constant) and isinstance(first.value, str), \
        f"{where}:{line}: a Hint's id must be a literal string, so that it can be read here"
    assert first.value in BY_ID, f"{where}:{line}: {first.value!r} is not in regloss.checks.mistakes.MISTAKES"


def test_every_mistake_described_is_named_by_some_hint():
    named = {first.value for _, _, first in CALLS if isinstance(first, ast.Constant)}
    assert set(BY_ID) <= named, set(BY_ID) - named


def test_the_ids_are_unique_and_fit_the_tag():
    assert len(BY_ID) == len(MISTAKES)
    for m in MISTAKES:
        assert TAG.fullmatch(tag(m.id))["id"] == m.id
        assert m.description and m.id not in ("other", "error")  # the report's own two


def test_the_ids_instructors_already_use_are_kept():
    """mistakes.csv files name these: they stay, spelt so."""
    assert set(BY_ID) >= {
        "sum-for-mean", "missing-1/N", "mean-for-sum", "1/N-without-mean", "smoothl1-convention",
        "multiplied-too-often", "huber-convention", "divided-too-often", "missing-scale-factor", "flipped-sign",
        "missing-0.5", "extra-0.5", "missing-2", "sign(0)", "loss-at-zero", "branch-on-e-not-|e|", "linear-slope-1",
        "linear-slope-beta", "missing-offset", "double-offset", "linear-branch", "quadratic-branch", "boundary",
        "beta-zero-division", "nan", "cosh-overflow", "tukey-beyond-c", "quantile-swapped", "alpha-limits",
        "cancellation", "no-return", "wrong-shape", "not-an-array", "accepts-invalid", "vague-error",
        "wrong-exception", "delegates", "gradient-vs-finite-differences"}


def test_a_hint_with_an_undescribed_id_cannot_be_made():
    with pytest.raises(ValueError, match="does not describe"):
        Hint("no-such-mistake", "words")


def test_a_hint_reads_as_its_words_and_its_tag_and_the_tag_reads_back():
    h = Hint("sign(0)", "wrong only where e = 0")
    assert str(h) == "wrong only where e = 0 [mistake: sign(0)]"
    both = render([Hint("missing-1/N", "a"), Hint("missing-2", "b"), Hint("missing-1/N", "a")], "; or ")
    assert both == "a [mistake: missing-1/N]; or b [mistake: missing-2]"
    assert render([]) is None
    printed = f"l1_loss_grad(input, target, reduction='none') gave [1. 0.], PyTorch gives [0. 0.]: {h}\n"
    assert tags(printed) == ["sign(0)"] and report.classify(printed, "CheckFailed") == "sign(0)"
    assert tags(both) == ["missing-1/N", "missing-2"] and report.classify(both) == "missing-1/N"
    assert report.classify("gave 1: [mistake: some-future-id] then [mistake: nan]") == "nan"
