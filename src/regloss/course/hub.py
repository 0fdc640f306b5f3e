"""A course on JupyterHub with nbgrader's exchange (``regloss hub-config``).

:func:`hub_files` returns the text of every file of the set-up, :func:`write_hub_config`
writes them under one folder, :func:`prepare_exchange` makes the exchange's root:

* ``jupyterhub_config.py``: the Hub (bind address, its state files, the allowed
  users, the authenticator: PAM, the Unix passwords, or JupyterHub's ``dummy`` one
  with the password from ``$REGLOSS_HUB_PASSWORD``, for a test), and the
  local-process spawner, which runs each user's server as that Unix user (nbgrader's
  exchange knows students by their Unix user name). Each server gets
  ``JUPYTER_CONFIG_PATH``: the student folder then the common one for a student (any
  user who is not an instructor), the instructor folder then the common one for an
  instructor.
* ``jupyter/nbgrader_config.py``: the course id and the exchange's root, for everyone.
* ``jupyter-student/``: nbgrader's instructor tools turned off, as
  :mod:`regloss.course.student_lab` does for one environment: the lab extensions in
  ``labconfig/page_config.json`` (``disabledExtensions``), the server extensions in
  ``jupyter_server_config.json`` (``ServerApp.jpserver_extensions``). A student sees
  Validate and the Assignment List only.
* ``jupyter-instructor/``: formgrader's course folder, when one is given.
* ``state/`` (mode 0700): the Hub's database, cookie secret and proxy pid file (and the
  check service's generated assignments and attempt log).
* With ``check_port``: the check service (``regloss serve``, docs/service.md) as a managed
  JupyterHub service, ``regloss-check``, behind the Hub's proxy at
  ``/services/regloss-check/``: it authenticates students by their Hub tokens, the
  instructors are the course's; every server gets ``$REGLOSS_CHECK_URL``, so
  ``official_check()`` needs no argument.

The functions returning text are pure; only :func:`write_hub_config` and
:func:`prepare_exchange` touch the disk.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

from regloss.course.root import CourseError
from regloss.course.student_lab import INSTRUCTOR_LAB_EXTENSIONS, INSTRUCTOR_SERVER_EXTENSIONS

HUB_CONFIG = "jupyterhub_config.py"
COMMON, STUDENT, INSTRUCTOR = "jupyter", "jupyter-student", "jupyter-instructor"
STATE = "state"  # the Hub's database, cookie secret and proxy pid: root's only
AUTHENTICATORS = ("pam", "dummy")
CHECK_SERVICE = "regloss-check"  # the check service's name in the Hub: /services/regloss-check/
PASSWORD_ENV = "REGLOSS_HUB_PASSWORD"
#: A Unix user name as ``useradd`` takes it (and nbgrader's exchange file names can carry: no ``+``).
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
COURSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _names(users, what) -> list[str]:
    names = [u.strip() for u in (users or []) if u.strip()]
    for u in names:
        if not USER_NAME.match(u):
            raise CourseError(f"{what} {u!r} is not a Unix user name (lower-case letters, digits, _ and -)")
    return names


def check_course(course: str) -> str:
    """``course`` if it is a usable nbgrader course id (no ``+``, ``/`` or ``*``), else CourseError."""
    if not COURSE_ID.match(course or ""):
        raise CourseError(f"course id {course!r}: use letters, digits, '.', '_' and '-' (it names a folder "
                          "of the exchange)")
    return course


def nbgrader_config(course: str, exchange: str) -> str:
    """The nbgrader config every user reads: the course id and the exchange's root."""
    check_course(course)
    return ("# nbgrader, for every user of the Hub (written by regloss hub-config)\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {course!r}\n"
            f"c.Exchange.root = {str(exchange)!r}\n")


def instructor_nbgrader_config(course_root: str | None) -> str:
    """The instructor's nbgrader config: formgrader's course folder (``CourseDirectory.root``)."""
    lines = ["# nbgrader, for the instructors only (written by regloss hub-config)",
             "c = get_config()  # noqa: F821"]
    if course_root:
        lines.append(f"c.CourseDirectory.root = {str(course_root)!r}")
    return "\n".join(lines) + "\n"


