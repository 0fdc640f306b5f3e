"""The walls hold against a student with root-level tricks (issue 23, item 1;
:mod:`regloss.grading.sandboxed.walls`), graded through the real command as one class.

The attacker's answer cells try, in its kernel and in the judge's answer process: to append
code to the installed ``regloss`` package, plant a ``.pth`` in site-packages, unmount the
hiding over the course and make a new user namespace (where it would be root again). Each
attempt's outcome is written into its feedback; the
test reads them back: every one failed, no file of the installation changed, and the honest
students graded after it keep full marks.
"""

from __future__ import annotations

import hashlib
import json
import re
import site
from pathlib import Path

import pytest

import regloss as regloss_package
from regloss.grading.sandboxed import walls
from regloss.grading.sandboxed.isolation import probe
from tests.grading.run.test_grade_command import FULL, A, grade_class, read_grades, student
from tests.grading.sandboxed.test_walls import hold

pytestmark = pytest.mark.slow  # grades a class through the regloss command

PACKAGE = Path(regloss_package.__file__).resolve().parent
SITE = Path(site.getsitepackages()[0])

ATTACK = '''import ctypes, json, os, site
_libc = ctypes.CDLL(None, use_errno=True)
def _try(what, f):
    try:
        f()
        return "DONE"
    except BaseException as exc:
        return type(exc).__name__
import regloss as _r
_pkg = os.path.dirname(_r.__file__)
_report = {
    "uid": os.getuid(), "euid": os.geteuid(),
    "append_to_regloss": _try("a", lambda: open(os.path.join(_pkg, "checks", "compare.py"), "a").write("#")),
    "plant_pth": _try("p", lambda: open(os.path.join(site.getsitepackages()[0], "zz_pwned.pth"), "w").write("")),
    "umount_root_dirs": [d for d in ("/work", "/tmp", "/root", "/home") if _libc.umount2(d.encode(), 2) == 0],
    "new_user_namespace": _libc.unshare(0x10000000) == 0,
    "caps": [l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1],
    "nproc": __import__("resource").getrlimit(__import__("resource").RLIMIT_NPROC)[0],
}
print("WALLS " + json.dumps(_report))
'''


def _digest(paths):
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    iso = probe(True)
    if not any("unprivileged user" in w for w in iso.walls):
        pytest.skip(f"this machine does not permit the walls: {iso.describe()}")
    before = _digest(PACKAGE.rglob("*.py")), sorted(p.name for p in SITE.iterdir())
    target = PACKAGE / "checks" / "compare.py"
    original = target.read_bytes()
    base = tmp_path_factory.mktemp("walls")
    # another run on this machine, meanwhile, with its own student in slot 0 (the attacker's)
    held = walls.student_uid(0)
    walls.lease_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    other = hold(walls.lease_dir() / str(held))
    try:
        p, out = grade_class(base, {"a_attacker": student(prepend={"l1_loss": ATTACK}), "b_honest": student(),
                                    "c_honest": student()}, workers=1)
        after = _digest(PACKAGE.rglob("*.py")), sorted(p.name for p in SITE.iterdir())
    finally:  # should a wall fail, this checkout is put back as it was
        other.kill()
        other.wait()
        if target.read_bytes() != original:
            target.write_bytes(original)
        (SITE / "zz_pwned.pth").unlink(missing_ok=True)
    return {"out": out, "proc": p, "before": before, "after": after, "held": held}


def _report(out: Path) -> dict:
    page = next((out / "feedback" / "a_attacker" / A).glob("*.html")).read_text(encoding="utf-8")
    m = re.search(r"WALLS (\{.*?\})\s*<", page.replace("&quot;", '"'))
    assert m, "the attack did not run"
    return json.loads(m.group(1))


def test_student_code_runs_as_an_unprivileged_user_without_capabilities(graded):
    r = _report(graded["out"])
    assert r["uid"] != 0 and r["euid"] != 0 and int(r["caps"], 16) == 0, r
    assert r["nproc"] == walls.MAX_PROCESSES, r  # the student user's processes are capped


def test_two_runs_at_once_never_share_a_student_user(graded):
    """Jobs are numbered from 0 in every run: the attacker, its run's first, gets a uid no other
    run's student holds (the one in the same slot holds the slot's), so neither can write the
    other's files nor signal its processes."""
    r = _report(graded["out"])
    assert r["uid"] >= walls.FIRST_UID and r["uid"] != graded["held"], r


def test_nothing_of_the_grader_is_writable_and_nothing_changed(graded):
    r = _report(graded["out"])
    assert r["append_to_regloss"] != "DONE" and r["plant_pth"] != "DONE", r
    assert graded["after"] == graded["before"], "a file of the installation changed"


def test_the_hiding_cannot_be_undone(graded):
    r = _report(graded["out"])
    assert r["umount_root_dirs"] == [] and r["new_user_namespace"] is False, r


def test_the_honest_students_graded_after_it_keep_full_marks(graded):
    rows = read_grades(graded["out"])
    assert float(rows["b_honest"]["auto_score"]) == FULL and float(rows["c_honest"]["auto_score"]) == FULL
    assert rows["b_honest"]["problems"] == "" and rows["c_honest"]["problems"] == ""


def test_an_honest_feedback_page_shows_nothing_of_the_walls(graded):
    """Behind the walls the kernel writes nothing it may not (IPython's history is in memory)."""
    page = next((graded["out"] / "feedback" / "b_honest" / A).glob("*.html")).read_text(encoding="utf-8")
    for sign in ("readonly database", "Permission denied", "Read-only file system", "Operation not permitted"):
        assert sign not in page, sign


def test_the_run_says_what_holds(graded):
    assert "student code as an unprivileged user without capabilities" in graded["proc"].stdout
    assert "installation read-only" in graded["proc"].stdout
