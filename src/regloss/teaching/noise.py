"""Noise models for the Monte Carlo studies: samplers that take a NumPy Generator.

Each sampler draws independent noise values ``eps`` of a given shape, centred
at 0 (the median is 0 for every model but the one-sided contamination; the
mean too, where it exists), with a
*scale* parameter that sets the width of the bulk of the distribution:

==========================  =====================================================
``gaussian``                :math:`\\mathcal N(0, \\sigma^2)`, ``scale`` = sigma
``laplace``                 density :math:`\\frac{1}{2b} e^{-|x|/b}`, ``scale`` = b
``student_t``               ``scale`` * t(nu); nu = 1 is the Cauchy distribution,
                            nu <= 2 has no finite variance, nu <= 1 no mean
``contaminated_normal``     with probability 1 - eps from N(0, sigma^2), with
                            probability eps from N(0, (factor * sigma)^2)
``one_sided_contamination`` with probability 1 - eps from N(0, sigma^2), with
                            probability eps from N(shift * sigma,
                            (factor * sigma)^2): gross errors on one side only,
                            so *not* centred at 0 (a bias no loss can undo)
==========================  =====================================================

:func:`noise_models` names the set the course's study uses. Seeds are never
set here: pass ``rng = numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), not {type(rng).__name__}")


def _check_probability(name, value):
    if not (isinstance(value, (int, float, np.integer, np.floating)) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def _check_positive(name, value):
    if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def gaussian(rng, size, scale=1.0):
    """Normal noise :math:`\\mathcal N(0, \\text{scale}^2)`.

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int or tuple of int
        Shape of the result.
    scale : float, > 0
        The standard deviation sigma.

    Returns
    -------
    numpy.ndarray of float64, shape ``size``
    """
    _check_rng(rng)
    _check_positive("scale", scale)
    return rng.normal(0.0, scale, size=size)


def laplace(rng, size, scale=1.0):
    """Laplace (double-exponential) noise, density :math:`\\frac{1}{2b}e^{-|x|/b}`.

    Its standard deviation is :math:`\\sqrt 2\\, b`; its maximum-likelihood
    location estimate is the median, so its negative log-likelihood is the
    L1 loss.

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int or tuple of int
    scale : float, > 0
        The scale b.

    Returns
    -------
    numpy.ndarray of float64, shape ``size``
    """
    _check_rng(rng)
    _check_positive("scale", scale)
    return rng.laplace(0.0, scale, size=size)


def student_t(rng, size, df, scale=1.0):
    """Student-t noise with ``df`` degrees of freedom, times ``scale``.

    Heavier tails for smaller ``df``: ``df = 1`` is the Cauchy distribution
    (no mean, no variance), ``df = 2`` has a mean but no variance, ``df = 3``
    has variance ``3 scale^2``. As ``df`` grows it approaches
    :math:`\\mathcal N(0, \\text{scale}^2)`.

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int or tuple of int
    df : float, > 0
        Degrees of freedom nu.
    scale : float, > 0

    Returns
    -------
    numpy.ndarray of float64, shape ``size``
    """
    _check_rng(rng)
    _check_positive("df", df)
    _check_positive("scale", scale)
    return scale * rng.standard_t(df, size=size)


def contaminated_normal(rng, size, eps=0.1, scale=1.0, factor=10.0):
    """Tukey's contaminated normal: mostly :math:`\\mathcal N(0, \\sigma^2)`, a fraction
    from a ``factor`` times wider normal.

    Each value independently comes from :math:`\\mathcal N(0, (\\text{factor}\\,\\sigma)^2)`
    with probability ``eps`` and from :math:`\\mathcal N(0, \\sigma^2)` otherwise:
    density :math:`(1-\\varepsilon)\\,\\varphi(x/\\sigma)/\\sigma + \\varepsilon\\,
    \\varphi(x/(\\text{factor}\\,\\sigma))/(\\text{factor}\\,\\sigma)`.

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int or tuple of int
    eps : float in [0, 1]
        Probability that a value is contaminated.
    scale : float, > 0
        sigma of the clean part.
    factor : float, > 0
        How many times wider the contaminating normal is (10 in the course).

    Returns
    -------
    numpy.ndarray of float64, shape ``size``
    """
    _check_rng(rng)
    _check_positive("scale", scale)
    _check_positive("factor", factor)
    _check_probability("eps", eps)
    z = rng.normal(0.0, 1.0, size=size)
    wide = rng.random(size=size) < eps
    return scale * np.where(wide, factor * z, z)


def one_sided_contamination(rng, size, eps=0.1, shift=8.0, factor=3.0, scale=1.0):
    """Gross errors on one side: mostly :math:`\\mathcal N(0, \\sigma^2)`, a fraction
    from a normal shifted by ``shift`` sigma.

    Each value independently comes from :math:`\\mathcal N(\\text{shift}\\,\\sigma,
    (\\text{factor}\\,\\sigma)^2)` with probability ``eps`` and from
    :math:`\\mathcal N(0, \\sigma^2)` otherwise: density
    :math:`(1-\\varepsilon)\\,\\varphi(x/\\sigma)/\\sigma + \\varepsilon\\,
    \\varphi\\big((x - \\text{shift}\\,\\sigma)/(\\text{factor}\\,\\sigma)\\big)/(\\text{factor}\\,\\sigma)`,
    mean :math:`\\varepsilon\\,\\text{shift}\\,\\sigma`. Unlike
    :func:`contaminated_normal` the contamination does not cancel out: it shifts
    every fit's intercept, the robust ones least.

    Draws ``z = rng.normal(size=size)`` and then ``u = rng.random(size=size)``;
    the value is ``scale * (shift + factor * z)`` where ``u < eps``, else ``scale * z``.

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int or tuple of int
    eps : float in [0, 1]
        Probability that a value is contaminated.
    shift : float
        Centre of the contaminating normal, in units of sigma (may be negative).
    factor : float, > 0
        Its standard deviation, in units of sigma.
    scale : float, > 0
        sigma of the clean part.

    Returns
    -------
    numpy.ndarray of float64, shape ``size``
    """
    _check_rng(rng)
    _check_positive("scale", scale)
    _check_positive("factor", factor)
    _check_probability("eps", eps)
    if not (isinstance(shift, (int, float, np.integer, np.floating)) and math.isfinite(shift)):
        raise ValueError(f"shift must be a finite number, got {shift!r}")
    z = rng.normal(0.0, 1.0, size=size)
    bad = rng.random(size=size) < eps
    return scale * np.where(bad, shift + factor * z, z)


def noise_models(scale=1.0, contamination=0.1):
    """The noise models of the course's Monte Carlo study, in display order.

    Parameters
    ----------
    scale : float
        The scale given to every model (sigma, b, or the t scale).
    contamination : float
        ``eps`` of the contaminated normal.

    Returns
    -------
    dict
        ``label -> sampler`` where ``sampler(rng, size)`` draws noise.
    """
    return {
        "Gaussian": partial(gaussian, scale=scale),
        "Laplace": partial(laplace, scale=scale),
        "Student-t nu=3": partial(student_t, df=3, scale=scale),
        "Student-t nu=2": partial(student_t, df=2, scale=scale),
        "Student-t nu=1 (Cauchy)": partial(student_t, df=1, scale=scale),
        f"contaminated eps={contamination:g}": partial(contaminated_normal, eps=contamination, scale=scale),
    }
