"""The model answers of assignments 04 and 06 against statsmodels, SciPy and
published values — independent of the notebooks' own hidden tests.

* huber_location: statsmodels' M-estimator of location with HuberT and a fixed
  MAD scale (``statsmodels.robust.norms.estimate_location``), RLM on a constant
  with the scale held fixed, and SciPy's minimisation of the Huber objective;
* huber_are: SciPy quadrature of the defining expectations with statsmodels'
  HuberT psi, the published values 0.950 at k = 1.345, 2/pi as k -> 0 and 1 as
  k -> inf, and a Monte Carlo experiment;
* mad_scale: scipy.stats.median_abs_deviation and statsmodels.robust.scale.mad;
* the line fits shipped with 06 (fits.py): statsmodels RLM and QuantReg.
"""

import math
import sys

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from tests.harness import ROOT, read_source

sm_norms = pytest.importorskip("statsmodels.robust.norms")
sm_scale = pytest.importorskip("statsmodels.robust.scale")
import statsmodels.api as sm  # noqa: E402


def _solutions(assignment, names):
    """The model answers: the notebook's first code cell (imports) and its solution cells, executed."""
    nb = read_source(assignment)
    code = [c for c in nb.cells if c.cell_type == "code"]
    ns = {}
    folder = str(ROOT / "solutions" / assignment)
    sys.path.insert(0, folder)
    try:
        exec(code[0].source, ns)
        for c in code:
            if c.metadata.get("nbgrader", {}).get("grade_id") in names:
                exec(c.source, ns)
    finally:
        sys.path.remove(folder)
    return ns


A04 = _solutions("04_gradients_and_outliers", {"huber_location", "huber_are"})
A06 = _solutions("06_choosing_a_loss", {"mad_scale"})
huber_location, huber_are, mad_scale = A04["huber_location"], A04["huber_are"], A06["mad_scale"]


