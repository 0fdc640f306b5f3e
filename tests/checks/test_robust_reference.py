"""The reference of assignment 07's robust losses against independent formulas.

``regloss.checks.reference`` writes the robust losses as torch expressions; here
each is checked against mpmath at 50 digits (the defining formula, no numerical
care needed), Barron's closed forms at his special alphas, SciPy's
``least_squares`` Cauchy rho, finite differences for the gradients, and the
reductions. And the SciPy Cauchy line fit of ``regloss.checks.fits``.
"""

import math

import mpmath
import numpy as np
import pytest

from regloss import LOSSES
from regloss.checks.cases import convention_cases, invalid_calls, probe_cases
from regloss.checks.fits import cauchy_objective, cauchy_objective_grad, scipy_cauchy_line
from regloss.checks.losses import REGISTRY
from regloss.checks.reference import torch_error, torch_grad, torch_loss

ROBUST_LOSSES = tuple(name for name, spec in REGISTRY.items() if not spec.in_torch)

mpmath.mp.dps = 50


def _mp_loss(name, e, p):
    """The defining formula of each loss, in 50-digit arithmetic."""
    e = mpmath.mpf(e) if isinstance(e, mpmath.mpf) else mpmath.mpf(float(e))
    if name == "log_cosh_loss":
        return mpmath.log(mpmath.cosh(e))
    if name == "pseudo_huber_loss":
        d = mpmath.mpf(p["delta"])
        return d * d * (mpmath.sqrt(1 + (e / d) ** 2) - 1)
    if name == "cauchy_loss":
        c = mpmath.mpf(p["c"])
        return c * c / 2 * mpmath.log(1 + (e / c) ** 2)
    if name == "tukey_biweight_loss":
        c = mpmath.mpf(p["c"])
        return c * c / 6 * (1 - (1 - (e / c) ** 2) ** 3) if abs(e) <= c else c * c / 6
    if name == "quantile_loss":
        q = mpmath.mpf(p["q"])
        return q * max(-e, 0) + (1 - q) * max(e, 0)
    if name == "general_robust_loss":
        a, s = p["alpha"], mpmath.mpf(p["scale"])
        z = (e / s) ** 2
        if a == 2:
            return z / 2
        if a == 0:
            return mpmath.log(z / 2 + 1)
        if a == -math.inf:
            return 1 - mpmath.exp(-z / 2)
        a = mpmath.mpf(a)
        b = abs(a - 2)
        return b / a * ((z / b + 1) ** (a / 2) - 1)
    raise KeyError(name)


def _mp_grad(name, e, p):
    return mpmath.diff(lambda t: _mp_loss(name, t, p), mpmath.mpf(float(e))) if name != "quantile_loss" else (
        mpmath.mpf(0) if e == 0 else mpmath.mpf(1 - p["q"]) if e > 0 else mpmath.mpf(-p["q"]))


PARAMS = {
    "log_cosh_loss": [{}],
    "pseudo_huber_loss": [{"delta": 1.0}, {"delta": 0.3}, {"delta": 4.0}],
    "cauchy_loss": [{"c": 1.0}, {"c": 2.3849}, {"c": 0.2}],
    "tukey_biweight_loss": [{"c": 4.685}, {"c": 1.0}, {"c": 0.5}],
    "quantile_loss": [{"q": 0.5}, {"q": 0.1}, {"q": 0.93}],
    "general_robust_loss": [{"alpha": a, "scale": s} for a, s in
                            [(2.0, 1.0), (1.0, 1.0), (0.0, 0.7), (-2.0, 2.0), (-math.inf, 1.0), (4.0, 1.3),
                             (0.5, 0.25), (-5.5, 1.0), (1e-3, 1.0), (1.999, 1.0)]],
}
ERRORS = np.array([0.0, 1e-7, -1e-4, 0.01, -0.3, 1.0, -2.3849, 4.685, -7.0, 30.0, -250.0, 1e4, -1e4])


