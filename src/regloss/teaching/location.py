"""Location M-estimators for Monte Carlo studies (assignment 07), many samples at once.

:func:`m_location` estimates the location of every row of an array by IRLS with
the weights ``w(r) = psi(r) / r`` of a named loss, started from the row's median,
at scale 1. It is given to students and test cells alike (it is no graded
exercise): ``functools.partial(m_location, psi="tukey", c=4.685)`` is an estimator
``samples (reps, n) -> estimates (reps,)`` that can be passed to a student's
Monte Carlo function.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Psi = Literal["huber", "cauchy", "tukey"]


def _weights(r, psi: Psi, c: float):
    """IRLS weights psi(r) / r (1 at r = 0)."""
    u = np.abs(r) / c
    if psi == "huber":
        return np.minimum(1.0, 1.0 / np.maximum(u, 1e-300))
    if psi == "cauchy":
        return 1.0 / (1.0 + u * u)
    if psi == "tukey":
        return np.where(u < 1.0, (1.0 - u * u) ** 2, 0.0)
    raise ValueError(f"psi must be 'huber', 'cauchy' or 'tukey', got {psi!r}")


def m_location(samples, psi: Psi = "huber", c: float = 1.345, n_iter: int = 60):
    """Location M-estimate of each row of ``samples`` (scale 1), by IRLS from the row's median.

    Parameters
    ----------
    samples : array_like, shape (reps, n) or (n,)
        One sample per row.
    psi : {"huber", "cauchy", "tukey"}
        The loss: Huber (``w = min(1, c/|r|)``), Cauchy (``w = 1/(1 + (r/c)^2)``) or
        Tukey's biweight (``w = (1 - (r/c)^2)^2`` inside ``c``, 0 beyond).
    c : float
        The tuning constant, in the units of the samples.
    n_iter : int
        IRLS iterations.

    Returns
    -------
    ndarray, shape (reps,) (or a float for a 1-D sample)
        The estimates ``mu`` solving ``sum_i psi(x_i - mu) = 0`` near the median.
    """
    x = np.asarray(samples, dtype=float)
    flat = x.ndim == 1
    x = np.atleast_2d(x)
    mu = np.median(x, axis=1)
    for _ in range(n_iter):
        w = np.maximum(_weights(x - mu[:, None], psi, c), 1e-12)  # a row all beyond Tukey's c keeps its mean
        mu = np.sum(w * x, axis=1) / np.sum(w, axis=1)
    return float(mu[0]) if flat else mu
