"""One record per loss: everything the checks know about it, in one place.

A :class:`LossSpec` holds a loss's parameters and their defaults, its truth (a
``torch.nn.functional`` function, or a torch expression of the error ``e`` and the
parameters), how the probe cases draw its parameters and where they put errors, the
invalid calls it must refuse, and how a wrong answer is read: the constant factors
that fit a mistake made in *this* loss, whether it has a kink at ``e = 0``, and its
own readings of where an element-wise answer is wrong. :data:`REGISTRY` maps each
loss's name to its record; :mod:`~regloss.checks.reference`,
:mod:`~regloss.checks.cases`, :mod:`~regloss.checks.compare`,
:mod:`~regloss.checks.diagnose` and :mod:`~regloss.checks.diagnose_robust` read
nothing else about a loss. Adding a loss is adding one entry here.

The torch expressions are written in numerically careful forms (no cancellation
near ``e = 0``, no overflow far out); torch is imported only when one is evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from regloss.checks.mistakes import Hint

if TYPE_CHECKING:
    import torch

Kind = Literal["loss", "grad"]
"""What is checked: the loss's value, or its gradient with respect to ``input``."""

Params = Mapping[str, float]
"""A call's parameters by name (``{"delta": 2.0}``)."""


def _torch() -> Any:
    import torch  # imported lazily: students' notebooks pay for it only when they check

    return torch


# ----------------------------------------------------------------------------- the parts of a record


@dataclass(frozen=True)
class Factor:
    """A reading of a constant factor: ``student == factor * truth`` reads as ``hint``.

    Attributes
    ----------
    factor : float or callable
        The factor, or a function of the call's parameters (defaults filled in) that
        gives it, or ``None`` where the reading does not apply (a parameter of 0).
    hint : Hint
    """

    factor: float | Callable[[Params], float | None]
    hint: Hint

    def at(self, params: Params) -> float | None:
        """The factor for a call with ``params`` (defaults filled in); ``None``: no reading."""
        return self.factor(params) if callable(self.factor) else self.factor


@dataclass(frozen=True)
class Disagreement:
    """Where an element-wise answer (``reduction="none"``, or a gradient) differs from PyTorch's.

    What a loss's own readings (:attr:`LossSpec.where`) look at.

    Attributes
    ----------
    error : numpy.ndarray, shape ``(...)``
        ``e = input - target``, float64, broadcast to the answer's shape.
    student : numpy.ndarray, shape ``(...)``
        The student's answer, float64.
    bad : numpy.ndarray of bool, shape ``(...)``
        Where the answer differs.
    kind : {"loss", "grad"}
    params : Mapping
        The call's parameters, defaults filled in.
    """

    error: np.ndarray
    student: np.ndarray
    bad: np.ndarray
    kind: Kind
    params: Params


ProbeParams = Callable[[np.random.Generator], list[dict[str, float]]]
"""Draws the parameter values :func:`regloss.checks.cases.probe_cases` tries by default."""


def _no_params(rng: np.random.Generator) -> list[dict[str, float]]:
    """A loss without parameters is probed once, with none."""
    return [{}]


