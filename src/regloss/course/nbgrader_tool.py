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


def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema, read from its migration
    scripts in this process. nbgrader's own ``get_alembic_version`` asks a new
    ``alembic heads`` process (two seconds) each time it creates a gradebook."""
    import nbgrader
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:
        raise CourseError("nbgrader's gradebook migrations name no head revision")
    return head


def generate_assignment(root, assignment, db_url):
    """``nbgrader generate_assignment ASSIGNMENT --force`` for the course at ``root`` with
    the gradebook ``db_url``, run in this process through nbgrader's Python API (the
    course's ``grading/nbgrader_config.py`` is read as the command line reads it).

    Returns
    -------
    (bool, str)
        Success, and nbgrader's log and error.
    """
    import nbgrader.api
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root)
    head = alembic_head()
    nbgrader.api.get_alembic_version = lambda: head  # same answer, without the subprocess
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(root / "grading")).load_config()
    cfg.CourseDirectory.root = str(root)
    cfg.CourseDirectory.db_url = db_url
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    old = os.getcwd()
    os.chdir(root / "grading")
    try:
        res = api.generate_assignment(assignment, force=True)
    finally:
        os.chdir(old)
    return bool(res.get("success")), (res.get("log") or "") + (res.get("error") or "")


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of an SQLite gradebook file (nbgrader's ``CourseDirectory.db_url``)."""
    return "sqlite:///" + str(Path(path).resolve())
