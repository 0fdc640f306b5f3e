"""Test cases for the losses: worked examples and random probes.

A :class:`Case` is one call ``fn(input, target, reduction=..., **params)``.
:func:`probe_cases` draws the cases hidden tests use: random shapes (including
a 0-d array; no empty arrays, whose mean is 0/0), every reduction, float64 and float32, errors
exactly 0 and exactly on the boundary ``|e| = delta`` (or ``beta``), tiny and
huge errors, for several parameter values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from regloss.checks.losses import REGISTRY, spec
from regloss.checks.reference import REDUCTIONS


@dataclass(frozen=True)
class Case:
    """One call of a loss or gradient function.

    Attributes
    ----------
    input, target : numpy.ndarray, same shape
    reduction : str
    params : dict
        ``{"delta": ...}`` or ``{"beta": ...}`` or empty.
    label : str
        Human-readable description used in failure messages.
    style : {"keywords", "positional", "defaults"}
        How :meth:`call` passes the arguments: ``reduction`` and the parameter
        as keywords (the default); all positionally, in the course contract's
        order (``fn(input, target, reduction, delta)``: ``reduction`` third); or
        not at all (``fn(input, target)``: ``reduction`` must be ``"mean"`` and
        ``params`` empty, so that PyTorch's defaults are the truth). The
        contract's order is ``torch.nn.functional``'s only for ``huber_loss``:
        torch's ``l1_loss``, ``mse_loss`` and ``smooth_l1_loss`` take the
        deprecated ``size_average`` and ``reduce`` third and fourth, so their
        truth is always computed with keywords.
    """

    input: np.ndarray
    target: np.ndarray
    reduction: str = "mean"
    params: dict = field(default_factory=dict)
    label: str = ""
    style: str = "keywords"

    @property
    def error(self):
        """The error ``e = input - target`` the loss is a function of."""
        return np.asarray(self.input) - np.asarray(self.target)

    def call(self, fn):
        """Call ``fn`` the way the exercise contract says (see ``style``)."""
        x, t = self.input.copy(), self.target.copy()
        if self.style == "positional":
            return fn(x, t, self.reduction, *self.params.values())
        if self.style == "defaults":
            return fn(x, t)
        return fn(x, t, reduction=self.reduction, **self.params)

    def describe(self, name):
        where = f" [{self.label}]" if self.label else ""
        if self.style == "positional":
            args = ", ".join([repr(self.reduction)] + [repr(v) for v in self.params.values()])
        elif self.style == "defaults":
            return f"{name}(input, target){where}"
        else:
            args = ", ".join([f"reduction={self.reduction!r}"] + [f"{k}={v!r}" for k, v in self.params.items()])
        return f"{name}(input, target, {args}){where}"


def case(input, target, reduction="mean", label="", dtype=np.float64, **params):
    """Build a :class:`Case` from lists or arrays (worked examples in the text)."""
    return Case(
        np.asarray(input, dtype=dtype),
        np.asarray(target, dtype=dtype),
        reduction,
        dict(params),
        label or f"input={np.asarray(input).tolist()}, target={np.asarray(target).tolist()}",
    )


def _special_errors(p, large=False):
    """Errors that sit on the edges of every branch, for parameter ``p``; with
    ``large``, also errors of 30 and 1e4 (where a naive log(cosh(e)) overflows)."""
    base = [0.0, -0.0, 1e-3, -1e-3, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 100.0, -250.0]
    if p is not None and p > 0:
        base += [p, -p, p / 2, -p / 2, 2 * p, -2 * p, 1.25 * p, -0.75 * p]
    if large:
        base += [30.0, -30.0, 1e4, -1e4, 1e-6, -2.5e-5]
    return np.array(base)


def _boundary(name: str, params: Mapping[str, float]) -> tuple[str | None, float | None]:
    """The loss's boundary parameter and its value in a call with ``params`` (``None``: none)."""
    s = spec(name)
    key = s.boundary
    if key is None:
        return None, None
    return key, (params.get(key, s.parameters.get(key)) if s.boundary_default else params.get(key))


def default_params_list(name: str, rng: np.random.Generator) -> list[dict[str, float]]:
    """Parameter values :func:`probe_cases` tries by default for ``name``: its record's ``probe_params``.

    The core losses: ``delta`` / ``beta`` in ``1, 0.5, 2`` and a random one (and
    ``beta = 0``). The robust losses: their defaults, the values the course uses
    (Cauchy ``c = 2.3849``, Tukey ``c = 4.685``, ``q = 0.1, 0.9``) and a random
    one; Barron's loss at ``alpha`` = 2, 1, 0, -2, -inf, 4, 0.5 and a random
    alpha, with several scales.
    """
    return spec(name).probe_params(rng)


def _exact_pair(rng, errors, dtype):
    """``target`` on a grid of 1/8 and ``input = target + e`` without rounding."""
    target = (rng.integers(-40, 41, size=errors.shape) / 8.0).astype(dtype)
    return (target + errors.astype(dtype)).astype(dtype), target


def probe_cases(name, rng, params_list=None, dtypes=(np.float64, np.float32), reductions=REDUCTIONS):
    """Cases that probe every branch of ``name``.

    Parameters
    ----------
    name : str
        A loss of :data:`regloss.checks.losses.REGISTRY`.
    rng : numpy.random.Generator
        All randomness comes from here.
    params_list : list of dict, optional
        Parameter values to try; by default :func:`default_params_list`
        (several deltas / betas, ``c``, ``q``, Barron's ``alpha`` and ``scale``).
    dtypes : tuple of numpy dtypes
    reductions : tuple of str

    Returns
    -------
    list of Case
    """
    if params_list is None:
        params_list = default_params_list(name, rng)
    large = spec(name).large_errors
    cases = []
    for params in params_list:
        pname, p = _boundary(name, params)
        shown = ", ".join(f"{k}={v:g}" for k, v in params.items())
        for dtype in dtypes:
            dname = np.dtype(dtype).name
            # 1. every special error, exactly represented, in one vector
            errs = _special_errors(p, large)
            x, t = _exact_pair(rng, errs, dtype)
            if large and p:  # errors that are multiples of the parameter: target 0, so |e| = c exactly
                on = np.isin(np.abs(errs), [p, p / 2, 2 * p, 1.25 * p, 0.75 * p])
                t[on] = 0
                x[on] = errs[on].astype(dtype)
            for r in reductions:
                cases.append(Case(x, t, r, params,
                                  ("special errors incl. e = 0" + (f" and |e| = {pname} = {p:g}" if p else "")
                                   + (", |e| up to 1e4" if large else "")
                                   + (f" ({shown})" if shown and large and not p else "") + f", {dname}")))
            # 2. random shapes with normal errors of several scales
            for shape in [(int(rng.integers(1, 12)),), tuple(int(s) for s in rng.integers(1, 6, size=2)),
                          tuple(int(s) for s in rng.integers(1, 4, size=3))]:
                scale = float(rng.choice([0.3, 1.0, 5.0]))
                x = rng.normal(0.0, 3.0, size=shape).astype(dtype)
                t = (x - rng.normal(0.0, scale, size=shape)).astype(dtype)
                for r in reductions:
                    cases.append(Case(x, t, r, params, f"random shape {shape}, error scale {scale}, {dname}"))
        # 3. a scalar (0-d) and an all-equal array, once per parameter, float64
        for r in reductions:
            cases.append(Case(np.array(2.5), np.array(-1.0), r, params, "0-d arrays"))
            cases.append(Case(np.full(4, 1.5), np.full(4, 1.5), r, params, "input == target everywhere (e = 0)"))
    return cases


def invalid_calls(name):
    """Arguments PyTorch refuses, with the parameter that is wrong.

    Returns
    -------
    list of (dict, str)
        Keyword arguments for the call, and the name of the offending argument.
    """
    calls = [({"reduction": r}, "reduction") for r in ("avg", "Mean", "")]
    return calls + [(dict(kwargs), bad) for kwargs, bad in spec(name).invalid]


def uniform_cases(name, rng, params_list, shapes=((5,), (5, 5), (5, 5, 5)), low=-9.0, high=9.0,
                  dtypes=(np.float64, np.float32), reductions=REDUCTIONS):
    """Cases drawn like PyTorch's own OpInfo samples for the losses.

    ``input`` and ``target`` are independent, uniform in ``[low, high)``, so the
    errors ``e = input - target`` spread over ``(low - high, high - low)`` and
    most parameter values see both branches.

    Parameters
    ----------
    name : str
        A loss of :data:`regloss.checks.losses.REGISTRY`.
    rng : numpy.random.Generator
    params_list : list of dict
        Parameter values, e.g. ``[{"delta": d} for d in rng.uniform(1e-3, 9, 3)]``.
    shapes : tuple of tuple of int
        Default: ``(5,)``, ``(5, 5)``, ``(5, 5, 5)`` as in PyTorch's samples.
    low, high : float
    dtypes, reductions : tuples

    Returns
    -------
    list of Case
    """
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown loss {name!r}")
    cases = []
    for params in params_list:
        for dtype in dtypes:
            dname = np.dtype(dtype).name
            for shape in shapes:
                x = rng.uniform(low, high, size=shape).astype(dtype)
                t = rng.uniform(low, high, size=shape).astype(dtype)
                for r in reductions:
                    cases.append(Case(x, t, r, dict(params), f"uniform in [{low:g}, {high:g}), shape {shape}, {dname}"))
    return cases


def convention_cases(name, rng, params=None):
    """Cases that call the function the two other ways the contract allows.

    * ``fn(input, target)``: the defaults, ``reduction="mean"`` and PyTorch's
      default parameter (``delta = beta = 1``; the contract's defaults for the
      robust losses: the record's ``parameters``);
    * ``fn(input, target, reduction, param)`` positionally, in the course
      contract's order (``reduction`` third, then the parameters), for every
      reduction.

    The contract's order is not ``torch.nn.functional``'s for every loss. torch 2.13 has
    ``huber_loss(input, target, reduction='mean', delta=1.0, weight=None)``, with
    ``reduction`` third as here, but ``smooth_l1_loss(input, target, size_average=None,
    reduce=None, reduction='mean', beta=1.0)``, and ``l1_loss`` and ``mse_loss`` likewise
    take the deprecated ``size_average`` and ``reduce`` before ``reduction``: called
    positionally as these cases call the student's function, torch's ``smooth_l1_loss``
    would read ``reduction`` as ``size_average``. The truth
    (:mod:`~regloss.checks.reference`) therefore always calls torch with keywords.

    Parameters
    ----------
    name : str
    rng : numpy.random.Generator
    params : dict, optional
        The parameter for the positional calls; default the record's ``positional``
        (``{"delta": 2.0}``, ``{"beta": 0.5}``, ...: values that differ from the default).

    Returns
    -------
    list of Case
    """
    if params is None:
        params = dict(spec(name).positional)
    _, p = _boundary(name, params)
    errors = np.concatenate([_special_errors(p), rng.normal(0.0, 3.0, size=6)])
    x, t = _exact_pair(rng, errors, np.float64)
    defaults = ", ".join(f"{k}={v!r}" for k, v in spec(name).parameters.items())
    cases = [Case(x, t, "mean", {}, "default arguments: reduction='mean'" + (f", {defaults}" if defaults else ""),
                  "defaults")]
    for r in REDUCTIONS:
        cases.append(Case(x, t, r, dict(params), "positional arguments, in the contract's order (reduction third)",
                          "positional"))
    return cases
