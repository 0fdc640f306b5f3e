"""regloss.teaching.location.m_location: a root of sum psi(x - mu) = 0 near the median, with
statsmodels' psi functions as the truth (HuberT, TukeyBiweight; Cauchy written out)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.robust import norms

from regloss.teaching.location import m_location

PSI = {"huber": lambda r, c: norms.HuberT(t=c).psi(r), "tukey": lambda r, c: norms.TukeyBiweight(c=c).psi(r),
       "cauchy": lambda r, c: r / (1 + (r / c) ** 2)}


@pytest.mark.parametrize("psi, c", [("huber", 1.345), ("cauchy", 2.3849), ("tukey", 4.685), ("huber", 0.5)])
def test_each_row_solves_the_estimating_equation(psi, c):
    x = np.random.default_rng(3).standard_t(3, size=(50, 25)) + 2.0
    mu = m_location(x, psi=psi, c=c, n_iter=300)
    assert mu.shape == (50,)
    resid = np.abs(PSI[psi](x - mu[:, None], c).sum(axis=1))
    assert np.max(resid) < 1e-8 * x.shape[1]
    assert np.max(np.abs(mu - np.median(x, axis=1))) < 2.0


def test_one_sample_gives_a_float_and_unknown_psi_is_refused():
    assert isinstance(m_location(np.array([0.0, 1.0, 10.0])), float)
    with pytest.raises(ValueError, match="psi must be"):
        m_location(np.zeros((2, 3)), psi="welsch")
