"""nbgrader as a tool: its command line, run with the course's configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from regloss.course.root import CourseError, find_root


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
