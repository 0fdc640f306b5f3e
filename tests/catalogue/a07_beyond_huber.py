"""Catalogue for 07_beyond_huber: the six robust losses, their gradients, fit_line_cauchy.

Each graded cell may use the notebook's given helpers ``check_reduction``,
``reduce`` and ``reduce_grad``, as a student would. Wrong entries are written as
one realistic change of a correct source (:func:`variant`).
"""

from tests.catalogue import correct, delegates, variant, wrong

A = "07_beyond_huber"

# ------------------------------------------------------------------ log-cosh
LOG_COSH = '''
def log_cosh_loss(input, target, reduction="mean"):
    check_reduction(reduction)
    e = np.asarray(input) - np.asarray(target)
    a = np.abs(e)
    loss = a + np.log1p(np.exp(-2 * a)) - np.log(2.0)
    return reduce(loss, reduction)
'''
LOG_COSH_GRAD = '''
def log_cosh_loss_grad(input, target, reduction="mean"):
    check_reduction(reduction)
    e = np.asarray(input) - np.asarray(target)
    return reduce_grad(np.tanh(e), reduction)
'''
# ------------------------------------------------------------- pseudo-Huber
PSEUDO = '''
def pseudo_huber_loss(input, target, reduction="mean", delta=1.0):
    check_reduction(reduction)
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    e = np.asarray(input) - np.asarray(target)
    loss = e * e / (np.sqrt(1 + (e / delta) ** 2) + 1)
    return reduce(loss, reduction)
'''
PSEUDO_GRAD = '''
def pseudo_huber_loss_grad(input, target, reduction="mean", delta=1.0):
    check_reduction(reduction)
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    e = np.asarray(input) - np.asarray(target)
    g = e / np.sqrt(1 + (e / delta) ** 2)
    return reduce_grad(g, reduction)
'''
# ------------------------------------------------------------------- Cauchy
CAUCHY = '''
def cauchy_loss(input, target, reduction="mean", c=1.0):
    check_reduction(reduction)
    if not c > 0:
        raise ValueError(f"c must be positive, got c={c}")
    e = np.asarray(input) - np.asarray(target)
    loss = 0.5 * c * c * np.log1p((e / c) ** 2)
    return reduce(loss, reduction)
'''
CAUCHY_GRAD = '''
def cauchy_loss_grad(input, target, reduction="mean", c=1.0):
    check_reduction(reduction)
    if not c > 0:
        raise ValueError(f"c must be positive, got c={c}")
    e = np.asarray(input) - np.asarray(target)
    g = e / (1 + (e / c) ** 2)
    return reduce_grad(g, reduction)
'''
# -------------------------------------------------------------------- Tukey
TUKEY = '''
def tukey_biweight_loss(input, target, reduction="mean", c=4.685):
    check_reduction(reduction)
    if not c > 0:
        raise ValueError(f"c must be positive, got c={c}")
    e = np.asarray(input) - np.asarray(target)
    u = np.minimum((e / c) ** 2, 1.0)
    loss = c * c / 6 * (1 - (1 - u) ** 3)
    return reduce(loss, reduction)
'''
TUKEY_GRAD = '''
def tukey_biweight_loss_grad(input, target, reduction="mean", c=4.685):
    check_reduction(reduction)
    if not c > 0:
        raise ValueError(f"c must be positive, got c={c}")
    e = np.asarray(input) - np.asarray(target)
    g = np.where(np.abs(e) <= c, e * (1 - (e / c) ** 2) ** 2, 0.0)
    return reduce_grad(g, reduction)
'''
# ----------------------------------------------------------------- quantile
QUANTILE = '''
def quantile_loss(input, target, reduction="mean", q=0.5):
    check_reduction(reduction)
    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got q={q}")
    e = np.asarray(input) - np.asarray(target)
    loss = q * np.maximum(-e, 0) + (1 - q) * np.maximum(e, 0)
    return reduce(loss, reduction)
'''
QUANTILE_GRAD = '''
def quantile_loss_grad(input, target, reduction="mean", q=0.5):
    check_reduction(reduction)
    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got q={q}")
    e = np.asarray(input) - np.asarray(target)
    g = np.where(e > 0, 1 - q, np.where(e < 0, -q, 0.0))
    return reduce_grad(g, reduction)
'''
# ------------------------------------------------------------------- Barron
GENERAL = '''
def general_robust_loss(input, target, reduction="mean", alpha=1.0, scale=1.0):
    check_reduction(reduction)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got scale={scale}")
    if np.isnan(alpha):
        raise ValueError("alpha is nan")
    e = np.asarray(input) - np.asarray(target)
    z = (e / scale) ** 2
    if alpha == 2:
        loss = 0.5 * z
    elif alpha == 0:
        loss = np.log1p(0.5 * z)
    elif alpha == -np.inf:
        loss = -np.expm1(-0.5 * z)
    else:
        b = abs(alpha - 2)
        loss = b / alpha * np.expm1(alpha / 2 * np.log1p(z / b))
    return reduce(loss, reduction)
'''
GENERAL_GRAD = '''
def general_robust_loss_grad(input, target, reduction="mean", alpha=1.0, scale=1.0):
    check_reduction(reduction)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got scale={scale}")
    if np.isnan(alpha):
        raise ValueError("alpha is nan")
    e = np.asarray(input) - np.asarray(target)
    z = (e / scale) ** 2
    d = e / scale ** 2
    if alpha == 2:
        g = d
    elif alpha == 0:
        g = d / (0.5 * z + 1)
    elif alpha == -np.inf:
        g = d * np.exp(-0.5 * z)
    else:
        g = d * (z / abs(alpha - 2) + 1) ** (alpha / 2 - 1)
    return reduce_grad(g, reduction)
'''
# --------------------------------------------------------- fit_line_cauchy
FIT = '''
def fit_line_cauchy(x, y, c=2.3849, n_iter=1000, tol=1e-12):
    if not c > 0:
        raise ValueError(f"c must be positive, got c={c}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    ok = dx != 0
    slope = np.median((y[j] - y[i])[ok] / dx[ok])
    intercept = np.median(y - slope * x)
    for _ in range(n_iter):
        r = y - slope * x - intercept
        w = 1.0 / (1.0 + (r / c) ** 2)
        xm, ym = np.sum(w * x) / np.sum(w), np.sum(w * y) / np.sum(w)
        new_slope = np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2)
        new_intercept = ym - new_slope * xm
        done = abs(new_slope - slope) <= tol * (1 + abs(slope)) and abs(new_intercept - intercept) <= tol * (1 + abs(intercept))
        slope, intercept = new_slope, new_intercept
        if done:
            break
    return float(slope), float(intercept)
'''  # noqa: E501 - a student's source, kept as written

