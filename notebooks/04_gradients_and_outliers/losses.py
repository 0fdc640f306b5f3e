"""Answers to assignments 01-03: the four regression losses and their gradients, in NumPy.

Shipped with assignment 04 so that this notebook does not depend on your
earlier answers. Each function behaves like ``torch.nn.functional.<name>``
(and its gradient like ``torch.autograd.grad(loss.sum(), input)``).
"""

import numpy as np

REDUCTIONS = ("none", "mean", "sum")


def _check(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; use 'none', 'mean' or 'sum'")


def _reduce(values, reduction):
    _check(reduction)
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def _grad_reduce(grad, reduction):
    _check(reduction)
    return grad / grad.size if reduction == "mean" else grad


def _error(input, target):
    return np.asarray(input) - np.asarray(target)


def l1_loss(input, target, reduction="mean"):
    """|e|, reduced."""
    return _reduce(np.abs(_error(input, target)), reduction)


def l1_loss_grad(input, target, reduction="mean"):
    """sign(e) (0 at e = 0), divided by N for reduction='mean'."""
    return _grad_reduce(np.sign(_error(input, target)), reduction)


def mse_loss(input, target, reduction="mean"):
    """e**2, reduced."""
    return _reduce(_error(input, target) ** 2, reduction)


def mse_loss_grad(input, target, reduction="mean"):
    """2 e, divided by N for reduction='mean'."""
    return _grad_reduce(2 * _error(input, target), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """e**2 / 2 for |e| <= delta, else delta * (|e| - delta / 2); reduced."""
    if not delta > 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got delta={delta}")
    e = _error(input, target)
    a = np.abs(e)
    return _reduce(np.where(a <= delta, 0.5 * e ** 2, delta * (a - 0.5 * delta)), reduction)


def huber_loss_grad(input, target, reduction="mean", delta=1.0):
    """clip(e, -delta, delta), divided by N for reduction='mean'."""
    if not delta > 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got delta={delta}")
    return _grad_reduce(np.clip(_error(input, target), -delta, delta), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """e**2 / (2 beta) for |e| < beta, else |e| - beta / 2 (beta = 0: |e|); reduced."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got beta={beta}")
    e = _error(input, target)
    a = np.abs(e)
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(np.where(a < beta, 0.5 * e ** 2 / beta, a - 0.5 * beta), reduction)


def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
    """e / beta for |e| < beta, else sign(e) (beta = 0: sign(e)); divided by N for 'mean'."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got beta={beta}")
    e = _error(input, target)
    if beta == 0:
        return _grad_reduce(np.sign(e), reduction)
    return _grad_reduce(np.where(np.abs(e) < beta, e / beta, np.sign(e)), reduction)
