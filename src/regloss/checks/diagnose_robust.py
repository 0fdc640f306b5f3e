"""Hints for the robust losses of assignment 07 (:data:`regloss.ROBUST_LOSSES`).

:func:`regloss.checks.diagnose.hint` hands these losses here. Two kinds of
evidence, as for the core losses: a constant factor that fits a mistake made
in *this* loss (a missing ``c**2 / 2`` in Cauchy, a missing ``delta**2`` in
pseudo-Huber, ...), and where, element by element, the answer is wrong (only
beyond ``|e| > c`` in Tukey, only where ``e > 0`` in the quantile loss, only at
large ``|e|`` where ``cosh`` overflows, only at Barron's special alphas, ...).
"""

from __future__ import annotations

import numpy as np

_SIGN_GRAD = "the sign of the gradient is flipped: e = input - target, and d e / d input = +1"


def _close(a, b, rtol):
    with np.errstate(all="ignore"):
        return np.allclose(a, b, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)


def factor_readings(loss, kind, params):
    """``(factor, hint)`` pairs: ``student == factor * truth`` reads as ``hint``.

    Parameters
    ----------
    loss : str
        One of :data:`regloss.ROBUST_LOSSES`.
    kind : {"loss", "grad"}
    params : dict
        The call's parameters (``delta``, ``c``, ``q``, ``alpha``, ``scale``).

    Returns
    -------
    list of (float, str)
    """
    out = [(-1.0, _SIGN_GRAD if kind == "grad" else "your loss is the negative of PyTorch's: it is never negative")]
    if loss == "log_cosh_loss":
        out.append((2.0, "twice PyTorch's value: log(cosh(e)), not 2 log(cosh(e)) (log cosh e ~ e**2 / 2 near 0)"))
    elif loss == "pseudo_huber_loss":
        d = params.get("delta", 1.0)
        out.append((1.0 / d**2, "missing the factor delta**2: pseudo-Huber is delta**2 (sqrt(1 + (e/delta)**2) - 1), "
                                "so that it is e**2 / 2 near 0 and delta |e| far out"))
        out.append((1.0 / d, "divided by delta once too often: the slope far out is +-delta"))
    elif loss == "cauchy_loss":
        c = params.get("c", 1.0)
        out.append((2.0 / c**2, "missing the factor c**2 / 2: the Cauchy loss is (c**2 / 2) log(1 + (e/c)**2)"))
        out.append((1.0 / c**2, "missing the factor c**2 (and have you the 1/2?): (c**2 / 2) log(1 + (e/c)**2)"))
        out.append((2.0, "twice PyTorch's value: the factor is c**2 / 2, not c**2 (SciPy's cost has the 0.5)"))
    elif loss == "tukey_biweight_loss":
        c = params.get("c", 4.685)
        out.append((6.0 / c**2, "missing the factor c**2 / 6: Tukey's loss is (c**2 / 6)(1 - (1 - (e/c)**2)**3)"))
        out.append((2.0, "twice PyTorch's value: the factor is c**2 / 6, not c**2 / 3"))
    elif loss == "quantile_loss":
        out.append((2.0, "twice PyTorch's value: q max(-e, 0) + (1 - q) max(e, 0), no factor 2"))
    elif loss == "general_robust_loss":
        s = params.get("scale", 1.0)
        out.append((s**2, "multiplied by scale**2: Barron's rho(x, alpha, c) has no c**2 in front"))
        out.append((1.0 / s**2, "divided by scale**2 once too often"))
        out.append((2.0, "twice PyTorch's value: at alpha = 2 rho is (x/c)**2 / 2"))
    return [(f, h) for f, h in out if f != 1.0]


