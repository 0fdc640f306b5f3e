"""Warm servers forked from one template (:func:`regloss.grading.worker.warm.start_copies`):
the imports are paid once for all the local workers, yet each server has its own
pipes and zygotes, and stopping one (as after a student who exceeds the wall-clock
limit) stops what only it used and nothing of the others."""

from __future__ import annotations

import os
import time

import pytest

from regloss import course
from regloss.grading.processes import kill_tree
from regloss.grading.sandboxed.isolation import probe
from regloss.grading.worker import warm

pytestmark = pytest.mark.slow  # starts warm servers and their zygotes


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pipes_held(pid):
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("pipe:"):
            out.add(link)
    return out


def pipe_ids(f):
    return {f"pipe:[{os.fstat(f.fileno()).st_ino}]"}


@pytest.fixture(scope="module")
def servers():
    iso = probe(True)
    ss = [warm.WarmAutograder(iso) for _ in range(2)]
    template = warm.start_copies(iso, ss, course.tool_env({"PYTHONDONTWRITEBYTECODE": "1"}))
    yield template, ss
    for s in ss:
        s.close()
    kill_tree(template.pid)
    template.wait(timeout=10)


def test_each_server_has_its_own_process_and_zygotes(servers):
    template, (a, b) = servers
    assert a.proc is not None and b.proc is not None, "a copy did not come up"
    assert a.proc.pid != b.proc.pid and template.pid not in (a.proc.pid, b.proc.pid)
    assert len(a.proc.helpers) == len(b.proc.helpers) == 2  # a kernel zygote and an answer zygote each
    assert not set(a.proc.helpers) & set(b.proc.helpers)
    assert all(alive(p) for p in [a.proc.pid, b.proc.pid, *a.proc.helpers, *b.proc.helpers])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.parametrize("which", [0, 1], ids=["kernel zygote", "answer zygote"])
def test_the_copies_zygotes_share_one_preload(servers, which):
    """The second copy's zygote is forked from the first once its imports are done (it
    has used next to no CPU of its own), then orphaned to the template, so that
    stopping the first copy's server does not take it along."""
    template, (a, b) = servers
    za, zb = a.proc.helpers[which], b.proc.helpers[which]
    ca, cb = cpu_seconds(za), cpu_seconds(zb)
    assert min(ca, cb) < 0.2 * max(ca, cb), (ca, cb)
    assert parent(za) == parent(zb) == template.pid


def test_a_server_holds_no_pipe_of_the_other(servers):
    _, (a, b) = servers
    assert not pipes_held(b.proc.pid) & (pipe_ids(a.proc.stdin) | pipe_ids(a.proc.stdout))
    assert not pipes_held(a.proc.pid) & (pipe_ids(b.proc.stdin) | pipe_ids(b.proc.stdout))


def test_stopping_one_server_leaves_the_other_serving(servers, tmp_path):
    _, (a, b) = servers
    gone = [a.proc.pid, *a.proc.helpers]
    a.close()
    for pid in gone:
        for _ in range(200):
            if not alive(pid):
                break
            time.sleep(0.01)
        assert not alive(pid), pid
    assert all(alive(p) for p in [b.proc.pid, *b.proc.helpers])
    # the other still answers (a judge request for a file that is not there fails in the
    # judge, in the student's log, and the server says it is done)
    env = course.tool_env({"PYTHONDONTWRITEBYTECODE": "1"})
    assert b.run(tmp_path / "missing.json", env, tmp_path, tmp_path / "log.txt", 60, kind="judge")
    assert b.served == 1 and b.proc.poll() is None
