"""The judge: the instructor's test cells, run against proxies of the student's functions.

The worker starts ``python -m regloss.grading.judge.judging REQUEST.json`` (a
:class:`JudgeRequest`); the judge writes a :class:`JudgeReport` (one
:class:`~regloss.grading.wire.jobs.CellVerdict` per test cell). It never executes
student code:

* the test cells, and the instructor's set-up cells they need (imports, data;
  found by the names the test cells read), come from the SOURCE notebook --
  hidden tests included -- and run here, in the judge's own namespace;
* the student's code cells (their notebook's code cells, test cells left out)
  are sent as text to a separate answer process (:mod:`regloss.grading.sandboxed.answer`),
  sandboxed, where torch, SciPy, ... and regloss's reference cannot be imported;
  before each test cell, the student's cells that precede it in their notebook
  are run there, as in a kernel;
* each name a test cell reads that the instructor's cells do not define (the
  graded functions, any value the test reads) is resolved in the answer process:
  a function becomes a :class:`RemoteFunction`, a plain value is copied. A call
  sends plain data and receives plain data, or the exception's type and message
  (re-raised here as a class deriving from the same built-in exception). A
  function argument crosses by name (a function of a shipped answer file, of
  NumPy, ...) or, if it is a test cell's own lambda or closure, is refused with
  :class:`NotJudgeCompatible`.

A test cell passes when it runs to the end without an exception, within twice
the per-cell time limit (plus 10 s).
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import signal
import sys
import time
from pathlib import Path

from regloss.grading.judge.client import AnswerClient, AnswerGone, NotJudgeCompatible, RemoteFunction
from regloss.grading.judge.plan import names_of, plan, python_of
from regloss.grading.judge.request import JudgeReport, JudgeRequest
from regloss.grading.wire import protocol
from regloss.grading.wire.jobs import CellVerdict
from regloss.grading.wire.problems import Kind, Problem


class _NoIPython:
    """``get_ipython()`` in the judge: magics do nothing."""

    def __getattr__(self, name):
        return lambda *a, **k: None


class _CellTimeout(BaseException):
    pass


def _message(exc):
    if isinstance(exc, AssertionError):
        text = str(exc).strip()
        return text or "an assertion of the test failed"
    return f"{type(exc).__name__}: {exc}"


def judge_notebook(source_nb, student_nb, client: AnswerClient, timeout=60, log=None, only=None):
    """Run every test cell of ``source_nb`` against the student's code in ``client``.

    Parameters
    ----------
    source_nb, student_nb : dict
        Notebooks as JSON dicts (nbformat 4).
    client : AnswerClient
        A started (or startable) answer process.
    only : set of str, optional
        Judge only these test cells (the others get no verdict); for tests of the
        course's catalogues, where a wrong entry needs only its exercise's cells.

    Returns
    -------
    list of CellVerdict
    """
    p = plan(source_nb, student_nb)
    ns = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": lambda: _NoIPython()}
    verdicts = []

    def bind(names):
        if not names:
            return
        try:
            got = client.resolve(sorted(names))
        except AnswerGone:
            got = {}
        for name in names:
            kind = got.get(name, ["missing"])
            if kind[0] == "function":
                ns[name] = RemoteFunction(client, name, kind[1], client.generation, kind[3] if len(kind) > 3 else "")
            elif kind[0] == "value":
                try:
                    ns[name] = protocol.decode(kind[1])
                except protocol.ProtocolError:
                    ns.pop(name, None)
            else:
                ns.pop(name, None)

    def on_alarm(signum, frame):
        raise _CellTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    # with ``only``, nothing after the last test to judge is needed: stop there
    last = max((i for i, st in enumerate(p.steps) if st[0] == "test" and (only is None or st[1] in only)),
               default=-1)
    for step in p.steps[:last + 1]:
        if step[0] == "setup":
            used = names_of(step[1])[1] & p.student_names
            if used:
                bind(used)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                try:
                    signal.alarm(2 * timeout + 10)
                    exec(compile(python_of(step[1]), "<instructor cell>", "exec"), ns)
                except BaseException as exc:  # noqa: BLE001 - a set-up cell that uses student code may fail
                    if log:
                        log(f"set-up cell: {type(exc).__name__}: {exc}")
                finally:
                    signal.alarm(0)
            continue
        _, gid, src = step
        if only is not None and gid not in only:
            try:  # not judged, but the student's cells before it still run, in order
                client.run(p.student_before.get(gid, []))
            except AnswerGone:
                pass
            continue
        t0 = time.monotonic()
        passed, message, judged = False, "", True
        try:
            client.run(p.student_before.get(gid, []))
            bind(names_of(src)[1] & p.student_names)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                try:
                    signal.alarm(2 * timeout + 10)
                    exec(compile(python_of(src), f"<test cell {gid}>", "exec"), ns)
                    passed = True
                finally:
                    signal.alarm(0)
        except _CellTimeout:
            message = f"the test did not finish within {2 * timeout + 10} s"
        except AnswerGone as exc:
            message = str(exc)
        except NotJudgeCompatible as exc:
            judged = False
            message = f"this test cannot be checked independently (a problem of the course, not yours): {exc}"
        except BaseException as exc:  # noqa: BLE001 - the test failed
            message = _message(exc)
        verdicts.append(CellVerdict(gid, passed, message[:5000], time.monotonic() - t0, judged))
    return verdicts


def run(req: JudgeRequest) -> JudgeReport:
    """Judge one notebook (see the module docstring)."""
    from regloss.grading.sandboxed.policy import policy_for

    t0 = time.monotonic()
    os.chdir(req.workdir)
    sys.path.insert(0, req.workdir)
    os.environ["MPLBACKEND"] = "Agg"
    source = json.loads(Path(req.source).read_text(encoding="utf-8"))
    report = JudgeReport()
    try:
        student = json.loads(Path(req.student).read_text(encoding="utf-8"))
        if not isinstance(student, dict):
            raise ValueError("not a notebook")
    except (OSError, ValueError) as exc:
        student = {"cells": []}
        report.problems.append(Problem(Kind.JUDGE_FAILED,
                                       f"the notebook could not be read for the independent check ({exc})"))
    policy = policy_for(req.assignment, source.get("metadata"))
    client = AnswerClient(req.answer_dir, policy.blocked, req.settings.timeout, req.settings.memory_mb, req.filesystem,
                          req.hide, uid=req.uid)
    try:
        report.verdicts = judge_notebook(source, student, client, req.settings.timeout)
    finally:
        client.stop()
    report.student_errors = client.errors
    report.seconds = time.monotonic() - t0
    return report


def main(argv):
    req = JudgeRequest.read(argv[0])
    if req.network_isolated:
        from regloss.grading.sandboxed.isolation import bring_up_loopback

        try:
            bring_up_loopback()
        except OSError:
            pass
    report = run(req)
    report.write(req.report)


if __name__ == "__main__":
    main(sys.argv[1:])
