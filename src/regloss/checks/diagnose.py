"""Name the likely mistake when a student's value differs from PyTorch's.

Two kinds of evidence:

* a constant ratio between the student's answer and PyTorch's (``N`` is a
  sum for a mean, ``2`` a missing 0.5, ``-1`` a sign, ``delta`` the other
  convention, ...);
* where, element by element, the two disagree (only at ``e = 0``, only on the
  linear branch ``|e| > delta``, ...).

A factor is read only as the mistakes that fit the loss (:data:`FACTOR_HINTS`):
a stray ``0.5`` is a mistake one makes in Huber's ``0.5 * e**2``, never in L1's
``|e|``.
"""

from __future__ import annotations

import numpy as np

from regloss import ROBUST_LOSSES

_SIGN_GRAD = "the sign of the gradient is flipped: e = input - target, and d e / d input = +1"
_SIGN_LOSS = "your loss is the negative of PyTorch's: these losses are never negative"

#: The readings of a constant factor (yours / PyTorch's) that fit each loss, by
#: ``(loss, kind)``, besides the reduction's ``N`` and the parameter's factor. A
#: loss not listed here gets :data:`GENERIC_FACTORS`.
FACTOR_HINTS = {
    ("l1_loss", "loss"): [(-1.0, _SIGN_LOSS)],
    ("l1_loss", "grad"): [(-1.0, _SIGN_GRAD)],
    ("mse_loss", "loss"): [
        (-1.0, _SIGN_LOSS),
        (0.5, "half of PyTorch's value: an extra 0.5? MSE is e**2 (the 0.5 belongs to Huber's quadratic branch)"),
    ],
    ("mse_loss", "grad"): [
        (-1.0, _SIGN_GRAD),
        (0.5, "half of PyTorch's value: a factor 2 missing (d/de e**2 = 2e)"),
    ],
    ("huber_loss", "loss"): [
        (-1.0, _SIGN_LOSS),
        (2.0, "twice PyTorch's value: a missing factor 0.5? (the quadratic branch is 0.5 * e**2)"),
    ],
    ("huber_loss", "grad"): [
        (-1.0, _SIGN_GRAD),
        (2.0, "twice PyTorch's value: d/de 0.5 * e**2 = e, not 2e"),
    ],
    ("smooth_l1_loss", "loss"): [
        (-1.0, _SIGN_LOSS),
        (2.0, "twice PyTorch's value: a missing factor 0.5? (the quadratic branch is 0.5 * e**2 / beta)"),
    ],
    ("smooth_l1_loss", "grad"): [
        (-1.0, _SIGN_GRAD),
        (2.0, "twice PyTorch's value: d/de 0.5 * e**2 / beta = e / beta, not 2e / beta"),
    ],
}

#: For a loss without its own entry in :data:`FACTOR_HINTS`.
GENERIC_FACTORS = {
    "loss": [(-1.0, "the sign of the loss is flipped"),
             (2.0, "twice PyTorch's value: a missing factor 0.5?"),
             (0.5, "half of PyTorch's value: a missing factor 2, or an extra 0.5?")],
    "grad": [(-1.0, _SIGN_GRAD),
             (2.0, "twice PyTorch's value: a missing factor 0.5?"),
             (0.5, "half of PyTorch's value: a factor 2 missing, or an extra 0.5?")],
}


def factor_readings(loss, kind):
    """The ``(factor, hint)`` readings of a constant factor that fit ``loss``.

    Parameters
    ----------
    loss : str or None
        The ``torch.nn.functional`` name, e.g. ``"l1_loss"``; ``None`` for unknown.
    kind : {"loss", "grad"}

    Returns
    -------
    list of (float, str)
        ``student == factor * truth`` reads as ``hint``.
    """
    return list(FACTOR_HINTS.get((loss, kind), GENERIC_FACTORS[kind]))


def _close(a, b, rtol):
    with np.errstate(all="ignore"):
        return np.allclose(a, b, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)


def ratio_hint(student, truth, case, kind, param_name=None, rtol=1e-6, loss=None):
    """A hint from a constant factor between ``student`` and ``truth``.

    Parameters
    ----------
    student, truth : numpy.ndarray, same shape
    case : regloss.checks.cases.Case
    kind : {"loss", "grad"}
    param_name : str or None
        ``"delta"`` or ``"beta"``.
    loss : str or None
        The loss checked (``"l1_loss"``, ...): only the factors that fit it are read
        (:func:`factor_readings`).

    Returns
    -------
    str or None
    """
    n = max(np.asarray(case.input).size, 1)
    if not np.any(np.abs(truth) > 0):
        return None
    p = case.params.get(param_name) if param_name else None
    red = case.reduction
    candidates = []
    if n > 1 and red == "mean":
        if kind == "loss":
            candidates.append((n, "did you sum instead of averaging? reduction='mean' divides by the number of elements"))
        else:
            candidates.append((n, "did you forget the 1/N of the mean? With reduction='mean' every element's "
                                  "derivative is divided by the number of elements"))
    if n > 1 and red == "sum":
        candidates.append((1.0 / n, "did you average? reduction='sum' adds the elements without dividing by N"))
    if kind == "grad" and n > 1 and red == "none":
        candidates.append((1.0 / n, "did you divide by N? reduction='none' has no 1/N"))
    # the parameter's factor first: with delta = 2 it would also read as 'a missing 0.5'
    if p:
        if param_name == "delta":
            candidates += [(1.0 / p, "divided by delta: that is the SmoothL1 convention; Huber = delta * SmoothL1(beta=delta)"),
                           (p, "multiplied by delta once too often?")]
        else:
            candidates += [(p, "multiplied by beta: that is the Huber convention; SmoothL1 = Huber(delta=beta) / beta"),
                           (1.0 / p, "divided by beta once too often?")]
    candidates += factor_readings(loss, kind)
    # several readings can fit the same factor (with N = 2, "1/N" and "half"): give each
    found = [hint for factor, hint in candidates if factor != 1.0 and _close(student, factor * truth, rtol)]
    return "; or ".join(dict.fromkeys(found)) or None


