"""zygote.Forked: waiting for a process that is not our child (a kernel or answer
process the zygote forked, a server the template forked)."""

import os
import signal
import subprocess
import threading

import pytest

from regloss.grading.processes import Forked


@pytest.fixture(params=["pidfd", "polling"])
def way(request, monkeypatch):
    if request.param == "polling":
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    elif not hasattr(os, "pidfd_open"):
        pytest.skip("this Python has no os.pidfd_open")
    return request.param


def _sleeper():
    return subprocess.Popen(["sleep", "30"], start_new_session=True)


def test_wait_returns_when_the_process_ends(way):
    p = _sleeper()

    def end():  # killed and reaped by its parent, as the zygote reaps its children
        os.kill(p.pid, signal.SIGKILL)
        p.wait()

    timer = threading.Timer(0.2, end)
    timer.start()
    try:
        assert Forked(p.pid).wait(timeout=20) == 0
        assert not running(p.pid)  # it returned because the process had ended
    finally:
        timer.join()


def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_wait_times_out_on_a_live_process(way):
    p = _sleeper()
    try:
        f = Forked(p.pid)
        with pytest.raises(subprocess.TimeoutExpired):
            f.wait(timeout=0.05)
        assert f.returncode is None and p.poll() is None
    finally:
        p.kill()
        p.wait()


def test_wait_on_a_process_already_gone(way):
    p = _sleeper()
    p.kill()
    p.wait()
    assert Forked(p.pid).wait(timeout=1) == 0
