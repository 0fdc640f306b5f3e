"""The mistakes the checks can name, each with a stable id, and the hints that carry the id.

A failed check tells the student what differs and, where it can, the likely
mistake: a :class:`Hint`. A hint is written where it is made (in
:mod:`~regloss.checks.diagnose`, :mod:`~regloss.checks.compare`, the loss records of
:mod:`~regloss.checks.losses`, ...) with the id of the mistake it names, and it is
rendered with that id as a tag at its end::

    did you sum instead of averaging? reduction='mean' divides by the number of elements [mistake: sum-for-mean]

The tag is part of the message a student sees: it names the misconception, and it is
plain text, so it survives wherever the message goes (a notebook's error output, the
judge's verdict, a feedback page) and can be read back from there: the class report
(:mod:`regloss.grading.report.mistakes`) counts misconceptions by reading the tags with
:data:`TAG` (:func:`tags`), never the prose.

The ids are stable: instructors' ``mistakes.csv`` files use them. Add a mistake by
adding it to :data:`MISTAKES`; never rename one. A :class:`Hint` with an id that
:data:`MISTAKES` does not describe cannot be made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """One mistake the checks can name.

    Attributes
    ----------
    id : str
        Stable: the tag of every hint that names it, and the ``mistake`` column of
        ``mistakes.csv``.
    description : str
        What the mistake is, in a few words, for the class report.
    """

    id: str
    description: str


#: Every mistake the checks can name, in the order the report lists ties.
MISTAKES: tuple[Mistake, ...] = (
    # --- a constant factor between the student's answer and PyTorch's (diagnose, the loss records)
    Mistake("sum-for-mean", "a sum where reduction='mean' averages"),
    Mistake("missing-1/N", "the gradient of a mean without its 1/N"),
    Mistake("mean-for-sum", "an average where reduction='sum' adds"),
    Mistake("1/N-without-mean", "a 1/N in the gradient of reduction='none'"),
    Mistake("smoothl1-convention", "Huber divided by delta (the SmoothL1 convention)"),
    Mistake("multiplied-too-often", "multiplied by the parameter once too often (delta, scale**2)"),
    Mistake("huber-convention", "SmoothL1 multiplied by beta (the Huber convention)"),
    Mistake("divided-too-often", "divided by the parameter once too often (beta, delta, scale**2)"),
    Mistake("missing-scale-factor", "the loss's own factor missing (delta**2, c**2 / 2, c**2 / 6)"),
    Mistake("flipped-sign", "the sign flipped (e = input - target; a loss is never negative)"),
    Mistake("missing-0.5", "twice PyTorch's value: a factor 0.5 missing (or a factor 2 too many)"),
    Mistake("extra-0.5", "half PyTorch's value: an extra 0.5 (MSE is e**2)"),
    Mistake("missing-2", "half PyTorch's value: a factor 2 missing (d/de e**2 = 2e)"),
    # --- where an element-wise answer is wrong (diagnose)
    Mistake("sign(0)", "a (sub)gradient other than 0 at e = 0 (sign(0) = 1, e >= 0)"),
    Mistake("loss-at-zero", "a nonzero loss for a zero error"),
    Mistake("branch-on-e-not-|e|", "the branch tests e < delta instead of |e| < delta"),
    Mistake("linear-slope-1", "slope +-1 on Huber's linear branch (it is +-delta)"),
    Mistake("linear-slope-beta", "slope +-beta on SmoothL1's linear branch (it is +-1)"),
    Mistake("missing-offset", "the linear branch without its offset (0.5 delta^2 / 0.5 beta)"),
    Mistake("double-offset", "the linear branch's offset subtracted twice"),
    Mistake("linear-branch", "the linear branch (|e| > delta) wrong"),
    Mistake("quadratic-branch", "the quadratic branch (|e| < delta) wrong"),
    Mistake("boundary", "the two branches disagree at |e| = delta"),
    Mistake("beta-zero-division", "nan for beta = 0 (SmoothL1 with beta = 0 is L1)"),
    Mistake("nan", "nan (or inf) where PyTorch has a number"),
    # --- assignment 07's losses (the loss records' own readings)
    Mistake("cosh-overflow", "cosh(e) overflows at large |e| (log cosh written naively)"),
    Mistake("tukey-beyond-c", "Tukey's polynomial continued beyond c (it is constant there)"),
    Mistake("quantile-swapped", "q and 1 - q swapped in the quantile loss"),
    Mistake("alpha-limits", "Barron's general formula used at alpha = 2, 0 or -inf (use its limits)"),
    Mistake("cancellation", "a cancellation for tiny |e| (sqrt(1 + u) - 1, x**a - 1)"),
    # --- what is not a wrong number (compare, own_work, gradcheck)
    Mistake("no-return", "no return statement (returns None)"),
    Mistake("wrong-shape", "the wrong shape (a reduction, or a gradient not shaped like input)"),
    Mistake("not-an-array", "returns something that is not an array or a number"),
    Mistake("accepts-invalid", "accepts an invalid argument PyTorch refuses"),
    Mistake("vague-error", "a ValueError that does not say what is wrong"),
    Mistake("wrong-exception", "raises another exception than ValueError for an invalid argument"),
    Mistake("delegates", "hands the computation to torch / SciPy / regloss"),
    Mistake("gradient-vs-finite-differences", "an analytic gradient that finite differences contradict"),
    # --- assignment 08: a NumPy loss as a torch loss, the training loop (training)
    Mistake("not-a-tensor", "a torch loss that returns something other than a torch.Tensor"),
    Mistake("wrong-dtype", "a result or gradient in another dtype than input's"),
    Mistake("no-grad-fn", "a torch loss whose output has no grad_fn (not the autograd.Function's .apply)"),
    Mistake("missing-gradient", "backward returns no gradient for an input that requires one (target: -d/d input)"),
    Mistake("ignores-grad-output", "backward ignores grad_output"),
    Mistake("forward-ignores-loss", "the forward pass does not call the NumPy loss it is given"),
    Mistake("backward-ignores-loss-grad", "the backward pass does not call the NumPy loss_grad it is given"),
    Mistake("not-reentrant", "backward gives different values when run twice"),
    Mistake("wrong-number-of-losses", "not one loss per training step"),
    Mistake("parameters-unchanged", "a training loop that never moves the parameters (no step, or zero_grad too late)"),
    Mistake("no-zero-grad", "gradients accumulate across training steps (no zero_grad)"),
    Mistake("loss-after-step", "each step records the loss after its update, not the one it computed"),
    Mistake("step-before-backward", "optimizer.step() before backward(): the first step does not move"),
    Mistake("wrong-number-of-steps", "a mini-batch loop not taking one optimiser step per batch, n_steps in all"),
    Mistake("rows-not-from-x", "a mini-batch loop whose model sees rows that are not rows of x"),
    Mistake("batch-with-replacement", "mini-batches drawn with replacement: a sample repeats within an epoch"),
    Mistake("last-batch-dropped", "the last, smaller batch of each epoch dropped"),
    Mistake("wrong-batch-size", "mini-batches of another size than batch_size (the last of an epoch n mod b)"),
    Mistake("epoch-incomplete", "an epoch that does not visit every sample exactly once"),
    Mistake("not-shuffled", "mini-batches in the stored order, never shuffled"),
    Mistake("shuffled-once", "one random order used for every epoch, not a new one per epoch"),
    Mistake("rng-ignored", "the order not drawn from the rng passed in (global np.random, torch.randperm)"),
    # --- assignment 08: Dynamic and Self-Adjusting SmoothL1 (schedules, graded by behaviour)
    Mistake("beta-updated-every-step", "Dynamic SmoothL1's beta changes inside an interval, not only where one starts"),
    Mistake("beta-applied-early", "a beta that depends on the targets of its own iteration or later ones"),
    Mistake("first-interval-not-beta0", "Dynamic SmoothL1's first interval (no record yet) not at beta0"),
    Mistake("beta-never-updated", "Dynamic SmoothL1's beta never leaves beta0"),
    Mistake("beta-not-positive", "a beta of 0 or below (SmoothL1 divides by it), e.g. from zero targets"),
    Mistake("mean-record", "each iteration records the mean |target|, not a low quantile (the k-th smallest)"),
    Mistake("kth-largest", "each iteration records the k-th largest |target|, not the k-th smallest"),
    Mistake("kth-off-by-one", "the (k+1)-th smallest |target| recorded (k counts from 1)"),
    Mistake("mean-of-records", "the mean of an interval's records, dragged by a few unusual iterations"),
    Mistake("beta-not-typical", "a schedule's beta far from the typical value its goal describes"),
    Mistake("beta-not-capped", "beta not capped (at beta0, or at beta_max)"),
    Mistake("records-not-cleared", "an update that still reads the intervals before the last one"),
    Mistake("momentum-flipped", "the running statistics weight the new batch by 1 - momentum"),
    Mistake("std-for-variance", "mu - sigma (a standard deviation) where the goal reads the variance"),
    Mistake("no-running-statistics", "each batch's own mean and variance, without running statistics"),
    Mistake("signed-errors", "running statistics of the signed errors instead of |error|"),
    Mistake("beta-not-finite", "a nan or infinite beta (a batch of one error has no sample variance)"),
    Mistake("beta-clipped-at-zero", "beta below the floor 1e-3 (clipped at 0, or not at all)"),
    Mistake("beta-reads-ahead", "a batch's beta that changes when later batches change"),
    Mistake("beta-before-update", "a batch's beta that ignores the batch's own errors"),
    Mistake("columns-not-separate", "the columns of 2-d errors not kept as separate schedules"),
    # --- assignment 05: the IRLS weight psi(r)/r (weights)
    Mistake("weight-signed", "a signed IRLS weight (|r| forgotten): psi(r)/r is even"),
    Mistake("weight-at-zero", "the IRLS weight at r = 0 taken as 0 or 0/0, not the limit of psi(r)/r"),
    Mistake("weight-is-psi-prime", "psi'(r), the slope of psi, taken for the weight psi(r)/r"),
    Mistake("weight-no-quadratic-zone", "the far weight delta/|r| used inside the quadratic zone too"),
    Mistake("weight-inverted", "the weight upside down: it grows with |r|"),
    Mistake("weight-factor", "the weight off by a constant factor"),
    Mistake("weight-square-root", "the square root of the weight (the row scaling of weighted least squares)"),
    Mistake("weight-from-rho", "the loss, not its derivative, divided by r (rho(r)/r**2)"),
    Mistake("weight-divides-twice", "psi divided by r twice"),
    # --- assignment 07: the Monte Carlo study and the MM fit (robust_stats)
    Mistake("efficiency-inverted", "relative efficiency upside down: the estimator's MSE over the mean's"),
    Mistake("ci-of-one-run", "an interval for the mean over the runs as wide as one run's spread (no 1/sqrt(runs))"),
    Mistake("ci-ddof", "the runs' standard deviation with ddof 0 in the interval"),
    Mistake("ci-normal-quantile", "the normal quantile 1.96 where a mean over a few runs needs Student's t"),
    Mistake("seeds-unused", "every seed gives the same run"),
    Mistake("bias-unsigned", "the bias from absolute (or squared) estimates: errors of both signs cannot cancel"),
    Mistake("mad-unnormalised", "the MAD without its normal-consistency constant Phi^-1(3/4)"),
    Mistake("scale-from-outliers", "a scale the outliers inflate (least-squares residuals, the sd, a weak start)"),
    Mistake("c-on-raw-residuals", "Tukey's c applied to residuals not divided by the scale"),
)

#: :data:`MISTAKES` by id.
BY_ID: dict[str, Mistake] = {m.id: m for m in MISTAKES}

#: A mistake's tag, as it ends a hint: ``[mistake: <id>]``. An id holds no space and no ``]``.
TAG = re.compile(r"\[mistake: (?P<id>[^\]\s]+)\]")


def tag(mistake_id: str) -> str:
    """The tag that ends a hint naming ``mistake_id``: ``"[mistake: <id>]"``."""
    return f"[mistake: {mistake_id}]"


@dataclass(frozen=True)
class Hint:
    """The likely mistake behind a failed check: the words for the student and the mistake's id.

    ``str(hint)`` is what the student reads: ``text`` followed by the tag of ``id``
    (``"... [mistake: sum-for-mean]"``).

    Attributes
    ----------
    id : str
        An id of :data:`MISTAKES`; any other raises ``ValueError``.
    text : str
        The hint's words (no tag).
    """

    id: str
    text: str

    def __post_init__(self) -> None:
        if self.id not in BY_ID:
            raise ValueError(f"a hint names the mistake {self.id!r}, which regloss.checks.mistakes.MISTAKES "
                             "does not describe")

    def __str__(self) -> str:
        return f"{self.text} {tag(self.id)}"


def render(hints: Iterable[Hint], sep: str = "; ") -> str | None:
    """The hints as the student reads them, each with its tag, joined by ``sep``.

    Parameters
    ----------
    hints : iterable of Hint
        Repeated hints are given once, in the order they first come.
    sep : str
        ``"; or "`` between readings of the same evidence (factors that fit), ``"; "``
        between findings.

    Returns
    -------
    str or None
        ``None`` for no hint.
    """
    return sep.join(str(h) for h in dict.fromkeys(hints)) or None


def tags(message: str) -> list[str]:
    """The mistake ids tagged in ``message``, in the order they appear (the first is the first diagnosis).

    Parameters
    ----------
    message : str
        A failed check's message, as printed anywhere (plain text).

    Returns
    -------
    list of str
        Ids as written; an id :data:`MISTAKES` does not describe is returned too.
    """
    return [m["id"] for m in TAG.finditer(message or "")]
