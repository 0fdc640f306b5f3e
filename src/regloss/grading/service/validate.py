"""Is a request's body a notebook of the assignment? (400 when not, 413 when too large.)

The body must be an nbformat 4 notebook nbgrader can read, and be *of that assignment*:
it must hold at least half of the grade ids of one of the assignment's notebooks (a
student keeps the test cells; a notebook of another assignment shares few or none). The
notebook is graded under that notebook's name, as ``regloss grade`` grades a renamed
one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from regloss.course import cells as nbcells

#: the largest body accepted by default (a notebook with its outputs; 413 beyond)
MAX_BYTES = 20 * 10**6


class BadNotebook(ValueError):
    """The body is not a notebook of the assignment (the message says why)."""


def notebook_of(body: bytes, assignment: str, expected: Mapping[str, set[str]]) -> str:
    """The name of the assignment's notebook that ``body`` is, or :class:`BadNotebook`.

    Parameters
    ----------
    body : bytes
    assignment : str
    expected : dict
        ``{notebook name: its grade ids}`` of the assignment.
    """
    import nbformat

    try:
        text = body.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadNotebook(f"the body is not a notebook (not JSON: {type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise BadNotebook("the body is JSON but not a notebook (no list of cells)")
    if data.get("nbformat") != 4:
        raise BadNotebook(f"the body is not an nbformat 4 notebook (nbformat {data.get('nbformat')!r})")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - anything nbformat refuses, nbgrader cannot grade
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BadNotebook(f"the body is not a valid notebook: {first[:200]}") from None
    ids = nbcells.grade_ids(nb.cells)
    best, share = None, 0.0
    for name, want in expected.items():
        s = len(ids & want) / max(1, len(want))
        if s > share:
            best, share = name, s
    if best is None or share < 0.5:
        raise BadNotebook(f"the body is not a notebook of {assignment} (it holds {share:.0%} of its cells)")
    return best
