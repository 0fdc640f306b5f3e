"""The service's pure logic: the tokens file, the rate arithmetic, the due date, the CSV,
what counts as a notebook of the assignment."""

from __future__ import annotations

import json

import pytest

from regloss.course import CourseError
from regloss.grading.service import store as S
from regloss.grading.service.command import parse_due
from regloss.grading.service.rate import Decision, Rate, decide, parse_rate
from regloss.grading.service.tokens import authenticate, parse_tokens
from regloss.grading.service.validate import BadNotebook, notebook_of
from tests.grading.service.helpers import IDS, A, notebook

GOOD = "token,student_id,role\nabcdefgh1,alice,student\n# a comment\n\nzyxwvuts2,prof,instructor\n"


def test_tokens_with_header_comments_and_blank_lines():
    acc = parse_tokens(GOOD)
    assert {t: (a.student_id, a.role, a.instructor) for t, a in acc.items()} == {
        "abcdefgh1": ("alice", "student", False), "zyxwvuts2": ("prof", "instructor", True)}


def test_tokens_without_header():
    assert list(parse_tokens("abcdefgh1, alice , student\n")) == ["abcdefgh1"]


@pytest.mark.parametrize(("text", "says"), [
    ("abcdefgh1,alice,teacher\n", "role must be"),
    ("abcdefgh1,alice\n", "got 2 field"),
    ("short,alice,student\n", "at least 8"),
    ("abcdefgh1,alice,student\nabcdefgh1,bob,student\n", "already given to alice"),
    ("abcdefgh1,../x,student\n", "not a student id"),
    ("token,student_id,role\n", "no tokens"),
])
def test_a_bad_tokens_file_names_its_mistake(text, says):
    with pytest.raises(CourseError, match=says):
        parse_tokens(text)


@pytest.mark.parametrize(("header", "who"), [
    ("token abcdefgh1", "alice"), ("Bearer abcdefgh1", "alice"), ("token  zyxwvuts2 ", "prof"),
    ("token abcdefgh", None), ("token abcdefgh12", None), ("abcdefgh1", None), ("basic abcdefgh1", None),
    ("", None), (None, None), ("token ", None),
])
def test_authenticate(header, who):
    acc = authenticate(header, parse_tokens(GOOD))
    assert (acc.student_id if acc else None) == who


@pytest.mark.parametrize(("text", "rate"), [("5/24", Rate(5, 24.0)), ("1/0.5", Rate(1, 0.5)), ("3", Rate(3, 1.0))])
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/1", "5/0", "-1/2", "x/1", "5/y", "5/nan", "5/inf", ""])
def test_a_bad_rate_is_refused(text):
    with pytest.raises(CourseError, match="--rate"):
        parse_rate(text)


R = Rate(3, 1.0)  # 3 per hour


@pytest.mark.parametrize(("times", "now", "expected"), [
    ([], 1000.0, Decision(True, 2, 0)),
    ([900.0], 1000.0, Decision(True, 1, 0)),
    ([900.0, 950.0], 1000.0, Decision(True, 0, 0)),
    ([900.0, 950.0, 990.0], 1000.0, Decision(False, 0, 3500)),  # 900 leaves the window at 4500
    ([990.0, 900.0, 950.0], 1000.0, Decision(False, 0, 3500)),  # order does not matter
    ([900.0, 950.0, 990.0], 4499.5, Decision(False, 0, 1)),  # rounded up to a whole second
    ([900.0, 950.0, 990.0], 4500.0, Decision(True, 0, 0)),  # the oldest has left
    ([-5000.0, 900.0, 950.0], 1000.0, Decision(True, 0, 0)),  # older than the window: not counted
    ([100.0, 200.0, 900.0, 950.0], 1000.0, Decision(False, 0, 2800)),  # 4 counted: both 100 and 200 must leave
])
def test_decide(times, now, expected):
    assert decide(R, times, now) == expected


def test_parse_due():
    assert parse_due("2026-12-24T23:59:00Z") == parse_due("2026-12-24T23:59:00") == parse_due(
        "2026-12-25T00:59:00+01:00")
    assert parse_due(None) is None
    with pytest.raises(CourseError, match="ISO 8601"):
        parse_due("next friday")


def test_attempts_csv():
    rows = [{"student_id": "alice", "started": 0.0, "status": S.GRADED, "score": 11.0, "max_score": 12.0,
             "mistakes": "test_a:sum-for-mean"},
            {"student_id": "bob,x", "started": 60.5, "status": S.INTERRUPTED, "score": None, "max_score": None,
             "mistakes": ""}]
    assert S.attempts_csv(rows) == ("student_id,time,score,max_score,mistakes\n"
                                    "alice,1970-01-01T00:00:00Z,11,12,test_a:sum-for-mean\n"
                                    '"bob,x",1970-01-01T00:01:00Z,,,(interrupted)\n')


@pytest.mark.parametrize(("body", "says"), [
    (b"\xff\xfe", "not JSON"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "no list of cells"),
    (json.dumps({"cells": [], "nbformat": 3}).encode(), "not an nbformat 4"),
    (json.dumps({"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(),
     "not a valid notebook"),
    (notebook(ids=("something_else",)), "not a notebook of 01_l1_mse"),
    (notebook(ids=("l1_loss",)), "not a notebook of 01_l1_mse"),  # a quarter of its cells
])
def test_not_a_notebook_of_the_assignment(body, says):
    with pytest.raises(BadNotebook, match=says):
        notebook_of(body, A, IDS)


def test_a_notebook_of_the_assignment_is_named():
    assert notebook_of(notebook(), A, IDS) == f"{A}.ipynb"
