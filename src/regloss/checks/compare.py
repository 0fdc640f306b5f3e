"""Compare a student's loss or gradient with PyTorch, case by case.

The test cells of the notebooks call these functions. Each raises an
``AssertionError`` whose message names the call, the case, the student's
value, PyTorch's value and, where it can be recognised, the likely mistake.
They silence warnings while the student's code runs, because nbgrader scores
a test cell that writes to stderr as failed.

What a student sees when a check fails is the call in their test cell and the
message, not this module's insides: the failure is a :class:`CheckFailed`,
raised at the public function's boundary with a fresh traceback; IPython
renders it (``_render_traceback_``) with the student's frames only, and pytest
hides the library's frames (``__tracebackhide__``). When the student's own
function raises, the library's frames are hidden the same way and the student's
frames are shown.
"""

from __future__ import annotations

import contextlib
import functools
import io
import types
import warnings

import numpy as np

from regloss.checks.cases import Case, invalid_calls
from regloss.checks.diagnose import hint
from regloss.checks.losses import REGISTRY
from regloss.checks.mistakes import Hint
from regloss.checks.own_work import assert_own_work
from regloss.checks.reference import torch_error, torch_grad, torch_loss


class CheckFailed(AssertionError):
    """A check found that a student's function differs from PyTorch (or from the contract).

    An ``AssertionError``, so nbgrader and ``except AssertionError`` treat it as
    every failed test. In IPython (JupyterLab, nbclient, nbgrader) its traceback
    shows only the frames that are not the library's: the test cell's call, then
    the message.
    """

    def _render_traceback_(self):
        """The traceback lines IPython shows: the student's frames, then the message."""
        from IPython import get_ipython  # present whenever IPython calls this

        tb = _outside_frames(self.__traceback__)
        shell = get_ipython()
        return shell.InteractiveTB.structured_traceback(type(self), self, tb)


def _hidden(frame):
    return bool(frame.f_locals.get("__tracebackhide__")) or \
        str(frame.f_globals.get("__name__", "")).split(".")[0] == "regloss"


def _outside_frames(tb):
    """A copy of the traceback ``tb`` without the library's frames."""
    kept = []
    while tb is not None:
        if not _hidden(tb.tb_frame):
            kept.append((tb.tb_frame, tb.tb_lasti, tb.tb_lineno))
        tb = tb.tb_next
    out = None
    for frame, lasti, lineno in reversed(kept):
        out = types.TracebackType(out, frame, lasti, lineno)
    return out


def _boundary(check):
    """Turn the ``AssertionError`` of a check into a :class:`CheckFailed` raised at the
    caller's line, with no library frame and no chained exception in what is shown."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 - read by pytest and IPython
        try:
            return check(*args, **kwargs)
        except CheckFailed:
            raise
        except AssertionError as exc:
            raise CheckFailed(*exc.args).with_traceback(None) from None

    return wrapper


#: (rtol, atol) by the dtype of the input.
TOLERANCE = {np.dtype(np.float64): (1e-7, 1e-10), np.dtype(np.float32): (2e-4, 2e-5)}


def tolerance(dtype):
    """``(rtol, atol)`` for comparing results computed in ``dtype``."""
    return TOLERANCE.get(np.dtype(dtype), TOLERANCE[np.dtype(np.float32)])


@contextlib.contextmanager
def quiet():
    """Silence warnings, NumPy floating-point messages and stray stderr."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _fmt(a):
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.6g}" if a.dtype.kind in "fiub" else repr(a.item())
    return np.array2string(a, precision=5, threshold=8, edgeitems=3)


def _as_array(result, name, case, expected_shape, kind="loss", who="PyTorch"):
    if result is None:
        raise AssertionError(f"{case.describe(name)} returned None: {Hint('no-return', 'did you forget `return`?')}")
    try:
        arr = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{case.describe(name)} returned {type(result).__name__}, "
                             f"{Hint('not-an-array', 'not a NumPy array or number')}") from None
    if arr.shape != tuple(expected_shape):
        if kind == "grad":
            what = "a gradient has the shape of input, whatever the reduction"
        elif case.reduction == "none":
            what = "reduction='none' keeps the shape of input"
        else:
            what = f"reduction={case.reduction!r} gives a single number (shape ())"
        raise AssertionError(
            f"{case.describe(name)} returned shape {arr.shape}, {who} gives {tuple(expected_shape)}: "
            f"{Hint('wrong-shape', what)}")
    return arr


def truth_label(name):
    """Who the truth of loss ``name`` is, as a message says it: ``"PyTorch"`` for a loss
    ``torch.nn.functional`` ships, else the course's own torch expression (assignment 07)."""
    spec = REGISTRY.get(name) if isinstance(name, str) else None
    return "PyTorch" if spec is None or spec.in_torch else "the course's torch expression"


