"""The machinery the two zygotes share: fork a zygote that preloads once and serves
several warm servers, fork a child into new mount and PID namespaces, run a module's
``main`` in it as ``python -m`` would.

A zygote is a process that has done its imports and forks a fresh child per request
(:mod:`regloss.grading.sandboxed.kernel_zygote` for the students' kernels,
:mod:`regloss.grading.sandboxed.answer_zygote` for the judge's answer processes). This
module imports nothing of either side.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

from regloss.grading.processes import libc

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18


def _check(r: int, what: str) -> None:
    if r != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def fork_zygotes(n: int, kind: int, serve: Callable[[list[socket.socket]], Any]) -> list[tuple[socket.socket, int]]:
    """Fork one zygote process that will serve ``n`` sockets: ``serve(socks)`` preloads
    once and then forks a copy per socket but the first (:func:`one_per_copy`).
    Returns ``[(our end, pid of the first)]``."""
    pairs = [socket.socketpair(socket.AF_UNIX, kind) for _ in range(max(1, n))]
    pid = os.fork()
    if pid == 0:
        for here, _ in pairs:
            here.close()
        serve([there for _, there in pairs])  # never returns
    for _, there in pairs:
        there.close()
    return [(here, pid) for here, _ in pairs]


def one_per_copy(socks: list[socket.socket]) -> socket.socket:
    """In a zygote that has done its imports: fork a copy of this process for every
    socket but the first; each copy keeps only its socket. Returns the socket this
    process serves.

    A copy is forked twice (its first parent exits at once), so it is no child of
    this zygote: stopping one warm server, which kills its zygote and everything
    under it, leaves the other servers' zygotes alone. The orphan goes to the
    nearest subreaper (the warm template, see :func:`regloss.grading.processes.become_subreaper`)."""
    mine = socks[0]
    for s in socks[1:]:
        if os.fork() == 0:
            if os.fork() != 0:
                os._exit(0)
            for other in socks:
                if other is not s:
                    other.close()
            return s
        s.close()
    return mine


def child(req: dict, run: Callable[[dict], Any]) -> None:
    """The forked child: its own process group, new mount and PID namespaces when asked
    (``run(req)`` then runs as PID 1 of the new namespace), then ``run(req)``."""
    code = 1
    try:
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        if req["ns"]:
            lib = libc()
            _check(lib.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare")
            _check(lib.mount(b"none", b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "mount --make-rprivate /")
            g = os.fork()
            if g == 0:  # PID 1 of the new namespace: the kernel (or answer process)
                _check(lib.mount(b"proc", b"/proc", b"proc", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC), None),
                       "mount /proc")
                run(req)
            # the process group's signals reach the kernel directly; this one only waits
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                try:
                    _, status = os.waitpid(g, 0)
                    break
                except InterruptedError:
                    continue
            code = os.waitstatus_to_exitcode(status) & 0xFF
        else:
            run(req)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def run_main(req: dict, module: str, argv: list[str], load_main: Callable[[], Callable[[list[str]], Any]]) -> None:
    """In a forked child: take the request's environment and folder, then run
    ``load_main()(argv)`` as ``python -m module`` would; exit with its status."""
    code = 1
    try:
        from regloss.startup import restore_optional_imports

        restore_optional_imports()
        os.environ.clear()
        os.environ.update(req["env"])
        os.chdir(req["cwd"])
        main = load_main()
        sys.argv = [sys.executable, "-m", module, *argv]
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)
