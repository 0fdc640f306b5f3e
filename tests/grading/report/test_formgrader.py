"""Formgrader on a run: the run's nbgrader config (:mod:`regloss.grading.report.formgrader`)."""

import runpy

from regloss.grading.report import formgrader


class _Config(dict):
    """What traitlets' ``get_config()`` gives a config file: attributes all the way down."""

    def __getattr__(self, k):
        return self.setdefault(k, _Config())

    def __setattr__(self, k, v):
        self[k] = v


def load_config(path) -> dict:
    """The settings an nbgrader config file makes, as nested dicts."""
    c = _Config()
    runpy.run_path(str(path), init_globals={"get_config": lambda: c})
    return c


def test_formgrader_config_points_at_the_run(tmp_path):
    c = load_config(formgrader.write_formgrader_config(tmp_path, "postgresql://u@h/db"))
    assert c["CourseDirectory"]["root"] == str(tmp_path)
    assert c["CourseDirectory"]["db_url"] == "postgresql://u@h/db"
    assert c["CourseDirectory"]["autograded_directory"] == "autograded"
    assert c["CourseDirectory"]["source_directory"].endswith("solutions")
    assert c["ExportPlugin"]["to"] != "grades.csv"  # nbgrader export must not overwrite regloss's
