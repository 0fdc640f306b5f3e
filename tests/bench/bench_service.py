"""Benchmark: the grading service (``regloss serve``) on loopback, warm.

For each number of workers (1 and 2 by default) it starts ``regloss serve`` on a free
port, waits until it answers, sends two warm-up checks, then measures

* the latency of a warm check: ``--checks`` checks of a perfect notebook one after
  another (one client), p50 and p95;
* a class through the warm service: ``--students`` checks sent at once (one per
  student), the wall time until the last answer, the throughput and the p50/p95 latency
  under that load;

* ``regloss grade --service`` on classes of ``--classes`` students (8 and 64 by default),
  the whole command timed (its start, the assignment generated, the merge and the reports);

then, with the same number of workers, a cold ``regloss grade --workers N`` of the same
classes; and prints the ratios: cold against warm, and two workers against one (the class at
once and ``regloss grade --service``). A script, not a test (pytest does not collect
``bench_*.py``)::

    .venv/bin/python tests/bench/bench_service.py [--assignment 01_l1_mse] [--checks 10]
        [--students 8] [--classes 8 64] [--workers 1 2] [--no-cold]

Other work on the machine slows every number; the load average is printed before and
after each measurement.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_grading import env, load, solved_release, time_regloss  # noqa: E402
from tests.services import free_port  # noqa: E402


def percentile(xs, q):
    """The ``q`` quantile of ``xs`` (linear interpolation, as numpy's default)."""
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def check(url, assignment, token, body):
    """Seconds one check took (asserting a 200)."""
    req = urllib.request.Request(f"{url}/api/check/{assignment}", data=body, method="POST",
                                 headers={"Authorization": f"token {token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=900) as r:
        r.read()
        assert r.status == 200
    return time.perf_counter() - t0


INSTRUCTOR = "bench-instructor-token"


def start(assignment, workers, tmp: Path, n_tokens):
    tokens = tmp / "tokens.csv"
    tokens.write_text("".join(f"bench-token-{i:04d},s{i:04d},student\n" for i in range(n_tokens))
                      + f"{INSTRUCTOR},prof,instructor\n")
    port = free_port()
    log = open(tmp / f"serve-{workers}.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "regloss", "serve", assignment, "--port", str(port),
                             "--tokens", str(tokens), "--workers", str(workers), "--state", str(tmp / "state"),
                             "--db", str(tmp / f"attempts-{workers}.db")],
                            stdout=log, stderr=subprocess.STDOUT, env=env(), cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit((tmp / f"serve-{workers}.log").read_text())
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the service did not start")


def measure(url, w, a, body):
    """Print the latencies of ``w`` workers; the wall time of the class at once."""
    def one(i):
        return check(url, a.assignment, f"bench-token-{i:04d}", body)

    with ThreadPoolExecutor(w) as ex:  # every worker warm once
        list(ex.map(one, range(w)))
    seq = [one(2 * w + i) for i in range(a.checks)]
    print(f"{w} worker(s): warm check, one at a time ({a.checks}): p50 {percentile(seq, 0.5):.2f} s, "
          f"p95 {percentile(seq, 0.95):.2f} s ({load()})", flush=True)
    first = 2 * w + a.checks
    t0 = time.perf_counter()
    with ThreadPoolExecutor(a.students) as ex:
        lat = list(ex.map(one, range(first, first + a.students)))
    wall = time.perf_counter() - t0
    print(f"{w} worker(s): {a.students} students at once: {wall:.1f} s, {a.students / wall:.2f} checks/s, "
          f"latency p50 {percentile(lat, 0.5):.2f} s, p95 {percentile(lat, 0.95):.2f} s ({load()})", flush=True)
    return wall


def a_class(tmp: Path, n: int, nb) -> Path:
    """``n`` students who all hand in ``nb``."""
    folder = tmp / f"class-{n}"
    if not folder.is_dir():
        for i in range(n):
            (folder / f"s{i:03d}").mkdir(parents=True)
            nbformat.write(nb, str(folder / f"s{i:03d}" / f"{nb.metadata['regloss_assignment']}.ipynb"))
    return folder


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="01_l1_mse")
    ap.add_argument("--checks", type=int, default=10, help="sequential warm checks for the latency")
    ap.add_argument("--students", type=int, default=8, help="checks sent at once for the class")
    ap.add_argument("--classes", type=int, nargs="*", default=[8, 64],
                    help="class sizes graded with regloss grade --service (and cold)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-cold", action="store_true", help="skip the cold regloss grade runs")
    a = ap.parse_args(argv)
    nb = solved_release(a.assignment)
    body = nbformat.writes(nb).encode()
    nb.metadata["regloss_assignment"] = a.assignment
    print(f"regloss serve {a.assignment}, {os.cpu_count()} cores, {load()} before", flush=True)
    walls, warm, cold = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="regloss-bench-serve-") as tmp_:
        tmp = Path(tmp_)
        for w in a.workers:
            proc, url = start(a.assignment, w, tmp, a.checks + a.students + 2 * w)
            try:
                walls[w] = measure(url, w, a, body)
                for n in a.classes:
                    t = time_regloss(a.assignment, a_class(tmp, n, nb), tmp / f"warm-{w}-{n}", "--service", url,
                                     extra_env={"REGLOSS_TOKEN": INSTRUCTOR})
                    warm[w, n] = t
                    print(f"{w} worker(s): regloss grade --service, {n} students: {t:.1f} s "
                          f"({n / t:.2f} students/s, {load()})", flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=600)
            if not a.no_cold:
                for n in a.classes:
                    t = time_regloss(a.assignment, a_class(tmp, n, nb), tmp / f"cold-{w}-{n}", "--workers", str(w))
                    cold[w, n] = t
                    print(f"{w} worker(s): regloss grade (cold), {n} students: {t:.1f} s "
                          f"(cold / through the warm service: {t / warm[w, n]:.2f}, {load()})", flush=True)
    if 1 in walls and 2 in walls:
        print(f"{a.students} students at once through the warm service: 2 workers are {walls[1] / walls[2]:.2f}x one "
              f"({walls[1]:.1f} s -> {walls[2]:.1f} s)")
        for n in a.classes:
            line = (f"{n} students, regloss grade --service: 2 workers are {warm[1, n] / warm[2, n]:.2f}x one "
                    f"({warm[1, n]:.1f} s -> {warm[2, n]:.1f} s)")
            if (1, n) in cold:
                line += f"; cold: {cold[1, n] / cold[2, n]:.2f}x ({cold[1, n]:.1f} s -> {cold[2, n]:.1f} s)"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