def _offset_hint(diff, p, param_name, rtol):
    """On the linear branch, a constant difference of half the parameter's offset."""
    offset = 0.5 * p * p if param_name == "delta" else 0.5 * p
    written = "0.5*delta**2" if param_name == "delta" else "0.5*beta"
    if _close(diff, offset, rtol):
        return (f": you are {offset:g} too high there, the offset -{written} that makes the linear branch "
                f"meet the quadratic one at |e| = {param_name} is missing")
    if _close(diff, -offset, rtol):
        return f": you are {offset:g} too low there: subtract {written} once, not twice"
    return ""


def _kinked_at_zero(loss, p):
    """Whether the loss has a kink at e = 0 (L1, SmoothL1 with beta = 0); None when unknown."""
    if loss == "l1_loss":
        return True
    if loss == "smooth_l1_loss":
        return p == 0
    if loss in ("mse_loss", "huber_loss"):
        return False
    return None


def location_hint(student, truth, case, kind, param_name=None, rtol=1e-6, loss=None):
    """A hint from where an element-wise answer (``reduction='none'`` or a gradient) is wrong;
    ``loss`` names the loss checked, so that the hint at e = 0 fits it (a subgradient only
    where the loss has a kink)."""
    if np.shape(truth) != np.shape(case.error):  # a reduced (scalar) answer: no element to point at
        return None
    e = np.broadcast_to(np.asarray(case.error, dtype=np.float64), np.shape(truth))
    s = np.asarray(student, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if s.shape != t.shape:
        return None
    with np.errstate(all="ignore"):
        bad = ~np.isclose(s, t, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
    if not bad.any():
        return None
    p = case.params.get(param_name) if param_name else None
    ae = np.abs(e)
    msgs = []
    if np.all(ae[bad] == 0):
        if kind == "grad" and _kinked_at_zero(loss, p) is False:
            msgs.append("wrong only where e = 0: the gradient there is 0 (the loss is smooth at e = 0, "
                        "with no kink)")
        elif kind == "grad":
            msgs.append("wrong only where e = 0: PyTorch's (sub)gradient there is 0 (np.sign(0) is 0; "
                        "a test such as e >= 0 gives 1)")
        else:
            msgs.append("wrong only where e = 0: the loss of a zero error is 0")
        if np.isnan(s[bad]).any():
            msgs.append("you return nan there: a division by zero?")
    elif p is not None and p > 0:
        if np.all(ae[bad] >= p) and np.any(ae[bad] > p):  # the linear branch, perhaps with its boundary
            where = ">=" if np.any(ae[bad] == p) else ">"
            msg = f"wrong only where |e| {where} {param_name} (the linear branch)"
            if kind == "grad" and _close(np.abs(s[bad]), 1.0, rtol) and param_name == "delta" and p != 1:
                msg += ": the slope there is +-delta, not +-1"
            elif kind == "grad" and _close(np.abs(s[bad]), p, rtol) and param_name == "beta" and p != 1:
                msg += ": the slope there is +-1, not +-beta"
            elif kind == "loss":
                msg += _offset_hint(s[bad] - t[bad], p, param_name, rtol)
            if np.all(e[bad] < -p):
                msg += (f"; only negative errors e < -{param_name} are wrong: did you test "
                        f"e < {param_name} instead of |e| < {param_name}?")
            msgs.append(msg)
        elif np.all(ae[bad] <= p) and np.any(ae[bad] < p):
            msgs.append(f"wrong only where |e| < {param_name} (the quadratic branch)")
        elif np.all(ae[bad] == p):
            msgs.append(f"wrong only at the boundary |e| = {param_name}: both branches must agree there")
    elif p == 0 and param_name == "beta":
        if np.isnan(s).any():
            msgs.append("nan with beta = 0: SmoothL1 with beta = 0 is L1 and must not divide by beta")
    if np.isnan(s[bad]).any() and not msgs:
        msgs.append("your answer holds nan where PyTorch's does not")
    return "; ".join(msgs) or None


def hint(student, truth, case, kind, param_name=None, rtol=1e-6, loss=None):
    """The best hint available, or ``None``; ``loss`` names the loss checked."""
    if loss in ROBUST_LOSSES:  # assignment 07's losses have their own readings
        from regloss.checks import diagnose_robust

        return diagnose_robust.hint(student, truth, case, kind, loss, rtol)
    return ratio_hint(student, truth, case, kind, param_name, rtol, loss=loss) or location_hint(
        student, truth, case, kind, param_name, rtol, loss=loss)
