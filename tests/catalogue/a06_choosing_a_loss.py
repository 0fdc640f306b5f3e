"""Catalogue for 06_choosing_a_loss: mad_scale."""

from tests.catalogue import correct, delegates, wrong

A = "06_choosing_a_loss"

ENTRIES = [
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
]
