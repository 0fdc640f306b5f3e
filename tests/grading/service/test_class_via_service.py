"""``regloss grade --service``: the endpoints a class is sent through (instructors only, the
bundle sent once and again when the service lost it, a full queue waited out) and the run's
client, with the real handlers on loopback and a stand-in grader (the real one:
test_service.py, slow)."""

from __future__ import annotations

import hashlib
import json

import pytest

from regloss.course import CourseError
from regloss.grading.run import via_service
from regloss.grading.settings import Settings
from regloss.grading.wire.jobs import InstructorBundle, StudentJob, StudentResult
from tests.grading.service.helpers import A, FakeGrader, running, student_token

INSTRUCTOR = "instructor-token"


def bundle(assignment=A) -> InstructorBundle:
    return InstructorBundle(assignment, "c = get_config()\n", {f"{assignment}.ipynb": b"{}"}, {}, b"template",
                            "digest", ["/somewhere/hidden"])


def job(i: int, b: InstructorBundle | None = None) -> StudentJob:
    return StudentJob(f"s{i:03d}", {f"{A}.ipynb": b"{}"}, b or bundle(), Settings(), [], f"d{i}", f"k{i}", i)


@pytest.fixture
def svc(tmp_path):
    with running(FakeGrader(), tmp_path / "attempts.db") as r:
        yield r


def put(svc, data: bytes, token=INSTRUCTOR, sha=None):
    return svc.request("PUT", f"/api/bundles/{sha or hashlib.sha256(data).hexdigest()}", token, data)


def grade(svc, sha: str, j: StudentJob, token=INSTRUCTOR):
    return svc.request("POST", f"/api/grade/{sha}", token, j.to_bytes(with_bundle=False))


def test_health_says_how_many_workers(svc):
    status, _, body = svc.request("GET", "/api/health")
    assert status == 200 and json.loads(body)["workers"] == 1  # the stand-in says nothing: one


def test_an_instructor_grades_a_class_member(svc):
    data = bundle().to_bytes()
    status, _, body = put(svc, data)
    assert status == 201, body
    status, _, body = grade(svc, hashlib.sha256(data).hexdigest(), job(7))
    assert status == 200, body
    res = StudentResult.from_bytes(body)
    assert (res.student_id, res.graded, res.key) == ("s007", True, "k7")
    assert ("job", A, "s007") in svc.service.grader.graded
    status, _, body = svc.request("GET", f"/api/attempts/{A}", INSTRUCTOR)
    assert body.decode().strip().splitlines() == ["student_id,time,score,max_score,mistakes"]  # not an attempt


@pytest.mark.parametrize(("case", "status"), [
    ("student puts", 403), ("no token puts", 401), ("sha is not the body's", 400), ("not a bundle", 400),
    ("student grades", 403), ("unknown bundle", 409), ("not a job", 400),
])
def test_refusals(svc, case, status):
    data = bundle().to_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if case.endswith("grades") or case.startswith("not a job"):
        assert put(svc, data)[0] == 201
    got, _, body = {
        "student puts": lambda: put(svc, data, student_token(1)),
        "no token puts": lambda: put(svc, data, None),
        "sha is not the body's": lambda: put(svc, data, sha="0" * 64),
        "not a bundle": lambda: put(svc, b"[1, 2]"),
        "student grades": lambda: grade(svc, sha, job(1), student_token(1)),
        "unknown bundle": lambda: grade(svc, "f" * 64, job(1)),
        "not a job": lambda: svc.request("POST", f"/api/grade/{sha}", INSTRUCTOR, b"{}"),
    }[case]()
    assert got == status, body
    assert "error" in json.loads(body)
    assert not [g for g in svc.service.grader.graded if g[0] == "job"]


def test_the_run_grades_every_job_through_the_service(svc, monkeypatch):
    monkeypatch.setenv(via_service.TOKEN_VARIABLE, INSTRUCTOR)
    b = bundle()
    got = {j.student_id: r for j, r in via_service.results((job(i, b) for i in range(6)), svc.url)}
    assert sorted(got) == [f"s{i:03d}" for i in range(6)]
    assert all(isinstance(r, StudentResult) and r.graded for r in got.values())
    assert len(svc.service.bundles) == 1  # sent once for the class


def test_a_service_that_lost_the_bundle_gets_it_again(svc, monkeypatch):
    monkeypatch.setenv(via_service.TOKEN_VARIABLE, INSTRUCTOR)
    b = bundle()
    jobs = iter([job(0, b), job(1, b), job(2, b)])
    out = []
    for j, r in via_service.results(jobs, svc.url):
        if not out:
            svc.service.bundles.clear()  # as after a restart (once: a job still in flight may see it too)
        out.append((j.student_id, type(r).__name__))
    assert sorted(out) == [(f"s{i:03d}", "StudentResult") for i in range(3)]
    assert len(svc.service.bundles) == 1  # s002 was sent after the restart: it sent the bundle again


@pytest.mark.parametrize(("token", "says"), [(None, "REGLOSS_TOKEN"), ("student", "instructor"),
                                             ("nobody-knows-this", "instructor")])
def test_a_refused_token_stops_the_run_before_anyone_is_graded(svc, monkeypatch, token, says):
    monkeypatch.delenv(via_service.TOKEN_VARIABLE, raising=False)
    if token:
        monkeypatch.setenv(via_service.TOKEN_VARIABLE, student_token(1) if token == "student" else token)
    with pytest.raises(CourseError, match=says):
        list(via_service.results((job(i) for i in range(3)), svc.url))
    assert svc.service.grader.graded == []


def test_an_unreachable_service_is_a_clear_error(monkeypatch):
    from tests.services import free_port

    monkeypatch.setenv(via_service.TOKEN_VARIABLE, INSTRUCTOR)
    with pytest.raises(CourseError, match="cannot reach the grading service"):
        list(via_service.results([job(1)], f"http://127.0.0.1:{free_port()}"))


def test_a_full_queue_is_waited_out_then_reported_for_that_student(tmp_path, monkeypatch):
    monkeypatch.setenv(via_service.TOKEN_VARIABLE, INSTRUCTOR)
    slept = []
    with running(FakeGrader(capacity=0), tmp_path / "a.db") as r:
        data = bundle().to_bytes()
        sha = via_service.send_bundle(r.url, INSTRUCTOR, data)
        with pytest.raises(via_service.ServiceError) as info:
            via_service.grade_one(r.url, INSTRUCTOR, sha, job(1).to_bytes(with_bundle=False), lambda: None,
                                  clock=lambda: 0.0, sleep=slept.append)
    assert info.value.status == 503
    assert sum(slept) >= via_service.BUSY_WAIT and max(slept) <= 30


def test_scheduler_and_service_together_are_refused():
    with pytest.raises(CourseError, match="give one"):
        Settings(scheduler="tcp://127.0.0.1:1", service="http://127.0.0.1:2").validate()
