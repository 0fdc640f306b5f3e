"""IRLS weights checked against PyTorch's psi, and the wrong derivations named (assignment 05).

An iteratively reweighted least-squares fit weighs each residual by w(r) = psi(r) / r, where
psi is the derivative of the loss (for Huber, PyTorch's ``huber_loss`` gradient). A weight
function is right when ``w(r) * r == psi(r)`` at every residual and ``w(0)`` is the limit of
psi(r) / r (``psi'(0)``, 1 for Huber). :func:`check_huber_weight` checks exactly that, and
when it fails reads the student's numbers for the derivation that went wrong: the weight
upside down, the quadratic zone forgotten, psi' taken for psi / r, psi divided by r twice,
the loss rather than its derivative divided by r, SmoothL1's weight, the square root of the
weight, a signed weight, or 0 at r = 0. A hint names the mistake; it never gives the formula.
"""

from __future__ import annotations

import numpy as np

from regloss.checks.compare import quiet
from regloss.checks.mistakes import Hint
from regloss.checks.reference import torch_grad

#: Residuals every check adds to the caller's (in units of delta): both sides of the threshold,
#: the threshold itself, far out, and 0.
PROBES = np.array([-8.0, -3.0, -1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 2.0, 4.0, 16.0])
RTOL, ATOL = 1e-12, 1e-15


def _close(a, b):
    return np.isclose(a, b, rtol=1e-9, atol=1e-12)


def _diagnose(r: np.ndarray, w: np.ndarray, truth: np.ndarray, delta: float) -> Hint | None:
    """The wrong derivation the weights ``w`` at residuals ``r`` show, or None."""
    a = np.abs(r)
    inside, beyond, zero = (a < delta) & (a > 0), a > delta, a == 0
    if (r < 0).any() and (w[r < 0] < 0).any() and _close(np.abs(w), truth).all():
        return Hint("weight-signed", "negative weights for negative residuals: psi(r) and r have the same sign, "
                                     "so the weight psi(r)/r is the same for r and -r")
    if (r < 0).any() and _close(w[r > 0], truth[r > 0]).all() and not _close(w[r < 0], truth[r < 0]).all():
        return Hint("weight-signed", "right for r > 0 but not for r < 0: the weight psi(r)/r is the same for r "
                                     "and -r")
    if zero.any() and _close(w[~zero], truth[~zero]).all():
        return Hint("weight-at-zero", f"right everywhere but at r = 0, where you give {w[zero][0]:.6g}: psi(r)/r is "
                                      "0/0 there; the weight at 0 is its limit as r goes to 0")
    if _close(w[inside], 1.0).all() and beyond.any() and _close(w[beyond], 0.0).all():
        return Hint("weight-is-psi-prime", "0 beyond the threshold: that is psi'(r), the slope of psi; the weight "
                                           "psi(r)/r is the slope of the line from 0 to psi(r), which for Huber "
                                           "never reaches 0")
    if beyond.any() and _close(w[beyond], truth[beyond]).all() and inside.any() and (w[inside] > 1 + 1e-9).any():
        return Hint("weight-no-quadratic-zone", "weights above 1 inside |r| < delta: there Huber is the quadratic "
                                                "branch; what is psi(r)/r on it?")
    by_size = w[~zero][np.argsort(a[~zero])]
    if by_size.size >= 2 and np.all(np.diff(by_size) >= -1e-12) and by_size[-1] > by_size[0] + 1e-9:
        return Hint("weight-inverted", "your weight grows with |r|, so the largest residuals count most: the "
                                       "ratio is upside down")
    ratio = w[~zero] / truth[~zero]
    if np.isfinite(ratio).all() and _close(ratio, ratio[0]).all() and not _close(ratio[0], 1.0):
        if _close(ratio[0], 1.0 / delta):
            return Hint("smoothl1-convention", "every weight is 1/delta times Huber's: that is SmoothL1's weight "
                                              "(its psi is Huber's divided by beta)")
        return Hint("weight-factor", f"every weight is {ratio[0]:.6g} times psi(r)/r: a constant factor in your "
                                     "derivation")
    if (w >= 0).all() and _close(w, np.sqrt(truth)).all():
        return Hint("weight-square-root", "your weights are the square roots of psi(r)/r: the square root scales "
                                          "the rows of a weighted least-squares problem, the weight itself does not")
    if inside.any() and _close(w[inside], 0.5).all():
        return Hint("weight-from-rho", "0.5 inside the threshold: rho(r)/r**2, the loss divided by r twice? The "
                                       "weight comes from psi, the loss's derivative")
    far = a > 2 * delta
    pull = (w[far] * a[far])[np.argsort(a[far])]  # |psi| as the weight gives it far out, by |r|
    if pull.size >= 2 and np.all(np.diff(pull) < 0):
        return Hint("weight-divides-twice", "beyond the threshold w(r)*|r| falls as |r| grows, but psi(r) is "
                                            "constant there: divided by r once too often?")
    return None


def check_huber_weight(fn, r=(), delta: float = 1.345):
    """Check a student's Huber IRLS weight ``fn(r, delta=delta)`` at the residuals ``r`` and at
    :data:`PROBES` times ``delta``: ``w(r) * r`` must be PyTorch's Huber psi and ``w(0)`` its limit
    (1). Raises ``AssertionError`` naming the first residuals where it is not, and the likely
    mistake. Returns the number of residuals checked."""
    r = np.concatenate([np.ravel(np.asarray(r, dtype=np.float64)), PROBES * delta])
    label = f"huber_weight(r, delta={delta})"
    with quiet():
        got = fn(r.copy(), delta=delta)
    if got is None:
        raise AssertionError(f"{label} returned None: {Hint('no-return', 'did you forget `return`?')}")
    w = np.asarray(got, dtype=np.float64)
    if w.shape != r.shape:
        raise AssertionError(f"{label} returned shape {w.shape} for {r.shape} residuals: "
                             f"{Hint('wrong-shape', 'one weight per residual')}")
    psi = torch_grad("huber_loss", r, np.zeros_like(r), reduction="none", delta=delta)
    truth = np.ones_like(r)
    nz = r != 0
    truth[nz] = psi[nz] / r[nz]
    with np.errstate(all="ignore"):
        bad = ~(np.isclose(w * r, psi, rtol=RTOL, atol=ATOL) & np.isfinite(w)) | (~nz & ~np.isclose(w, 1.0))
    if not bad.any():
        return r.size
    hint = _diagnose(r, w, truth, delta)
    shown = np.flatnonzero(bad)[:4]
    where = ", ".join(f"r = {r[i]:.6g}: w = {w[i]:.6g}, w*r = {w[i] * r[i]:.6g} (psi = {psi[i]:.6g})" for i in shown)
    raise AssertionError(f"{label}: w(r)*r should be PyTorch's Huber psi(r), and w(0) its limit; at {where}"
                         + (f"; {hint}" if hint else "; compare your weight with your derivation on each side of "
                                                     "the threshold and at r = 0"))
