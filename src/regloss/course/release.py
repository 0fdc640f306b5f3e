"""The release: ``solutions/`` -> ``notebooks/``, with every shipped answer file regenerated."""

from __future__ import annotations

from pathlib import Path

from regloss.course import shipped
from regloss.course.nbgrader_tool import nbgrader
from regloss.course.root import assignments, check_assignment, find_root


def release(assignment_ids=None, root=None):
    """Regenerate ``notebooks/<a>`` from ``solutions/<a>``.

    First the answer files ``<a>`` ships are written into ``solutions/<a>/`` from
    their one source (:mod:`regloss.course.shipped`), then ``nbgrader
    generate_assignment <a> --force`` makes the student release of the folder.

    Returns
    -------
    list of str
        The assignments released.
    """
    root = Path(root) if root else find_root()
    ids = list(assignment_ids) if assignment_ids else assignments(root)
    for a in ids:
        check_assignment(a, root)
    for a in ids:
        shipped.write(a, root)
        nbgrader(["generate_assignment", a, "--force"], root=root)
    return ids
