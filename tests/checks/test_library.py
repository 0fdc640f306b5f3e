"""The support library: PyTorch reference, comparison and hints, own-work check,
finite differences, authoring round trip.

Reference implementations of the losses live only here, in the tests (regloss
holds no answers); they are themselves checked against PyTorch first.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from regloss import LOSSES
from regloss.checks.cases import case, invalid_calls, probe_cases
from regloss.checks.compare import check_grad, check_invalid_arguments, check_loss
from regloss.checks.gradcheck import check_gradient, numerical_gradient, rel_error
from regloss.checks.losses import REGISTRY
from regloss.checks.own_work import assert_own_work, forbidden_calls
from regloss.checks.reference import REDUCTIONS, torch_grad, torch_loss
from regloss.course.authoring import notebook_to_text, text_to_notebook

# ------------------------------------------------------------------ test-only references


def _reduce(v, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"invalid reduction {reduction!r}")
    return {"none": v, "mean": v.mean(), "sum": v.sum()}[reduction]


def _grad_reduce(g, input, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"invalid reduction {reduction!r}")
    return g / input.size if reduction == "mean" else g


def _check_param(name, p):
    if name == "delta" and p <= 0:
        raise ValueError("delta must be positive")
    if name == "beta" and p < 0:
        raise ValueError("beta must be non-negative")


def ref_loss(name):
    def l1(input, target, reduction="mean"):
        return _reduce(np.abs(input - target), reduction)

    def mse(input, target, reduction="mean"):
        return _reduce((input - target) ** 2, reduction)

    def huber(input, target, reduction="mean", delta=1.0):
        _check_param("delta", delta)
        a = np.abs(input - target)
        return _reduce(np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta)), reduction)

    def smooth(input, target, reduction="mean", beta=1.0):
        _check_param("beta", beta)
        if beta == 0:
            return l1(input, target, reduction)
        a = np.abs(input - target)
        return _reduce(np.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta), reduction)

    return {"l1_loss": l1, "mse_loss": mse, "huber_loss": huber, "smooth_l1_loss": smooth}[name]


def ref_grad(name):
    def l1(input, target, reduction="mean"):
        return _grad_reduce(np.sign(input - target), input, reduction)

    def mse(input, target, reduction="mean"):
        return _grad_reduce(2 * (input - target), input, reduction)

    def huber(input, target, reduction="mean", delta=1.0):
        _check_param("delta", delta)
        return _grad_reduce(np.clip(input - target, -delta, delta), input, reduction)

    def smooth(input, target, reduction="mean", beta=1.0):
        _check_param("beta", beta)
        if beta == 0:
            return l1(input, target, reduction)
        return _grad_reduce(np.clip((input - target) / beta, -1, 1), input, reduction)

    return {"l1_loss": l1, "mse_loss": mse, "huber_loss": huber, "smooth_l1_loss": smooth}[name]


# ------------------------------------------------------------------------ reference


@pytest.mark.parametrize("name", LOSSES)
def test_reference_implementations_match_torch_on_every_probe(name):
    cases = probe_cases(name, np.random.default_rng(0))
    assert check_loss(ref_loss(name), name, cases) == len(cases)
    assert check_grad(ref_grad(name), name, cases) == len(cases)
    check_invalid_arguments(ref_loss(name), name)
    check_invalid_arguments(ref_grad(name), name)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_torch_keeps_dtype_and_shape(name, dtype):
    x = np.arange(6, dtype=dtype).reshape(2, 3)
    t = np.zeros((2, 3), dtype=dtype)
    assert torch_loss(name, x, t, "none").dtype == dtype
    assert torch_loss(name, x, t, "mean").shape == ()
    g = torch_grad(name, x, t, "mean")
    assert g.shape == (2, 3) and g.dtype == dtype


@settings(max_examples=40, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                    elements=st.floats(-50, 50, allow_nan=False)),
       name=st.sampled_from(LOSSES))
def test_mean_gradient_is_the_elementwise_gradient_over_n(x, name):
    t = np.zeros_like(x)
    np.testing.assert_allclose(torch_grad(name, x, t, "mean") * x.size, torch_grad(name, x, t, "none"),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(torch_grad(name, x, t, "sum"), torch_grad(name, x, t, "none"))


def test_l1_subgradient_is_zero_at_zero_in_torch():
    assert torch_grad("l1_loss", np.zeros(3), np.zeros(3), "none").tolist() == [0, 0, 0]
    assert torch_grad("smooth_l1_loss", np.zeros(3), np.zeros(3), "none", beta=0.0).tolist() == [0, 0, 0]


# ------------------------------------------------------------------------------ cases


@pytest.mark.parametrize("name", LOSSES)
def test_probes_hit_every_branch_boundary_and_dtype(name):
    cases = probe_cases(name, np.random.default_rng(1))
    p = REGISTRY[name].main
    assert {c.reduction for c in cases} == set(REDUCTIONS)
    assert {c.input.dtype for c in cases} == {np.dtype(np.float64), np.dtype(np.float32)}
    assert any(c.input.ndim == 0 for c in cases) and any(c.input.ndim >= 2 for c in cases)
    assert any(np.any(c.error == 0) for c in cases)
    if p:
        values = {c.params[p] for c in cases}
        assert len(values) >= 4
        for v in values:
            if v > 0:  # the boundary |e| = param is hit exactly, in both dtypes
                hit = [c for c in cases if c.params[p] == v and np.any(np.abs(c.error) == np.asarray(v, c.input.dtype))]
                assert {c.input.dtype for c in hit} == {np.dtype(np.float64), np.dtype(np.float32)}
    if name == "smooth_l1_loss":
        assert any(c.params["beta"] == 0 for c in cases)


def test_probes_are_reproducible_from_the_generator():
    a = probe_cases("huber_loss", np.random.default_rng(5))
    b = probe_cases("huber_loss", np.random.default_rng(5))
    assert all(np.array_equal(x.input, y.input) and x.params == y.params for x, y in zip(a, b))


def test_invalid_calls_are_refused_by_torch_too():
    from regloss.checks.reference import torch_error

    for name in LOSSES:
        for kwargs, _ in invalid_calls(name):
            assert torch_error(name, np.ones(2), np.zeros(2), **{"reduction": "mean", **kwargs}) is not None


# ------------------------------------------------------------------- comparison hints

HINTS = [
    # (name, kind, wrong implementation, case, words the message must contain)
    ("l1_loss", "loss", lambda i, t, reduction="mean": np.abs(i - t).sum(),
     case([3, 1], [1, 3]), "did you sum instead of averaging"),
    ("l1_loss", "loss", lambda i, t, reduction="mean": np.abs(i - t).mean(),
     case([3, 1], [1, 3], "sum"), "did you average"),
    ("l1_loss", "grad", lambda i, t, reduction="mean": np.where(i - t >= 0, 1.0, -1.0),
     case([1, 3, 5], [2, 1, 5], "none"), "e = 0"),
    ("l1_loss", "grad", lambda i, t, reduction="mean": np.sign(i - t),
     case([1, 3, 5], [2, 1, 4]), "1/N"),
    ("mse_loss", "grad", lambda i, t, reduction="mean": (i - t),
     case([1, 3, 5], [2, 1, 4], "sum"), "factor 2"),
    ("mse_loss", "grad", lambda i, t, reduction="mean": 2 * (t - i),
     case([1, 3, 5], [2, 1, 4], "sum"), "sign"),
    ("mse_loss", "loss", lambda i, t, reduction="mean": 0.5 * ((i - t) ** 2).mean(),
     case([1, 3, 5], [2, 1, 4]), "0.5"),
    ("huber_loss", "loss",
     lambda i, t, reduction="mean", delta=1.0: ref_loss("smooth_l1_loss")(i, t, reduction, beta=delta),
     case([0.5, 3.0], [0, 0], delta=2.0), "SmoothL1 convention"),
    ("huber_loss", "grad", lambda i, t, reduction="mean", delta=1.0: np.clip(i - t, -1, 1),
     case([0.5, 3.0, -4.0], [0, 0, 0], "none", delta=2.0), "+-1 whatever delta is"),
    ("smooth_l1_loss", "grad", lambda i, t, reduction="mean", beta=1.0: np.clip(i - t, -beta, beta),
     case([0.5, 3.0, -4.0], [0, 0, 0], "none", beta=2.0), "Huber convention"),
]


@pytest.mark.parametrize("name,kind,fn,c,words", HINTS, ids=[h[4] for h in HINTS])
def test_failure_messages_name_the_likely_mistake(name, kind, fn, c, words):
    check = check_loss if kind == "loss" else check_grad
    with pytest.raises(AssertionError) as err:
        check(fn, name, c)
    msg = str(err.value)
    assert words in msg and "PyTorch gives" in msg, msg


def test_wrong_shape_is_reported():
    with pytest.raises(AssertionError, match="keeps the shape"):
        check_loss(lambda i, t, reduction="mean": np.abs(i - t).ravel()[:1], "l1_loss",
                   case([[1, 2]], [[0, 0]], "none"))
    with pytest.raises(AssertionError, match="returned None"):
        check_loss(lambda i, t, reduction="mean": None, "l1_loss", case([1], [0]))


def test_invalid_argument_checks():
    def accepts_anything(input, target, reduction="mean", delta=1.0):
        return 0.0

    with pytest.raises(AssertionError, match="instead of raising ValueError"):
        check_invalid_arguments(accepts_anything, "huber_loss")

    def says_nothing(input, target, reduction="mean"):
        raise ValueError("nope")

    with pytest.raises(AssertionError, match="should say"):
        check_invalid_arguments(says_nothing, "l1_loss")

    def wrong_type(input, target, reduction="mean"):
        raise KeyError(reduction)

    with pytest.raises(AssertionError, match="contract asks for a ValueError"):
        check_invalid_arguments(wrong_type, "l1_loss")


# ------------------------------------------------------------------------- own work


def test_own_work_accepts_numpy_and_refuses_other_libraries():
    x = np.ones(3)
    assert_own_work(lambda a: np.abs(a).mean(), x)

    def via_torch(a):
        import torch

        return torch.as_tensor(a).abs().mean().item()

    def via_scipy(a):
        from scipy import stats

        return stats.median_abs_deviation(a)

    def via_regloss(a):
        return torch_loss("l1_loss", a, np.zeros_like(a))

    for fn, lib in ((via_torch, "torch"), (via_scipy, "scipy"), (via_regloss, "regloss")):
        with pytest.raises(AssertionError, match=lib):
            assert_own_work(fn, x)


def test_own_work_can_forbid_single_numpy_functions():
    x = np.arange(5.0)
    calls, _ = forbidden_calls(lambda a: np.polyfit(a, 2 * a, 1), x, forbidden_functions=("numpy.polyfit",))
    assert calls and "polyfit" in calls[0]
    calls, _ = forbidden_calls(lambda a: np.mean(a), x, forbidden_functions=("numpy.polyfit",))
    assert calls == []


def test_check_loss_refuses_a_delegating_loss():
    def l1_loss(input, target, reduction="mean"):
        import torch
        import torch.nn.functional as F

        return F.l1_loss(torch.as_tensor(input), torch.as_tensor(target), reduction=reduction).numpy()

    with pytest.raises(AssertionError, match="earns no points"):
        check_loss(l1_loss, "l1_loss", case([1, 2], [0, 0]))


# ---------------------------------------------------------------- finite differences


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5), elements=st.floats(-10, 10)))
def test_numerical_gradient_of_a_quadratic(x):
    np.testing.assert_allclose(numerical_gradient(lambda z: float((z ** 2).sum()), x), 2 * x, atol=1e-6)


def test_rel_error_and_check_gradient():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=(2, 9))
    for name in LOSSES:
        kink = (0.0,) if name != "huber_loss" else (1.0,)
        assert check_gradient(ref_loss(name), ref_grad(name), x, t, kinks=kink + (0.0,), reduction="sum") < 1e-6
    with pytest.raises(AssertionError, match="relative error"):
        check_gradient(ref_loss("mse_loss"), ref_grad("l1_loss"), x, t, reduction="mean")


# -------------------------------------------------------------------------- authoring

TEXT = '''# %% [markdown]
# # Title
#
# Prose.

# %%
import numpy as np

# %% solution id=f
def f(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION

# %% tests id=test_f__visible points=2
assert f(1) == 1

# %% [markdown] manual id=q points=3
# Why?
'''


def test_authoring_round_trip_and_metadata():
    nb = text_to_notebook(TEXT)
    kinds = [(c.cell_type, c.metadata.get("nbgrader", {}).get("grade_id")) for c in nb.cells]
    assert kinds == [("markdown", None), ("code", None), ("code", "f"), ("code", "test_f__visible"), ("markdown", "q")]
    tests = nb.cells[3].metadata["nbgrader"]
    assert tests["grade"] and tests["locked"] and tests["points"] == 2
    manual = nb.cells[4].metadata["nbgrader"]
    assert manual["grade"] and manual["solution"] and manual["points"] == 3
    assert notebook_to_text(text_to_notebook(notebook_to_text(nb))) == notebook_to_text(nb)


def test_gradient_shape_message_says_gradients_keep_the_input_shape():
    with pytest.raises(AssertionError, match=r"l1_loss_grad.*shape of input, whatever the reduction"):
        check_grad(lambda i, t, reduction="mean": np.sign(i - t).mean(), "l1_loss", case([1, 2], [0, 0]))


def test_ambiguous_factor_gives_every_reading():
    """With N = 2 a missing factor 2 and a stray 1/N look alike: the message names both."""
    with pytest.raises(AssertionError) as err:
        check_grad(lambda i, t, reduction="mean": i - t, "mse_loss", case([3, 1], [1, 3], "none"))
    assert "1/N" in str(err.value) and "factor 2 missing" in str(err.value)