@pytest.mark.parametrize("name", ROBUST_LOSSES)
def test_robust_losses_are_listed_everywhere(name):
    assert name in REGISTRY and name not in LOSSES
    assert set(REGISTRY[name].parameters) >= ({REGISTRY[name].main} - {None})
    assert set(PARAMS[name][0]) == set(REGISTRY[name].parameters)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ROBUST_LOSSES)
def test_value_and_gradient_against_50_digit_formulas(name, dtype):
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    tiny = np.finfo(dtype).tiny
    for p in PARAMS[name]:
        x = ERRORS.astype(dtype)
        t = np.zeros_like(x)
        got = torch_loss(name, x, t, "none", **p)
        grad = torch_grad(name, x, t, "none", **p)
        assert got.dtype == dtype and grad.dtype == dtype and got.shape == x.shape == grad.shape
        want = np.array([float(_mp_loss(name, e, p)) for e in x.astype(np.float64)])
        want_g = np.array([float(_mp_grad(name, e, p)) for e in x.astype(np.float64)])
        np.testing.assert_allclose(got, want, rtol=rtol, atol=tiny, err_msg=f"{name} {p} value")
        # a gradient is as accurate as the value's scale allows (|grad| << |loss| / |e| far out)
        atol_g = 1e-15 if dtype == np.float64 else 1e-6
        np.testing.assert_allclose(grad, want_g, rtol=max(rtol, 1e-9), atol=atol_g,
                                   err_msg=f"{name} {p} gradient")
        assert np.all(np.isfinite(got)) and np.all(np.isfinite(grad))


def test_log_cosh_is_finite_and_accurate_up_to_1e4():
    for dtype in (np.float32, np.float64):
        e = np.array([-1e4, -700.0, -90.0, -9.99, 10.0, 89.0, 1e4], dtype=dtype)
        got = torch_loss("log_cosh_loss", e, np.zeros_like(e), "none")
        want = np.abs(e.astype(np.float64)) + np.log1p(np.exp(-2 * np.abs(e.astype(np.float64)))) - np.log(2)
        np.testing.assert_allclose(got, want, rtol=np.finfo(dtype).eps * 4)
        np.testing.assert_allclose(torch_grad("log_cosh_loss", e, np.zeros_like(e), "none"),
                                   np.tanh(e.astype(np.float64)), rtol=np.finfo(dtype).eps * 2)


@pytest.mark.parametrize("alpha, closed", [
    (2.0, lambda z: z / 2),                       # L2
    (1.0, lambda z: np.sqrt(z + 1) - 1),          # Charbonnier / pseudo-Huber
    (0.0, lambda z: np.log1p(z / 2)),             # Cauchy / Lorentzian
    (-2.0, lambda z: 2 * z / (z + 4)),            # Geman-McClure
    (-math.inf, lambda z: -np.expm1(-z / 2)),     # Welsch / Leclerc
])
def test_barron_special_alphas_are_the_named_losses(alpha, closed):
    """Barron (2019), eq. (3)-(7): rho(x, alpha, c) with z = (x/c)^2."""
    e = np.linspace(-20, 20, 401)
    for c in (0.5, 1.0, 3.0):
        z = (e / c) ** 2
        np.testing.assert_allclose(torch_loss("general_robust_loss", e, np.zeros_like(e), "none", alpha=alpha, scale=c),
                                   closed(z), rtol=1e-12, atol=1e-15)


def test_barron_is_continuous_at_its_special_alphas():
    e = np.linspace(-10, 10, 201)
    t = np.zeros_like(e)
    for a, near in ((2.0, 2.0 - 1e-7), (0.0, 1e-9), (0.0, -1e-9), (-math.inf, -1e7)):
        np.testing.assert_allclose(torch_loss("general_robust_loss", e, t, "none", alpha=near),
                                   torch_loss("general_robust_loss", e, t, "none", alpha=a), rtol=1e-5, atol=1e-9)


