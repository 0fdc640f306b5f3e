"""The four losses and their gradients, as assignments 01-03 asked for them.

Assignment 05 needs working losses to fit lines with, so it ships this file
beside its notebook: these are the answers to assignments 01 (L1, MSE),
02 (Huber) and 03 (SmoothL1). Each function behaves like its namesake in
``torch.nn.functional``; ``<name>_grad`` returns d loss / d input with the shape
of ``input`` (divided by the number of elements for ``reduction="mean"``).
"""

import numpy as np

REDUCTIONS = ("none", "mean", "sum")


def _reduce(values, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; use 'none', 'mean' or 'sum'")
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def _grad_reduce(grad, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; use 'none', 'mean' or 'sum'")
    return grad / grad.size if reduction == "mean" else grad


def _error(input, target):
    return np.asarray(input, dtype=float) - np.asarray(target, dtype=float)


def _check_delta(delta):
    if not delta > 0:
        raise ValueError(f"huber_loss needs delta > 0, got delta={delta}")


def _check_beta(beta):
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss needs beta >= 0, got beta={beta}")


def l1_loss(input, target, reduction="mean"):
    """|e| with e = input - target."""
    return _reduce(np.abs(_error(input, target)), reduction)


def l1_loss_grad(input, target, reduction="mean"):
    """sign(e) (0 at e = 0)."""
    return _grad_reduce(np.sign(_error(input, target)), reduction)


def mse_loss(input, target, reduction="mean"):
    """e ** 2."""
    return _reduce(_error(input, target) ** 2, reduction)


def mse_loss_grad(input, target, reduction="mean"):
    """2 e."""
    return _grad_reduce(2.0 * _error(input, target), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """e**2 / 2 for |e| <= delta, delta * (|e| - delta / 2) beyond."""
    _check_delta(delta)
    a = np.abs(_error(input, target))
    return _reduce(np.where(a <= delta, 0.5 * a ** 2, delta * (a - 0.5 * delta)), reduction)


def huber_loss_grad(input, target, reduction="mean", delta=1.0):
    """e clipped to [-delta, delta]."""
    _check_delta(delta)
    return _grad_reduce(np.clip(_error(input, target), -delta, delta), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """e**2 / (2 beta) for |e| < beta, |e| - beta / 2 beyond; beta = 0 is L1."""
    _check_beta(beta)
    a = np.abs(_error(input, target))
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(np.where(a < beta, 0.5 * a ** 2 / beta, a - 0.5 * beta), reduction)


def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
    """e / beta for |e| < beta, sign(e) beyond; beta = 0 is L1."""
    _check_beta(beta)
    e = _error(input, target)
    if beta == 0:
        return _grad_reduce(np.sign(e), reduction)
    return _grad_reduce(np.where(np.abs(e) < beta, e / beta, np.sign(e)), reduction)
