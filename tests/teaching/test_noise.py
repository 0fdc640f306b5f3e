"""regloss.teaching.noise: the samplers draw what they say (checked against scipy.stats),
are reproducible from a Generator, and refuse bad arguments; and the study
plots of regloss.teaching.studyplots draw what they are given."""

import numpy as np
import pytest
from scipy import stats

from regloss.teaching import noise, studyplots

N = 20_000
P_MIN = 1e-3   # fixed seeds: a correct sampler passes; a wrong one fails by a wide margin


def _mixture_cdf(eps, scale, factor):
    return lambda x: (1 - eps) * stats.norm.cdf(x / scale) + eps * stats.norm.cdf(x / (factor * scale))


CASES = [
    ("gaussian", lambda rng, n: noise.gaussian(rng, n, scale=2.5), stats.norm(scale=2.5).cdf),
    ("laplace", lambda rng, n: noise.laplace(rng, n, scale=0.7), stats.laplace(scale=0.7).cdf),
    ("t1", lambda rng, n: noise.student_t(rng, n, df=1), stats.t(1).cdf),
    ("t2", lambda rng, n: noise.student_t(rng, n, df=2, scale=3.0), stats.t(2, scale=3.0).cdf),
    ("t3", lambda rng, n: noise.student_t(rng, n, df=3), stats.t(3).cdf),
    ("contaminated-0.1", lambda rng, n: noise.contaminated_normal(rng, n, eps=0.1), _mixture_cdf(0.1, 1.0, 10.0)),
    ("contaminated-0.3-scale2", lambda rng, n: noise.contaminated_normal(rng, n, eps=0.3, scale=2.0),
     _mixture_cdf(0.3, 2.0, 10.0)),
    ("contaminated-0", lambda rng, n: noise.contaminated_normal(rng, n, eps=0.0), stats.norm.cdf),
    ("contaminated-1", lambda rng, n: noise.contaminated_normal(rng, n, eps=1.0, factor=10.0),
     stats.norm(scale=10).cdf),
    ("one-sided-0.15", lambda rng, n: noise.one_sided_contamination(rng, n, eps=0.15),
     lambda x: 0.85 * stats.norm.cdf(x) + 0.15 * stats.norm(loc=8.0, scale=3.0).cdf(x)),
    ("one-sided-0.3-scale2-left", lambda rng, n: noise.one_sided_contamination(rng, n, eps=0.3, shift=-5.0,
                                                                              factor=0.5, scale=2.0),
     lambda x: 0.7 * stats.norm(scale=2.0).cdf(x) + 0.3 * stats.norm(loc=-10.0, scale=1.0).cdf(x)),
    ("one-sided-0", lambda rng, n: noise.one_sided_contamination(rng, n, eps=0.0), stats.norm.cdf),
]


@pytest.mark.parametrize("name,draw,cdf", CASES, ids=[c[0] for c in CASES])
def test_sampler_follows_its_distribution(name, draw, cdf):
    x = draw(np.random.default_rng(12345), N)
    assert x.shape == (N,) and x.dtype == np.float64
    assert stats.kstest(x, cdf).pvalue > P_MIN


