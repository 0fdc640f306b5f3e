"""Plots of straight-line fits: the data with every fitted line, and sweeps.

The notebooks fit the lines (with the student's functions) and pass the
results here; these helpers only draw. Each returns the matplotlib ``Axes`` it
drew on, so a notebook can add to it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_fits", "plot_sweep"]

#: A fixed colour and line style for each fit label the course uses.
STYLE = {
    "MSE": dict(color="tab:blue", linestyle="-"),
    "OLS": dict(color="tab:blue", linestyle="-"),
    "L1": dict(color="tab:orange", linestyle="--"),
    "Huber": dict(color="tab:green", linestyle="-."),
    "SmoothL1": dict(color="tab:red", linestyle=":"),
    "truth": dict(color="0.35", linestyle=(0, (1, 3)), linewidth=1.2),
}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _style(label, i):
    for key, style in STYLE.items():
        if label.startswith(key):
            return dict(style)
    return dict(color=f"C{i % 10}")


def plot_fits(x, y, fits, ax=None, outliers=None, leverage=None, title=None, xlabel="x", ylabel="y"):
    """Scatter the data and draw every fitted line ``y = slope * x + intercept``.

    Parameters
    ----------
    x, y : array_like, shape ``(n,)``
    fits : dict
        ``label -> (slope, intercept)``, drawn in insertion order. Labels that
        start with ``MSE``/``OLS``, ``L1``, ``Huber``, ``SmoothL1`` or ``truth``
        get the course's fixed style.
    ax : matplotlib Axes, optional
    outliers, leverage : array_like of bool, shape ``(n,)``, optional
        Points to mark as outliers (red crosses) and as leverage points
        (purple diamonds).
    title, xlabel, ylabel : str, optional

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    special = np.zeros(x.shape, dtype=bool)
    for mask, kw in ((outliers, dict(marker="x", color="tab:red", s=45, label="outlier")),
                     (leverage, dict(marker="D", color="tab:purple", s=45, label="leverage point"))):
        if mask is not None and np.any(mask):
            mask = np.asarray(mask, dtype=bool)
            ax.scatter(x[mask], y[mask], zorder=3, **kw)
            special |= mask
    ax.scatter(x[~special], y[~special], s=18, color="0.2", zorder=3, label="data")
    pad = 0.05 * (x.max() - x.min() or 1.0)
    grid = np.linspace(x.min() - pad, x.max() + pad, 200)
    for i, (label, (slope, intercept)) in enumerate(fits.items()):
        ax.plot(grid, slope * grid + intercept, label=f"{label}: {slope:.3g} x {intercept:+.3g}",
                **{"linewidth": 1.8, **_style(label, i)})
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_sweep(fractions, errors, ax=None, title=None, xlabel="fraction of outliers",
               ylabel="slope error |fitted - true|"):
    """Plot an error against the contamination fraction, one curve per loss.

    Parameters
    ----------
    fractions : array_like, shape ``(m,)``
        The fractions of outliers swept (plotted in per cent).
    errors : dict
        ``label -> array`` of shape ``(m,)`` or ``(m, repeats)``; with repeats
        the curve is their mean and a band spans their minimum to maximum.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    pct = 100 * np.asarray(fractions, dtype=np.float64)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, (label, err) in enumerate(errors.items()):
        err = np.asarray(err, dtype=np.float64)
        style = _style(label, i)
        mean = err.mean(axis=1) if err.ndim == 2 else err
        ax.plot(pct, mean, marker="o", markersize=4, label=label, **style)
        if err.ndim == 2 and err.shape[1] > 1:
            ax.fill_between(pct, err.min(axis=1), err.max(axis=1), color=style["color"], alpha=0.12)
    ax.set_xlabel(f"{xlabel} (%)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax
