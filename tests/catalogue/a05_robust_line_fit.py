"""Catalogue for 05_robust_line_fit: fit_line_ols, fit_line_gd, huber_weight and fit_line_irls."""

from tests.catalogue import correct, delegates, wrong
from tests.catalogue import variant as _variant

A = "05_robust_line_fit"


# ------------------------------------------------------------------- fit_line_ols
OLS = """
def fit_line_ols(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xc, yc = x - x.mean(), y - y.mean()
    slope = np.sum(xc * yc) / np.sum(xc * xc)
    intercept = y.mean() - slope * x.mean()
    return float(slope), float(intercept)
"""

# -------------------------------------------------------------------- fit_line_gd
GD = """
def fit_line_gd(x, y, loss_grad, lr=0.1, n_steps=2000):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m, s = x.mean(), x.std()
    z = (x - m) / s
    w, c = 0.0, y.mean()
    for _ in range(n_steps):
        g = loss_grad(w * z + c, y)
        w, c = w - lr * np.sum(g * z), c - lr * np.sum(g)
    return float(w / s), float(c - w * m / s)
"""

# ------------------------------------------------------------------- huber_weight
WEIGHT = """
def huber_weight(r, delta=1.345):
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got delta={delta!r}")
    a = np.abs(np.asarray(r, dtype=float))
    return np.where(a > delta, delta / np.where(a > delta, a, 1.0), 1.0)
"""
_W_EXPR = "np.where(a > delta, delta / np.where(a > delta, a, 1.0), 1.0)"

# ------------------------------------------------------------------ fit_line_irls
IRLS = """
def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)

    def weighted_fit(w):
        A = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        rhs = np.array([np.sum(w * x * y), np.sum(w * y)])
        return np.linalg.solve(A, rhs)

    slope, intercept = weighted_fit(np.ones_like(x))
    for _ in range(n_iter):
        r = np.abs(y - slope * x - intercept)
        w = np.minimum(1.0, delta / np.maximum(r, np.finfo(float).tiny))
        new_slope, new_intercept = weighted_fit(w)
        done = abs(new_slope - slope) <= tol and abs(new_intercept - intercept) <= tol
        slope, intercept = new_slope, new_intercept
        if done:
            break
    return float(slope), float(intercept)
"""

