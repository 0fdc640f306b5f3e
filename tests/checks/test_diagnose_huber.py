"""The additions to regloss.checks.cases and regloss.checks.diagnose made for assignments 02 and 03."""

import numpy as np
import pytest

from regloss.checks.cases import Case, case, convention_cases, uniform_cases
from regloss.checks.compare import check_grad, check_loss
from regloss.checks.diagnose import hint, location_hint
from regloss.checks.reference import torch_grad, torch_loss


def _huber(input, target, reduction="mean", delta=1.0, offset=0.5):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"bad reduction {reduction!r}")
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e * e, delta * (a - offset * delta))
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def _smooth_l1(input, target, reduction="mean", beta=1.0):
    e = input - target
    a = np.abs(e)
    loss = a if beta == 0 else np.where(a < beta, 0.5 * e * e / beta, a - 0.5 * beta)
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"])
def test_uniform_cases_follow_the_samples_of_pytorch(name):
    params = [{}] if name in ("l1_loss", "mse_loss") else [{("delta" if name == "huber_loss" else "beta"): 2.5}]
    cases = uniform_cases(name, np.random.default_rng(0), params)
    assert len(cases) == 3 * 2 * 3  # shapes x dtypes x reductions
    assert {c.input.shape for c in cases} == {(5,), (5, 5), (5, 5, 5)}
    assert {c.input.dtype for c in cases} == {np.dtype(np.float64), np.dtype(np.float32)}
    for c in cases:
        assert c.input.shape == c.target.shape
        assert np.all((c.input >= -9) & (c.input < 9)) and np.all((c.target >= -9) & (c.target < 9))
        assert c.style == "keywords"


def test_uniform_cases_rejects_an_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss"):
        uniform_cases("hinge_loss", np.random.default_rng(0), [{}])


def test_convention_cases_call_with_defaults_and_positionally():
    calls = []

    def spy(*args, **kwargs):
        calls.append((len(args), sorted(kwargs)))
        return _huber(*args, **kwargs)

    cases = convention_cases("huber_loss", np.random.default_rng(1))
    assert [c.style for c in cases] == ["defaults", "positional", "positional", "positional"]
    for c in cases:
        c.call(spy)
    assert calls == [(2, []), (4, []), (4, []), (4, [])]
    assert cases[0].describe("huber_loss").startswith("huber_loss(input, target) [")
    assert cases[1].describe("huber_loss").startswith("huber_loss(input, target, 'none', 2.0)")
    # a correct function passes, and the truth of the defaults case is PyTorch's default
    assert check_loss(_huber, "huber_loss", cases) == 4
    x, t = cases[0].input, cases[0].target
    np.testing.assert_allclose(torch_loss("huber_loss", x, t), _huber(x, t))


def test_convention_cases_catch_a_wrong_default_and_a_wrong_order():
    def wrong_default(input, target, reduction="mean", delta=1.345):
        return _huber(input, target, reduction, delta)

    def wrong_order(input, target, delta=1.0, reduction="mean"):
        return _huber(input, target, reduction, delta)

    cases = convention_cases("huber_loss", np.random.default_rng(2))
    with pytest.raises(AssertionError, match=r"huber_loss\(input, target\) \[default arguments"):
        check_loss(wrong_default, "huber_loss", cases)
    # a positional call hands wrong_order 2.0 as its reduction: it refuses it
    with pytest.raises(ValueError, match="bad reduction 2.0"):
        check_loss(wrong_order, "huber_loss", cases)


def test_convention_cases_for_smooth_l1_and_beta_zero():
    cases = convention_cases("smooth_l1_loss", np.random.default_rng(3), {"beta": 0.0})
    assert check_loss(_smooth_l1, "smooth_l1_loss", cases) == 4


def test_keyword_cases_still_call_with_keywords():
    c = case([1.0, -2.0], [0.0, 0.0], "sum", delta=2.0)
    assert c.style == "keywords"
    assert c.describe("huber_loss") == ("huber_loss(input, target, reduction='sum', delta=2.0) "
                                        "[input=[1.0, -2.0], target=[0.0, 0.0]]")
    assert c.call(lambda i, t, reduction, delta: (reduction, delta)) == ("sum", 2.0)


def _none_case(errors, **params):
    e = np.asarray(errors, dtype=np.float64)
    return Case(e, np.zeros_like(e), "none", params, "test")


@pytest.mark.parametrize("delta", [0.5, 2.0, 3.0])
def test_missing_offset_is_named(delta):
    c = _none_case([0.1, -0.2, 4.0, -5.0, 7.5], delta=delta)
    truth = torch_loss("huber_loss", c.input, c.target, "none", delta=delta)
    student = _huber(c.input, c.target, "none", delta, offset=0.0)
    msg = hint(student, truth, c, "loss", "delta")
    assert "offset" in msg and "0.5*delta**2" in msg, msg


def test_missing_offset_is_named_for_smooth_l1():
    c = _none_case([0.1, -0.2, 4.0, -5.0], beta=0.5)
    truth = torch_loss("smooth_l1_loss", c.input, c.target, "none", beta=0.5)
    student = np.where(np.abs(c.error) < 0.5, 0.5 * c.error ** 2 / 0.5, np.abs(c.error))
    msg = location_hint(student, truth, c, "loss", "beta")
    assert "0.5*beta" in msg, msg


def test_branch_on_e_instead_of_abs_e_is_named():
    c = _none_case([0.3, -0.4, 2.5, -2.5, 6.0, -7.0], delta=1.5)
    e = c.error
    truth = torch_grad("huber_loss", c.input, c.target, "none", delta=1.5)
    student = np.where(e < 1.5, e, 1.5)
    msg = hint(student, truth, c, "grad", "delta")
    assert "|e| < delta" in msg and "e < delta" in msg, msg


def test_a_wrong_scalar_gets_no_location_hint_and_no_crash():
    c = Case(np.array([0.5, 2.0, -3.0]), np.zeros(3), "mean", {"delta": 1.0}, "test")
    truth = torch_loss("huber_loss", c.input, c.target, "mean", delta=1.0)
    assert location_hint(np.asarray(float(truth) + 0.1), truth, c, "loss", "delta") is None
    with pytest.raises(AssertionError, match="PyTorch gives"):
        check_loss(lambda i, t, reduction="mean", delta=1.0: _huber(i, t, reduction, delta) + 0.1, "huber_loss", c)


def test_grad_checks_accept_uniform_cases():
    def grad(input, target, reduction="mean", delta=1.0):
        g = np.clip(input - target, -delta, delta)
        return g / g.size if reduction == "mean" else g

    rng = np.random.default_rng(4)
    assert check_grad(grad, "huber_loss", uniform_cases("huber_loss", rng, [{"delta": 1e-3}, {"delta": 9.0}])) == 36
