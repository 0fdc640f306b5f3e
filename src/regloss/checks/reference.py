"""Reference values from PyTorch: the truth every exercise is checked against.

Each function takes NumPy arrays, computes the loss with PyTorch on the same
values and dtype, and returns NumPy arrays. The four core losses are
``torch.nn.functional``'s own; the robust losses of assignment 07
(:data:`regloss.ROBUST_LOSSES`), which PyTorch does not ship, are torch
expressions written here in numerically careful forms (see :data:`ROBUST`).
Gradients come from ``torch.autograd.grad(loss.sum(), input)``, exactly as the
exercise contract states.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from regloss import ALL_LOSSES, LOSSES

#: The (first) extra keyword argument of each loss, if any; :data:`PARAMETERS` lists all.
PARAMETER = {"l1_loss": None, "mse_loss": None, "huber_loss": "delta", "smooth_l1_loss": "beta",
             "log_cosh_loss": None, "pseudo_huber_loss": "delta", "cauchy_loss": "c",
             "tukey_biweight_loss": "c", "quantile_loss": "q", "general_robust_loss": "alpha"}

#: Every extra keyword argument of each loss with its default, in the contract's order.
PARAMETERS = {"l1_loss": {}, "mse_loss": {}, "huber_loss": {"delta": 1.0}, "smooth_l1_loss": {"beta": 1.0},
              "log_cosh_loss": {}, "pseudo_huber_loss": {"delta": 1.0}, "cauchy_loss": {"c": 1.0},
              "tukey_biweight_loss": {"c": 4.685}, "quantile_loss": {"q": 0.5},
              "general_robust_loss": {"alpha": 1.0, "scale": 1.0}}

#: Default of the (first) parameter: ``torch.nn.functional``'s, or the contract's for the robust losses.
PARAMETER_DEFAULT = {name: params[PARAMETER[name]] for name, params in PARAMETERS.items() if PARAMETER[name]}

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


def _positive(name, value):
    if not (isinstance(value, (int, float, np.integer, np.floating)) and value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}")
    return float(value)


def _log_cosh(e, **_):
    # log cosh e = log1p(2 sinh(e/2)^2) (no cancellation near 0) for |e| < 10,
    # = |e| + log1p(exp(-2|e|)) - log 2 (no overflow) beyond. The small branch only
    # sees clamped errors, so that no inf or nan reaches autograd through torch.where.
    torch = _torch()
    a = e.abs()
    small = a < 10
    es = torch.where(small, e, torch.zeros_like(e))
    near = torch.log1p(2 * torch.sinh(es / 2) ** 2)
    far = a + torch.log1p(torch.exp(-2 * a)) - math.log(2.0)
    return torch.where(small, near, far)


def _pseudo_huber(e, delta=1.0):
    # delta^2 (sqrt(1 + (e/delta)^2) - 1) = e^2 / (sqrt(1 + (e/delta)^2) + 1): no cancellation
    delta = _positive("delta", delta)
    torch = _torch()
    u = e / delta
    return e * e / (torch.sqrt(1 + u * u) + 1)


def _cauchy(e, c=1.0):
    c = _positive("c", c)
    return (c * c / 2) * _torch().log1p((e / c) ** 2)


def _tukey(e, c=4.685):
    # (c^2/6)(1 - (1 - u)^3) = (c^2/6) u (3 - 3u + u^2), u = min((e/c)^2, 1)
    c = _positive("c", c)
    u = _torch().clamp((e / c) ** 2, max=1.0)
    return (c * c / 6) * u * (3 - 3 * u + u * u)


def _quantile(e, q=0.5):
    if not (isinstance(q, (int, float, np.integer, np.floating)) and 0 < q < 1):
        raise ValueError(f"q must be a number with 0 < q < 1, got q={q!r}")
    q = float(q)
    torch = _torch()
    # q max(target - input, 0) + (1 - q) max(input - target, 0); relu'(0) = 0 in autograd
    return q * torch.relu(-e) + (1 - q) * torch.relu(e)


def _general(e, alpha=1.0, scale=1.0):
    """Barron's rho(x, alpha, c), following robust_loss_pytorch's ``general.lossfun``:
    its closed forms at alpha = 2, 0, -inf and +inf, and otherwise
    |alpha - 2| / alpha * ((x/c)^2 / |alpha - 2| + 1)^(alpha/2) - 1), written with
    expm1 / log1p so that small x and alpha near 0 lose no digits."""
    scale = _positive("scale", scale)
    if not isinstance(alpha, (int, float, np.integer, np.floating)) or math.isnan(alpha):
        raise ValueError(f"alpha must be a real number (or -inf / inf), got alpha={alpha!r}")
    alpha = float(alpha)
    torch = _torch()
    z = (e / scale) ** 2
    if alpha == 2:
        return 0.5 * z
    if alpha == 0:
        return torch.log1p(0.5 * z)
    if alpha == -math.inf:
        return -torch.expm1(-0.5 * z)
    if alpha == math.inf:
        return torch.expm1(0.5 * z)
    b = abs(alpha - 2)
    return (b / alpha) * torch.expm1((alpha / 2) * torch.log1p(z / b))


#: The robust losses as functions of the error tensor ``e`` and their parameters.
ROBUST = {"log_cosh_loss": _log_cosh, "pseudo_huber_loss": _pseudo_huber, "cauchy_loss": _cauchy,
          "tukey_biweight_loss": _tukey, "quantile_loss": _quantile, "general_robust_loss": _general}


def _call(name, input_t, target_t, reduction, params):
    if name not in ALL_LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {ALL_LOSSES}")
    if name in LOSSES:
        fn = getattr(_torch().nn.functional, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(input_t, target_t, reduction=reduction, **params)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unknown = set(params) - set(PARAMETERS[name])
    if unknown:
        raise TypeError(f"{name} takes no argument {sorted(unknown)}")
    loss = ROBUST[name](input_t - target_t, **params)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def torch_loss(name, input, target, reduction="mean", **params):
    """Loss value from ``torch.nn.functional.<name>`` (or the torch expression of :data:`ROBUST`).

    Parameters
    ----------
    name : str
        One of :data:`regloss.ALL_LOSSES`.
    input, target : array_like, same shape ``(...)``
        Predictions and targets; float32 stays float32.
    reduction : {"none", "mean", "sum"}
    **params
        ``delta`` for Huber and pseudo-Huber, ``beta`` for SmoothL1, ``c`` for
        Cauchy and Tukey, ``q`` for the quantile loss, ``alpha`` and ``scale``
        for Barron's general loss (:data:`PARAMETERS`).

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