ENTRIES = [
    # ---------------------------------------------------------------- fit_line_ols
    wrong(A, "fit_line_ols", "swapped", _variant(OLS, ("return float(slope), float(intercept)",
                                                       "return float(intercept), float(slope)")),
          "returns (intercept, slope)"),
    wrong(A, "fit_line_ols", "no-intercept", """
        def fit_line_ols(x, y):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            return float(np.sum(x * y) / np.sum(x * x)), 0.0
        """, "a line through the origin: no intercept"),
    wrong(A, "fit_line_ols", "ddof-mismatch", """
        def fit_line_ols(x, y):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            cov = np.mean((x - x.mean()) * (y - y.mean()))
            slope = cov / np.var(x, ddof=1)
            return float(slope), float(y.mean() - slope * x.mean())
        """, "covariance over n, variance over n - 1"),
    wrong(A, "fit_line_ols", "x-on-y", _variant(OLS, ("np.sum(xc * yc) / np.sum(xc * xc)",
                                                      "np.sum(yc * yc) / np.sum(xc * yc)")),
          "inverts the regression of x on y"),
    wrong(A, "fit_line_ols", "intercept-from-first-point", _variant(OLS, (
        "intercept = y.mean() - slope * x.mean()", "intercept = y[0] - slope * x[0]")),
          "intercept through the first point instead of the means"),
    wrong(A, "fit_line_ols", "uncentred-numerator", _variant(
        OLS, ("np.sum(xc * yc)", "np.sum(xc * y) - 0 * np.sum(yc)"), ("np.sum(xc * xc)", "np.sum(x * x)")),
          "centres the numerator only: sum(x^2) in the denominator"),
    correct(A, "fit_line_ols", "normal-equations-solve", """
        def fit_line_ols(x, y):
            x = np.asarray(x, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            A = np.array([[x @ x, x.sum()], [x.sum(), float(len(x))]])
            a, b = np.linalg.solve(A, np.array([x @ y, y.sum()]))
            return float(a), float(b)
        """),
    correct(A, "fit_line_ols", "explicit-sums-loop", """
        def fit_line_ols(x, y):
            n = len(x)
            sx = sy = sxx = sxy = 0.0
            for xi, yi in zip(x, y):
                sx += xi
                sy += yi
                sxx += xi * xi
                sxy += xi * yi
            slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
            return float(slope), float((sy - slope * sx) / n)
        """),
    correct(A, "fit_line_ols", "np-cov", """
        def fit_line_ols(x, y):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            c = np.cov(x, y)
            slope = c[0, 1] / c[0, 0]
            return float(slope), float(np.mean(y) - slope * np.mean(x))
        """),
    delegates(A, "fit_line_ols", "polyfit", """
        def fit_line_ols(x, y):
            slope, intercept = np.polyfit(x, y, 1)
            return float(slope), float(intercept)
        """),
    delegates(A, "fit_line_ols", "scipy-linregress", """
        from scipy.stats import linregress
        def fit_line_ols(x, y):
            r = linregress(x, y)
            return float(r.slope), float(r.intercept)
        """),
    # ----------------------------------------------------------------- fit_line_gd
    wrong(A, "fit_line_gd", "sign-error", _variant(GD, ("w - lr * np.sum(g * z), c - lr * np.sum(g)",
                                                        "w + lr * np.sum(g * z), c + lr * np.sum(g)")),
          "gradient ascent: the step has the wrong sign"),
    wrong(A, "fit_line_gd", "lr-ignored", _variant(GD, ("w - lr * np.sum(g * z), c - lr * np.sum(g)",
                                                        "w - 0.1 * np.sum(g * z), c - 0.1 * np.sum(g)")),
          "a fixed step of 0.1 whatever lr"),
    wrong(A, "fit_line_gd", "steps-ignored", _variant(GD, ("for _ in range(n_steps):", "for _ in range(3000):")),
          "a fixed number of steps whatever n_steps"),
    wrong(A, "fit_line_gd", "mean-of-mean-gradient", _variant(GD, (
        "w - lr * np.sum(g * z), c - lr * np.sum(g)", "w - lr * np.mean(g * z), c - lr * np.mean(g)")),
          "averages g, which already holds the 1/n of the mean loss: steps n times too small"),
    wrong(A, "fit_line_gd", "intercept-mean", _variant(GD, ("c - lr * np.sum(g)", "c - lr * np.mean(g)")),
          "mean instead of sum in the intercept's gradient only"),
    wrong(A, "fit_line_gd", "no-back-transform", _variant(GD, ("return float(w / s), float(c - w * m / s)",
                                                               "return float(w), float(c)")),
          "returns the standardised line's (w, c)"),
    wrong(A, "fit_line_gd", "back-transform-forgets-s", _variant(GD, ("float(c - w * m / s)", "float(c - w * m)")),
          "intercept = c - w m, forgetting the 1/s"),
    wrong(A, "fit_line_gd", "no-standardisation", """
        def fit_line_gd(x, y, loss_grad, lr=0.1, n_steps=2000):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            a, b = 0.0, y.mean()
            for _ in range(n_steps):
                g = loss_grad(a * x + b, y)
                a, b = a - lr * np.sum(g * x), b - lr * np.sum(g)
            return float(a), float(b)
        """, "gradient descent on raw x: diverges or crawls when x is far from 0"),
    wrong(A, "fit_line_gd", "standardises-y-too", """
        def fit_line_gd(x, y, loss_grad, lr=0.1, n_steps=2000):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            m, s = x.mean(), x.std()
            my, sy = y.mean(), y.std()
            z, t = (x - m) / s, (y - my) / sy
            w, c = 0.0, 0.0
            for _ in range(n_steps):
                g = loss_grad(w * z + c, t)
                w, c = w - lr * np.sum(g * z), c - lr * np.sum(g)
            slope = w * sy / s
            return float(slope), float(my + c * sy - slope * m)
        """, "standardises y as well: right for MSE, but rescales Huber's delta"),
    correct(A, "fit_line_gd", "loops-and-ddof1", """
        def fit_line_gd(x, y, loss_grad, lr=0.1, n_steps=2000):
            xs = [float(v) for v in x]
            n = len(xs)
            m = sum(xs) / n
            s = (sum((v - m) ** 2 for v in xs) / (n - 1)) ** 0.5
            z = np.array([(v - m) / s for v in xs])
            y = np.asarray(y, dtype=float)
            w, c = 0.0, sum(float(v) for v in y) / n
            step = 0
            while step < n_steps:
                g = loss_grad(w * z + c, y)
                dw = dc = 0.0
                for gi, zi in zip(g, z):
                    dw += gi * zi
                    dc += gi
                w -= lr * dw
                c -= lr * dc
                step += 1
            slope = w / s
            return float(slope), float(c - slope * m)
        """),
    correct(A, "fit_line_gd", "design-matrix", """
        def fit_line_gd(x, y, loss_grad, lr=0.1, n_steps=2000):
            x = np.asarray(x, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            mean, std = np.mean(x), np.std(x)
            Z = np.column_stack([(x - mean) / std, np.ones_like(x)])
            theta = np.array([0.0, np.mean(y)])
            for _ in range(n_steps):
                theta = theta - lr * (Z.T @ loss_grad(Z @ theta, y))
            w, c = theta
            return float(w / std), float(c - w / std * mean)
        """),
    delegates(A, "fit_line_gd", "scipy-root", """
        from scipy.optimize import root
        def fit_line_gd(x, y, loss_grad, lr=0.1, n_steps=2000):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            if n_steps == 0:
                return 0.0, float(y.mean())
            m, s = x.mean(), x.std()
            z = (x - m) / s
            def stationary(p):
                g = loss_grad(p[0] * z + p[1], y)
                return [np.sum(g * z), np.sum(g)]
            w, c = root(stationary, [0.0, y.mean()]).x
            return float(w / s), float(c - w * m / s)
        """),
    # ---------------------------------------------------------------- huber_weight
    # wrong derivations of w = psi(r) / r, turned into code
    wrong(A, "huber_weight", "inverted", _variant(WEIGHT, (_W_EXPR, "np.minimum(1.0, a / delta)")),
          "w = min(1, |r|/delta): the ratio upside down, up-weights the outliers"),
    wrong(A, "huber_weight", "no-cap", _variant(WEIGHT, (_W_EXPR, "delta / np.maximum(a, 1e-300)")),
          "w = delta/|r| everywhere: the L1 weight times delta, forgets the quadratic zone"),
    wrong(A, "huber_weight", "rho-over-r-squared", _variant(WEIGHT, (
        _W_EXPR, "np.where(a > delta, delta * (a - delta / 2) / np.maximum(a, 1e-300) ** 2, 0.5)")),
          "w = rho(r)/r^2: divides the loss, not its derivative, by r"),
    wrong(A, "huber_weight", "psi-prime", _variant(WEIGHT, (_W_EXPR, "np.where(a > delta, 0.0, 1.0)")),
          "w = psi'(r): 1 inside, 0 beyond the threshold (drops the outliers)"),
    wrong(A, "huber_weight", "delta-over-r-squared", _variant(WEIGHT, (
        _W_EXPR, "np.minimum(1.0, delta / np.maximum(a, 1e-300) ** 2)")),
          "w = min(1, delta/r^2): psi divided by r twice"),
    wrong(A, "huber_weight", "smooth-l1-weight", _variant(WEIGHT, (
        _W_EXPR, "np.minimum(1.0 / delta, 1.0 / np.maximum(a, 1e-300))")),
          "SmoothL1's weight min(1/beta, 1/|r|): w r is psi/delta, not Huber's psi"),
    wrong(A, "huber_weight", "zero-at-zero", _variant(WEIGHT, (
        _W_EXPR, "np.where(a == 0, 0.0, np.minimum(1.0, delta / np.maximum(a, 1e-300)))")),
          "w(0) = 0 (psi(0) = 0 taken for the weight) instead of the limit 1"),
    wrong(A, "huber_weight", "sqrt-weight", _variant(WEIGHT, (_W_EXPR, "np.sqrt(" + _W_EXPR + ")")),
          "the square root of the weight (the row scaling of a weighted lstsq), not the weight"),
    wrong(A, "huber_weight", "signed", _variant(WEIGHT, (
        "a = np.abs(np.asarray(r, dtype=float))", "a = np.asarray(r, dtype=float)")),
          "forgets |r|: every negative residual gets weight 1"),
    correct(A, "huber_weight", "clip-psi-over-r", """
        def huber_weight(r, delta=1.345):
            if delta <= 0:
                raise ValueError("delta must be positive")
            r = np.asarray(r, dtype=float)
            psi = np.clip(r, -delta, delta)
            safe = np.where(r == 0, 1.0, r)
            return np.where(r == 0, 1.0, psi / safe)
        """),
    correct(A, "huber_weight", "clip-of-ratio", """
        def huber_weight(r, delta=1.345):
            if not delta > 0:
                raise ValueError(f"bad delta {delta}")
            with np.errstate(divide="ignore"):
                w = delta / np.abs(np.asarray(r, dtype=np.float64))
            return np.clip(w, None, 1.0)
        """),
    correct(A, "huber_weight", "loop", """
        def huber_weight(r, delta=1.345):
            if delta <= 0:
                raise ValueError("delta <= 0")
            r = np.asarray(r, dtype=float)
            out = np.empty(r.shape)
            for i, v in np.ndenumerate(r):
                out[i] = 1.0 if abs(v) <= delta else delta / abs(v)
            return out
        """),
    delegates(A, "huber_weight", "statsmodels-huber-t", """
        import statsmodels.api as sm
        def huber_weight(r, delta=1.345):
            if delta <= 0:
                raise ValueError("delta must be > 0")
            return sm.robust.norms.HuberT(t=delta).weights(np.asarray(r, dtype=float))
        """),
    # --------------------------------------------------------------- fit_line_irls
    wrong(A, "fit_line_irls", "weights-inverted", _variant(IRLS, (
        "np.minimum(1.0, delta / np.maximum(r, np.finfo(float).tiny))", "np.minimum(1.0, r / delta)")),
          "w = min(1, |r|/delta): up-weights the outliers"),
    wrong(A, "fit_line_irls", "delta-re-estimated", _variant(IRLS, (
        "        w = np.minimum(", "        delta = 1.345 * np.median(np.abs(r)) / 0.6745\n        w = np.minimum(")),
          "delta re-estimated from the residuals (1.345 MAD) each iteration instead of held fixed"),
    wrong(A, "fit_line_irls", "one-iteration", _variant(
        IRLS, ("for _ in range(n_iter):", "for _ in range(min(n_iter, 1)):")),
          "a single reweighting step"),
    wrong(A, "fit_line_irls", "no-min-1", _variant(IRLS, (
        "np.minimum(1.0, delta / np.maximum(r, np.finfo(float).tiny))", "delta / np.maximum(r, 1e-12)")),
          "w = delta/|r| without the cap at 1: an L1 fit, not Huber"),
    wrong(A, "fit_line_irls", "swapped", _variant(IRLS, ("return float(slope), float(intercept)",
                                                         "return float(intercept), float(slope)")),
          "returns (intercept, slope)"),
    wrong(A, "fit_line_irls", "no-intercept", """
        def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            slope = np.sum(x * y) / np.sum(x * x)
            for _ in range(n_iter):
                r = np.abs(y - slope * x)
                w = np.minimum(1.0, delta / np.maximum(r, 1e-300))
                new = np.sum(w * x * y) / np.sum(w * x * x)
                if abs(new - slope) <= tol:
                    slope = new
                    break
                slope = new
            return float(slope), 0.0
        """, "weighted fit through the origin: no intercept"),
    wrong(A, "fit_line_irls", "squared-weights", _variant(IRLS, (
        "w = np.minimum(1.0, delta / np.maximum(r, np.finfo(float).tiny))",
        "w = np.minimum(1.0, delta / np.maximum(r, np.finfo(float).tiny)) ** 2")),
          "squares the weights (weights used as sqrt-weights twice)"),
    correct(A, "fit_line_irls", "centred-weighted-formulas", """
        def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            w = np.ones(len(x))
            a = b = None
            for it in range(n_iter + 1):
                xm = np.sum(w * x) / np.sum(w)
                ym = np.sum(w * y) / np.sum(w)
                a_new = np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2)
                b_new = ym - a_new * xm
                if a is not None and max(abs(a_new - a), abs(b_new - b)) < tol:
                    a, b = a_new, b_new
                    break
                a, b = a_new, b_new
                r = y - a * x - b
                absr = np.abs(r)
                w = np.where(absr <= delta, 1.0, delta / np.where(absr == 0, 1.0, absr))
            return float(a), float(b)
        """),
    correct(A, "fit_line_irls", "explicit-2x2-inverse", """
        def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            def wls(w):
                s0, s1, s2 = w.sum(), (w * x).sum(), (w * x * x).sum()
                t0, t1 = (w * y).sum(), (w * x * y).sum()
                det = s2 * s0 - s1 * s1
                return (s0 * t1 - s1 * t0) / det, (s2 * t0 - s1 * t1) / det
            slope, intercept = wls(np.ones_like(x))
            it = 0
            while it < n_iter:
                r = y - slope * x - intercept
                with np.errstate(divide="ignore"):
                    w = np.clip(delta / np.abs(r), None, 1.0)
                s_new, i_new = wls(w)
                change = max(abs(s_new - slope), abs(i_new - intercept))
                slope, intercept = s_new, i_new
                it += 1
                if change <= tol:
                    break
            return float(slope), float(intercept)
        """),
    correct(A, "fit_line_irls", "sqrt-weight-lstsq", """
        def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            X = np.column_stack([x, np.ones_like(x)])
            beta = np.linalg.lstsq(X, y, rcond=None)[0]
            for _ in range(n_iter):
                r = y - X @ beta
                w = np.ones_like(r)
                big = np.abs(r) > delta
                w[big] = delta / np.abs(r[big])
                sw = np.sqrt(w)
                new = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
                stop = np.all(np.abs(new - beta) <= tol)
                beta = new
                if stop:
                    break
            return float(beta[0]), float(beta[1])
        """),
    delegates(A, "fit_line_irls", "scipy-least-squares", """
        from scipy.optimize import least_squares
        def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
            x = np.asarray(x, dtype=float)
            y = np.asarray(y, dtype=float)
            m = x.mean()
            if n_iter == 0:
                a = np.sum((x - m) * (y - y.mean())) / np.sum((x - m) ** 2)
                return float(a), float(y.mean() - a * m)
            a, c = least_squares(lambda p: y - p[0] * (x - m) - p[1], [0.0, np.median(y)], loss="huber",
                                 f_scale=delta, xtol=1e-15, ftol=1e-15, gtol=1e-15).x
            return float(a), float(c - a * m)
        """),
]