@dataclass(frozen=True)
class LossSpec:
    """Everything the checks know about one loss.

    Attributes
    ----------
    name : str
        The function's name, as in ``torch.nn.functional`` where PyTorch has the loss.
    parameters : Mapping of str to float
        Every keyword argument besides ``reduction``, with its default, in the
        contract's order (``torch.nn.functional``'s where PyTorch has the loss). The
        first is the loss's main parameter (:attr:`main`).
    truth : str or callable
        The name of the ``torch.nn.functional`` function that is the truth, or a torch
        expression ``truth(e, **params) -> Tensor`` of the error tensor ``e = input -
        target``, element-wise, that validates its parameters (``ValueError``).
    boundary : str or None
        The parameter at which the loss's branches switch or its scale lies (Huber's
        ``delta``, Tukey's ``c``, Barron's ``scale``): probe errors sit on it, at its
        half, double, ... ``None``: no such parameter.
    boundary_default : bool
        Whether a call that leaves :attr:`boundary` out probes the boundary at its
        default. False for the four ``torch.nn.functional`` losses, whose probes have
        always been drawn so (the same seeds keep drawing the same cases).
    large_errors : bool
        Whether the probe cases also try errors of 30 and 1e4 (where a naive
        ``log(cosh(e))`` overflows), and put targets at 0 where an error is a multiple of
        the boundary.
    probe_params : callable
        ``probe_params(rng) -> [params, ...]``: the parameter values
        :func:`~regloss.checks.cases.probe_cases` tries by default.
    positional : Mapping of str to float
        The parameters :func:`~regloss.checks.cases.convention_cases` passes
        positionally by default: values other than the defaults.
    invalid : tuple of (dict, str)
        Parameter values the loss must refuse with a ``ValueError``, each with the name
        of the offending argument (an invalid ``reduction`` is tried for every loss).
    kinked_at_zero : bool, str or None
        Whether the loss has a kink at ``e = 0`` (where PyTorch's subgradient is 0): a
        parameter's name means "when that parameter is 0" (SmoothL1 with ``beta = 0``);
        ``None``: not known. Read by the hint for a gradient wrong only at ``e = 0``.
    value_factors, grad_factors : tuple of Factor, or None
        The readings of a constant factor between a student's value (gradient) and
        PyTorch's that fit a mistake made in this loss, besides the reduction's ``N``:
        a stray ``0.5`` is a mistake one makes in Huber's ``0.5 * e**2``, never in L1's
        ``|e|``. ``None``: the generic readings of :data:`regloss.checks.diagnose.GENERIC_FACTORS`.
    diagnosis : {"branches", "robust"}
        How an element-wise answer that is wrong in places is read:
        ``"branches"`` by the branches of a piecewise loss around :attr:`main`
        (``|e| < delta`` quadratic, ``|e| > delta`` linear, :func:`regloss.checks.diagnose.location_hint`);
        ``"robust"`` by ``e = 0`` and this loss's own readings :attr:`where`
        (:func:`regloss.checks.diagnose_robust.location_hint`).
    where : callable or None
        ``where(disagreement) -> Hint or None``: this loss's own reading of where an
        answer is wrong (only beyond ``c``, only at large ``|e|``, ...), for the
        ``"robust"`` diagnosis.
    kink_note : str or None
        What the ``"robust"`` hint for a gradient wrong only at ``e = 0`` adds (the
        quantile loss: the contract's 0 at its kink).
    """

    name: str
    parameters: Mapping[str, float]
    truth: str | Callable[..., torch.Tensor]
    boundary: str | None = None
    boundary_default: bool = True
    large_errors: bool = True
    probe_params: ProbeParams = field(default=_no_params)
    positional: Mapping[str, float] = field(default_factory=dict)
    invalid: tuple[tuple[dict[str, float], str], ...] = ()
    kinked_at_zero: bool | str | None = None
    value_factors: tuple[Factor, ...] | None = None
    grad_factors: tuple[Factor, ...] | None = None
    diagnosis: Literal["branches", "robust"] = "robust"
    where: Callable[[Disagreement], Hint | None] | None = None
    kink_note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "positional", MappingProxyType(dict(self.positional)))

    @property
    def main(self) -> str | None:
        """The main (first) parameter, ``None`` for a loss without one."""
        return next(iter(self.parameters), None)

    @property
    def in_torch(self) -> bool:
        """Whether the truth is a ``torch.nn.functional`` function (else a torch expression)."""
        return isinstance(self.truth, str)

    def with_defaults(self, params: Params) -> dict[str, float]:
        """``params`` with every parameter it leaves out at its default."""
        return {**self.parameters, **params}

    def factors(self, kind: Kind) -> tuple[Factor, ...] | None:
        """:attr:`value_factors` or :attr:`grad_factors`."""
        return self.value_factors if kind == "loss" else self.grad_factors

    def kinked(self, params: Params) -> bool | None:
        """Whether the loss has a kink at ``e = 0`` for a call with ``params`` (see :attr:`kinked_at_zero`)."""
        if isinstance(self.kinked_at_zero, str):
            return self.with_defaults(params).get(self.kinked_at_zero) == 0
        return self.kinked_at_zero


