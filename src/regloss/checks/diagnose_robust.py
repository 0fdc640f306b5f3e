"""Where an answer is wrong, for the losses whose record reads it the ``"robust"`` way.

:func:`regloss.checks.diagnose.hint` hands these losses (assignment 07's, and any
loss whose :class:`~regloss.checks.losses.LossSpec` has ``diagnosis="robust"``)
here once no constant factor explains the answer. Unlike the piecewise core losses,
they have no quadratic and linear branches to point at; the evidence is: wrong only
at ``e = 0``; then the loss's own reading (its record's ``where``: only beyond ``|e|
> c`` in Tukey, only where ``e > 0`` in the quantile loss, only at large ``|e|``
where ``cosh`` overflows, only at Barron's special alphas, only for tiny ``|e|``
where a formula cancels, ...); else nan or inf where PyTorch has a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regloss.checks.losses import Disagreement, Kind, LossSpec
from regloss.checks.mistakes import Hint, render


def location_hints(student: Any, truth: Any, case: Any, kind: Kind, spec: LossSpec,
                   rtol: float = 1e-6) -> list[Hint]:
    """The hints from where an element-wise answer is wrong, for the loss of record ``spec``.

    Parameters
    ----------
    student, truth : numpy.ndarray, same shape ``(...)``
    case : regloss.checks.cases.Case
    kind : {"loss", "grad"}
    spec : LossSpec
    rtol : float

    Returns
    -------
    list of Hint
        At most one; empty for a reduced (scalar) answer or nothing recognised.
    """
    if np.shape(truth) != np.shape(case.error) or np.shape(student) != np.shape(truth):
        return []
    e = np.broadcast_to(np.asarray(case.error, dtype=np.float64), np.shape(truth))
    s = np.asarray(student, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(s, t, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
    if not bad.any():
        return []
    if np.all(np.abs(e[bad]) == 0):
        if kind == "grad":
            text = "wrong only where e = 0: the gradient there is 0"
            return [Hint("sign(0)", text + (f"; {spec.kink_note}" if spec.kink_note else ""))]
        return [Hint("loss-at-zero", "wrong only where e = 0: the loss of a zero error is 0")]
    if spec.where is not None:
        own = spec.where(Disagreement(e, s, bad, kind, spec.with_defaults(case.params)))
        if own is not None:
            return [own]
    if (~np.isfinite(s[bad])).any():
        return [Hint("nan", "your answer holds nan or inf where the course's torch expression does not")]
    return []


def location_hint(student: Any, truth: Any, case: Any, kind: Kind, spec: LossSpec, rtol: float = 1e-6) -> str | None:
    """:func:`location_hints` as the student reads it (tagged with the mistake's id), or ``None``."""
    return render(location_hints(student, truth, case, kind, spec, rtol))
