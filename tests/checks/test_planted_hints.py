"""Hints tried as a student would: a mistake planted in an otherwise correct answer, run
through the visible tests' own cases of 01-03, must be named first by the hint of the real
mistake, and the hint must diagnose without handing over the fix (issue 26)."""

from __future__ import annotations

import numpy as np
import pytest

from regloss.checks.cases import case
from regloss.checks.compare import check_grad, check_loss
from regloss.checks.mistakes import tags

REDUCTIONS = ("none", "mean", "sum")


def _reduce(v, reduction):
    return v.mean() if reduction == "mean" else v.sum() if reduction == "sum" else v


def _reduce_grad(g, reduction):
    return g / g.size if reduction == "mean" else g


def huber_no_half(input, target, reduction="mean", delta=1.0):
    e = input - target
    return _reduce(np.where(np.abs(e) < delta, e * e, delta * (np.abs(e) - 0.5 * delta)), reduction)


def huber_grad_twice(input, target, reduction="mean", delta=1.0):
    e = input - target
    return _reduce_grad(np.where(np.abs(e) < delta, 2 * e, delta * np.sign(e)), reduction)


def smooth_l1_grad_twice(input, target, reduction="mean", beta=1.0):
    e = input - target
    if beta == 0:
        return _reduce_grad(np.sign(e), reduction)
    return _reduce_grad(np.where(np.abs(e) < beta, 2 * e / beta, np.sign(e)), reduction)


def mse_grad_no_2(input, target, reduction="mean"):
    return _reduce_grad(input - target, reduction)


def l1_grad_ge(input, target, reduction="mean"):
    return _reduce_grad(np.where(input - target >= 0, 1.0, -1.0), reduction)


def l1_grad_no_1_over_n(input, target, reduction="mean"):
    return np.sign(input - target)


# (planted function, loss, kind, the visible test's cases in its order, the mistake named first,
#  words the first hint must hold)
PLANTED = [
    (huber_no_half, "huber_loss", "loss",
     [case([0.5, 2.0], [0, 0], r, delta=1.0) for r in REDUCTIONS]
     + [case([0.5, -2.0, 3.0], [0, 0, 0], r, delta=2.0) for r in REDUCTIONS]
     + [case([0.5, -2.0, 3.0], [1, 0, 3], r, delta=0.25) for r in REDUCTIONS],
     "missing-0.5", "factor 0.5"),
    (huber_grad_twice, "huber_loss", "grad",
     [case([0.5, 2.0], [0, 0], r, delta=1.0) for r in REDUCTIONS]
     + [case([0.5, -2.0, 3.0], [0, 0, 0], r, delta=2.0) for r in REDUCTIONS],
     "missing-0.5", "0.5 of 0.5 * e**2 get lost"),
    (smooth_l1_grad_twice, "smooth_l1_loss", "grad",
     [case([0.5, 2.0], [0, 0], r, beta=1.0) for r in REDUCTIONS]
     + [case([0.5, -2.0, 3.0], [0, 0, 0], r, beta=2.0) for r in REDUCTIONS],
     "missing-0.5", "0.5 of 0.5 * e**2 / beta get lost"),
    (mse_grad_no_2, "mse_loss", "grad",
     [case([3, 1], [1, 3], r) for r in REDUCTIONS] + [case([1, 3, 5], [2, 1, 5], r) for r in REDUCTIONS],
     "missing-2", "factor 2 missing"),
    (l1_grad_ge, "l1_loss", "grad",
     [case([3, 1], [1, 3], r) for r in REDUCTIONS] + [case([1, 3, 5], [2, 1, 5], r) for r in REDUCTIONS],
     "sign(0)", "a subgradient"),
    # the reductions' own mistake is still named where it is the only reading
    (l1_grad_no_1_over_n, "l1_loss", "grad",
     [case([1, 3, 5], [2, 1, 4], r) for r in ("mean",)],
     "missing-1/N", "1/N"),
]

#: Words that would dictate a fix rather than name the mistake.
DICTATES = ("np.sign", ">= 0", "d/de", "= 2e", "not 2e", "there is 0", "np.where", "clip(")


def _first_failure(fn, loss, kind, cases):
    check = check_loss if kind == "loss" else check_grad
    with pytest.raises(AssertionError) as err:
        check(fn, loss, cases)
    return str(err.value)


@pytest.mark.parametrize("fn, loss, kind, cases, mistake, words", PLANTED, ids=[p[0].__name__ for p in PLANTED])
def test_a_planted_mistake_is_named_first_by_its_own_hint(fn, loss, kind, cases, mistake, words):
    msg = _first_failure(fn, loss, kind, cases)
    assert tags(msg)[:1] == [mistake], msg
    first_hint = msg.split("PyTorch gives", 1)[1].split("[mistake:")[0]
    assert words in first_hint, msg
    for w in DICTATES:
        assert w not in first_hint, (w, msg)


