"""07's Monte Carlo and MM-fit hints, tried as a student would: each catalogue entry's planted
mistake, run through the visible tests' checks (regloss.checks.robust_stats), must be named
first by the hint of the real mistake, and the hint must not hand over the fix (issue 26)."""

from __future__ import annotations

import statistics
from functools import partial

import numpy as np
import pytest
from scipy import stats

from regloss.checks.mistakes import tags
from regloss.checks.robust_stats import check_mm_fit, check_monte_carlo, efficiency_agreement
from regloss.teaching.location import m_location
from regloss.teaching.noise import gaussian, student_t
from regloss.teaching.synthetic import line_with_outliers
from tests.catalogue import a07_scale_and_monte_carlo as cat

#: Words that would dictate a fix rather than name the mistake.
DICTATES = ("ddof=1", "ddof=0", "/ np.sqrt", "np.median", "np.std", "0.6745", "/ scale", "/ (c * scale)",
            "np.abs", "t.ppf", "default_rng(seed)")


def _entry(name, cell):
    (entry,) = [e for e in cat.ENTRIES if (e.name, e.cell) == (name, cell)]
    namespace = {"np": np, "statistics": statistics}
    exec(cat.SCALE, namespace)  # noqa: S102 - fit_line_mm calls the notebook's robust_scale
    exec(entry.source, namespace)  # noqa: S102 - the catalogue's own source, as a student would write it
    return namespace[cell]


MC_CASES = [(partial(np.median, axis=1), gaussian, "median, Gaussian"),
            (partial(m_location, psi="tukey", c=4.685), partial(student_t, df=3), "Tukey, t3")]


def _mc_message(fn):
    t = stats.t.ppf(0.975, 7)
    for est, draw, label in MC_CASES:
        got = fn(est, draw, 20, 100, range(8), t)
        try:
            check_monte_carlo(got, efficiency_agreement(est, draw, 20, 100, n_blocks=60, seed=1), 8, t, label)
        except AssertionError as err:
            return str(err)
    raise AssertionError("the planted mistake passed every check")


def _mm_message(fn):
    d = line_with_outliers(np.random.default_rng(714), n=50, slope=2.0, intercept=1.0, noise=0.5,
                           outlier_fraction=0.1, n_leverage=12, leverage_x=20.0, leverage_y=-10.0)
    with pytest.raises(AssertionError) as err:
        check_mm_fit(fn(d.x.copy(), d.y.copy()), d.x, d.y)
    return str(err.value)


PLANTED = [
    ("upside-down", "monte_carlo_efficiency", "efficiency-inverted"),
    ("sd-not-se", "monte_carlo_efficiency", "ci-of-one-run"),
    ("ddof-0", "monte_carlo_efficiency", "ci-ddof"),
    ("z-not-t", "monte_carlo_efficiency", "ci-normal-quantile"),
    ("same-seed", "monte_carlo_efficiency", "seeds-unused"),
    ("abs-bias", "monte_carlo_efficiency", "bias-unsigned"),
    ("unnormalised-mad", "fit_line_mm", "mad-unnormalised"),
    ("std-scale", "fit_line_mm", "scale-from-outliers"),
    ("ls-residual-scale", "fit_line_mm", "scale-from-outliers"),
    ("theil-sen-start", "fit_line_mm", "scale-from-outliers"),
    ("raw-c", "fit_line_mm", "c-on-raw-residuals"),
]


@pytest.mark.parametrize("name, cell, mistake", PLANTED, ids=[f"{c}:{n}" for n, c, _ in PLANTED])
def test_a_planted_mistake_is_named_first_by_its_own_hint(name, cell, mistake):
    fn = _entry(name, cell)
    msg = _mc_message(fn) if cell == "monte_carlo_efficiency" else _mm_message(fn)
    assert tags(msg)[:1] == [mistake], msg
    for w in DICTATES:
        assert w not in msg, (w, msg)


@pytest.mark.parametrize("name, cell", [("vectorised-stack", "monte_carlo_efficiency"),
                                        ("repeated-median-lstsq", "fit_line_mm"), ("psi-form", "fit_line_mm")])
def test_a_correct_alternate_passes_the_checks(name, cell):
    fn = _entry(name, cell)
    if cell == "monte_carlo_efficiency":
        t = stats.t.ppf(0.975, 7)
        for est, draw, label in MC_CASES:
            check_monte_carlo(fn(est, draw, 20, 100, range(8), t),
                              efficiency_agreement(est, draw, 20, 100, n_blocks=60, seed=1), 8, t, label)
    else:
        d = line_with_outliers(np.random.default_rng(714), n=50, slope=2.0, intercept=1.0, noise=0.5,
                               outlier_fraction=0.1, n_leverage=12, leverage_x=20.0, leverage_y=-10.0)
        check_mm_fit(fn(d.x.copy(), d.y.copy()), d.x, d.y)
