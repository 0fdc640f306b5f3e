"""Benchmark: what the walls cost per student process (issue 23: "measure what the walls cost").

Each kernel and answer process, forked warm, enters its sandbox and raises its walls before
any student code runs (:func:`regloss.grading.sandboxed.walls.raise_walls`: read-only
remounts of the installation, the work folder given to the student user, the drop to that
user, the seccomp filter). This script forks ``--runs`` children the way the zygotes fork a
kernel (a new mount namespace, ``/`` private), times in each the hiding alone
(:func:`~regloss.grading.sandboxed.isolation.enter`) and the walls after it, and prints
min/median/max in milliseconds. A script, not a test; it needs root (the walls' steps 1-3)::

    .venv/bin/python tests/bench/bench_walls.py [--runs 40]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from regloss.grading.sandboxed import isolation, walls

_CLONE_NEWNS, _MS_REC, _MS_PRIVATE = 0x00020000, 16384, 1 << 18


def _child(work: Path, w: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        os.write(w, b"{}")
        return
    spec = isolation.SandboxSpec(hide=[], keep=[str(work)], filesystem=True)
    t0 = time.perf_counter()
    isolation.enter(spec)
    t1 = time.perf_counter()
    held = walls.raise_walls(isolation.installation(), [str(work)], walls.student_uid(1))
    t2 = time.perf_counter()
    os.write(w, json.dumps({"hide_ms": 1000 * (t1 - t0), "walls_ms": 1000 * (t2 - t1), "held": held}).encode())


def one(work: Path) -> dict:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            _child(work, w)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = json.loads(f.read() or b"{}")
    os.waitpid(pid, 0)
    return got


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=40)
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("the walls' full set needs root: run as root")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        runs = [one(work) for _ in range(a.runs)]
    if not runs or "walls_ms" not in runs[0]:
        print("could not make a mount namespace here")
        return 2
    print(f"walls held: {'; '.join(runs[0]['held'])}")
    for key, what in (("hide_ms", "hiding (mount namespace, tmpfs over the folders)"),
                      ("walls_ms", "walls (read-only remounts, the student user, seccomp)")):
        xs = [r[key] for r in runs]
        print(f"{what}: min {min(xs):.2f} ms, median {statistics.median(xs):.2f} ms, max {max(xs):.2f} ms "
              f"over {len(xs)} processes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
