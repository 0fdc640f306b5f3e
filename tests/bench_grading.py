"""Benchmark: grade one class of identical submissions three ways and report the ratios.

* ``regloss grade --workers 1``
* ``regloss grade --workers 2``
* plain serial nbgrader (``generate_assignment``, ``autograde``, ``generate_feedback``
  on one course holding every submission), as an instructor runs it by hand.

A script, not a test (pytest does not collect ``bench_*.py``)::

    .venv/bin/python tests/bench_grading.py [--students 8] [--assignment 01_l1_mse]

Each way starts from nothing (fresh output folder and gradebook), so every time
includes generating the assignment once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import solution_sources  # noqa: E402


def solved_release(assignment):
    """The released notebook with the source's solutions pasted in (a perfect student)."""
    name = f"{assignment}.ipynb"
    sol = solution_sources(assignment)
    nb = nbformat.read(str(ROOT / "notebooks" / assignment / name), as_version=4)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sol:
            c.source = sol[gid]
    return nb


def env():
    return dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def time_regloss(assignment, subs, out, workers):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "regloss", "grade", assignment, str(subs), "--out", str(out),
                        "--workers", str(workers), "--no-progress"], capture_output=True, text=True, env=env())
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(p.stdout + p.stderr)
    return dt


def time_plain_nbgrader(assignment, subs, base):
    """Serial stock nbgrader on a throw-away copy of the course."""
    (base / "grading").mkdir(parents=True)
    shutil.copy(ROOT / "grading" / "nbgrader_config.py", base / "grading")
    shutil.copytree(ROOT / "solutions" / assignment, base / "solutions" / assignment)
    for sid in sorted(p.name for p in subs.iterdir()):
        shutil.copytree(subs / sid, base / "grading" / "submitted" / sid / assignment)
    t0 = time.perf_counter()
    for args in (["generate_assignment", assignment, "--force"], ["autograde", assignment, "--force"],
                 ["generate_feedback", assignment, "--force"]):
        p = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=base / "grading",
                           capture_output=True, text=True, env=env())
        if p.returncode != 0:
            raise SystemExit(p.stdout + p.stderr)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="01_l1_mse")
    ap.add_argument("--students", type=int, default=8)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="regloss-bench-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "class"
        nb = solved_release(a.assignment)
        for i in range(a.students):
            (subs / f"student{i:03d}").mkdir(parents=True)
            nbformat.write(nb, str(subs / f"student{i:03d}" / f"{a.assignment}.ipynb"))
        print(f"{a.students} identical submissions of {a.assignment}, {os.cpu_count()} cores, "
              f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        t_plain = time_plain_nbgrader(a.assignment, subs, tmp / "plain")
        print(f"plain serial nbgrader (generate, autograde, feedback): {t_plain:7.1f} s", flush=True)
        t1 = time_regloss(a.assignment, subs, tmp / "w1", 1)
        print(f"regloss grade --workers 1:                             {t1:7.1f} s", flush=True)
        t2 = time_regloss(a.assignment, subs, tmp / "w2", 2)
        print(f"regloss grade --workers 2:                             {t2:7.1f} s", flush=True)
        print(f"speed-up 2 workers vs 1: {t1 / t2:.2f}x; vs plain nbgrader: {t_plain / t2:.2f}x; "
              f"1 worker vs plain nbgrader: {t_plain / t1:.2f}x (load average after: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