# ----------------------------------------------------------------------------- shared pieces


def _positive(name: str, value: Any) -> float:
    if not (isinstance(value, (int, float, np.integer, np.floating)) and value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}")
    return float(value)


def _draw_r(rng: np.random.Generator) -> float:
    return float(np.round(rng.uniform(0.1, 3.0), 3))


def _core_params(name: str, zero: bool = False) -> ProbeParams:
    """``name`` at 1, 0.5, 2 and one random value in [0.1, 3) (and 0 with ``zero``)."""

    def draw(rng: np.random.Generator) -> list[dict[str, float]]:
        return [{name: v} for v in [1.0, 0.5, 2.0, _draw_r(rng)] + ([0.0] if zero else [])]

    return draw


def _robust_params(name: str, values: Callable[[float, float], list[float]]) -> ProbeParams:
    """``name`` at ``values(r, q)`` of a random ``r`` in [0.1, 3) and ``q`` in [0.02, 0.98).

    Both are drawn, in that order, whether ``values`` uses them or not: so the robust
    losses have always drawn, and a seed keeps drawing the same cases.
    """

    def draw(rng: np.random.Generator) -> list[dict[str, float]]:
        r = _draw_r(rng)
        q = float(np.round(rng.uniform(0.02, 0.98), 3))
        return [{name: v} for v in values(r, q)]

    return draw


def _general_params(rng: np.random.Generator) -> list[dict[str, float]]:
    """Barron's loss at alpha = 2, 1, 0, -2, -inf, 4, 0.5 and a random alpha, with several scales."""
    r = _draw_r(rng)
    a = float(np.round(rng.uniform(-6.0, 3.0), 3))
    if abs(a) < 0.1:  # Barron's own power form loses digits near alpha = 0 (fine in float64, not float32)
        a += 0.25
    return [{"alpha": 2.0, "scale": 1.0}, {"alpha": 1.0, "scale": 1.0}, {"alpha": 0.0, "scale": 0.5},
            {"alpha": -2.0, "scale": 2.0}, {"alpha": -np.inf, "scale": 1.0}, {"alpha": 4.0, "scale": 1.5},
            {"alpha": 0.5, "scale": 0.25}, {"alpha": a, "scale": r}]


def _nonzero(name: str, f: Callable[[float], float]) -> Callable[[Params], float | None]:
    """``f(params[name])``, or no reading where the parameter is 0 (or absent)."""
    return lambda params: f(params[name]) if params.get(name) else None


_SIGN_LOSS = Hint("flipped-sign", "your loss is the negative of PyTorch's: these losses are never negative")
_SIGN_GRAD = Hint("flipped-sign", "the sign of the gradient is flipped: e = input - target, and d e / d input = +1")
_SIGN_ROBUST_LOSS = Hint("flipped-sign", "your loss is the negative of the course's torch expression: it is never "
                                         "negative")

#: Huber's readings of the factor delta: the other convention, or delta once too often.
DELTA_READINGS = (
    Factor(_nonzero("delta", lambda p: 1.0 / p), Hint(
        "smoothl1-convention",
        "divided by delta: that is the SmoothL1 convention; Huber = delta * SmoothL1(beta=delta)")),
    Factor(_nonzero("delta", lambda p: p), Hint("multiplied-too-often", "multiplied by delta once too often?")),
)

#: SmoothL1's readings of the factor beta: the other convention, or beta once too often.
BETA_READINGS = (
    Factor(_nonzero("beta", lambda p: p), Hint(
        "huber-convention",
        "multiplied by beta: that is the Huber convention; SmoothL1 = Huber(delta=beta) / beta")),
    Factor(_nonzero("beta", lambda p: 1.0 / p), Hint("divided-too-often", "divided by beta once too often?")),
)