@pytest.mark.parametrize("name,draw,cdf", CASES, ids=[c[0] for c in CASES])
def test_sampler_is_reproducible_and_shaped(name, draw, cdf):
    a = draw(np.random.default_rng(7), (3, 4))
    b = draw(np.random.default_rng(7), (3, 4))
    c = draw(np.random.default_rng(8), (3, 4))
    assert a.shape == (3, 4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_contamination_is_not_just_a_wider_normal():
    """The mixture has the clean normal's centre and the wide normal's tails."""
    x = noise.contaminated_normal(np.random.default_rng(3), 200_000, eps=0.1, scale=1.0, factor=10.0)
    assert abs(np.mean(np.abs(x) > 5) - 0.1 * 2 * stats.norm.sf(0.5)) < 0.005
    assert stats.kstest(x, stats.norm(scale=np.std(x)).cdf).pvalue < 1e-10


@pytest.mark.parametrize("call,exc", [
    (lambda: noise.gaussian(np.random.default_rng(0), 3, scale=0.0), ValueError),
    (lambda: noise.gaussian(np.random.default_rng(0), 3, scale=-1.0), ValueError),
    (lambda: noise.laplace(np.random.default_rng(0), 3, scale=float("nan")), ValueError),
    (lambda: noise.student_t(np.random.default_rng(0), 3, df=0), ValueError),
    (lambda: noise.student_t(np.random.default_rng(0), 3, df=2, scale=0), ValueError),
    (lambda: noise.contaminated_normal(np.random.default_rng(0), 3, eps=1.5), ValueError),
    (lambda: noise.contaminated_normal(np.random.default_rng(0), 3, eps=-0.1), ValueError),
    (lambda: noise.contaminated_normal(np.random.default_rng(0), 3, factor=0.0), ValueError),
    (lambda: noise.one_sided_contamination(np.random.default_rng(0), 3, eps=2.0), ValueError),
    (lambda: noise.one_sided_contamination(np.random.default_rng(0), 3, shift=float("inf")), ValueError),
    (lambda: noise.one_sided_contamination(np.random.default_rng(0), 3, factor=-1.0), ValueError),
    (lambda: noise.gaussian(np.random.RandomState(0), 3), TypeError),
    (lambda: noise.gaussian(0, 3), TypeError),
])
def test_bad_arguments_are_refused(call, exc):
    with pytest.raises(exc):
        call()


def test_noise_models_of_the_study():
    models = noise.noise_models(scale=2.0, contamination=0.2)
    assert list(models)[:2] == ["Gaussian", "Laplace"]
    assert any("Cauchy" in k for k in models) and any("contaminated eps=0.2" == k for k in models)
    for label, draw in models.items():
        x = draw(np.random.default_rng(1), (5, 6))
        assert x.shape == (5, 6), label
    # every model has median 0 and the scale sets its spread
    for label, draw in models.items():
        a = draw(np.random.default_rng(2), 50_000)
        assert abs(np.median(a)) < 0.05, label
        assert 1.0 < np.median(np.abs(a)) < 2.2, label


# ------------------------------------------------------------------ studyplots
def test_format_table():
    text = studyplots.format_table({"a": [1.0, 0.5], "long label": ["x", 2]}, ["c1", "c2"], row_header="row")
    lines = text.splitlines()
    assert lines[0].split() == ["row", "c1", "c2"] and set(lines[1]) == {"-"}
    assert lines[2].split() == ["a", "1", "0.5"] and lines[3].split() == ["long", "label", "x", "2"]
    with pytest.raises(ValueError):
        studyplots.format_table({"a": [1.0]}, ["c1", "c2"])


def test_plots_draw_what_they_are_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = studyplots.plot_lines([0, 1, 2], {"a": [1, 2, 3], "b": [0, 0, 1]}, hline=0.5, logy=True, title="t")
    assert [ln.get_label() for ln in ax.get_lines()][:2] == ["a", "b"]
    assert np.array_equal(ax.get_lines()[0].get_ydata(), [1, 2, 3])
    v = np.array([[1.0, 2.0], [3.0, 1.5]])
    ax = studyplots.plot_heatmap(v, ["r1", "r2"], ["c1", "c2"])
    assert [t.get_text() for t in ax.texts] == ["1.00", "2.00", "3.00", "1.50"]
    assert len(ax.patches) == 2   # the winner of each row outlined
    with pytest.raises(ValueError):
        studyplots.plot_heatmap(v, ["r1"], ["c1", "c2"])
    ax = studyplots.plot_noise_histograms({"g": np.random.default_rng(0).normal(size=1000)})
    assert ax.get_yscale() == "log"
    plt.close("all")


def test_one_sided_contamination_draws_as_documented():
    """z first, then the uniforms; the contaminated values shifted to one side."""
    r = np.random.default_rng(8)
    z, u = r.normal(size=(4, 5)), r.random(size=(4, 5))
    want = 2.0 * np.where(u < 0.3, 8.0 + 3.0 * z, z)
    assert np.array_equal(noise.one_sided_contamination(np.random.default_rng(8), (4, 5), eps=0.3, scale=2.0), want)
    x = noise.one_sided_contamination(np.random.default_rng(9), 200_000, eps=0.1, shift=8.0)
    assert abs(x.mean() - 0.8) < 0.03 and np.median(x) > 0.05  # not centred: the bias no loss undoes
