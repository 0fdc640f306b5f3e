"""A student's lab without the instructor tools: the switch and the commands (:mod:`regloss.course.student_lab`)."""

import json

import pytest

from regloss.course import CourseError, student_lab


def test_student_switch_merges_into_the_users_server_config(tmp_path):
    env = {"JUPYTER_CONFIG_DIR": str(tmp_path)}
    (tmp_path / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"port": 9999}}))
    path = student_lab.write_server_switch("user", env)
    data = json.loads(path.read_text())
    assert data["ServerApp"]["port"] == 9999
    assert data["ServerApp"]["jpserver_extensions"] == {e: False for e in student_lab.INSTRUCTOR_SERVER_EXTENSIONS}
    (tmp_path / "jupyter_server_config.json").write_text("{not json")
    with pytest.raises(CourseError, match="not valid JSON"):
        student_lab.write_server_switch("user", env)


def test_student_setup_commands_keep_validate():
    cmds = student_lab.student_setup_commands("sys-prefix")
    assert all(c[-3:-1] == ["disable", "--level=sys_prefix"] for c in cmds)
    assert {c[-1] for c in cmds} == set(student_lab.INSTRUCTOR_LAB_EXTENSIONS)
    assert not any("validate" in c[-1] or "assignment-list" in c[-1] for c in cmds)
    with pytest.raises(CourseError):
        student_lab.student_setup_commands("everyone")
