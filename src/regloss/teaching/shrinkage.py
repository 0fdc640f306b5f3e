"""A deliberately biased line fit, for Monte Carlo studies whose error measure must count bias.

:func:`shrunk_fit` wraps any batched line fit (``fit(x, Y) -> (slopes,
intercepts)``, like the functions of an assignment's ``fits.py``) and shrinks
its slopes towards 0. Its slopes vary less than the fit's own but are off on
average: a root-mean-square error around the *true* slope charges it for the
bias, a standard deviation of the slopes does not. Being a module-level
function, ``functools.partial(shrunk_fit, fit=fit_ols, factor=0.8)`` can be
passed by name to a student's function that the grader runs in another process.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["shrunk_fit"]


def shrunk_fit(x, Y, fit, factor=0.8):
    """The slopes of ``fit(x, Y)`` times ``factor``; its intercepts unchanged.

    .. math:: \\hat a_r^{\\text{shrunk}} = c\\,\\hat a_r, \\qquad \\hat b_r^{\\text{shrunk}} = \\hat b_r

    so :math:`E[\\hat a^{\\text{shrunk}}] - a = (c - 1)\\,a` when ``fit`` is unbiased.

    Parameters
    ----------
    x : numpy.ndarray, shape ``(n,)`` or ``(R, n)``
    Y : numpy.ndarray, shape ``(R, n)``
        One data set per row.
    fit : callable
        ``fit(x, Y) -> (slopes, intercepts)``, each of shape ``(R,)``.
    factor : float
        The shrinkage c (finite; 1 gives ``fit`` back).

    Returns
    -------
    slopes, intercepts : numpy.ndarray of float64, shape ``(R,)``
    """
    if not callable(fit):
        raise TypeError(f"fit must be a function fit(x, Y) -> (slopes, intercepts), not {type(fit).__name__}")
    if not (isinstance(factor, (int, float, np.integer, np.floating)) and math.isfinite(factor)):
        raise ValueError(f"factor must be a finite number, got {factor!r}")
    slopes, intercepts = fit(x, Y)
    return float(factor) * np.asarray(slopes, dtype=float), np.asarray(intercepts, dtype=float)
