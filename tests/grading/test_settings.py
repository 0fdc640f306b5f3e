"""One settings record from the command line to the worker and the judge (:mod:`regloss.grading.settings`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields, replace

import pytest

from regloss.cli import build_parser
from regloss.course import CourseError
from regloss.grading.settings import Settings, add_arguments, from_arguments
from regloss.grading.wire.jobs import InstructorBundle, StudentJob

FLAGGED = [f for f in fields(Settings) if f.metadata["flag"]]


@pytest.mark.parametrize("command", ["grade", "demo"])
def test_every_flag_reaches_the_record(command):
    """Each setting's flag, given on the command line, changes that field and no other."""
    base = ["grade", "01_l1_mse", "subs"] if command == "grade" else ["demo"]
    default = from_arguments(build_parser().parse_args(base))
    assert default == Settings()
    for f in FLAGGED:
        if isinstance(f.default, bool):
            extra = [f.metadata["flag"]]
        elif f.metadata["choices"]:
            extra = [f.metadata["flag"], next(c for c in f.metadata["choices"] if c != f.default)]
        elif f.metadata["metavar"]:  # an address
            extra = [f.metadata["flag"], {"scheduler": "tcp://127.0.0.1:8786"}.get(f.name, "http://127.0.0.1:8765")]
        else:
            extra = [f.metadata["flag"], str(f.default + 7)]
        got = from_arguments(build_parser().parse_args(base + extra))
        changed = [g.name for g in fields(Settings) if getattr(got, g.name) != getattr(default, g.name)]
        assert changed == [f.name], (f.name, changed)


def test_the_key_changes_with_every_setting_that_changes_a_grade_and_only_those():
    s = Settings()
    key = s.grading_key("abc")
    assert key.startswith("abc:")
    for f in fields(Settings):
        other = {bool: lambda v: not v, int: lambda v: v + 1, str: lambda v: v + "x"}
        if f.metadata["choices"]:
            new = next(c for c in f.metadata["choices"] if c != f.default)
        elif f.default is None:
            new = "tcp://h:1"
        else:
            new = other[type(f.default)](f.default)
        changed = replace(s, **{f.name: new}).grading_key("abc") != key
        assert changed == f.metadata["grades"], f.name


def test_the_key_is_the_one_earlier_runs_recorded():
    """Runs recorded before the record existed keep their students (state.jsonl's keys)."""
    s = Settings(timeout=30, memory_mb=1024, max_output=5000, judge=False, feedback_hidden="code")
    assert s.grading_key("d1") == "d1:30:1024:5000:False:code"


@pytest.mark.parametrize("bad", [{"timeout": 0}, {"timeout": -1}, {"workers": -2}, {"max_output": 0},
                                 {"memory_mb": -5}, {"feedback_hidden": "all"}])
def test_a_bad_setting_is_an_instructors_error(bad):
    with pytest.raises(CourseError, match=next(f.metadata["flag"] for f in FLAGGED if f.name in bad)):
        Settings(**bad).validate()


def test_the_record_crosses_to_a_worker_whole():
    s = Settings(timeout=7, feedback_hidden="code", scheduler="tcp://h:1", keep_workspace=True)
    bundle = InstructorBundle("01_l1_mse", "", {}, {}, b"", "d")
    job = StudentJob.from_bytes(StudentJob("s", {}, bundle, s).to_bytes(), bundle=bundle)
    assert job.settings == s
    assert json.loads(json.dumps(s.to_dict())) == s.to_dict()


def test_the_record_is_frozen():
    with pytest.raises(AttributeError):
        Settings().timeout = 5  # type: ignore[misc]


def test_add_arguments_makes_no_flag_for_an_internal_setting():
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert "keep_workspace" not in vars(p.parse_args([]))


@pytest.mark.parametrize("make", ["judge", "autograde"])
def test_a_request_carries_the_settings_through_its_file(make, tmp_path):
    from regloss.grading.judge.request import JudgeRequest
    from regloss.grading.worker.autograde import AutogradeRequest

    s = Settings(timeout=9, memory_mb=512, feedback_hidden="code")
    req = (JudgeRequest("s.ipynb", "t.ipynb", "a", "w", "r.json", "01_l1_mse", s, hide=["/x"]) if make == "judge"
           else AutogradeRequest("c", "db", "01_l1_mse", "ada", s, "regloss-sandbox", "r.json", tests={"t": True}))
    req.write(tmp_path / "req.json")
    assert type(req).read(tmp_path / "req.json") == req
