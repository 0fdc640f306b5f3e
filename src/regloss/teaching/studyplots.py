"""Tables and plots for the studies of assignments 04 and 06.

Plain presentation helpers: they format and draw numbers the notebook has
computed (with the student's own functions); they compute no estimate.
"""

from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def format_table(rows, columns, row_header="", fmt="{:.4g}", width=None):
    """A plain-text table, for ``print``.

    Parameters
    ----------
    rows : dict
        ``row label -> sequence of values`` (one per column); a value may be a
        number (formatted with ``fmt``) or a string.
    columns : sequence of str
        Column headers.
    row_header : str
        Header of the first (label) column.
    fmt : str
        Format for numbers.
    width : int, optional
        Width of every value column (default: the widest cell).

    Returns
    -------
    str
    """
    def cell(v):
        return v if isinstance(v, str) else fmt.format(v)

    body = {label: [cell(v) for v in values] for label, values in rows.items()}
    for label, values in body.items():
        if len(values) != len(columns):
            raise ValueError(f"row {label!r} has {len(values)} values for {len(columns)} columns")
    w = width or max([len(c) for c in columns] + [len(v) for vals in body.values() for v in vals])
    lw = max([len(row_header)] + [len(str(k)) for k in body])
    lines = [f"{row_header:<{lw}}  " + "  ".join(f"{c:>{w}}" for c in columns)]
    lines.append("-" * len(lines[0]))
    for label, values in body.items():
        lines.append(f"{str(label):<{lw}}  " + "  ".join(f"{v:>{w}}" for v in values))
    return "\n".join(lines)


def plot_lines(x, curves, ax=None, xlabel=None, ylabel=None, title=None, logx=False, logy=False,
               hline=None, styles=None):
    """Several curves ``y(x)`` on one axis: an influence or breakdown plot.

    Parameters
    ----------
    x : array_like, shape ``(m,)``
    curves : dict
        ``label -> array_like of shape (m,)``.
    ax : matplotlib Axes, optional
    hline : float, optional
        Draw a grey horizontal reference line there (e.g. the true location).
    styles : dict, optional
        ``label -> dict`` of keyword arguments for ``ax.plot``.

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    x = np.asarray(x, dtype=float)
    for label, y in curves.items():
        ax.plot(x, np.asarray(y, dtype=float), label=label, **(styles or {}).get(label, {}))
    if hline is not None:
        ax.axhline(hline, color="0.6", linestyle=":", linewidth=1)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("symlog", linthresh=1.0)
    for setter, v in ((ax.set_xlabel, xlabel), (ax.set_ylabel, ylabel), (ax.set_title, title)):
        if v:
            setter(v)
    ax.legend(fontsize="small")
    return ax


def plot_heatmap(values, row_labels, col_labels, ax=None, title=None, fmt="{:.2f}", cbar_label=None,
                 mark_min=True, cmap="viridis_r", log=True):
    """A heat-map of a table of positive numbers, each cell annotated, the smallest
    of each row outlined.

    Parameters
    ----------
    values : array_like, shape ``(rows, cols)``
        E.g. the error of each loss (columns) under each noise model (rows),
        relative to the best loss of the row.
    row_labels, col_labels : sequence of str
    fmt : str
        Format of the annotations.
    mark_min : bool
        Outline the smallest value of each row (the winner).
    log : bool
        Colour by ``log10(value)`` (the values span orders of magnitude).

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    v = np.asarray(values, dtype=float)
    if v.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"values has shape {v.shape}, labels say {(len(row_labels), len(col_labels))}")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * len(col_labels) + 3, 0.55 * len(row_labels) + 1.5))
    shown = np.log10(v) if log else v
    im = ax.imshow(shown, cmap=cmap, aspect="auto")
    cb = ax.figure.colorbar(im, ax=ax)
    if cbar_label:
        cb.set_label(cbar_label)
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=20, ha="right")
    ax.set_yticks(range(len(row_labels)), row_labels)
    lo, hi = np.nanmin(shown), np.nanmax(shown)
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            light = (shown[i, j] - lo) > 0.5 * (hi - lo) if hi > lo else False
            ax.text(j, i, fmt.format(v[i, j]), ha="center", va="center", fontsize="small",
                    color="black" if not light else "white")
        if mark_min:
            j = int(np.nanargmin(v[i]))
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    if title:
        ax.set_title(title)
    return ax


def plot_noise_histograms(samples, limit=8.0, bins=81, ax=None, title=None):
    """Histograms (log-density) of noise samples, clipped to ``[-limit, limit]``,
    with the fraction of values beyond the limit in the legend.

    Parameters
    ----------
    samples : dict
        ``label -> 1-D array`` of noise values.

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    edges = np.linspace(-limit, limit, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for label, s in samples.items():
        s = np.asarray(s, dtype=float).ravel()
        counts, _ = np.histogram(s, bins=edges)
        density = counts / (s.size * np.diff(edges))
        outside = np.mean(np.abs(s) > limit)
        with np.errstate(divide="ignore"):
            ax.plot(centres, np.where(density > 0, density, np.nan), label=f"{label} ({outside:.1%} beyond ±{limit:g})")
    ax.set_yscale("log")
    ax.set_xlabel("noise value")
    ax.set_ylabel("density (log scale)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="x-small")
    return ax
