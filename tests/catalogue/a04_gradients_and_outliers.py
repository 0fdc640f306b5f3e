"""Catalogue for 04_gradients_and_outliers: sensitivity_curve, huber_location, huber_are and
breakdown_scan (huber_minimax_k moved to 06_choosing_a_loss)."""

from tests.catalogue import correct, delegates, wrong
from tests.catalogue import variant as _variant

A = "04_gradients_and_outliers"


# --------------------------------------------------------------- sensitivity_curve
SC = """
def sensitivity_curve(estimator, sample, x):
    sample = np.asarray(sample, dtype=float)
    x = np.asarray(x, dtype=float)
    n = sample.size + 1
    base = float(estimator(sample))
    moved = np.array([float(estimator(np.append(sample, xi))) for xi in x.ravel()])
    return (n * (moved - base)).reshape(x.shape)
"""

ENTRIES_SC = [
    wrong(A, "sensitivity_curve", "factor-n-minus-1", _variant(SC, ("n = sample.size + 1", "n = sample.size")),
          "scales by the size of the sample before the point is added (n - 1)"),
    wrong(A, "sensitivity_curve", "no-factor", _variant(SC, ("return (n * (moved - base))", "return (moved - base)")),
          "the bare change, not scaled by n"),
    wrong(A, "sensitivity_curve", "divides-by-n",
          _variant(SC, ("return (n * (moved - base))", "return ((moved - base) / n)")),
          "divides the change by n"),
    wrong(A, "sensitivity_curve", "reversed",
          _variant(SC, ("return (n * (moved - base))", "return (n * (base - moved))")),
          "the old estimate minus the new one"),
    wrong(A, "sensitivity_curve", "replaces-last-point", _variant(
        SC, ("estimator(np.append(sample, xi))", "estimator(np.append(sample[:-1], xi))")),
          "replaces the last point by x instead of adding one"),
    wrong(A, "sensitivity_curve", "mean-shortcut", """
        def sensitivity_curve(estimator, sample, x):
            sample = np.asarray(sample, dtype=float)
            return np.asarray(x, dtype=float) - float(estimator(sample))    # SC of the mean, for every estimator
        """, "the mean's curve x - T(sample) for every estimator"),
    wrong(A, "sensitivity_curve", "sample-without-x-is-full", """
        def sensitivity_curve(estimator, sample, x):
            sample = np.asarray(sample, dtype=float)
            n = sample.size + 1
            out = []
            for xi in np.asarray(x, dtype=float):
                bigger = np.append(sample, xi)
                out.append(n * (estimator(bigger) - estimator(bigger[1:])))   # drops the first point, not x
            return np.array(out, dtype=float)
        """, "compares with the sample minus its first point instead of the sample without x"),
    correct(A, "sensitivity_curve", "column-stack-apply", """
        def sensitivity_curve(estimator, sample, x):
            s = np.array(sample, dtype=np.float64)
            pts = np.array(x, dtype=np.float64)
            big = np.column_stack([np.tile(s, (pts.size, 1)), pts])
            t_new = np.apply_along_axis(estimator, 1, big).astype(float)
            return (s.size + 1) * (t_new - estimator(s))
        """),
    correct(A, "sensitivity_curve", "plain-loop-lists", """
        def sensitivity_curve(estimator, sample, x):
            values = [float(v) for v in sample]
            t0 = estimator(np.array(values))
            n = len(values) + 1
            result = np.empty(len(x))
            for i, xi in enumerate(x):
                result[i] = n * (estimator(np.array(values + [float(xi)])) - t0)
            return result
        """),
]


# ------------------------------------------------------------------ breakdown_scan
BD = """
def breakdown_scan(estimator, clean, fractions, values):
    clean = np.asarray(clean, dtype=float)
    fractions = np.asarray(fractions, dtype=float)
    values = np.asarray(values, dtype=float)
    out = np.empty((fractions.size, values.size))
    for i, f in enumerate(fractions):
        m = int(round(f * clean.size))
        for j, v in enumerate(values):
            sample = clean.copy()
            sample[:m] = v
            out[i, j] = float(estimator(sample))
    return out
"""

