"""Limits hold for a student's whole process tree and for the whole notebook (issue 23, item 3),
graded through the real command as one class, at the smallest ``--memory`` the run accepts.

* ``a_forkhog`` starts three Python processes that each hold 700 MB: every process is under
  the per-process cap, together they are over it. The memory watch
  (:mod:`regloss.grading.worker.memory_watch`) stops them; the problem is stated.
* ``b_flood`` adds 600 cells that each print as much as the kernel lets one cell print.
* ``c_raw`` publishes 300 messages of a million characters straight on the kernel's
  socket, past the kernel's own cap, then one of 50 million.
* ``f_snoop`` walks the whole file system for notebooks holding hidden tests and gradebooks,
  and tries the network; ``g_hog`` asks for 8 GB in one process.
* ``d_honest`` and ``e_honest``, graded beside them at that smallest cap, keep full marks.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from regloss.grading.run import memory_floor
from regloss.grading.sandboxed import walls
from regloss.grading.sandboxed.isolation import probe
from regloss.grading.settings import Settings
from regloss.grading.worker.memory_watch import all_processes
from tests.grading.run.test_grade_command import FULL, SNOOP, A, grade_class, read_grades, regloss, student

pytestmark = pytest.mark.slow  # grades a class through the regloss command

# each child says when it holds its 700 MB, so that the three hold them together while this cell
# (in the judge's answer process as in the kernel) still runs, however slowly a loaded machine starts them
FORKHOG = '''import subprocess, sys, time
_kids = [subprocess.Popen([sys.executable, "-c", "import time; b = b'x' * (700 << 20); print('held', flush=True); "
                           "time.sleep(30)"], stdout=subprocess.PIPE) for _ in range(3)]
[k.stdout.readline() for k in _kids]
time.sleep(10)
print("FORKHOG still running:", [k.poll() is None for k in _kids])
'''

RAW = '''_ip = get_ipython()
_k = _ip.kernel
for _ in range(300):
    _k.session.send(_k.iopub_socket, "stream", {"name": "stdout", "text": "y" * 1_000_000},
                    parent=_k.get_parent("shell"))
_k.session.send(_k.iopub_socket, "stream", {"name": "stdout", "text": "z" * 50_000_000},
                parent=_k.get_parent("shell"))
'''


HOG = "try:\n    big = bytearray(8 * 1024**3)\nexcept MemoryError:\n    print('memory capped')\n    raise\n"


def flood():
    nb = student()
    per_cell = Settings().max_output
    nb.cells += [nbformat.v4.new_code_cell(f"print('f' * {per_cell})") for _ in range(600)]
    return nb


def page(out: Path, sid: str) -> Path:
    return next((out / "feedback" / sid / A).glob("*.html"))


@pytest.fixture(scope="module")
def floor():
    got = memory_floor.kernel_floor_mb()
    assert got is not None, "the kernel's start could not be measured"
    return got


@pytest.fixture(scope="module")
def graded(tmp_path_factory, floor):
    iso = probe(True)
    if not iso.own_users:
        pytest.skip(f"this machine does not give student code users of its own: {iso.describe()}")
    base = tmp_path_factory.mktemp("limits")
    p, out = grade_class(base, {"a_forkhog": student(prepend={"l1_loss": FORKHOG}), "b_flood": flood(),
                                "c_raw": student(prepend={"mse_loss": RAW}), "d_honest": student(),
                                "e_honest": student(), "f_snoop": student(prepend={"l1_loss": SNOOP}),
                                "g_hog": student(prepend={"l1_loss": HOG})}, extra=("--memory", str(floor)))
    return {"out": out, "proc": p, "rows": read_grades(out)}


def test_a_memory_cap_below_what_a_kernel_needs_to_start_is_refused_with_the_minimum(tmp_path, floor):
    subs = tmp_path / "subs" / "s1"
    subs.mkdir(parents=True)
    nbformat.write(student(), str(subs / f"{A}.ipynb"))
    out = tmp_path / "out"
    p = regloss("grade", A, str(subs.parent), "--out", str(out), "--memory", str(floor - 1), "--no-progress",
                timeout=600)
    assert p.returncode != 0
    assert f"--memory {floor} or more" in p.stderr + p.stdout, p.stderr
    assert not out.exists()  # refused before anything was made


def test_processes_that_together_exceed_the_cap_are_stopped_and_the_problem_stated(graded):
    row = graded["rows"]["a_forkhog"]
    assert "together held" in row["problems"], row
    assert float(row["auto_score"]) < FULL  # the cell that hogged was not graded as if it had run
    assert "FORKHOG still running" not in page(graded["out"], "a_forkhog").read_text(encoding="utf-8")


def test_no_student_process_outlives_the_run(graded):
    left = [p for p in all_processes() if walls.FIRST_UID <= p.uid < walls.FIRST_UID + walls.UIDS]
    assert left == []


@pytest.mark.parametrize("sid", ["b_flood", "c_raw"])
def test_the_notebook_output_is_capped_by_the_grader(graded, sid):
    cap = Settings().max_total_output
    size = page(graded["out"], sid).stat().st_size
    assert size < cap + 3_000_000, size  # was 58 MB for 600 cells, and the kernel's cap did not see c_raw
    nb = nbformat.read(str(graded["out"] / "autograded" / sid / A / f"{A}.ipynb"), as_version=4)
    assert len(nbformat.writes(nb)) < cap + 1_000_000
    assert "output truncated" in graded["rows"][sid]["problems"], graded["rows"][sid]
    assert graded["rows"][sid]["problems"].count("output truncated") == 1  # one for a flood, not one per cell


def test_the_flooding_students_keep_the_marks_of_their_correct_functions(graded):
    assert float(graded["rows"]["b_flood"]["auto_score"]) == FULL
    assert float(graded["rows"]["c_raw"]["auto_score"]) >= FULL / 2  # l1 untouched; mse's cell published


def test_honest_students_at_the_smallest_cap_keep_full_marks(graded):
    for sid in ("d_honest", "e_honest"):
        row = graded["rows"][sid]
        assert float(row["auto_score"]) == FULL and row["problems"] == "", row
    assert os.path.getsize(page(graded["out"], "d_honest")) < 2_000_000


def _printed(out: Path, sid: str) -> str:
    nb = nbformat.read(str(out / "autograded" / sid / A / f"{A}.ipynb"), as_version=4)
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_student_code_finds_no_hidden_test_no_gradebook_and_no_network(graded):
    assert "no network" in graded["proc"].stdout and "files hidden" in graded["proc"].stdout
    text = _printed(graded["out"], "f_snoop")
    assert "SNOOP-FOUND: nothing" in text and "SNOOP-NET: blocked" in text, text
    assert "looked for files outside its folder" in graded["rows"]["f_snoop"]["problems"]


def test_one_process_is_capped_at_the_memory_cap(graded):
    assert "memory capped" in _printed(graded["out"], "g_hog")
    row = graded["rows"]["g_hog"]
    assert "ran out of memory" in row["problems"] and FULL / 2 <= float(row["auto_score"]) < FULL, row
