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

import ast
import builtins
import contextlib
import functools
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from regloss.grading.wire import protocol
from regloss.grading.wire.jobs import CellVerdict
from regloss.grading.wire.problems import JUDGE_FAILED, Problem


@dataclass
class JudgeRequest:
    """What the worker asks of the judge (written as JSON).

    Attributes
    ----------
    source : str
        The source notebook (solutions and hidden tests).
    student : str
        The student's submitted notebook (read as data, never run here).
    answer_dir : str
        The answer process's working folder (the shipped support files).
    workdir : str
        The judge's working folder (a copy of the source folder: support files importable).
    report : str
        Where to write the :class:`JudgeReport`.
    assignment : str
    timeout : int
        Seconds per student cell and per call; a test cell gets ``2 * timeout + 10``.
    memory_mb : int
        The answer process's memory cap.
    network_isolated, filesystem : bool
        What the sandbox allows (the answer process uses the mount namespace when ``filesystem``).
    hide : list of str
        Folders the answer process must not see.
    """

    source: str
    student: str
    answer_dir: str
    workdir: str
    report: str
    assignment: str
    timeout: int = 60
    memory_mb: int = 2048
    network_isolated: bool = False
    filesystem: bool = False
    hide: list = field(default_factory=list)


@dataclass
class JudgeReport:
    """The judge's verdicts and what went wrong around them."""

    verdicts: list = field(default_factory=list)  # CellVerdict
    problems: list = field(default_factory=list)  # Problem
    seconds: float = 0.0
    student_errors: list = field(default_factory=list)  # [cell number, type, message] in the answer process

    def write(self, path):
        Path(path).write_text(json.dumps({"verdicts": [asdict(v) for v in self.verdicts],
                                          "problems": [p.to_dict() for p in self.problems],
                                          "seconds": self.seconds, "student_errors": self.student_errors}))

    @classmethod
    def read(cls, path):
        d = json.loads(Path(path).read_text())
        return cls([CellVerdict(**v) for v in d["verdicts"]], [Problem.from_dict(p) for p in d["problems"]],
                   d.get("seconds", 0.0), d.get("student_errors", []))


class NotJudgeCompatible(TypeError):
    """A test cell passes a student's function something that cannot cross to the answer process."""


class AnswerGone(RuntimeError):
    """The answer process stopped, broke the protocol, or did not answer in time."""


# --------------------------------------------------------------------------- the answer process