_DELTA_INVALID: tuple[tuple[dict[str, float], str], ...] = tuple(({"delta": v}, "delta") for v in (0.0, -1.0, -0.5))
_C_INVALID: tuple[tuple[dict[str, float], str], ...] = tuple(({"c": v}, "c") for v in (0.0, -1.0, -2.3849))


def _tiny_cancellation(d: Disagreement) -> Hint | None:
    if d.kind == "loss" and np.all(np.abs(d.error[d.bad]) < 1e-2):
        return Hint("cancellation", "wrong only for tiny |e|: a cancellation (sqrt(1 + u) - 1, or x**a - 1, for u "
                                    "near 0)? Rewrite it without subtracting nearly equal numbers (e.g. u / (sqrt(1 "
                                    "+ u) + 1), expm1, log1p)")
    return None


# ----------------------------------------------------------------------------- the robust losses' truths


def _log_cosh(e: torch.Tensor) -> torch.Tensor:
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


def _pseudo_huber(e: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    # delta^2 (sqrt(1 + (e/delta)^2) - 1) = e^2 / (sqrt(1 + (e/delta)^2) + 1): no cancellation
    delta = _positive("delta", delta)
    torch = _torch()
    u = e / delta
    return e * e / (torch.sqrt(1 + u * u) + 1)


def _cauchy(e: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    c = _positive("c", c)
    return (c * c / 2) * _torch().log1p((e / c) ** 2)


def _tukey(e: torch.Tensor, c: float = 4.685) -> torch.Tensor:
    # (c^2/6)(1 - (1 - u)^3) = (c^2/6) u (3 - 3u + u^2), u = min((e/c)^2, 1)
    c = _positive("c", c)
    u = _torch().clamp((e / c) ** 2, max=1.0)
    return (c * c / 6) * u * (3 - 3 * u + u * u)


def _quantile(e: torch.Tensor, q: float = 0.5) -> torch.Tensor:
    if not (isinstance(q, (int, float, np.integer, np.floating)) and 0 < q < 1):
        raise ValueError(f"q must be a number with 0 < q < 1, got q={q!r}")
    q = float(q)
    torch = _torch()
    # q max(target - input, 0) + (1 - q) max(input - target, 0); relu'(0) = 0 in autograd
    return q * torch.relu(-e) + (1 - q) * torch.relu(e)


def _general(e: torch.Tensor, alpha: float = 1.0, scale: float = 1.0) -> torch.Tensor:
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


# ----------------------------------------------------------------------------- the robust losses' own readings


def _log_cosh_where(d: Disagreement) -> Hint | None:
    if (~np.isfinite(d.student[d.bad])).any():
        return Hint("cosh-overflow", "inf or nan at large |e|: cosh(e) overflows (float64 near |e| = 710, float32 "
                                     "near 89); log cosh e needs a form that never computes cosh(e) itself")
    return None


def _tukey_where(d: Disagreement) -> Hint | None:
    c = d.params["c"]
    if np.all(np.abs(d.error[d.bad]) > c):
        return Hint("tukey-beyond-c", f"wrong only where |e| > c = {c:g}: beyond c Tukey's loss is the constant "
                                      "c**2 / 6 and its gradient 0 (the polynomial must not be continued)")
    return None


def _quantile_where(d: Disagreement) -> Hint | None:
    e = d.error[d.bad]
    if np.all(e > 0) or np.all(e < 0):
        side = "e > 0 (input above target)" if np.all(e > 0) else "e < 0 (input below target)"
        q = d.params["q"]
        return Hint("quantile-swapped", f"wrong only where {side}: with e = input - target, input above target "
                                        f"costs (1 - q) e and input below costs q (-e); here q = {q:g}. Are q and "
                                        "1 - q swapped?")
    return None


def _general_where(d: Disagreement) -> Hint | None:
    if (~np.isfinite(d.student[d.bad])).any():
        a = d.params["alpha"]
        return Hint("alpha-limits", f"nan or inf with alpha = {a:g}: at alpha = 2, 0 and -inf the general formula "
                                    "divides by zero or becomes 0 * inf; there rho is its limit as alpha tends "
                                    "to that value")
    return _tiny_cancellation(d)


def _twice(text: str) -> tuple[Factor, ...]:
    return (Factor(2.0, Hint("missing-0.5", f"twice PyTorch's value: {text}")),)




# ----------------------------------------------------------------------------- the registry


def _core(name: str, parameters: Mapping[str, float], positional: Mapping[str, float],
          invalid: tuple[tuple[dict[str, float], str], ...], kinked_at_zero: bool | str,
          value_factors: tuple[Factor, ...], grad_factors: tuple[Factor, ...],
          probe_params: ProbeParams) -> LossSpec:
    """A ``torch.nn.functional`` loss of the course (01-03): piecewise, read by its branches."""
    return LossSpec(name, parameters, truth=name, boundary=next(iter(parameters), None), boundary_default=False,
                    large_errors=False, probe_params=probe_params, positional=positional, invalid=invalid,
                    kinked_at_zero=kinked_at_zero, value_factors=value_factors, grad_factors=grad_factors,
                    diagnosis="branches")


def _robust(name: str, parameters: Mapping[str, float], truth: Callable[..., torch.Tensor],
            own: tuple[Factor, ...], **fields: Any) -> LossSpec:
    """A loss of assignment 07, written as a torch expression and read the ``"robust"`` way. Its
    factor readings: a flipped sign, then its ``own``, alike for value and gradient."""
    return LossSpec(name, parameters, truth, value_factors=(Factor(-1.0, _SIGN_ROBUST_LOSS),) + own,
                    grad_factors=(Factor(-1.0, _SIGN_GRAD),) + own, **fields)


_SPECS: Sequence[LossSpec] = (
    _core("l1_loss", {}, {}, (), True,
          (Factor(-1.0, _SIGN_LOSS),), (Factor(-1.0, _SIGN_GRAD),), _no_params),
    _core("mse_loss", {}, {}, (), False,
          (Factor(-1.0, _SIGN_LOSS),
           Factor(0.5, Hint("extra-0.5", "half of PyTorch's value: an extra 0.5? MSE is e**2 (the 0.5 belongs to "
                                         "Huber's quadratic branch)"))),
          (Factor(-1.0, _SIGN_GRAD),
           Factor(0.5, Hint("missing-2", "half of PyTorch's value: a factor 2 missing? Check the derivative of e**2"))),
          _no_params),
    _core("huber_loss", {"delta": 1.0}, {"delta": 2.0}, _DELTA_INVALID, False,
          DELTA_READINGS + (Factor(-1.0, _SIGN_LOSS),)
          + _twice("a missing factor 0.5? (the quadratic branch is 0.5 * e**2)"),
          DELTA_READINGS + (Factor(-1.0, _SIGN_GRAD),)
          + _twice("did the 0.5 of 0.5 * e**2 get lost when you differentiated?"),
          _core_params("delta")),
    _core("smooth_l1_loss", {"beta": 1.0}, {"beta": 0.5}, tuple(({"beta": v}, "beta") for v in (-1.0, -1e-3)),
          "beta",
          BETA_READINGS + (Factor(-1.0, _SIGN_LOSS),)
          + _twice("a missing factor 0.5? (the quadratic branch is 0.5 * e**2 / beta)"),
          BETA_READINGS + (Factor(-1.0, _SIGN_GRAD),)
          + _twice("did the 0.5 of 0.5 * e**2 / beta get lost when you differentiated?"),
          _core_params("beta", zero=True)),
    _robust("log_cosh_loss", {}, _log_cosh,
            _twice("log(cosh(e)), not 2 log(cosh(e)) (log cosh e ~ e**2 / 2 near 0)"),
            kinked_at_zero=False, where=_log_cosh_where),
    _robust("pseudo_huber_loss", {"delta": 1.0}, _pseudo_huber, (
                Factor(lambda p: 1.0 / p["delta"] ** 2, Hint(
                    "missing-scale-factor", "missing the factor delta**2: pseudo-Huber is delta**2 (sqrt(1 + "
                    "(e/delta)**2) - 1), so that it is e**2 / 2 near 0 and delta |e| far out")),
                Factor(lambda p: 1.0 / p["delta"], Hint(
                    "divided-too-often", "divided by delta once too often: the slope far out is +-delta"))),
            boundary="delta", probe_params=_robust_params("delta", lambda r, q: [1.0, 0.5, 2.0, r]),
            positional={"delta": 2.0}, invalid=_DELTA_INVALID, kinked_at_zero=False, where=_tiny_cancellation),
    _robust("cauchy_loss", {"c": 1.0}, _cauchy, (
                Factor(lambda p: 2.0 / p["c"] ** 2, Hint(
                    "missing-scale-factor",
                    "missing the factor c**2 / 2: the Cauchy loss is (c**2 / 2) log(1 + (e/c)**2)")),
                Factor(lambda p: 1.0 / p["c"] ** 2, Hint(
                    "missing-scale-factor",
                    "missing the factor c**2 (and have you the 1/2?): (c**2 / 2) log(1 + (e/c)**2)")))
            + _twice("the factor is c**2 / 2, not c**2 (SciPy's cost has the 0.5)"),
            boundary="c", probe_params=_robust_params("c", lambda r, q: [1.0, 2.3849, 0.5, r]),
            positional={"c": 2.0}, invalid=_C_INVALID, kinked_at_zero=False, where=_tiny_cancellation),
    _robust("tukey_biweight_loss", {"c": 4.685}, _tukey, (
                Factor(lambda p: 6.0 / p["c"] ** 2, Hint(
                    "missing-scale-factor",
                    "missing the factor c**2 / 6: Tukey's loss is (c**2 / 6)(1 - (1 - (e/c)**2)**3)")),)
            + _twice("the factor is c**2 / 6, not c**2 / 3"),
            boundary="c", probe_params=_robust_params("c", lambda r, q: [4.685, 1.0, 2.0, r]),
            positional={"c": 3.0}, invalid=_C_INVALID, kinked_at_zero=False, where=_tukey_where),
    _robust("quantile_loss", {"q": 0.5}, _quantile, _twice("q max(-e, 0) + (1 - q) max(e, 0), no factor 2"),
            probe_params=_robust_params("q", lambda r, q: [0.5, 0.1, 0.9, q]), positional={"q": 0.25},
            invalid=tuple(({"q": v}, "q") for v in (0.0, 1.0, -0.25, 1.5)), kinked_at_zero=True,
            where=_quantile_where,
            kink_note="the contract takes 0 at the kink e = 0 (a test such as e >= 0 gives 1 - q)"),
    _robust("general_robust_loss", {"alpha": 1.0, "scale": 1.0}, _general, (
                Factor(lambda p: p["scale"] ** 2, Hint(
                    "multiplied-too-often", "multiplied by scale**2: Barron's rho(x, alpha, c) has no c**2 in front")),
                Factor(lambda p: 1.0 / p["scale"] ** 2,
                       Hint("divided-too-often", "divided by scale**2 once too often")))
            + _twice("at alpha = 2 rho is (x/c)**2 / 2"),
            boundary="scale", probe_params=_general_params, positional={"alpha": -2.0, "scale": 0.5},
            invalid=tuple(({"scale": v}, "scale") for v in (0.0, -1.0)) + (({"alpha": float("nan")}, "alpha"),),
            kinked_at_zero=False, where=_general_where),
)

#: Every loss the checks know, by name: the one place a loss is described.
REGISTRY: dict[str, LossSpec] = {s.name: s for s in _SPECS}


def spec(name: str) -> LossSpec:
    """The record of the loss ``name``.

    Raises
    ------
    ValueError
        For a loss :data:`REGISTRY` does not know.
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; expected one of {names()}") from None


def names() -> tuple[str, ...]:
    """The names of every loss in :data:`REGISTRY`, in its order."""
    return tuple(REGISTRY)