def test_relations_between_the_losses():
    e = np.linspace(-30, 30, 601)
    t = np.zeros_like(e)
    ph = torch_loss("pseudo_huber_loss", e, t, "none", delta=1.5)
    barron1 = torch_loss("general_robust_loss", e, t, "none", alpha=1.0, scale=1.5)
    np.testing.assert_allclose(ph, 1.5**2 * barron1, rtol=1e-12, atol=1e-15)
    c = 2.0
    cauchy = torch_loss("cauchy_loss", e, t, "none", c=c)
    barron0 = torch_loss("general_robust_loss", e, t, "none", alpha=0.0, scale=c / math.sqrt(2))
    np.testing.assert_allclose(cauchy, c**2 / 2 * barron0, rtol=1e-12, atol=1e-15)
    pinball = torch_loss("quantile_loss", e, t, "none", q=0.5)
    np.testing.assert_allclose(pinball, 0.5 * np.abs(e), rtol=0, atol=0)


def test_cauchy_is_scipys_least_squares_rho():
    """SciPy's cost is 0.5 * sum(f_scale^2 * rho((r / f_scale)^2)), rho(z) = log1p(z)."""
    from scipy.optimize import least_squares

    r = np.array([0.3, -2.0, 7.5, 0.0, -40.0])
    for c in (0.5, 2.3849):
        res = least_squares(lambda p: r + 0 * p, np.zeros(1), loss="cauchy", f_scale=c, max_nfev=1)
        np.testing.assert_allclose(torch_loss("cauchy_loss", r, np.zeros_like(r), "sum", c=c), res.cost, rtol=1e-12)


@pytest.mark.parametrize("name", ROBUST_LOSSES)
def test_gradients_match_finite_differences_and_reductions(name):
    rng = np.random.default_rng(7)
    x = rng.normal(0, 3, size=(3, 4))
    t = rng.normal(0, 1, size=(3, 4))
    for p in PARAMS[name]:
        g = torch_grad(name, x, t, "none", **p)
        h = 1e-6
        fd = (torch_loss(name, x + h, t, "none", **p) - torch_loss(name, x - h, t, "none", **p)) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(torch_loss(name, x, t, "sum", **p), torch_loss(name, x, t, "none", **p).sum())
        np.testing.assert_allclose(torch_loss(name, x, t, "mean", **p), torch_loss(name, x, t, "none", **p).mean())
        np.testing.assert_allclose(torch_grad(name, x, t, "mean", **p), g / x.size)
        np.testing.assert_allclose(torch_grad(name, x, t, "sum", **p), g)


def test_quantile_gradient_is_zero_at_zero_error():
    x = np.array([0.0, -0.0, 1.0, -1.0])
    np.testing.assert_array_equal(torch_grad("quantile_loss", x, np.zeros(4), "none", q=0.2), [0, 0, 0.8, -0.2])


@pytest.mark.parametrize("name", ROBUST_LOSSES)
def test_invalid_calls_are_refused_and_valid_defaults_accepted(name):
    for kwargs, _bad in invalid_calls(name):
        exc = torch_error(name, np.ones(2), np.zeros(2), **kwargs)
        assert isinstance(exc, ValueError), (kwargs, exc)
    assert torch_error(name, np.ones(2), np.zeros(2)) is None


@pytest.mark.parametrize("name", ROBUST_LOSSES)
def test_probe_cases_cover_zero_boundary_large_and_every_param(name):
    rng = np.random.default_rng(3)
    cases = probe_cases(name, rng)
    errs = np.concatenate([np.ravel(c.error) for c in cases])
    assert np.any(errs == 0) and np.max(np.abs(errs)) >= 1e4
    assert {c.reduction for c in cases} == {"none", "mean", "sum"}
    assert {np.asarray(c.input).dtype for c in cases} == {np.dtype(np.float64), np.dtype(np.float32)}
    if name == "general_robust_loss":
        alphas = {c.params["alpha"] for c in cases}
        assert {2.0, 1.0, 0.0, -2.0, -math.inf} <= alphas and len(alphas) >= 6
    if name in ("cauchy_loss", "tukey_biweight_loss"):
        for c in cases:
            if c.label.startswith("special"):
                assert np.any(np.abs(c.error) == np.asarray(c.params["c"], dtype=c.input.dtype))
    for c in cases + convention_cases(name, rng):
        torch_loss(name, c.input, c.target, c.reduction, **c.params)  # every case is valid


