"""The walls' parts (:mod:`regloss.grading.sandboxed.walls`): the seccomp program, the student users."""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import threading
from pathlib import Path

import pytest

from regloss.grading.sandboxed import walls


@pytest.mark.parametrize("machine", sorted(walls.DENIED))
def test_the_filter_checks_the_architecture_first_and_allows_what_it_does_not_name(machine):
    prog = walls.seccomp_program(machine)
    assert len(prog) % 8 == 0 and len(prog) // 8 < 4096  # BPF's limit
    code, _, _, k = struct.unpack("=HBBI", prog[:8])
    assert (code, k) == (0x20, 4)  # load seccomp_data.arch
    assert struct.unpack("=HBBI", prog[-8:])[3] == 0x7FFF0000  # the last word: allow


def test_a_student_uid_is_never_root_nor_a_machines_user():
    assert {walls.student_uid(i) for i in (0, 1, 29_999, 30_000)} == {200_000, 200_001, 229_999}
    assert all(walls.student_uid(i) >= walls.FIRST_UID for i in range(0, 100_000, 977))


HOLD = "import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n" \
       "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n"


def hold(path):
    """Another process (another run, the service) holding the lease file ``path`` until killed."""
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_jobs_of_two_runs_in_the_same_slot_never_share_a_user(tmp_path):
    with walls.student_uid_lease(3, tmp_path) as mine:
        with walls.student_uid_lease(3, tmp_path) as theirs:  # the other run's job 3, meanwhile
            assert (mine, theirs) == (walls.student_uid(3), walls.student_uid(4))
    with walls.student_uid_lease(3, tmp_path) as again:
        assert again == walls.student_uid(3)  # given back when the job ended


def test_a_lease_held_by_another_process_is_skipped_until_that_process_ends(tmp_path):
    other = hold(tmp_path / str(walls.student_uid(0)))
    try:
        with walls.student_uid_lease(0, tmp_path) as uid:
            assert uid == walls.student_uid(1)
    finally:
        other.kill()
        other.wait()
    with walls.student_uid_lease(0, tmp_path) as uid:  # killed: its lock went with it
        assert uid == walls.student_uid(0)


def test_the_leases_are_kept_where_no_student_can_write(tmp_path):
    with walls.student_uid_lease(0, tmp_path / "leases"):
        pass
    assert (tmp_path / "leases").stat().st_mode & 0o777 == 0o700
    d = walls.lease_dir()
    assert d == Path("/run/regloss-uids") if os.geteuid() == 0 else d.name == f"regloss-uids-{os.geteuid()}"


@pytest.mark.slow  # forks
@pytest.mark.skipif(platform.machine() not in walls.DENIED, reason="no system-call table for this architecture")
def test_behind_the_filter_namespaces_and_mounts_are_refused_but_threads_and_processes_work(tmp_path):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        out = {}
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            # a private mount namespace first: should the filter fail, nothing of this machine is touched
            if libc.unshare(0x00020000) != 0 or libc.mount(b"none", b"/", None, ctypes.c_ulong(16384 | (1 << 18)),
                                                            None) != 0:
                out["skip"] = True
                raise SystemExit
            walls.install_seccomp()
            out["unshare"] = libc.unshare(0x10000000) == -1 and ctypes.get_errno() == 1
            out["mount"] = libc.mount(b"none", str(tmp_path).encode(), b"tmpfs", 0, None) == -1
            out["umount"] = libc.umount2(b"/proc", 2) == -1
            for name in ("ptrace", "bpf", "keyctl"):  # each would answer otherwise (0, EFAULT, EINVAL)
                nr = walls.DENIED[platform.machine()][name]
                out[name] = libc.syscall(nr, 0, 0, 0, 0) == -1 and ctypes.get_errno() == 1
            t = threading.Thread(target=lambda: None)
            t.start()
            t.join()
            out["thread"] = True
            child = os.fork()
            if child == 0:
                os._exit(7)
            out["fork"] = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 7
        finally:
            os.write(w, repr(out).encode())
            os._exit(0)
    os.close(w)
    got = eval(os.read(r, 4096).decode())  # noqa: S307 - our own child's repr of a dict of booleans
    os.waitpid(pid, 0)
    if got.get("skip"):
        pytest.skip("no private mount namespace here to try the filter in")
    assert got == {"unshare": True, "mount": True, "umount": True, "ptrace": True, "bpf": True, "keyctl": True,
                   "thread": True, "fork": True}


@pytest.mark.slow  # starts a process in a user namespace
def test_a_user_namespaces_root_is_not_taken_for_the_machines():
    import subprocess
    import sys

    code = "from regloss.grading.sandboxed.walls import real_root; import os; print(os.getuid(), real_root())"
    p = subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-c", code], capture_output=True,
                       text=True)
    if p.returncode != 0:
        pytest.skip(f"no user namespaces here: {p.stderr.strip()[-200:]}")
    assert p.stdout.split() == ["0", "False"]
