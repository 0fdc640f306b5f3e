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
# The schedules are graded by behaviour, not by formula: each check below states one
# property the schedule must have (the constraints the notebook states), probes it by
# changing the input where the property says the output must not change (or must), and
# compares with the reference within a stated tolerance. A different but sound design
# (another median convention, the biased variance, another start of the running
# statistics) keeps full marks; a schedule that breaks a constraint is told which.

#: After each update, Dynamic SmoothL1's beta must be a typical record of the interval it
#: read: between the records' lower and upper quartiles (the outer order statistics, so that
#: for two records any value between them counts), capped at beta0. Any median passes.
DYNAMIC_TYPICAL = (0.25, 0.75)
#: Self-adjusting beta must stay within this fraction of ``beta_max`` of the reference, once
#: the running statistics have forgotten their start (after ``ceil(BURN_IN / momentum)`` batches).
SELF_ADJUSTING_TOL = 0.1
SELF_ADJUSTING_BURN_IN = 4.0

_RTOL, _ATOL = 1e-9, 1e-12


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


def _same(a, b):
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=_RTOL, atol=_ATOL, equal_nan=True))


def _kth_records(errors, k):
    """Each iteration's k-th smallest |target| (``min(k, n_t)``-th)."""
    return np.array([np.sort(np.abs(np.ravel(np.asarray(e, dtype=np.float64))))[min(k, np.size(e)) - 1]
                     for e in errors])


def _typical_range(records):
    """The outer order statistics at the quartiles: every median of ``records`` lies between them."""
    r = np.sort(records)
    lo, hi = DYNAMIC_TYPICAL
    return r[int(np.floor(lo * (len(r) - 1)))], r[int(np.ceil(hi * (len(r) - 1)))]


def _scaled(errors, start, stop, factor):
    return [np.asarray(e, dtype=np.float64) * (factor if start <= t < stop else 1.0) for t, e in enumerate(errors)]


def _dynamic_variant(errors, k, interval, beta0, mode):
    """The schedule with one known wrong design ``mode``, in NumPy (to name a mistake)."""
    out, record, beta = [], [], float(beta0)
    for t, err in enumerate(errors):
        out.append(beta)
        a = np.sort(np.abs(np.ravel(np.asarray(err, dtype=np.float64))))
        if mode == "mean-record":
            record.append(a.mean())
        elif mode == "kth-largest":
            record.append(a[::-1][min(k, a.size) - 1])
        else:
            record.append(a[min(k if mode == "k-plus-1" else k - 1, a.size - 1)])
        if (t + 1) % interval == 0:
            stat = np.mean(record) if mode == "mean-history" else np.median(record)
            if stat >= DYNAMIC_EPS:
                beta = min(float(beta0), stat)
            record = []
    return np.asarray(out)


#: The wrong designs :func:`_dynamic_variant` makes, by its mode, with their hints.
_DYNAMIC_MISTAKES = {
    "mean-record": Hint("mean-record", "each iteration's record looks like its mean |target|: the mean follows the "
                                       "large targets, and the goal is a low quantile of them"),
    "kth-largest": Hint("kth-largest", "each iteration's record looks like the k-th *largest* |target|, a high "
                                       "quantile; the goal is the k-th smallest"),
    "k-plus-1": Hint("kth-off-by-one", "each iteration's record looks like its (k+1)-th smallest |target|: does your "
                                       "k count from 1?"),
    "mean-history": Hint("mean-of-records", "the update looks like the mean of the records: one iteration with "
                                            "few proposals (a large record) drags it far from the typical record"),
}


def _fail(label, what):
    raise AssertionError(f"{label}: {what}")


