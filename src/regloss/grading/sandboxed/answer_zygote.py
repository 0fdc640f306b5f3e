"""The answer zygote: forks the judge's answer processes with numpy and matplotlib imported.

The answer side of the judge (:mod:`regloss.grading.sandboxed.answer`) runs the student's
code where torch, SciPy, scikit-learn and ``regloss.checks`` cannot be imported
(:mod:`regloss.grading.sandboxed.policy`). Its zygote must therefore never hold one of
them: this module imports none of them, what it preloads is checked against the policy
before the first fork, and ``tests/grading/sandboxed/test_import_graph.py`` checks the
import graph of every module on this side.
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
from regloss.grading.sandboxed.forkserver import child, fork_zygotes, one_per_copy, run_main

#: What the answer zygote imports before forking: what the student's cells and the
#: answer process need, never a module an answer policy may block (checked).
ANSWER_PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "IPython.core.inputtransformer2",
                  Program.ANSWER.value, "regloss.grading.sandboxed.isolation", "regloss.teaching")

_ANSWER = None  # this process's AnswerZygote (the warm process starts one; its forked judges use it)


class AnswerZygote:
    """A zygote for the judge's answer processes (:mod:`regloss.grading.sandboxed.answer`).

    Forked (call before ZeroMQ, asyncio or torch exist in this process), it imports
    :data:`ANSWER_PRELOAD` with the Agg backend -- and checks that nothing of
    :data:`regloss.grading.sandboxed.policy.BLOCKED` came with them -- then forks one answer
    process per :meth:`spawn`: in its own process group, in new mount and PID
    namespaces when asked, running :func:`regloss.grading.sandboxed.answer.main` on the two pipe
    ends it was sent (``SCM_RIGHTS`` over a ``SOCK_SEQPACKET`` pair). What a student
    changes dies with their answer process.
    """

    def __init__(self, _sock=None, _pid=None):
        if _sock is None:
            _sock, _pid = fork_zygotes(1, socket.SOCK_SEQPACKET, _serve_answers)[0]
        self.pid, self.sock = _pid, _sock  # pid: the first's until the zygote says which process it is
        self.lock = threading.Lock()
        self.ready = False

    @classmethod
    def many(cls, n):
        """``n`` answer zygotes that share one preload
        (see :meth:`regloss.grading.sandboxed.kernel_zygote.KernelZygote.many`)."""
        return [cls(sock, pid) for sock, pid in fork_zygotes(n, socket.SOCK_SEQPACKET, _serve_answers)]

    def wait_ready(self):
        """Wait for the zygote's imports (call it in the process that started the zygote,
        before forking the processes that use it: the flag is per process)."""
        with self.lock:
            self._wait_ready()

    def _wait_ready(self):
        if not self.ready:
            info = json.loads(self.sock.recv(4096) or b"{}")
            if info.get("ready") is not True:
                raise RuntimeError("the answer zygote did not start")
            self.pid = int(info.get("pid", self.pid))
            self.ready = True

    def spawn(self, cfg, env, cwd, namespaces, fds):
        """Fork an answer process that talks over ``fds`` (read end, write end); returns a :class:`Forked`."""
        with self.lock:
            self._wait_ready()
            msg = json.dumps({"cfg": cfg, "env": env, "cwd": cwd, "ns": namespaces}).encode()
            socket.send_fds(self.sock, [msg], list(fds))
            line = self.sock.recv(4096)
        if not line:
            raise RuntimeError("the answer zygote is gone")
        answer = json.loads(line)
        if "pid" not in answer:
            raise RuntimeError(answer.get("error", "the answer zygote failed"))
        return Forked(answer["pid"])

    def close(self):
        try:
            self.sock.close()
        finally:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass


def start_answer_zygote():
    """Start this process's :class:`AnswerZygote` (see :func:`answer_zygote`)."""
    global _ANSWER
    _ANSWER = AnswerZygote()
    return _ANSWER


def use_answer_zygote(zygote):
    """Make ``zygote`` (or None) this process's answer zygote: a warm server forked from a
    template (:func:`regloss.grading.worker.warm.serve`) takes its own."""
    global _ANSWER
    _ANSWER = zygote


def stop_answer_zygote():
    """Stop this process's answer zygote (judges then start answer processes afresh)."""
    global _ANSWER
    if _ANSWER is not None:
        _ANSWER.close()
    _ANSWER = None


def answer_zygote():
    """The answer zygote this process (or the warm process it was forked from) started, or None."""
    return _ANSWER


def _serve_answers(socks):
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        close_inherited(keep=[s.fileno() for s in socks])
        use_answer_zygote(None)
        os.environ["MPLBACKEND"] = "Agg"
        import importlib

        for name in ANSWER_PRELOAD:
            importlib.import_module(name)
        from regloss.grading.sandboxed.policy import BLOCKED

        loaded = [m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in BLOCKED)]
        if loaded:  # never hand a student a process that holds a blocked module
            for sock in socks:
                sock.send(json.dumps({"ready": False, "error": f"preloaded {loaded[:3]}"}).encode())
            return
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        sock = one_per_copy(socks)
        sock.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
        while True:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 2)
            if not msg:
                break
            req = json.loads(msg)
            try:
                pid = os.fork()
            except OSError as exc:
                for fd in fds:
                    os.close(fd)
                sock.send(json.dumps({"error": str(exc)}).encode())
                continue
            if pid == 0:
                sock.close()
                req["fds"] = fds
                child(req, _answer)  # never returns
            for fd in fds:
                os.close(fd)
            try:
                os.setpgid(pid, pid)
            except OSError:
                pass
            sock.send(json.dumps({"pid": pid}).encode())
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _answer(req):
    def load():
        from regloss.grading.sandboxed import answer

        return answer.main

    rfd, wfd = req["fds"]
    run_main(req, Program.ANSWER.value, [str(rfd), str(wfd), req["cfg"]], load)
