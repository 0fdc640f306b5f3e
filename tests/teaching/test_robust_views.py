"""regloss.teaching.robust_views: the influence summary, the Theil-Sen start, the distance from
Barron's family (members near 0, non-members far), and the figures' shapes and checks."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from scipy import stats

from regloss.checks.reference import torch_loss
from regloss.teaching.robust_views import (
    barron_family_gap,
    barron_irls_line,
    gap_table,
    influence_summary,
    plot_lines_on_data,
    plot_panels,
    theil_sen_line,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

E = np.linspace(0, 100, 200001)


@pytest.mark.parametrize("label, psi, peak, convex", [
    ("huber", lambda e: np.clip(e, -1.345, 1.345), "-", True),
    ("cauchy", lambda e: e / (1 + (e / 2.3849) ** 2), 2.3849, False),
    ("tukey", lambda e: np.where(np.abs(e) <= 4.685, e * (1 - (e / 4.685) ** 2) ** 2, 0.0), 4.685 / np.sqrt(5), False),
    ("log-cosh", np.tanh, "-", True),
])
def test_influence_summary_finds_peak_convexity_and_values(label, psi, peak, convex):
    row = influence_summary(E, psi(E), at=(10.0, 100.0))
    assert len(row) == 5
    assert row[0] == pytest.approx(np.max(psi(E)))
    if peak == "-":
        assert row[1] == "-"
    else:
        assert row[1] == pytest.approx(peak, abs=1e-3)
    assert row[2] == pytest.approx(float(psi(np.array([10.0]))[0]), abs=1e-9)
    assert row[3] == pytest.approx(float(psi(np.array([100.0]))[0]), abs=1e-9)
    assert row[4] == ("yes" if convex else "no, redescending")


@pytest.mark.parametrize("e, psi, at, match", [
    (np.array([0.0, 1.0]), np.array([0.0]), (0.5,), "same shape"),
    (np.array([1.0, 0.0]), np.array([0.0, 1.0]), (0.5,), "increasing"),
    (np.array([0.0, 1.0]), np.array([0.0, 1.0]), (2.0,), "outside"),
])
def test_influence_summary_refuses_bad_grids(e, psi, at, match):
    with pytest.raises(ValueError, match=match):
        influence_summary(e, psi, at=at)


@pytest.mark.parametrize("seed, n", [(0, 7), (1, 30), (2, 101)])
def test_theil_sen_matches_scipy(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    y = 2 * x + 1 + rng.standard_t(2, n)
    slope, intercept = theil_sen_line(x, y)
    ref = stats.theilslopes(y, x, method="separate")
    assert slope == pytest.approx(ref.slope, rel=1e-12)
    assert intercept == pytest.approx(np.median(y - ref.slope * x), rel=1e-12)
    assert isinstance(slope, float) and isinstance(intercept, float)


def test_theil_sen_needs_two_distinct_x():
    with pytest.raises(ValueError, match="distinct"):
        theil_sen_line([1.0, 1.0, 1.0], [0.0, 1.0, 2.0])


GRID = np.linspace(-20, 20, 401)


@pytest.mark.parametrize("label, values, member", [
    ("pseudo-Huber 1.5", 1.5**2 * (np.sqrt(1 + (GRID / 1.5) ** 2) - 1), True),
    ("Cauchy 2.3849", 2.3849**2 / 2 * np.log1p((GRID / 2.3849) ** 2), True),
    ("Geman-McClure", 2 * GRID**2 / (GRID**2 + 4), True),
    ("quantile 0.9", np.where(GRID > 0, 0.1 * GRID, -0.9 * GRID), False),
    ("Tukey 4.685", np.where(np.abs(GRID) <= 4.685, 4.685**2 / 6 * (1 - (1 - (GRID / 4.685) ** 2) ** 3),
                             4.685**2 / 6), False),
])
def test_barron_family_gap_separates_members_from_others(label, values, member):
    gap = barron_family_gap(GRID, values)
    if member:
        assert gap < 1e-4, f"{label} is a member, gap {gap}"
    else:
        assert gap > 0.1, f"{label} is not a member, gap {gap}"


def test_barron_family_gap_checks_shapes():
    with pytest.raises(ValueError, match="same shape"):
        barron_family_gap(GRID, GRID[:-1])


@pytest.mark.parametrize("n_panels, legend", [(1, "first"), (2, "all"), (3, "none")])
def test_plot_panels_draws_every_curve(n_panels, legend):
    e = np.linspace(-3, 3, 61)
    panels = [(f"panel {k}", {"a": e * k, "b": np.tanh(e)}) for k in range(n_panels)]
    fig = plot_panels(e, panels, legend=legend, zero_line=True, ylims=[(-1, 1)] + [None] * (n_panels - 1))
    axes = fig.axes
    assert len(axes) == n_panels
    assert [len(ax.lines) for ax in axes] == [3] * n_panels   # two curves and the zero line
    assert axes[0].get_ylim() == (-1, 1)
    assert [ax.get_legend() is not None for ax in axes] == [
        legend == "all" or (legend == "first" and k == 0) for k in range(n_panels)]
    plt.close(fig)


@pytest.mark.parametrize("bad", [{"legend": "some"}, {"values": np.zeros(3)}])
def test_plot_panels_refuses_bad_input(bad):
    e = np.linspace(-1, 1, 5)
    with pytest.raises(ValueError):
        plot_panels(e, [("p", {"a": bad.get("values", e)})], legend=bad.get("legend", "first"))
    plt.close("all")


@pytest.mark.parametrize("truth", [None, (2.0, 1.0)])
def test_plot_lines_on_data_draws_each_line(truth):
    fig, ax = plt.subplots()
    x = np.array([0.0, 1.0, 4.0])
    plot_lines_on_data(ax, x, 2 * x, {"one": (1.0, 0.0), "two": (2.0, 0.0)}, truth)
    assert len(ax.lines) == 2 + (truth is not None)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.0, 8.0])
    plt.close(fig)


@pytest.mark.parametrize("a, b, shown", [
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]), "5.00e-01"),
    (np.zeros(4), np.zeros(4), "0.00e+00"),
    (2.0, -1.0, "3.00e+00"),
])
def test_gap_table_shows_the_largest_difference(a, b, shown):
    table = gap_table({"mine vs theirs": (a, b)}, header="check")
    lines = table.splitlines()
    assert lines[0].startswith("check") and lines[0].rstrip().endswith("max |diff|")
    assert lines[2].startswith("mine vs theirs") and lines[2].rstrip().endswith(shown)


def test_gap_table_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        gap_table({"x": (np.zeros(2), np.zeros(3))})


def _barron_objective_grad(x, y, a, b, alpha, scale):
    """d/d(a, b) of sum rho(y - a x - b) by central differences of the truth's rho (PyTorch)."""
    def f(a_, b_):
        r = y - a_ * x - b_
        return torch_loss("general_robust_loss", r, np.zeros_like(r), "sum", alpha=alpha, scale=scale)

    h = 1e-6
    return np.array([(f(a + h, b) - f(a - h, b)) / (2 * h), (f(a, b + h) - f(a, b - h)) / (2 * h)])


@pytest.mark.parametrize("alpha", [2.0, 1.0, 0.0, -2.0, -np.inf, 0.5])
def test_barron_irls_line_is_stationary_and_l2_is_least_squares(alpha):
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, 60)
    y = 2 * x + 1 + rng.normal(0, 0.5, 60)
    y[:8] -= 25.0
    start = theil_sen_line(x, y)
    a, b = barron_irls_line(x, y, alpha, 2.0, start)
    assert isinstance(a, float) and isinstance(b, float)
    assert np.max(np.abs(_barron_objective_grad(x, y, a, b, alpha, 2.0))) < 1e-5 * len(x)
    if alpha == 2.0:
        np.testing.assert_allclose((a, b), np.polyfit(x, y, 1), rtol=1e-9)
    if alpha <= 0:
        assert abs(a - 2.0) < 0.1, f"alpha = {alpha}: the redescending fit should ignore the outliers, slope {a}"


def test_barron_irls_line_refuses_a_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        barron_irls_line([0.0, 1.0], [0.0, 1.0], 1.0, 0.0, (0.0, 0.0))
