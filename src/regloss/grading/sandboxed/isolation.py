"""The operating system's isolation: Linux namespaces, hidden folders, no network.

Every process that runs student code (the nbgrader kernel, the judge's answer
process) is started through :func:`Isolation.fs_prefix` where the machine
allows it: in its own mount and PID namespaces, where :func:`enter` hides every
top-level folder but the system's (:data:`SYSTEM_DIRS`) under an empty
``tmpfs`` -- home folders, ``/tmp``, ``/work``, ``/opt``, any other copy of the
course -- except the Python installation, its packages, ``regloss`` itself and
the student's own working copy; plus the folders a :class:`SandboxSpec` names
(submissions, gradebooks, the judge's files). The whole grading process of a
student runs in a network namespace holding only a loopback interface.

:func:`probe` reports what the operating system allows; grading proceeds
without the namespaces (and says so) where it does not.

:class:`SandboxSpec` is the one interface between a worker and the sandboxed
process it starts: the worker puts it in the process's environment
(:meth:`SandboxSpec.to_env`), the process reads it back once
(:meth:`SandboxSpec.from_env`). No other module spells its variable names.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from regloss.grading.programs import Program

_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_BIND = 4096

@dataclass
class Isolation:
    """What the operating system lets us do, found by :func:`probe`."""

    network: bool = False  # the grading process has no network
    filesystem: bool = False  # sources and gradebooks hidden from the kernel
    walls: list = field(default_factory=list)  # what else holds around student code (walls.raise_walls)
    reasons: list = field(default_factory=list)

    def net_prefix(self):
        """The command prefix that runs a process without network."""
        if not self.network:
            return []
        return ["unshare", "--net", *([] if os.geteuid() == 0 else ["--map-root-user"]), "--"]

    def fs_prefix(self):
        """The command prefix that runs a process in its own mount and PID namespaces
        (``[]`` where the machine does not allow them)."""
        return _fs_prefix() if self.filesystem else []

    @property
    def own_users(self) -> bool:
        """Each student's code runs as a user of its own (:func:`regloss.grading.sandboxed.walls.student_uid`)."""
        from regloss.grading.sandboxed.walls import OWN_USER

        return OWN_USER in self.walls

    def describe(self):
        parts = []
        parts.append("no network" if self.network else "NETWORK AVAILABLE to student code")
        parts.append(
            "sources, gradebooks and other students' files hidden"
            if self.filesystem
            else "files NOT hidden (student code can read what this user can read)"
        )
        parts += self.walls
        text = "; ".join(parts)
        if self.reasons:
            text += " (" + "; ".join(self.reasons) + ")"
        return text


