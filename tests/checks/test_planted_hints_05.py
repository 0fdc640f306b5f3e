"""05's IRLS-weight hints, tried as a student would: each catalogue entry's planted wrong
derivation of ``huber_weight``, run through the visible test's check
(:func:`regloss.checks.weights.check_huber_weight`), must be named first by the hint of the real
mistake, and the hint must not hand over the formula (issue 28)."""

from __future__ import annotations

import numpy as np
import pytest

from regloss.checks.mistakes import tags
from regloss.checks.weights import check_huber_weight
from tests.catalogue import CORRECT, WRONG
from tests.catalogue import a05_robust_line_fit as cat

#: Words that would dictate the fix rather than name the mistake.
DICTATES = ("np.minimum", "np.clip", "delta / ", "delta/|r|", "min(1", "np.abs", "w(0) = 1", "is 1 ", "is 1.")

ENTRIES = [e for e in cat.ENTRIES if e.cell == "huber_weight"]

PLANTED = {
    "inverted": "weight-inverted",
    "no-cap": "weight-no-quadratic-zone",
    "rho-over-r-squared": "weight-from-rho",
    "psi-prime": "weight-is-psi-prime",
    "delta-over-r-squared": "weight-divides-twice",
    "smooth-l1-weight": "smoothl1-convention",
    "zero-at-zero": "weight-at-zero",
    "sqrt-weight": "weight-square-root",
    "signed": "weight-signed",
}


def _fn(entry):
    namespace = {"np": np}
    exec(entry.source, namespace)  # noqa: S102 - the catalogue's own source, as a student would write it
    return namespace["huber_weight"]


def test_every_wrong_entry_has_a_planted_hint():
    assert {e.name for e in ENTRIES if e.expect == WRONG} == set(PLANTED)


@pytest.mark.parametrize(("name", "mistake"), sorted(PLANTED.items()))
@pytest.mark.parametrize("delta", [1.345, 0.3, 4.0])
def test_a_wrong_derivation_is_named_first_without_the_formula(name, mistake, delta):
    (entry,) = [e for e in ENTRIES if e.name == name]
    with pytest.raises(AssertionError) as err:
        check_huber_weight(_fn(entry), np.random.default_rng(5).normal(scale=3 * delta, size=20), delta=delta)
    message = str(err.value)
    assert tags(message)[:1] == [mistake], message
    hint = message.split("(psi = ")[-1]
    assert not [d for d in DICTATES if d in hint], hint


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.expect == CORRECT] + [None],
                         ids=lambda e: e.name if e else "model")
def test_a_correct_weight_passes(entry):
    fn = _fn(entry) if entry else _fn(type(ENTRIES[0])(cat.A, "huber_weight", "model", CORRECT, cat.WEIGHT))
    assert check_huber_weight(fn, np.linspace(-9, 9, 37), delta=1.345) == 37 + 12


def test_a_constant_factor_is_named_with_its_value():
    def doubled(r, delta=1.345):
        return 2.0 * np.minimum(1.0, delta / np.maximum(np.abs(r), 1e-300))

    with pytest.raises(AssertionError) as err:
        check_huber_weight(doubled, delta=1.345)
    assert tags(str(err.value))[:1] == ["weight-factor"] and "every weight is 2 times" in str(err.value)