def _samples(seed, count=12):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(5, 80)) | 1          # odd n: a unique minimiser whatever delta
        x = rng.normal(rng.normal(0, 3), rng.uniform(0.3, 5), size=n)
        k = int(rng.integers(0, n // 4 + 1))
        x[:k] += rng.choice([-1, 1], size=k) * rng.uniform(20, 500, size=k)
        yield x


# ------------------------------------------------------------------ huber_location
@pytest.mark.parametrize("delta", [0.5, 1.0, 1.345, 2.5])
def test_huber_location_matches_statsmodels_estimate_location(delta):
    for x in _samples(1):
        s = sm_scale.mad(x)                      # median |x - median| / Phi^-1(3/4)
        want = sm_norms.estimate_location(x, s, norm=sm_norms.HuberT(t=delta), maxiter=10_000, tol=1e-13)
        assert huber_location(x, delta=delta) == pytest.approx(float(want), abs=1e-9 * s)


def test_huber_location_matches_rlm_on_a_constant_with_fixed_scale():
    for x in _samples(2):
        s = float(sm_scale.mad(x))
        fit = sm.RLM(x, np.ones_like(x), M=sm_norms.HuberT(t=1.345)).fit(
            scale_est=lambda *args, s=s: s, update_scale=False, conv="coefs", tol=1e-13, maxiter=10_000)
        assert fit.scale == pytest.approx(s)
        assert huber_location(x) == pytest.approx(float(fit.params[0]), abs=1e-8 * s)


def test_huber_location_minimises_the_documented_objective():
    """argmin_mu sum(rho_delta((x - mu) / s)) with scipy.special.huber as rho and s the MAD scale."""
    for x in _samples(3):
        s = stats.median_abs_deviation(x, scale="normal")
        obj = lambda m, x=x, s=s: special.huber(1.345, (x - m) / s).sum()  # noqa: E731
        res = optimize.minimize_scalar(obj, bounds=(x.min(), x.max()), method="bounded",
                                       options={"xatol": 1e-12 * s})
        mu = huber_location(x)
        assert obj(mu) <= res.fun + 1e-12 * abs(res.fun)
        assert mu == pytest.approx(res.x, abs=1e-6 * s)


def test_huber_location_limits_and_equivariance():
    x = np.random.default_rng(4).standard_t(2, size=31)
    assert huber_location(x, delta=1e8) == pytest.approx(x.mean(), abs=1e-12)
    assert huber_location(x, delta=1e-9) == pytest.approx(np.median(x), abs=1e-6)
    assert huber_location(5 * x - 2) == pytest.approx(5 * huber_location(x) - 2, abs=1e-9)
    batch = np.stack([x, 2 * x, x + 1])
    assert np.allclose(huber_location(batch), [huber_location(r) for r in batch], atol=1e-12)


# ---------------------------------------------------------------------- huber_are
def _are_statsmodels(k):
    """E[psi']^2 / E[psi^2] by quadrature of statsmodels' HuberT psi against scipy's normal."""
    norm = sm_norms.HuberT(t=k)
    kk = min(k, 60.0)
    opts = dict(epsabs=0, epsrel=1e-13, limit=200)
    e_dpsi = integrate.quad(lambda z: norm.psi_deriv(np.array([z]))[0] * stats.norm.pdf(z), -kk, kk, **opts)[0]
    inner = integrate.quad(lambda z: norm.psi(np.array([z]))[0] ** 2 * stats.norm.pdf(z), -kk, kk, **opts)[0]
    return e_dpsi ** 2 / (inner + 2 * k * k * stats.norm.sf(k))


@pytest.mark.parametrize("k", [1e-3, 0.1, 0.5, 1.0, 1.345, 1.5, 2.0, 3.0, 5.0, 10.0])
def test_huber_are_matches_quadrature_of_statsmodels_psi(k):
    assert huber_are(k) == pytest.approx(_are_statsmodels(k), rel=1e-7)


def test_huber_are_published_values_and_limits():
    assert round(huber_are(1.345), 3) == 0.950
    # 1.345 is the k of 95 % efficiency (Huber 1981; Holland & Welsch 1977), to three decimals
    k95 = optimize.brentq(lambda k: huber_are(k) - 0.95, 0.5, 3.0, xtol=1e-12)
    assert round(k95, 3) == 1.345
    # k -> 0: ARE(k) = (2/pi) (1 + (4/3) phi(0) k + O(k^2)), from the series of erf, erfc and phi
    for k in (1e-12, 1e-9, 1e-6):
        assert huber_are(k) == pytest.approx(2 / math.pi * (1 + 4 / 3 * stats.norm.pdf(0) * k), rel=1e-10)
    assert huber_are(math.inf) == 1.0
    assert huber_are(1e6) == pytest.approx(1.0, abs=1e-15)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError):
            huber_are(bad)


@pytest.mark.parametrize("k", [0.5, 1.345, 2.0])
def test_huber_are_agrees_with_a_monte_carlo_experiment(k):
    rng = np.random.default_rng(int(k * 1000))
    x = rng.normal(size=(20_000, 200))
    ratio = x.mean(axis=1).var() / huber_location(x, delta=k, scale=1.0).var()
    assert ratio == pytest.approx(huber_are(k), abs=0.015)


def test_median_efficiency_by_monte_carlo():
    x = np.random.default_rng(0).normal(size=(20_000, 201))
    assert x.mean(axis=1).var() / np.median(x, axis=1).var() == pytest.approx(2 / math.pi, abs=0.02)


# ----------------------------------------------------------------------- mad_scale
def test_mad_scale_matches_scipy_and_statsmodels():
    rng = np.random.default_rng(5)
    for n in [1, 2, 3, 4, 5, 10, 11, 100, 101]:
        r = rng.standard_t(1, size=n) * 3 + 7
        want = stats.median_abs_deviation(r, scale="normal")
        assert mad_scale(r) == pytest.approx(want, rel=1e-12, abs=0)
        assert mad_scale(r) == pytest.approx(float(sm_scale.mad(r)), rel=1e-12, abs=0)


def test_mad_scale_estimates_sigma_for_normal_data():
    r = np.random.default_rng(6).normal(0, 2.5, size=400_000)
    assert mad_scale(r) == pytest.approx(2.5, rel=0.01)


# --------------------------------------------------------------- fits.py of 06
def _fits():
    sys.path.insert(0, str(ROOT / "solutions" / "06_choosing_a_loss"))
    try:
        import fits
    finally:
        sys.path.pop(0)
    return fits


def test_shipped_line_fits_match_statsmodels():
    fits = _fits()
    rng = np.random.default_rng(8)
    x = np.linspace(-1, 1, 30)
    Y = 2 * x + 1 + rng.standard_t(2, size=(5, x.size))
    X = sm.add_constant(x)
    s_ols, i_ols = fits.fit_ols(x, Y)
    s_l1, i_l1 = fits.fit_l1(x, Y, n_iter=2000, tol=1e-13)
    s_h, i_h = fits.fit_huber(x, Y, 1.345)
    for r, y in enumerate(Y):
        ols = sm.OLS(y, X).fit().params
        assert (i_ols[r], s_ols[r]) == pytest.approx(tuple(ols), abs=1e-10)
        rlm = sm.RLM(y, X, M=sm_norms.HuberT(t=1.345)).fit(scale_est=lambda *a: 1.0, update_scale=False,
                                                             conv="coefs", tol=1e-13, maxiter=10_000).params
        assert (i_h[r], s_h[r]) == pytest.approx(tuple(rlm), abs=1e-7)
        # L1: compare the objective with the exact LAD fit (QuantReg at the median)
        lad = sm.QuantReg(y, X).fit(q=0.5, max_iter=10_000, p_tol=1e-12).params
        obj = lambda b, y=y: np.abs(y - b[0] - b[1] * x).sum()  # noqa: E731
        assert obj((i_l1[r], s_l1[r])) <= obj(lad) * (1 + 1e-6)


# ------------------------------------------- regloss.checks.robust_stats (04, 06)
from regloss.checks import robust_stats  # noqa: E402


@pytest.mark.parametrize("eps", [1e-4, 0.01, 0.05, 0.1, 0.2, 0.5])
def test_minimax_k_reference_is_the_root_of_hubers_condition(eps):
    """Checked against a root found independently (brentq on k itself, SciPy's norm), not against
    typed values: the condition 2 phi(k)/k - 2 Phi(-k) = eps/(1 - eps) gives 1.3984 at eps = 0.05
    and 1.1402 at eps = 0.1."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    root = brentq(lambda k: 2 * norm.pdf(k) / k - 2 * norm.sf(k) - eps / (1 - eps), 1e-6, 40.0, xtol=1e-15, rtol=1e-15)
    assert robust_stats.huber_minimax_k_reference(eps) == pytest.approx(root, rel=1e-12)


@pytest.mark.parametrize("eps", [1e-6, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.9])
def test_minimax_k_reference_minimises_the_worst_case_variance(eps):
    """The root of Huber's equation is the k that minimises V(k, eps), found independently."""
    k = robust_stats.huber_minimax_k_reference(eps)
    best = optimize.minimize_scalar(robust_stats.huber_worst_case_variance, bounds=(1e-3, 8.0), args=(eps,),
                                    method="bounded", options={"xatol": 1e-10}).x
    assert k == pytest.approx(best, rel=1e-6)


def test_worst_case_variance_is_the_variance_under_far_symmetric_contamination():
    """V(k, eps) against E_F[psi^2] / E_F[psi']^2 by quadrature, H = N(0, 1e16): its mass lies beyond k."""
    k, eps, wide = 1.2, 0.1, 1e8
    pdf = lambda z: (1 - eps) * stats.norm.pdf(z) + eps * stats.norm.pdf(z, scale=wide)  # noqa: E731
    e_dpsi = integrate.quad(pdf, -k, k, epsabs=0, epsrel=1e-12)[0]
    inner = integrate.quad(lambda z: z * z * pdf(z), -k, k, epsabs=0, epsrel=1e-12)[0]
    tails = 2 * k * k * ((1 - eps) * stats.norm.sf(k) + eps * stats.norm.sf(k, scale=wide))
    assert robust_stats.huber_worst_case_variance(k, eps) == pytest.approx((inner + tails) / e_dpsi ** 2, rel=1e-6)


def test_minimax_k_reference_refuses_eps_outside_the_open_interval():
    for eps in (0.0, 1.0, -0.5, 2.0, math.nan):
        with pytest.raises(ValueError, match="eps"):
            robust_stats.huber_minimax_k_reference(eps)


def test_study_reference_is_the_rmse_of_paired_fits():
    """One draw per noise model, shared by the fits; RMSE around the true slope; the generator advanced once."""
    fits = _fits()
    x = np.linspace(0.0, 1.0, 12)
    noise = {"n": lambda rng, size: rng.normal(size=size), "t": lambda rng, size: rng.standard_t(2, size=size)}
    table = robust_stats.study_reference({"OLS": fits.fit_ols}, noise, x, 50, np.random.default_rng(3), slope=-1.0)
    rng = np.random.default_rng(3)
    for label in ("n", "t"):
        Y = -1.0 * x + 1.0 + noise[label](rng, (50, x.size))
        slopes = np.array([np.polyfit(x, y, 1)[0] for y in Y])
        assert table[label]["OLS"] == pytest.approx(np.sqrt(np.mean((slopes + 1.0) ** 2)), rel=1e-10)


def test_bootstrap_choice_reference_resamples_pairs():
    fits = _fits()
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 5, 30)
    y = 2 * x + rng.standard_t(1, size=30)
    best, se = robust_stats.bootstrap_choice_reference(x, y, {"OLS": fits.fit_ols, "L1": fits.fit_l1}, 200,
                                                       np.random.default_rng(9))
    idx = np.random.default_rng(9).integers(0, 30, size=(200, 30))
    slopes = np.array([np.polyfit(x[i], y[i], 1)[0] for i in idx])
    assert se["OLS"] == pytest.approx(np.std(slopes, ddof=1), rel=1e-9)
    assert best == min(se, key=se.get)


def test_shipped_line_fits_accept_one_x_per_row():
    """fits.py with x of shape (R, n) (a bootstrap) equals fitting each row with its own x."""
    fits = _fits()
    rng = np.random.default_rng(10)
    X = rng.uniform(50, 60, size=(4, 25))            # far from 0: the centred solve keeps its accuracy
    Y = 0.5 * X - 3 + rng.standard_t(3, size=X.shape)
    for fit in (fits.fit_ols, lambda x, Y: fits.fit_huber(x, Y, 1.0)):
        s_all, i_all = fit(X, Y)
        for r in range(4):
            s_one, i_one = fit(X[r], Y[r:r + 1])
            assert (s_all[r], i_all[r]) == pytest.approx((s_one[0], i_one[0]), rel=1e-9, abs=1e-9)
    s_ols, i_ols = fits.fit_ols(X, Y)
    for r in range(4):
        assert (s_ols[r], i_ols[r]) == pytest.approx(tuple(np.polyfit(X[r], Y[r], 1)), rel=1e-10)