def location_hint(student, truth, case, kind, loss, rtol=1e-6):
    """A hint from where an element-wise answer is wrong, for a robust loss."""
    if np.shape(truth) != np.shape(case.error) or np.shape(student) != np.shape(truth):
        return None
    e = np.broadcast_to(np.asarray(case.error, dtype=np.float64), np.shape(truth))
    s = np.asarray(student, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(s, t, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
    if not bad.any():
        return None
    ae = np.abs(e)
    p = case.params
    msgs = []
    nonfinite = ~np.isfinite(s[bad])
    if np.all(ae[bad] == 0):
        msgs.append("wrong only where e = 0: the gradient there is 0" if kind == "grad"
                    else "wrong only where e = 0: the loss of a zero error is 0")
        if loss == "quantile_loss" and kind == "grad":
            msgs.append("the contract takes 0 at the kink e = 0 (a test such as e >= 0 gives 1 - q)")
    elif loss == "log_cosh_loss" and nonfinite.any():
        msgs.append("inf or nan at large |e|: cosh(e) overflows (float64 near |e| = 710, float32 near 89); "
                    "write log cosh e = |e| + log1p(exp(-2|e|)) - log 2")
    elif loss == "tukey_biweight_loss" and np.all(ae[bad] > p.get("c", 4.685)):
        c = p.get("c", 4.685)
        msgs.append(f"wrong only where |e| > c = {c:g}: beyond c Tukey's loss is the constant c**2 / 6 "
                    "and its gradient 0 (the polynomial must not be continued)")
    elif loss == "quantile_loss" and (np.all(e[bad] > 0) or np.all(e[bad] < 0)):
        side = "e > 0 (input above target)" if np.all(e[bad] > 0) else "e < 0 (input below target)"
        q = p.get("q", 0.5)
        msgs.append(f"wrong only where {side}: with e = input - target, input above target costs (1 - q) e and "
                    f"input below costs q (-e); here q = {q:g}. Are q and 1 - q swapped?")
    elif loss == "general_robust_loss" and nonfinite.any():
        a = p.get("alpha", 1.0)
        msgs.append(f"nan or inf with alpha = {a:g}: at alpha = 2, 0 and -inf the general formula divides by "
                    "zero or becomes 0 * inf; use its limits (x/c)**2 / 2, log(1 + (x/c)**2 / 2), "
                    "1 - exp(-(x/c)**2 / 2)")
    elif loss in ("pseudo_huber_loss", "cauchy_loss", "general_robust_loss") and np.all(ae[bad] < 1e-2) \
            and kind == "loss":
        msgs.append("wrong only for tiny |e|: a cancellation (sqrt(1 + u) - 1, or x**a - 1, for u near 0)? "
                    "Rewrite it without subtracting nearly equal numbers (e.g. u / (sqrt(1 + u) + 1), expm1, log1p)")
    if nonfinite.any() and not msgs:
        msgs.append("your answer holds nan or inf where PyTorch's does not")
    return "; ".join(msgs) or None


def ratio_hint(student, truth, case, kind, loss, rtol=1e-6):
    """A hint from a constant factor that fits a mistake in ``loss``, or the reduction's N."""
    n = max(np.asarray(case.input).size, 1)
    if not np.any(np.abs(truth) > 0):
        return None
    cands = []
    if n > 1 and case.reduction == "mean":
        cands.append((n, "did you sum instead of averaging? reduction='mean' divides by the number of elements"
                      if kind == "loss" else "did you forget the 1/N of the mean? With reduction='mean' every "
                      "element's derivative is divided by the number of elements"))
    if n > 1 and case.reduction == "sum":
        cands.append((1.0 / n, "did you average? reduction='sum' adds the elements without dividing by N"))
    if kind == "grad" and n > 1 and case.reduction == "none":
        cands.append((1.0 / n, "did you divide by N? reduction='none' has no 1/N"))
    cands += factor_readings(loss, kind, case.params)
    found = [h for f, h in cands if _close(student, f * truth, rtol)]
    return "; or ".join(dict.fromkeys(found)) or None


def hint(student, truth, case, kind, loss, rtol=1e-6):
    """The best hint for a robust loss, or ``None``."""
    return ratio_hint(student, truth, case, kind, loss, rtol) or location_hint(student, truth, case, kind, loss, rtol)
