"""One memory cap for all of a student's processes together: a watchdog outside them.

Each kernel and answer process has its own address-space cap (``RLIMIT_AS``), which a
process's children inherit one by one: three children started by a cell held 2.2 GB
against a 2 GB cap. Behind the walls every process of a student runs as that student's
own user (:func:`regloss.grading.sandboxed.walls.student_uid`), which its code cannot
change (no capabilities, ``no_new_privs``). :class:`MemoryWatch`, a thread of the worker,
reads ``/proc`` every :data:`INTERVAL_S` seconds; when the processes of that user under
the worker (:func:`students_processes`) together hold more than the cap, it kills them
all (``SIGKILL``) and keeps what it saw (:attr:`MemoryWatch.tripped`) for the student's
problems. A kernel killed so is a crashed kernel to nbgrader: the worker grades the
notebook again without the cell that was running (as for any crash).

Memory is counted as each process's proportional set size (``Pss`` of
``smaps_rollup``): pages a kernel shares with the zygote it was forked from, or with a
sibling, count once between them, not once per process.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: How often (s) the student's processes are measured.
INTERVAL_S = 0.2


@dataclass(frozen=True)
class Proc:
    """A process as ``/proc`` shows it: its id, its parent's and its real user."""

    pid: int
    ppid: int
    uid: int


def students_processes(procs: Iterable[Proc], uid: int, root: int) -> list[int]:
    """The ids of ``procs`` that run as ``uid`` and descend from ``root`` (the worker): another
    run's student with the same uid on this machine is not this one."""
    by_pid = {p.pid: p for p in procs}
    found = []
    for p in by_pid.values():
        if p.uid != uid:
            continue
        seen, cur = set(), p.ppid
        while cur not in seen and cur in by_pid and cur != root:
            seen.add(cur)
            cur = by_pid[cur].ppid
        if cur == root:
            found.append(p.pid)
    return sorted(found)


def over_cap(kib: Mapping[int, int], cap_mb: int) -> bool:
    """Whether the processes' memory (``{pid: KiB}``) together exceed ``cap_mb``."""
    return sum(kib.values()) > cap_mb * 1024


def read_proc(pid: int) -> Proc | None:
    """``pid``'s :class:`Proc` from ``/proc/<pid>/status``; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    ppid = uid = -1
    for line in text.splitlines():
        if line.startswith("PPid:"):
            ppid = int(line.split()[1])
        elif line.startswith("Uid:"):
            uid = int(line.split()[1])  # the real uid
    return Proc(pid, ppid, uid)


def all_processes() -> list[Proc]:
    """Every process this one can see."""
    procs = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = read_proc(int(name))
            if p is not None:
                procs.append(p)
    return procs


def pss_kib(pid: int) -> int:
    """``pid``'s proportional set size in KiB (its resident size where ``smaps_rollup`` is
    missing); 0 once it is gone."""
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            text = Path(f"/proc/{pid}/{name}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class Tripped:
    """What the watch saw when it killed a student's processes."""

    held_mb: int
    processes: int


class MemoryWatch:
    """Watch the processes of student user ``uid`` under this process (see the module
    docstring); a context manager: it watches while the ``with`` block runs."""

    def __init__(self, uid: int, cap_mb: int, root: int | None = None, interval: float = INTERVAL_S):
        self.uid, self.cap_mb, self.interval = uid, cap_mb, interval
        self.root = os.getpid() if root is None else root
        self.tripped: Tripped | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"regloss-memory-{uid}")

    def start(self) -> MemoryWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (again: nothing)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> MemoryWatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def problem(self) -> str | None:
        """The sentence for the student's problems once the watch killed their processes."""
        if self.tripped is None:
            return None
        return (f"the notebook's processes together held {self.tripped.held_mb} MB "
                f"({self.tripped.processes} processes; the cap, {self.cap_mb} MB, is for all of a student's "
                f"processes together) and were stopped")

    def check(self) -> Tripped | None:
        """Measure once; kill the student's processes when together they are over the cap."""
        pids = students_processes(all_processes(), self.uid, self.root)
        kib = {pid: pss_kib(pid) for pid in pids}
        if not over_cap(kib, self.cap_mb):
            return None
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        seen = Tripped(-(-sum(kib.values()) // 1024), len(pids))
        if self.tripped is None or seen.held_mb > self.tripped.held_mb:
            self.tripped = seen
        return seen

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()