ENTRIES = [
    # ----------------------------------------------------------- log_cosh_loss
    wrong(A, "log_cosh_loss", "naive-cosh", variant(LOG_COSH, (
        "loss = a + np.log1p(np.exp(-2 * a)) - np.log(2.0)", "loss = np.log(np.cosh(e))")),
        "np.log(np.cosh(e)): cosh overflows to inf beyond |e| ~ 710 (float32: 89)"),
    wrong(A, "log_cosh_loss", "no-log2", variant(LOG_COSH, (
        "loss = a + np.log1p(np.exp(-2 * a)) - np.log(2.0)", "loss = a + np.log1p(np.exp(-2 * a))")),
        "the stable form without its - log 2"),
    wrong(A, "log_cosh_loss", "always-sum", variant(LOG_COSH, (
        "return reduce(loss, reduction)", "return loss if reduction == 'none' else loss.sum()")), "sum for mean"),
    wrong(A, "log_cosh_loss", "no-reduction-check", variant(LOG_COSH, ("    check_reduction(reduction)\n", "")),
          "an unknown reduction is not refused"),
    wrong(A, "log_cosh_loss", "two-pieces", variant(LOG_COSH, (
        "loss = a + np.log1p(np.exp(-2 * a)) - np.log(2.0)",
        "loss = np.where(a < 1, 0.5 * e * e, a - np.log(2.0))")),
        "the asymptotes e^2/2 and |e| - log 2 glued at |e| = 1 instead of log cosh"),
    correct(A, "log_cosh_loss", "logaddexp", '''
        def log_cosh_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"bad reduction {reduction!r}")
            e = input - target
            values = np.logaddexp(e, -e) - np.log(2)      # log((e^x + e^-x) / 2), never overflows
            return values if reduction == "none" else (values.sum() if reduction == "sum" else values.mean())
        '''),
    correct(A, "log_cosh_loss", "switch-at-20", '''
        def log_cosh_loss(input, target, reduction="mean"):
            check_reduction(reduction)
            e = np.asarray(input - target)
            with np.errstate(over="ignore"):
                values = np.where(np.abs(e) < 20, np.log(np.cosh(np.minimum(np.abs(e), 20))), np.abs(e) - np.log(2))
            return reduce(values, reduction)
        '''),
    delegates(A, "log_cosh_loss", "regloss-reference", '''
        from regloss.checks.reference import torch_loss
        def log_cosh_loss(input, target, reduction="mean"):
            return torch_loss("log_cosh_loss", input, target, reduction)
        '''),
    # ------------------------------------------------------ log_cosh_loss_grad
    wrong(A, "log_cosh_loss_grad", "second-derivative", variant(LOG_COSH_GRAD, (
        "reduce_grad(np.tanh(e), reduction)", "reduce_grad(1 - np.tanh(e) ** 2, reduction)")),
        "1 - tanh^2, the second derivative"),
    wrong(A, "log_cosh_loss_grad", "sign", variant(LOG_COSH_GRAD, (
        "reduce_grad(np.tanh(e), reduction)", "reduce_grad(np.sign(e), reduction)")), "the L1 gradient sign(e)"),
    wrong(A, "log_cosh_loss_grad", "no-mean", variant(LOG_COSH_GRAD, (
        "return reduce_grad(np.tanh(e), reduction)", "return np.tanh(e)")), "forgets the 1/N of the mean"),
    wrong(A, "log_cosh_loss_grad", "sinh-over-cosh", variant(LOG_COSH_GRAD, (
        "reduce_grad(np.tanh(e), reduction)", "reduce_grad(np.sinh(e) / np.cosh(e), reduction)")),
        "sinh / cosh: inf / inf = nan at large |e|"),
    wrong(A, "log_cosh_loss_grad", "flipped", variant(LOG_COSH_GRAD, (
        "e = np.asarray(input) - np.asarray(target)", "e = np.asarray(target) - np.asarray(input)")),
        "e = target - input: the gradient's sign flips"),
    correct(A, "log_cosh_loss_grad", "logistic", '''
        def log_cosh_loss_grad(input, target, reduction="mean"):
            check_reduction(reduction)
            e = input - target
            with np.errstate(over="ignore"):
                g = 2.0 / (1.0 + np.exp(-2.0 * e)) - 1.0     # tanh(e) = 2 sigmoid(2e) - 1
            return g / g.size if reduction == "mean" else g
        '''),
    correct(A, "log_cosh_loss_grad", "exp-minus-2a", '''
        def log_cosh_loss_grad(input, target, reduction="mean"):
            if reduction not in {"none", "mean", "sum"}:
                raise ValueError("reduction must be none, mean or sum, not %r" % (reduction,))
            e = np.asarray(input) - np.asarray(target)
            t = np.exp(-2 * np.abs(e))
            g = np.sign(e) * (1 - t) / (1 + t)
            if reduction == "mean":
                g = g / e.size
            return g
        '''),
    # ------------------------------------------------------- pseudo_huber_loss
    wrong(A, "pseudo_huber_loss", "no-delta-squared", variant(PSEUDO, (
        "loss = e * e / (np.sqrt(1 + (e / delta) ** 2) + 1)", "loss = np.sqrt(1 + (e / delta) ** 2) - 1")),
        "Charbonnier's sqrt(1 + (e/delta)^2) - 1 without the factor delta^2"),
    wrong(A, "pseudo_huber_loss", "delta-not-squared", variant(PSEUDO, (
        "loss = e * e / (np.sqrt(1 + (e / delta) ** 2) + 1)",
        "loss = delta * (np.sqrt(1 + (e / delta) ** 2) - 1)")), "factor delta instead of delta^2"),
    wrong(A, "pseudo_huber_loss", "huber", variant(PSEUDO, (
        "loss = e * e / (np.sqrt(1 + (e / delta) ** 2) + 1)",
        "loss = np.where(np.abs(e) < delta, 0.5 * e * e, delta * (np.abs(e) - 0.5 * delta))")),
        "the Huber loss it approximates"),
    wrong(A, "pseudo_huber_loss", "delta-zero-accepted", variant(PSEUDO, ("if not delta > 0:", "if delta < 0:")),
          "delta = 0 accepted"),
    wrong(A, "pseudo_huber_loss", "sqrt-of-e2-plus-delta", variant(PSEUDO, (
        "loss = e * e / (np.sqrt(1 + (e / delta) ** 2) + 1)", "loss = np.sqrt(e ** 2 + delta) - np.sqrt(delta)")),
        "sqrt(e^2 + delta) - sqrt(delta): delta where delta^2 belongs"),
    correct(A, "pseudo_huber_loss", "textbook-form", variant(PSEUDO, (
        "loss = e * e / (np.sqrt(1 + (e / delta) ** 2) + 1)",
        "loss = delta ** 2 * (np.sqrt(1 + (e / delta) ** 2) - 1)")),
        "the textbook form: its cancellation for tiny |e| stays inside the tolerance"),
    correct(A, "pseudo_huber_loss", "hypot", '''
        def pseudo_huber_loss(input, target, reduction="mean", delta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction}")
            if delta <= 0:
                raise ValueError(f"invalid delta {delta}: must be > 0")
            e = input - target
            values = delta * (np.hypot(delta, e) - delta)
            return {"none": values, "mean": np.mean(values), "sum": np.sum(values)}[reduction]
        '''),
    # --------------------------------------------------- pseudo_huber_loss_grad
    wrong(A, "pseudo_huber_loss_grad", "delta-ignored", variant(PSEUDO_GRAD, (
        "g = e / np.sqrt(1 + (e / delta) ** 2)", "g = e / np.sqrt(1 + e ** 2)")), "delta left out"),
    wrong(A, "pseudo_huber_loss_grad", "times-delta", variant(PSEUDO_GRAD, (
        "g = e / np.sqrt(1 + (e / delta) ** 2)", "g = delta * e / np.sqrt(1 + (e / delta) ** 2)")),
        "an extra factor delta"),
    wrong(A, "pseudo_huber_loss_grad", "huber-clip", variant(PSEUDO_GRAD, (
        "g = e / np.sqrt(1 + (e / delta) ** 2)", "g = np.clip(e, -delta, delta)")), "Huber's gradient"),
    wrong(A, "pseudo_huber_loss_grad", "cauchy-form", variant(PSEUDO_GRAD, (
        "g = e / np.sqrt(1 + (e / delta) ** 2)", "g = e / (1 + (e / delta) ** 2)")), "no square root"),
    wrong(A, "pseudo_huber_loss_grad", "no-mean", variant(PSEUDO_GRAD, (
        "return reduce_grad(g, reduction)", "return g")), "forgets the 1/N of the mean"),
    correct(A, "pseudo_huber_loss_grad", "delta-hypot", variant(PSEUDO_GRAD, (
        "g = e / np.sqrt(1 + (e / delta) ** 2)", "g = delta * e / np.hypot(delta, e)"))),
    correct(A, "pseudo_huber_loss_grad", "power", variant(PSEUDO_GRAD, (
        "g = e / np.sqrt(1 + (e / delta) ** 2)", "g = e * (1.0 + np.square(e / delta)) ** -0.5"))),
    # --------------------------------------------------------------- cauchy_loss
    wrong(A, "cauchy_loss", "no-factor", variant(CAUCHY, (
        "loss = 0.5 * c * c * np.log1p((e / c) ** 2)", "loss = np.log1p((e / c) ** 2)")),
        "log(1 + (e/c)^2) without c^2 / 2"),
    wrong(A, "cauchy_loss", "ceres-rho", variant(CAUCHY, (
        "loss = 0.5 * c * c * np.log1p((e / c) ** 2)", "loss = c * c * np.log1p((e / c) ** 2)")),
        "c^2 log(1 + s/c^2), the SLAM kernel rho(s) without the 1/2 of the cost"),
    wrong(A, "cauchy_loss", "e2-over-c", variant(CAUCHY, (
        "loss = 0.5 * c * c * np.log1p((e / c) ** 2)", "loss = 0.5 * c * c * np.log1p(e ** 2 / c)")),
        "e^2 / c instead of (e / c)^2"),
    wrong(A, "cauchy_loss", "no-c-check", variant(CAUCHY, (
        '''    if not c > 0:
        raise ValueError(f"c must be positive, got c={c}")
''', "")), "c <= 0 accepted"),
    wrong(A, "cauchy_loss", "always-mean", variant(CAUCHY, (
        "return reduce(loss, reduction)", "return loss if reduction == 'none' else loss.mean()")), "mean for sum"),
    wrong(A, "cauchy_loss", "log-not-log1p", variant(CAUCHY, (
        "loss = 0.5 * c * c * np.log1p((e / c) ** 2)", "loss = c ** 2 / 2 * np.log(1 + (e / c) ** 2)")),
        "log(1 + u) for log1p(u): in float32 with a large c, 1 + (e/c)^2 rounds away the digits that c^2/2 "
        "then magnifies (c = 50: an absolute error near 1e-4)"),
    correct(A, "cauchy_loss", "squares", '''
        def cauchy_loss(input, target, reduction="mean", c=1.0):
            if reduction not in ["none", "mean", "sum"]:
                raise ValueError("Unsupported reduction: " + repr(reduction))
            if c <= 0:
                raise ValueError("c should be > 0 but is " + repr(c))
            c2 = c * c
            values = c2 / 2 * np.log1p(np.square(input - target) / c2)
            if reduction == "none":
                return values
            return values.sum() / (values.size if reduction == "mean" else 1)
        '''),
    correct(A, "cauchy_loss", "loop", '''
        import math
        def cauchy_loss(input, target, reduction="mean", c=1.0):
            check_reduction(reduction)
            if not c > 0:
                raise ValueError(f"c={c} is not positive")
            out = np.empty(np.shape(input), dtype=np.result_type(input, target))
            for idx in np.ndindex(out.shape):
                u = (float(input[idx]) - float(target[idx])) / c
                out[idx] = 0.5 * c * c * math.log1p(u * u)
            return reduce(out, reduction)
        '''),
    delegates(A, "cauchy_loss", "torch", '''
        import torch
        def cauchy_loss(input, target, reduction="mean", c=1.0):
            check_reduction(reduction)
            if not c > 0:
                raise ValueError("c must be positive")
            e = torch.as_tensor(input - target)
            return reduce(0.5 * c * c * torch.log1p((e / c) ** 2), reduction).numpy()
        '''),
    # ---------------------------------------------------------- cauchy_loss_grad
    wrong(A, "cauchy_loss_grad", "c-ignored", variant(CAUCHY_GRAD, (
        "g = e / (1 + (e / c) ** 2)", "g = e / (1 + e ** 2)")), "c left out"),
    wrong(A, "cauchy_loss_grad", "weight-not-psi", variant(CAUCHY_GRAD, (
        "g = e / (1 + (e / c) ** 2)", "g = 1 / (1 + (e / c) ** 2)")), "the IRLS weight instead of psi"),
    wrong(A, "cauchy_loss_grad", "log1p-derivative", variant(CAUCHY_GRAD, (
        "g = e / (1 + (e / c) ** 2)", "g = 2 * e / (c * c + e * e)")),
        "the derivative of log(1 + (e/c)^2), without the c^2 / 2"),
    wrong(A, "cauchy_loss_grad", "times-two", variant(CAUCHY_GRAD, (
        "g = e / (1 + (e / c) ** 2)", "g = 2 * e / (1 + (e / c) ** 2)")), "a factor 2 too many"),
    wrong(A, "cauchy_loss_grad", "no-mean", variant(CAUCHY_GRAD, (
        "return reduce_grad(g, reduction)", "return g")), "forgets the 1/N of the mean"),
    correct(A, "cauchy_loss_grad", "c2-form", variant(CAUCHY_GRAD, (
        "g = e / (1 + (e / c) ** 2)", "g = c * c * e / (c * c + e * e)"))),
    correct(A, "cauchy_loss_grad", "hypot-squared", variant(CAUCHY_GRAD, (
        "g = e / (1 + (e / c) ** 2)", "g = e / np.hypot(1.0, e / c) ** 2"))),
    # -------------------------------------------------------- tukey_biweight_loss
    wrong(A, "tukey_biweight_loss", "no-clamp", variant(TUKEY, (
        "u = np.minimum((e / c) ** 2, 1.0)", "u = (e / c) ** 2")),
        "the polynomial continued beyond c (it turns back down)"),
    wrong(A, "tukey_biweight_loss", "no-factor", variant(TUKEY, (
        "loss = c * c / 6 * (1 - (1 - u) ** 3)", "loss = 1 - (1 - u) ** 3")), "without c^2 / 6"),
    wrong(A, "tukey_biweight_loss", "zero-beyond", variant(TUKEY, (
        "loss = c * c / 6 * (1 - (1 - u) ** 3)",
        "loss = np.where(np.abs(e) <= c, c * c / 6 * (1 - (1 - u) ** 3), 0.0)")),
        "outliers cost nothing: 0 beyond c instead of c^2 / 6"),
    wrong(A, "tukey_biweight_loss", "u-not-squared", variant(TUKEY, (
        "u = np.minimum((e / c) ** 2, 1.0)", "u = np.minimum(np.abs(e / c), 1.0)")), "|e/c| for (e/c)^2"),
    wrong(A, "tukey_biweight_loss", "default-c-1", variant(TUKEY, ('c=4.685):', 'c=1.0):')),
          "default c = 1 instead of 4.685"),
    correct(A, "tukey_biweight_loss", "strict-branch", '''
        def tukey_biweight_loss(input, target, reduction="mean", c=4.685):
            check_reduction(reduction)
            if c <= 0:
                raise ValueError(f"c = {c} is not positive")
            e = input - target
            inside = c ** 2 / 6 * (1 - (1 - (e / c) ** 2) ** 3)
            return reduce(np.where(np.abs(e) < c, inside, c ** 2 / 6), reduction)
        '''),
    correct(A, "tukey_biweight_loss", "polynomial", variant(TUKEY, (
        "loss = c * c / 6 * (1 - (1 - u) ** 3)",
        "e = np.clip(e, -c, c)\n    loss = e ** 2 / 2 - e ** 4 / (2 * c ** 2) + e ** 6 / (6 * c ** 4)"))),
    # --------------------------------------------------- tukey_biweight_loss_grad
    wrong(A, "tukey_biweight_loss_grad", "no-zero-beyond", variant(TUKEY_GRAD, (
        "g = np.where(np.abs(e) <= c, e * (1 - (e / c) ** 2) ** 2, 0.0)", "g = e * (1 - (e / c) ** 2) ** 2")),
        "psi continued beyond c"),
    wrong(A, "tukey_biweight_loss_grad", "not-squared", variant(TUKEY_GRAD, (
        "e * (1 - (e / c) ** 2) ** 2, 0.0)", "e * (1 - (e / c) ** 2), 0.0)")), "(1 - u) instead of (1 - u)^2"),
    wrong(A, "tukey_biweight_loss_grad", "weight-not-psi", variant(TUKEY_GRAD, (
        "e * (1 - (e / c) ** 2) ** 2, 0.0)", "(1 - (e / c) ** 2) ** 2, 0.0)")), "the weight instead of psi"),
    wrong(A, "tukey_biweight_loss_grad", "no-mean", variant(TUKEY_GRAD, (
        "return reduce_grad(g, reduction)", "return g")), "forgets the 1/N of the mean"),
    wrong(A, "tukey_biweight_loss_grad", "u-not-squared", variant(TUKEY_GRAD, (
        "e * (1 - (e / c) ** 2) ** 2, 0.0)", "e * (1 - np.abs(e / c)) ** 2, 0.0)")), "|e/c| for (e/c)^2"),
    correct(A, "tukey_biweight_loss_grad", "clip", variant(TUKEY_GRAD, (
        "g = np.where(np.abs(e) <= c, e * (1 - (e / c) ** 2) ** 2, 0.0)",
        "g = e * np.clip(1 - (e / c) ** 2, 0, None) ** 2"))),
    correct(A, "tukey_biweight_loss_grad", "mask", variant(TUKEY_GRAD, (
        "g = np.where(np.abs(e) <= c, e * (1 - (e / c) ** 2) ** 2, 0.0)",
        "g = e * (1 - (e / c) ** 2) ** 2 * (np.abs(e) < c)"))),
    # ------------------------------------------------------------- quantile_loss
    wrong(A, "quantile_loss", "swapped", variant(QUANTILE, (
        "loss = q * np.maximum(-e, 0) + (1 - q) * np.maximum(e, 0)",
        "loss = q * np.maximum(e, 0) + (1 - q) * np.maximum(-e, 0)")), "q and 1 - q swapped"),
    wrong(A, "quantile_loss", "half-l1", variant(QUANTILE, (
        "loss = q * np.maximum(-e, 0) + (1 - q) * np.maximum(e, 0)", "loss = 0.5 * np.abs(e)")), "ignores q"),
    wrong(A, "quantile_loss", "q-abs", variant(QUANTILE, (
        "loss = q * np.maximum(-e, 0) + (1 - q) * np.maximum(e, 0)", "loss = q * np.abs(e)")), "q |e|"),
    wrong(A, "quantile_loss", "no-q-check", variant(QUANTILE, (
        '''    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got q={q}")
''', "")), "q outside (0, 1) accepted"),
    wrong(A, "quantile_loss", "closed-interval", variant(QUANTILE, ("if not 0 < q < 1:", "if not 0 <= q <= 1:")),
          "q = 0 and q = 1 accepted"),
    correct(A, "quantile_loss", "pinball-max", '''
        def quantile_loss(input, target, reduction="mean", q=0.5):
            check_reduction(reduction)
            if q <= 0 or q >= 1:
                raise ValueError(f"need 0 < q < 1, got q={q}")
            u = target - input
            return reduce(np.maximum(q * u, (q - 1) * u), reduction)
        '''),
    correct(A, "quantile_loss", "where", variant(QUANTILE, (
        "loss = q * np.maximum(-e, 0) + (1 - q) * np.maximum(e, 0)", "loss = np.where(e > 0, (1 - q) * e, -q * e)"))),
    # -------------------------------------------------------- quantile_loss_grad
    wrong(A, "quantile_loss_grad", "swapped", variant(QUANTILE_GRAD, (
        "g = np.where(e > 0, 1 - q, np.where(e < 0, -q, 0.0))", "g = np.where(e > 0, q, np.where(e < 0, q - 1, 0.0))")),
        "q and 1 - q swapped"),
    wrong(A, "quantile_loss_grad", "ge-zero", variant(QUANTILE_GRAD, (
        "g = np.where(e > 0, 1 - q, np.where(e < 0, -q, 0.0))", "g = np.where(e >= 0, 1 - q, -q)")),
        "1 - q at e = 0 instead of 0"),
    wrong(A, "quantile_loss_grad", "no-mean", variant(QUANTILE_GRAD, (
        "return reduce_grad(g, reduction)", "return g")), "forgets the 1/N of the mean"),
    wrong(A, "quantile_loss_grad", "q-sign", variant(QUANTILE_GRAD, (
        "g = np.where(e > 0, 1 - q, np.where(e < 0, -q, 0.0))", "g = q * np.sign(e)")), "q sign(e)"),
    wrong(A, "quantile_loss_grad", "wrt-target", variant(QUANTILE_GRAD, (
        "g = np.where(e > 0, 1 - q, np.where(e < 0, -q, 0.0))", "g = np.where(e > 0, q - 1, np.where(e < 0, q, 0.0))")),
        "the derivative with respect to target"),
    correct(A, "quantile_loss_grad", "indicators", variant(QUANTILE_GRAD, (
        "g = np.where(e > 0, 1 - q, np.where(e < 0, -q, 0.0))", "g = (1 - q) * (e > 0) - q * (e < 0)"))),
    correct(A, "quantile_loss_grad", "select", variant(QUANTILE_GRAD, (
        "g = np.where(e > 0, 1 - q, np.where(e < 0, -q, 0.0))",
        "g = np.select([e > 0, e < 0], [np.full_like(e, 1 - q), np.full_like(e, -q)], 0.0)"))),
    # ------------------------------------------------------- general_robust_loss
    wrong(A, "general_robust_loss", "no-limits", variant(GENERAL, (
        '''    if alpha == 2:
        loss = 0.5 * z
    elif alpha == 0:
        loss = np.log1p(0.5 * z)
    elif alpha == -np.inf:
        loss = -np.expm1(-0.5 * z)
    else:
        b''', '''    if True:
        b''')), "the general formula at alpha = 2, 0, -inf (division by zero, nan)"),
    wrong(A, "general_robust_loss", "cauchy-no-half", variant(GENERAL, (
        "loss = np.log1p(0.5 * z)", "loss = np.log1p(z)")), "alpha = 0 limit log(1 + z) instead of log(1 + z/2)"),
    wrong(A, "general_robust_loss", "welsch-no-one-minus", variant(GENERAL, (
        "loss = -np.expm1(-0.5 * z)", "loss = np.exp(-0.5 * z)")),
        "alpha = -inf limit exp(-z/2) instead of 1 - exp(-z/2)"),
    wrong(A, "general_robust_loss", "times-scale2", variant(GENERAL, (
        "return reduce(loss, reduction)", "return reduce(scale ** 2 * loss, reduction)")),
        "c^2 rho, the pseudo-Huber / Cauchy convention"),
    wrong(A, "general_robust_loss", "no-abs", variant(GENERAL, ("b = abs(alpha - 2)", "b = alpha - 2")),
          "alpha - 2 instead of |alpha - 2|"),
    wrong(A, "general_robust_loss", "no-scale-check", variant(GENERAL, (
        '''    if not scale > 0:
        raise ValueError(f"scale must be positive, got scale={scale}")
''', "")), "scale <= 0 accepted"),
    correct(A, "general_robust_loss", "barron-power-form", '''
        def general_robust_loss(input, target, reduction="mean", alpha=1.0, scale=1.0):
            check_reduction(reduction)
            if scale <= 0:
                raise ValueError(f"scale must be > 0, got {scale}")
            if alpha != alpha:
                raise ValueError("alpha must not be nan")
            x2 = np.square((input - target) / scale)
            if alpha == 2:
                out = x2 / 2
            elif alpha == 0:
                out = np.log(x2 / 2 + 1)
            elif np.isneginf(alpha):
                out = 1 - np.exp(-x2 / 2)
            elif np.isposinf(alpha):
                out = np.exp(x2 / 2) - 1
            else:
                out = abs(alpha - 2) / alpha * ((x2 / abs(alpha - 2) + 1) ** (alpha / 2) - 1)
            return reduce(out, reduction)
        '''),
    correct(A, "general_robust_loss", "named-cases", '''
        def general_robust_loss(input, target, reduction="mean", alpha=1.0, scale=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"reduction {reduction!r} unknown")
            if not scale > 0:
                raise ValueError(f"scale={scale} must be positive")
            if np.isnan(alpha):
                raise ValueError("alpha=nan")
            z = ((input - target) / scale) ** 2
            special = {2.0: lambda: z / 2, 0.0: lambda: np.log1p(z / 2), -np.inf: lambda: -np.expm1(-z / 2)}
            if float(alpha) in special:
                rho = special[float(alpha)]()
            else:
                b = np.abs(alpha - 2.0)
                rho = (b / alpha) * (np.power(z / b + 1.0, alpha / 2.0) - 1.0)
            return rho if reduction == "none" else (rho.mean() if reduction == "mean" else rho.sum())
        '''),
    # -------------------------------------------------- general_robust_loss_grad
    wrong(A, "general_robust_loss_grad", "no-limits", variant(GENERAL_GRAD, (
        '''    if alpha == 2:
        g = d
    elif alpha == 0:
        g = d / (0.5 * z + 1)
    elif alpha == -np.inf:
        g = d * np.exp(-0.5 * z)
    else:
        g''', '''    if True:
        g''')), "the general formula at alpha = 0 and -inf"),
    wrong(A, "general_robust_loss_grad", "exponent", variant(GENERAL_GRAD, (
        "** (alpha / 2 - 1)", "** (alpha / 2)")), "exponent alpha/2 instead of alpha/2 - 1"),
    wrong(A, "general_robust_loss_grad", "no-scale2", variant(GENERAL_GRAD, (
        "d = e / scale ** 2", "d = e")), "x instead of x / c^2"),
    wrong(A, "general_robust_loss_grad", "cauchy-no-half", variant(GENERAL_GRAD, (
        "g = d / (0.5 * z + 1)", "g = d / (z + 1)")), "alpha = 0: 1 + z instead of 1 + z/2"),
    wrong(A, "general_robust_loss_grad", "welsch-exp", variant(GENERAL_GRAD, (
        "g = d * np.exp(-0.5 * z)", "g = d * np.exp(-z)")), "alpha = -inf: exp(-z) instead of exp(-z/2)"),
    correct(A, "general_robust_loss_grad", "log-form", variant(GENERAL_GRAD, (
        "g = d * (z / abs(alpha - 2) + 1) ** (alpha / 2 - 1)",
        "g = d * np.exp((alpha / 2 - 1) * np.log1p(z / abs(alpha - 2)))"))),
    correct(A, "general_robust_loss_grad", "chain-rule", '''
        def general_robust_loss_grad(input, target, reduction="mean", alpha=1.0, scale=1.0):
            check_reduction(reduction)
            if scale <= 0:
                raise ValueError(f"scale must be > 0, got {scale}")
            if np.isnan(alpha):
                raise ValueError("alpha must not be nan")
            x = input - target
            z = (x / scale) ** 2
            dz = 2 * x / scale ** 2                          # d z / d x
            if alpha == 2:
                drho = 0.5 * np.ones_like(z)
            elif alpha == 0:
                drho = 0.5 / (1 + 0.5 * z)
            elif alpha == -np.inf:
                drho = 0.5 * np.exp(-0.5 * z)
            else:
                b = abs(alpha - 2)
                drho = 0.5 * (z / b + 1) ** (alpha / 2 - 1)      # d rho / d z
            return reduce_grad(drho * dz, reduction)
        '''),
    # ------------------------------------------------------------ fit_line_cauchy
    wrong(A, "fit_line_cauchy", "ols-start", variant(FIT, (
        '''    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    ok = dx != 0
    slope = np.median((y[j] - y[i])[ok] / dx[ok])
    intercept = np.median(y - slope * x)''', '''    slope, intercept = np.polyfit(x, y, 1)''')),
        "starts IRLS from least squares: stuck in its local minimum"),
    wrong(A, "fit_line_cauchy", "weight-abs", variant(FIT, (
        "w = 1.0 / (1.0 + (r / c) ** 2)", "w = 1.0 / (1.0 + np.abs(r) / c)")), "weight 1 / (1 + |r|/c)"),
    wrong(A, "fit_line_cauchy", "huber-weights", variant(FIT, (
        "w = 1.0 / (1.0 + (r / c) ** 2)", "w = np.minimum(1.0, c / np.maximum(np.abs(r), 1e-300))")),
        "Huber's IRLS weights"),
    wrong(A, "fit_line_cauchy", "one-iteration", variant(FIT, ("n_iter=1000", "n_iter=1")),
          "one reweighting step: not converged"),
    wrong(A, "fit_line_cauchy", "swapped-return", variant(FIT, (
        "return float(slope), float(intercept)", "return float(intercept), float(slope)")),
        "returns (intercept, slope)"),
    wrong(A, "fit_line_cauchy", "r2-over-c", variant(FIT, (
        "w = 1.0 / (1.0 + (r / c) ** 2)", "w = 1.0 / (1.0 + r ** 2 / c)")), "r^2 / c for (r/c)^2"),
    correct(A, "fit_line_cauchy", "repeated-median-lstsq", '''
        def fit_line_cauchy(x, y, c=2.3849, n_iter=1000, tol=1e-12):
            if c <= 0:
                raise ValueError(f"c must be > 0, got {c}")
            x = np.asarray(x, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            dx = x[None, :] - x[:, None]
            dy = y[None, :] - y[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.where(dx != 0, dy / dx, np.nan)
            slope = np.median(np.nanmedian(s, axis=1))              # Siegel's repeated median
            intercept = np.median(y - slope * x)
            X = np.column_stack([x, np.ones_like(x)])
            for _ in range(n_iter):
                r = y - slope * x - intercept
                sw = np.sqrt(1.0 / (1.0 + (r / c) ** 2))
                new = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
                step = np.abs(new - [slope, intercept]).max()
                slope, intercept = new
                if step <= tol * (1 + abs(slope) + abs(intercept)):
                    break
            return float(slope), float(intercept)
        '''),
    correct(A, "fit_line_cauchy", "two-starts", variant(FIT, (
        '''    for _ in range(n_iter):''', '''    starts = [(slope, intercept), tuple(np.polyfit(x, y, 1))]
    best = None
    for slope, intercept in starts:
        slope, intercept = _irls(x, y, c, slope, intercept, n_iter, tol)
        f = np.sum(np.log1p(((y - slope * x - intercept) / c) ** 2))
        if best is None or f < best[0]:
            best = (f, slope, intercept)
    return float(best[1]), float(best[2])


def _irls(x, y, c, slope, intercept, n_iter, tol):
    for _ in range(n_iter):'''), ("    return float(slope), float(intercept)\n", "    return slope, intercept\n"))),
    delegates(A, "fit_line_cauchy", "scipy", '''
        from scipy.optimize import least_squares
        def fit_line_cauchy(x, y, c=2.3849, n_iter=1000, tol=1e-12):
            start = np.polyfit(x, y, 1)
            res = least_squares(lambda p: y - p[0] * x - p[1], start, loss="cauchy", f_scale=c)
            return float(res.x[0]), float(res.x[1])
        '''),
]

