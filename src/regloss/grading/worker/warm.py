"""A warm nbgrader process: nbgrader imported once, many students autograded and judged.

Starting Python and importing nbgrader (traitlets, nbconvert, SQLAlchemy,
jupyter_client, ...) costs more than running a student's cells. Instead of one
``python -m regloss.grading.worker.autograde`` process per student, a worker thread
keeps one :class:`WarmAutograder`: a long-lived ``python -m
regloss.grading.worker.warm`` (without network where the machine allows it, like the
per-student process it replaces) that has imported nbgrader and the feedback
renderer once and then serves :class:`~regloss.grading.worker.autograde.AutogradeRequest`
files one after another through :func:`regloss.grading.worker.autograde.main`.

It also runs each student's judge (:mod:`regloss.grading.judge.judging`, the
instructor's test cells against proxies) in a child it forks for that student,
with numpy, torch and ``regloss.checks`` already imported: the judge process is
new for every student, as before, but does not pay for Python and those imports.

Nothing of a student runs in this process: student code runs only in the
sandbox kernel nbgrader starts for that student (a fresh process in its own
namespaces, see :mod:`regloss.grading.sandboxed.kernel`) and in the judge's answer
process (started fresh by the judge, in its own sandbox), and the judge itself
is a forked child that exits after the student. Per request the server takes the student's environment, working
folder and log file (its standard output and error point at that student's
log); a request that exceeds its wall-clock limit gets the whole server killed
and a new one started for the next student.

The local workers' servers come from one template (:func:`start_copies`): a
``python -m regloss.grading.worker.warm --copies ...`` process that does the imports
once, forks each worker's zygotes at the right points, then forks one server per
worker over pipes the parent passed it, and waits. Each server is alone with its
pipes and zygotes, so stopping one (:meth:`WarmAutograder.close` kills it, its
children and its zygotes' trees) leaves the others running; one that must be
started again (after a student exceeded the wall-clock limit) starts on its own.

Protocol (one JSON object a line): the parent writes
``{"kind": "autograde" | "judge", "request": PATH, "env": {...}, "cwd": PATH, "log": PATH}`` on the server's
standard input; the server answers ``{"done": true}`` on its original standard
output (``{"ready": true}`` once after start-up).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

from regloss.grading.processes import Forked
from regloss.grading.programs import Program


class WarmAutograder:
    """The worker's side of one warm nbgrader process (started on first use).

    Parameters
    ----------
    iso : Isolation
        The machine's isolation: the server runs under :meth:`Isolation.net_prefix`.
    """

    def __init__(self, iso):
        self.iso = iso
        self.proc = None
        self.served = 0

    def start(self, env, procs=None, key=None):
        """Start the server (and wait until it is ready)."""
        cmd = [*self.iso.net_prefix(), *Program.WARM.argv(),
               "--netns" if self.iso.network else "--no-netns"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd=tempfile.gettempdir(), start_new_session=True, bufsize=0)
        if procs is not None:
            procs.add(key, self.proc)
        line = self._readline(300)
        if not line or not json.loads(line).get("ready"):
            self.close()
            raise RuntimeError("the warm nbgrader process did not start")

    def adopt(self, requests_fd, answers_fd, seconds=300):
        """Take a server a template forked (:func:`start_copies`) over the two pipe ends
        given; wait until it is ready. Returns False (nothing kept) if it never is."""
        self.proc = _Copy(os.fdopen(requests_fd, "wb", buffering=0), os.fdopen(answers_fd, "rb", buffering=0))
        line = self._readline(seconds)
        try:
            info = json.loads(line) if line else {}
        except ValueError:
            info = {}
        if not info.get("ready") or not isinstance(info.get("pid"), int):
            self.proc.close_pipes()
            self.proc = None
            return False
        self.proc.pid, self.proc.helpers = info["pid"], [int(h) for h in info.get("helpers", [])]
        return True

    def _readline(self, seconds):
        """One line of the server's answer, or None after ``seconds`` or at its exit."""
        deadline = time.monotonic() + seconds
        buf = b""
        fd = self.proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            buf += chunk
            if b"\n" in buf:
                return buf.split(b"\n", 1)[0].decode()

    def run(self, request, env, cwd, log, wall, procs=None, key=None, kind="autograde"):
        """Autograde (or, with ``kind="judge"``, judge) one request in the warm process.

        Returns
        -------
        bool
            True when the server answered within ``wall`` seconds (the report, if
            any, is in the request's ``report`` file); False when it was killed.
        """
        if procs is not None and procs.stopping:
            raise KeyboardInterrupt
        if self.proc is None or self.proc.poll() is not None:
            self.start(env, procs, key)
        elif procs is not None:
            procs.add(key, self.proc)
        msg = json.dumps({"kind": kind, "request": str(request), "env": env, "cwd": str(cwd),
                          "log": str(log)}) + "\n"
        try:
            self.proc.stdin.write(msg.encode())
            self.proc.stdin.flush()
            answer = self._readline(wall)
        except OSError:
            answer = None
        finally:
            if procs is not None:
                procs.remove(key)
        if procs is not None and procs.stopping:
            raise KeyboardInterrupt
        if answer is None:  # too slow, or the server died: start afresh for the next student
            timed_out = self.proc.poll() is None
            self.close()
            return not timed_out
        self.served += 1
        return True

    def close(self):
        """Stop the server (and anything it started, and the zygotes only it used)."""
        if self.proc is not None:
            from regloss.grading.processes import kill_tree

            for pid in [self.proc.pid, *getattr(self.proc, "helpers", [])]:
                if pid:
                    kill_tree(pid, wait=False)  # all killed; only the server is ours to reap
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self.proc = None


