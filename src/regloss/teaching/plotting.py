"""Plots the notebooks share: losses and gradients as functions of the error.

The functions plotted are the student's own: each curve is
``fn(e, zeros, reduction="none", **params)`` over a grid of errors ``e``.
"""

from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def error_grid(limit=3.0, n=601):
    """A symmetric grid of errors that contains 0 and the integers exactly.

    Returns
    -------
    numpy.ndarray, shape ``(n,)``
    """
    return np.linspace(-limit, limit, n)


def evaluate(fn, e, **params):
    """``fn(e, 0, reduction="none", **params)``: a loss or gradient as a function of the error."""
    e = np.asarray(e, dtype=np.float64)
    return np.asarray(fn(e, np.zeros_like(e), reduction="none", **params), dtype=np.float64)


def plot_curves(curves, e=None, ax=None, title=None, ylabel=None, marks=(), dot_at_zero=False):
    """Plot several functions of the error on one axis.

    Parameters
    ----------
    curves : dict
        ``label -> (fn, params)`` with ``fn(input, target, reduction="none", **params)``,
        or ``label -> fn``.
    e : array_like, optional
        Errors to evaluate at; default :func:`error_grid`.
    ax : matplotlib Axes, optional
    marks : iterable of float
        Error values to mark with dotted vertical lines (e.g. ``+-delta``).
    dot_at_zero : bool
        Draw each function's value at ``e = 0`` as a dot (where a gradient jumps,
        the line hides which value is returned there).

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    e = error_grid() if e is None else np.asarray(e, dtype=np.float64)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for label, spec in curves.items():
        fn, params = spec if isinstance(spec, tuple) else (spec, {})
        (line,) = ax.plot(e, evaluate(fn, e, **params), label=label)
        if dot_at_zero:
            ax.plot([0.0], evaluate(fn, [0.0], **params), "o", color=line.get_color(), markersize=5)
    for m in marks:
        ax.axvline(m, color="0.6", linestyle=":", linewidth=1)
    ax.axhline(0, color="0.85", linewidth=0.8, zorder=0)
    ax.set_xlabel("error e = input - target")
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_losses_and_gradients(losses, e=None, marks=(), suptitle=None):
    """Two panels side by side: each loss, and each gradient, against the error.

    Parameters
    ----------
    losses : dict
        ``label -> (loss_fn, grad_fn)`` or ``label -> (loss_fn, grad_fn, params)``.
    e, marks
        As in :func:`plot_curves`.

    Returns
    -------
    matplotlib Figure
    """
    plt = _plt()
    fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(10, 3.8))
    loss_curves, grad_curves = {}, {}
    for label, spec in losses.items():
        loss_fn, grad_fn, *rest = spec
        params = rest[0] if rest else {}
        loss_curves[label] = (loss_fn, params)
        grad_curves[label] = (grad_fn, params)
    plot_curves(loss_curves, e, ax_l, title="loss (reduction='none')", ylabel="loss", marks=marks)
    plot_curves(grad_curves, e, ax_g, title="gradient d loss / d input (dots: the value at e = 0)",
                ylabel="gradient", marks=marks, dot_at_zero=True)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
