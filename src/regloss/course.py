"""Where the course lives, and the release: ``solutions/`` -> ``notebooks/``.

The course root is the repository (or any folder laid out like it): it holds
``solutions/<assignment>/`` (nbgrader's source), ``notebooks/<assignment>/``
(nbgrader's release) and ``grading/nbgrader_config.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFIG = Path("grading") / "nbgrader_config.py"


class CourseError(Exception):
    """An instructor's mistake: no course here, an unknown assignment, ..."""


def find_root(start=None):
    """The course root: the first of ``start`` (default: the current directory),
    its parents, and this package's checkout that holds ``grading/nbgrader_config.py``.

    Raises
    ------
    CourseError
        When none does.
    """
    here = Path(start or os.getcwd()).resolve()
    candidates = [here, *here.parents, Path(__file__).resolve().parents[2]]
    for c in candidates:
        if (c / CONFIG).is_file() and (c / "solutions").is_dir():
            return c
    raise CourseError(f"no course found: no {CONFIG} with a solutions/ folder beside it in {here} or above")


def assignments(root=None):
    """The assignment ids, in teaching order (the sorted folder names under ``solutions/``)."""
    root = Path(root) if root else find_root()
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def check_assignment(assignment, root=None):
    """Raise :class:`CourseError` unless ``assignment`` is one of the course's."""
    known = assignments(root)
    if assignment not in known:
        raise CourseError(f"unknown assignment {assignment!r}; the course has: {', '.join(known)}")


def tool_env(extra=None):
    """The environment for nbgrader and its kernels: this interpreter's ``bin/`` first on
    ``PATH`` (nbgrader runs ``alembic`` and ``jupyter`` from there), plus ``extra``."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra or {})
    return env


def nbgrader(args, root=None, check=True, **kwargs):
    """Run the ``nbgrader`` command line with the course's configuration.

    Parameters
    ----------
    args : list of str
        E.g. ``["generate_assignment", "01_l1_mse", "--force"]``.
    root : path, optional
        The course root; nbgrader runs in its ``grading/`` folder.

    Returns
    -------
    subprocess.CompletedProcess
    """
    root = Path(root) if root else find_root()
    cmd = [sys.executable, "-m", "nbgrader", *args]
    env = kwargs.pop("env", None) or tool_env()
    proc = subprocess.run(cmd, cwd=root / "grading", capture_output=True, text=True, env=env, **kwargs)
    if check and proc.returncode != 0:
        raise CourseError(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def release(assignment_ids=None, root=None):
    """Regenerate ``notebooks/<a>`` from ``solutions/<a>`` with ``nbgrader generate_assignment``.

    Returns
    -------
    list of str
        The assignments released.
    """
    root = Path(root) if root else find_root()
    ids = list(assignment_ids) if assignment_ids else assignments(root)
    for a in ids:
        check_assignment(a, root)
        nbgrader(["generate_assignment", a, "--force"], root=root)
    return ids