def student_page_config() -> str:
    """JupyterLab's ``labconfig/page_config.json`` that turns nbgrader's instructor lab extensions off."""
    return json.dumps({"disabledExtensions": {e: True for e in INSTRUCTOR_LAB_EXTENSIONS}}, indent=2) + "\n"


def student_server_config() -> str:
    """``jupyter_server_config.json`` that turns nbgrader's instructor server extensions off."""
    return json.dumps({"ServerApp": {"jpserver_extensions": {e: False for e in INSTRUCTOR_SERVER_EXTENSIONS}}},
                      indent=2) + "\n"


def jupyterhub_config(folder: str, students, instructors, ip: str = "127.0.0.1", port: int = 8000,
                      authenticator: str = "pam", singleuser: str | None = None, hub_port: int | None = None,
                      proxy_api_port: int | None = None, check_port: int | None = None, check_assignments=(),
                      check_rate: str | None = None, check_root: str | None = None) -> str:
    """The text of ``jupyterhub_config.py`` for a course whose set-up is in ``folder``."""
    students, instructors = _names(students, "student"), _names(instructors, "instructor")
    if not students and not instructors:
        raise CourseError("name the students (--students a,b) and the instructors (--instructors c)")
    if set(students) & set(instructors):
        raise CourseError(f"both a student and an instructor: {', '.join(sorted(set(students) & set(instructors)))}")
    if authenticator not in AUTHENTICATORS:
        raise CourseError(f"unknown authenticator {authenticator!r}; expected one of {', '.join(AUTHENTICATORS)}")
    folder = str(folder)
    singleuser = singleuser or str(Path(sys.executable).parent / "jupyterhub-singleuser")
    lines = [
        "# JupyterHub for a regloss course with nbgrader's exchange (written by regloss hub-config).",
        "# Start it as root (the spawner runs each user's server as that Unix user):",
        f"#     jupyterhub -f {folder}/{HUB_CONFIG}",
        "import os",
        "",
        "c = get_config()  # noqa: F821",
        f"SETUP = {folder!r}",
        f"STUDENTS = {sorted(students)!r}",
        f"INSTRUCTORS = {sorted(instructors)!r}",
        "",
        f"c.JupyterHub.bind_url = 'http://{ip}:{int(port)}'",
    ]
    if hub_port:
        lines.append(f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{int(hub_port)}'")
    if proxy_api_port:
        lines.append(f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{int(proxy_api_port)}'")
    lines += [
        f"# the Hub's own state (tokens, cookie secret) in {STATE}/, mode 0700",
        f"c.JupyterHub.db_url = 'sqlite:///' + os.path.join(SETUP, {STATE!r}, 'jupyterhub.sqlite')",
        f"c.JupyterHub.cookie_secret_file = os.path.join(SETUP, {STATE!r}, 'jupyterhub_cookie_secret')",
        f"c.ConfigurableHTTPProxy.pid_file = os.path.join(SETUP, {STATE!r}, 'jupyterhub-proxy.pid')",
        "c.Authenticator.allowed_users = set(STUDENTS) | set(INSTRUCTORS)",
    ]
    if authenticator == "dummy":
        lines += [
            "# a test's authenticator: one shared password, read from the environment",
            "c.JupyterHub.authenticator_class = 'dummy'",
            f"c.DummyAuthenticator.password = os.environ[{PASSWORD_ENV!r}]",
        ]
    else:
        lines.append("c.JupyterHub.authenticator_class = 'pam'  # the users' Unix passwords")
    lines += [
        "",
        "# each user's server runs as that Unix user; nbgrader's exchange knows students by it",
        "c.JupyterHub.spawner_class = 'localprocess'",
        f"c.Spawner.cmd = [{singleuser!r}]",
        "c.Spawner.default_url = '/lab'",
        "c.Spawner.notebook_dir = '~'",
        "",
        "",
        "def _config_path(spawner):",
        "    # students (anyone who is not an instructor) get nbgrader's instructor tools turned off",
        f"    own = {INSTRUCTOR!r} if spawner.user.name in INSTRUCTORS else {STUDENT!r}",
        f"    return os.pathsep.join([os.path.join(SETUP, own), os.path.join(SETUP, {COMMON!r})])",
        "",
        "",
        "c.Spawner.environment = {'JUPYTER_CONFIG_PATH': _config_path}",
    ]
    if check_port:
        lines += check_service_lines(int(check_port), ip, int(port), list(check_assignments), check_rate,
                                     check_root)
    return "\n".join(lines) + "\n"


def check_service_lines(check_port: int, ip: str, port: int, assignments, rate: str | None,
                        root: str | None) -> list[str]:
    """The check service (``regloss serve``) as a managed service of the Hub (see the module
    docstring): started by the Hub as the Hub's user, from the course's folder ``root``."""
    from regloss.course.root import find_root

    root = str(Path(root).resolve()) if root else str(find_root())
    cmd = [sys.executable, "-m", "regloss", "serve", *assignments, "--port", str(check_port),
           "--host", "127.0.0.1", *(["--rate", rate] if rate else [])]
    public = "127.0.0.1" if ip in ("0.0.0.0", "", "::") else ip
    return [
        "",
        "# official checks on demand (regloss serve), behind the proxy at /services/regloss-check/;",
        "# students are known by their Hub tokens, the instructors are the course's",
        "c.JupyterHub.services = [{",
        f"    'name': {CHECK_SERVICE!r},",
        f"    'url': 'http://127.0.0.1:{check_port}',",
        f"    'command': {cmd!r} + ['--instructors', ','.join(INSTRUCTORS),",
        f"        '--state', os.path.join(SETUP, {STATE!r}, 'check'),",
        f"        '--db', os.path.join(SETUP, {STATE!r}, 'check', 'attempts.db')],",
        f"    'cwd': {root!r},",
        "}]",
        f"c.Spawner.environment['REGLOSS_CHECK_URL'] = 'http://{public}:{port}/services/{CHECK_SERVICE}'",
    ]


def hub_files(course: str, exchange: str, folder: str, students, instructors, course_root: str | None = None,
              **hub) -> dict[str, str]:
    """Every file of the set-up, ``{path relative to folder: text}``."""
    return {
        HUB_CONFIG: jupyterhub_config(folder, students, instructors, **hub),
        f"{COMMON}/nbgrader_config.py": nbgrader_config(course, exchange),
        f"{STUDENT}/labconfig/page_config.json": student_page_config(),
        f"{STUDENT}/jupyter_server_config.json": student_server_config(),
        f"{INSTRUCTOR}/nbgrader_config.py": instructor_nbgrader_config(course_root),
    }


#: The exchange's root: everyone may create in it (nbgrader's release makes the course's folder);
#: the sticky bit keeps a student from renaming or deleting the instructor's course folder.
EXCHANGE_MODE = 0o1777


def prepare_exchange(exchange) -> Path:
    """Make the exchange's root (mode 1777) if it is missing; a root that exists keeps its
    owner and mode, plus the sticky bit if it is world-writable without it."""
    root = Path(exchange)
    if not root.exists():
        root.mkdir(parents=True)
        os.chmod(root, EXCHANGE_MODE)
    mode = stat.S_IMODE(root.stat().st_mode)
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        os.chmod(root, mode | stat.S_ISVTX)
    return root


def write_hub_config(course: str, exchange: str, out, students, instructors, course_root: str | None = None,
                     **hub) -> str:
    """Write the set-up under ``out`` (readable by everyone: the users' servers read it),
    make the exchange's root; return what was written and how to start the Hub."""
    out = Path(out).resolve()
    files = hub_files(course, str(Path(exchange).resolve()), str(out), students, instructors,
                      course_root=str(Path(course_root).resolve()) if course_root else None, **hub)
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
    for d in {out, *(p.parent for p in (out / rel for rel in files))}:
        while d != out.parent and d.is_relative_to(out):
            d.chmod(0o755)
            d = d.parent
    (out / STATE).mkdir(exist_ok=True)
    (out / STATE).chmod(0o700)
    root = prepare_exchange(exchange)
    proxy = shutil.which("configurable-http-proxy")
    lines = [f"wrote {out / rel}" for rel in files]
    lines.append(f"exchange root {root} (mode {oct(stat.S_IMODE(root.stat().st_mode))})")
    if not proxy:
        lines.append("configurable-http-proxy is not on PATH: npm install -g configurable-http-proxy")
    lines.append(f"start the Hub as root: jupyterhub -f {out / HUB_CONFIG}")
    return "\n".join(lines)
