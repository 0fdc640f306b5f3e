"""One record per loss (regloss.checks.losses): the registry is consistent, and a new loss is one entry.

The made-up loss of these tests is Welsch's, ``(c**2 / 2) (1 - exp(-(e/c)**2))``, registered
with ``monkeypatch`` only: its reference values, its probe cases, and ``check_loss`` /
``check_grad`` (a correct NumPy implementation passes, wrong ones fail naming the mistake)
work with no other edit anywhere.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

import regloss
from regloss.checks.cases import (
    Case,
    case,
    convention_cases,
    default_params_list,
    invalid_calls,
    probe_cases,
    uniform_cases,
)
from regloss.checks.compare import CheckFailed, check_grad, check_invalid_arguments, check_loss
from regloss.checks.losses import REGISTRY, Factor, LossSpec, names, spec
from regloss.checks.mistakes import Hint, tags
from regloss.checks.reference import torch_error, torch_grad, torch_loss
from regloss.grading.report.mistakes import classify

# ------------------------------------------------------------------------------ the registry


def test_regloss_losses_are_the_registrys_torch_functional_losses():
    assert regloss.LOSSES == tuple(name for name, s in REGISTRY.items() if s.in_torch)
    assert names() == tuple(REGISTRY) and len(names()) == 10


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_record_is_consistent(name):
    s = REGISTRY[name]
    assert s.name == name and spec(name) is s
    assert s.main == next(iter(s.parameters), None)
    assert s.boundary is None or s.boundary in s.parameters
    assert set(s.positional) <= set(s.parameters)
    assert all(bad in kwargs and set(kwargs) <= set(s.parameters) for kwargs, bad in s.invalid)
    assert not isinstance(s.kinked_at_zero, str) or s.kinked_at_zero in s.parameters
    assert s.in_torch == (s.diagnosis == "branches")  # the four core losses are the piecewise ones
    assert torch_error(name, np.ones(2), np.zeros(2)) is None  # the defaults are valid
    for kwargs, _ in s.invalid:
        assert torch_error(name, np.ones(2), np.zeros(2), **kwargs) is not None, kwargs  # PyTorch refuses it
    for params in s.probe_params(np.random.default_rng(0)):
        assert set(params) <= set(s.parameters)


def test_an_unknown_loss_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"unknown loss 'hinge_loss'; expected one of \('l1_loss'"):
        spec("hinge_loss")
    assert "unknown loss 'hinge_loss'" in str(torch_error("hinge_loss", np.ones(2), np.zeros(2)))


def test_regloss_itself_imports_nothing():
    """``regloss.LOSSES`` is a plain tuple: the package's ``__init__`` imports nothing (the sandboxed
    answer process imports ``regloss`` and must never load the checks, torch or SciPy; the answer side's
    whole import graph is tested in tests/grading/sandboxed/test_import_graph.py)."""
    tree = ast.parse(Path(regloss.__file__).read_text(encoding="utf-8"))
    lazy = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"]
    inside = {id(n) for f in lazy for n in ast.walk(f)}
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert not [node for node in imports if id(node) not in inside]
    # the one lazy import: official_check, on first use (regloss.official imports only the standard library)
    assert all(isinstance(node, ast.ImportFrom) and node.module == "regloss.official" for node in imports)


# ------------------------------------------------------------------------------ a new loss is one entry


def _welsch_truth(e, c=1.0):
    import torch

    if not (isinstance(c, (int, float)) and c > 0 and math.isfinite(c)):
        raise ValueError(f"c must be a finite number > 0, got c={c!r}")
    return (c * c / 2) * -torch.expm1(-((e / c) ** 2))


WELSCH = LossSpec(
    "welsch_loss", {"c": 1.0}, _welsch_truth, boundary="c",
    probe_params=lambda rng: [{"c": 1.0}, {"c": 0.5}, {"c": float(np.round(rng.uniform(0.5, 3.0), 3))}],
    positional={"c": 2.0}, invalid=(({"c": 0.0}, "c"), ({"c": -1.5}, "c")), kinked_at_zero=False,
    value_factors=(Factor(lambda p: 2.0 / p["c"] ** 2, Hint(
        "missing-scale-factor", "missing the factor c**2 / 2: Welsch's loss is (c**2 / 2)(1 - exp(-(e/c)**2))")),),
    grad_factors=(Factor(-1.0, Hint("flipped-sign", "the sign of the gradient is flipped")),),
)


def _reduce(v, reduction):
    return {"none": v, "mean": v.mean(), "sum": v.sum()}[reduction]


def welsch_loss(input, target, reduction="mean", c=1.0):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
    if not c > 0:
        raise ValueError(f"c must be > 0, got c={c!r}")
    e = input - target
    return _reduce((c * c / 2) * -np.expm1(-((e / c) ** 2)), reduction)


def welsch_loss_grad(input, target, reduction="mean", c=1.0):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
    if not c > 0:
        raise ValueError(f"c must be > 0, got c={c!r}")
    e = input - target
    g = e * np.exp(-((e / c) ** 2))
    return g / max(g.size, 1) if reduction == "mean" else g


@pytest.fixture
def welsch(monkeypatch):
    monkeypatch.setitem(REGISTRY, "welsch_loss", WELSCH)
    return "welsch_loss"


def test_the_new_loss_has_reference_values_and_gradients(welsch):
    e = np.array([0.0, 0.3, -1.0, 2.5, -40.0])
    t = np.zeros_like(e)
    for c in (1.0, 2.0):
        want = (c * c / 2) * (1 - np.exp(-(e / c) ** 2))
        np.testing.assert_allclose(torch_loss(welsch, e, t, "none", c=c), want, rtol=1e-13)
        np.testing.assert_allclose(torch_loss(welsch, e, t, "mean", c=c), want.mean(), rtol=1e-13)
        np.testing.assert_allclose(torch_grad(welsch, e, t, "sum", c=c), e * np.exp(-(e / c) ** 2), rtol=1e-13,
                                   atol=1e-15)
    assert torch_loss(welsch, e.astype(np.float32), t.astype(np.float32), "none").dtype == np.float32
    assert isinstance(torch_error(welsch, e, t, "avg"), ValueError)
    assert isinstance(torch_error(welsch, e, t, delta=1.0), TypeError)  # not one of its parameters


def test_the_new_loss_has_probe_cases(welsch):
    cases = probe_cases(welsch, np.random.default_rng(7))
    assert [c.params for c in cases[:1]] == [{"c": 1.0}]
    assert {c.params["c"] for c in cases} >= {1.0, 0.5} and len({c.params["c"] for c in cases}) == 3
    assert {c.reduction for c in cases} == {"none", "mean", "sum"}
    assert {c.input.dtype for c in cases} == {np.dtype(np.float64), np.dtype(np.float32)}
    errs = np.concatenate([np.ravel(c.error) for c in cases])
    assert np.any(errs == 0) and np.max(np.abs(errs)) >= 1e4  # e = 0 and large errors
    special = [c for c in cases if c.label.startswith("special")]
    assert all(np.any(np.abs(c.error) == np.asarray(c.params["c"], c.input.dtype)) for c in special)  # |e| = c
    assert default_params_list(welsch, np.random.default_rng(7)) == WELSCH.probe_params(np.random.default_rng(7))
    conv = convention_cases(welsch, np.random.default_rng(1))
    assert [c.style for c in conv] == ["defaults"] + ["positional"] * 3 and conv[1].params == {"c": 2.0}
    assert "c=1.0" in conv[0].label
    assert invalid_calls(welsch)[3:] == [({"c": 0.0}, "c"), ({"c": -1.5}, "c")]
    assert len(uniform_cases(welsch, np.random.default_rng(2), [{"c": 2.0}])) == 18


def test_a_correct_implementation_of_the_new_loss_passes_every_check(welsch):
    rng = np.random.default_rng(11)
    cases = probe_cases(welsch, rng) + convention_cases(welsch, rng) + uniform_cases(welsch, rng, [{"c": 1.5}])
    assert check_loss(welsch_loss, welsch, cases) == len(cases)
    assert check_grad(welsch_loss_grad, welsch, cases) == len(cases)
    check_invalid_arguments(welsch_loss, welsch)
    check_invalid_arguments(welsch_loss_grad, welsch)


def _failure(check, fn, name, cases):
    with pytest.raises(CheckFailed) as err:
        check(fn, name, cases)
    return str(err.value)


def test_wrong_implementations_of_the_new_loss_fail_naming_the_mistake(welsch):
    c = case([0.5, -2.0, 3.0], [0.0, 0.0, 1.0], "none", c=2.0)

    def no_factor(input, target, reduction="mean", c=1.0):  # forgot (c**2 / 2)
        return _reduce(-np.expm1(-(((input - target) / c) ** 2)), reduction)

    msg = _failure(check_loss, no_factor, welsch, c)
    assert "missing the factor c**2 / 2: Welsch's loss" in msg and tags(msg) == ["missing-scale-factor"]
    assert classify(msg, "CheckFailed") == "missing-scale-factor"

    def summed(input, target, reduction="mean", c=1.0):
        return welsch_loss(input, target, "sum" if reduction == "mean" else reduction, c)

    msg = _failure(check_loss, summed, welsch, case([0.5, -2.0, 3.0], [0.0, 0.0, 1.0], c=2.0))
    assert "did you sum instead of averaging?" in msg and classify(msg) == "sum-for-mean"

    def flipped(input, target, reduction="mean", c=1.0):
        return -welsch_loss_grad(input, target, reduction, c)

    msg = _failure(check_grad, flipped, welsch, c)
    assert msg.endswith("the sign of the gradient is flipped [mistake: flipped-sign]"), msg

    def wrong_at_zero(input, target, reduction="mean", c=1.0):  # the "robust" diagnosis: where it is wrong
        g = welsch_loss_grad(input, target, reduction, c)
        return np.where(input == target, 1.0, g)

    msg = _failure(check_grad, wrong_at_zero, welsch, case([0.5, 1.0, 3.0], [0.0, 1.0, 1.0], "none", c=2.0))
    assert "wrong only where e = 0: the gradient there is 0 [mistake: sign(0)]" in msg

    def no_return(input, target, reduction="mean", c=1.0):
        welsch_loss(input, target, reduction, c)

    assert classify(_failure(check_loss, no_return, welsch, c)) == "no-return"


def test_a_new_loss_without_factor_readings_gets_the_generic_ones(monkeypatch):
    monkeypatch.setitem(REGISTRY, "welsch_loss", LossSpec("welsch_loss", {"c": 1.0}, _welsch_truth, boundary="c"))
    c = Case(np.array([0.5, -2.0]), np.zeros(2), "sum", {"c": 1.0})

    def twice(input, target, reduction="mean", c=1.0):
        return 2 * welsch_loss(input, target, reduction, c)

    msg = _failure(check_loss, twice, "welsch_loss", c)
    assert msg.endswith("twice PyTorch's value: a missing factor 0.5? [mistake: missing-0.5]"), msg


def test_the_new_loss_is_gone_with_its_entry():
    assert "welsch_loss" not in REGISTRY
    with pytest.raises(ValueError, match="unknown loss"):
        torch_loss("welsch_loss", np.ones(2), np.zeros(2))
