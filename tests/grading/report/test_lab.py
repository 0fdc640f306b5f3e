"""The lab set-ups' pure parts: the run's formgrader config and the student switch."""

import json
import runpy

import pytest

from regloss.course import CourseError
from regloss.grading.report import formgrader as lab


def test_formgrader_config_points_at_the_run(tmp_path):
    path = lab.write_formgrader_config(tmp_path, "postgresql://u@h/db")

    class C(dict):
        def __getattr__(self, k):
            return self.setdefault(k, C())

        def __setattr__(self, k, v):
            self[k] = v

    c = C()
    runpy.run_path(str(path), init_globals={"get_config": lambda: c})
    assert c["CourseDirectory"]["root"] == str(tmp_path)
    assert c["CourseDirectory"]["db_url"] == "postgresql://u@h/db"
    assert c["CourseDirectory"]["autograded_directory"] == "autograded"
    assert c["CourseDirectory"]["source_directory"].endswith("solutions")
    assert c["ExportPlugin"]["to"] != "grades.csv"  # nbgrader export must not overwrite regloss's


def test_student_switch_merges_into_the_users_server_config(tmp_path):
    env = {"JUPYTER_CONFIG_DIR": str(tmp_path)}
    (tmp_path / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"port": 9999}}))
    path = lab.write_server_switch("user", env)
    data = json.loads(path.read_text())
    assert data["ServerApp"]["port"] == 9999
    assert data["ServerApp"]["jpserver_extensions"] == {e: False for e in lab.INSTRUCTOR_SERVER_EXTENSIONS}
    (tmp_path / "jupyter_server_config.json").write_text("{not json")
    with pytest.raises(CourseError, match="not valid JSON"):
        lab.write_server_switch("user", env)


def test_student_setup_commands_keep_validate():
    cmds = lab.student_setup_commands("sys-prefix")
    assert all(c[-3:-1] == ["disable", "--level=sys_prefix"] for c in cmds)
    assert {c[-1] for c in cmds} == set(lab.INSTRUCTOR_LAB_EXTENSIONS)
    assert not any("validate" in c[-1] or "assignment-list" in c[-1] for c in cmds)
    with pytest.raises(CourseError):
        lab.student_setup_commands("everyone")
