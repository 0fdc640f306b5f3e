"""One course: every assignment's runs joined in one nbgrader course, one gradebook and one
formgrader (:mod:`regloss.grading.report.course`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from regloss.grading.report.course import link_run


def _fake_run(out: Path, assignment: str, students):
    for sub in ("solutions", "notebooks"):
        (out / "instructor" / sub / assignment).mkdir(parents=True)
    for sid in students:
        for kind in ("submitted", "autograded", "feedback"):
            (out / kind / sid / assignment).mkdir(parents=True)
            (out / kind / sid / assignment / f"{assignment}.ipynb").write_text(f"{kind} {sid}")


def test_link_run_joins_runs_relative_and_follows_the_latest(tmp_path):
    course = tmp_path / "course"
    _fake_run(tmp_path / "run01", "01_l1_mse", ["ana", "ben"])
    _fake_run(tmp_path / "run02", "02_huber", ["ana"])
    link_run(course, tmp_path / "run01", "01_l1_mse", "sqlite:////x/gradebook.db", ["ana", "ben"])
    cfg = link_run(course, tmp_path / "run02", "02_huber", "sqlite:////x/gradebook.db", ["ana"])
    assert (course / "autograded" / "ana" / "02_huber" / "02_huber.ipynb").read_text() == "autograded ana"
    assert (course / "submitted" / "ben" / "01_l1_mse" / "01_l1_mse.ipynb").read_text() == "submitted ben"
    assert not os.readlink(course / "autograded" / "ana" / "01_l1_mse").startswith("/")  # relative: the folder moves
    page = course / "feedback" / "ana" / "01_l1_mse" / "01_l1_mse.ipynb"
    assert page.is_symlink() and page.read_text() == "feedback ana"  # feedback: a folder of links
    assert (course / "source" / "02_huber").resolve() == (tmp_path / "run02" / "instructor" / "solutions" / "02_huber")
    assert "sqlite:////x/gradebook.db" in cfg.read_text() and "'release'" in cfg.read_text()

    # 01 graded again elsewhere, without ben: the course follows the new run and forgets ben's 01
    _fake_run(tmp_path / "run01b", "01_l1_mse", ["ana"])
    link_run(course, tmp_path / "run01b", "01_l1_mse", "sqlite:////x/gradebook.db", ["ana"])
    assert (course / "autograded" / "ana" / "01_l1_mse").resolve().is_relative_to(tmp_path / "run01b")
    assert (course / "autograded" / "ben" / "01_l1_mse").is_symlink()  # still the old run's: not this run's student
    link_run(course, tmp_path / "run01", "01_l1_mse", "sqlite:////x/gradebook.db", ["ana"])
    assert not (course / "autograded" / "ben" / "01_l1_mse").exists()  # the run that had him no longer does


def test_a_course_folder_that_is_not_regloss_is_left_alone(tmp_path):
    _fake_run(tmp_path / "run", "01_l1_mse", ["ana"])
    (tmp_path / "course" / "autograded" / "ana" / "01_l1_mse").mkdir(parents=True)  # a real folder, not a link
    with pytest.raises(FileExistsError):
        link_run(tmp_path / "course", tmp_path / "run", "01_l1_mse", "sqlite:////x.db", ["ana"])


@pytest.mark.slow
def test_two_assignments_one_course_gradebook_formgrader_counts_submissions(tmp_path):
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    from tests.grading.run.test_grade_command import regloss
    from tests.harness import ROOT, solution_sources, with_cells

    course = tmp_path / "course"
    for a in ("01_l1_mse", "02_huber"):
        release = nbformat.read(str(ROOT / "notebooks" / a / f"{a}.ipynb"), as_version=4)
        for sid, nb in (("ana", with_cells(release, solution_sources(a))), ("ben", release)):
            (tmp_path / "subs" / a / sid).mkdir(parents=True)
            nbformat.write(nb, str(tmp_path / "subs" / a / sid / f"{a}.ipynb"))
        p = regloss("grade", a, str(tmp_path / "subs" / a), "--out", str(tmp_path / "runs" / a), "--course-dir",
                    str(course), "--workers", "2", "--timeout", "30", "--no-progress", check=0)
        assert f"cd {course} && jupyter lab" in p.stdout
    assert not (tmp_path / "runs" / "01_l1_mse" / "gradebook.db").exists()  # the course's gradebook, not the run's

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert {a.name for a in gb.assignments} == {"01_l1_mse", "02_huber"}
        assert {s.id for s in gb.students} == {"ana", "ben"}
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    for a in ("01_l1_mse", "02_huber"):
        assert api.get_assignment(a)["num_submissions"] == 2  # formgrader's "# Submissions"
        sub = api.get_submission(a, "ana")
        assert sub["autograded"] and sub["score"] > 0

    # nbgrader's own feedback on the course (formgrader's "Generate Feedback"): no hidden test, no rubric
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", "01_l1_mse", "--force"],
                          cwd=course, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    page = next((course / "feedback" / "ana" / "01_l1_mse").glob("*.html")).read_text()
    assert "BEGIN HIDDEN" not in page and "model answer and rubric" not in page
    assert "Written response" in page
