"""``regloss release-exchange``: nbgrader's exchange gets an assignment only once the assignments
whose answers it ships are due, and then exactly the bundle's files, fetched with nbgrader's own
``ExchangeFetchAssignment`` as a student's Assignment List does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from regloss.cli import main
from regloss.course import CourseError
from regloss.course.bundle import release_files
from regloss.course.exchange_release import release_to_exchange
from regloss.course.shipped import answers_shipped_by
from tests.harness import ROOT

COURSE = "ml-101"
NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
PAST, FUTURE = NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1)


def outbound(exchange: Path, a: str) -> list[str]:
    folder = exchange / COURSE / "outbound" / a
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def fetch(exchange: Path, a: str, home: Path) -> list[str]:
    """What a student's fetch brings: nbgrader's own exchange code."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.root = str(home)
    cfg.CourseDirectory.course_id = COURSE
    cfg.CourseDirectory.assignment_id = a
    cfg.Exchange.root = str(exchange)
    cfg.Exchange.path_includes_course = False
    cfg.Exchange.assignment_dir = str(home)  # where a fetch lands (default: the current folder)
    ExchangeFetchAssignment(coursedir=CourseDirectory(config=cfg), authenticator=Authenticator(config=cfg),
                            config=cfg).start()
    return sorted(p.relative_to(home / a).as_posix() for p in (home / a).rglob("*") if p.is_file())


@pytest.mark.parametrize("a", [a for a in ("02_huber", "03_smooth_l1", "05_robust_line_fit", "08_training")])
def test_not_before_the_answers_it_ships_are_due(tmp_path, a):
    sources = sorted({s for srcs in answers_shipped_by(a).values() for s in srcs})
    assert sources, a  # each of these ships earlier answers
    with pytest.raises(CourseError, match="cannot go to students yet") as info:
        release_to_exchange(a, tmp_path / "ex", COURSE, root=ROOT, due={s: FUTURE for s in sources}, now=NOW)
    for name in answers_shipped_by(a):
        assert f"{a}/{name}" in str(info.value)
    assert not (tmp_path / "ex").exists()
    with pytest.raises(CourseError, match="has no due date"):
        release_to_exchange(a, tmp_path / "ex", COURSE, root=ROOT, due={}, now=NOW)


def test_once_due_the_bundles_files_reach_the_exchange_and_a_students_fetch(tmp_path):
    a = "03_smooth_l1"
    due = {s: PAST for srcs in answers_shipped_by(a).values() for s in srcs}
    said = release_to_exchange(a, tmp_path / "ex", COURSE, root=ROOT, due=due, now=NOW)
    want = sorted(p.relative_to(ROOT / "notebooks" / a).as_posix() for p in release_files(a, ROOT))
    assert outbound(tmp_path / "ex", a) == want and "huber.py" in want
    assert f"released {a}" in said
    got = fetch(tmp_path / "ex", a, tmp_path / "home")
    assert got == want
    for name in want:
        assert (tmp_path / "home" / a / name).read_bytes() == (ROOT / "notebooks" / a / name).read_bytes()
    with pytest.raises(CourseError, match="--force replaces it"):
        release_to_exchange(a, tmp_path / "ex", COURSE, root=ROOT, due=due, now=NOW)
    release_to_exchange(a, tmp_path / "ex", COURSE, root=ROOT, due=due, now=NOW, force=True)


def test_the_command_refuses_then_releases_early_for_a_grader(tmp_path, capsys):
    due = tmp_path / "due.csv"
    due.write_text("assignment,due\n02_huber,2999-01-01\n01_l1_mse,2000-01-01\n")
    args = ["release-exchange", "03_smooth_l1", "--exchange", str(tmp_path / "ex"), "--course", COURSE,
            "--due-dates", str(due)]
    assert main(args) == 2
    assert "03_smooth_l1/huber.py holds answers of 02_huber" in capsys.readouterr().err
    assert main([*args, "--early"]) == 0
    assert "huber.py" in outbound(tmp_path / "ex", "03_smooth_l1")
    assert main(["release-exchange", "01_l1_mse", "--exchange", str(tmp_path / "ex"), "--course", "bad course"]) == 2
