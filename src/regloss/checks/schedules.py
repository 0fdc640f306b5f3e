"""Reference schedules for SmoothL1's beta during training, and the checks that use them.

Two published schedules change SmoothL1's ``beta`` while a detector trains. Both
are defined here from their authors' code, written in torch tensor operations
(the student writes NumPy), and used only to grade:

* **Dynamic SmoothL1** (Zhang et al., *Dynamic R-CNN*, ECCV 2020; the authors'
  ``DynamicRoIHead`` in mmdetection). Every iteration records the ``k``-th
  smallest magnitude of the regression *targets* of that iteration's positive
  proposals (per proposal, the mean of ``|dx|`` and ``|dy|`` of its encoded
  offset to its ground-truth box; ``k = min(k, n_t)``). After every ``interval``-th iteration, ``beta`` becomes
  ``min(beta0, median of the recorded values)`` -- unless that median is below
  ``1e-15``, in which case ``beta`` is kept -- and the record is cleared. The
  new ``beta`` is used from the next iteration on; the first ``interval``
  iterations use ``beta0``.
* **Self-adjusting SmoothL1** (Fu et al., *RetinaMask*, 2019; the authors'
  ``AdjustSmoothL1Loss``). Running mean ``mu`` (initially ``beta_max``) and
  running variance ``var`` (initially 0) of ``|x|``, per column of the errors,
  are updated with every batch *before* it is used:
  ``mu <- (1 - m) mu + m mean(|x|)``, ``var <- (1 - m) var + m var_unbiased(|x|)``
  (momentum ``m = 0.1``: the old value keeps weight 0.9, the paper's "momentum
  0.9"); the batch's loss then uses ``beta = clip(mu - var, 1e-3, beta_max)``.
  A batch with fewer than two errors (whose unbiased variance is undefined)
  leaves the statistics unchanged.

Nothing here is importable by a graded function: :mod:`regloss.checks.own_work`
refuses calls into ``regloss``.
"""

from __future__ import annotations

import numpy as np

from regloss.checks.compare import quiet
from regloss.checks.mistakes import Hint

#: Lower bound of the self-adjusting beta in the authors' code (``clamp(min=1e-3)``).
SELF_ADJUSTING_MIN_BETA = 1e-3
#: Below this median the Dynamic R-CNN code keeps the old beta.
DYNAMIC_EPS = 1e-15


def _torch():
    import torch

    return torch


def dynamic_beta_reference(errors, k=10, interval=100, beta0=1.0):
    """The beta Dynamic SmoothL1 uses at each iteration (Zhang et al. 2020).

    Parameters
    ----------
    errors : sequence of array_like
        ``errors[t]`` holds the regression-target magnitudes of iteration ``t``'s
        positive proposals, any shape with ``n_t >= 1`` elements (their absolute
        values count).
    k : int
        The ``k``-th smallest ``|target|`` of each iteration is recorded (1-based;
        ``min(k, n_t)`` when an iteration has fewer samples).
    interval : int
        ``C``: beta is updated after every ``C``-th iteration.
    beta0 : float
        The initial beta, and its upper bound.

    Returns
    -------
    numpy.ndarray, shape ``(T,)``, float64
        ``beta[t]``: the beta in force while iteration ``t``'s loss is computed,
        ``min(beta0, median(record of the last C iterations))`` after each update.
    """
    torch = _torch()
    out, record, beta = [], [], float(beta0)
    for t, err in enumerate(errors):
        out.append(beta)
        a = torch.as_tensor(np.asarray(err, dtype=np.float64)).reshape(-1).abs()
        kk = min(int(k), a.numel())
        record.append(torch.kthvalue(a, kk).values)
        if (t + 1) % interval == 0:
            med = torch.quantile(torch.stack(record), 0.5).item()  # the average of the two middle values, as np.median
            if med >= DYNAMIC_EPS:
                beta = min(float(beta0), med)
            record = []
    return np.asarray(out, dtype=np.float64)


def self_adjusting_beta_reference(errors, beta_max=1.0, momentum=0.1):
    """The beta self-adjusting SmoothL1 uses for each batch (Fu et al. 2019).

    Parameters
    ----------
    errors : sequence of array_like
        ``errors[t]`` has shape ``(n_t,)`` (one column) or ``(n_t, d)`` (``d``
        columns, each with its own statistics and beta, as the four box
        coordinates in RetinaMask).
    beta_max : float
        Initial running mean and upper bound of beta.
    momentum : float
        Weight of the new batch in the running statistics.

    Returns
    -------
    numpy.ndarray, shape ``(T,)`` or ``(T, d)``, float64
        ``clip(mu_t - var_t, 1e-3, beta_max)`` after the update with batch ``t``.
    """
    torch = _torch()
    errors = list(errors)
    if not errors:
        return np.zeros((0,))
    first = np.asarray(errors[0])
    d = 1 if first.ndim == 1 else first.shape[1]
    mu = torch.full((d,), float(beta_max), dtype=torch.float64)
    var = torch.zeros(d, dtype=torch.float64)
    out = []
    for err in errors:
        a = torch.as_tensor(np.asarray(err, dtype=np.float64)).reshape(len(np.asarray(err)), d).abs()
        if a.shape[0] >= 2:
            mu = torch.lerp(mu, a.mean(dim=0), momentum)
            var = torch.lerp(var, a.var(dim=0, correction=1), momentum)
        out.append((mu - var).clamp(SELF_ADJUSTING_MIN_BETA, float(beta_max)))
    res = torch.stack(out).numpy()
    return res[:, 0] if first.ndim == 1 else res


