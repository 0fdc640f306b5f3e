"""Catalogue for 07_beyond_huber's experiments and scale: monte_carlo_efficiency, robust_scale, fit_line_mm.

Wrong entries include wrong derivations turned into code (an unnormalised MAD, the
standard deviation for the MAD, the scale of the least-squares residuals, Tukey's c on
raw residuals, no high-breakdown start; an upside-down efficiency, an interval of the
wrong spread). Each must lose points; each correct alternate, written differently,
keeps full marks.
"""

from tests.catalogue import correct, delegates, variant, wrong

A = "07_beyond_huber"

# ------------------------------------------------------------ monte_carlo_efficiency
MC = '''
def monte_carlo_efficiency(estimator, draw, n, reps, seeds, t_crit):
    runs = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        samples = np.asarray(draw(rng, (reps, n)), dtype=float)
        est = np.asarray(estimator(samples), dtype=float)
        runs.append((np.mean(samples.mean(axis=1) ** 2) / np.mean(est ** 2), np.mean(est)))
    runs = np.array(runs)
    result = {}
    for k, key in enumerate(("efficiency", "bias")):
        r = runs[:, k]
        half = t_crit * r.std(ddof=1) / np.sqrt(len(r))
        result[key] = {"runs": [float(v) for v in r], "mean": float(r.mean()),
                       "ci": (float(r.mean() - half), float(r.mean() + half))}
    return result
'''
# --------------------------------------------------------------------- robust_scale
SCALE = '''
def robust_scale(residuals, center=None):
    r = np.asarray(residuals, dtype=float)
    m = np.median(r) if center is None else center
    return float(np.median(np.abs(r - m)) / statistics.NormalDist().inv_cdf(0.75))
'''
# ---------------------------------------------------------------------- fit_line_mm
MM = '''
def fit_line_mm(x, y, c=4.685, n_iter=200, tol=1e-10):
    if not c > 0:
        raise ValueError(f"c must be positive, got c={c!r}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    dx = x[None, :] - x[:, None]
    dy = y[None, :] - y[:, None]
    ok = dx != 0
    slope = np.median([np.median(dy[i][ok[i]] / dx[i][ok[i]]) for i in range(len(x)) if ok[i].any()])
    intercept = np.median(y - slope * x)
    scale = robust_scale(y - slope * x - intercept, center=0.0)
    for _ in range(n_iter):
        u = (y - slope * x - intercept) / (c * scale)
        w = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)
        xm, ym = np.sum(w * x) / np.sum(w), np.sum(w * y) / np.sum(w)
        new_slope = np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2)
        new_intercept = ym - new_slope * xm
        done = (abs(new_slope - slope) <= tol * (1 + abs(slope))
                and abs(new_intercept - intercept) <= tol * (1 + abs(intercept)))
        slope, intercept = new_slope, new_intercept
        if done:
            break
    return float(slope), float(intercept), float(scale)
'''
RM_START = '''    dx = x[None, :] - x[:, None]
    dy = y[None, :] - y[:, None]
    ok = dx != 0
    slope = np.median([np.median(dy[i][ok[i]] / dx[i][ok[i]]) for i in range(len(x)) if ok[i].any()])
    intercept = np.median(y - slope * x)
'''

