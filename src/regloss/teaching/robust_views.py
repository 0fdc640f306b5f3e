"""Figures and tables of robust losses for assignment 07: loss, psi and weight curves,
influence summaries, a robust start line and the distance of a loss from Barron's family.

Presentation helpers for prose cells. They take the values they draw as arrays (the
notebook computes them with the student's own functions), so a prose cell calls a
student's function once per curve, not once per optimiser step. The one exception
is :func:`barron_family_gap`, which searches Barron's family with its own NumPy
expression of rho, so that its thousands of evaluations never run student code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def _plt() -> Any:
    import matplotlib.pyplot as plt

    return plt


Panel = tuple[str, Mapping[str, ArrayLike]]


def plot_panels(e: ArrayLike, panels: Sequence[Panel], *, xlabel: str = "error e",
                ylims: Sequence[tuple[float, float] | None] | None = None, zero_line: bool = False,
                legend: str = "first", figsize: tuple[float, float] | None = None,
                title_size: str | None = None) -> Any:
    """Side-by-side panels of curves over the same errors ``e``; returns the figure.

    Parameters
    ----------
    e : array
        The errors (x-axis), shared by every curve.
    panels : sequence of (title, {label: values})
        One axis per panel; each ``values`` has the shape of ``e``.
    ylims : sequence of (low, high) or None, optional
        Per-panel y-limits (``None``: automatic).
    zero_line : bool
        Draw a light horizontal line at 0 on every panel.
    legend : "first", "all" or "none"
        Which panels get a legend (labels that are empty strings are not shown).
    """
    if legend not in ("first", "all", "none"):
        raise ValueError(f"legend must be 'first', 'all' or 'none', got {legend!r}")
    e = np.asarray(e)
    plt = _plt()
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=figsize or (5.5 * n, 3.8), squeeze=False)
    for k, (ax, (title, curves)) in enumerate(zip(axes[0], panels)):
        for label, values in curves.items():
            values = np.asarray(values)
            if values.shape != e.shape:
                raise ValueError(f"panel {title!r}, curve {label!r}: shape {values.shape}, errors {e.shape}")
            ax.plot(e, values, label=label or None)
        if zero_line:
            ax.axhline(0, color="0.7", linewidth=0.8)
        limits = None if ylims is None else ylims[k]
        if limits is not None:
            ax.set_ylim(*limits)
        ax.set_title(title, fontsize=title_size)
        ax.set_xlabel(xlabel)
        if (legend == "all" or (legend == "first" and k == 0)) and any(curves):
            ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_lines_on_data(ax: Any, x: ArrayLike, y: ArrayLike, lines: Mapping[str, tuple[float, float]],
                       truth: tuple[float, float] | None = None, *, point_label: str | None = None,
                       s: float = 14, color: str = "0.3") -> Any:
    """Scatter ``(x, y)`` on ``ax`` and draw each ``label -> (slope, intercept)`` across the x range.

    ``truth`` (slope, intercept) is drawn dotted as "true line". Returns ``ax``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ax.scatter(x, y, s=s, color=color, label=point_label)
    xs = np.array([x.min(), x.max()])
    for label, (a, b) in lines.items():
        ax.plot(xs, a * xs + b, label=label)
    if truth is not None:
        ax.plot(xs, truth[0] * xs + truth[1], "k:", label="true line")
    ax.legend(fontsize="small")
    return ax


def influence_summary(e: ArrayLike, psi: ArrayLike, at: Sequence[float] = (10.0, 100.0),
                      tol: float = 1e-12) -> list[Any]:
    """One row of the influence table from psi sampled on a grid ``e >= 0`` (increasing).

    Returns ``[max psi, e at the peak (or "-" when convex), psi(at[0]), ..., convex]``,
    where ``psi(a)`` is read off the grid by linear interpolation (``a`` must lie on
    it) and the loss is convex exactly when psi never decreases (up to ``tol``).
    """
    e = np.asarray(e, dtype=float)
    p = np.asarray(psi, dtype=float)
    if e.shape != p.shape or e.ndim != 1:
        raise ValueError(f"e and psi must be 1-d of the same shape, got {e.shape} and {p.shape}")
    if np.any(np.diff(e) <= 0):
        raise ValueError("e must be increasing")
    for a in at:
        if not e[0] <= a <= e[-1]:
            raise ValueError(f"psi({a}) is asked for, outside the grid [{e[0]}, {e[-1]}]")
    i = int(np.argmax(p))
    convex = bool(np.all(np.diff(p) >= -tol))
    return [float(p[i]), "-" if convex else float(e[i]), *(float(np.interp(a, e, p)) for a in at),
            "yes" if convex else "no, redescending"]


