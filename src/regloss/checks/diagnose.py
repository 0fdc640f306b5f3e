"""Name the likely mistake when a student's value differs from PyTorch's.

Two kinds of evidence:

* a constant ratio between the student's answer and PyTorch's (``N`` is a
  sum for a mean, ``2`` a missing 0.5, ``-1`` a sign, ``delta`` the other
  convention, ...);
* where, element by element, the two disagree (only at ``e = 0``, only on the
  linear branch ``|e| > delta``, ...).

A factor is read only as the mistakes that fit the loss (its record's
``value_factors`` and ``grad_factors``, :mod:`regloss.checks.losses`): a stray
``0.5`` is a mistake one makes in Huber's ``0.5 * e**2``, never in L1's ``|e|``.
Every hint names its mistake's stable id (:class:`regloss.checks.mistakes.Hint`),
as a tag at its end.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from regloss.checks.losses import BETA_READINGS, DELTA_READINGS, REGISTRY, Factor, Kind, LossSpec
from regloss.checks.mistakes import Hint, render

_SIGN_GRAD = Hint("flipped-sign", "the sign of the gradient is flipped: e = input - target, and d e / d input = +1")

#: The readings of a constant factor (yours / PyTorch's) for a loss whose record has none of its
#: own (:attr:`regloss.checks.losses.LossSpec.value_factors`), or an unknown loss.
GENERIC_FACTORS: dict[str, list[tuple[float, Hint]]] = {
    "loss": [(-1.0, Hint("flipped-sign", "the sign of the loss is flipped")),
             (2.0, Hint("missing-0.5", "twice PyTorch's value: a missing factor 0.5?")),
             (0.5, Hint("missing-2", "half of PyTorch's value: a missing factor 2, or an extra 0.5?"))],
    "grad": [(-1.0, _SIGN_GRAD),
             (2.0, Hint("missing-0.5", "twice PyTorch's value: a missing factor 0.5?")),
             (0.5, Hint("missing-2", "half of PyTorch's value: a factor 2 missing, or an extra 0.5?"))],
}

#: For a loss not named: the readings of the parameter's own factor, by the parameter's name.
_PARAMETER_READINGS: dict[str, tuple[Factor, ...]] = {"delta": DELTA_READINGS, "beta": BETA_READINGS}


def _spec(loss: str | None) -> LossSpec | None:
    return REGISTRY.get(loss) if isinstance(loss, str) else None


def factor_readings(loss: str | None, kind: Kind, params: dict[str, Any] | None = None) -> list[tuple[float, Hint]]:
    """The ``(factor, hint)`` readings of a constant factor that fit ``loss``.

    Parameters
    ----------
    loss : str or None
        The loss's name, e.g. ``"l1_loss"``; ``None`` (or a loss the registry does not
        know) for the generic readings :data:`GENERIC_FACTORS`.
    kind : {"loss", "grad"}
    params : dict, optional
        The call's parameters (the record's defaults fill in the rest): readings such
        as "divided by delta" have the parameter's factor.

    Returns
    -------
    list of (float, Hint)
        ``student == factor * truth`` reads as ``hint``; the readings that do not apply
        to these parameters (a parameter of 0) are left out.
    """
    spec = _spec(loss)
    own = spec.factors(kind) if spec is not None else None
    if spec is None or own is None:
        return list(GENERIC_FACTORS[kind])
    full = spec.with_defaults(params or {})
    return [(f, r.hint) for r in own if (f := r.at(full)) is not None]


def _close(a, b, rtol):
    with np.errstate(all="ignore"):
        return np.allclose(a, b, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)


def _ratio_hints(student: np.ndarray, truth: np.ndarray, case: Any, kind: Kind, param_name: str | None,
                 rtol: float, loss: str | None) -> list[Hint]:
    n = max(np.asarray(case.input).size, 1)
    if not np.any(np.abs(truth) > 0):
        return []
    red = case.reduction
    candidates: list[tuple[float, Hint]] = []
    if _spec(loss) is not None:
        # the loss's own readings first, the parameter's factor first among them (with delta = 2 it would also
        # read as 'a missing 0.5'). They come before the reductions' readings, which fit the same factor only
        # when N does (N = 2: "1/N" and "a factor 2 missing"): the reductions are the helpers' work, checked
        # by the first exercise of each assignment, so a wrong factor in a later function is likelier its own
        candidates += factor_readings(loss, kind, case.params)
    if n > 1 and red == "mean":
        if kind == "loss":
            candidates.append((n, Hint("sum-for-mean", "did you sum instead of averaging? reduction='mean' divides "
                                                       "by the number of elements")))
        else:
            candidates.append((n, Hint("missing-1/N", "did you forget the 1/N of the mean? With reduction='mean' "
                                                      "every element's derivative is divided by the number of "
                                                      "elements")))
    if n > 1 and red == "sum":
        candidates.append((1.0 / n, Hint("mean-for-sum", "did you average? reduction='sum' adds the elements without "
                                                         "dividing by N")))
    if kind == "grad" and n > 1 and red == "none":
        candidates.append((1.0 / n, Hint("1/N-without-mean", "did you divide by N? reduction='none' has no 1/N")))
    if _spec(loss) is None:
        p = case.params.get(param_name) if param_name else None
        if param_name and p:
            at = {param_name: p}
            candidates += [(f, r.hint) for r in _PARAMETER_READINGS.get(param_name, ()) if (f := r.at(at)) is not None]
        candidates += factor_readings(None, kind)
    # several readings can fit the same factor (with N = 2, "1/N" and "half"): give each
    return [hint for factor, hint in candidates if factor != 1.0 and _close(student, factor * truth, rtol)]


def ratio_hint(student: Any, truth: Any, case: Any, kind: Kind, param_name: str | None = None, rtol: float = 1e-6,
               loss: str | None = None) -> str | None:
    """A hint from a constant factor between ``student`` and ``truth``.

    Parameters
    ----------
    student, truth : numpy.ndarray, same shape
    case : regloss.checks.cases.Case
    kind : {"loss", "grad"}
    param_name : str or None
        ``"delta"`` or ``"beta"``: the parameter whose factor is read when ``loss`` is not given.
    loss : str or None
        The loss checked (``"l1_loss"``, ...): only the factors that fit it are read
        (:func:`factor_readings`).

    Returns
    -------
    str or None
        Every reading that fits, each tagged with its mistake's id, joined by ``"; or "``.
    """
    return render(_ratio_hints(student, truth, case, kind, param_name, rtol, loss), "; or ")


def _offset_hint(diff: np.ndarray, p: float, param_name: str, rtol: float) -> tuple[str, str | None]:
    """On the linear branch, a constant difference of half the parameter's offset: the words,
    and ``"high"`` (the offset missing) or ``"low"`` (subtracted twice)."""
    offset = 0.5 * p * p if param_name == "delta" else 0.5 * p
    written = "0.5*delta**2" if param_name == "delta" else "0.5*beta"
    if _close(diff, offset, rtol):
        return (f": you are {offset:g} too high there, the offset -{written} that makes the linear branch "
                f"meet the quadratic one at |e| = {param_name} is missing"), "high"
    if _close(diff, -offset, rtol):
        return f": you are {offset:g} too low there: subtract {written} once, not twice", "low"
    return "", None


def _linear_branch_hint(e: np.ndarray, s: np.ndarray, t: np.ndarray, bad: np.ndarray, kind: Kind, p: float,
                        param_name: str, rtol: float) -> Hint:
    """An answer wrong only where ``|e| >= p`` (the linear branch, perhaps with its boundary)."""
    where = ">=" if np.any(np.abs(e[bad]) == p) else ">"
    text = f"wrong only where |e| {where} {param_name} (the linear branch)"
    slope_delta = kind == "grad" and _close(np.abs(s[bad]), 1.0, rtol) and param_name == "delta" and p != 1
    slope_beta = (not slope_delta and kind == "grad" and _close(np.abs(s[bad]), p, rtol) and param_name == "beta"
                  and p != 1)
    offset = None
    if slope_delta:
        text += ": the slope there is +-1 whatever delta is: did delta get lost when you differentiated that branch?"
    elif slope_beta:
        text += (": the slope there is +-beta: did beta get into the derivative of that branch (the Huber "
                 "convention's factor)?")
    elif kind == "loss":
        more, offset = _offset_hint(s[bad] - t[bad], p, param_name, rtol)
        text += more
    if np.all(e[bad] < -p):  # the likelier cause of all the above
        return Hint("branch-on-e-not-|e|", text + f"; only negative errors e < -{param_name} are wrong: did you "
                                                  f"test e < {param_name} instead of |e| < {param_name}?")
    if slope_delta:
        return Hint("linear-slope-1", text)
    if slope_beta:
        return Hint("linear-slope-beta", text)
    if offset == "high":
        return Hint("missing-offset", text)
    if offset == "low":
        return Hint("double-offset", text)
    return Hint("linear-branch", text)


def _kink_reading(student_at_zero: np.ndarray) -> str:
    """What a gradient at the kink e = 0 of an L1-like loss is: a subgradient other than PyTorch's, or none."""
    if np.all(np.abs(student_at_zero) <= 1):
        return ("your value there is a subgradient (the slope of a line through the kink that stays under the "
                "loss), but not the one PyTorch returns at a kink")
    return "your value there is not a subgradient at all (no line of that slope through the kink stays under the loss)"