def check_dynamic_beta(fn, errors, k=10, interval=100, beta0=1.0, label=None):
    """Check a student's Dynamic SmoothL1 schedule by its behaviour.

    ``fn(errors, k=k, interval=interval, beta0=beta0)`` must return the ``T``
    betas in force at the ``T`` iterations, with these properties (each probed,
    in this order, and named when it fails):

    1. shape ``(T,)``, finite and positive (beta divides the quadratic branch);
    2. causal: the beta in force at iteration ``t`` does not change when the
       targets of iterations ``t, t+1, ...`` do;
    3. beta changes only where an interval starts (``t`` a multiple of ``interval``);
    4. the first interval (no record yet) uses ``beta0``; beta never exceeds ``beta0``;
    5. each update forgets the intervals before the last one;
    6. after each update beta is a typical record of the last interval, a record
       being the iteration's ``k``-th smallest ``|target|`` (``min(k, n_t)``-th): between
       the records' quartiles (:data:`DYNAMIC_TYPICAL`; any median passes), capped at
       ``beta0``; when the records' median is below ``1e-15`` beta is kept.

    Returns the number of iterations checked.
    """
    label = label or f"dynamic_beta(targets of {len(errors)} iterations, k={k}, interval={interval}, beta0={beta0})"
    errors = [np.asarray(e, dtype=np.float64) for e in errors]
    T = len(errors)

    def run(errs):
        return _call(fn, label, errs, k=k, interval=interval, beta0=beta0)

    got = run(errors)
    if got.shape != (T,):
        shape = Hint("wrong-shape", f"one beta per iteration is shape {(T,)}")
        _fail(label, f"returned shape {got.shape}; {shape}")
    if not np.all(np.isfinite(got)) or np.any(got <= 0):
        t = int(np.argmax(~np.isfinite(got) | (got <= 0)))
        nonpos = Hint("beta-not-positive", "SmoothL1 divides by beta: it must stay positive and finite (when an "
                                           "interval's targets are all 0 there is nothing to learn from them)")
        _fail(label, f"at iteration {t} you give beta = {got[t]:.6g}; {nonpos}")
    # 2. causal: cut at the last iteration of each of the first intervals, and one inside
    for t0 in sorted({min(interval, T) - 1, min(2 * interval, T) - 1, T // 2, 0} - {-1}):
        alt = run(_scaled(errors, t0, T, 7.0))
        if not _same(alt[:t0 + 1], got[:t0 + 1]):
            t = int(np.argmax(~np.isclose(alt[:t0 + 1], got[:t0 + 1], rtol=_RTOL, atol=_ATOL)))
            ahead = Hint("beta-applied-early", f"the beta in force at iteration {t} changes when the targets of "
                                               f"iteration {t0} and later change: it may only depend on earlier "
                                               "iterations (a new beta applies from the iteration after the update)")
            _fail(label, str(ahead))
    # 3. changes only where an interval starts
    moved = [t for t in range(1, T) if t % interval and not np.isclose(got[t], got[t - 1], rtol=_RTOL, atol=_ATOL)]
    if moved:
        every = Hint("beta-updated-every-step", f"beta changes at iteration {moved[0]}, inside an interval: it may "
                                                f"change only every {interval} iterations")
        _fail(label, str(every))
    # 4. beta0 first, and the cap
    if not np.allclose(got[:interval], beta0, rtol=_RTOL, atol=_ATOL):
        first = Hint("first-interval-not-beta0", "the first interval has no record yet: it uses beta0")
        _fail(label, f"at iteration 0 you give beta = {got[0]:.6g}; {first}")
    if np.any(got > beta0 * (1 + _RTOL)):
        t = int(np.argmax(got > beta0 * (1 + _RTOL)))
        cap = Hint("beta-not-capped", "beta0 is also the largest beta the schedule may use")
        _fail(label, f"at iteration {t} you give beta = {got[t]:.6g} > beta0 = {beta0}: {cap}")
    # 5. forgets: beta after the update at 2*interval must not depend on the first interval
    if 2 * interval < T and np.median(_kth_records(errors[interval:2 * interval], k)) >= DYNAMIC_EPS:
        alt = run(_scaled(errors, 0, interval, 0.2))
        if not _same(alt[2 * interval:], got[2 * interval:]):
            keep = Hint("records-not-cleared", f"the beta in force from iteration {2 * interval} changes when the "
                                               f"targets of the first interval do: each update reads the last "
                                               f"{interval} iterations only")
            _fail(label, str(keep))
    # 6. each update: a typical record of the interval, capped; kept when the median is ~0
    records = _kth_records(errors, k)
    truth = dynamic_beta_reference(errors, k, interval, beta0)
    for start in range(interval, T, interval):
        rec = records[start - interval:start]
        b = got[start]
        if np.median(rec) < DYNAMIC_EPS:
            if not np.isclose(b, got[start - 1], rtol=_RTOL, atol=_ATOL):
                zero = Hint("beta-not-positive", "the targets of the last interval are (nearly) all 0: a beta made "
                                                 "from them would be 0; keep the beta you had")
                _fail(label, f"at iteration {start} you give beta = {b:.6g}; {zero}")
            continue
        lo, hi = (min(float(beta0), v) for v in _typical_range(rec))
        if lo * (1 - 1e-6) - _ATOL <= b <= hi * (1 + 1e-6) + _ATOL:
            continue
        hint = _dynamic_hint(errors, got, k, interval, beta0)
        _fail(label, f"at iteration {start} you give beta = {b:.6g}, but the records of iterations {start - interval}"
                     f"..{start - 1} (each one's {k}-th smallest |target|) have their middle half in "
                     f"[{lo:.6g}, {hi:.6g}] (the authors' code gives {truth[start]:.6g}): {hint}")
    return T


def _dynamic_hint(errors, student, k, interval, beta0):
    if np.allclose(student, beta0, rtol=_RTOL, atol=_ATOL):
        return str(Hint("beta-never-updated", "beta never leaves beta0, although the targets are smaller"))
    for mode, hint in _DYNAMIC_MISTAKES.items():
        g = _dynamic_variant(errors, k, interval, beta0, mode)
        if g.shape == student.shape and np.allclose(student, g, rtol=1e-6, atol=1e-12):
            return str(hint)
    return str(Hint("beta-not-typical", "the goal is a beta that follows the small targets: from each iteration a "
                                        "low quantile of its |targets| (the k-th smallest), and from the interval "
                                        "a typical value of these records, robust to a few unusual iterations"))


def _self_adjusting_variant(errors, beta_max, momentum, mode):
    """The schedule with one known wrong design ``mode`` (to name a mistake)."""
    first = np.asarray(errors[0])
    d = 1 if first.ndim == 1 else first.shape[1]
    mu, var, out = np.full(d, float(beta_max)), np.zeros(d), []
    for e in errors:
        a = np.asarray(e, dtype=np.float64).reshape(len(e), d)
        a = a if mode == "signed" else np.abs(a)
        if len(a) >= 2:
            v = a.var(axis=0, ddof=1)
            v = np.sqrt(v) if mode == "std" else v
            w = 1 - momentum if mode == "flipped" else momentum
            mu, var = ((a.mean(0), v) if mode == "no-momentum"
                       else ((1 - w) * mu + w * a.mean(0), (1 - w) * var + w * v))
        out.append(np.clip(mu - var, SELF_ADJUSTING_MIN_BETA, beta_max))
    res = np.array(out)
    return res[:, 0] if first.ndim == 1 else res


_SELF_ADJUSTING_MISTAKES = {
    "flipped": Hint("momentum-flipped", "beta moves almost all the way to each new batch's statistics: does the "
                                        "new batch get weight 1 - momentum instead of momentum?"),
    "no-momentum": Hint("no-running-statistics", "beta follows each batch's own statistics: there is no running "
                                                 "mean and variance that forget slowly"),
    "std": Hint("std-for-variance", "beta looks like mean - standard deviation; the goal reads the variance"),
    "signed": Hint("signed-errors", "the statistics look like those of the signed errors; the goal reads |error|"),
}


def check_self_adjusting_beta(fn, errors, beta_max=1.0, momentum=0.1, label=None):
    """Check a student's self-adjusting SmoothL1 schedule by its behaviour.

    ``fn(errors, beta_max=beta_max, momentum=momentum)`` must return one beta
    per batch (per column, for 2-d batches), with these properties (each probed,
    in this order, and named when it fails):

    1. shape ``(T,)`` or ``(T, d)``, finite (a batch of one error included);
    2. within ``[1e-3, beta_max]``;
    3. causal, and the current batch counts: beta for batch ``t`` does not change
       when later batches do, and (unless clipped) does when batch ``t`` does;
    4. 2-d errors: each column is its own schedule;
    5. once the running statistics have forgotten their start (after
       ``ceil(4 / momentum)`` batches), within ``0.1 * beta_max`` of the reference
       (:data:`SELF_ADJUSTING_TOL`): the biased or the unbiased variance, any start.

    Returns the number of batches checked.
    """
    label = label or (f"self_adjusting_beta(errors of {len(errors)} batches, beta_max={beta_max}, "
                      f"momentum={momentum})")
    errors = [np.asarray(e, dtype=np.float64) for e in errors]
    T = len(errors)

    def run(errs):
        return _call(fn, label, errs, beta_max=beta_max, momentum=momentum)

    truth = self_adjusting_beta_reference(errors, beta_max, momentum)
    got = run(errors)
    if got.shape != truth.shape:
        shape = Hint("wrong-shape", "one beta per batch" + (" and column" if truth.ndim == 2 else ""))
        _fail(label, f"returned shape {got.shape}, expected {truth.shape}: {shape}")
    if not np.all(np.isfinite(got)):
        i = tuple(int(j) for j in np.argwhere(~np.isfinite(got))[0])
        nan = Hint("beta-not-finite", "a batch of a single error has no sample variance; such a batch must not "
                                      "spoil the running statistics")
        _fail(label, f"at batch {i[0]} you give beta = {got[i]}: {nan}")
    lo_bad, hi_bad = got < SELF_ADJUSTING_MIN_BETA * (1 - 1e-9), got > beta_max * (1 + 1e-9)
    if lo_bad.any():
        i = tuple(int(j) for j in np.argwhere(lo_bad)[0])
        floor = Hint("beta-clipped-at-zero", "beta below the floor 1e-3: 0.5 e^2 / beta blows up as beta -> 0")
        _fail(label, f"at batch {i[0]} you give beta = {got[i]:.6g}: {floor}")
    if hi_bad.any():
        i = tuple(int(j) for j in np.argwhere(hi_bad)[0])
        cap = Hint("beta-not-capped", "beta_max is also the largest beta the schedule may use")
        _fail(label, f"at batch {i[0]} you give beta = {got[i]:.6g} > beta_max = {beta_max}: {cap}")
    # 3. causal, and the current batch counts (probed where the reference is not clipped)
    free = [t for t in range(T) if len(errors[t]) >= 2 and np.all(
        (truth[t] > SELF_ADJUSTING_MIN_BETA * 1.5) & (truth[t] < beta_max * 0.99))]
    for t0 in sorted({T // 3, (2 * T) // 3} | set(free[:1]) | set(free[-1:])):
        if not 0 < t0 < T:
            continue
        alt = run(_scaled(errors, t0 + 1, T, 3.0))
        if not _same(alt[:t0 + 1], got[:t0 + 1]):
            ahead = Hint("beta-reads-ahead", f"the beta of batch {t0} changes when later batches change")
            _fail(label, str(ahead))
    for t0 in free[:3]:
        if not np.all((got[t0] > SELF_ADJUSTING_MIN_BETA * 1.5) & (got[t0] < beta_max * 0.99)):
            continue  # the student's beta is at a clip there: a change of the batch need not show
        alt_t = _scaled(errors, t0, t0 + 1, 1.5)
        if not _same(self_adjusting_beta_reference(alt_t, beta_max, momentum)[t0], truth[t0]) and \
                _same(run(alt_t)[t0], got[t0]):
            before = Hint("beta-before-update", f"the beta of batch {t0} does not change when batch {t0}'s errors "
                                                "do: the batch's own errors must count in the beta it is scored with")
            _fail(label, str(before))
    # 4. columns
    if got.ndim == 2:
        for j in range(got.shape[1]):
            col = run([e.reshape(len(e), -1)[:, j] for e in errors])
            if not _same(col, got[:, j]):
                sep = Hint("columns-not-separate", f"column {j} of 2-d errors gives other betas than the same errors "
                                                   "as 1-d batches: each column has its own statistics")
                _fail(label, str(sep))
    # 5. agreement after the burn-in
    burn = int(np.ceil(SELF_ADJUSTING_BURN_IN / momentum))
    dev = np.abs(got - truth)[burn:]
    if dev.size and dev.max() > SELF_ADJUSTING_TOL * beta_max:
        i = tuple(int(j) for j in np.argwhere(dev == dev.max())[0])
        t = i[0] + burn
        gaps = {mode: np.abs(_self_adjusting_variant(errors, beta_max, momentum, mode) - got)[burn:].max()
                for mode in _SELF_ADJUSTING_MISTAKES}
        closest = min(gaps, key=gaps.__getitem__)
        if gaps[closest] <= SELF_ADJUSTING_TOL * beta_max / 5:
            why = str(_SELF_ADJUSTING_MISTAKES[closest])
        else:
            why = str(Hint("beta-not-typical", "beta should follow a running mean of |error| minus its running "
                                               "variance, both forgetting slowly at the rate momentum"))
        _fail(label, f"at batch {t} you give beta = {got[(t,) + i[1:]]:.6g}, the authors' code "
                     f"{truth[(t,) + i[1:]]:.6g} (tolerance {SELF_ADJUSTING_TOL} * beta_max after the first {burn} "
                     f"batches): {why}")
    return T


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