def theil_sen_line(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Theil-Sen line: the median of the slopes through all pairs with distinct x, then the
    median of ``y - slope x`` as the intercept."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    i, j = np.triu_indices(x.size, 1)
    dx = x[j] - x[i]
    keep = dx != 0
    if not keep.any():
        raise ValueError("Theil-Sen needs two distinct x values")
    slope = float(np.median((y[j] - y[i])[keep] / dx[keep]))
    return slope, float(np.median(y - slope * x))


def _barron_rho(e: np.ndarray, alpha: float, scale: float) -> np.ndarray:
    """Barron's rho(e, alpha, scale) with its limits (alpha = 2, 0, -inf); internal to the search."""
    z = (e / scale) ** 2
    if alpha == 2:
        return 0.5 * z
    if alpha == 0:
        return np.log1p(0.5 * z)
    if alpha == -np.inf:
        return -np.expm1(-0.5 * z)
    b = abs(alpha - 2)
    return b / alpha * np.expm1(alpha / 2 * np.log1p(z / b))


def barron_family_gap(e: ArrayLike, target: ArrayLike,
                      starts: Sequence[tuple[float, float, float]] | None = None) -> float:
    """min over (k, alpha, scale) of max |k rho(e, alpha, scale) - target|, by Nelder-Mead from
    several starts ``(k, alpha, log scale)``: how far a loss sampled at ``e`` is from Barron's family."""
    from scipy.optimize import minimize

    e = np.asarray(e, dtype=float)
    target = np.asarray(target, dtype=float)
    if e.shape != target.shape:
        raise ValueError(f"e and target must have the same shape, got {e.shape} and {target.shape}")

    def gap(theta: np.ndarray) -> float:
        k, alpha, log_scale = theta
        with np.errstate(all="ignore"):
            g = np.max(np.abs(k * _barron_rho(e, float(alpha), float(np.exp(log_scale))) - target))
        return float(g) if np.isfinite(g) else 1e9

    if starts is None:
        starts = [(1.0, a, ls) for a in (1.5, 0.5, -1.0, -5.0) for ls in (-0.5, 1.0)]
    options = {"maxiter": 3000, "xatol": 1e-10, "fatol": 1e-12}
    return min(float(minimize(gap, np.array(start), method="Nelder-Mead", options=options).fun) for start in starts)


def gap_table(pairs: Mapping[str, tuple[ArrayLike, ArrayLike]], header: str = "comparison",
              column: str = "max |diff|") -> str:
    """A plain-text table of ``label -> max |a - b|`` for ``label -> (a, b)`` (arrays of one shape,
    or scalars): how far two implementations of the same loss are apart, for ``print``."""
    rows = {}
    for label, (a, b) in pairs.items():
        a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a_.shape != b_.shape:
            raise ValueError(f"{label!r}: shapes {a_.shape} and {b_.shape} differ")
        rows[label] = f"{float(np.max(np.abs(a_ - b_))):.2e}"
    width = max([len(header)] + [len(k) for k in rows])
    lines = [f"{header:<{width}}  {column:>10}", "-" * (width + 2 + max(10, len(column)))]
    lines += [f"{label:<{width}}  {value:>10}" for label, value in rows.items()]
    return "\n".join(lines)


def _barron_weight(r: np.ndarray, alpha: float, scale: float) -> np.ndarray:
    """rho'(r) / r for Barron's rho (its limits at alpha = 2, 0, -inf), finite at r = 0."""
    z = (r / scale) ** 2
    if alpha == 2:
        w = np.ones_like(z)
    elif alpha == 0:
        w = 1.0 / (0.5 * z + 1)
    elif alpha == -np.inf:
        w = np.exp(-0.5 * z)
    else:
        w = (z / abs(alpha - 2) + 1) ** (alpha / 2 - 1)
    return w / scale**2


def barron_irls_line(x: ArrayLike, y: ArrayLike, alpha: float, scale: float, start: tuple[float, float],
                     n_iter: int = 500) -> tuple[float, float]:
    """IRLS for the line minimising ``sum rho(y - a x - b, alpha, scale)`` (Barron's rho) from ``start``,
    with the course's own NumPy weights ``rho'(r) / r``; ``n_iter`` weighted least-squares solves."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got scale={scale!r}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    a, b = start
    for _ in range(n_iter):
        w = _barron_weight(y - a * x - b, float(alpha), float(scale))
        a, b = np.polyfit(x, y, 1, w=np.sqrt(np.maximum(w, 1e-300)))
    return float(a), float(b)
