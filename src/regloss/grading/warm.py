"""A warm nbgrader process: nbgrader imported once, many students autograded and judged.

Starting Python and importing nbgrader (traitlets, nbconvert, SQLAlchemy,
jupyter_client, ...) costs more than running a student's cells. Instead of one
``python -m regloss.grading.autograde`` process per student, a worker thread
keeps one :class:`WarmAutograder`: a long-lived ``python -m
regloss.grading.warm`` (without network where the machine allows it, like the
per-student process it replaces) that has imported nbgrader and the feedback
renderer once and then serves :class:`~regloss.grading.autograde.AutogradeRequest`
files one after another through :func:`regloss.grading.autograde.main`.

It also runs each student's judge (:mod:`regloss.grading.judge`, the
instructor's test cells against proxies) in a child it forks for that student,
with numpy, torch and ``regloss.checks`` already imported: the judge process is
new for every student, as before, but does not pay for Python and those imports.

Nothing of a student runs in this process: student code runs only in the
sandbox kernel nbgrader starts for that student (a fresh process in its own
namespaces, see :mod:`regloss.grading.kernel`) and in the judge's answer
process (started fresh by the judge, in its own sandbox), and the judge itself
is a forked child that exits after the student. Per request the server takes the student's environment, working
folder and log file (its standard output and error point at that student's
log); a request that exceeds its wall-clock limit gets the whole server killed
and a new one started for the next student.

Protocol (one JSON object a line): the parent writes
``{"kind": "autograde" | "judge", "request": PATH, "env": {...}, "cwd": PATH, "log": PATH}`` on the server's
standard input; the server answers ``{"done": true}`` on its original standard
output (``{"ready": true}`` once after start-up).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time


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
        cmd = [*self.iso.net_prefix(), sys.executable, "-m", "regloss.grading.warm",
               "--netns" if self.iso.network else "--no-netns"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd=tempfile.gettempdir(), start_new_session=True, bufsize=0)
        if procs is not None:
            procs.add(key, self.proc)
        line = self._readline(300)
        if not line or not json.loads(line).get("ready"):
            self.close()
            raise RuntimeError("the warm nbgrader process did not start")

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
        """Stop the server (and anything it started)."""
        if self.proc is not None:
            from regloss.grading.worker import kill_tree

            kill_tree(self.proc.pid, wait=False)  # all killed; only the server is ours to reap
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


def serve(netns: bool):
    """The server's loop (see the module docstring)."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    if netns:
        from regloss.grading.sandbox import bring_up_loopback

        bring_up_loopback()
    from regloss.startup import skip_slow_optional_imports

    skip_slow_optional_imports()
    # Imports shared with the zygotes come first, so each is paid once: the answer
    # zygote is forked before anything a policy blocks (torch, SciPy) is imported,
    # the kernel zygote after them but before ZeroMQ and asyncio exist here.
    import numpy  # noqa: F401
    from IPython.core.inputtransformer2 import TransformerManager  # noqa: F401

    zygote = answers = None
    use_zygotes = os.environ.get("REGLOSS_NO_ZYGOTE") != "1"
    if use_zygotes:
        from regloss.grading import zygote as zg

        try:
            answers = zg.start_answer_zygote()
        except OSError:
            answers = None
    import matplotlib
    import scipy.optimize  # noqa: F401
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401

    if use_zygotes:
        zygote = zg.Zygote()
    # the imports each per-student process used to pay for
    import nbgrader.apps  # noqa: F401
    import nbgrader.converters  # noqa: F401
    from nbconvert.exporters import HTMLExporter  # noqa: F401

    from regloss.grading import autograde, feedback, judge  # noqa: F401
    # what the judge and the instructor's cells it runs import, once (the forked judge inherits them)
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    import regloss.checks  # noqa: F401
    import regloss.teaching  # noqa: F401

    from regloss import course

    os.environ["PATH"] = course.tool_env()["PATH"]
    if zygote is not None:
        zg.install(zygote)
        if answers is not None:
            try:  # here, not in each forked judge: readiness is read once
                answers.wait_ready()
            except (OSError, RuntimeError, ValueError):
                zg.stop_answer_zygote()
    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
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


if __name__ == "__main__":
    serve(sys.argv[1:2] == ["--netns"])
