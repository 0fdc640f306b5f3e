"""SciPy references for the robust line fits of assignment 07.

The Cauchy fit is checked against :func:`scipy.optimize.least_squares` with
``loss="cauchy"``: SciPy minimises ``0.5 * sum(f_scale**2 * log1p((r / f_scale)**2))``
over the residuals ``r = y - slope * x - intercept``, which is
``sum(cauchy_loss(r; c))`` with ``c = f_scale`` and
``cauchy_loss(e; c) = (c**2 / 2) log(1 + (e / c)**2)``.
"""

from __future__ import annotations

import numpy as np


def cauchy_objective(x, y, slope, intercept, c=2.3849):
    """The Cauchy objective of a line.

    .. math:: F(a, b) = \\sum_i \\frac{c^2}{2} \\log\\Bigl(1 + \\bigl(\\tfrac{y_i - a x_i - b}{c}\\bigr)^2\\Bigr)

    Parameters
    ----------
    x, y : array_like, shape ``(n,)``
    slope, intercept : float
    c : float, > 0

    Returns
    -------
    float
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    r = y - slope * x - intercept
    return float(np.sum(0.5 * c * c * np.log1p((r / c) ** 2)))


def cauchy_objective_grad(x, y, slope, intercept, c=2.3849):
    """Gradient of :func:`cauchy_objective` with respect to ``(slope, intercept)``.

    With ``psi(r) = r / (1 + (r/c)^2)``: ``dF/da = -sum(psi(r_i) x_i)``,
    ``dF/db = -sum(psi(r_i))``.

    Returns
    -------
    numpy.ndarray, shape ``(2,)``
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    r = y - slope * x - intercept
    psi = r / (1.0 + (r / c) ** 2)
    return np.array([-np.sum(psi * x), -np.sum(psi)])


def scipy_cauchy_line(x, y, c=2.3849, start=None):
    """The Cauchy line fit of :func:`scipy.optimize.least_squares`.

    ``least_squares(residuals, start, loss="cauchy", f_scale=c)`` with tight
    tolerances, in centred ``x`` (for an accurate stop), started from the
    least-squares line unless ``start = (slope, intercept)`` is given.

    Parameters
    ----------
    x, y : array_like, shape ``(n,)``
    c : float, > 0
    start : tuple of float, optional

    Returns
    -------
    tuple of float
        ``(slope, intercept)``.
    """
    from scipy.optimize import least_squares

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    m = x.mean()
    if start is None:
        a0, b0 = np.polyfit(x, y, 1)
    else:
        a0, b0 = start
    res = least_squares(lambda p: y - p[0] * (x - m) - p[1], np.array([a0, b0 + a0 * m]), loss="cauchy",
                        f_scale=c, xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=10000)
    a, bc = res.x
    return float(a), float(bc - a * m)
