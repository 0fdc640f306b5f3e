"""Grading from nbgrader's exchange (:mod:`regloss.grading.run.exchange`): the newest submission
per student, nothing but regular files, feedback under nbgrader's own hash, found by nbgrader's
own ``fetch_feedback`` for its student only. The real Hub round trip is ``tests/course/test_hub.py``."""

import datetime
import os
import pwd
import secrets
import stat
from pathlib import Path

import pytest
from nbgrader.utils import notebook_hash

from regloss.cli import main
from regloss.course import CourseError
from regloss.grading.run import exchange as ex

COURSE, A = "ml-101", "01_l1_mse"
ME = pwd.getpwuid(os.geteuid()).pw_name  # the owner of the folders the tests make


def _stamp(minutes):
    t = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f %Z")  # nbgrader's Exchange.timestamp_format


def _submit(root: Path, student, minutes, text="{}", assignment=A, cache: Path | None = None):
    """A submission as nbgrader's submit leaves it (and its copy in the student's cache)."""
    ts, secret = _stamp(minutes), secrets.token_hex(64)
    folders = [root / COURSE / "inbound" / f"{student}+{assignment}+{ts}+{secrets.token_urlsafe(6)}"]
    if cache:
        folders.append(cache / COURSE / f"{student}+{assignment}+{ts}")
    for f in folders:
        f.mkdir(parents=True)
        (f / f"{A}.ipynb").write_text(text)
        (f / ex.TIMESTAMP).write_text(ts)
        (f / ex.SECRET).write_text(secret)
    return folders[0], secret


def test_the_newest_submission_of_each_student_is_collected(tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "MAX_FILE_BYTES", 1000)
    root = tmp_path / "exchange"
    _submit(root, ME, 0, "old")
    newest, _ = _submit(root, ME, 30, "new")
    _submit(root, ME, 60, "other assignment", assignment="02_huber")
    (newest / "data").mkdir()
    (newest / "data" / "x.csv").write_text("1,2")
    (newest / "link.txt").symlink_to("/etc/passwd")
    (newest / "linked-dir").symlink_to("/etc")
    os.mkfifo(newest / "pipe")  # would block a plain read for ever
    (newest / "huge.bin").write_bytes(b"0" * 1001)
    folder, found, skipped = ex.collect(root, COURSE, A, tmp_path / "run")
    assert [c.student_id for c in found] == [ME] and found[0].folder == newest
    assert sorted(why.split("/", 1)[1] for why in skipped) == [
        "huge.bin: over 0 MB", "link.txt: not a regular file", "pipe: not a regular file"]
    got = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert got == [ME, f"{ME}/{A}.ipynb", f"{ME}/data", f"{ME}/data/x.csv"]  # no secret, no link
    assert (folder / ME / f"{A}.ipynb").read_text() == "new"


@pytest.mark.parametrize("name", ["someone-else", ".hidden", "a b"])
def test_a_folder_not_owned_by_the_student_it_names_is_skipped(tmp_path, name):
    root = tmp_path / "exchange"
    _submit(root, ME, 0)
    _submit(root, name, 10)
    found, skipped = ex.submissions(root, COURSE, A)
    assert [c.student_id for c in found] == [ME]
    assert len(skipped) == 1 and skipped[0].startswith(name)


def test_nothing_to_collect_is_the_instructors_error(tmp_path):
    with pytest.raises(CourseError, match="no inbound folder"):
        ex.collect(tmp_path, COURSE, A, tmp_path / "run")
    (tmp_path / COURSE / "inbound").mkdir(parents=True)
    with pytest.raises(CourseError, match="no submission"):
        ex.collect(tmp_path, COURSE, A, tmp_path / "run")


def _feedback(out: Path, student, text):
    fb = out / "feedback" / student / A
    fb.mkdir(parents=True, exist_ok=True)
    (fb / f"{A}.html").write_text(text)


