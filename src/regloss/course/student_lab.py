"""A student's JupyterLab without nbgrader's instructor tools (``regloss student-setup``).

:func:`student_setup` turns off nbgrader's instructor tools (Formgrader,
Create Assignment, Course List), keeping Validate and the Assignment List:
the lab extensions with ``jupyter labextension disable``, as nbgrader's
installation guide says; the server extensions by ``ServerApp.jpserver_extensions``
set to false in the level's ``jupyter_server_config.json`` (merged into what it
holds). The guide's ``jupyter server extension disable
nbgrader.server_extensions.formgrader`` exits 0 yet writes nothing with
nbgrader 0.9.6 (its validation does not find the module), and a
``jupyter_server_config.d`` file at user level does not override nbgrader's
sys-prefix one; the traitlets config file does, as it is read before the
extension files are merged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from regloss.course.root import CourseError

INSTRUCTOR_LAB_EXTENSIONS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                             "@jupyter/nbgrader:course-list"]
INSTRUCTOR_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]
LEVELS = {"user": ("--level=user", "--user"), "sys-prefix": ("--level=sys_prefix", "--sys-prefix")}

SERVER_CONFIG = "jupyter_server_config.json"


def student_setup_commands(level: str = "sys-prefix", jupyter=None):
    """The ``jupyter labextension disable`` commands that hide nbgrader's instructor tools.

    Parameters
    ----------
    level : {"sys-prefix", "user"}
        ``sys-prefix``: for everyone using this environment (a student's own
        venv, a JupyterHub image); ``user``: for the current user only (their
        ``JUPYTER_CONFIG_DIR``).
    """
    if level not in LEVELS:
        raise CourseError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    jupyter = jupyter or [sys.executable, "-m", "jupyter"]
    lab_flag = LEVELS[level][0]
    return [[*jupyter, "labextension", "disable", lab_flag, ext] for ext in INSTRUCTOR_LAB_EXTENSIONS]


def server_config_file(level: str, env=None) -> Path:
    """The ``jupyter_server_config.json`` of ``level`` (the user's config dir, or this environment's)."""
    if level == "user":
        from jupyter_core.paths import jupyter_config_dir

        if env and env.get("JUPYTER_CONFIG_DIR"):
            return Path(env["JUPYTER_CONFIG_DIR"]) / SERVER_CONFIG
        return Path(jupyter_config_dir()) / SERVER_CONFIG
    return Path(sys.prefix) / "etc" / "jupyter" / SERVER_CONFIG


def write_server_switch(level: str, env=None) -> Path:
    """Set the instructor server extensions to false in ``ServerApp.jpserver_extensions`` of the
    level's ``jupyter_server_config.json``, keeping whatever else it holds; returns its path."""
    path = server_config_file(level, env)
    data = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text() or "{}")
        except json.JSONDecodeError as exc:
            raise CourseError(f"{path} is not valid JSON ({exc}); fix it, then run student-setup again") from exc
    exts = data.setdefault("ServerApp", {}).setdefault("jpserver_extensions", {})
    exts.update({e: False for e in INSTRUCTOR_SERVER_EXTENSIONS})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def student_setup(level: str = "sys-prefix", env=None) -> str:
    """Turn nbgrader's instructor tools off (see the module docstring); returns what was done.

    Raises
    ------
    CourseError
        A command failed, or the config file is not valid JSON.
    """
    done = []
    for cmd in student_setup_commands(level):
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise CourseError(f"{' '.join(cmd[2:])} failed: {(p.stderr or p.stdout).strip()[-500:]}")
        done.append("jupyter " + " ".join(cmd[3:]))
    path = write_server_switch(level, env)
    done.append(f"set {', '.join(INSTRUCTOR_SERVER_EXTENSIONS)} to false in ServerApp.jpserver_extensions of {path}")
    return "\n".join(["turned off nbgrader's instructor tools (Validate and the Assignment List stay):", *done])
