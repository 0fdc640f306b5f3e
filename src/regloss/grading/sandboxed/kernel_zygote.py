"""Warm sandbox kernels: a zygote process, with the kernel's imports done, forks each student's kernel.

A student's sandbox kernel (:func:`regloss.grading.sandboxed.kernel.main`) used to
be a new Python process that imported ipykernel, and then, in the student's
first cells, numpy, torch, matplotlib and ``regloss.checks``: most of the time a
short notebook takes. The warm nbgrader process (:mod:`regloss.grading.worker.warm`)
starts one :class:`Zygote` (forked before nbgrader's ZeroMQ and asyncio exist)
that imports all of that once and then, per kernel, forks a child that

1. puts itself in a process group of its own;
2. where the kernelspec asked for the mount and PID namespaces (``unshare
   --mount --pid --fork --mount-proc``), enters new ones itself
   (``unshare(CLONE_NEWNS | CLONE_NEWPID)``, ``/`` made private), forks the
   kernel as PID 1 of the new namespace, which mounts its own ``/proc``, and
   waits for it;
3. runs :func:`main` with the student's environment, working folder
   and arguments: the same sandbox (hidden folders, memory cap, output cap,
   guarded exits) as a kernel started from the command line.

The student's kernel is a fresh process whose memory is a copy of the
zygote's: what a student changes (modules, globals, monkeypatches, the
environment) dies with it and never reaches the zygote or the next student.
:func:`install` makes jupyter_client launch the ``regloss-sandbox`` kernel
through the zygote (falling back to an ordinary process where it cannot).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading

from regloss.grading.processes import Forked, close_inherited
from regloss.grading.programs import Program
from regloss.grading.sandboxed import answer_zygote
from regloss.grading.sandboxed.forkserver import child, fork_zygotes, one_per_copy, run_main


class KernelZygote:
    """Fork the zygote now (call before ZeroMQ or asyncio exist in this process).

    :meth:`many` forks ``n`` of them that share one preload: one process imports,
    then forks the others, each serving its own socket."""

    def __init__(self, _sock=None, _pid=None):
        if _sock is None:
            _sock, _pid = fork_zygotes(1, socket.SOCK_STREAM, _serve)[0]
        self.pid = _pid  # the first's until the zygote says which process it is (ready)
        self.sock = _sock
        self.file = _sock.makefile("rwb", buffering=0)
        self.lock = threading.Lock()
        self.ready = False

    @classmethod
    def many(cls, n):
        """``n`` kernel zygotes, the imports paid once (see the class docstring)."""
        return [cls(sock, pid) for sock, pid in fork_zygotes(n, socket.SOCK_STREAM, _serve)]

    def wait_ready(self):
        """Wait for the zygote's imports; afterwards :attr:`pid` is its own process."""
        with self.lock:
            self._wait_ready()

    def _wait_ready(self):
        if not self.ready:
            line = self.file.readline()
            info = json.loads(line) if line else {}
            if not info.get("ready"):
                raise RuntimeError("the kernel zygote did not start")
            self.pid = int(info.get("pid", self.pid))
            self.ready = True

    def spawn(self, args, env, cwd, namespaces):
        """Fork a sandbox kernel; returns a :class:`Forked`."""
        with self.lock:
            self._wait_ready()
            self.file.write((json.dumps({"args": args, "env": env, "cwd": cwd, "ns": namespaces}) + "\n").encode())
            line = self.file.readline()
        if not line:
            raise RuntimeError("the kernel zygote is gone")
        answer = json.loads(line)
        if "pid" not in answer:
            raise RuntimeError(answer.get("error", "the kernel zygote failed"))
        return Forked(answer["pid"])


#: What a sandbox kernel's start (``IPKernelApp.initialize``) imports beyond
#: ``ipykernel.kernelapp``: the kernel class and its debugger support (debugpy and
#: pydevd, about 110 modules), IPython's debugger, completer and inspector, the
#: history's sqlite3, psutil, tornado's queues. Imported once in the zygote instead of
#: in every student's kernel (0.1 CPU-seconds each).
KERNEL_START_IMPORTS = ("ipykernel.ipkernel", "ipykernel.debugger", "IPython.core.debugger",
                        "IPython.core.completerlib", "IPython.core.oinspect", "IPython.extensions.storemagic",
                        "sqlite3", "psutil", "tornado.gen", "tornado.locks", "tornado.queues",
                        "tornado.platform.asyncio", "faulthandler", "encodings.idna", "http.server", "xmlrpc.server")


def preload_kernel():
    """The kernel zygote's imports: what the notebooks' cells use (numpy, SciPy, torch,
    pyplot with its font list, ``regloss.checks``) and what a kernel's start imports
    (:data:`KERNEL_START_IMPORTS`); nothing that starts a thread or opens a socket."""
    import importlib

    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # as in the kernels' environment: pydevd's warning
    import numpy  # noqa: F401
    import scipy.optimize  # noqa: F401 - the notebooks' prose cells compare with SciPy
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401
    from ipykernel.kernelapp import IPKernelApp  # noqa: F401

    for name in KERNEL_START_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional part of ipykernel (the debugger without debugpy): the kernel goes without
            pass

    import regloss.checks  # noqa: F401
    from regloss.grading.sandboxed import kernel

    kernel.preload_matplotlib()


def _serve(socks):
    """The zygote: import what kernels need, then fork one per request."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        close_inherited(keep=[s.fileno() for s in socks])
        answer_zygote.use_answer_zygote(None)  # a closed socket's object: nothing a kernel should find
        preload_kernel()

        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the zygote's children are reaped at once
        sock = one_per_copy(socks)
        f = sock.makefile("rwb", buffering=0)
        f.write((json.dumps({"ready": True, "pid": os.getpid()}) + "\n").encode())
        for line in f:
            req = json.loads(line)
            try:
                pid = os.fork()
            except OSError as exc:
                f.write((json.dumps({"error": str(exc)}) + "\n").encode())
                continue
            if pid == 0:
                f.close()
                sock.close()
                child(req, _kernel)  # never returns
            try:
                os.setpgid(pid, pid)
            except OSError:
                pass
            f.write((json.dumps({"pid": pid}) + "\n").encode())
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _kernel(req):
    def load():
        from regloss.grading.sandboxed.kernel import main

        return main

    run_main(req, Program.KERNEL.value, list(req["args"]), load)


def install(zygote: KernelZygote) -> None:
    """Make jupyter_client launch the sandbox kernel through ``zygote``."""
    from jupyter_client.provisioning import local_provisioner

    original = local_provisioner.launch_kernel

    def launch_kernel(cmd, **kwargs):
        if Program.KERNEL.value in cmd and "--map-root-user" not in cmd:
            i = cmd.index(Program.KERNEL.value)
            namespaces = os.path.basename(cmd[0]) == "unshare"
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                return zygote.spawn(cmd[i + 1:], env, cwd, namespaces)
            except Exception as exc:  # noqa: BLE001 - an ordinary process then
                print(f"regloss: kernel zygote unavailable ({exc}); starting the kernel as a new process",
                      file=sys.stderr)
        return original(cmd, **kwargs)

    local_provisioner.launch_kernel = launch_kernel  # type: ignore[assignment]
