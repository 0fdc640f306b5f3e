"""Reference values for the robust-statistics exercises (04, 06 and 07), computed with SciPy and statsmodels.

Test cells call these to get the truth; nothing here is imported by a graded
function (the own-work check refuses calls into ``regloss``).

* :func:`huber_minimax_k_reference` — Huber's (1964) minimax tuning constant
  k(eps) for the symmetric eps-contaminated normal, by ``brentq``;
* :func:`huber_worst_case_variance` — the worst-case asymptotic variance that
  k(eps) minimises;
* :func:`study_reference` and :func:`bootstrap_choice_reference` — the Monte
  Carlo study and the bootstrap choice of loss of assignment 06, written from
  their specification so that a student's version can be compared value by
  value for the same generator state;
* :func:`study_agreement` and :func:`bootstrap_agreement` — what 06 grades
  against: the truth of the study's RMSEs and of the bootstrap standard errors
  from a large reference run, with a tolerance of a few Monte Carlo standard
  errors, so that a correct implementation that uses the generator differently
  keeps its marks.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import erfcx
from scipy.stats import norm

from regloss.checks.mistakes import Hint, render


def huber_minimax_lhs(k):
    """Left-hand side of Huber's equation for the minimax k: ``2 phi(k) / k - 2 Phi(-k)``.

    Computed as ``exp(-k^2/2) (2 / (k sqrt(2 pi)) - erfcx(k / sqrt 2))`` so that
    it keeps its relative accuracy where both terms underflow.

    Parameters
    ----------
    k : float, > 0

    Returns
    -------
    float
        Strictly decreasing in k, from +inf (k -> 0) to 0 (k -> inf).
    """
    k = float(k)
    return math.exp(-0.5 * k * k) * (2.0 / (k * math.sqrt(2.0 * math.pi)) - float(erfcx(k / math.sqrt(2.0))))


def huber_minimax_k_reference(eps):
    """Huber's minimax tuning constant for the symmetric eps-contaminated normal.

    The k that minimises the worst-case asymptotic variance of Huber's location
    M-estimate (known scale) over ``F = (1 - eps) N(0, 1) + eps H``, H symmetric:
    the root of

    .. math:: \\frac{2\\varphi(k)}{k} - 2\\Phi(-k) = \\frac{\\varepsilon}{1 - \\varepsilon}

    (Huber 1964, Huber & Ronchetti 2009, sec. 4.5), found with ``brentq`` on
    ``log k`` to a relative 1e-14.

    Parameters
    ----------
    eps : float, 0 < eps < 1

    Returns
    -------
    float
        k(eps); e.g. 1.3984 at eps = 0.05, 1.1402 at eps = 0.1.
    """
    eps = float(eps)
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    target = eps / (1.0 - eps)

    def f(log_k):
        return math.log(huber_minimax_lhs(math.exp(log_k))) - math.log(target)

    # k(eps) lies between 1e-280 (eps -> 1) and 38 (eps -> 0) for every double eps in (0, 1)
    return math.exp(brentq(f, math.log(1e-280), math.log(38.0), xtol=1e-15, rtol=1e-15, maxiter=500))


def huber_worst_case_variance(k, eps):
    """Worst-case asymptotic variance of Huber's location estimate (known scale 1).

    Over the symmetric contaminations ``(1 - eps) N(0, 1) + eps H`` the supremum
    of ``E[psi^2] / E[psi']^2`` (``psi = clip(., -k, k)``) is reached with H's
    mass where ``|psi| = k`` and ``psi' = 0``:

    .. math:: V(k, \\varepsilon) = \\frac{(1-\\varepsilon)\\,E_\\Phi[\\psi_k^2] + \\varepsilon k^2}
                                       {(1-\\varepsilon)^2\\,(2\\Phi(k) - 1)^2}.

    Parameters
    ----------
    k : float, > 0
    eps : float, 0 <= eps < 1

    Returns
    -------
    float
    """
    p = 2.0 * norm.cdf(k) - 1.0
    e_psi2 = p - 2.0 * k * norm.pdf(k) + 2.0 * k * k * norm.sf(k)
    return ((1.0 - eps) * e_psi2 + eps * k * k) / ((1.0 - eps) * p) ** 2


def study_reference(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
    """The Monte Carlo study of assignment 06, from its specification.

    For each noise model, in the order of ``noise_models``: one draw
    ``E = draw(rng, (n_rep, n))``, data ``Y = slope * x + intercept + E``
    (shape ``(n_rep, n)``); for each fit, in the order of ``fits``:
    ``slopes = fit(x, Y)[0]`` (shape ``(n_rep,)``) and the root-mean-square
    error ``sqrt(mean((slopes - slope)^2))``.

    Parameters
    ----------
    fits : dict of str -> callable ``fit(x, Y) -> (slopes, intercepts)``
    noise_models : dict of str -> callable ``draw(rng, size) -> ndarray``
    x : ndarray, shape (n,)
    n_rep : int
    rng : numpy.random.Generator
    slope, intercept : float

    Returns
    -------
    dict of str -> dict of str -> float
        ``table[noise label][fit label]``.
    """
    x = np.asarray(x, dtype=float)
    table = {}
    for noise_label, draw in noise_models.items():
        Y = slope * x + intercept + np.asarray(draw(rng, (n_rep, x.size)), dtype=float)
        row = {}
        for fit_label, fit in fits.items():
            err = np.asarray(fit(x, Y)[0], dtype=float) - slope
            row[fit_label] = float(np.sqrt(np.mean(err * err)))
        table[noise_label] = row
    return table


def bootstrap_choice_reference(x, y, fits, n_boot, rng):
    """The bootstrap choice of loss of assignment 06, from its specification.

    One call ``idx = rng.integers(0, n, size=(n_boot, n))``; resampled pairs
    ``X = x[idx]``, ``Y = y[idx]``; for each fit the bootstrap standard error
    of the slope, ``std(fit(X, Y)[0], ddof=1)``; the choice is the label with
    the smallest one (the first in ``fits`` order on a tie).

    Parameters
    ----------
    x, y : ndarray, shape (n,)
    fits : dict of str -> callable ``fit(X, Y) -> (slopes, intercepts)``, X and Y of shape (R, n)
    n_boot : int
    rng : numpy.random.Generator

    Returns
    -------
    best : str
    se : dict of str -> float
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    X, Y = x[idx], y[idx]
    se = {label: float(np.std(np.asarray(fit(X, Y)[0], dtype=float), ddof=1)) for label, fit in fits.items()}
    best = min(se, key=se.get)
    return best, se


# --------------------------------------------------------------------------- statistical agreement (06)
#
# 06 grades its Monte Carlo study and its bootstrap on *statistical* agreement:
# a correct implementation that draws its random numbers in another order (or
# with another method of the generator) gives other numbers, but numbers that
# agree with the truth within their own Monte Carlo error. The truth comes from
# a large reference run with its own seed; the tolerance is ``z`` standard
# errors of the student's estimate plus those of the reference.


def study_agreement(fits, noise_models, x, n_rep, slope=2.0, intercept=1.0, n_ref=100_000, seed=0, z=6.0,
                    chunk=20_000):
    """The slope RMSE each cell of a study of ``n_rep`` data sets should show, and by how much it may miss.

    A reference run of ``n_ref`` data sets per noise model (seed ``seed``, in
    chunks of ``chunk``) gives, for every noise model and fit, the mean ``m`` and
    the variance ``v`` of the squared slope error ``(fit(x, Y)[0] - slope)^2``.
    An estimate ``sqrt(mean of n_rep squared errors)`` has, by the delta method,
    the standard error ``sqrt(v / n_rep) / (2 sqrt(m))``; the tolerance is ``z``
    times that plus ``z`` times the reference's own standard error.

    Parameters
    ----------
    fits, noise_models, x, slope, intercept
        As for :func:`study_reference`.
    n_rep : int
        The number of data sets per noise model of the estimate being checked.
    n_ref : int
        The reference run's number of data sets per noise model.
    seed : int
        The reference run's seed.
    z : float
        Standard errors allowed (6: a correct estimate fails with a probability
        of about 1e-9 per cell under the normal approximation).

    Returns
    -------
    dict of str -> dict of str -> (float, float)
        ``truth[noise][fit] = (rmse, tolerance)``.
    """
    x = np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    sums = {nl: {fl: [0.0, 0.0] for fl in fits} for nl in noise_models}
    for nl, draw in noise_models.items():
        done = 0
        while done < n_ref:
            m = min(chunk, n_ref - done)
            Y = slope * x + intercept + np.asarray(draw(rng, (m, x.size)), dtype=float)
            for fl, fit in fits.items():
                sq = (np.asarray(fit(x, Y)[0], dtype=float) - slope) ** 2
                sums[nl][fl][0] += float(sq.sum())
                sums[nl][fl][1] += float((sq * sq).sum())
            done += m
    truth = {}
    for nl in noise_models:
        truth[nl] = {}
        for fl in fits:
            s1, s2 = sums[nl][fl]
            mean = s1 / n_ref
            var = max(s2 / n_ref - mean * mean, 0.0)
            rmse = math.sqrt(mean)
            se_rep, se_ref = ((math.sqrt(var / n) / (2.0 * rmse) if rmse > 0 else 0.0) for n in (n_rep, n_ref))
            truth[nl][fl] = (rmse, z * (se_rep + se_ref))
    return truth


def bootstrap_agreement(x, y, fits, n_boot, n_ref=50_000, seed=0, z=6.0):
    """The bootstrap standard error of each fit's slope and by how much an estimate from ``n_boot`` resamples may miss.

    The reference resamples the pairs ``n_ref`` times (seed ``seed``; every fit
    sees the same resamples) and takes the standard deviation ``s`` of each
    fit's slopes: the bootstrap standard error up to a Monte Carlo error that
    ``n_ref`` makes small. An estimate from ``n_boot`` resamples has the
    standard error ``sqrt((m4 - s^4) / n_boot) / (2 s)``, with ``m4`` the fourth
    central moment of the bootstrap slopes; the tolerance is ``z`` times that
    plus ``z`` times the reference's own.

    Returns
    -------
    dict of str -> (float, float)
        ``truth[fit] = (standard error, tolerance)``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    idx = np.random.default_rng(seed).integers(0, x.size, size=(n_ref, x.size))
    X, Y = x[idx], y[idx]
    truth = {}
    for label, fit in fits.items():
        slopes = np.asarray(fit(X, Y)[0], dtype=float)
        dev = slopes - slopes.mean()
        s2 = float(np.mean(dev ** 2))
        m4 = float(np.mean(dev ** 4))
        s = math.sqrt(s2)
        se_boot, se_ref = ((math.sqrt(max(m4 - s2 * s2, 0.0) / n) / (2.0 * s) if s > 0 else 0.0)
                           for n in (n_boot, n_ref))
        truth[label] = (s, z * (se_boot + se_ref))
    return truth


# --------------------------------------------------------------- 07: Monte Carlo efficiency and bias
def efficiency_agreement(estimator, draw, n, reps, n_blocks=200, seed=0):
    """The truth of one Monte Carlo run of ``monte_carlo_efficiency`` (assignment 07), and its spread.

    One run draws ``reps`` samples of size ``n`` (``draw(rng, (reps, n))``, true
    location 0) and gives the relative efficiency ``mean(mean_i^2) / mean(est_i^2)``
    (the MSE of the sample mean over the estimator's, on the same samples) and the
    bias ``mean(est_i)``. The reference makes ``n_blocks`` such runs (seed ``seed``)
    and returns, for both quantities, the mean over the runs (what a run estimates,
    its small-sample bias included), the standard deviation of one run, and the
    standard error of that mean.

    Returns
    -------
    dict of str -> (float, float, float)
        ``{"efficiency": (truth, sd_of_one_run, se_of_truth), "bias": (...)}``.
    """
    rng = np.random.default_rng(seed)
    eff, bias = np.empty(n_blocks), np.empty(n_blocks)
    for b in range(n_blocks):
        s = np.asarray(draw(rng, (reps, n)), dtype=float)
        est = np.asarray(estimator(s), dtype=float)
        eff[b] = np.mean(s.mean(axis=1) ** 2) / np.mean(est**2)
        bias[b] = np.mean(est)
    return {k: (float(v.mean()), float(v.std(ddof=1)), float(v.std(ddof=1) / math.sqrt(n_blocks)))
            for k, v in (("efficiency", eff), ("bias", bias))}


def _interval_hints(half, want_half, n_seeds, t_crit):
    """Readings of an interval's half-width against the right one (:func:`check_monte_carlo`)."""
    if not (want_half > 0 and np.isfinite(half)):
        return []
    ratio = half / want_half
    readings = [(math.sqrt(n_seeds), Hint("ci-of-one-run", "your interval is as wide as the spread of one run: "
                                          "how does the uncertainty of a mean shrink with the number of runs?")),
                (math.sqrt((n_seeds - 1) / n_seeds), Hint("ci-ddof", "your interval is narrower by "
                                                          "sqrt((runs - 1) / runs): which divisor makes the variance "
                                                          "of the runs unbiased?")),
                (NORMAL_975 / t_crit, Hint("ci-normal-quantile", f"your half-width is {NORMAL_975:.2f} / t_crit times "
                                           "the right one: which distribution does a mean over a few runs follow?"))]
    return [h for r, h in readings if abs(ratio / r - 1) < 2e-3]  # 1.96 is NORMAL_975 rounded


#: The two-sided 95 % normal quantile (a mistaken critical value the hints recognise).
NORMAL_975 = float(norm.ppf(0.975))


def check_monte_carlo(got, truth, n_seeds, t_crit, label="", z=6.0):
    """Assert that ``got`` (``monte_carlo_efficiency``'s result) is a correct study of ``n_seeds`` runs.

    Exact: the structure (for ``"efficiency"`` and ``"bias"``, ``runs`` of one value
    per seed, ``mean`` their mean, ``ci`` = mean -+ t_crit * sd(runs, ddof=1) / sqrt(n_seeds)).
    Statistical, against :func:`efficiency_agreement`'s ``truth``: each run within
    ``z`` sd of one run, the mean within ``z`` standard errors, the runs not identical
    and not more spread than ``3`` sd of one run. A correct study fails with a
    probability below 1e-6. A failure names the likely mistake (a :class:`Hint`).
    """
    where = f"{label}: " if label else ""
    assert isinstance(got, dict) and set(got) >= {"efficiency", "bias"}, (
        f"{where}return a dict with the keys 'efficiency' and 'bias', got {got!r}")
    for key in ("efficiency", "bias"):
        part = got[key]
        assert isinstance(part, dict) and set(part) >= {"runs", "mean", "ci"}, (
            f"{where}result[{key!r}] must be a dict with 'runs', 'mean' and 'ci', got {part!r}")
        runs = np.asarray(part["runs"], dtype=float)
        assert runs.shape == (n_seeds,), (
            f"{where}result[{key!r}]['runs'] has shape {runs.shape}: one value per seed ({n_seeds}) expected")
        assert np.ptp(runs) > 0, (
            f"{where}result[{key!r}]: every seed gave the same run. "
            + str(Hint("seeds-unused", "Where does each run's randomness come from?")))
        want, sd_run, se_truth = truth[key]
        far = np.abs(runs - want) > z * sd_run + 1e-12
        if far.any():
            hints = []
            if key == "efficiency" and want > 0 and np.all(np.abs(1 / runs - want) <= z * sd_run):
                hints.append(Hint("efficiency-inverted", "the reciprocals of your runs agree with the truth: "
                                                          "which MSE is over which?"))
            if key == "bias" and np.all(runs > 0) and abs(want) < 2 * sd_run:
                hints.append(Hint("bias-unsigned", "every run of your bias is positive where the truth is near "
                                                   "0: can errors of both signs cancel in your bias?"))
            raise AssertionError(
                f"{where}result[{key!r}]: run(s) {runs[far].round(4).tolist()} where a run gives {want:.4f} +- "
                f"{sd_run:.2g} (one sd). " + (render(hints) or (
                    "Is it the mean's MSE around the true location over the estimator's, on the same samples?"
                    if key == "efficiency" else "The bias of an estimator: its mean error around the true location.")))
        assert abs(runs.mean() - want) <= z * (sd_run / math.sqrt(n_seeds) + se_truth), (
            f"{where}result[{key!r}]: mean over the runs {runs.mean():.4f}, the truth is {want:.4f} +- "
            f"{sd_run / math.sqrt(n_seeds):.2g} (one standard error)")
        assert runs.std(ddof=1) <= 3.0 * sd_run + 1e-12, (
            f"{where}result[{key!r}]: the runs spread by {runs.std(ddof=1):.3g}, one run's sd is {sd_run:.3g}. "
            "Are the estimator and the mean compared on the same samples?")
        mean = float(part["mean"])
        lo, hi = (float(v) for v in part["ci"])
        assert np.isclose(mean, runs.mean(), rtol=1e-9, atol=1e-12), (
            f"{where}result[{key!r}]['mean'] = {mean!r} is not the mean of its runs ({runs.mean()!r})")
        want_half = t_crit * runs.std(ddof=1) / math.sqrt(n_seeds)
        ok = (np.isclose(lo, mean - want_half, rtol=1e-9, atol=1e-12)
              and np.isclose(hi, mean + want_half, rtol=1e-9, atol=1e-12))
        assert ok, (
            f"{where}result[{key!r}]['ci'] = ({lo:.6g}, {hi:.6g}) around the mean {mean:.6g}: half-width "
            f"{(hi - lo) / 2:.6g}, where a 95 % interval for the mean over {n_seeds} runs has {want_half:.6g}. "
            + (render(_interval_hints((hi - lo) / 2, want_half, n_seeds, t_crit))
               or "Which spread, of what, with which degrees of freedom, and how does it shrink with the runs?"))


# --------------------------------------------------------------- 07: MM line fit
def repeated_median_line(x, y):
    """Siegel's repeated-median line (50 % breakdown): slope med_i med_{j != i} slope_ij, intercept med(y - a x)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx = x[None, :] - x[:, None]
    dy = y[None, :] - y[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(dx != 0, dy / dx, np.nan)
    slope = float(np.median(np.nanmedian(s, axis=1)))
    return slope, float(np.median(y - slope * x))


def mm_line_reference(x, y, c=4.685):
    """The MM line fit by statsmodels: ``sm.RLM`` with ``norms.TukeyBiweight(c)`` from the repeated-median line.

    statsmodels' ``RLM.fit(start_params=..., update_scale=False)`` estimates the
    scale once, from the start's residuals, as ``robust.scale.mad(resid, center=0)``
    (median |r| / Phi^-1(3/4)), and then iterates IRLS with Tukey's weights at
    ``c`` times that scale until the coefficients stop changing.

    Returns
    -------
    (float, float, float)
        ``(slope, intercept, scale)``.
    """
    import statsmodels.api as sm
    from statsmodels.robust import norms

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    a0, b0 = repeated_median_line(x, y)
    X = np.column_stack([np.ones_like(x), x])
    res = sm.RLM(y, X, M=norms.TukeyBiweight(c=c)).fit(start_params=np.array([b0, a0]), update_scale=False,
                                                       conv="coefs", tol=1e-13, maxiter=1000)
    return float(res.params[1]), float(res.params[0]), float(res.scale)


def tukey_stationarity(x, y, slope, intercept, scale, c=4.685):
    """``sum_i psi(r_i / scale) * (1, x_i) / n`` with statsmodels' ``TukeyBiweight(c).psi``: 0 at an MM fit."""
    from statsmodels.robust import norms

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    psi = norms.TukeyBiweight(c=c).psi((y - slope * x - intercept) / scale)
    return np.array([psi.mean(), (psi * (x - x.mean())).mean()])


def check_mm_fit(fit, x, y, c=4.685, label="the data above"):
    """Assert that ``fit = (slope, intercept, scale)`` is an MM line fit of ``(x, y)`` (assignment 07).

    Against :func:`mm_line_reference` (statsmodels): the scale within 15 % (another
    start of breakdown 50 % gives another MAD), the line within a quarter of that scale
    at both ends of the range of ``x``; and the line a stationary point of Tukey's
    objective at ``c`` times the returned scale (:func:`tukey_stationarity`). A
    failure names the likely mistake (a :class:`Hint`).
    """
    assert isinstance(fit, tuple) and len(fit) == 3 and all(isinstance(v, float) for v in fit), (
        f"{label}: return (slope, intercept, scale) as three Python floats, got {fit!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    a, b, s = fit
    ra, rb, rs = mm_line_reference(x, y, c)
    if not abs(s / rs - 1) <= 0.15:
        if abs(s / rs - norm.ppf(0.75)) < 0.05:
            hint = Hint("mad-unnormalised", "your scale is about Phi^-1(3/4) times the reference: does it estimate "
                                            "sigma at the normal?")
        elif s > rs:
            hint = Hint("scale-from-outliers", "your scale is larger: the residuals of which line, and which "
                                               "measure of spread, did the outliers reach?")
        else:
            hint = None
        raise AssertionError(
            f"{label}: your scale {s:.4g}, statsmodels' MAD of the repeated-median residuals {rs:.4g}. "
            + (str(hint) if hint else "Residuals of which line, which spread measure, normalised how?"))
    stat = tukey_stationarity(x, y, a, b, s, c)
    if not np.max(np.abs(stat)) <= 1e-6 * (1 + np.std(x)):
        raw = tukey_stationarity(x, y, a, b, 1.0, c)
        hint = (Hint("c-on-raw-residuals", "your line is stationary for Tukey at c itself, in the units of y: in "
                                           "which units is c = 4.685 meant?")
                if np.max(np.abs(raw)) <= 1e-6 * (1 + np.std(x)) else None)
        raise AssertionError(
            f"{label}: (slope {a:.4g}, intercept {b:.4g}) is not a stationary point of Tukey's objective at "
            f"c * your scale = {c * s:.4g} (mean psi and mean psi * x: {stat}). "
            + (str(hint) if hint else "Tukey's weights, at which residuals, until convergence?"))
    ends = np.array([x.min(), x.max()])
    gap = np.max(np.abs((a - ra) * ends + (b - rb)))
    assert gap <= 0.25 * rs, (
        f"{label}: your line (slope {a:.4g}, intercept {b:.4g}) is {gap:.3g} from statsmodels' MM line (slope "
        f"{ra:.4g}, intercept {rb:.4g}) at an end of the x range: another stationary point. Where did IRLS start?")
