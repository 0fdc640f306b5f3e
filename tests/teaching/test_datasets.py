"""The shipped data sets are the published values, and the synthetic generator
does what its docstring says.

Test names start with ``test_05_robust_`` so that ``pytest -k 05_robust`` selects
them together with the assignment 05 catalogue and cross-checks.
"""

import numpy as np
import pytest

from regloss.teaching import datasets
from regloss.teaching.synthetic import line_with_outliers


@pytest.fixture(scope="module")
def anscombe():
    return datasets.load_anscombe_iii()


@pytest.fixture(scope="module")
def stack():
    return datasets.load_stackloss()


def test_05_robust_anscombe_iii_matches_the_published_statistics(anscombe):
    assert anscombe.n == 11 and anscombe.x.dtype == np.float64
    assert anscombe.x.mean() == pytest.approx(9.0)
    assert anscombe.y.mean() == pytest.approx(7.50, abs=0.005)
    assert anscombe.x.var(ddof=1) == pytest.approx(11.0)
    assert anscombe.y.var(ddof=1) == pytest.approx(4.12, abs=0.01)
    assert np.corrcoef(anscombe.x, anscombe.y)[0, 1] == pytest.approx(0.816, abs=0.001)
    slope, intercept = np.polyfit(anscombe.x, anscombe.y, 1)
    assert slope == pytest.approx(0.500, abs=0.001) and intercept == pytest.approx(3.00, abs=0.01)
    # x is the shared x1 = x2 = x3 column; ten points lie on one line, observation 3 does not
    assert sorted(anscombe.x) == list(range(4, 15))
    clean = np.delete(np.arange(11), anscombe.flagged)
    fit = np.polyfit(anscombe.x[clean], anscombe.y[clean], 1)
    worst = np.max(np.abs(np.polyval(fit, anscombe.x[clean]) - anscombe.y[clean]))
    assert 0 < worst < 0.006   # on one line up to the published rounding, not exactly (SOURCES.md)
    assert (anscombe.x[2], anscombe.y[2]) == (13.0, 12.74)


def test_05_robust_stackloss_matches_the_published_statistics(stack):
    assert stack.n == 21 and (stack.x_label, stack.y_label) == ("Air.Flow", "stack.loss")
    assert list(stack.columns) == ["Air.Flow", "Water.Temp", "Acid.Conc.", "stack.loss"]
    np.testing.assert_array_equal(stack.x, stack.columns["Air.Flow"])
    np.testing.assert_array_equal(stack.y, stack.columns["stack.loss"])
    slope, intercept = np.polyfit(stack.x, stack.y, 1)
    assert slope == pytest.approx(1.0203, abs=5e-5) and intercept == pytest.approx(-44.132, abs=5e-4)
    # the full model checks every column: R's lm(stack.loss ~ ., stackloss)
    X = np.column_stack([np.ones(21), *(stack.columns[c] for c in ("Air.Flow", "Water.Temp", "Acid.Conc."))])
    coef = np.linalg.lstsq(X, stack.y, rcond=None)[0]
    np.testing.assert_allclose(coef, [-39.9197, 0.7156, 1.2953, -0.1521], atol=5e-4)
    assert stack.y.mean() == pytest.approx(17.524, abs=1e-3)
    assert stack.flagged == (0, 2, 3, 20)


def test_05_robust_stackloss_equals_the_statsmodels_copy(stack):
    sm_data = pytest.importorskip("statsmodels.datasets.stackloss")
    d = sm_data.load_pandas().data
    for ours, theirs in (("stack.loss", "STACKLOSS"), ("Air.Flow", "AIRFLOW"),
                         ("Water.Temp", "WATERTEMP"), ("Acid.Conc.", "ACIDCONC")):
        np.testing.assert_array_equal(stack.columns[ours], d[theirs].to_numpy(dtype=float))


def test_05_robust_every_shipped_csv_has_its_source_stated():
    from importlib import resources

    text = datasets.sources()
    csvs = sorted(p.name for p in resources.files("regloss.teaching").joinpath("data").iterdir()
                  if p.name.endswith(".csv"))
    assert csvs == ["anscombe_iii.csv", "stackloss.csv"]
    for name in csvs:
        assert f"`{name}`" in text, f"SOURCES.md does not describe {name}"
    assert "Anscombe" in text and "1973" in text and "Brownlee" in text and "1965" in text


def test_05_robust_synthetic_is_reproducible_and_counts_its_outliers():
    a = line_with_outliers(np.random.default_rng(3), n=50, outlier_fraction=0.2, n_leverage=2)
    b = line_with_outliers(np.random.default_rng(3), n=50, outlier_fraction=0.2, n_leverage=2)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.n == 52 and a.is_outlier.sum() == 10 and a.is_leverage.sum() == 2
    assert not np.any(a.is_outlier & a.is_leverage) and a.is_clean.sum() == 40
    assert np.all(a.x[a.is_leverage] > 90)          # default leverage_x: far to the right
    assert np.all((a.x[~a.is_leverage] >= 0) & (a.x[~a.is_leverage] <= 10))
    # clean points follow the line, outliers lie far above it
    resid = a.y - (a.intercept + a.slope * a.x)
    assert np.abs(resid[a.is_clean]).max() < 5
    assert resid[a.is_outlier].min() > 5


def test_05_robust_synthetic_clean_data_recovers_the_line():
    d = line_with_outliers(np.random.default_rng(0), n=2000, slope=-3.0, intercept=2.0, noise=0.5)
    assert not d.is_outlier.any() and not d.is_leverage.any()
    slope, intercept = np.polyfit(d.x, d.y, 1)
    assert slope == pytest.approx(-3.0, abs=0.02) and intercept == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("kwargs", [dict(outlier_fraction=1.5), dict(outlier_fraction=-0.1), dict(n=0),
                                    dict(n_leverage=-1)])
def test_05_robust_synthetic_refuses_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        line_with_outliers(np.random.default_rng(0), **kwargs)


def test_05_robust_synthetic_needs_a_generator():
    with pytest.raises(TypeError):
        line_with_outliers(0)


def test_05_robust_fitplots_draw(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from regloss.teaching.fitplots import plot_fits, plot_sweep

    d = line_with_outliers(np.random.default_rng(1), n=20, outlier_fraction=0.1, n_leverage=1)
    ax = plot_fits(d.x, d.y, {"MSE": (2.0, 1.0), "L1": (1.9, 1.2), "other": (0.0, 0.0)},
                   outliers=d.is_outlier, leverage=d.is_leverage, title="t")
    assert len(ax.lines) == 3 and len(ax.collections) == 3
    ax = plot_sweep([0.0, 0.1, 0.2], {"MSE": [0.0, 0.1, 0.3], "L1": np.zeros((3, 4))})
    assert len(ax.lines) == 2
    ax.figure.savefig(tmp_path / "sweep.png")
    plt.close("all")