# ----------------------------------------------------------------------------- checks
def _call(fn, label, errors, **kwargs):
    copies = [np.array(e, copy=True) for e in errors]
    try:
        with quiet():
            result = fn(copies, **kwargs)
    except Exception as exc:  # noqa: BLE001 - reported as the student's failure
        raise AssertionError(f"{label} raised {type(exc).__name__}: {exc}") from None
    if result is None:
        raise AssertionError(f"{label} returned None: {Hint('no-return', 'did you forget `return`?')}")
    try:
        return np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{label} returned {type(result).__name__}, "
                             f"{Hint('not-an-array', 'not an array of betas')}") from None


def _first_diff(student, truth):
    bad = np.argwhere(~np.isclose(student, truth, rtol=1e-9, atol=1e-12))
    return tuple(int(i) for i in bad[0]) if len(bad) else None


def _dynamic_variant(errors, k, interval, beta0, mode):
    """The schedule with one known mistake ``mode``, in NumPy (for hints only)."""
    out, record, beta = [], [], float(beta0)
    every = 1 if mode == "every-step" else interval
    for t, err in enumerate(errors):
        a = np.sort(np.abs(np.ravel(np.asarray(err, dtype=np.float64))))
        if mode == "mean-record":
            record.append(a.mean())
        else:
            record.append(a[min(k if mode == "k-plus-1" else k - 1, a.size - 1)])
        update = (t + 1) % every == 0
        if update and mode == "early":
            pass
        else:
            out.append(beta)
        if update:
            stat = np.mean(record) if mode == "mean-history" else np.median(record)
            if mode == "lower-median":
                stat = np.sort(record)[(len(record) - 1) // 2]
            if stat >= DYNAMIC_EPS:
                beta = stat if mode == "no-cap" else min(float(beta0), stat)
            if mode != "no-clear":
                record = []
            if mode == "early":
                out.append(beta)
    return np.asarray(out)


#: The mistakes :func:`_dynamic_variant` makes, by its mode, with their hints.
_DYNAMIC_MISTAKES = {
    "every-step": Hint("beta-updated-every-step",
                       "beta is updated after every iteration, not after every `interval`-th"),
    "early": Hint("beta-applied-early", "the new beta is already used in the iteration that triggers the update; "
                                        "it applies from the next"),
    "mean-record": Hint("mean-record", "each iteration records the mean |target|, not the k-th smallest"),
    "k-plus-1": Hint("kth-off-by-one", "the (k+1)-th smallest |target| is recorded: k counts from 1 (index k - 1 "
                                       "of the sorted values)"),
    "mean-history": Hint("mean-of-records",
                         "the update takes the mean of the records; the authors' code takes their median"),
    "no-cap": Hint("beta-not-capped", "the new beta is not capped at beta0: beta = min(beta0, median)"),
    "lower-median": Hint("lower-median", "the lower of the two middle records (torch.median's convention); the "
                                         "median of an even number of values is the mean of the two middle ones "
                                         "(np.median)"),
    "no-clear": Hint("records-not-cleared", "the records are not cleared after an update: the median must cover "
                                            "the last `interval` iterations only"),
}


def _dynamic_hint(errors, student, k, interval, beta0):
    for mode, hint in _DYNAMIC_MISTAKES.items():
        g = _dynamic_variant(errors, k, interval, beta0, mode)
        if g.shape == student.shape and np.allclose(student, g, rtol=1e-9, atol=1e-12):
            return str(hint)
    return ("compare with the rule: record the k-th smallest |target| of each iteration; after every "
            "`interval`-th iteration beta = min(beta0, median of the records), then clear the records")


def check_dynamic_beta(fn, errors, k=10, interval=100, beta0=1.0, label=None):
    """Check a student's Dynamic SmoothL1 schedule against :func:`dynamic_beta_reference`.

    ``fn(errors, k=k, interval=interval, beta0=beta0)`` must return the ``T``
    betas in force at the ``T`` iterations.
    """
    label = label or f"dynamic_beta(targets of {len(errors)} iterations, k={k}, interval={interval}, beta0={beta0})"
    truth = dynamic_beta_reference(errors, k, interval, beta0)
    student = _call(fn, label, errors, k=k, interval=interval, beta0=beta0)
    if student.shape != truth.shape:
        shape = Hint("wrong-shape", f"one beta per iteration is shape {truth.shape}")
        raise AssertionError(f"{label} returned shape {student.shape}; {shape}")
    if not np.allclose(student, truth, rtol=1e-9, atol=1e-12):
        i = _first_diff(student, truth)
        hint = _dynamic_hint(errors, student, k, interval, beta0)
        raise AssertionError(f"{label}: at iteration {i[0]} you give beta = {student[i]:.6g}, the rule gives "
                             f"{truth[i]:.6g}: {hint}")
    return len(truth)


def _self_adjusting_hint(errors, student, beta_max, momentum):
    def run(mode):
        d = 1 if np.asarray(errors[0]).ndim == 1 else np.asarray(errors[0]).shape[1]
        mu, var, out = np.full(d, beta_max, float), np.zeros(d), []
        for e in errors:
            a = np.abs(np.asarray(e, float)).reshape(len(e), d)
            beta_before = np.clip(mu - var, 1e-3, beta_max)
            if len(a) >= 2 or mode == "nan-ok":
                m = 1 - momentum if mode == "flipped" else momentum
                ddof = 0 if mode == "biased" else 1
                with np.errstate(all="ignore"):
                    v = a.var(axis=0, ddof=ddof) if len(a) >= 2 or mode != "nan-ok" else np.full(d, np.nan)
                if mode == "no-momentum":
                    mu, var = a.mean(0), v
                else:
                    mu, var = (1 - m) * mu + m * a.mean(0), (1 - m) * var + m * (v if mode != "std" else np.sqrt(v))
            lo = 0.0 if mode == "clip-zero" else 1e-3
            hi = np.inf if mode == "no-cap" else beta_max
            out.append(beta_before if mode == "before" else np.clip(mu - var, lo, hi))
        res = np.array(out)
        return res[:, 0] if np.asarray(errors[0]).ndim == 1 else res

    why = {"flipped": Hint("momentum-flipped", "momentum weights the new batch by 1 - momentum: the new batch gets "
                                               "weight `momentum`"),
           "biased": Hint("biased-variance",
                          "the variance divides by n; the authors' code uses the unbiased variance (n - 1)"),
           "std": Hint("std-for-variance", "mu - sigma (standard deviation) instead of mu - sigma^2 (variance)"),
           "no-momentum": Hint("no-running-statistics",
                               "no running statistics: each batch's own mean and variance, no momentum"),
           "clip-zero": Hint("beta-clipped-at-zero", "beta clipped at 0 instead of 1e-3 (a beta of 0 divides by "
                                                     "zero in 0.5 x^2 / beta)"),
           "no-cap": Hint("beta-not-capped", "beta is not capped at beta_max"),
           "before": Hint("beta-before-update",
                          "beta is computed before the statistics are updated with the current batch")}
    for mode, hint in why.items():
        g = run(mode)
        if g.shape == student.shape and np.allclose(student, g, rtol=1e-9, atol=1e-12, equal_nan=True):
            return str(hint)
    return ("compare with the rule: update mu and var with the batch first (old value weight 1 - momentum), "
            "then beta = clip(mu - var, 1e-3, beta_max)")


def check_self_adjusting_beta(fn, errors, beta_max=1.0, momentum=0.1, label=None):
    """Check a student's self-adjusting SmoothL1 schedule against :func:`self_adjusting_beta_reference`.

    ``fn(errors, beta_max=beta_max, momentum=momentum)`` must return one beta
    per batch (per column, for 2-d batches).
    """
    label = label or (f"self_adjusting_beta(errors of {len(errors)} batches, beta_max={beta_max}, "
                      f"momentum={momentum})")
    truth = self_adjusting_beta_reference(errors, beta_max, momentum)
    student = _call(fn, label, errors, beta_max=beta_max, momentum=momentum)
    if student.shape != truth.shape:
        shape = Hint("wrong-shape", "one beta per batch" + (" and column" if truth.ndim == 2 else ""))
        raise AssertionError(f"{label} returned shape {student.shape}, expected {truth.shape}: {shape}")
    if not np.allclose(student, truth, rtol=1e-9, atol=1e-12):
        i = _first_diff(student, truth)
        hint = _self_adjusting_hint(errors, student, beta_max, momentum)
        raise AssertionError(f"{label}: at batch {i[0]} you give beta = {student[i]:.6g}, the rule gives "
                             f"{truth[i]:.6g}: {hint}")
    return len(truth)


def error_batches(rng, n_iter, n=(20, 200), scale=(0.05, 2.0), d=None, decay=True, outliers=0.05):
    """Random regression errors of a training run, one batch per iteration.

    The errors shrink over the run (``decay``) as a model that learns would, are
    heavy tailed (a fraction ``outliers`` is 20 times larger), and the batch
    sizes vary in ``n``.

    Returns
    -------
    list of numpy.ndarray
        ``n_iter`` arrays of shape ``(n_t,)`` (or ``(n_t, d)``).
    """
    out = []
    for t in range(n_iter):
        size = int(rng.integers(n[0], n[1] + 1))
        s = scale[1] * (scale[0] / scale[1]) ** (t / max(n_iter - 1, 1)) if decay else scale[1]
        shape = (size,) if d is None else (size, d)
        e = rng.normal(0.0, s, shape)
        mask = rng.random(shape) < outliers
        out.append(np.where(mask, 20 * e, e))
    return out
