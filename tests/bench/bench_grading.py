"""Benchmark: grade one class of identical submissions several ways and report the ratios.

* plain serial nbgrader (``generate_assignment``, ``autograde``, ``generate_feedback``
  on one course holding every submission), as an instructor runs it by hand;
* ``regloss grade --workers 1`` and ``--workers 2``;
* ``regloss grade --workers 1 --no-judge`` (what the out-of-kernel judge costs per student);
* ``regloss grade --scheduler`` on a real Dask cluster of two workers on this machine
  (``dask scheduler`` + 2 x ``dask worker --nworkers 1 --nthreads 1``), against two local workers,
  and again on the same cluster, whose workers kept their warm processes; the same on one
  worker (two warm Dask workers against one);
* the PostgreSQL merge rate: students merged per second into a throw-away
  PostgreSQL server (:class:`regloss.grading.run.gradebook.MainGradebook`);

then, on paper from those costs, the wall time of a 10,000-student class on N
Dask workers. A script, not a test (pytest does not collect ``bench_*.py``)::

    .venv/bin/python tests/bench/bench_grading.py [--students 8] [--assignment 01_l1_mse]
        [--no-dask] [--no-postgres] [--no-judge-run] [--no-plain]

Each way starts from nothing (fresh output folder and gradebook), so every time
includes generating the assignment once. Other work on the machine slows every
way; the load average is printed before and after each. (CPU time is not
reported: the forked kernels and judges are reaped by processes that are not
this script's, so their CPU time never reaches its ``RUSAGE_CHILDREN``.)
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from regloss.grading.run.state import read_students  # noqa: E402
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


def load():
    return f"load {os.getloadavg()[0]:.2f}"


STARTED = {}  # output folder -> when its run started (epoch seconds)


def time_regloss(assignment, subs, out, *extra, extra_env=None):
    STARTED[str(out)] = time.time()
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "regloss", "grade", assignment, str(subs), "--out", str(out),
                        "--no-progress", *extra], capture_output=True, text=True, env={**env(), **(extra_env or {})})
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


def postgres_merge_rate(assignment, graded_out: Path, tmp: Path, n=300):
    """Students per second merged (one transaction each) into a fresh PostgreSQL server."""
    from regloss import course
    from regloss.grading.run import gradebook
    from tests.services import create_database, postgres

    os.environ["PATH"] = course.tool_env()["PATH"]
    state = read_students(graded_out)
    sid = sorted(state)[0]
    grades = gradebook.read_private(graded_out / "gradebook.db", assignment, sid)
    with postgres() as base:
        db = create_database(base, "bench")
        ia = gradebook.prepare_instructor_area(ROOT, assignment, tmp / "pg-area")
        gradebook.prepare_main_gradebook(ia, db)
        with gradebook.MainGradebook(db) as main:
            t0 = time.perf_counter()
            for i in range(n):
                main.merge(assignment, [(f"s{i:06d}", grades)])
            dt = time.perf_counter() - t0
    return n / dt


def finish_times(out: Path):
    """When each student of a run was recorded (epoch seconds, sorted)."""
    return sorted(s["finished"] for s in read_students(out).values() if "finished" in s)


def steady_rate(out: Path, workers: int):
    """Students per second once every worker has finished its first student: the
    grading alone, without the run's start (generating the assignment, starting the
    warm processes) and its end (the report)."""
    t = finish_times(out)
    if len(t) <= workers or t[-1] <= t[workers - 1]:
        return None
    return (len(t) - workers) / (t[-1] - t[workers - 1])


def first_grade(out: Path):
    """Seconds from the start of the run (its command) to its first recorded student."""
    t = finish_times(out)
    return t[0] - STARTED[str(out)] if t else float("nan")


def fixed_part(total, n, rate):
    """Seconds of a run of ``n`` students that its steady rate (students per second)
    does not explain: the start (generating the assignment, the warm processes, each
    worker's first student beyond the others) and the end (the report)."""
    return total - n / rate


def ratio_at(m, fixed1, rate1, fixed2, rate2):
    """2 workers against 1 on a class of ``m`` students, if each run took its fixed
    part plus ``m`` students at its steady rate."""
    return (fixed1 + m / rate1) / (fixed2 + m / rate2)


def class_for_ratio(target, fixed1, rate1, fixed2, rate2):
    """The smallest class (students) on which :func:`ratio_at` reaches ``target``, or
    None when the steady rates alone stay below it."""
    gain = 1 / rate1 - target / rate2  # seconds gained per student
    if gain <= 0:
        return None
    return max(1, math.ceil((target * fixed2 - fixed1) / gain))


def fixed_allowed(target, n, rate1, rate2):
    """The largest fixed part (the same for both runs) with which ``n`` students reach
    ``target``: (F + n/r1) / (F + n/r2) >= target; negative when none does."""
    return (n / rate1 - target * n / rate2) / (target - 1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="01_l1_mse")
    ap.add_argument("--students", type=int, default=8)
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask cluster")
    ap.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL merge rate")
    ap.add_argument("--no-judge-run", action="store_true", help="skip the --no-judge run")
    ap.add_argument("--no-plain", action="store_true",
                    help="skip plain nbgrader (a large class: 2 workers against 1 only)")
    a = ap.parse_args(argv)
    n = a.students
    with tempfile.TemporaryDirectory(prefix="regloss-bench-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "class"
        nb = solved_release(a.assignment)
        for i in range(n):
            (subs / f"student{i:03d}").mkdir(parents=True)
            nbformat.write(nb, str(subs / f"student{i:03d}" / f"{a.assignment}.ipynb"))
        print(f"{n} identical submissions of {a.assignment}, {os.cpu_count()} cores, {load()} before", flush=True)

        def show(label, timed):
            t = timed()
            print(f"{label:<44} {t:7.1f} s  {t / n:5.2f} s/student  ({load()} after)", flush=True)
            return t

        t_plain = None
        if not a.no_plain:
            t_plain = show("plain serial nbgrader", lambda: time_plain_nbgrader(a.assignment, subs, tmp / "plain"))
        t1 = show("regloss grade --workers 1",
                  lambda: time_regloss(a.assignment, subs, tmp / "w1", "--workers", "1"))
        t2 = show("regloss grade --workers 2",
                  lambda: time_regloss(a.assignment, subs, tmp / "w2", "--workers", "2"))
        td = None
        if not a.no_dask:
            from tests.services import dask_cluster

            warm_runs = {}
            for k in (2, 1):  # a cluster that stays up: its workers keep their warm processes for the next run
                with dask_cluster(k) as address:
                    cold = show(f"regloss grade --scheduler ({k} Dask worker{'s' * (k > 1)})",
                                lambda k=k: time_regloss(a.assignment, subs, tmp / f"dask{k}", "--scheduler", address))
                    td = cold if k == 2 else td
                    warm_runs[k] = show("  the same again, on that cluster (warm)",
                                        lambda k=k: time_regloss(a.assignment, subs, tmp / f"dask{k}-again",
                                                             "--scheduler", address))
        t1n = None
        if not a.no_judge_run:
            t1n = show("regloss grade --workers 1 --no-judge",
                       lambda: time_regloss(a.assignment, subs, tmp / "w1n", "--workers", "1", "--no-judge"))
        print()
        if t_plain is not None:
            print(f"1 worker vs plain serial nbgrader: {t_plain / t1:.2f}x (target >= 2)")
        print(f"2 workers vs 1 worker:             {t1 / t2:.2f}x (target >= 1.85)")
        r1, r2 = steady_rate(tmp / "w1", 1), steady_rate(tmp / "w2", 2)
        if r1 and r2:
            print(f"  once started (students per second after each worker's first): {r1:.3f} vs {r2:.3f}, "
                  f"{r2 / r1:.2f}x; the first grade came {first_grade(tmp / 'w1'):.1f} s and "
                  f"{first_grade(tmp / 'w2'):.1f} s into the runs")
            f1, f2 = fixed_part(t1, n, r1), fixed_part(t2, n, r2)
            at, allowed = class_for_ratio(1.85, f1, r1, f2, r2), fixed_allowed(1.85, n, r1, r2)
            print(f"  what the steady rates do not explain (the start, each worker's first student, the report): "
                  f"{f1:.1f} s and {f2:.1f} s;\n  with them, 2 workers would reach "
                  + ", ".join(f"{ratio_at(m, f1, r1, f2, r2):.2f}x on {m}" for m in (8, 32, 128, 1024))
                  + " students;\n  1.85x " + (f"from {at} students on" if at else "on no class (the steady rates "
                                               "alone stay below it)")
                  + f"; on {n} students 1.85x needs that part to be "
                  + (f"at most {allowed:.1f} s in both runs" if allowed >= 0 else "below 0 s: no start reaches it"))
        if t_plain is not None:
            print(f"2 workers vs plain nbgrader:       {t_plain / t2:.2f}x")
        if td is not None:
            print(f"2 Dask workers vs 2 local workers: {t2 / td:.2f}x")
            print(f"2 warm Dask workers vs 1:          {warm_runs[1] / warm_runs[2]:.2f}x (a cluster that stays up: "
                  "the warm processes are started, the run pays only the parent's part)")
        state = read_students(tmp / "w1").values()
        worker_s = sorted(s["seconds"] for s in state)
        judge = [s.get("judge_seconds", 0.0) for s in state]
        per_student = worker_s[len(worker_s) // 2]
        print(f"one worker spends {per_student:.2f} s per student (median; min {worker_s[0]:.2f}, "
              f"max {worker_s[-1]:.2f}); the judge's processes {sum(judge) / len(judge):.2f} s of it on average")
        if t1n is not None:
            print(f"the judge costs {(t1 - t1n) / n:.2f} s per student of wall time with one worker "
                  f"({t1n:.1f} s without it, {t1:.1f} s with it)")
        rate = None
        if not a.no_postgres:
            from tests.services import postgres_bin

            if postgres_bin() is None:
                print("PostgreSQL merge rate: skipped (no PostgreSQL binaries)")
            else:
                rate = postgres_merge_rate(a.assignment, tmp / "w1", tmp)
                print(f"PostgreSQL merge rate: {rate:.0f} students/s (one transaction each, one connection)")
        # on paper: 10,000 students on N Dask workers (one student per worker at a time)
        setup = max(t1 - per_student * n, 0.0)  # generate_assignment, intake, registration: once per run
        print(f"\n10,000 students on N Dask workers, from these costs ({per_student:.2f} s per student per "
              f"worker, {setup:.0f} s set-up" + (f", merges at {rate:.0f}/s" if rate else "") + "):")
        for workers in (10, 50, 100, 200):
            grading = 10_000 * per_student / workers
            merging = 10_000 / rate if rate else 0.0
            total = setup + max(grading, merging)
            print(f"  N = {workers:>3}: {total / 60:6.1f} min (grading {grading / 60:.1f} min"
                  + (f", merging {merging / 60:.1f} min in parallel with it" if rate else "") + ")")


if __name__ == "__main__":
    main()