def _first_bad(student, truth, rtol, atol, case, who="PyTorch"):
    if student.ndim == 0:
        return ""
    with np.errstate(all="ignore"):
        bad = ~np.isclose(student, truth, rtol=rtol, atol=atol, equal_nan=True)
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    e = np.broadcast_to(case.error, truth.shape)[idx]
    return (f"; first difference at index {idx}, where e = input - target = {float(e):.6g}: "
            f"you give {float(student[idx]):.6g}, {who} {float(truth[idx]):.6g}")


def _check_one(fn, name, case, kind):
    __tracebackhide__ = True  # noqa: F841
    truth = (torch_loss if kind == "loss" else torch_grad)(name, case.input, case.target, case.reduction, **case.params)
    with quiet():
        try:
            result = case.call(fn)
        except Exception as exc:  # noqa: BLE001 - the student's function crashed: show its frames, not ours
            raise exc.with_traceback(_outside_frames(exc.__traceback__))  # noqa: B904
    label = name if kind == "loss" else f"{name}_grad"
    student = _as_array(result, label, case, truth.shape, kind, who=truth_label(name))
    rtol, atol = tolerance(np.asarray(case.input).dtype)
    with np.errstate(all="ignore"):
        ok = np.allclose(student, truth, rtol=rtol, atol=atol, equal_nan=True)
    if not ok:
        h = hint(student, truth, case, kind, REGISTRY[name].main, rtol=max(rtol, 1e-6), loss=name)
        raise AssertionError(
            f"{case.describe(label)} gave {_fmt(student)}, {truth_label(name)} gives {_fmt(truth)}"
            + _first_bad(student, truth, rtol, atol, case, truth_label(name))
            + (f": {h}" if h else ""))


def _check(fn, name, cases, kind):
    __tracebackhide__ = True  # noqa: F841
    if isinstance(cases, Case):
        cases = [cases]
    cases = list(cases)
    if cases:
        assert_own_work(fn, cases[0].input.copy(), cases[0].target.copy(),
                        reduction=cases[0].reduction, **cases[0].params)
    for c in cases:
        _check_one(fn, name, c, kind)
    return len(cases)


@_boundary
def check_loss(fn, name, cases):
    """Check a student's loss against ``torch.nn.functional.<name>``.

    Parameters
    ----------
    fn : callable
        ``fn(input, target, reduction=..., **params)``.
    name : str
        The ``torch.nn.functional`` function it must match, e.g. ``"l1_loss"``.
    cases : Case or iterable of Case

    Returns
    -------
    int
        The number of cases checked.

    Raises
    ------
    AssertionError
        At the first case that differs, naming it and the likely mistake; or
        when ``fn`` calls into torch, scipy, scikit-learn or regloss.
    """
    __tracebackhide__ = True  # noqa: F841
    return _check(fn, name, cases, "loss")


@_boundary
def check_grad(fn, name, cases):
    """Check a student's gradient against ``torch.autograd`` on ``<name>``.

    The truth is ``torch.autograd.grad(loss.sum(), input)`` for the same call:
    shape of ``input``, divided by ``input.size`` for ``reduction="mean"``.
    """
    __tracebackhide__ = True  # noqa: F841
    return _check(fn, name, cases, "grad")


@_boundary
def check_invalid_arguments(fn, name, calls=None, input=(1.0, -2.0), target=(0.0, 0.0)):
    """Check that ``fn`` refuses what PyTorch refuses, with a ``ValueError``.

    The error message must say what is wrong: it must mention the offending
    argument's name or its value.

    Parameters
    ----------
    calls : list of (dict, str), optional
        Keyword arguments and the name of the bad argument; by default
        :func:`regloss.checks.cases.invalid_calls`.
    """
    __tracebackhide__ = True  # noqa: F841
    x = np.asarray(input, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    label = getattr(fn, "__name__", name)
    for kwargs, bad in calls if calls is not None else invalid_calls(name):
        kwargs = dict(kwargs)
        kwargs.setdefault("reduction", "mean")
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        torch_exc = torch_error(name, x, t, **kwargs)
        who = truth_label(name)
        assert torch_exc is not None, f"{who} accepts {shown}; this is not an invalid call"
        try:
            with quiet():
                result = fn(x.copy(), t.copy(), **kwargs)
        except ValueError as exc:
            msg = str(exc)
            if bad not in msg and repr(kwargs[bad]) not in msg and str(kwargs[bad]) not in msg:
                vague = Hint("vague-error", f"good, but the message should say what is wrong: name {bad!r} or its "
                                            "value")
                raise AssertionError(f"{label}(..., {shown}) raised ValueError({msg!r}); {vague}") from None
            continue
        except Exception as exc:  # noqa: BLE001
            other = Hint("wrong-exception", f"{who} refuses this call too, and the contract asks for a ValueError "
                                            f"({type(torch_exc).__name__} in torch: {torch_exc})")
            raise AssertionError(f"{label}(..., {shown}) raised {type(exc).__name__}({exc}); {other}") from None
        accepts = Hint("accepts-invalid", f"instead of raising ValueError. {who} refuses it: {torch_exc}")
        raise AssertionError(f"{label}(..., {shown}) returned {_fmt(result) if result is not None else None} {accepts}")