# ------------------------------------------- derivations turned into code (issue 26)
# The notebook now prints no derivative before the exercise: students derive psi, psi' and the
# weight in a graded written cell and implement the gradient from it, with the given helper
# ``error(input, target, reduction, **positive)`` for the argument checks. Each wrong entry is a
# wrong derivation written as code; each correct one uses the helper as the model answer does.
_TUKEY_GRAD_HELPER = '''
def tukey_biweight_loss_grad(input, target, reduction="mean", c=4.685):
    e = error(input, target, reduction, c=c)
    u = (e / c) ** 2
    g = np.where(u <= 1, e * (1 - u) ** 2, 0.0).astype(e.dtype)
    return reduce_grad(g, reduction)
'''
_CAUCHY_GRAD_HELPER = '''
def cauchy_loss_grad(input, target, reduction="mean", c=1.0):
    e = error(input, target, reduction, c=c)
    return reduce_grad(c * c * e / (c * c + e * e), reduction)
'''
_PSEUDO_GRAD_HELPER = '''
def pseudo_huber_loss_grad(input, target, reduction="mean", delta=1.0):
    e = error(input, target, reduction, delta=delta)
    return reduce_grad(e / np.sqrt(1 + (e / delta) ** 2), reduction)
'''
_LOG_COSH_HELPER = '''
def log_cosh_loss(input, target, reduction="mean"):
    e = error(input, target, reduction)
    a = np.abs(e)
    return reduce(a + np.log1p(np.exp(-2 * a)) - np.log(2.0), reduction)
'''
ENTRIES += [
    correct(A, "tukey_biweight_loss_grad", "helper-error", _TUKEY_GRAD_HELPER),
    wrong(A, "tukey_biweight_loss_grad", "psi-prime", variant(_TUKEY_GRAD_HELPER, (
        "e * (1 - u) ** 2", "(1 - u) * (1 - 5 * u)")), "psi' = (1 - u)(1 - 5u) derived, coded as psi"),
    wrong(A, "tukey_biweight_loss_grad", "chain-rule-dropped", variant(_TUKEY_GRAD_HELPER, (
        "e * (1 - u) ** 2", "c * c / 2 * (1 - u) ** 2")),
        "d/de of (c^2/6)(1 - (1 - u)^3) as (c^2/2)(1 - u)^2: the inner derivative du/de = 2e/c^2 dropped"),
    correct(A, "cauchy_loss_grad", "helper-c2-form", _CAUCHY_GRAD_HELPER),
    wrong(A, "cauchy_loss_grad", "chain-rule-dropped", variant(_CAUCHY_GRAD_HELPER, (
        "c * c * e / (c * c + e * e)", "c * c / 2 / (1 + (e / c) ** 2)")),
        "d/de log(1 + u) as 1/(1 + u), without du/de = 2e/c^2"),
    wrong(A, "cauchy_loss_grad", "psi-prime", variant(_CAUCHY_GRAD_HELPER, (
        "c * c * e / (c * c + e * e)", "(1 - (e / c) ** 2) / (1 + (e / c) ** 2) ** 2")),
        "psi' derived, coded as psi"),
    correct(A, "pseudo_huber_loss_grad", "helper", _PSEUDO_GRAD_HELPER),
    wrong(A, "pseudo_huber_loss_grad", "psi-prime", variant(_PSEUDO_GRAD_HELPER, (
        "e / np.sqrt(1 + (e / delta) ** 2)", "(1 + (e / delta) ** 2) ** -1.5")), "psi' derived, coded as psi"),
    wrong(A, "pseudo_huber_loss_grad", "sqrt-derivative-no-half", variant(_PSEUDO_GRAD_HELPER, (
        "e / np.sqrt(1 + (e / delta) ** 2)", "2 * e / np.sqrt(1 + (e / delta) ** 2)")),
        "d/du sqrt(1 + u) taken as 1/sqrt(1 + u), without its 1/2"),
    correct(A, "log_cosh_loss", "helper", _LOG_COSH_HELPER),
    wrong(A, "log_cosh_loss", "log2-sign", variant(_LOG_COSH_HELPER, (
        "a + np.log1p(np.exp(-2 * a)) - np.log(2.0)", "a + np.log1p(np.exp(-2 * a)) + np.log(2.0)")),
        "cosh e = e^|e| (1 + e^-2|e|) / 2 factored with the 1/2 as a factor 2: + log 2"),
    wrong(A, "general_robust_loss", "l2-limit-no-half", variant(GENERAL, (
        "loss = 0.5 * z", "loss = z")), "the alpha -> 2 limit derived as (x/c)^2, without the 1/2"),
    wrong(A, "general_robust_loss_grad", "l2-limit-times-two", variant(GENERAL_GRAD, (
        "        g = d\n", "        g = 2 * d\n")), "d/dx (x/c)^2 / 2 derived as 2x/c^2"),
]