def test_feedback_is_released_under_nbgraders_hash_and_fetched_by_nbgrader(tmp_path):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchFeedback

    root, cache, home, out = (tmp_path / n for n in ("exchange", "cache", "home", "run"))
    _, secret = _submit(root, ME, 0, cache=cache)
    _, other_secret = _submit(root, "other", 5, cache=tmp_path / "other-cache")
    ex.collect(root, COURSE, A, out, check_owner=False)
    _feedback(out, ME, "<p>your feedback: 12 / 19</p>")
    _feedback(out, "other", "<p>the other's feedback: 8 / 19</p>")
    _feedback(out, "not-collected", "<p>someone else's</p>")  # only collected students are released
    assert sorted(ex.release_feedback(out)) == sorted([ME, "other"])
    dest = root / COURSE / "feedback"
    assert stat.S_IMODE(dest.stat().st_mode) == ex.FEEDBACK_DIR_MODE
    names = {notebook_hash(secret=s, notebook_id=A) + ".html" for s in (secret, other_secret)}
    assert {p.name for p in dest.iterdir()} == names
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in dest.iterdir())

    home.mkdir()
    fetch = ExchangeFetchFeedback(coursedir=CourseDirectory(course_id=COURSE, assignment_id=A, root=str(home)),
                                  authenticator=Authenticator(), root=str(root), cache=str(cache),
                                  assignment_dir=str(home))
    fetch.start()
    (html,) = (home / A / "feedback").glob("*/*.html")  # their own only
    assert html.name == f"{A}.html" and html.read_text() == "<p>your feedback: 12 / 19</p>"


@pytest.mark.parametrize(("which", "mode"), [("feedback", 0o755), ("feedback", 0o733), ("course", 0o777)])
def test_feedback_is_not_released_where_others_could_list_it(tmp_path, which, mode):
    root, out = tmp_path / "exchange", tmp_path / "run"
    _submit(root, ME, 0)
    ex.collect(root, COURSE, A, out)
    _feedback(out, ME, "mine")
    (root / COURSE / "feedback").mkdir()
    os.chmod(root / COURSE / ("feedback" if which == "feedback" else ""), mode)
    with pytest.raises(CourseError, match="feedback not released"):
        ex.release_feedback(out)
    assert not list((root / COURSE / "feedback").iterdir())


def test_a_student_not_graded_gets_the_runs_plain_feedback(tmp_path):
    root, out = tmp_path / "exchange", tmp_path / "run"
    _, secret = _submit(root, ME, 0)
    ex.collect(root, COURSE, A, out)
    fb = out / "feedback" / ME / A
    fb.mkdir(parents=True)
    (fb / "feedback.html").write_text("not graded: no notebook")
    names = ex.feedback_names(out)
    assert names == {ME: {notebook_hash(secret=secret, notebook_id=A) + ".html": fb / "feedback.html"}}


def test_grade_from_exchange_grades_the_collected_folder_then_releases(tmp_path, monkeypatch):
    from regloss.grading.run import command

    root, out = tmp_path / "exchange", tmp_path / "run"
    _submit(root, ME, 0)
    seen = {}

    def fake_grade(assignment, submissions, out=None, **kw):
        seen.update(assignment=assignment, submissions=submissions, out=out, **kw)
        _feedback(Path(out), ME, "graded")
        return "the class's table"

    monkeypatch.setattr(command, "grade", fake_grade)
    text = ex.grade_from_exchange(A, root, COURSE, out=out, check_owner=True, db=None)
    assert seen["submissions"] == str(out / ex.COLLECTED) and seen["out"] == str(out) and seen["db"] is None
    assert "collected 1 submissions" in text and "the class's table" in text
    assert "feedback released through the exchange for 1 students" in text
    assert len(list((root / COURSE / "feedback").glob("*.html"))) == 1


@pytest.mark.parametrize("args", [
    ["grade", A, "--exchange", "/nowhere"],  # no --course
    ["grade", A, "--course", COURSE],  # no --exchange
    ["grade", A, "subs", "--exchange", "/nowhere", "--course", COURSE],  # and a folder too
    ["grade", A],  # nothing to grade
])
def test_the_command_refuses_half_an_exchange(args, capsys):
    assert main(args) == 2
    assert "regloss: error:" in capsys.readouterr().err
