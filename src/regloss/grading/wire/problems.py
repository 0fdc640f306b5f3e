"""What went wrong with one student's submission, as values.

A :class:`Problem` is a small record (a *kind*, the sentence shown to the
instructor and the student, and the cell it concerns); code decides by its
``kind``, never by matching words in its text. The functions here find
problems from what a grading step left behind (the submitted notebook, the
autograded notebooks, the kernel's access log, the judge's verdicts). They are
pure logic: no process is started.
"""

from __future__ import annotations

import re
from enum import StrEnum

from regloss.course import cells as nbcells


class Kind(StrEnum):
    """What went wrong (code compares kinds, never texts)."""

    INTAKE = "intake"  # found while reading the submission (renamed, extra or invalid notebook, ...)
    TEST_DELETED = "test_deleted"
    TEST_EDITED = "test_edited"
    TIMEOUT = "timeout"  # a cell ran longer than the per-cell limit
    MEMORY = "memory"
    KERNEL_EXIT = "kernel_exit"  # the notebook tried to stop its kernel
    OUTPUT_TRUNCATED = "output_truncated"
    STDERR = "stderr"  # a test cell wrote to stderr
    OUTSIDE_ACCESS = "outside_access"
    KERNEL_CRASH = "kernel_crash"  # one cell killed the kernel; graded without it
    CELL_ERROR = "cell_error"  # the first error a cell of the student's raised (a SyntaxError, ...)
    WALL_TIMEOUT = "wall_timeout"  # the whole student took too long
    WORKER_FAILED = "worker_failed"
    NOT_GRADED = "not_graded"  # nbgrader could not grade the notebook at all
    JUDGE_DISAGREES = "judge_disagrees"  # passed in the student's kernel, failed in the judge
    JUDGE_FAILED = "judge_failed"  # the judge itself could not run
    SCORED_ZERO = "scored_zero"


#: Kinds after which the whole submission scored 0.
ZERO_KINDS = frozenset({Kind.WALL_TIMEOUT, Kind.WORKER_FAILED, Kind.NOT_GRADED, Kind.SCORED_ZERO})


class Problem(str):
    """One thing that went wrong, for the instructor's table and the student's feedback.

    It is the sentence shown (so it joins and prints as text) and carries what code
    decides by: its ``kind`` and the ``cell`` it concerns.

    Parameters
    ----------
    kind : Kind
        What went wrong (``Kind.TIMEOUT``, ``Kind.JUDGE_DISAGREES``, ...; a string naming one is taken too).
    text : str
        The sentence shown, e.g. ``"test_l1_loss__visible timed out after 60 s (endless loop?)"``.
    cell : str
        The grade id (or ``"cell 7"``) it concerns; empty for the whole submission.
    """

    __slots__ = ("kind", "cell")

    kind: Kind
    cell: str

    def __new__(cls, kind: Kind | str, text: str, cell: str = "") -> Problem:
        self = super().__new__(cls, text)
        self.kind, self.cell = Kind(kind), cell
        return self

    @property
    def text(self):
        return str.__str__(self)

    def __repr__(self):
        return f"Problem({self.kind!r}, {self.text!r}, {self.cell!r})"

    def __eq__(self, other):
        if isinstance(other, Problem):
            return (self.kind, self.text, self.cell) == (other.kind, other.text, other.cell)
        return str.__eq__(self, other)

    def __hash__(self):
        return str.__hash__(self)

    def __reduce__(self):
        return (Problem, (self.kind, self.text, self.cell))

    def to_dict(self):
        return {"kind": self.kind.value, "text": self.text, "cell": self.cell}

    @classmethod
    def from_dict(cls, d):
        if isinstance(d, str):  # a record written before problems had kinds
            return cls(Kind.INTAKE, d)
        return cls(d["kind"], d["text"], d.get("cell", ""))


def scored_zero(problems):
    """True when one of ``problems`` means the whole submission scored 0."""
    return any(p.kind in ZERO_KINDS for p in problems)


def unique(problems):
    """``problems`` without repeats, in order."""
    return list(dict.fromkeys(problems))


# --------------------------------------------------------------------------- detection


def changed_tests(submitted_nb, release_nb):
    """Problems for the release's test cells (and read-only cells) that a submitted
    notebook deleted or edited; nbgrader restores both from the gradebook.

    Parameters
    ----------
    submitted_nb, release_nb : nbformat.NotebookNode
    """
    got = {}
    for c in submitted_nb.cells:
        gid = nbcells.grade_id(c)
        if gid and gid not in got:
            got[gid] = c.get("source", "")
    found = []
    for c in release_nb.cells:
        m = nbcells.grading_meta(c)
        gid = m.get("grade_id")
        if not gid or m.get("solution") or not (m.get("grade") or m.get("locked")):
            continue
        if gid not in got:
            if m.get("grade"):
                found.append(Problem(Kind.TEST_DELETED,
                                     f"test cell {gid} was deleted; restored and run as released", gid))
        elif str(got[gid]).strip() != c.source.strip():
            what = "test cell" if m.get("grade") else "read-only cell"
            found.append(Problem(Kind.TEST_EDITED, f"{what} {gid} was edited; graded as released", gid))
    return found


