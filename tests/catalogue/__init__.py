"""The catalogue of student submissions that measures the graders' power.

Each module ``a<NN>_*.py`` in this package defines ``ENTRIES``, a list of
:class:`Entry`: the source a student might write for one graded cell, and what
autograding must make of it:

* ``WRONG``     a realistic mistake: the exercise must lose points;
* ``CORRECT``   a differently written correct answer: full marks on every test;
* ``DELEGATES`` hands the work to torch / scipy / regloss: the exercise earns 0.

The next assignment only adds a module; ``tests/grading/test_catalogue.py`` picks it up.
"""

from __future__ import annotations

import importlib
import pkgutil
import textwrap
from dataclasses import dataclass, field

WRONG, CORRECT, DELEGATES = "wrong", "correct", "delegates"


@dataclass(frozen=True)
class Entry:
    assignment: str
    cell: str          # grade_id of the solution cell replaced (the graded function's name)
    name: str          # short slug
    expect: str        # WRONG, CORRECT or DELEGATES
    source: str
    why: str = ""      # the mistake, in words
    also: dict = field(default_factory=dict)  # other cells to replace: {grade_id: source}

    def __post_init__(self):
        object.__setattr__(self, "source", textwrap.dedent(self.source).strip() + "\n")

    @property
    def student_id(self):
        return f"{self.cell}--{self.name}".replace("_", "-")

    @property
    def replacements(self):
        return {self.cell: self.source, **{k: textwrap.dedent(v).strip() + "\n" for k, v in self.also.items()}}


def wrong(assignment, cell, name, source, why, **kw):
    return Entry(assignment, cell, name, WRONG, source, why, **kw)


def correct(assignment, cell, name, source, why="", **kw):
    return Entry(assignment, cell, name, CORRECT, source, why, **kw)


def delegates(assignment, cell, name, source, why="", **kw):
    return Entry(assignment, cell, name, DELEGATES, source, why, **kw)


def variant(base, *pairs):
    """``base`` with each (old, new) replaced once; fails loudly if ``old`` is absent.

    Wrong entries are mostly a correct source with one realistic change: writing
    them as variants keeps each mistake to the one line it is about.
    """
    for old, new in pairs:
        assert old in base, f"catalogue variant: {old!r} not in the base source"
        base = base.replace(old, new, 1)
    return base


def all_entries():
    out = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        out.extend(importlib.import_module(f"{__name__}.{mod}").ENTRIES)
    ids = [(e.assignment, e.student_id) for e in out]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"duplicate catalogue entries: {dup}"
    return out