class _Copy(Forked):
    """A ``subprocess.Popen`` look-alike for a server a template forked (the template's
    child, not ours: it is reaped there). ``helpers`` are the zygotes that only it used."""

    def __init__(self, stdin, stdout):
        super().__init__(None)
        self.stdin, self.stdout, self.helpers = stdin, stdout, []

    def poll(self):
        return None if self.pid is None else super().poll()

    def close_pipes(self):
        for f in (self.stdin, self.stdout):
            try:
                f.close()
            except OSError:
                pass


def start_copies(iso, servers, env, seconds=300):
    """Start one template process that does the warm imports once and forks a server
    for each of ``servers`` (unstarted :class:`WarmAutograder`), each with its own
    pipes and zygotes; wait until they are ready. Returns the template (a ``Popen``:
    killing it, with all it started, stops them all). A server whose copy never
    comes up stays unstarted and starts on its own at first use.

    Two workers thus pay for Python, torch, SciPy and nbgrader once, not twice."""
    pairs, ours = [], []
    for _ in servers:
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        pairs.append((req_r, ans_w))
        ours.append((req_w, ans_r))
    cmd = [*iso.net_prefix(), *Program.WARM.argv(),
           "--netns" if iso.network else "--no-netns", "--copies", ",".join(f"{r}:{w}" for r, w in pairs)]
    try:
        template = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir(),
                                    start_new_session=True, pass_fds=[fd for p in pairs for fd in p])
    except BaseException:
        for fd in [*(fd for p in pairs for fd in p), *(fd for p in ours for fd in p)]:
            os.close(fd)
        raise
    for r, w in pairs:
        os.close(r)
        os.close(w)
    for server, (req_w, ans_r) in zip(servers, ours):
        server.adopt(req_w, ans_r, seconds)
    return template


