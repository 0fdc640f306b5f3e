"""Catalogue for 06_choosing_a_loss: huber_minimax_k, mad_scale, simulate_study and choose_loss."""

from tests.catalogue import correct, delegates, wrong
from tests.catalogue import variant as _variant

A = "06_choosing_a_loss"

# ---------------------------------------------------------------- huber_minimax_k
MK = """
def huber_minimax_k(eps):
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must lie strictly between 0 and 1, got eps={eps!r}")
    target = eps / (1.0 - eps)

    def lhs(k):
        return 2.0 * math.exp(-0.5 * k * k) / (k * math.sqrt(2.0 * math.pi)) - math.erfc(k / math.sqrt(2.0))

    lo, hi = 1e-3, 1.0
    while lhs(lo) < target:
        lo /= 10.0
    while lhs(hi) > target:
        hi *= 2.0
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return float(mid)
        if lhs(mid) > target:
            lo = mid
        else:
            hi = mid
"""

ENTRIES = [
    # ------------------------------------------ huber_minimax_k (from 04 in the rebalance)
    wrong(A, "huber_minimax_k", "rhs-eps", _variant(MK, ('target = eps / (1.0 - eps)', 'target = eps')),
          "eps on the right-hand side instead of eps / (1 - eps)"),
    wrong(A, "huber_minimax_k", "one-phi", _variant(MK, ('return 2.0 * math.exp(-0.5 * k * k) / (k',
                                                         'return math.exp(-0.5 * k * k) / (k')),
          "phi(k) / k instead of 2 phi(k) / k"),
    wrong(A, "huber_minimax_k", "accepts-zero", _variant(MK, ('if not 0.0 < eps < 1.0:', 'if eps < 0.0 or eps > 1.0:')),
          "the closed interval [0, 1]: eps = 0 and eps = 1 are not refused"),
    wrong(A, "huber_minimax_k", "nan-accepted", _variant(MK, ('if not 0.0 < eps < 1.0:',
                                                              'if eps <= 0.0 or eps >= 1.0:')),
          "a check that NaN passes (every comparison with NaN is False)"),
    wrong(A, "huber_minimax_k", "fixed-bracket", _variant(MK, (
        "lo, hi = 1e-3, 1.0\n    while lhs(lo) < target:\n        lo /= 10.0\n"
        "    while lhs(hi) > target:\n        hi *= 2.0\n",
        "lo, hi = 0.5, 3.0\n")),
          "bisection in a fixed bracket [0.5, 3] that misses the root for small and large eps"),
    wrong(A, "huber_minimax_k", "coarse-bisection", _variant(MK, (
        "    while True:\n        mid = 0.5 * (lo + hi)\n"
        "        if mid <= lo or mid >= hi:\n            return float(mid)\n",
        "    for _ in range(25):\n        mid = 0.5 * (lo + hi)\n")) + "    return float(0.5 * (lo + hi))\n",
          "25 bisection steps: about 1e-6 relative, not the 1e-8 asked for"),
    wrong(A, "huber_minimax_k", "grid-minimum", """
        def huber_minimax_k(eps):
            if not 0.0 < eps < 1.0:
                raise ValueError(f"eps must lie in (0, 1), got eps={eps!r}")
            def V(k):
                p = math.erf(k / math.sqrt(2.0))
                phi = math.exp(-0.5 * k * k) / math.sqrt(2.0 * math.pi)
                e2 = p - 2.0 * k * phi + k * k * math.erfc(k / math.sqrt(2.0))
                return ((1.0 - eps) * e2 + eps * k * k) / ((1.0 - eps) * p) ** 2
            ks = [i / 1000.0 for i in range(1, 10001)]
            return float(min(ks, key=V))
        """, "minimises V(k, eps) on a grid of step 0.001: not accurate to 1e-8"),
    correct(A, "huber_minimax_k", "bisection-fixed-bracket", """
        def huber_minimax_k(eps):
            if not 0 < eps < 1:
                raise ValueError("eps must be between 0 and 1 (exclusive)")
            odds = eps / (1 - eps)
            phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
            upper_tail = lambda z: 0.5 * math.erfc(z / math.sqrt(2))
            f = lambda k: 2 * phi(k) / k - 2 * upper_tail(k) - odds
            a, b = 1e-5, 12.0
            for _ in range(200):
                m = (a + b) / 2
                if f(m) > 0:
                    a = m
                else:
                    b = m
            return (a + b) / 2
        """),
    correct(A, "huber_minimax_k", "one-minus-cdf", _variant(MK, (
        "- math.erfc(k / math.sqrt(2.0))", "- 2.0 * (1.0 - 0.5 * (1.0 + math.erf(k / math.sqrt(2.0))))")),
            "Phi(-k) as 1 - Phi(k): loses digits for large k, still within 1e-8 for eps >= 1e-6"),
    delegates(A, "huber_minimax_k", "scipy-brentq", """
        from scipy.optimize import brentq
        from scipy.stats import norm
        def huber_minimax_k(eps):
            if not 0 < eps < 1:
                raise ValueError("eps must lie in (0, 1)")
            return float(brentq(lambda k: 2 * norm.pdf(k) / k - 2 * norm.cdf(-k) - eps / (1 - eps), 1e-6, 40.0, xtol=1e-15))
        """),  # noqa: E501 - a student's source, kept as written
    wrong(A, "mad_scale", "no-constant", """
        def mad_scale(residuals):
            r = np.asarray(residuals, dtype=float)
            return float(np.median(np.abs(r - np.median(r))))
        """, "the raw MAD: no 1 / Phi^-1(3/4) (1.4826)"),
    wrong(A, "mad_scale", "mean-instead-of-median", """
        def mad_scale(residuals):
            r = np.asarray(residuals, dtype=float)
            return float(np.mean(np.abs(r - np.mean(r))) / statistics.NormalDist().inv_cdf(0.75))
        """, "mean absolute deviation about the mean instead of the median absolute deviation"),
    wrong(A, "mad_scale", "std", """
        def mad_scale(residuals):
            return float(np.std(np.asarray(residuals, dtype=float)))
        """, "the standard deviation"),
    wrong(A, "mad_scale", "uncentred", """
        def mad_scale(residuals):
            r = np.asarray(residuals, dtype=float)
            return float(np.median(np.abs(r)) / statistics.NormalDist().inv_cdf(0.75))
        """, "median of |r| without centring at the median"),
    wrong(A, "mad_scale", "inverse-constant", """
        def mad_scale(residuals):
            r = np.asarray(residuals, dtype=float)
            return float(np.median(np.abs(r - np.median(r))) / 1.4826)
        """, "divides by 1.4826 instead of multiplying"),
    wrong(A, "mad_scale", "centred-at-mean", """
        def mad_scale(residuals):
            r = np.asarray(residuals, dtype=float)
            return float(1.4826 * np.median(np.abs(r - r.mean())))
        """, "centred at the mean, which outliers move"),
    wrong(A, "mad_scale", "upper-median", """
        def mad_scale(residuals):
            def med(v):
                v = sorted(v)
                return v[len(v) // 2]
            r = [float(v) for v in residuals]
            m = med(r)
            return 1.4826 * med([abs(v - m) for v in r])
        """, "the upper middle value as the median of an even number of values"),
    wrong(A, "mad_scale", "sorts-in-place", """
        def mad_scale(residuals):
            residuals.sort()
            n = residuals.size
            med = 0.5 * (residuals[(n - 1) // 2] + residuals[n // 2])
            d = np.abs(residuals - med)
            d.sort()
            return float((0.5 * (d[(n - 1) // 2] + d[n // 2])) / statistics.NormalDist().inv_cdf(0.75))
        """, "sorts the caller's array in place"),
    wrong(A, "mad_scale", "rounded-constant", """
        def mad_scale(residuals):
            r = np.asarray(residuals, dtype=float)
            return float(1.48 * np.median(np.abs(r - np.median(r))))
        """, "a constant rounded to 1.48"),
    correct(A, "mad_scale", "normaldist", """
        def mad_scale(residuals):
            r = np.array(residuals, dtype=np.float64)
            c = 1.0 / statistics.NormalDist(0.0, 1.0).inv_cdf(3 / 4)
            return c * float(np.median(np.abs(r - np.median(r))))
        """),
    correct(A, "mad_scale", "typed-constant-sorting", """
        def mad_scale(residuals):
            values = sorted(float(v) for v in residuals)
            n = len(values)

            def median(sorted_values):
                mid = n // 2
                return sorted_values[mid] if n % 2 else 0.5 * (sorted_values[mid - 1] + sorted_values[mid])

            m = median(values)
            return 1.4826 * median(sorted(abs(v - m) for v in values))
        """),
    correct(A, "mad_scale", "numpy-scalar-keeps-dtype", """
        def mad_scale(residuals):
            r = np.asarray(residuals)
            return np.median(np.abs(r - np.median(r))) * 1.482602218505602
        """, "returns a NumPy scalar (float32 for float32 residuals), not a Python float"),
    correct(A, "mad_scale", "erf-bisection-percentile", """
        def mad_scale(residuals):
            lo, hi = 0.0, 2.0          # Phi^-1(3/4) by bisection on math.erf
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < 0.75:
                    lo = mid
                else:
                    hi = mid
            r = np.asarray(residuals, dtype=float)
            return float(np.percentile(np.abs(r - np.percentile(r, 50)), 50) / lo)
        """),
    delegates(A, "mad_scale", "scipy", """
        from scipy.stats import median_abs_deviation
        def mad_scale(residuals):
            return float(median_abs_deviation(residuals, scale="normal"))
        """),
    # ---------------------------------------------------------- simulate_study
    wrong(A, "simulate_study", "draw-per-fit", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    Y = slope * x + intercept + draw(rng, (n_rep, x.size))
                    err = np.asarray(fit(x, Y)[0], dtype=float) - slope
                    table[noise_label][fit_label] = float(np.sqrt(np.mean(err ** 2)))
            return table
        """, "a new draw of the noise for every fit: the fits no longer see the same data sets"),
    wrong(A, "simulate_study", "std-not-rmse", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                Y = slope * x + intercept + draw(rng, (n_rep, x.size))
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    err = np.asarray(fit(x, Y)[0], dtype=float) - slope
                    table[noise_label][fit_label] = float(np.std(err))
            return table
        """, "the standard deviation of the slopes (around their mean): a biased fit looks good"),
    wrong(A, "simulate_study", "mean-abs-error", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                Y = slope * x + intercept + draw(rng, (n_rep, x.size))
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    err = np.asarray(fit(x, Y)[0], dtype=float) - slope
                    table[noise_label][fit_label] = float(np.mean(np.abs(err)))
            return table
        """, "the mean absolute error instead of the root-mean-square error"),
    wrong(A, "simulate_study", "no-sqrt", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                Y = slope * x + intercept + draw(rng, (n_rep, x.size))
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    err = np.asarray(fit(x, Y)[0], dtype=float) - slope
                    table[noise_label][fit_label] = float(np.mean(err ** 2))
            return table
        """, "the mean squared error: the square root is missing"),
    wrong(A, "simulate_study", "intercept-error", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                Y = slope * x + intercept + draw(rng, (n_rep, x.size))
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    err = np.asarray(fit(x, Y)[1], dtype=float) - intercept
                    table[noise_label][fit_label] = float(np.sqrt(np.mean(err ** 2)))
            return table
        """, "the error of the intercept instead of the slope"),
    correct(A, "simulate_study", "transposed-draw", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                Y = slope * x + intercept + draw(rng, (x.size, n_rep)).T
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    err = np.asarray(fit(x, Y)[0], dtype=float) - slope
                    table[noise_label][fit_label] = float(np.sqrt(np.mean(err ** 2)))
            return table
        """, "draws the noise as (n, n_rep) and transposes: other random numbers, the same distribution "
           "(graded on statistical agreement, it keeps its marks)"),
    correct(A, "simulate_study", "row-by-row-draws", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                rows = [slope * x + intercept + draw(rng, x.size) for _ in range(n_rep)]   # one data set at a time
                Y = np.vstack(rows)
                errors = {label: np.asarray(fit(x, Y)[0], dtype=float) - slope for label, fit in fits.items()}
                table[noise_label] = {label: float(np.sqrt(np.mean(e ** 2))) for label, e in errors.items()}
            return table
        """, "draws the noise one data set at a time: other random numbers, the same study"),
    correct(A, "simulate_study", "spawned-generators", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            children = rng.spawn(len(noise_models))        # an independent stream per noise model
            table = {}
            for child, (noise_label, draw) in zip(children, noise_models.items()):
                Y = slope * x + intercept + draw(child, (n_rep, x.size))
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    err = np.asarray(fit(x, Y)[0], dtype=float) - slope
                    table[noise_label][fit_label] = float(np.sqrt(err @ err / err.size))
            return table
        """, "one spawned generator per noise model"),
    wrong(A, "simulate_study", "true-slope-hardcoded", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.asarray(x, dtype=float)
            table = {}
            for noise_label, draw in noise_models.items():
                Y = slope * x + intercept + draw(rng, (n_rep, x.size))
                table[noise_label] = {}
                for fit_label, fit in fits.items():
                    err = np.asarray(fit(x, Y)[0], dtype=float) - 2.0
                    table[noise_label][fit_label] = float(np.sqrt(np.mean(err ** 2)))
            return table
        """, "compares with the default slope 2 whatever slope is passed"),
    correct(A, "simulate_study", "comprehension-norm", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            out = {}
            for name, draw in noise_models.items():
                data = intercept + slope * np.asarray(x, float)[None, :] + draw(rng, (n_rep, len(x)))
                out[name] = {label: float(np.linalg.norm(fit(x, data)[0] - slope) / math.sqrt(n_rep))
                             for label, fit in fits.items()}
            return out
        """),
    correct(A, "simulate_study", "explicit-loops", """
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            x = np.array(x, dtype=np.float64)
            result = {}
            for noise_name in noise_models:
                draw = noise_models[noise_name]
                noise = draw(rng, (n_rep, x.shape[0]))
                Y = np.empty((n_rep, x.shape[0]))
                for r in range(n_rep):
                    Y[r] = slope * x + intercept + noise[r]
                row = {}
                for fit_name in fits:
                    slopes = fits[fit_name](x, Y)[0]
                    total = 0.0
                    for s in slopes:
                        total += (float(s) - slope) ** 2
                    row[fit_name] = math.sqrt(total / n_rep)
                result[noise_name] = row
            return result
        """),
    delegates(A, "simulate_study", "regloss-reference", """
        from regloss.checks.robust_stats import study_reference
        def simulate_study(fits, noise_models, x, n_rep, rng, slope=2.0, intercept=1.0):
            return study_reference(fits, noise_models, x, n_rep, rng, slope, intercept)
        """),
    # ------------------------------------------------------------- choose_loss
    correct(A, "choose_loss", "ddof-0", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            idx = rng.integers(0, x.size, size=(n_boot, x.size))
            X, Y = x[idx], y[idx]
            se = {}
            for label, fit in fits.items():
                se[label] = float(np.std(np.asarray(fit(X, Y)[0], dtype=float), ddof=0))
            best = min(se, key=se.get)
            return best, se
        """, "np.std with ddof=0: a relative difference of 1/(2 n_boot), far inside the Monte Carlo error "
           "of the bootstrap (both conventions are in use)"),
    wrong(A, "choose_loss", "unpaired-resamples", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            se = {}
            for label, fit in fits.items():
                idx = rng.integers(0, x.size, size=(n_boot, x.size))     # new resamples for every fit
                se[label] = float(np.std(np.asarray(fit(x[idx], y[idx])[0], dtype=float), ddof=1))
            best = min(se, key=se.get)
            return best, se
        """, "new resamples for every fit: the comparison is no longer paired"),
    correct(A, "choose_loss", "uniform-floor-indices", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            n = x.size
            idx = np.minimum((rng.random((n_boot, n)) * n).astype(int), n - 1)   # uniform indices by another route
            se = {}
            for label, fit in fits.items():
                slopes = np.asarray(fit(x[idx], y[idx])[0], dtype=float)
                se[label] = float(np.sqrt(np.sum((slopes - slopes.mean()) ** 2) / (n_boot - 1)))
            best = min(se, key=se.get)
            return best, se
        """, "draws the indices from rng.random: other resamples, the same bootstrap"),
    wrong(A, "choose_loss", "independent-indices", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            idx = rng.integers(0, x.size, size=(n_boot, x.size))
            X, Y = x[idx], y[rng.integers(0, x.size, size=idx.shape)]
            se = {}
            for label, fit in fits.items():
                se[label] = float(np.std(np.asarray(fit(X, Y)[0], dtype=float), ddof=1))
            best = min(se, key=se.get)
            return best, se
        """, "resamples x and y with different indices: the pairs are broken"),
    wrong(A, "choose_loss", "largest-se", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            idx = rng.integers(0, x.size, size=(n_boot, x.size))
            X, Y = x[idx], y[idx]
            se = {}
            for label, fit in fits.items():
                se[label] = float(np.std(np.asarray(fit(X, Y)[0], dtype=float), ddof=1))
            best = max(se, key=se.get)
            return best, se
        """, "chooses the largest standard error"),
    wrong(A, "choose_loss", "y-only", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            idx = rng.integers(0, x.size, size=(n_boot, x.size))
            X, Y = x, y[idx]
            se = {}
            for label, fit in fits.items():
                se[label] = float(np.std(np.asarray(fit(X, Y)[0], dtype=float), ddof=1))
            best = min(se, key=se.get)
            return best, se
        """, "resamples y but keeps x in its original order: not a pairs bootstrap"),
    wrong(A, "choose_loss", "variance", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            idx = rng.integers(0, x.size, size=(n_boot, x.size))
            X, Y = x[idx], y[idx]
            se = {}
            for label, fit in fits.items():
                se[label] = float(np.var(np.asarray(fit(X, Y)[0], dtype=float), ddof=1))
            best = min(se, key=se.get)
            return best, se
        """, "the variance of the slopes, not their standard deviation"),
    wrong(A, "choose_loss", "intercept-se", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            idx = rng.integers(0, x.size, size=(n_boot, x.size))
            X, Y = x[idx], y[idx]
            se = {}
            for label, fit in fits.items():
                se[label] = float(np.std(np.asarray(fit(X, Y)[1], dtype=float), ddof=1))
            best = min(se, key=se.get)
            return best, se
        """, "the standard error of the intercept, not of the slope"),
    wrong(A, "choose_loss", "n-minus-one-indices", """
        def choose_loss(x, y, fits, n_boot, rng):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            idx = rng.integers(0, x.size - 1, size=(n_boot, x.size))
            X, Y = x[idx], y[idx]
            se = {}
            for label, fit in fits.items():
                se[label] = float(np.std(np.asarray(fit(X, Y)[0], dtype=float), ddof=1))
            best = min(se, key=se.get)
            return best, se
        """, "indices from 0 to n - 2: the last point is never resampled"),
    correct(A, "choose_loss", "choice-rowwise", """
        def choose_loss(x, y, fits, n_boot, rng):
            n = len(x)
            rows = [rng.choice(n, size=n) for _ in range(n_boot)]    # the same stream as one integers call
            idx = np.array(rows)
            xs = np.asarray(x, dtype=float)[idx]
            ys = np.asarray(y, dtype=float)[idx]
            errors = {}
            for name, fit in fits.items():
                s = np.asarray(fit(xs, ys)[0], dtype=float)
                errors[name] = math.sqrt(float(np.sum((s - s.mean()) ** 2)) / (n_boot - 1))
            best = None
            for name in fits:
                if best is None or errors[name] < errors[best]:
                    best = name
            return best, errors
        """),
    correct(A, "choose_loss", "sorted-labels", """
        def choose_loss(x, y, fits, n_boot, rng):
            x, y = np.asarray(x, float), np.asarray(y, float)
            pick = rng.integers(0, x.size, size=(n_boot, x.size))
            se = {name: float(fit(x[pick], y[pick])[0].std(ddof=1)) for name, fit in fits.items()}
            order = sorted(range(len(se)), key=lambda i: (list(se.values())[i], i))
            return list(se)[order[0]], se
        """),
    delegates(A, "choose_loss", "regloss-reference", """
        from regloss.checks.robust_stats import bootstrap_choice_reference
        def choose_loss(x, y, fits, n_boot, rng):
            return bootstrap_choice_reference(x, y, fits, n_boot, rng)
        """),
]