def _quadratic_branch_hint(s: np.ndarray, t: np.ndarray, bad: np.ndarray, case: Any, kind: Kind, param_name: str,
                           rtol: float, loss: str | None) -> Hint:
    """An answer wrong only where ``|e| < p`` (the quadratic branch): by a factor the loss's records read there
    (Huber's 0.5 * e**2 written e**2), or otherwise."""
    where = f"wrong only where |e| < {param_name} (the quadratic branch)"
    spec = _spec(loss)
    own = spec.factors(kind) if spec is not None else None
    nonzero = bad & (t != 0)
    if own and np.any(nonzero):
        with np.errstate(all="ignore"):
            ratio = s[nonzero] / t[nonzero]
        full = spec.with_defaults(case.params) if spec is not None else {}
        # the constant readings (a lost 0.5) before the parameter's (delta once too often): with delta = 2 both fit
        for reading in sorted(own, key=lambda r: callable(r.factor)):
            factor = reading.at(full)
            if factor is not None and factor not in (1.0, -1.0) and _close(ratio, factor, rtol):
                # the record's own hint (its literal id), placed on the branch
                return replace(reading.hint, text=f"{where}, and there by a constant factor: {reading.hint.text}")
    return Hint("quadratic-branch", where)


def _disagreement(student: Any, truth: Any, case: Any, rtol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                np.ndarray] | None:
    """``(e, student, truth, bad)`` as float64 arrays of the answer's shape, or ``None`` when the
    answer is not element-wise (a reduced scalar, a wrong shape) or not wrong anywhere."""
    if np.shape(truth) != np.shape(case.error) or np.shape(student) != np.shape(truth):
        return None
    e = np.broadcast_to(np.asarray(case.error, dtype=np.float64), np.shape(truth))
    s = np.asarray(student, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(s, t, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
    if not bad.any():
        return None
    return e, s, t, bad


def _location_hints(student: Any, truth: Any, case: Any, kind: Kind, param_name: str | None, rtol: float,
                    loss: str | None) -> list[Hint]:
    found = _disagreement(student, truth, case, rtol)
    if found is None:
        return []
    e, s, t, bad = found
    p = case.params.get(param_name) if param_name else None
    spec = _spec(loss)
    kinked = spec.kinked(case.params) if spec is not None else None
    ae = np.abs(e)
    hints = []
    if np.all(ae[bad] == 0):
        nan = "; you return nan there: a division by zero?" if np.isnan(s[bad]).any() else ""
        if kind == "grad" and kinked is False:
            hints.append(Hint("sign(0)", "wrong only where e = 0: the loss is smooth there, with no kink, so its "
                                         "derivative at 0 is the limit of its slope from either side" + nan))
        elif kind == "grad":
            hints.append(Hint("sign(0)", "wrong only where e = 0, where the loss has a kink and no derivative: "
                              + _kink_reading(s[bad]) + nan))
        else:
            hints.append(Hint("loss-at-zero", "wrong only where e = 0: the loss of a zero error is 0" + nan))
    elif p is not None and p > 0:
        if np.all(ae[bad] >= p) and np.any(ae[bad] > p):
            hints.append(_linear_branch_hint(e, s, t, bad, kind, p, str(param_name), rtol))
        elif np.all(ae[bad] <= p) and np.any(ae[bad] < p):
            hints.append(_quadratic_branch_hint(s, t, bad, case, kind, str(param_name), rtol, loss))
        elif np.all(ae[bad] == p):
            hints.append(Hint("boundary", f"wrong only at the boundary |e| = {param_name}: both branches must "
                                          "agree there"))
    elif p == 0 and param_name == "beta" and np.isnan(s).any():
        hints.append(Hint("beta-zero-division", "nan with beta = 0: SmoothL1 with beta = 0 is L1 and must not "
                                                    "divide by beta"))
    if np.isnan(s[bad]).any() and not hints:
        hints.append(Hint("nan", "your answer holds nan where PyTorch's does not"))
    return hints


def location_hint(student: Any, truth: Any, case: Any, kind: Kind, param_name: str | None = None, rtol: float = 1e-6,
                  loss: str | None = None) -> str | None:
    """A hint from where an element-wise answer (``reduction='none'`` or a gradient) is wrong,
    read by the branches of a piecewise loss around ``param_name`` (``|e| < delta`` the
    quadratic branch, ``|e| > delta`` the linear one); ``loss`` names the loss checked, so
    that the hint at e = 0 fits it (a subgradient only where its record has a kink).

    Returns
    -------
    str or None
        The hint, tagged with its mistake's id.
    """
    return render(_location_hints(student, truth, case, kind, param_name, rtol, loss))


def _where_hints(student: Any, truth: Any, case: Any, kind: Kind, param_name: str | None, rtol: float,
                 loss: str | None) -> list[Hint]:
    """Where the answer is wrong, read as the loss's record says (its ``diagnosis``)."""
    spec = _spec(loss)
    if spec is not None and spec.diagnosis == "robust":
        from regloss.checks import diagnose_robust

        return diagnose_robust.location_hints(student, truth, case, kind, spec, rtol)
    return _location_hints(student, truth, case, kind, param_name, rtol, loss)


def hints(student: Any, truth: Any, case: Any, kind: Kind, param_name: str | None = None, rtol: float = 1e-6,
          loss: str | None = None) -> list[Hint]:
    """Every hint available for one wrong answer, each a :class:`~regloss.checks.mistakes.Hint`.

    The readings of a constant factor that fit (:func:`ratio_hint`), else where the
    answer is wrong, as the loss's record says to read it (its ``diagnosis``: the
    branches of :func:`location_hint`, or :func:`regloss.checks.diagnose_robust.location_hint`).

    Parameters
    ----------
    student, truth : numpy.ndarray, same shape
    case : regloss.checks.cases.Case
    kind : {"loss", "grad"}
    param_name : str or None
        The loss's main parameter (``"delta"``, ``"beta"``, ...).
    rtol : float
    loss : str or None
        The loss checked.

    Returns
    -------
    list of Hint
        Empty when nothing is recognised.
    """
    return _ratio_hints(student, truth, case, kind, param_name, rtol, loss) or _where_hints(
        student, truth, case, kind, param_name, rtol, loss)


def hint(student: Any, truth: Any, case: Any, kind: Kind, param_name: str | None = None, rtol: float = 1e-6,
         loss: str | None = None) -> str | None:
    """The best hint available (:func:`hints`), as the student reads it, or ``None``; ``loss`` names the loss checked.

    Returns
    -------
    str or None
        The readings of a factor joined by ``"; or "``, else where the answer is wrong;
        each tagged with its mistake's id (``"... [mistake: sum-for-mean]"``).
    """
    return ratio_hint(student, truth, case, kind, param_name, rtol, loss=loss) or render(
        _where_hints(student, truth, case, kind, param_name, rtol, loss))
