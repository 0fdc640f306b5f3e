"""Straight-line fits for many data sets at once (answers in the spirit of assignment 05).

Shipped with assignment 06 so that its Monte Carlo study does not depend on
your earlier answers. Every function fits ``y = slope * x + intercept`` to each
row of ``Y`` (shape ``(R, n)``: R data sets of n points), with the same ``x``
for every row (shape ``(n,)``) or one ``x`` per row (shape ``(R, n)``, as in a
bootstrap), and returns two arrays of shape ``(R,)``.

All robust fits are iteratively reweighted least squares (IRLS): each
iteration solves, row by row, a weighted least-squares problem in closed form
and recomputes the weights from the residuals; the loop runs over iterations,
never over data sets.
"""

import numpy as np


def weighted_line(x, Y, W):
    """Weighted least-squares line for each row: minimises sum_i W_i (Y_i - slope x_i - intercept)^2.

    x: (n,) or (R, n); Y, W: (R, n). Returns (slope, intercept), each of shape (R,).
    Solved in x centred at its weighted mean (accurate when x is far from 0).
    """
    sw = W.sum(axis=1)
    xbar = (W * x).sum(axis=1) / sw
    ybar = (W * Y).sum(axis=1) / sw
    xc = x - xbar[:, None]
    slope = (W * xc * (Y - ybar[:, None])).sum(axis=1) / (W * xc * xc).sum(axis=1)
    intercept = ybar - slope * xbar
    return slope, intercept


def fit_ols(x, Y):
    """Ordinary least squares (the MSE fit) of every row."""
    return weighted_line(x, Y, np.ones(np.shape(Y)))


def _irls(x, Y, weights, n_iter, tol, start=None):
    slope, intercept = fit_ols(x, Y) if start is None else start
    for _ in range(n_iter):
        resid = Y - slope[:, None] * x - intercept[:, None]
        new_slope, new_intercept = weighted_line(x, Y, weights(resid))
        change = np.max(np.abs(new_slope - slope)) if slope.size else 0.0
        slope, intercept = new_slope, new_intercept
        if change < tol:
            break
    return slope, intercept


def fit_l1(x, Y, n_iter=200, tol=1e-9, eps=1e-9):
    """Least absolute deviations (the L1 fit), by IRLS with weights 1 / max(|r|, eps)."""
    return _irls(x, Y, lambda r: 1.0 / np.maximum(np.abs(r), eps), n_iter, tol)


def fit_huber(x, Y, delta, n_iter=200, tol=1e-10):
    """The Huber fit: minimises sum_i huber(r_i; delta) for each row, delta held fixed.

    delta: a number, or an array of shape (R,) (one delta per data set).
    Starts from the L1 fit; weights min(1, delta / |r|).
    """
    d = np.broadcast_to(np.asarray(delta, dtype=float), Y.shape[:1])[:, None]
    start = fit_l1(x, Y, n_iter=50)

    def weights(r):
        a = np.abs(r)
        return np.where(a > d, d / np.where(a > d, a, 1.0), 1.0)

    return _irls(x, Y, weights, n_iter, tol, start=start)