def test_core_loss_probes_are_unchanged_by_the_robust_ones():
    """The core losses' hidden tests draw the same cases as before assignment 07."""
    labels = [c.label for c in probe_cases("huber_loss", np.random.default_rng(1201))]
    assert not any("1e4" in lab for lab in labels)
    assert len(labels) == 4 * (2 * 4 * 3 + 6)


# --------------------------------------------------------------- the Cauchy fit

def test_scipy_cauchy_line_is_a_stationary_point():
    rng = np.random.default_rng(11)
    x = rng.uniform(0, 10, 80)
    y = 2 * x + 1 + rng.normal(0, 1, 80)
    y[:12] += rng.uniform(20, 60, 12)
    a, b = scipy_cauchy_line(x, y, c=2.3849)
    g = cauchy_objective_grad(x, y, a, b, 2.3849)
    assert np.max(np.abs(g)) < 1e-7 * len(x)
    assert abs(a - 2) < 0.2 and abs(b - 1) < 1.0  # the outliers do not pull it far
    # and it is a (local) minimum: no nearby point is lower
    f0 = cauchy_objective(x, y, a, b, 2.3849)
    for da, db in ((1e-4, 0), (-1e-4, 0), (0, 1e-3), (0, -1e-3)):
        assert cauchy_objective(x, y, a + da, b + db, 2.3849) > f0


# --------------------------------------------------------------- hints

def _message(fn, name, c, kind="loss"):
    from regloss.checks.compare import check_grad, check_loss

    try:
        (check_loss if kind == "loss" else check_grad)(fn, name, c)
    except AssertionError as exc:
        return str(exc)
    raise AssertionError("the wrong function passed")


def test_hints_name_the_robust_losses_mistakes():
    from regloss.checks.cases import case

    e = [0.0, 0.5, -2.0, 7.0, -30.0]
    zeros = [0.0] * 5

    def cauchy_no_factor(x, t, reduction="mean", c=1.0):
        return np.log1p(((x - t) / c) ** 2)
    assert "c**2 / 2" in _message(cauchy_no_factor, "cauchy_loss", case(e, zeros, "none", c=2.0))

    def tukey_continued(x, t, reduction="mean", c=4.685):
        u = ((x - t) / c) ** 2
        return c * c / 6 * (1 - (1 - u) ** 3)
    assert "beyond c" in _message(tukey_continued, "tukey_biweight_loss", case(e, zeros, "none", c=1.0))

    def quantile_swapped(x, t, reduction="mean", q=0.5):
        d = x - t
        return q * np.maximum(d, 0) + (1 - q) * np.maximum(-d, 0)
    assert "swapped" in _message(quantile_swapped, "quantile_loss", case([0.0, 1.0, 2.0], [0, 0, 0], "none", q=0.2))

    def log_cosh_naive(x, t, reduction="mean"):
        return np.log(np.cosh(x - t))
    assert "overflow" in _message(log_cosh_naive, "log_cosh_loss", case([0.0, 1.0, 1e3], [0, 0, 0], "none"))

    def barron_no_limit(x, t, reduction="mean", alpha=1.0, scale=1.0):
        a = np.float64(alpha)  # numpy: 1 / 0 is inf and a warning, not an exception
        b = abs(a - 2)
        return b / a * ((((x - t) / scale) ** 2 / b + 1) ** (alpha / 2) - 1)
    assert "limits" in _message(barron_no_limit, "general_robust_loss", case(e, zeros, "none", alpha=0.0, scale=1.0))
