"""``--memory`` below what a grading kernel needs to start is refused, with the minimum named.

The floor is measured on this machine with this installation
(:mod:`regloss.grading.sandboxed.kernel_start`: a kernel's imports, its start and a first
cell, under no cap) and kept in ``$XDG_CACHE_HOME/regloss/kernel-start.json`` (default
``~/.cache``), under a key made of the installed versions, regloss's source digest and the
number of cores (torch starts a thread per core, each with its own address space): the
measure, about five seconds, is taken once per installation and machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from regloss.course import CourseError
from regloss.grading.programs import Program
from regloss.grading.run import cluster_match
from regloss.grading.sandboxed.environment import student_env

#: The floor is named in multiples of this (MB).
STEP_MB = 64


def floor_mb(peak_mb: int) -> int:
    """The smallest ``--memory`` accepted for a kernel whose start peaked at ``peak_mb``."""
    return -(-int(peak_mb) // STEP_MB) * STEP_MB


def check(memory_mb: int, floor: int | None) -> None:
    """Raise :class:`CourseError` when the cap ``memory_mb`` (0: none) is below ``floor``
    (None: not measured, nothing refused)."""
    if memory_mb and floor is not None and memory_mb < floor:
        raise CourseError(
            f"--memory {memory_mb} is below what a grading kernel needs to start on this machine: "
            f"{floor} MB of address space (Python with NumPy, SciPy, torch and matplotlib imported, "
            f"and its threads); every student's kernel would die before its first cell. "
            f"Use --memory {floor} or more (0: no cap)")


def cache_key() -> str:
    """What the measure depends on: the installation (versions, regloss's source) and the cores."""
    facts = {"install": cluster_match.here(), "cores": os.cpu_count(),
             "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "regloss" / "kernel-start.json"


def measure(timeout: float = 300) -> int | None:
    """Run :mod:`~regloss.grading.sandboxed.kernel_start` in a fresh process with the kernels'
    environment; its peak address space in MB, or None where it failed."""
    try:
        p = subprocess.run(Program.KERNEL_START.argv(), capture_output=True, text=True, timeout=timeout,
                           env=student_env({"PYTHONDONTWRITEBYTECODE": "1"}), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in reversed(p.stdout.splitlines()):
        try:
            got = json.loads(line)
        except ValueError:
            continue
        if isinstance(got, dict) and got.get("ok") and isinstance(got.get("peak_mb"), int):
            return int(got["peak_mb"])
    return None


def kernel_floor_mb() -> int | None:
    """The floor of ``--memory`` here (:func:`floor_mb` of the measure), from the cache when
    this installation and machine were measured before; None where it could not be measured."""
    path, key = cache_file(), cache_key()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    if isinstance(known.get(key), int):
        return floor_mb(known[key])
    peak = measure()
    if peak is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({key: peak}))
        os.replace(tmp, path)
    except OSError:
        pass  # not kept: measured again next time
    return floor_mb(peak)


def refuse_below_floor(memory_mb: int) -> None:
    """Raise :class:`CourseError` when ``memory_mb`` is a cap below :func:`kernel_floor_mb`."""
    if memory_mb:
        check(memory_mb, kernel_floor_mb())
