"""Reference values from PyTorch: the truth every exercise is checked against.

Each function takes NumPy arrays, runs the matching ``torch.nn.functional``
loss on the same values and dtype, and returns NumPy arrays.  Gradients come
from ``torch.autograd.grad(loss.sum(), input)``, exactly as the exercise
contract states.
"""

from __future__ import annotations

import warnings

import numpy as np

from regloss import LOSSES

#: The extra keyword argument of each loss, if any.
PARAMETER = {"l1_loss": None, "mse_loss": None, "huber_loss": "delta", "smooth_l1_loss": "beta"}

#: Default of that argument in ``torch.nn.functional``.
PARAMETER_DEFAULT = {"huber_loss": 1.0, "smooth_l1_loss": 1.0}

REDUCTIONS = ("none", "mean", "sum")


def _torch():
    import torch  # imported lazily: students' notebooks pay for it only when they check

    return torch


def _tensor(a, requires_grad=False):
    torch = _torch()
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    t = torch.from_numpy(np.array(arr, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _call(name, input_t, target_t, reduction, params):
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {LOSSES}")
    fn = getattr(_torch().nn.functional, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(input_t, target_t, reduction=reduction, **params)


def torch_loss(name, input, target, reduction="mean", **params):
    """Loss value from ``torch.nn.functional.<name>``.

    Parameters
    ----------
    name : str
        One of :data:`regloss.LOSSES`.
    input, target : array_like, same shape ``(...)``
        Predictions and targets; float32 stays float32.
    reduction : {"none", "mean", "sum"}
    **params
        ``delta`` for Huber, ``beta`` for SmoothL1.

    Returns
    -------
    numpy.ndarray
        Shape ``(...)`` for ``reduction="none"``, else shape ``()``.
    """
    out = _call(name, _tensor(input), _tensor(target), reduction, params)
    return out.detach().numpy()


def torch_grad(name, input, target, reduction="mean", **params):
    """Gradient ``d loss / d input`` from ``torch.autograd``.

    Computed as ``torch.autograd.grad(loss.sum(), input)``: for
    ``reduction="none"`` that is the element-wise derivative, for ``"mean"``
    the same divided by ``input.size``.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``input``.
    """
    torch = _torch()
    x = _tensor(input, requires_grad=True)
    out = _call(name, x, _tensor(target), reduction, params)
    (g,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    if g is None:  # empty input: nothing flows back
        g = torch.zeros_like(x)
    return g.detach().numpy()


def torch_error(name, input, target, reduction="mean", **params):
    """The exception PyTorch raises for these arguments, or ``None``."""
    try:
        _call(name, _tensor(input), _tensor(target), reduction, params)
    except Exception as exc:  # noqa: BLE001 - we report whatever torch raises
        return exc
    return None
