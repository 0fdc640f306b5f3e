"""Assignment 02's answers, shipped with assignment 03: the Huber loss and its gradient.

Written the way a student answers assignment 02: NumPy only, mirroring
``torch.nn.functional.huber_loss(input, target, reduction="mean", delta=1.0)``.
Assignment 03 imports them to check ``huber(delta) = delta * smooth_l1(beta=delta)``.
"""

import numpy as np


def _check_arguments(reduction, delta):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction!r} is not a valid value for reduction; use 'none', 'mean' or 'sum'")
    if not delta > 0:
        raise ValueError(f"delta must be positive, got delta={delta!r}")


def _reduce(values, reduction):
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: 0.5 e^2 where |e| < delta, else delta (|e| - 0.5 delta); e = input - target.

    input, target: arrays of the same shape; returns an array of that shape
    for reduction="none", else a scalar.
    """
    _check_arguments(reduction, delta)
    e = np.asarray(input) - np.asarray(target)
    abs_e = np.abs(e)
    return _reduce(np.where(abs_e < delta, 0.5 * e * e, delta * (abs_e - 0.5 * delta)), reduction)


def huber_loss_grad(input, target, reduction="mean", delta=1.0):
    """d huber_loss / d input = clip(e, -delta, delta), divided by input.size for reduction="mean"."""
    _check_arguments(reduction, delta)
    input = np.asarray(input)
    grad = np.clip(input - np.asarray(target), -delta, delta)
    return grad / input.size if reduction == "mean" else grad
