"""Test cases for the losses: worked examples and random probes.

A :class:`Case` is one call ``fn(input, target, reduction=..., **params)``.
:func:`probe_cases` draws the cases hidden tests use: random shapes (including
a scalar and an empty array), every reduction, float64 and float32, errors
exactly 0 and exactly on the boundary ``|e| = delta`` (or ``beta``), tiny and
huge errors, for several parameter values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from regloss.reference import PARAMETER, REDUCTIONS


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
    """

    input: np.ndarray
    target: np.ndarray
    reduction: str = "mean"
    params: dict = field(default_factory=dict)
    label: str = ""

    @property
    def error(self):
        """The error ``e = input - target`` the loss is a function of."""
        return np.asarray(self.input) - np.asarray(self.target)

    def call(self, fn):
        """Call ``fn`` the way the exercise contract says."""
        return fn(self.input.copy(), self.target.copy(), reduction=self.reduction, **self.params)

    def describe(self, name):
        args = ", ".join([f"reduction={self.reduction!r}"] + [f"{k}={v!r}" for k, v in self.params.items()])
        where = f" [{self.label}]" if self.label else ""
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


def _special_errors(p):
    """Errors that sit on the edges of every branch, for parameter ``p``."""
    base = [0.0, -0.0, 1e-3, -1e-3, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 100.0, -250.0]
    if p is not None and p > 0:
        base += [p, -p, p / 2, -p / 2, 2 * p, -2 * p, 1.25 * p, -0.75 * p]
    return np.array(base)


def _exact_pair(rng, errors, dtype):
    """``target`` on a grid of 1/8 and ``input = target + e`` without rounding."""
    target = (rng.integers(-40, 41, size=errors.shape) / 8.0).astype(dtype)
    return (target + errors.astype(dtype)).astype(dtype), target


def probe_cases(name, rng, params_list=None, dtypes=(np.float64, np.float32), reductions=REDUCTIONS):
    """Cases that probe every branch of ``name``.

    Parameters
    ----------
    name : str
        One of :data:`regloss.LOSSES`.
    rng : numpy.random.Generator
        All randomness comes from here.
    params_list : list of dict, optional
        Parameter values to try; by default several deltas / betas
        (``0.5, 1.0, 2.0`` and a random one, plus ``beta = 0`` for SmoothL1).
    dtypes : tuple of numpy dtypes
    reductions : tuple of str

    Returns
    -------
    list of Case
    """
    pname = PARAMETER[name]
    if params_list is None:
        if pname is None:
            params_list = [{}]
        else:
            values = [1.0, 0.5, 2.0, float(np.round(rng.uniform(0.1, 3.0), 3))]
            if pname == "beta":
                values.append(0.0)
            params_list = [{pname: v} for v in values]
    cases = []
    for params in params_list:
        p = params.get(pname) if pname else None
        for dtype in dtypes:
            dname = np.dtype(dtype).name
            # 1. every special error, exactly represented, in one vector
            errs = _special_errors(p)
            x, t = _exact_pair(rng, errs, dtype)
            for r in reductions:
                cases.append(Case(x, t, r, params, f"special errors incl. e=0 and |e|=param, {dname}"))
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
    pname = PARAMETER[name]
    if pname == "delta":
        calls += [({"delta": v}, "delta") for v in (0.0, -1.0, -0.5)]
    elif pname == "beta":
        calls += [({"beta": v}, "beta") for v in (-1.0, -1e-3)]
    return calls
