"""regloss.teaching.shrinkage: the biased fit scales the slopes of the fit it wraps, and nothing else."""

import functools

import numpy as np
import pytest

from regloss.teaching.shrinkage import shrunk_fit


def _ols(x, Y):
    x = np.broadcast_to(np.asarray(x, dtype=float), Y.shape)
    xc = x - x.mean(axis=1, keepdims=True)
    a = (xc * Y).sum(axis=1) / (xc ** 2).sum(axis=1)
    return a, Y.mean(axis=1) - a * x.mean(axis=1)


def test_slopes_are_shrunk_and_intercepts_kept():
    rng = np.random.default_rng(4)
    x = np.linspace(0.0, 3.0, 12)
    Y = 2.0 * x + 1.0 + rng.normal(size=(50, 12))
    a, b = _ols(x, Y)
    sa, sb = functools.partial(shrunk_fit, fit=_ols, factor=0.8)(x, Y)
    assert np.allclose(sa, 0.8 * a, rtol=0, atol=1e-14) and np.array_equal(sb, b)
    assert abs(sa.mean() - 1.6) < 0.1  # biased: centred on 0.8 * 2, not 2
    assert np.array_equal(shrunk_fit(x, Y, _ols, factor=1)[0], a)


@pytest.mark.parametrize("fit,factor,exc", [(None, 0.8, TypeError), (_ols, float("nan"), ValueError),
                                            (_ols, "0.8", ValueError)])
def test_bad_arguments_are_refused(fit, factor, exc):
    with pytest.raises(exc):
        shrunk_fit(np.arange(3.0), np.ones((2, 3)), fit, factor)
