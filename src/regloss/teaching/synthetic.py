"""Synthetic straight-line data with outliers, from an explicit random generator.

:func:`line_with_outliers` draws ``y = intercept + slope * x + noise`` and then
spoils a chosen fraction of the points (vertical outliers: a gross error in
``y`` at an ordinary ``x``) and, optionally, adds leverage points (outlying in
``x`` as well as off the line). Every draw comes from the
``numpy.random.Generator`` passed in; nothing is seeded globally.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LineData", "line_with_outliers"]


@dataclass(frozen=True)
class LineData:
    """Points for a straight-line fit, and the truth they were drawn from.

    Attributes
    ----------
    x, y : numpy.ndarray, shape ``(n,)``
    is_outlier : numpy.ndarray of bool, shape ``(n,)``
        The vertical outliers (their ``y`` replaced by a gross error).
    is_leverage : numpy.ndarray of bool, shape ``(n,)``
        The leverage points (appended after the ordinary points).
    slope, intercept : float
        The true line.
    """

    x: np.ndarray
    y: np.ndarray
    is_outlier: np.ndarray
    is_leverage: np.ndarray
    slope: float
    intercept: float

    @property
    def n(self):
        """The number of points, leverage points included."""
        return int(self.x.size)

    @property
    def is_clean(self):
        """The points drawn from the line (neither outlier nor leverage point)."""
        return ~(self.is_outlier | self.is_leverage)


def line_with_outliers(rng, n=60, slope=2.0, intercept=1.0, noise=1.0, x_range=(0.0, 10.0),
                       outlier_fraction=0.0, outlier_level=None, outlier_spread=None,
                       n_leverage=0, leverage_x=None, leverage_y=None):
    """Draw a line with Gaussian noise, vertical outliers and leverage points.

    The model, for ``n`` ordinary points::

        x_i ~ Uniform(x_range)
        y_i = intercept + slope * x_i + noise * N(0, 1)

    then ``round(outlier_fraction * n)`` of them, chosen at random, become
    vertical outliers: ``y_i = outlier_level + outlier_spread * N(0, 1)``, a
    gross error that does not follow the line (a stuck or mis-recorded reading).
    Finally ``n_leverage`` leverage points are appended at
    ``x = leverage_x + 0.1 * noise * N(0, 1)``, ``y = leverage_y + noise * N(0, 1)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of every random draw.
    n : int
        Number of ordinary points (outliers included, leverage points not).
    slope, intercept, noise : float
        The true line and the standard deviation of the Gaussian noise.
    x_range : (float, float)
        ``x`` of the ordinary points is uniform on this interval.
    outlier_fraction : float in [0, 1]
        Fraction of the ``n`` ordinary points turned into vertical outliers.
    outlier_level : float, optional
        Centre of the outliers' ``y``. Default: the top of the true line over
        ``x_range`` plus ``15 * noise`` (all outliers lie above the line).
    outlier_spread : float, optional
        Standard deviation of the outliers' ``y`` around ``outlier_level``;
        default ``2 * noise``.
    n_leverage : int
        Number of leverage points appended.
    leverage_x : float, optional
        Their ``x``; default ``x_range[1] + 10 * (x_range[1] - x_range[0])``.
    leverage_y : float, optional
        Their ``y``; default the true line at ``x_range[0]`` (far below the line
        at ``leverage_x`` when ``slope > 0``).

    Returns
    -------
    LineData
        ``x``, ``y``, ``is_outlier`` and ``is_leverage`` of shape ``(n + n_leverage,)``.

    Examples
    --------
    >>> d = line_with_outliers(np.random.default_rng(0), n=50, outlier_fraction=0.2)
    >>> int(d.is_outlier.sum()), d.n
    (10, 50)
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if not 0.0 <= outlier_fraction <= 1.0:
        raise ValueError(f"outlier_fraction must lie in [0, 1], got {outlier_fraction}")
    if n < 1 or n_leverage < 0:
        raise ValueError(f"need n >= 1 and n_leverage >= 0, got n={n}, n_leverage={n_leverage}")
    lo, hi = map(float, x_range)
    x = rng.uniform(lo, hi, size=n)
    y = intercept + slope * x + noise * rng.standard_normal(n)

    k = int(round(outlier_fraction * n))
    is_outlier = np.zeros(n, dtype=bool)
    if k:
        is_outlier[rng.choice(n, size=k, replace=False)] = True
        if outlier_level is None:
            outlier_level = max(intercept + slope * lo, intercept + slope * hi) + 15.0 * noise
        spread = 2.0 * noise if outlier_spread is None else outlier_spread
        y[is_outlier] = outlier_level + spread * rng.standard_normal(k)

    if n_leverage:
        lx = hi + 10.0 * (hi - lo) if leverage_x is None else leverage_x
        ly = intercept + slope * lo if leverage_y is None else leverage_y
        x = np.concatenate([x, lx + 0.1 * noise * rng.standard_normal(n_leverage)])
        y = np.concatenate([y, ly + noise * rng.standard_normal(n_leverage)])
    is_leverage = np.zeros(x.size, dtype=bool)
    is_leverage[n:] = True
    is_outlier = np.concatenate([is_outlier, np.zeros(n_leverage, dtype=bool)])
    return LineData(x, y, is_outlier, is_leverage, float(slope), float(intercept))
