"""Where student code runs: private working copies, the sandboxed kernel, resource limits.

Every student is graded in a private course of their own (a *workspace*): a copy
of the nbgrader configuration, the assignment's support files (never its
notebook), that one student's submission, and a private copy of the template
gradebook. Student code runs in a Jupyter kernel started through
:func:`kernel_main` (the ``regloss-sandbox`` kernel), which

* caps the kernel's address space (``resource.setrlimit(RLIMIT_AS)``);
* caps the characters a cell may print and the displays it may emit;
* turns ``os._exit`` / ``os.abort`` during a cell into an ordinary error;
* where Linux namespaces are available (``unshare``): runs in its own mount
  and PID namespaces, in which every top-level folder but the system's
  (:data:`SYSTEM_DIRS`) is hidden under an empty ``tmpfs`` — home folders,
  ``/tmp``, ``/work``, ``/opt``, any other copy of the course — except the
  Python installation, its packages, ``regloss`` itself and the student's own
  working copy; inside that copy the submissions, feedback and its own
  (sanitised, hidden-test holding) notebook file are hidden too; and a private
  ``/proc``. The whole grading process of a student runs in a network
  namespace holding only a loopback interface: no network.

:func:`probe` reports what the operating system allows; grading proceeds
without the namespaces (and says so) where it does not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

KERNEL_NAME = "regloss-sandbox"
DEFAULT_MEMORY_MB = 2048
DEFAULT_MAX_OUTPUT = 100_000  # characters per cell
DEFAULT_MAX_DISPLAYS = 50  # rich displays (figures, ...) per cell

_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_BIND = 4096


@dataclass
class Isolation:
    """What the operating system lets us do, found by :func:`probe`."""

    network: bool = False  # the grading process has no network
    filesystem: bool = False  # sources and gradebooks hidden from the kernel
    reasons: list = field(default_factory=list)

    def net_prefix(self):
        """The command prefix that runs a process without network."""
        if not self.network:
            return []
        return ["unshare", "--net", *([] if os.geteuid() == 0 else ["--map-root-user"]), "--"]

    def describe(self):
        parts = []
        parts.append("no network" if self.network else "NETWORK AVAILABLE to student code")
        parts.append(
            "sources, gradebooks and other students' files hidden"
            if self.filesystem
            else "files NOT hidden (student code can read what this user can read)"
        )
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
    p = _run_quiet([*net, sys.executable, "-m", "regloss.grading.isolate", "--probe-net"])
    iso.network = p.returncode == 0 and "loopback-up" in p.stdout
    if not iso.network:
        iso.reasons.append("network namespaces not permitted: " + (p.stderr.strip().splitlines() or ["?"])[-1])
    prefix = iso.net_prefix()
    p = _run_quiet([*prefix, *_fs_prefix(), sys.executable, "-m", "regloss.grading.isolate", "--probe-fs"])
    iso.filesystem = p.returncode == 0 and "hidden" in p.stdout
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


# --------------------------------------------------------------------------- workspaces


def write_kernelspec(share_dir: Path, isolation: Isolation, memory_mb: int, max_output: int):
    """Write the ``regloss-sandbox`` kernelspec under ``share_dir/kernels`` (put
    ``share_dir`` on ``JUPYTER_PATH``)."""
    d = Path(share_dir) / "kernels" / KERNEL_NAME
    d.mkdir(parents=True, exist_ok=True)
    argv = [
        *(_fs_prefix() if isolation.filesystem else []),
        sys.executable, "-m", "regloss.grading.isolate", "--kernel",
        "--memory-mb", str(memory_mb), "--max-output", str(max_output),
        "--", "-f", "{connection_file}",
    ]
    spec = {"argv": argv, "display_name": "Python 3 (regloss sandbox)", "language": "python",
            "env": {"REGLOSS_FS_SANDBOX": "1" if isolation.filesystem else "0"}}
    (d / "kernel.json").write_text(json.dumps(spec, indent=1))
    return d


# --------------------------------------------------------------------------- the kernel


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
                        _mount(libc, f"/proc/self/fd/{fd}", k, None, _MS_BIND)
            elif p.is_file():
                _mount(libc, "/dev/null", p, None, _MS_BIND)
    finally:
        for fd in kept.values():
            os.close(fd)


def _cap_output(shell, stdout, stderr, max_chars, max_displays):
    """Limit what one cell can print (characters) and display (rich outputs)."""
    state = {"left": max_chars, "displays": 0, "noted": False}

    def reset(*_a, **_k):
        state.update(left=max_chars, displays=0, noted=False)

    shell.events.register("pre_run_cell", reset)

    def wrap(stream):
        orig = stream.write

        def write(s):
            if not isinstance(s, str):
                return orig(s)
            n = len(s)
            if state["left"] <= 0:
                return n
            if n > state["left"]:
                cut = s[: state["left"]]
                state["left"] = 0
                orig(cut + f"\n[regloss: output truncated after {max_chars} characters]\n")
                return n
            state["left"] -= n
            return orig(s)

        stream.write = write

    wrap(stdout)
    wrap(stderr)
    pub = shell.display_pub
    orig_publish = pub.publish

    def publish(*args, **kwargs):
        state["displays"] += 1
        if state["displays"] > max_displays:
            return None
        return orig_publish(*args, **kwargs)

    pub.publish = publish


def _guard_exits(shell, cell_log=None):
    """During a cell, ``os._exit`` / ``os.abort`` raise instead of killing the kernel."""
    running = {"cell": False}
    real_exit, real_abort = os._exit, os.abort

    class KernelExitBlocked(SystemExit):
        pass

    def _exit(code=0):
        if running["cell"]:
            raise RuntimeError(f"os._exit({code}) was called; the grader does not let a notebook stop the kernel")
        real_exit(code)

    def _abort():
        if running["cell"]:
            raise RuntimeError("os.abort() was called; the grader does not let a notebook stop the kernel")
        real_abort()

    os._exit, os.abort = _exit, _abort
    shell.events.register("pre_run_cell", lambda *a, **k: running.update(cell=True))
    if cell_log:  # which cell is running, for the grader to skip it if the kernel dies

        def log_cell(info):
            try:
                with open(cell_log, "w") as f:
                    f.write(info.raw_cell or "")
            except OSError:
                pass

        shell.events.register("pre_run_cell", log_cell)
    shell.events.register("post_run_cell", lambda *a, **k: running.update(cell=False))


#: File (in the kernel's runtime folder) where the kernel lists paths a cell looked at outside its folder.
ACCESS_LOG = "outside_access.txt"

#: Audit events that reveal where a cell looks on disk.
WATCHED_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "os.chdir"})


def _watch_access(shell, log_path, allowed):
    """Record, during cells, file opens and listings outside ``allowed`` folders.

    A :func:`sys.addaudithook` sees every ``open``, ``os.listdir``, ``os.scandir``,
    ``glob.glob`` and ``os.chdir``; the paths outside the working copy, the Python
    installation and the system folders are written to ``log_path`` after each
    cell, so the grader can say that the notebook went looking for files.
    """
    # folders end in a separator; a prefix given with a trailing "." (``~/.``) is taken as is
    allowed = tuple(a if a.endswith(os.sep + ".") else os.path.join(os.path.abspath(a), "")
                    for a in allowed if a)
    state = {"cell": False, "busy": False, "seen": []}

    def hook(event, args):
        if not state["cell"] or state["busy"] or event not in WATCHED_EVENTS or not args:
            return
        path = args[0]
        if isinstance(path, int) or path is None:
            return
        state["busy"] = True
        try:
            p = os.path.join(os.path.abspath(os.fsdecode(path)), "")
            if not p.startswith(allowed) and len(state["seen"]) < 20 and p[:-1] not in state["seen"]:
                state["seen"].append(p[:-1] or "/")
        except Exception:  # noqa: BLE001 - a hook must never break the cell
            pass
        finally:
            state["busy"] = False

    def flush(*_a, **_k):
        state["cell"] = False
        if state["seen"]:
            state["busy"] = True
            try:
                with open(log_path, "a") as f:
                    f.write("\n".join(state["seen"]) + "\n")
            except OSError:
                pass
            finally:
                state["busy"] = False
                state["seen"] = []

    shell.events.register("pre_run_cell", lambda *a, **k: state.update(cell=True))
    shell.events.register("post_run_cell", flush)
    sys.addaudithook(hook)


def kernel_main(argv):
    """Entry point of the ``regloss-sandbox`` kernel (see the module docstring)."""
    import argparse
    import resource

    p = argparse.ArgumentParser()
    p.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB)
    p.add_argument("--max-output", type=int, default=DEFAULT_MAX_OUTPUT)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    rest = a.rest[1:] if a.rest[:1] == ["--"] else a.rest

    hide = [h for h in os.environ.pop("REGLOSS_HIDE", "").split(os.pathsep) if h]
    cell_log = os.environ.pop("REGLOSS_CELL_LOG", "")
    access_log = os.environ.pop("REGLOSS_ACCESS_LOG", "")
    keep = [k for k in os.environ.pop("REGLOSS_KEEP", "").split(os.pathsep) if k]
    if os.environ.pop("REGLOSS_FS_SANDBOX", "0") == "1" and keep:
        cwd = os.getcwd()
        # the interpreter, its packages and regloss stay visible wherever they live;
        # every other top-level folder (home folders, other checkouts of the course,
        # /work, /opt, /srv, /mnt, ...) is hidden, not just the ones this run knows of
        import regloss

        keep += [sys.prefix, sys.base_prefix, str(Path(regloss.__file__).resolve().parent),
                 *[p for p in sys.path if p and Path(p).is_dir()]]
        hide_paths(hide + outside_system_dirs(), keep)
        os.chdir(cwd)  # re-resolve the working directory through the new mounts
        libc = _libc()
        for nb in Path(cwd).glob("*.ipynb"):  # the sanitised notebook holds the hidden tests
            _mount(libc, "/dev/null", nb, None, _MS_BIND)
    # silence the kernel's own stdout/stderr (a flood at file-descriptor level
    # must not fill the grader's logs); cell output still reaches the notebook
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    if a.memory_mb > 0:
        limit = a.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(rest)
    _cap_output(app.shell, sys.stdout, sys.stderr, a.max_output, DEFAULT_MAX_DISPLAYS)
    _guard_exits(app.shell, cell_log)
    if access_log:
        import regloss

        home = os.path.expanduser("~")
        allowed = [os.getcwd(), os.path.dirname(access_log), sys.prefix, sys.base_prefix,
                   os.path.dirname(os.path.abspath(regloss.__file__)),
                   *[p for p in sys.path if p and os.path.isdir(p)],
                   *[f"/{d}" for d in SYSTEM_DIRS],
                   # the home folder's hidden folders: caches, settings and fonts that numpy,
                   # matplotlib and IPython read on their own
                   os.path.join(home, ".")]
        _watch_access(app.shell, access_log, allowed)
    app.start()


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
        return 0 if ok else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--kernel"]:
        kernel_main(sys.argv[2:])
    elif sys.argv[1:2] == ["--probe-net"]:
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
    elif sys.argv[1:2] == ["--probe-fs"]:
        raise SystemExit(_probe_fs())