def _enter(msg):
    """Take one request's environment, working folder and log file."""
    os.environ.clear()
    os.environ.update(msg["env"])
    tempfile.tempdir = None  # re-read TMPDIR
    os.chdir(msg["cwd"])
    fd = os.open(msg["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def serve(netns: bool, copies=()):
    """The server's loop (see the module docstring).

    With ``copies`` (pairs of file descriptors: requests in, answers out), this
    process is a template: it does the imports once, then forks one server per
    pair, each with zygotes of its own, and only waits (see :func:`start_copies`)."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    if netns:
        from regloss.grading.sandboxed.isolation import bring_up_loopback

        bring_up_loopback()
    from regloss.startup import skip_slow_optional_imports

    skip_slow_optional_imports()
    n = max(1, len(copies))
    # Imports shared with the zygotes come first, so each is paid once: the answer
    # zygotes are forked before anything a policy blocks (torch, SciPy) is imported,
    # the kernel zygotes after them but before ZeroMQ and asyncio exist here.
    import numpy  # noqa: F401
    from IPython.core.inputtransformer2 import TransformerManager  # noqa: F401

    kernels, answers = [None] * n, [None] * n
    use_zygotes = os.environ.get("REGLOSS_NO_ZYGOTE") != "1"
    if use_zygotes:
        from regloss.grading.processes import become_subreaper
        from regloss.grading.sandboxed.answer_zygote import AnswerZygote
        from regloss.grading.sandboxed.kernel_zygote import KernelZygote

        if copies:  # the zygotes' copies, orphaned on purpose, stay in this process's tree
            become_subreaper()
        try:  # one preload for every copy's answer zygote
            answers = AnswerZygote.many(n)
        except OSError:
            answers = [None] * n
    import matplotlib
    import scipy.optimize  # noqa: F401
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401

    if use_zygotes:
        kernels = KernelZygote.many(n)  # one preload for every copy's kernel zygote
    # the imports each per-student process used to pay for
    import nbgrader.apps  # noqa: F401
    import nbgrader.converters  # noqa: F401
    from nbconvert.exporters import HTMLExporter  # noqa: F401

    from regloss.grading.judge import judging  # noqa: F401
    from regloss.grading.worker import autograde, feedback, feedback_exporter, inert  # noqa: F401

    # what the judge and the instructor's cells it runs import, once (the forked judge inherits them)
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    import regloss.checks  # noqa: F401
    import regloss.teaching  # noqa: F401
    from regloss import course

    os.environ["PATH"] = course.tool_env()["PATH"]
    for i, a in enumerate(answers):
        if a is not None:
            try:  # here, not in each forked judge: readiness is read once
                a.wait_ready()
            except (OSError, RuntimeError, ValueError):
                a.close()
                answers[i] = None
    if copies:  # each copy's kernel zygote is its own process once ready (its pid is a helper of its server)
        for i, k in enumerate(kernels):
            if k is not None:
                try:
                    k.wait_ready()
                except (OSError, RuntimeError, ValueError):
                    _forget(k, None)
                    kernels[i] = None
    if not copies:
        _serve_one(proto, sys.stdin, devnull, kernels[0], answers[0], {"ready": True})
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the template reaps its servers at once
    for i, (rfd, wfd) in enumerate(copies):
        pid = os.fork()
        if pid == 0:  # one server: its own pipes to the parent and its own zygotes
            code = 1
            try:  # never back into the template's loop
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # it waits for its judges
                for j, (r, w) in enumerate(copies[i + 1:], i + 1):  # the earlier ones are closed already
                    os.close(r)
                    os.close(w)
                    _forget(kernels[j], answers[j])
                proto.close()
                os.dup2(rfd, 0)
                os.close(rfd)
                helpers = [z.pid for z in (kernels[i], answers[i]) if z is not None]  # type: ignore[attr-defined]
                _serve_one(os.fdopen(wfd, "w", buffering=1), os.fdopen(0, "r"), devnull, kernels[i], answers[i],
                           {"ready": True, "pid": os.getpid(), "helpers": helpers})
                code = 0
            finally:
                os._exit(code)
        os.close(rfd)
        os.close(wfd)
        _forget(kernels[i], answers[i])  # the server's alone: when it dies, they see the end of their socket
    proto.write(json.dumps({"ready": True, "copies": len(copies)}) + "\n")
    for _ in sys.stdin:  # until the parent closes the pipe (or kills the template and all it started)
        pass


def _forget(kernels, answers):
    """Close this process's end of a server's zygote sockets (the zygotes live on for that server)."""
    for z in (kernels, answers):
        if z is not None:
            for f in (getattr(z, "file", None), z.sock):
                if f is not None:
                    try:
                        f.close()
                    except OSError:
                        pass


def _serve_one(proto, requests, devnull, kernels, answers, ready):
    """One server's loop: requests from ``requests``, answers to ``proto``."""
    from regloss.grading.judge import judging as judge
    from regloss.grading.sandboxed import answer_zygote, kernel_zygote
    from regloss.grading.worker import autograde

    if kernels is not None:
        kernel_zygote.install(kernels)
    answer_zygote.use_answer_zygote(answers)
    proto.write(json.dumps(ready) + "\n")
    for line in requests:
        if not line.strip():
            continue
        msg = json.loads(line)
        if msg.get("kind") == "judge":
            pid = os.fork()
            if pid == 0:  # the judge: a child of its own, for this student only
                code = 1
                try:
                    proto.close()
                    os.dup2(devnull, 0)  # the request stream is not the judge's (nor its answer process's)
                    _enter(msg)
                    judge.main([msg["request"]])
                    code = 0
                except BaseException:  # noqa: BLE001 - reported in the student's log
                    import traceback

                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            os.waitpid(pid, 0)
            proto.write(json.dumps({"done": True}) + "\n")
            continue
        env_before = dict(os.environ)
        _enter(msg)
        try:
            autograde.main([msg["request"]])
        except Exception:  # noqa: BLE001 - reported in the student's log; the report is missing
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.environ.clear()
            os.environ.update(env_before)
            os.chdir("/")
        proto.write(json.dumps({"done": True}) + "\n")


def _parse_copies(args):
    """``--copies R:W,R:W,...`` of the command line: the descriptor pairs of :func:`serve`."""
    for i, a in enumerate(args):
        if a == "--copies" and i + 1 < len(args):
            return [tuple(int(x) for x in pair.split(":")) for pair in args[i + 1].split(",") if pair]
    return []


def main(argv: list[str]) -> None:
    """``python -m regloss.grading.worker.warm [--netns|--no-netns] [--copies R:W,...]``: :func:`serve`."""
    serve(argv[:1] == ["--netns"], _parse_copies(argv[1:]))


if __name__ == "__main__":
    main(sys.argv[1:])