ENTRIES_BD = [
    wrong(A, "breakdown_scan", "truncates-m",
          _variant(BD, ("m = int(round(f * clean.size))", "m = int(f * clean.size)")),
          "int(f n) truncates 0.29 * 100 = 28.999999999999996 to 28"),
    wrong(A, "breakdown_scan", "last-values", _variant(BD, ("sample[:m] = v", "sample[clean.size - m:] = v")),
          "replaces the last m values, not the first"),
    wrong(A, "breakdown_scan", "adds-outlier", _variant(BD, ("sample[:m] = v", "sample[:m] += v")),
          "adds v to the first m values instead of replacing them"),
    wrong(A, "breakdown_scan", "contaminates-in-place", _variant(BD, ("sample = clean.copy()", "sample = clean")),
          "writes the outliers into the caller's clean sample, and every later sample starts contaminated"),
    wrong(A, "breakdown_scan", "transposed", _variant(BD, ("return out", "return out.T.copy()")),
          "returns shape (len(values), len(fractions))"),
    wrong(A, "breakdown_scan", "appends-outliers", """
        def breakdown_scan(estimator, clean, fractions, values):
            clean = np.asarray(clean, dtype=float)
            out = np.empty((len(fractions), len(values)))
            for i, f in enumerate(fractions):
                m = int(round(f * clean.size))
                for j, v in enumerate(values):
                    out[i, j] = estimator(np.concatenate([clean, np.full(m, v)]))   # n + m values
            return out
        """, "adds m outliers to the n clean values instead of replacing m of them"),
    correct(A, "breakdown_scan", "concatenate-rint", """
        def breakdown_scan(estimator, clean, fractions, values):
            c = np.array(clean, dtype=np.float64)
            ms = np.rint(np.asarray(fractions, dtype=float) * c.size).astype(int)
            return np.array([[estimator(np.concatenate([np.full(m, v), c[m:]])) for v in values] for m in ms],
                            dtype=float)
        """),
    correct(A, "breakdown_scan", "where-mask", """
        def breakdown_scan(estimator, clean, fractions, values):
            c = np.asarray(clean, dtype=float)
            pos = np.arange(c.size)
            table = np.zeros((len(fractions), len(values)))
            for i in range(len(fractions)):
                m = round(float(fractions[i]) * len(c))
                for j in range(len(values)):
                    table[i, j] = estimator(np.where(pos < m, float(values[j]), c))
            return table
        """),
]


# ------------------------------------------------------------------ huber_location
LOC = """
def huber_location(x, delta=1.345, scale=None, n_iter=100, tol=1e-10):
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got delta={delta!r}")
    x = np.asarray(x, dtype=np.float64)
    med = np.median(x, axis=-1)
    if scale is None:
        s = np.median(np.abs(x - med[..., None]), axis=-1) / statistics.NormalDist().inv_cdf(0.75)
    else:
        s = np.asarray(scale, dtype=np.float64)
        if np.any(~(s > 0)):
            raise ValueError(f"scale must be > 0, got scale={scale!r}")
        s = np.broadcast_to(s, med.shape)
    degenerate = s == 0
    s_safe = np.where(degenerate, 1.0, s)
    mu = med
    for _ in range(n_iter):
        r = np.abs(x - mu[..., None]) / s_safe[..., None]
        w = np.where(r > delta, delta / np.where(r > delta, r, 1.0), 1.0)
        new = np.sum(w * x, axis=-1) / np.sum(w, axis=-1)
        done = np.all(np.abs(new - mu) <= tol * s_safe)
        mu = new
        if done:
            break
    mu = np.where(degenerate, med, mu)
    return float(mu) if mu.ndim == 0 else mu
"""

# ---------------------------------------------------------------------- huber_are
ARE = """
def huber_are(k):
    if not k > 0:
        raise ValueError(f"k must be > 0, got {k}")
    if math.isinf(k):
        return 1.0
    x = k / math.sqrt(2.0)
    p = math.erf(x)
    tail = math.erfc(x)
    phi = math.exp(-0.5 * k * k) / math.sqrt(2.0 * math.pi)
    e_psi2 = p - 2.0 * k * phi + (k * k * tail if tail > 0 else 0.0)
    return p * p / e_psi2
"""