class AnswerClient:
    """The judge's end of the answer process: start it, send requests, restart it after a crash.

    Parameters
    ----------
    answer_dir : str
        Its working folder.
    blocked : tuple of str
        Modules it cannot import (:mod:`regloss.grading.sandboxed.policy`).
    timeout : int
        Seconds per cell and per call (the answer process enforces it with an
        alarm; the judge gives up ``timeout + 5`` s after, and kills it).
    """

    def __init__(self, answer_dir, blocked, timeout, memory_mb=2048, filesystem=False, hide=()):
        self.answer_dir, self.blocked, self.timeout = answer_dir, tuple(blocked), timeout
        self.memory_mb, self.filesystem, self.hide = memory_mb, filesystem, list(hide)
        self.proc = None
        self.generation = 0  # increases at each (re)start: handles of an older one are void
        self.cells_run = []  # every student cell sent so far (replayed after a restart)
        self.deaths = 0
        self.errors = []

    def start(self):
        from regloss.grading.sandboxed.isolation import Isolation, SandboxSpec
        from regloss.grading.sandboxed.zygote import answer_zygote

        j2a_r, j2a_w = os.pipe()
        a2j_r, a2j_w = os.pipe()
        spec = SandboxSpec(hide=self.hide, keep=[self.answer_dir], filesystem=self.filesystem)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGLOSS_")}
        env.update(spec.to_env())
        env["MPLBACKEND"] = "Agg"
        cfg = json.dumps({"blocked": list(self.blocked), "timeout": self.timeout, "memory_mb": self.memory_mb})
        self.proc = None
        zygote = answer_zygote()
        if zygote is not None and (os.geteuid() == 0 or not self.filesystem):
            try:  # forked by the warm process's answer zygote, with numpy and matplotlib imported
                self.proc = zygote.spawn(cfg, env, self.answer_dir, self.filesystem, (j2a_r, a2j_w))
            except (OSError, RuntimeError, ValueError):
                self.proc = None
        if self.proc is None:
            prefix = Isolation(filesystem=self.filesystem).fs_prefix()
            self.proc = subprocess.Popen(
                [*prefix, sys.executable, "-m", "regloss.grading.sandboxed.answer", str(j2a_r), str(a2j_w), cfg],
                pass_fds=(j2a_r, a2j_w), cwd=self.answer_dir, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(j2a_r)
        os.close(a2j_w)
        self.wfd, self.rfd = j2a_w, a2j_r
        self.generation += 1
        if self.cells_run:
            self._request({"op": protocol.RUN, "cells": self.cells_run}, self.timeout * (len(self.cells_run) + 1))

    def stop(self):
        """End the answer process (killed: nothing of it is needed any more, and its
        interpreter's clean-up would only cost time)."""
        if self.proc is None:
            return
        for fd in (self.wfd, self.rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._kill()
        self.proc = None

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()

    def _request(self, msg, wall):
        import select

        done = False
        try:
            protocol.send(self.wfd, msg)
            ready, _, _ = select.select([self.rfd], [], [], wall)
            if not ready:
                raise AnswerGone(f"the student's code did not answer within {wall:g} s")
            old = signal.alarm(0)  # a frame is read to its end
            try:
                reply = protocol.receive(self.rfd)
            finally:
                if old:
                    signal.alarm(old)
            done = True
        except (OSError, protocol.ProtocolError) as exc:
            raise AnswerGone(f"the student's code stopped the process it runs in ({exc})") from None
        finally:
            if not done:  # no reply read: the conversation is out of step, start afresh
                self._died()
        return reply

    def _died(self):
        self.deaths += 1
        self._kill()
        for fd in (self.wfd, self.rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None

    def ensure(self):
        if self.proc is None:
            if self.deaths > 10:
                raise AnswerGone("the student's code stopped its process too often (ten times); not restarted")
            self.start()

    def reset(self):
        """Give the running answer process a fresh namespace, so it can serve the next
        notebook. Only for notebooks that are trusted not to tamper with the process
        (the course's own catalogues): ``regloss grade`` starts one process per student."""
        self.ensure()
        self._request({"op": protocol.RESET}, self.timeout + 5)
        self.cells_run, self.errors = [], []
        self.generation += 1

    def run(self, cells):
        """Run student cells (sources), one request each; their errors are noted, never
        raised. A cell that stops the process is replaced by one that raises, and the
        process is restarted (replaying the cells before it) for what follows."""
        for src in cells:
            self.ensure()
            self.cells_run.append(src)
            n = len(self.cells_run)
            try:
                reply = self._request({"op": protocol.RUN, "cells": [src]}, self.timeout + 10)
            except AnswerGone as exc:
                self.cells_run[-1] = "raise RuntimeError('this cell stopped the process it ran in')"
                self.errors.append([n, "AnswerGone", str(exc)])
                continue
            for _, *rest in (reply.get("ok") or {}).get("errors", []):
                self.errors.append([n, *rest])

    def resolve(self, names):
        self.ensure()
        reply = self._request({"op": protocol.RESOLVE, "names": list(names)}, self.timeout + 5)
        return reply.get("ok") or {}

    def call(self, handle, args, kwargs, forbidden=None):
        """Call ``handle`` (a student function's handle, or the crossing form of a
        function importable by name, ``{"ref": ...}`` / ``{"partial": ...}``) in the
        answer process with plain-data ``args`` and ``kwargs``; returns plain data or
        raises the remote exception (:func:`remote_exception`)."""
        msg = {"op": protocol.OWN_WORK if forbidden is not None else protocol.CALL,
               "args": protocol.encode(tuple(args), _crossing), "kwargs": protocol.encode(dict(kwargs), _crossing)}
        if isinstance(handle, dict):
            msg["fn"] = handle
        else:
            msg["handle"] = handle
        if forbidden is not None:
            msg["forbidden"] = list(forbidden)
        reply = self._request(msg, self.timeout + 5)
        if "back" in reply:
            write_back(args, kwargs, reply["back"])
        if "ok" in reply:
            return protocol.decode(reply["ok"], self._deref)
        raise remote_exception(reply.get("error"))

    def _deref(self, key, val):
        if key == "handle":
            return RemoteFunction(self, f"<returned function {val}>", int(val), self.generation)
        raise protocol.ProtocolError(f"the answer process may not send {key!r}")


def write_back(args, kwargs, back):
    """Write the arguments a call changed in the answer process into the judge's own objects.

    Parameters
    ----------
    args : tuple
    kwargs : dict
        The judge's arguments of the call.
    back : list
        The reply's ``"back"``: ``[[path, value], ...]`` (:func:`regloss.grading.wire.protocol.changed`).
        A path must name an array or Generator among ``args``/``kwargs``
        (:func:`~regloss.grading.wire.protocol.mutable_arguments`) and the value must be of
        the same kind: an array with the same shape and dtype is copied in (``np.copyto``)
        if the judge's array is writeable, otherwise left; a Generator over the same
        bit generator gets its state.

    Raises
    ------
    AnswerGone
        A path that is not one of the judge's arguments, or a value of another kind: the
        answer process is not trusted to write anything else.
    """
    import numpy as np

    targets = protocol.mutable_arguments(tuple(args), dict(kwargs))
    if not isinstance(back, list):
        raise AnswerGone("the answer process sent back arguments that are not a list")
    updates = []
    for item in back:
        try:
            path, value = item
            path = protocol.decode(path)
            value = protocol.decode(value)
            key = tuple(path) if type(path) is list else None
            if key is not None and key in targets:
                target = targets[key]
        except (TypeError, ValueError, protocol.ProtocolError) as exc:
            raise AnswerGone(f"the answer process sent back a malformed argument ({exc})") from None
        if key is None or key not in targets:
            raise AnswerGone(f"the answer process sent back {str(path)[:80]}, which is not an argument of the call")
        if type(target) is np.random.Generator:
            if type(value) is not np.random.Generator or type(value.bit_generator) is not type(target.bit_generator):
                raise AnswerGone(f"the answer process sent back something else than a generator for {key}")
            updates.append((target, value))
        else:
            if type(value) is not np.ndarray:
                raise AnswerGone(f"the answer process sent back something else than an array for {key}")
            if value.shape == target.shape and value.dtype == target.dtype and target.flags.writeable:
                updates.append((target, value))
    for target, value in updates:
        if type(target) is np.random.Generator:
            target.bit_generator.state = value.bit_generator.state
        else:
            np.copyto(target, value)


_EXC_CLASSES = {}


def remote_exception(err):
    """The exception to raise in the judge for an error reply ``[type, builtin base, message]``."""
    try:
        name, base, message = (str(x) for x in err)
    except (TypeError, ValueError):
        return AnswerGone(f"a malformed error reply: {str(err)[:200]}")
    base_cls = getattr(builtins, base, None)
    if not (isinstance(base_cls, type) and issubclass(base_cls, BaseException)) or \
            not issubclass(base_cls, Exception):
        base_cls = RuntimeError  # never SystemExit, KeyboardInterrupt, GeneratorExit from the student
    if name == base_cls.__name__:
        return base_cls(message)
    key = (name, base_cls)
    if key not in _EXC_CLASSES:
        _EXC_CLASSES[key] = type(name if name.isidentifier() else "StudentError", (base_cls,),
                                 {"__module__": "student"})
    return _EXC_CLASSES[key](message)


def _crossing(obj):
    """How a non-plain argument crosses to the answer process (by reference), or refuse it."""
    if isinstance(obj, RemoteFunction):
        return {"handle": obj.current_handle()}
    if isinstance(obj, functools.partial):
        return {"partial": [_crossing(obj.func) if not isinstance(obj.func, RemoteFunction) else
                            {"handle": obj.func.current_handle()},
                            protocol.encode(tuple(obj.args), _crossing),
                            protocol.encode(dict(obj.keywords), _crossing)]}
    module, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if callable(obj) and module and qual and "<" not in qual and module not in ("__main__", "builtins"):
        target = sys.modules.get(module)
        found = target
        for part in qual.split("."):
            found = getattr(found, part, None)
        if found is obj:
            return {"ref": [module, qual]}
    if callable(obj) and getattr(obj, "__module__", None) == "builtins" and getattr(builtins, qual or "", None) is obj:
        return {"ref": ["builtins", qual]}
    raise NotJudgeCompatible(
        f"a test passes {obj!r} to the student's function, which runs in another process: only plain data "
        "(arrays, numbers, strings, lists, tuples, dicts), the student's own functions and functions importable "
        "by name (a shipped answer file's, NumPy's; functools.partial of them) can cross. Write the test with "
        "one of those instead of a lambda or a function defined in the test cell.")


class RemoteFunction:
    """A student's function, living in the answer process; calling it sends plain data.

    The own-work check (:func:`regloss.checks.own_work.forbidden_calls`) recognises it
    and asks the answer process to profile the call there (:meth:`regloss_forbidden_calls`).
    """

    def __init__(self, client: AnswerClient, name, handle, generation, doc=""):
        self._client, self._handle, self._generation = client, handle, generation
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc
        self._resolvable = not name.startswith("<")

    def current_handle(self):
        if self._generation != self._client.generation:
            if not self._resolvable:
                raise AnswerGone("the student's code restarted; a function it returned earlier is gone")
            self._client.ensure()
            got = self._client.resolve([self.__name__]).get(self.__name__, ["missing"])
            if got[0] != "function":
                raise NameError(f"name {self.__name__!r} is not defined")
            self._handle, self._generation = got[1], self._client.generation
        return self._handle

    def __call__(self, *args, **kwargs):
        self._client.ensure()
        return self._client.call(self.current_handle(), args, kwargs)

    def regloss_call_beside(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` run in the answer process, where this student function lives.

        ``fn`` must cross by name (importable there: a module of
        :mod:`regloss.teaching`, a shipped answer file, NumPy, torch where the policy
        allows it; or a :class:`functools.partial` of one); ``args`` and ``kwargs`` cross
        as in any call (this proxy, or any :class:`RemoteFunction`, crosses as its handle).

        Returns
        -------
        The plain data ``fn`` returns (a function it returns becomes a :class:`RemoteFunction`).

        Raises
        ------
        NotJudgeCompatible
            ``fn`` is a lambda, a closure, or anything else that cannot cross by name.
        Exception
            What ``fn`` raised there, as a call re-raises it (:func:`remote_exception`).
        """
        if isinstance(fn, RemoteFunction):
            return fn(*args, **kwargs)
        if not callable(fn):
            raise NotJudgeCompatible(f"regloss_call_beside needs a function, not {fn!r}")
        target = _crossing(fn)
        self._client.ensure()
        self.current_handle()  # this student function is (still) there
        return self._client.call(target, args, kwargs)

    def regloss_forbidden_calls(self, args, kwargs, forbidden_functions):
        """The forbidden calls the function made, profiled in the answer process."""
        self._client.ensure()
        try:
            return list(self._client.call(self.current_handle(), args, kwargs, forbidden=forbidden_functions))
        except AnswerGone:
            raise
        except Exception:  # noqa: BLE001 - a crash is judged by the value checks
            return []

    def __repr__(self):
        return f"<student function {self.__name__}>"


# --------------------------------------------------------------------------- notebooks


def _meta(cell):
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def is_test(cell):
    m = _meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def _python(src):
    """The Python of a cell (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(src)


def names_of(src):
    """``(defined, read)``: names a cell binds at top level (assignments, imports, defs)
    and every name it reads anywhere (over-approximated)."""
    try:
        tree = ast.parse(_python(src))
    except SyntaxError:
        return set(), set()
    defined, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                defined.add((a.asname or a.name).split(".")[0])
    # names bound only inside functions are not the notebook's; keep it simple and
    # over-approximate: a name bound anywhere counts as defined by the cell
    return defined, read


@dataclass
class Plan:
    """What the judge runs, in order: ``("setup", source)`` instructor cells and
    ``("test", grade_id, source)`` test cells; and the student's cells to send before each test."""

    steps: list
    student_before: dict  # grade id -> [student cell sources to run before it]
    student_after: list  # student cells after the last test (run only if a later setup needs them)
    student_names: set


def plan(source_nb, student_nb):
    """Decide which instructor cells run in the judge and which student cells precede each test."""
    cells = [c for c in source_nb["cells"] if c.get("cell_type") == "code"]
    tests = [c for c in cells if is_test(c)]
    test_ids = {_meta(c).get("grade_id") for c in tests}
    solution_defs = set()
    for c in cells:
        if _meta(c).get("solution"):
            solution_defs |= names_of(c["source"] if isinstance(c["source"], str) else "".join(c["source"]))[0]
    src = lambda c: c["source"] if isinstance(c["source"], str) else "".join(c["source"])  # noqa: E731
    needed = set()
    for c in tests:
        needed |= names_of(src(c))[1]
    include = set()
    for i in range(len(cells) - 1, -1, -1):
        c = cells[i]
        if is_test(c) or _meta(c).get("solution"):
            continue
        defined, read = names_of(src(c))
        if (defined - solution_defs) & needed:
            include.add(i)
            needed |= read
    steps = []
    judge_defs = set(dir(builtins))
    for i, c in enumerate(cells):
        if i in include:
            steps.append(("setup", src(c)))
            judge_defs |= names_of(src(c))[0]
        elif is_test(c):
            steps.append(("test", _meta(c)["grade_id"], src(c)))
    # the student's names: what the tests read and the instructor's cells do not define
    # (a name both define stays the instructor's: the student cannot replace it)
    student_names = (needed | solution_defs) - judge_defs
    # the student's cells: everything but test cells, in their order
    before, pending = {}, []
    for c in student_nb.get("cells", []):
        if not isinstance(c, dict) or c.get("cell_type") != "code":
            continue
        gid = _meta(c).get("grade_id")
        if isinstance(gid, str) and gid in test_ids:
            before.setdefault(gid, []).extend(pending)
            pending = []
            continue
        s = c.get("source", "")
        pending.append(s if isinstance(s, str) else "".join(str(x) for x in s))
    # a test the student deleted (nbgrader restores it where it was) runs after every
    # student cell up to the next test they kept
    ordered = [_meta(c)["grade_id"] for c in tests]
    result, taken = {}, set()
    for k, gid in enumerate(ordered):
        if gid in before:
            result[gid] = [] if gid in taken else before[gid]
            continue
        nxt = next((g for g in ordered[k + 1:] if g in before), None)
        if nxt is None:
            result[gid], pending = pending, []
        elif nxt in taken:
            result[gid] = []
        else:
            result[gid] = before[nxt]
            taken.add(nxt)
    return Plan(steps, result, pending, student_names)


# --------------------------------------------------------------------------- running


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
                    exec(compile(_python(step[1]), "<instructor cell>", "exec"), ns)
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
                    exec(compile(_python(src), f"<test cell {gid}>", "exec"), ns)
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
        report.problems.append(Problem(JUDGE_FAILED, f"the notebook could not be read for the independent check ({exc})"))
    policy = policy_for(req.assignment, source.get("metadata"))
    client = AnswerClient(req.answer_dir, policy.blocked, req.timeout, req.memory_mb, req.filesystem, req.hide)
    try:
        report.verdicts = judge_notebook(source, student, client, req.timeout)
    finally:
        client.stop()
    report.student_errors = client.errors
    report.seconds = time.monotonic() - t0
    return report


def main(argv):
    req = JudgeRequest(**json.loads(Path(argv[0]).read_text()))
    if req.network_isolated:
        from regloss.grading.sandboxed.isolation import bring_up_loopback

        try:
            bring_up_loopback()
        except OSError:
            pass
    report = run(req)
    report.write(req.report)


if __name__ == "__main__":
    # run as regloss.grading.judge.judging, not __main__: the own-work check recognises the proxies by their module
    from regloss.grading.judge import judging as _judge

    _judge.main(sys.argv[1:])
