"""The walls around student code that it cannot take down: read-only installation, an
unprivileged user without capabilities, ``no_new_privs`` and a seccomp filter.

:func:`regloss.grading.sandboxed.isolation.enter` hides what a student must not see, with
mounts made in the process's own mount namespace. Those mounts hold only if the student
cannot undo them, nor write to what stays visible. So, once the hiding is in place and
before any student code runs, a kernel or an answer process calls :func:`raise_walls`:

1. the Python installation, its packages and ``regloss`` (everything visible but the
   student's own folders) are remounted read-only;
2. the student's folders become the student user's (a uid per student slot,
   :func:`student_uid`), the only places it can write;
3. the process drops to that user (no supplementary groups; every capability goes with
   root), sets ``no_new_privs`` (no setuid program gives them back) and caps the user's
   processes (``RLIMIT_NPROC``);
4. a seccomp filter refuses ``mount``, ``umount2``, ``unshare``, ``setns``, ``clone`` with a
   namespace flag, ``ptrace``, ``bpf``, ``keyctl``, ``perf_event_open``, module loading and
   their like (``EPERM``), whichever user the process runs as.

Steps 1-3 need the process to be real root (regloss run as root, as CI and a grading
server run it); where it is not (namespaces made as an unprivileged user), the seccomp
filter still keeps the hiding in place. :func:`raise_walls` returns what held, in words.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import platform
import resource
import struct
import tempfile
from collections.abc import Iterable
from pathlib import Path

#: The first uid of the student users (a block of 30,000 above the usual system and human ids).
FIRST_UID = 200_000
UIDS = 30_000
#: What the run says when student code runs as a user of its own (:func:`probe_walls`).
OWN_USER = "student code as an unprivileged user without capabilities"
#: Processes (and threads) a student user may have: a kernel with torch's and BLAS's threads
#: uses a few dozen.
MAX_PROCESSES = 512

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC = 1, 2, 4, 32, 4096, 16384
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, _PR_SET_DUMPABLE = 38, 22, 2, 4

# ----------------------------------------------------------------------------- seccomp

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
#: The system calls refused, by architecture (from the kernel's unistd tables).
DENIED = {
    "x86_64": {"mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
               "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "bpf": 321, "keyctl": 250,
               "add_key": 248, "request_key": 249, "perf_event_open": 298, "userfaultfd": 323, "kexec_load": 246,
               "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
               "reboot": 169, "swapon": 167, "swapoff": 168, "open_by_handle_at": 304, "name_to_handle_at": 303,
               "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
               "mount_setattr": 442, "quotactl": 179, "acct": 163, "iopl": 172, "ioperm": 173},
    "aarch64": {"mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
                "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "bpf": 280, "keyctl": 219,
                "add_key": 217, "request_key": 218, "perf_event_open": 241, "userfaultfd": 282, "kexec_load": 104,
                "kexec_file_load": 294, "init_module": 105, "finit_module": 273, "delete_module": 106,
                "reboot": 142, "swapon": 224, "swapoff": 225, "open_by_handle_at": 265, "name_to_handle_at": 264,
                "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
                "mount_setattr": 442, "quotactl": 60, "acct": 89},
}
_CLONE = {"x86_64": 56, "aarch64": 220}
_CLONE3 = 435
#: clone()'s namespace flags: a new mount, cgroup, UTS, IPC, user, PID or network namespace.
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
_EPERM, _ENOSYS = 1, 38

_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW, _RET_KILL, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def seccomp_program(machine: str) -> bytes:
    """The BPF program of the filter for ``machine`` (``platform.machine()``): a foreign
    architecture's call is killed, each of :data:`DENIED` and a namespace-making ``clone``
    gets ``EPERM``, ``clone3`` ``ENOSYS`` (so that the C library falls back to ``clone``,
    whose flags the filter can read), anything else is allowed."""
    prog = [_ins(_LD_W_ABS, 4), _ins(_JEQ_K, _AUDIT_ARCH[machine], 1, 0), _ins(_RET_K, _RET_KILL),
            _ins(_LD_W_ABS, 0)]
    if machine == "x86_64":  # the x32 ABI's numbers
        prog += [_ins(_JGE_K, 0x40000000, 0, 1), _ins(_RET_K, _RET_ERRNO | _EPERM)]
    for nr in sorted(set(DENIED[machine].values())):
        prog += [_ins(_JEQ_K, nr, 0, 1), _ins(_RET_K, _RET_ERRNO | _EPERM)]
    prog += [_ins(_JEQ_K, _CLONE3, 0, 1), _ins(_RET_K, _RET_ERRNO | _ENOSYS)]
    prog += [_ins(_JEQ_K, _CLONE[machine], 0, 3), _ins(_LD_W_ABS, 16), _ins(_JSET_K, CLONE_NAMESPACES, 0, 1),
             _ins(_RET_K, _RET_ERRNO | _EPERM), _ins(_RET_K, _RET_ALLOW)]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _prctl(libc: ctypes.CDLL, option: int, *args: int) -> None:
    values = [ctypes.c_ulong(a) for a in (*args, 0, 0, 0, 0)[:4]]  # unsigned long: an address fits
    if libc.prctl(ctypes.c_int(option), *values) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def install_seccomp() -> bool:
    """Set ``no_new_privs`` and install :func:`seccomp_program`; False where the architecture
    has no table here."""
    machine = platform.machine()
    if machine not in DENIED:
        return False
    libc = _libc()
    _prctl(libc, _PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    code = seccomp_program(machine)
    buf = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _prctl(libc, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0)
    return True


# ----------------------------------------------------------------------------- mounts and the user


def student_uid(slot: int) -> int:
    """The uid of the student in slot ``slot`` (a job's number in the run): never root, never a
    uid of this machine's users (:data:`FIRST_UID` and up)."""
    return FIRST_UID + int(slot) % UIDS


def lease_dir() -> Path:
    """Where the leases of student uids are kept: a folder only this user can write (root's in
    ``/run``), so that no student can hold or drop a lease."""
    if os.geteuid() == 0 and Path("/run").is_dir():
        return Path("/run/regloss-uids")
    return Path(tempfile.gettempdir()) / f"regloss-uids-{os.geteuid()}"


@contextlib.contextmanager
def student_uid_lease(slot: int, folder: Path | None = None):
    """The uid a job in slot ``slot`` runs as, held for the job's life.

    Two runs on one machine (two instructors, a run beside ``regloss serve``, two test
    processes) number their jobs from 0 alike; without a lease their students in the same slot
    would be one user, and each could write the other's files and signal their processes. The
    lease is an exclusive ``flock`` on a file per uid: the uid of the slot if free, else the next
    free one. The lock goes when the job ends, or with its process, however it ends.
    """
    d = Path(folder) if folder is not None else lease_dir()
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    for k in range(UIDS):
        uid = student_uid(slot + k)
        fd = os.open(d / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            os.close(fd)
        return
    raise RuntimeError(f"all {UIDS} student uids are in use on this machine")


def _within(p: Path, folders: Iterable[Path]) -> bool:
    return any(p == f or f in p.parents for f in folders)


def read_only(paths: Iterable[str], writable: Iterable[str]) -> list[str]:
    """Remount each of ``paths`` (a folder: the installation, its packages, regloss) read-only,
    in this process's mount namespace; a path within ``writable`` (or holding one) is left.
    Returns the folders made read-only."""
    libc = _libc()
    keep = [Path(w).resolve() for w in writable if w]
    done: list[str] = []
    for raw in sorted({str(Path(p).resolve()) for p in paths if p and Path(p).is_dir()}, key=len):
        p = Path(raw)
        if _within(p, keep) or any(p in k.parents for k in keep) or _within(p, [Path(d) for d in done]):
            continue
        ok = True
        for flags in (_MS_BIND | _MS_REC, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV):
            # where the namespace's root may not (a user namespace's, over a locked mount), the path
            # stays as it was and is not counted
            ok = ok and libc.mount(raw.encode() if flags & _MS_REC else None, raw.encode(), None,
                                   ctypes.c_ulong(flags), None) == 0
        if ok:
            done.append(raw)
    return done


def give(paths: Iterable[str], uid: int) -> None:
    """Make ``paths`` (the student's folders) the student user's: each folder and the files and
    folders directly in it."""
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            continue
        for t in [p, *p.iterdir()]:
            # a regular file or folder only: never what a hiding mount put there (/dev/null), nor a link
            if not t.is_symlink() and (t.is_dir() or t.is_file()) and not os.path.ismount(t):
                os.chown(t, uid, uid, follow_symlinks=False)


def drop_to(uid: int) -> None:
    """Become ``uid`` for good (real, effective and saved ids; no groups): every capability is
    gone. Caps that user's processes at :data:`MAX_PROCESSES`."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # changing user made the process undumpable, which gives its /proc/self to root: give it back
    # (its own environment, its open files); ptrace stays refused by the seccomp filter
    _prctl(_libc(), _PR_SET_DUMPABLE, 1)
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))


def real_root() -> bool:
    """This process is root of the machine's own user namespace (where the student users exist),
    not the root a user namespace maps an unprivileged user to."""
    try:
        lines = Path("/proc/self/uid_map").read_text().split("\n")
    except OSError:
        return False
    return os.getuid() == 0 and [ln.split() for ln in lines if ln.strip()] == [["0", "0", "4294967295"]]


def capabilities() -> int:
    """This process's effective capabilities (``CapEff`` of ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return -1


def raise_walls(installation: Iterable[str], writable: Iterable[str], uid: int | None) -> list[str]:
    """Raise the walls (see the module docstring) around this process, already inside its
    sandbox's mount namespace: ``installation`` read-only, ``writable`` the student user's,
    the process that user (``uid``; None: stay who it is), then the seccomp filter.
    Returns what held, in words."""
    held = []
    writable = [w for w in writable if w]
    if os.geteuid() == 0:  # root in this mount namespace (real root, or a user namespace's)
        made = read_only(installation, writable)
        held.append(f"{len(made)} folder(s) of the installation read-only")
    if uid is not None and os.geteuid() == 0 and os.getuid() == 0 and real_root():
        give(writable, uid)
        drop_to(uid)
        held.append(f"user {uid}, no capabilities" if capabilities() == 0 else f"user {uid}")
    if install_seccomp():
        held.append("seccomp: no mount, unshare, setns, ptrace, bpf")
    return held


def _tries(installation: Iterable[str], hidden: str) -> dict[str, bool]:
    """In a process behind its walls: whether each attack fails (True: it held)."""
    libc = _libc()
    held = {}
    target = next((p for p in installation if p and Path(p).is_dir()), "/usr")
    try:
        (Path(target) / ".regloss-probe").write_text("x")
        (Path(target) / ".regloss-probe").unlink()
        held["installation read-only"] = False
    except OSError:
        held["installation read-only"] = True
    held["hiding cannot be unmounted"] = libc.umount2(hidden.encode(), 2) != 0  # MNT_DETACH
    held["no new namespaces"] = libc.unshare(0x10000000 | 0x00020000) != 0  # CLONE_NEWUSER | CLONE_NEWNS
    held["not root"] = os.geteuid() != 0
    held["no capabilities"] = capabilities() == 0
    return held


def probe_walls(installation: list[str], writable: Path) -> list[str]:
    """What :func:`raise_walls` achieves on this machine, tried in a child (inside the probe's
    mount namespace, ``writable`` inside a hidden folder): one line per wall that held."""
    with student_uid_lease(0) as uid:  # the probe's user is no student's meanwhile
        return _probe_walls(installation, writable, uid)


def _probe_walls(installation: list[str], writable: Path, uid: int) -> list[str]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            raise_walls(installation, [str(writable)], uid if os.geteuid() == 0 else None)
            held = _tries(installation, str(writable.parent))
            os.write(w, ",".join(k for k, ok in held.items() if ok).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = f.read().decode()
    os.waitpid(pid, 0)
    ok = [k for k in got.split(",") if k]
    user = OWN_USER if {"not root", "no capabilities"} <= set(ok) else \
        "student code as root (walls need regloss run as root)"
    return [user, *[k for k in ok if k not in ("not root", "no capabilities")]]
