"""Process plumbing every role uses: kill a process tree, run a command with a wall-clock
limit, keep the processes a worker started, wait for a process that is not our child.

Nothing here knows about grading: the worker runs its judge and nbgrader through
:func:`run_process`, the parent stops its workers with :func:`kill_tree`, the zygotes
hand out :class:`Forked` processes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path


def libc() -> ctypes.CDLL:
    """The C library, with ``errno`` kept (for ``prctl``, ``unshare``, ``mount``)."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class Forked:
    """A ``subprocess.Popen`` look-alike for a kernel the zygote forked (not our child)."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self):
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0  # reaped by the zygote; its status is not ours to read
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout=None):
        """Wait until the process has ended (``subprocess.TimeoutExpired`` after ``timeout``
        seconds). Not our child, so not ours to reap: where Linux has pidfds the wait is
        woken by the process's exit; elsewhere it polls, every millisecond at first, then
        less often up to every 50 ms (a judge's killed answer process used to cost a whole
        50 ms poll per student)."""
        if self.poll() is not None:
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            fd = os.pidfd_open(self.pid)
        except ProcessLookupError:  # already gone
            self.returncode = 0
            return self.returncode
        except (AttributeError, OSError, TypeError):  # no pidfd here (or no pid yet): poll
            fd = None
        try:
            if fd is not None:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not select.select([fd], [], [], left)[0]:
                    raise subprocess.TimeoutExpired([str(self.pid)], timeout)
                self.returncode = 0  # ended (its status is its reaper's)
                return self.returncode
            pause = 0.001
            while self.poll() is None:
                if deadline is not None and time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired([str(self.pid)], timeout)
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
            return self.returncode
        finally:
            if fd is not None:
                os.close(fd)

    def send_signal(self, signum):
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class Processes:
    """The processes a worker started, so that a stopping parent can kill them all."""

    def __init__(self):
        self._procs = {}
        self._lock = threading.Lock()
        self.stopping = False

    def add(self, key, proc):
        with self._lock:
            self._procs[key] = proc

    def remove(self, key):
        with self._lock:
            self._procs.pop(key, None)

    def kill_all(self):
        self.stopping = True
        with self._lock:
            procs = list(self._procs.values())
        for p in procs:
            kill_tree(p.pid)


def kill_tree(pid: int, wait: bool = True) -> None:
    """Kill a process and every process it started (nbgrader starts kernels in their own
    sessions); with ``wait``, until they are all gone (else SIGKILL is sent and the
    caller reaps only its own child)."""
    try:
        import psutil

        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
        for q in procs:
            try:
                q.kill()
            except psutil.Error:
                pass
        if wait:
            psutil.wait_procs(procs, timeout=10)
    except Exception:  # noqa: BLE001 - already gone
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def run_process(cmd: Sequence[str], log_path: str | Path, env: Mapping[str, str], cwd: str | Path, wall: float,
                procs: Processes | None = None, key: Hashable = None) -> bool:
    """Run ``cmd`` (its output into ``log_path``) with a wall-clock limit; returns
    True when it finished in time."""
    with open(log_path, "ab") as log:
        if procs is not None and procs.stopping:
            raise KeyboardInterrupt
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, cwd=str(cwd), start_new_session=True)
        if procs is not None:
            procs.add(key, p)
        try:
            p.wait(timeout=wall)
            return True
        except subprocess.TimeoutExpired:
            kill_tree(p.pid)
            p.wait()
            return False
        finally:
            if procs is not None:
                procs.remove(key)
            if procs is not None and procs.stopping:
                raise KeyboardInterrupt


def close_inherited(keep=()):
    """Close every file descriptor from 3 up except ``keep``: a zygote holds nothing of the
    process that forked it (the warm process's pipe to the grading parent, the other
    zygote's socket), so nothing of it reaches the student code it forks."""
    lo = 3
    for k in [*sorted({int(k) for k in keep if int(k) >= 3}), os.sysconf("SC_OPEN_MAX")]:
        os.closerange(lo, k)
        lo = k + 1


def become_subreaper():
    """Make this process adopt its descendants' orphans (``PR_SET_CHILD_SUBREAPER``):
    the zygote copies of :func:`_one_per_copy` stay in its tree. False where Linux
    does not allow it."""
    try:
        return libc().prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False