def _run_quiet(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(cmd, 127, "", str(exc))


def probe(enabled=True):
    """Find out which isolation this machine allows (Linux namespaces via ``unshare``).

    Parameters
    ----------
    enabled : bool
        False skips namespaces altogether (``--no-sandbox``).

    Returns
    -------
    Isolation
    """
    iso = Isolation()
    if not enabled:
        iso.reasons.append("sandbox disabled by --no-sandbox")
        return iso
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        iso.reasons.append("no `unshare` on this system")
        return iso
    net = Isolation(network=True).net_prefix()
    p = _run_quiet([*net, *Program.ISOLATION.argv("--probe-net")])
    iso.network = p.returncode == 0 and "loopback-up" in p.stdout
    if not iso.network:
        iso.reasons.append("network namespaces not permitted: " + (p.stderr.strip().splitlines() or ["?"])[-1])
    prefix = iso.net_prefix()
    p = _run_quiet([*prefix, *_fs_prefix(), *Program.ISOLATION.argv("--probe-fs")])
    iso.filesystem = p.returncode == 0 and "hidden" in p.stdout
    if iso.filesystem:
        iso.walls = [ln[len("wall: "):] for ln in p.stdout.splitlines() if ln.startswith("wall: ")]
    if not iso.filesystem:
        iso.reasons.append("mount namespaces not permitted: " + (p.stderr.strip().splitlines() or ["?"])[-1])
    return iso


def _fs_prefix():
    # Inside a user namespace created by net_prefix we are uid 0 already.
    root = os.geteuid() == 0
    return ["unshare", "--mount", "--pid", "--fork", "--mount-proc", *([] if root else ["--map-root-user"]), "--"]


def bring_up_loopback():
    """Bring up ``lo`` in a fresh network namespace (so the kernel's ZeroMQ sockets work)."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, ifr))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(libc, source, target, fstype, flags, data=None):
    r = libc.mount(
        source.encode() if source else None,
        str(target).encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if r != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _is_within(path: Path, parent: Path):
    try:
        path.relative_to(parent)
        return True
    except ValueError:
        return False


#: Top-level folders a kernel needs (the system's programs, libraries and settings).
SYSTEM_DIRS = frozenset({"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc", "sys", "dev", "run"})


def outside_system_dirs(root="/"):
    """Every real top-level folder of ``root`` that is not one of :data:`SYSTEM_DIRS`
    (symbolic links such as ``/lib -> usr/lib`` are left alone)."""
    out = []
    for p in Path(root).iterdir():
        if p.name not in SYSTEM_DIRS and p.is_dir() and not p.is_symlink():
            out.append(str(p))
    return out


def hide_paths(hide, keep):
    """In the current (private) mount namespace, cover each path of ``hide`` with an
    empty tmpfs (or ``/dev/null`` for a file), keeping each directory of ``keep``
    (and everything under it) visible at its own path.

    Paths are hidden outermost first; a hidden directory that contains a kept one
    gets it bound back from a file descriptor opened before any mount.
    """
    libc = _libc()
    kept = {}
    for k in keep:
        k = Path(k).resolve()
        if k.is_dir() and k not in kept:
            kept[k] = os.open(str(k), os.O_RDONLY | os.O_DIRECTORY)
    try:
        for p in sorted({Path(h).resolve() for h in hide if h}, key=lambda q: len(q.parts)):
            if not p.exists():
                continue
            if p.is_dir():
                _mount(libc, "tmpfs", p, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64m,mode=1777")
                for k, fd in kept.items():
                    if _is_within(k, p) and k != p:
                        k.mkdir(parents=True, exist_ok=True)
                        for d in [k, *k.parents]:  # the way to it, on the tmpfs: open to the student user
                            if d == p:
                                break
                            os.chmod(d, 0o755)
                        _mount(libc, f"/proc/self/fd/{fd}", k, None, _MS_BIND)
            elif p.is_file():
                _mount(libc, "/dev/null", p, None, _MS_BIND)
    finally:
        for fd in kept.values():
            os.close(fd)



_ENV = {"hide": "REGLOSS_HIDE", "keep": "REGLOSS_KEEP", "cell_log": "REGLOSS_CELL_LOG",
        "access_log": "REGLOSS_ACCESS_LOG", "filesystem": "REGLOSS_FS_SANDBOX", "uid": "REGLOSS_UID"}


@dataclass
class SandboxSpec:
    """What a sandboxed process must hide and where it writes its notes.

    Attributes
    ----------
    hide : list of str
        Folders (or files) covered by an empty ``tmpfs`` (``/dev/null``), on top of
        every non-system top-level folder.
    keep : list of str
        Folders left visible (the student's working copy).
    filesystem : bool
        Hide at all (False where the machine allows no mount namespace).
    cell_log : str
        The kernel writes the source of the cell it is running here (to skip a
        cell that kills it on the next attempt); empty: not written.
    access_log : str
        The kernel appends the paths outside its folder that cells looked at.
    uid : int or None
        The student user the process becomes once its walls are up
        (:func:`regloss.grading.sandboxed.walls.raise_walls`); None: it stays who it is.
    """

    hide: list = field(default_factory=list)
    keep: list = field(default_factory=list)
    filesystem: bool = False
    cell_log: str = ""
    access_log: str = ""
    uid: int | None = None

    def to_env(self):
        """The environment variables that carry this spec to the process."""
        return {_ENV["hide"]: os.pathsep.join(str(h) for h in self.hide),
                _ENV["keep"]: os.pathsep.join(str(k) for k in self.keep),
                _ENV["filesystem"]: "1" if self.filesystem else "0",
                _ENV["cell_log"]: str(self.cell_log), _ENV["access_log"]: str(self.access_log),
                _ENV["uid"]: "" if self.uid is None else str(int(self.uid))}

    @classmethod
    def from_env(cls, environ=None):
        """Read (and remove) the spec from ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        split = lambda v: [x for x in v.split(os.pathsep) if x]  # noqa: E731
        return cls(hide=split(env.pop(_ENV["hide"], "")), keep=split(env.pop(_ENV["keep"], "")),
                   filesystem=env.pop(_ENV["filesystem"], "0") == "1",
                   cell_log=env.pop(_ENV["cell_log"], ""), access_log=env.pop(_ENV["access_log"], ""),
                   uid=int(uid) if (uid := env.pop(_ENV["uid"], "")).isdigit() else None)


def installation() -> list[str]:
    """What a student's process reads but never writes: the Python installation, its
    packages (this interpreter's path) and regloss."""
    import regloss

    return [sys.prefix, sys.base_prefix, str(Path(regloss.__file__).resolve().parent),
            *[p for p in sys.path if p and Path(p).is_dir()]]


def enter(spec: SandboxSpec, extra_files=()):
    """In this process's (private) mount namespace, hide what ``spec`` says: every
    top-level folder but the system's, the Python installation, its packages and
    regloss, and ``spec.keep``; then ``spec.hide`` and the files ``extra_files``.
    Does nothing when ``spec.filesystem`` is False. Keeps the working directory."""
    if not spec.filesystem:
        return
    cwd = os.getcwd()
    keep = [*spec.keep, *installation()]
    hide_paths([*spec.hide, *outside_system_dirs()], keep)
    os.chdir(cwd)  # re-resolve the working directory through the new mounts
    libc = _libc()
    for f in extra_files:
        if Path(f).is_file():
            _mount(libc, "/dev/null", f, None, _MS_BIND)


def _probe_fs():
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="regloss-probe-"))
    try:
        secret = base / "secret"
        secret.mkdir()
        (secret / "x").write_text("x")
        keep = secret / "keep"
        keep.mkdir()
        (keep / "y").write_text("y")
        hide_paths([secret], [keep])
        ok = not (secret / "x").exists() and (keep / "y").exists()
        print("hidden" if ok else "not hidden")
        if ok:  # and what holds around student code here: each wall, tried
            from regloss.grading.sandboxed import walls

            os.chmod(base, 0o755)
            for line in walls.probe_walls(installation(), keep):
                print("wall: " + line)
        return 0 if ok else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str]) -> None:
    """The probes :func:`probe` runs in a new process: ``--probe-net`` (only loopback is
    reachable) and ``--probe-fs`` (folders are hidden)."""
    if argv[:1] == ["--probe-net"]:
        bring_up_loopback()
        import socket

        try:
            socket.create_connection(("1.1.1.1", 53), timeout=2).close()
            print("network reachable")
            raise SystemExit(1)
        except OSError:
            pass
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        socket.create_connection(s.getsockname(), timeout=2).close()
        print("loopback-up")
    elif argv[:1] == ["--probe-fs"]:
        raise SystemExit(_probe_fs())


if __name__ == "__main__":
    main(sys.argv[1:])
