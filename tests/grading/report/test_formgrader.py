"""Formgrader on a run: the run's nbgrader config (:mod:`regloss.grading.report.formgrader`)."""

import runpy

from regloss.grading.report import formgrader


def test_formgrader_config_points_at_the_run(tmp_path):
    path = formgrader.write_formgrader_config(tmp_path, "postgresql://u@h/db")

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