ENTRIES = [
    # ---------------------------------------------------------- huber_location
    wrong(A, "huber_location", "mean-start-one-step", _variant(
        LOC, ("mu = med\n", "mu = x.mean(axis=-1)\n"), ("for _ in range(n_iter):", "for _ in range(1):")),
        "starts at the mean and reweights once: no iteration to the fixed point"),
    wrong(A, "huber_location", "delta-not-scaled", _variant(
        LOC, ("r = np.abs(x - mu[..., None]) / s_safe[..., None]", "r = np.abs(x - mu[..., None])")),
        "compares delta with x - mu instead of (x - mu) / s"),
    wrong(A, "huber_location", "weights-inverted", _variant(
        LOC, ("w = np.where(r > delta, delta / np.where(r > delta, r, 1.0), 1.0)",
              "w = np.where(r > delta, np.where(r > delta, r, 1.0) / delta, 1.0)")),
        "far points get weight |r| / delta instead of delta / |r|"),
    wrong(A, "huber_location", "scale-re-estimated", _variant(
        LOC, ("r = np.abs(x - mu[..., None]) / s_safe[..., None]",
              "s_now = np.median(np.abs(x - mu[..., None]), axis=-1) / 0.6744897501960817\n"
              "        s_now = np.where(s_now > 0, s_now, 1.0) if scale is None else s_safe\n"
              "        r = np.abs(x - mu[..., None]) / s_now[..., None]")),
        "re-estimates the scale about the current estimate at each iteration (as RLM's default does)"),
    wrong(A, "huber_location", "raw-mad", _variant(
        LOC, (" / statistics.NormalDist().inv_cdf(0.75)", "")),
        "the raw MAD, not divided by Phi^-1(3/4): the scale is too small"),
    wrong(A, "huber_location", "mad-times-constant", _variant(
        LOC, (" / statistics.NormalDist().inv_cdf(0.75)", " * statistics.NormalDist().inv_cdf(0.75)")),
        "MAD times Phi^-1(3/4) (= MAD / 1.4826) instead of divided by it"),
    wrong(A, "huber_location", "std-scale", _variant(
        LOC, ("s = np.median(np.abs(x - med[..., None]), axis=-1) / statistics.NormalDist().inv_cdf(0.75)",
              "s = np.std(x, axis=-1)")),
        "the standard deviation as scale: outliers inflate it"),
    wrong(A, "huber_location", "three-iterations", _variant(
        LOC, ("for _ in range(n_iter):", "for _ in range(3):")),
        "a fixed three iterations: not converged"),
    wrong(A, "huber_location", "ignores-scale", _variant(
        LOC, ("    if scale is None:\n        s = np.median", "    if True:\n        s = np.median")),
        "ignores a given scale"),
    wrong(A, "huber_location", "mean-absolute-deviation", _variant(
        LOC, ("s = np.median(np.abs(x - med[..., None]), axis=-1) / statistics",
              "s = np.mean(np.abs(x - med[..., None]), axis=-1) / statistics")),
        "the mean absolute deviation (MAD misread) instead of the median absolute deviation"),
    wrong(A, "huber_location", "one-scale-for-the-batch", _variant(
        LOC, ("s = np.median(np.abs(x - med[..., None]), axis=-1) / statistics.NormalDist().inv_cdf(0.75)",
              "s = np.full(med.shape, np.median(np.abs(x - med[..., None]))) / statistics.NormalDist().inv_cdf(0.75)")),
        "one MAD over the whole batch instead of one per row"),
    wrong(A, "huber_location", "no-validation", _variant(
        LOC, ("    if not delta > 0:\n        raise ValueError(f\"delta must be > 0, got delta={delta!r}\")\n", ""),
        ("        if np.any(~(s > 0)):\n"
         "            raise ValueError(f\"scale must be > 0, got scale={scale!r}\")\n", "")),
        "accepts delta <= 0 and scale <= 0"),
    correct(A, "huber_location", "bisection-rows", """
        def huber_location(x, delta=1.345, scale=None, n_iter=100, tol=1e-10):
            # bisection on the estimating equation sum(clip(r, -delta, delta)) = 0, row by row
            if delta <= 0:
                raise ValueError("delta must be positive")
            x = np.asarray(x, dtype=float)
            q = statistics.NormalDist().inv_cdf(0.75)
            out = np.empty(x.shape[:-1])
            scales = None if scale is None else np.broadcast_to(np.asarray(scale, dtype=float), x.shape[:-1])
            if scales is not None and np.any(scales <= 0):
                raise ValueError("scale must be positive")
            for idx in np.ndindex(x.shape[:-1]):
                row = x[idx]
                m = np.median(row)
                s = np.median(np.abs(row - m)) / q if scales is None else scales[idx]
                if s == 0:
                    out[idx] = m
                    continue
                lo, hi = row.min(), row.max()
                for _ in range(200):
                    mid = 0.5 * (lo + hi)
                    if np.clip((row - mid) / s, -delta, delta).sum() > 0:
                        lo = mid
                    else:
                        hi = mid
                out[idx] = 0.5 * (lo + hi)
            return float(out) if out.ndim == 0 else out
        """),
    correct(A, "huber_location", "python-loops-typed-constant", """
        def huber_location(x, delta=1.345, scale=None, n_iter=100, tol=1e-10):
            if delta <= 0:
                raise ValueError(f"bad delta {delta}")
            if scale is not None and np.min(scale) <= 0:
                raise ValueError(f"bad scale {scale}")
            x = np.asarray(x, dtype=float)

            def one(values, s):
                values = [float(v) for v in values]
                mu = statistics.median(values)
                if s is None:
                    s = statistics.median([abs(v - mu) for v in values]) * 1.482602218505602
                if s == 0:
                    return mu
                for _ in range(n_iter):
                    num = den = 0.0
                    for v in values:
                        r = abs(v - mu) / s
                        w = 1.0 if r <= delta else delta / r
                        num += w * v
                        den += w
                    new = num / den
                    if abs(new - mu) <= tol * s:
                        return new
                    mu = new
                return mu

            if x.ndim == 1:
                return one(x, None if scale is None else float(scale))
            out = np.empty(x.shape[:-1])
            sc = None if scale is None else np.broadcast_to(scale, x.shape[:-1])
            for idx in np.ndindex(x.shape[:-1]):
                out[idx] = one(x[idx], None if sc is None else float(sc[idx]))
            return out
        """),
    correct(A, "huber_location", "newton-safeguarded", """
        def huber_location(x, delta=1.345, scale=None, n_iter=100, tol=1e-10):
            # Newton steps on sum(psi(r)) = 0 (psi' = 1 inside the band), vectorised
            if not delta > 0:
                raise ValueError("delta must be > 0")
            x = np.asarray(x, dtype=float)
            med = np.median(x, axis=-1, keepdims=True)
            if scale is None:
                s = np.median(np.abs(x - med), axis=-1, keepdims=True) / statistics.NormalDist().inv_cdf(0.75)
            else:
                s = np.asarray(scale, dtype=float)
                if np.any(s <= 0):
                    raise ValueError("scale must be > 0")
                s = np.broadcast_to(s, med.shape[:-1])[..., None]
            zero = s == 0
            s = np.where(zero, 1.0, s)
            mu = med
            for _ in range(500):
                r = (x - mu) / s
                inside = np.sum(np.abs(r) < delta, axis=-1, keepdims=True)
                step = s * np.clip(r, -delta, delta).sum(axis=-1, keepdims=True) / np.maximum(inside, 1)
                mu = mu + np.where(inside > 0, step, 0.5 * step / x.shape[-1])
                if np.all(np.abs(step) <= 1e-13 * s):
                    break
            mu = np.where(zero, med, mu)[..., 0]
            return float(mu) if mu.ndim == 0 else mu
        """),
    delegates(A, "huber_location", "statsmodels", """
        from statsmodels.robust.norms import HuberT, estimate_location
        from statsmodels.robust.scale import mad
        def huber_location(x, delta=1.345, scale=None, n_iter=100, tol=1e-10):
            if delta <= 0:
                raise ValueError("delta must be > 0")
            x = np.asarray(x, dtype=float)
            s = mad(x, axis=-1) if scale is None else scale
            out = estimate_location(x.T, s, norm=HuberT(t=delta), axis=0, maxiter=1000, tol=1e-12)
            return float(out) if np.ndim(out) == 0 else out.T
        """),
    # --------------------------------------------------------------- huber_are
    wrong(A, "huber_are", "not-squared", _variant(ARE, ("return p * p / e_psi2", "return p / e_psi2")),
          "E[psi'] instead of its square"),
    wrong(A, "huber_are", "no-tail-term", _variant(
        ARE, ("e_psi2 = p - 2.0 * k * phi + (k * k * tail if tail > 0 else 0.0)", "e_psi2 = p - 2.0 * k * phi")),
          "forgot the 2 k^2 (1 - Phi(k)) tail term of E[psi^2]"),
    wrong(A, "huber_are", "pdf-for-cdf", _variant(
        ARE, ("p = math.erf(x)", "p = 2.0 * math.exp(-0.5 * k * k) / math.sqrt(2.0 * math.pi) - 1.0 + 1.0")),
          "the pdf where the cdf belongs: E[psi'] = 2 phi(k) instead of 2 Phi(k) - 1"),
    wrong(A, "huber_are", "one-minus", _variant(ARE, ("return p * p / e_psi2", "return 1.0 - p * p / e_psi2")),
          "1 - efficiency"),
    wrong(A, "huber_are", "erf-without-sqrt2", _variant(
        ARE, ("x = k / math.sqrt(2.0)", "x = k")),
          "Phi(k) = (1 + erf(k)) / 2: the k / sigma confusion (erf is for variance 1/2)"),
    wrong(A, "huber_are", "variance-not-efficiency", _variant(
        ARE, ("return p * p / e_psi2", "return e_psi2 / (p * p)")),
          "the asymptotic variance E[psi^2] / E[psi']^2, not the efficiency"),
    correct(A, "huber_are", "textbook-phi", """
        def huber_are(k):
            if k <= 0:
                raise ValueError(f"k must be > 0, got {k}")
            if k == math.inf:
                return 1.0
            Phi = 0.5 * (1.0 + math.erf(k / math.sqrt(2.0)))
            phi = math.exp(-0.5 * k * k) / math.sqrt(2.0 * math.pi)
            e_dpsi = 2.0 * Phi - 1.0
            return e_dpsi ** 2 / (e_dpsi - 2.0 * k * phi + 2.0 * k * k * (1.0 - Phi))
        """, "the textbook formula with Phi(k) first: accurate enough for k >= 1e-4"),
    wrong(A, "huber_are", "no-validation", _variant(
        ARE, ("    if not k > 0:\n        raise ValueError(f\"k must be > 0, got {k}\")\n", "")),
          "k <= 0 not refused"),
    wrong(A, "huber_are", "inf-is-nan", _variant(
        ARE, ("    if math.isinf(k):\n        return 1.0\n", "")),
          "k = inf gives inf * 0 = nan instead of the limit 1"),
    correct(A, "huber_are", "simpson", """
        def huber_are(k):
            if not k > 0:
                raise ValueError("k must be positive, got %r" % (k,))
            if k == float("inf"):
                return 1.0
            kk = min(float(k), 40.0)
            z = np.linspace(-kk, kk, 4001)
            w = np.ones_like(z)
            w[1:-1:2], w[2:-1:2] = 4.0, 2.0
            w *= (z[1] - z[0]) / 3.0
            phi = np.exp(-z * z / 2.0) / np.sqrt(2.0 * np.pi)
            e_dpsi = float(np.sum(w * phi))
            tail = math.erfc(k / math.sqrt(2.0))
            e_psi2 = float(np.sum(w * z * z * phi)) + (k * k * tail if tail > 0 else 0.0)
            return e_dpsi ** 2 / e_psi2
        """),
    correct(A, "huber_are", "gauss-legendre", """
        def huber_are(k):
            if k <= 0:
                raise ValueError(f"huber_are needs k > 0 (got k={k})")
            if math.isinf(k):
                return 1.0
            t, w = np.polynomial.legendre.leggauss(200)
            kk = min(k, 12.0)                  # no normal mass to speak of beyond 12
            z = kk * t                      # nodes on [-kk, kk]
            phi = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
            e_dpsi = kk * float(np.dot(w, phi))
            inner = kk * float(np.dot(w, z * z * phi))
            outside = math.erfc(k / math.sqrt(2))
            return e_dpsi * e_dpsi / (inner + (k * k * outside if outside else 0.0))
        """),
    correct(A, "huber_are", "closed-form", ARE),
    delegates(A, "huber_are", "scipy-norm", """
        from scipy.stats import norm
        def huber_are(k):
            if k <= 0:
                raise ValueError("k must be > 0")
            if math.isinf(k):
                return 1.0
            p = norm.cdf(k) - norm.cdf(-k)
            return float(p ** 2 / (p - 2 * k * norm.pdf(k) + 2 * k * k * norm.sf(k)))
        """),
]
ENTRIES += ENTRIES_SC
ENTRIES += ENTRIES_BD