def test_the_missing_half_of_huber_is_placed_on_the_quadratic_branch():
    msg = _first_failure(huber_no_half, "huber_loss", "loss", [case([0.5, 2.0], [0, 0], "none", delta=1.0)])
    assert "wrong only where |e| < delta (the quadratic branch), and there by a constant factor: twice" in msg, msg


@pytest.mark.parametrize("delta", [2.0, 3.0])
def test_the_missing_half_is_not_read_as_delta_once_too_often_when_delta_is_2(delta):
    """With delta = 2 the factor 2 is also delta's: the constant reading comes first."""
    msg = _first_failure(huber_no_half, "huber_loss", "loss", [case([0.5, 1.0, 5.0], [0, 0, 0], "none", delta=delta)])
    assert tags(msg) == ["missing-0.5"], msg


def test_a_quadratic_branch_wrong_otherwise_is_still_placed_there():
    def cubed(input, target, reduction="mean", delta=1.0):
        e = input - target
        return _reduce(np.where(np.abs(e) < delta, 0.5 * np.abs(e) ** 3, delta * (np.abs(e) - 0.5 * delta)), reduction)

    msg = _first_failure(cubed, "huber_loss", "loss", [case([0.5, 0.25, 2.0], [0, 0, 0], "none", delta=1.0)])
    assert tags(msg) == ["quadratic-branch"], msg


def test_a_value_at_the_kink_outside_the_subdifferential_is_said_to_be_no_subgradient():
    def two_at_zero(input, target, reduction="mean"):
        e = input - target
        return _reduce_grad(np.where(e == 0, 2.0, np.sign(e)), reduction)

    msg = _first_failure(two_at_zero, "l1_loss", "grad", [case([1, 3, 5], [2, 1, 5], "none")])
    assert tags(msg) == ["sign(0)"] and "not a subgradient at all" in msg, msg


# ------------------------------------------------------------------ the catalogue's own entries

#: The visible tests' cases of 01-03, in their order, by (loss, parameter values).
VISIBLE = {
    "l1_loss": [case([3, 1], [1, 3], r) for r in REDUCTIONS] + [case([1, 3, 5], [2, 1, 5], r) for r in REDUCTIONS],
    "mse_loss": [case([3, 1], [1, 3], r) for r in REDUCTIONS] + [case([1, 3, 5], [2, 1, 5], r) for r in REDUCTIONS],
    "huber_loss": [c for r in REDUCTIONS for c in (
        case([0.5, 2.0], [0, 0], r, delta=1.0), case([0.5, -2.0, 3.0], [0, 0, 0], r, delta=2.0),
        case([0.5, -2.0, 3.0], [1, 0, 3], r, delta=0.25))],
    "smooth_l1_loss": [c for r in REDUCTIONS for c in (
        case([0.5, 2.0], [0, 0], r, beta=1.0), case([0.5, -2.0, 3.0], [0, 0, 0], r, beta=2.0),
        case([0.5, -2.0, 3.0], [1, 0, 3], r, beta=0.0), case([0.5, -2.0, 3.0], [1, 0, 3], r, beta=0.25))],
}

#: Catalogue entries (assignment, entry name, graded function) and the mistake their first hint must name.
CATALOGUED = [
    ("01_l1_mse", "sign0-is-1", "l1_loss_grad", "sign(0)"),
    ("01_l1_mse", "missing-2", "mse_loss_grad", "missing-2"),
    ("02_huber", "no-half-quadratic", "huber_loss", "missing-0.5"),
    ("02_huber", "quadratic-2e", "huber_loss_grad", "missing-0.5"),
    ("03_smooth_l1", "no-half-quadratic", "smooth_l1_loss", "missing-0.5"),
    ("03_smooth_l1", "quadratic-2e", "smooth_l1_loss_grad", "missing-0.5"),
    ("03_smooth_l1", "sign0-is-1", "smooth_l1_loss_grad", "sign(0)"),
]


def _catalogued(assignment, name, cell):
    from tests.catalogue import all_entries

    (entry,) = [e for e in all_entries() if (e.assignment, e.name, e.cell) == (assignment, name, cell)]
    namespace = {"np": np}
    exec(entry.source, namespace)  # noqa: S102 - the catalogue's own source, as the student would write it
    return namespace[cell]


@pytest.mark.parametrize("assignment, name, cell, mistake", CATALOGUED,
                         ids=[f"{a}:{n}:{c}" for a, n, c, _ in CATALOGUED])
def test_the_catalogues_planted_mistakes_are_named_first(assignment, name, cell, mistake):
    fn = _catalogued(assignment, name, cell)
    loss = cell.removesuffix("_grad")
    msg = _first_failure(fn, loss, "grad" if cell.endswith("_grad") else "loss", VISIBLE[loss])
    assert tags(msg)[:1] == [mistake], msg
    first_hint = msg.split("PyTorch gives", 1)[1].split("[mistake:")[0]
    for w in DICTATES:
        assert w not in first_hint, (w, msg)
