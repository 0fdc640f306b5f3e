"""Reference values from PyTorch: the truth every exercise is checked against.

Each function takes NumPy arrays, computes the loss with PyTorch on the same
values and dtype, and returns NumPy arrays. A loss's truth is its record's
(:data:`regloss.checks.losses.REGISTRY`): ``torch.nn.functional``'s own function
for the four core losses, and for the robust losses of assignment 07, which
PyTorch does not ship, a torch expression written in a numerically careful form.
Gradients come from ``torch.autograd.grad(loss.sum(), input)``, exactly as the
exercise contract states.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from regloss.checks.losses import REGISTRY, names

REDUCTIONS = ("none", "mean", "sum")


def _torch() -> Any:
    import torch  # imported lazily: students' notebooks pay for it only when they check

    return torch


def _tensor(a: Any, requires_grad: bool = False) -> Any:
    torch = _torch()
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    t = torch.from_numpy(np.array(arr, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _call(name: str, input_t: Any, target_t: Any, reduction: str, params: dict[str, Any]) -> Any:
    spec = REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"unknown loss {name!r}; expected one of {names()}")
    if isinstance(spec.truth, str):
        fn = getattr(_torch().nn.functional, spec.truth)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(input_t, target_t, reduction=reduction, **params)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unknown = set(params) - set(spec.parameters)
    if unknown:
        raise TypeError(f"{name} takes no argument {sorted(unknown)}")
    loss = spec.truth(input_t - target_t, **params)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def torch_loss(name, input, target, reduction="mean", **params):
    """Loss value from ``torch.nn.functional.<name>`` (or the loss record's torch expression).

    Parameters
    ----------
    name : str
        A loss of :data:`regloss.checks.losses.REGISTRY`.
    input, target : array_like, same shape ``(...)``
        Predictions and targets; float32 stays float32.
    reduction : {"none", "mean", "sum"}
    **params
        ``delta`` for Huber and pseudo-Huber, ``beta`` for SmoothL1, ``c`` for
        Cauchy and Tukey, ``q`` for the quantile loss, ``alpha`` and ``scale``
        for Barron's general loss (the record's ``parameters``).

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
