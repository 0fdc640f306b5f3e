"""The judge's end of the answer process, and the proxies of the student's functions.

:class:`AnswerClient` starts the sandboxed answer process (:mod:`regloss.grading.sandboxed.answer`;
forked by the answer zygote where there is one), sends it requests
(:mod:`regloss.grading.wire.protocol`: plain data only) and restarts it after a crash.
A student's function becomes a :class:`RemoteFunction` here: calling it sends plain data
and receives plain data, or the exception's type and message (re-raised as a class
deriving from the same built-in exception, :func:`remote_exception`). It is the
:class:`regloss.checks.remote.Elsewhere` the checks recognise.
"""

from __future__ import annotations

import builtins
import functools
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

from regloss.checks.remote import Elsewhere
from regloss.grading.programs import Program
from regloss.grading.wire import protocol


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

    def __init__(self, answer_dir, blocked, timeout, memory_mb=2048, filesystem=False, hide=(), uid=None):
        self.answer_dir, self.blocked, self.timeout = answer_dir, tuple(blocked), timeout
        self.memory_mb, self.filesystem, self.hide, self.uid = memory_mb, filesystem, list(hide), uid
        self.proc = None
        self.generation = 0  # increases at each (re)start: handles of an older one are void
        self.cells_run = []  # every student cell sent so far (replayed after a restart)
        self.deaths = 0
        self.broke_protocol = ""  # set once the student's code wrote to the pipe itself: never restarted
        self.errors = []

    def start(self):
        from regloss.grading.sandboxed.answer_zygote import answer_zygote
        from regloss.grading.sandboxed.environment import student_env
        from regloss.grading.sandboxed.isolation import Isolation, SandboxSpec

        j2a_r, j2a_w = os.pipe()
        a2j_r, a2j_w = os.pipe()
        spec = SandboxSpec(hide=self.hide, keep=[self.answer_dir], filesystem=self.filesystem, uid=self.uid)
        env = student_env({**spec.to_env(), "MPLBACKEND": "Agg"})
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
                [*prefix, *Program.ANSWER.argv(str(j2a_r), str(a2j_w), cfg)],
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

    def _request(self, msg: protocol.Request, wall: float) -> dict[str, Any]:
        """Send ``msg`` and read the reply: a dict, and no more is trusted of it (a :class:`protocol.Reply`
        from an honest peer)."""
        import select

        done = False
        try:
            protocol.send(self.wfd, msg)
            deadline = time.monotonic() + wall
            ready, _, _ = select.select([self.rfd], [], [], wall)
            if not ready:
                raise AnswerGone(f"the student's code did not answer within {wall:g} s")
            old = signal.alarm(0)  # a frame is read to its end, or to the same deadline
            try:
                reply = protocol.receive(self.rfd, deadline=deadline)
            finally:
                if old:
                    signal.alarm(old)
            done = True
        except (OSError, protocol.PeerClosed) as exc:
            raise AnswerGone(f"the student's code stopped the process it runs in ({exc})") from None
        except protocol.ProtocolError as exc:  # only code that writes to the grader's pipe does this
            self.broke_protocol = str(exc)
            raise AnswerGone(f"the student's code broke the grader's protocol ({exc})") from None
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
            if self.broke_protocol:
                raise AnswerGone(f"the student's code broke the grader's protocol ({self.broke_protocol}); "
                                 "its process is not restarted")
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


_EXC_CLASSES: dict[tuple[str, type], type] = {}


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


class RemoteFunction(Elsewhere):
    """A student's function, living in the answer process; calling it sends plain data.

    The own-work check (:func:`regloss.checks.own_work.forbidden_calls`) recognises it
    and asks the answer process to profile the call there (:meth:`forbidden_calls`).
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

    def call_beside(self, fn, *args, **kwargs):
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
            raise NotJudgeCompatible(f"call_beside needs a function, not {fn!r}")
        target = _crossing(fn)
        self._client.ensure()
        self.current_handle()  # this student function is (still) there
        return self._client.call(target, args, kwargs)

    def forbidden_calls(self, args, kwargs, forbidden):
        """The forbidden calls the function made, profiled in the answer process."""
        self._client.ensure()
        try:
            return list(self._client.call(self.current_handle(), args, kwargs, forbidden=forbidden))
        except AnswerGone:
            raise
        except Exception:  # noqa: BLE001 - a crash is judged by the value checks
            return []

    def __repr__(self):
        return f"<student function {self.__name__}>"