def kernel_problems(notebooks, timeout: int, memory_mb: int):
    """What went wrong in the student's kernel, from the autograded notebooks' outputs: the
    first error a student's cell raised in each notebook (:func:`first_cell_error`), timeouts,
    memory, a stopped kernel, output cut, stderr in a test cell."""
    found, over_total = [], []
    for nb in notebooks:
        found += first_cell_error(nb)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            where = nbcells.grade_id(cell) or f"cell {i + 1}"
            test = nbcells.is_test(cell)
            for o in cell.get("outputs", []):
                if o.output_type == "error":
                    value = o.get("evalue", "")
                    if o.ename == "CellTimeoutError":
                        found.append(Problem(Kind.TIMEOUT, f"{where} timed out after {timeout} s (endless loop?)",
                                             where))
                    elif o.ename == "MemoryError":
                        found.append(Problem(Kind.MEMORY, f"{where} ran out of memory (cap {memory_mb} MB)", where))
                    elif o.ename == "SystemExit" or o.ename == "KernelExitBlocked" \
                            or value.startswith(("os._exit(", "os.abort()")):
                        found.append(Problem(Kind.KERNEL_EXIT,
                                             f"{where} tried to stop the kernel ({o.ename}: {value[:80]})", where))
                elif o.output_type == "stream":
                    if TOTAL_MARK in o.text:
                        over_total.append(where)
                    elif TRUNCATION_MARK in o.text or NBGRADER_TRUNCATION in o.text:
                        found.append(Problem(Kind.OUTPUT_TRUNCATED, f"{where}: output truncated", where))
                    elif o.name == "stderr" and test:
                        found.append(Problem(Kind.STDERR, f"{where} wrote to stderr (nbgrader scores it 0)", where))
    if over_total:  # one problem, not one per cell: a flood is hundreds of cells
        cells = list(dict.fromkeys(over_total))
        found.append(Problem(Kind.OUTPUT_TRUNCATED, f"output truncated: the notebook's outputs reached their cap; "
                                                    f"what {len(cells)} cell(s) printed from {cells[0]} on was cut",
                             cells[0]))
    return unique(found)


def first_cell_error(nb) -> list[Problem]:
    """The first error a cell other than a test raised in ``nb`` (later ones usually follow from
    it: a function never defined), as a short line; ``[]`` when there is none, or when it is
    stated as its own problem (:data:`NOT_CELL_ERRORS`)."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or nbcells.is_test(cell):
            continue
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                if o.ename in NOT_CELL_ERRORS:
                    return []
                where = nbcells.grade_id(cell) or f"cell {i + 1}"
                return [Problem(Kind.CELL_ERROR, _cell_error(where, o.ename, o.get("evalue", ""),
                                                             o.get("traceback")), where)]
    return []


#: Errors of a cell that are their own problem (or none): a timeout (nbclient interrupts the
#: cell), memory, a stopped kernel, the release's stub not attempted.
NOT_CELL_ERRORS = frozenset({"CellTimeoutError", "KeyboardInterrupt", "MemoryError", "SystemExit", "KernelExitBlocked",
                             "NotImplementedError"})
#: What nbgrader's ``LimitOutput`` appends where it cut a cell's output (over 1,000 lines).
NBGRADER_TRUNCATION = "... Output truncated ..."
_SYNTAX_LINE = re.compile(r"\(([^()]*), line (?P<line>\d+)\)\s*$")
_TB_LINE = re.compile(r"line (?P<line>\d+)")
#: A terminal colour code, as nbgrader's tracebacks hold them.
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cell_error(where: str, ename: str, value: str, traceback=None) -> str:
    """The short line for the first error a student's cell raised; a syntax error with its line."""
    value = " ".join(str(value).split())
    if ename in ("SyntaxError", "IndentationError", "TabError"):
        m = _SYNTAX_LINE.search(value)
        line = m["line"] if m else next((t["line"] for t in (_TB_LINE.search(ANSI.sub("", str(x)))
                                                             for x in traceback or []) if t), None)
        message = _SYNTAX_LINE.sub("", value).strip() or "invalid syntax"
        return f"{where}: {ename} on line {line}: {message}" if line else f"{where}: {ename}: {message}"
    return f"{where} raised {ename}: {value[:120]}" if value else f"{where} raised {ename}"


#: What the sandbox kernel appends to a cell's output it cut.
TRUNCATION_MARK = "[regloss: output truncated"
#: ...and what follows it where the grader cut a notebook's outputs at their total cap.
TOTAL_MARK = "the notebook's outputs reached"


def outside_access(paths):
    """The problem to state when the sandbox kernel saw cells look outside their folder
    (``paths``: what its access log holds), or ``[]``."""
    paths = list(dict.fromkeys(p for p in paths if p))
    if not paths:
        return []
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return [Problem(Kind.OUTSIDE_ACCESS, f"looked for files outside its folder ({shown})")]


def judge_disagreements(kernel_passed, verdicts, withheld=frozenset()):
    """Problems for the test cells that passed in the student's kernel but failed in the judge.

    Parameters
    ----------
    kernel_passed : dict
        grade id -> bool, the kernel's (nbgrader's) pass or fail.
    verdicts : iterable of regloss.grading.wire.jobs.CellVerdict
        The judge's.
    withheld : set of str
        Test cells the kernel ran without their hidden tests: its pass there says nothing
        of the cell (:mod:`regloss.grading.worker.hidden_tests`).
    """
    found = []
    for v in verdicts:
        if v.judged and not v.passed and kernel_passed.get(v.grade_id) and v.grade_id not in withheld:
            found.append(Problem(Kind.JUDGE_DISAGREES, f"{v.grade_id} passed in your notebook but failed when checked "
                                                  f"independently: {v.message}", v.grade_id))
    return found
