"""Centred finite differences: check an analytic gradient numerically.

The finite-difference gradient of a scalar function ``f`` at ``x`` is

.. math:: g_i \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h},

with error :math:`O(h^2)` where ``f`` is smooth. The relative error
``|a - b| / max(|a| + |b|, tiny)`` of two gradients is about ``1e-7`` or less
when they agree (float64, ``h = 1e-5``); near a kink (``e = 0`` for L1, ``|e| =
delta`` for Huber) finite differences average the two one-sided slopes, so
those points are skipped by :func:`check_gradient`.
"""

from __future__ import annotations

import numpy as np

from regloss.checks.mistakes import Hint


def numerical_gradient(f, x, h=1e-5):
    """Centred finite-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape ``(...)``.
    x : array_like, shape ``(...)``
    h : float
        Step.

    Returns
    -------
    numpy.ndarray, shape ``(...)``, float64
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = float(f(x))
        flat[i] = old - h
        fm = float(f(x))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


def rel_error(a, b, tiny=1e-12):
    """Largest element-wise relative error ``|a - b| / max(|a| + |b|, tiny)``.

    Returns
    -------
    float
        0 for identical inputs; below ``1e-6`` for gradients that agree.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)))


def check_gradient(loss_fn, grad_fn, input, target, kinks=(0.0,), h=1e-5, tol=1e-6, **kwargs):
    """Compare ``grad_fn`` with finite differences of ``loss_fn``.

    Parameters
    ----------
    loss_fn, grad_fn : callable
        ``fn(input, target, **kwargs)``; ``loss_fn`` must return a scalar
        for the ``reduction`` in ``kwargs`` (``"mean"`` or ``"sum"``).
    input, target : array_like, same shape
    kinks : tuple of float
        Values of ``|e|`` where the loss is not differentiable; elements within
        ``10 h`` of a kink are not compared.
    tol : float
        Largest relative error accepted.

    Returns
    -------
    float
        The relative error over the compared elements.

    Raises
    ------
    AssertionError
        When the relative error exceeds ``tol``.
    """
    x = np.asarray(input, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    num = numerical_gradient(lambda z: loss_fn(z, t, **kwargs), x, h)
    ana = np.asarray(grad_fn(x.copy(), t, **kwargs), dtype=np.float64)
    ae = np.abs(x - t)
    keep = np.ones(x.shape, dtype=bool)
    for k in kinks:
        keep &= np.abs(ae - k) > 10 * h
    err = rel_error(ana[keep], num[keep])
    differ = Hint("gradient-vs-finite-differences",
                  f"analytic and finite-difference gradients differ: relative error {err:.3g} > {tol:g}")
    assert err <= tol, f"{differ}\nanalytic  {ana[keep][:6]}\nnumerical {num[keep][:6]}"
    return err
