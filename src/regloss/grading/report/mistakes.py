"""The class's misconceptions: what the checks diagnosed, counted across students.

A failing test cell's message is what :mod:`regloss.checks.compare` raised: the
case, the student's value and PyTorch's, then the likely mistake named by
:mod:`regloss.checks.diagnose` (or by compare itself: a missing ``return``, a
wrong shape, a delegated computation, ...). :func:`classify` maps a message to
the stable id of its *first* diagnosis; :func:`failure_messages` reads the
messages of one student's failing test cells; :func:`count` tallies a class.

Pure functions except :func:`failure_messages` (which reads notebooks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

TEST_CELL = re.compile(r"^test_(?P<function>.+?)__(?P<tag>\w+)$")


@dataclass(frozen=True)
class Mistake:
    """One diagnosable mistake: a stable ``id``, its description, and the pattern of its hint."""

    id: str
    description: str
    pattern: str


_P = r"(?:delta|beta)"
# Order matters only between patterns that match at the same place: specific first.
MISTAKES = [
    # --- diagnose.ratio_hint: a constant factor between the student's answer and PyTorch's
    Mistake("sum-for-mean", "a sum where reduction='mean' averages",
            r"did you sum instead of averaging\?"),
    Mistake("missing-1/N", "the gradient of a mean without its 1/N",
            r"did you forget the 1/N of the mean\?"),
    Mistake("mean-for-sum", "an average where reduction='sum' adds",
            r"did you average\? reduction='sum'"),
    Mistake("1/N-without-mean", "a 1/N in the gradient of reduction='none'",
            r"did you divide by N\? reduction='none'"),
    Mistake("smoothl1-convention", "Huber divided by delta (the SmoothL1 convention)",
            r"divided by delta: that is the SmoothL1 convention"),
    Mistake("multiplied-too-often", "multiplied by the parameter once too often (delta, scale**2)",
            r"multiplied by delta once too often|multiplied by scale\*\*2"),
    Mistake("huber-convention", "SmoothL1 multiplied by beta (the Huber convention)",
            r"multiplied by beta: that is the Huber convention"),
    Mistake("divided-too-often", "divided by the parameter once too often (beta, delta, scale**2)",
            r"divided by (?:beta|delta|scale\*\*2) once too often"),
    Mistake("missing-scale-factor", "the loss's own factor missing (delta**2, c**2 / 2, c**2 / 6)",
            r"missing the factor (?:delta|c)\*\*2"),
    Mistake("flipped-sign", "the sign flipped (e = input - target; a loss is never negative)",
            r"the sign of the (?:loss|gradient) is flipped|your loss is the negative of PyTorch's"),
    Mistake("missing-0.5", "twice PyTorch's value: a factor 0.5 missing (or a factor 2 too many)",
            r"twice PyTorch's value"),
    Mistake("extra-0.5", "half PyTorch's value: an extra 0.5 (MSE is e**2)",
            r"half of PyTorch's value: an extra 0\.5"),
    Mistake("missing-2", "half PyTorch's value: a factor 2 missing (d/de e**2 = 2e)",
            r"half of PyTorch's value: a (?:factor 2 missing|missing factor 2)"),
    # --- diagnose.location_hint: where the answer is wrong
    Mistake("sign(0)", "a (sub)gradient other than 0 at e = 0 (sign(0) = 1, e >= 0)",
            r"wrong only where e = 0: (?:PyTorch's \(sub\)gradient|the gradient) there is 0"),
    Mistake("loss-at-zero", "a nonzero loss for a zero error",
            r"wrong only where e = 0: the loss of a zero error is 0"),
    Mistake("branch-on-e-not-|e|", "the branch tests e < delta instead of |e| < delta",
            rf"wrong only where \|e\| >?=? ?{_P} \(the linear branch\)[^;]*; only negative errors"),
    Mistake("linear-slope-1", "slope +-1 on Huber's linear branch (it is +-delta)",
            r"wrong only where \|e\| >?=? ?delta \(the linear branch\): the slope there is \+-delta, not \+-1"),
    Mistake("linear-slope-beta", "slope +-beta on SmoothL1's linear branch (it is +-1)",
            r"wrong only where \|e\| >?=? ?beta \(the linear branch\): the slope there is \+-1, not \+-beta"),
    Mistake("missing-offset", "the linear branch without its offset (0.5 delta^2 / 0.5 beta)",
            rf"wrong only where \|e\| >?=? ?{_P} \(the linear branch\): you are \S+ too high there"),
    Mistake("double-offset", "the linear branch's offset subtracted twice",
            rf"wrong only where \|e\| >?=? ?{_P} \(the linear branch\): you are \S+ too low there"),
    Mistake("linear-branch", "the linear branch (|e| > delta) wrong",
            rf"wrong only where \|e\| >?=? ?{_P} \(the linear branch\)"),
    Mistake("quadratic-branch", "the quadratic branch (|e| < delta) wrong",
            rf"wrong only where \|e\| < {_P} \(the quadratic branch\)"),
    Mistake("boundary", "the two branches disagree at |e| = delta",
            rf"wrong only at the boundary \|e\| = {_P}"),
    Mistake("beta-zero-division", "nan for beta = 0 (SmoothL1 with beta = 0 is L1)",
            r"nan with beta = 0"),
    Mistake("nan", "nan (or inf) where PyTorch has a number",
            r"your answer holds nan (?:or inf )?where PyTorch's does not"),
    # --- diagnose_robust: assignment 07's losses
    Mistake("cosh-overflow", "cosh(e) overflows at large |e| (log cosh written naively)",
            r"cosh\(e\) overflows"),
    Mistake("tukey-beyond-c", "Tukey's polynomial continued beyond c (it is constant there)",
            r"beyond c Tukey's loss is the constant"),
    Mistake("quantile-swapped", "q and 1 - q swapped in the quantile loss",
            r"Are q and 1 - q swapped\?"),
    Mistake("alpha-limits", "Barron's general formula used at alpha = 2, 0 or -inf (use its limits)",
            r"nan or inf with alpha"),
    Mistake("cancellation", "a cancellation for tiny |e| (sqrt(1 + u) - 1, x**a - 1)",
            r"wrong only for tiny \|e\|: a cancellation"),
    # --- compare and own_work: what is not a wrong number
    Mistake("no-return", "no return statement (returns None)",
            r"returned None: did you forget `return`\?"),
    Mistake("wrong-shape", "the wrong shape (a reduction, or a gradient not shaped like input)",
            r"returned shape \(.*?\), PyTorch gives"),
    Mistake("not-an-array", "returns something that is not an array or a number",
            r"returned \w+, not a NumPy array or number"),
    Mistake("accepts-invalid", "accepts an invalid argument PyTorch refuses",
            r"instead of raising ValueError"),
    Mistake("vague-error", "a ValueError that does not say what is wrong",
            r"the message should say what is wrong"),
    Mistake("wrong-exception", "raises another exception than ValueError for an invalid argument",
            r"the contract asks for a ValueError"),
    Mistake("delegates", "hands the computation to torch / SciPy / regloss",
            r"This exercise asks you to write the computation yourself"),
    Mistake("gradient-vs-finite-differences", "an analytic gradient that finite differences contradict",
            r"analytic and finite-difference gradients differ"),
]
BY_ID = {m.id: m for m in MISTAKES}
OTHER = Mistake("other", "a wrong value with no named mistake", "")
CRASHED = Mistake("error", "the function raised an error", "")
_COMPILED = [(m, re.compile(m.pattern)) for m in MISTAKES]


def classify(message: str, ename: str = "AssertionError"):
    """The stable id of the first mistake a failing check's message names.

    Parameters
    ----------
    message : str
        The exception's message (``evalue``).
    ename : str
        The exception's class name; ``NotImplementedError`` (the release's stub,
        not attempted) gives ``None``, any other non-assertion ``"error"``.

    Returns
    -------
    str or None
        An id of :data:`MISTAKES`, ``"other"`` for an assertion that names
        no mistake, ``"error"`` for a crash, ``None`` for a stub not attempted.
    """
    if ename == "NotImplementedError":
        return None
    best = None
    for order, (m, rx) in enumerate(_COMPILED):
        hit = rx.search(message or "")
        if hit and (best is None or (hit.start(), order) < best[0]):
            best = ((hit.start(), order), m.id)
    if best:
        return best[1]
    # a failed check is an AssertionError; regloss.checks raises its subclass CheckFailed
    return "other" if ename in ("AssertionError", "CheckFailed") else "error"


def describe(mistake_id: str) -> str:
    """The words for a mistake id."""
    return {**BY_ID, "other": OTHER, "error": CRASHED}.get(mistake_id, OTHER).description


def function_of(grade_id: str) -> str:
    """The graded function a test cell ``test_<function>__<tag>`` checks (else the cell id)."""
    m = TEST_CELL.match(grade_id or "")
    return m["function"] if m else (grade_id or "")


@dataclass
class Failure:
    """One failing test cell of one student."""

    cell: str
    ename: str
    message: str


def failures_in_notebook(nb) -> list:
    """The failing test cells of an executed (autograded) notebook, with their first error."""
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(Failure(meta.get("grade_id", ""), o.get("ename", ""), o.get("evalue", "")))
                break
    return out


_TYPED = re.compile(r"^(?P<ename>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): ?(?P<message>.*)$", re.S)


def from_verdict(grade_id: str, message: str) -> Failure:
    """A :class:`Failure` from the judge's verdict message: an assertion's message as it is,
    any other exception as ``"Type: message"``."""
    m = _TYPED.match(message or "")
    if m:
        return Failure(grade_id, m["ename"].rsplit(".", 1)[-1], m["message"])
    return Failure(grade_id, "AssertionError", message or "")


def failure_messages(out: Path, assignment: str, student_id: str, result=None) -> list:
    """Every failing test cell of one student, as :class:`Failure`.

    Read from the judge's verdicts in the per-student result when it has them
    (``result.verdicts``: objects or dicts with ``grade_id``, ``passed``,
    ``message``), else from the student's autograded notebooks
    (``out/autograded/<student>/<assignment>/*.ipynb``), where the failing test
    cells hold their error outputs.
    """
    verdicts = getattr(result, "verdicts", None) if result is not None else None
    if verdicts:
        found = []
        for v in verdicts:
            get = v.get if isinstance(v, dict) else (lambda k, v=v: getattr(v, k, None))
            if not get("passed"):
                found.append(from_verdict(get("grade_id") or "", get("message") or ""))
        return found
    import nbformat

    found = []
    folder = Path(out) / "autograded" / student_id / assignment
    for path in sorted(folder.glob("*.ipynb")):
        try:
            found += failures_in_notebook(nbformat.read(str(path), as_version=4))
        except Exception:  # noqa: BLE001 - an unreadable notebook has no messages to count
            continue
    return found


@dataclass
class Tally:
    """How often one mistake was diagnosed in one function across the class."""

    mistake: str
    function: str
    students: list = field(default_factory=list)
    count: int = 0  # failing checks diagnosed so

    @property
    def description(self):
        return describe(self.mistake)


def count(failures_by_student: dict) -> list:
    """Tally ``{student: [Failure]}`` by (mistake, function), most students first.

    Each failing check counts once, under its first diagnosis; a stub not
    attempted counts nowhere.

    Returns
    -------
    list of Tally
        Sorted by number of students (descending), then count, then id and function.
    """
    tallies = {}
    for sid, failures in failures_by_student.items():
        for f in failures:
            mid = classify(f.message, f.ename)
            if mid is None:
                continue
            t = tallies.setdefault((mid, function_of(f.cell)), Tally(mid, function_of(f.cell)))
            t.count += 1
            if sid not in t.students:
                t.students.append(sid)
    return sorted(tallies.values(), key=lambda t: (-len(t.students), -t.count, t.mistake, t.function))
