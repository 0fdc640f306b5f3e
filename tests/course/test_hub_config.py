"""The JupyterHub set-up's files (:mod:`regloss.course.hub`, ``regloss hub-config``); the real Hub
is in ``test_hub.py``."""

import json
import os
import stat
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from regloss.cli import main
from regloss.course import CourseError, hub
from regloss.course.student_lab import INSTRUCTOR_LAB_EXTENSIONS, INSTRUCTOR_SERVER_EXTENSIONS


def _load(text, env=None):
    """Run a config file's text as JupyterHub or nbgrader would; returns its Config."""
    c = Config()
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        exec(compile(text, "config.py", "exec"), {"get_config": lambda: c})  # noqa: S102 - our own generated text
    finally:
        os.environ.clear()
        os.environ.update(old)
    return c


def test_hub_config_users_spawner_and_config_paths(tmp_path):
    text = hub.jupyterhub_config(str(tmp_path), ["alice", "bob"], ["prof"], port=8123, hub_port=8124,
                                 proxy_api_port=8125, singleuser="/opt/venv/bin/jupyterhub-singleuser")
    c = _load(text)
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8123"
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8124"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8125"
    assert c.Authenticator.allowed_users == {"alice", "bob", "prof"}
    assert c.JupyterHub.authenticator_class == "pam" and "password" not in c.DummyAuthenticator
    assert c.JupyterHub.spawner_class == "localprocess"
    assert c.Spawner.cmd == ["/opt/venv/bin/jupyterhub-singleuser"]
    path = c.Spawner.environment["JUPYTER_CONFIG_PATH"]
    for user, own in [("alice", hub.STUDENT), ("bob", hub.STUDENT), ("prof", hub.INSTRUCTOR),
                      ("someone-else", hub.STUDENT)]:  # anyone not an instructor is a student
        got = path(SimpleNamespace(user=SimpleNamespace(name=user))).split(os.pathsep)
        assert got == [str(tmp_path / own), str(tmp_path / hub.COMMON)], (user, got)


def test_the_check_service_runs_as_a_hub_service_behind_the_proxy(tmp_path):
    import sys

    text = hub.jupyterhub_config(str(tmp_path), ["alice"], ["prof", "ta"], port=8123, check_port=8200,
                                 check_assignments=["01_l1_mse"], check_rate="5/24", check_root=str(tmp_path))
    c = _load(text)
    (svc,) = c.JupyterHub.services
    assert svc["name"] == hub.CHECK_SERVICE == "regloss-check" and svc["url"] == "http://127.0.0.1:8200"
    assert svc["command"][:5] == [sys.executable, "-m", "regloss", "serve", "01_l1_mse"]
    cmd = " ".join(svc["command"])
    assert "--port 8200 --host 127.0.0.1 --rate 5/24 --instructors prof,ta" in cmd
    state = str(tmp_path / hub.STATE / "check")
    assert f"--state {state} --db {state}/attempts.db" in cmd  # in the Hub's own 0700 folder
    assert svc["cwd"] == str(tmp_path)
    assert c.Spawner.environment["REGLOSS_CHECK_URL"] == "http://127.0.0.1:8123/services/regloss-check"
    assert "JUPYTER_CONFIG_PATH" in c.Spawner.environment
    assert "services" not in _load(hub.jupyterhub_config(str(tmp_path), ["alice"], [])).JupyterHub


def test_dummy_authenticator_reads_the_password_from_the_environment(tmp_path):
    text = hub.jupyterhub_config(str(tmp_path), ["alice"], [], authenticator="dummy")
    assert "s3cret" not in text
    c = _load(text, {hub.PASSWORD_ENV: "s3cret"})
    assert c.JupyterHub.authenticator_class == "dummy" and c.DummyAuthenticator.password == "s3cret"


@pytest.mark.parametrize(("students", "instructors", "match"), [
    (["Alice"], [], "not a Unix user name"),
    (["a+b"], [], "not a Unix user name"),
    (["../x"], [], "not a Unix user name"),
    ([], ["prof dr"], "not a Unix user name"),
    (["alice"], ["alice"], "both a student and an instructor"),
    ([""], [""], "name the students"),
])
def test_hub_config_refuses_bad_users(tmp_path, students, instructors, match):
    with pytest.raises(CourseError, match=match):
        hub.jupyterhub_config(str(tmp_path), students, instructors)


@pytest.mark.parametrize("course", ["", "a+b", "a/b", "*", ".hidden"])
def test_bad_course_ids_are_refused(course):
    with pytest.raises(CourseError, match="course id"):
        hub.nbgrader_config(course, "/srv/exchange")


def test_nbgrader_and_student_configs():
    c = _load(hub.nbgrader_config("ml-101", "/srv/nbgrader/exchange"))
    assert c.CourseDirectory.course_id == "ml-101" and c.Exchange.root == "/srv/nbgrader/exchange"
    assert _load(hub.instructor_nbgrader_config("/home/prof/course")).CourseDirectory.root == "/home/prof/course"
    assert "root" not in _load(hub.instructor_nbgrader_config(None)).CourseDirectory
    page = json.loads(hub.student_page_config())
    assert page["disabledExtensions"] == {e: True for e in INSTRUCTOR_LAB_EXTENSIONS}
    assert not any("assignment-list" in e or "validate" in e for e in page["disabledExtensions"])
    server = json.loads(hub.student_server_config())
    assert server["ServerApp"]["jpserver_extensions"] == {e: False for e in INSTRUCTOR_SERVER_EXTENSIONS}


def test_the_command_writes_readable_files_and_the_exchange(tmp_path, capsys):
    out, exchange = tmp_path / "setup", tmp_path / "exchange"
    assert main(["hub-config", "--course", "ml-101", "--exchange", str(exchange), "--out", str(out),
                 "--students", "alice,bob", "--instructors", "prof", "--port", "9000"]) == 0
    printed = capsys.readouterr().out
    assert f"jupyterhub -f {out / hub.HUB_CONFIG}" in printed
    files = hub.hub_files("ml-101", str(exchange), str(out), ["alice", "bob"], ["prof"])
    for rel in files:
        assert stat.S_IMODE((out / rel).stat().st_mode) == 0o644, rel
        assert stat.S_IMODE((out / rel).parent.stat().st_mode) == 0o755, rel
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    assert stat.S_IMODE((out / hub.STATE).stat().st_mode) == 0o700  # the Hub's tokens: root's only
    db_url = _load((out / hub.HUB_CONFIG).read_text()).JupyterHub.db_url
    assert db_url == f"sqlite:///{out / hub.STATE}/jupyterhub.sqlite"
    assert _load((out / hub.COMMON / "nbgrader_config.py").read_text()).Exchange.root == str(exchange)
    assert main(["hub-config", "--course", "a+b", "--exchange", str(exchange), "--out", str(out),
                 "--students", "alice"]) == 2


@pytest.mark.parametrize(("mode", "expected"), [(0o777, 0o1777), (0o755, 0o755), (0o1777, 0o1777)])
def test_an_existing_exchange_keeps_its_mode_plus_the_sticky_bit(tmp_path, mode, expected):
    root = tmp_path / "exchange"
    root.mkdir()
    os.chmod(root, mode)
    hub.prepare_exchange(root)
    assert stat.S_IMODE(root.stat().st_mode) == expected