ENTRIES = [
    # ------------------------------------------------------------ monte_carlo_efficiency
    wrong(A, "monte_carlo_efficiency", "upside-down", variant(MC, (
        "np.mean(samples.mean(axis=1) ** 2) / np.mean(est ** 2)",
        "np.mean(est ** 2) / np.mean(samples.mean(axis=1) ** 2)")),
        "the estimator's MSE over the mean's"),
    wrong(A, "monte_carlo_efficiency", "variance-not-mse", variant(MC, (
        "np.mean(samples.mean(axis=1) ** 2) / np.mean(est ** 2)", "np.var(samples.mean(axis=1)) / np.var(est)")),
        "variances around each estimator's own mean: the bias is left out of the MSE"),
    wrong(A, "monte_carlo_efficiency", "sd-not-se", variant(MC, (
        "half = t_crit * r.std(ddof=1) / np.sqrt(len(r))", "half = t_crit * r.std(ddof=1)")),
        "the interval of one run, not of the mean over the runs"),
    wrong(A, "monte_carlo_efficiency", "ddof-0", variant(MC, (
        "r.std(ddof=1)", "r.std()")), "the population sd (ddof 0) of the runs"),
    wrong(A, "monte_carlo_efficiency", "z-not-t", variant(MC, (
        "half = t_crit * r.std", "half = 1.96 * r.std")), "the normal quantile for a mean over a few runs"),
    wrong(A, "monte_carlo_efficiency", "same-seed", variant(MC, (
        "np.random.default_rng(seed)", "np.random.default_rng(0)")), "every run from seed 0: the runs are identical"),
    wrong(A, "monte_carlo_efficiency", "abs-bias", variant(MC, (
        "np.mean(est)))", "np.mean(np.abs(est))))")), "bias as the mean absolute estimate"),
    correct(A, "monte_carlo_efficiency", "vectorised-stack", '''
        def monte_carlo_efficiency(estimator, draw, n, reps, seeds, t_crit):
            seeds = list(seeds)
            eff = np.empty(len(seeds))
            bias = np.empty(len(seeds))
            for i, s in enumerate(seeds):
                x = np.asarray(draw(np.random.default_rng(s), (reps, n)), dtype=np.float64)
                mu = np.asarray(estimator(x), dtype=np.float64)
                mse_mean = ((x.mean(axis=1) - 0.0) ** 2).mean()
                mse_est = ((mu - 0.0) ** 2).mean()
                eff[i], bias[i] = mse_mean / mse_est, mu.mean() - 0.0
            def summary(v):
                m = v.mean()
                se = np.sqrt(np.sum((v - m) ** 2) / (v.size - 1) / v.size)
                return {"runs": v.tolist(), "mean": float(m), "ci": (float(m - t_crit * se), float(m + t_crit * se))}
            return {"efficiency": summary(eff), "bias": summary(bias)}
        '''),
    correct(A, "monte_carlo_efficiency", "sum-of-squares", variant(MC, (
        "np.mean(samples.mean(axis=1) ** 2) / np.mean(est ** 2)",
        "np.sum(np.square(np.sum(samples, axis=1) / n)) / np.sum(np.square(est))")),
        "sums instead of means (the reps cancel)"),
    delegates(A, "monte_carlo_efficiency", "scipy-sem", variant(MC, (
        "half = t_crit * r.std(ddof=1) / np.sqrt(len(r))",
        "from scipy import stats as _st\n        half = t_crit * _st.sem(r)"))),
    # ----------------------------------------------------------------------- robust_scale
    wrong(A, "robust_scale", "unnormalised", variant(SCALE, (
        " / statistics.NormalDist().inv_cdf(0.75)", "")), "the raw MAD: no normal-consistency constant"),
    wrong(A, "robust_scale", "times-constant", variant(SCALE, (
        " / statistics.NormalDist().inv_cdf(0.75)", " * statistics.NormalDist().inv_cdf(0.75)")),
        "multiplied by Phi^-1(3/4) instead of divided"),
    wrong(A, "robust_scale", "std", variant(SCALE, (
        "np.median(np.abs(r - m)) / statistics.NormalDist().inv_cdf(0.75)", "np.sqrt(np.mean((r - m) ** 2))")),
        "the standard deviation for the MAD"),
    wrong(A, "robust_scale", "mean-abs-dev", variant(SCALE, (
        "np.median(np.abs(r - m))", "np.mean(np.abs(r - m))")), "the mean absolute deviation"),
    wrong(A, "robust_scale", "ignores-center", variant(SCALE, (
        "m = np.median(r) if center is None else center", "m = np.median(r)")), "always centred at the median"),
    wrong(A, "robust_scale", "rounded-constant", variant(SCALE, (
        "statistics.NormalDist().inv_cdf(0.75)", "0.67")), "a constant rounded to two digits"),
    correct(A, "robust_scale", "sorted-median", '''
        def robust_scale(residuals, center=None):
            r = np.sort(np.asarray(residuals, dtype=np.float64).ravel())
            def med(v):
                v = np.sort(v)
                k = v.size // 2
                return v[k] if v.size % 2 else 0.5 * (v[k - 1] + v[k])
            ctr = med(r) if center is None else float(center)
            return float(med(np.abs(r - ctr)) * (1 / statistics.NormalDist(0, 1).inv_cdf(3 / 4)))
        '''),
    correct(A, "robust_scale", "erfinv-free-constant", variant(SCALE, (
        "statistics.NormalDist().inv_cdf(0.75)", "-statistics.NormalDist().inv_cdf(0.25)")),
        "Phi^-1(3/4) = -Phi^-1(1/4)"),
    # ------------------------------------------------------------------------ fit_line_mm
    wrong(A, "fit_line_mm", "unnormalised-mad", variant(MM, (
        "scale = robust_scale(y - slope * x - intercept, center=0.0)",
        "scale = float(np.median(np.abs(y - slope * x - intercept)))")), "the raw MAD as the scale"),
    wrong(A, "fit_line_mm", "std-scale", variant(MM, (
        "scale = robust_scale(y - slope * x - intercept, center=0.0)",
        "scale = float(np.std(y - slope * x - intercept))")), "the sd of the start's residuals"),
    wrong(A, "fit_line_mm", "ls-residual-scale", variant(MM, (
        "scale = robust_scale(y - slope * x - intercept, center=0.0)",
        "ls = np.polyfit(x, y, 1)\n    scale = robust_scale(y - ls[0] * x - ls[1], center=0.0)")),
        "the scale of the least-squares residuals"),
    wrong(A, "fit_line_mm", "ols-start", variant(MM, (RM_START,
        "    slope, intercept = np.polyfit(x, y, 1)\n")), "no high-breakdown start: least squares"),
    wrong(A, "fit_line_mm", "raw-c", variant(MM, (
        "u = (y - slope * x - intercept) / (c * scale)", "u = (y - slope * x - intercept) / c")),
        "Tukey's c applied to raw residuals"),
    wrong(A, "fit_line_mm", "c-over-scale", variant(MM, (
        "u = (y - slope * x - intercept) / (c * scale)", "u = (y - slope * x - intercept) * scale / c")),
        "residuals multiplied by the scale"),
    wrong(A, "fit_line_mm", "huber-weights", variant(MM, (
        "w = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)",
        "w = np.minimum(1.0, 1.0 / np.maximum(np.abs(u), 1e-300))")),
        "Huber's weights at c * scale"),
    wrong(A, "fit_line_mm", "tukey-weight-not-squared", variant(MM, (
        "w = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)", "w = np.where(np.abs(u) < 1, 1 - u * u, 0.0)")),
        "weight (1 - u^2) for (1 - u^2)^2"),
    wrong(A, "fit_line_mm", "scale-updated-from-fit", variant(MM, (
        "        slope, intercept = new_slope, new_intercept\n",
        "        slope, intercept = new_slope, new_intercept\n"
        "        scale = float(np.std(y - slope * x - intercept))\n")), "the scale re-estimated by the sd each step"),
    wrong(A, "fit_line_mm", "theil-sen-start", '''
        def fit_line_mm(x, y, c=4.685, n_iter=200, tol=1e-10):
            if c <= 0:
                raise ValueError(f"c must be > 0, got {c}")
            x = np.asarray(x, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            i, j = np.triu_indices(x.size, 1)
            keep = x[j] != x[i]
            a = np.median((y[j] - y[i])[keep] / (x[j] - x[i])[keep])       # Theil-Sen
            b = np.median(y - a * x)
            s = robust_scale(y - a * x - b, 0.0)
            X = np.column_stack([x, np.ones_like(x)])
            for _ in range(n_iter):
                u = (y - a * x - b) / (c * s)
                sw = np.where(np.abs(u) < 1, 1 - u * u, 0.0)               # sqrt of Tukey's weight
                new = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
                step = np.abs(new - [a, b]).max()
                a, b = new
                if step <= tol * (1 + abs(a) + abs(b)):
                    break
            return float(a), float(b), float(s)
        ''', "Theil-Sen start (29 % breakdown) on data with about 27 % outliers: its residuals' MAD is inflated"),
    correct(A, "fit_line_mm", "repeated-median-lstsq", '''
        def fit_line_mm(x, y, c=4.685, n_iter=200, tol=1e-10):
            if c <= 0:
                raise ValueError(f"c must be > 0, got {c}")
            x = np.asarray(x, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            dx = x[None, :] - x[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.where(dx != 0, (y[None, :] - y[:, None]) / dx, np.nan)
            a = np.median(np.nanmedian(s, axis=1))                        # Siegel's repeated median
            b = np.median(y - a * x)
            sigma = robust_scale(y - a * x - b, 0.0)
            X = np.column_stack([x, np.ones_like(x)])
            for _ in range(n_iter):
                u = (y - a * x - b) / (c * sigma)
                sw = np.where(np.abs(u) < 1, 1 - u * u, 0.0)               # sqrt of Tukey's weight
                new = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
                step = np.abs(new - [a, b]).max()
                a, b = new
                if step <= tol * (1 + abs(a) + abs(b)):
                    break
            return float(a), float(b), float(sigma)
        '''),
    correct(A, "fit_line_mm", "psi-form", variant(MM, (
        "w = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)",
        "r = u * c * scale\n        psi = np.where(np.abs(u) < 1, r * (1 - u * u) ** 2, 0.0)\n"
        "        w = np.where(r != 0, psi / np.where(r != 0, r, 1.0), 1.0)")), "weights as psi(r) / r"),
    delegates(A, "fit_line_mm", "statsmodels", '''
        def fit_line_mm(x, y, c=4.685, n_iter=200, tol=1e-10):
            import statsmodels.api as sm
            from statsmodels.robust import norms
            X = sm.add_constant(np.asarray(x, dtype=float))
            res = sm.RLM(np.asarray(y, dtype=float), X, M=norms.TukeyBiweight(c=c)).fit()
            return float(res.params[1]), float(res.params[0]), float(res.scale)
        '''),
]
