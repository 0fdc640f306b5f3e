"""The answer process: the student's code, sandboxed, answering the judge's calls.

Started by the judge (:class:`regloss.grading.judge.judging.AnswerClient`) as ``python
-m regloss.grading.sandboxed.answer READ_FD WRITE_FD CONFIG_JSON``, inside the sandbox's
mount and PID namespaces where the machine allows them. Before any student code
runs it

* hides (:func:`regloss.grading.sandboxed.isolation.enter`) everything but its working
  folder, the Python installation and regloss, and over them the folders of
  the modules its :class:`~regloss.grading.sandboxed.policy.AnswerPolicy` blocks (torch,
  SciPy, scikit-learn, statsmodels, ``regloss.checks``, ...): they cannot be
  imported at all;
* installs an import blocker for the same modules (the only protection where
  there is no mount namespace): ``import torch`` gives a stand-in whose every
  use raises ``ImportError``, so a notebook's import cell still runs;
* caps its memory, points stdin/stdout/stderr at ``/dev/null``.

Then it serves requests (:mod:`regloss.grading.wire.protocol`): run the student's
cells (each under a time limit; an error ends that cell, as in a kernel),
resolve names (a function becomes a *handle* that stays here; plain values
cross), call a handle with plain data, and run a call under a profiler for the
own-work check of allowed libraries (``numpy.polyfit`` for a line fit the
student must derive). Nothing it sends is trusted by the judge beyond being
plain data.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import signal
import sys
import types

from regloss.grading.wire import protocol

CONFIG_KEYS = ("blocked", "timeout", "memory_mb", "sandbox")


class BlockedImport(ImportError):
    pass


class _Blocked:
    """Stands for anything reached through a blocked module: using it raises."""

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def _refuse(self, *a, **k):
        raise BlockedImport(f"{self._name} cannot be used in graded code: this exercise asks for NumPy")

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Blocked(f"{self._name}.{attr}")

    __call__ = _refuse
    __iter__ = _refuse
    __getitem__ = _refuse
    __bool__ = _refuse
    __float__ = _refuse
    __array__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse


class _BlockedModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Blocked(f"{self.__name__}.{attr}")


class _BlockerLoader(importlib.abc.Loader):
    def create_module(self, spec):
        m = _BlockedModule(spec.name)
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


class ImportBlocker(importlib.abc.MetaPathFinder):
    """A meta-path finder that answers every blocked module with a stand-in."""

    def __init__(self, blocked):
        self.blocked = tuple(blocked)

    def is_blocked(self, name):
        return any(name == b or name.startswith(b + ".") for b in self.blocked)

    def find_spec(self, fullname, path=None, target=None):
        if self.is_blocked(fullname):
            return importlib.machinery.ModuleSpec(fullname, _BlockerLoader(), is_package=True)
        return None


def module_dirs(names):
    """The folders (or files) the modules ``names`` are imported from, found without importing them."""
    import importlib.util

    found = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            found += list(spec.submodule_search_locations)
        elif spec.origin and os.path.isfile(spec.origin):
            found.append(spec.origin)
    return found


def _given_code(args, kwargs, exclude=()):
    """The code objects of the functions a call is given (in its arguments, lists, tuples,
    dicts, functools.partial), but those in ``exclude`` (the student's own functions);
    as :func:`regloss.checks.own_work.given_code`, which this process cannot import."""
    from regloss.arguments import code_of, functions_given

    excluded = {id(f) for f in exclude}
    excluded_code = {code_of(f) for f in exclude} - {None}
    return {code_of(f) for f in functions_given(args, kwargs)
            if id(f) not in excluded and code_of(f) is not None and code_of(f) not in excluded_code}


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


#: Cell magics whose body is Python: run here as the body alone (``%%time``, ``%%capture``, ...).
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})


class Shell:
    """``get_ipython()`` in the answer process, where there is no IPython shell: what a kernel
    would do with a notebook's magics, as far as the student's functions are concerned.

    A line magic (``%matplotlib inline``, ``%load_ext``), a shell command (``!pip list``) and
    any other attribute do nothing; a cell magic whose body is Python (``%%time``) runs the
    body; another (``%%bash``, ``%%html``, ``%%writefile``) does nothing. So an honest
    notebook's cells define the same functions here as in its kernel.
    """

    def __init__(self, answer: Answer) -> None:
        self._answer = answer

    def run_line_magic(self, name, line, _stack_depth=1):
        return None

    def run_cell_magic(self, name, line, cell):
        if str(name) in PYTHON_CELL_MAGICS:
            from IPython.core.inputtransformer2 import TransformerManager

            exec(compile(TransformerManager().transform_cell(str(cell)), "<cell magic body>", "exec"), self._answer.ns)
        return None

    def system(self, cmd):
        return None

    def getoutput(self, cmd, split=True, depth=0):
        return []

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class Answer:
    """The student's namespace and the handles the judge holds."""

    def __init__(self, timeout):
        self.timeout = timeout
        self.handles = {}
        self.fresh_namespace()

    def fresh_namespace(self):
        """An empty ``__main__`` with ``get_ipython`` (:class:`Shell`), as a kernel's cells see it."""
        shell = Shell(self)
        self.ns = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": lambda: shell}

    def handle_of(self, obj):
        for k, v in self.handles.items():
            if v is obj:
                return k
        k = len(self.handles) + 1
        self.handles[k] = obj
        return k

    def _ref(self, obj):
        if callable(obj):
            return {"handle": self.handle_of(obj)}
        raise protocol.NotPlainData(f"a {type(obj).__module__}.{type(obj).__qualname__} is not plain data")

    def _deref(self, key, val):
        if key == "handle":
            try:
                return self.handles[int(val)]
            except (KeyError, ValueError, TypeError):
                raise protocol.ProtocolError(f"unknown handle {val!r}") from None
        if key == "ref":
            module, qualname = str(val[0]), str(val[1])
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            return obj
        if key == "partial":
            fn = protocol.decode(val[0], self._deref)
            args = protocol.decode(val[1], self._deref)
            kwargs = protocol.decode(val[2], self._deref)
            return functools.partial(fn, *args, **kwargs)
        raise protocol.ProtocolError(f"unknown tag {key!r}")

    def _limited(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` under the time limit, with ``os._exit`` / ``os.abort``
        turned into errors (as in the sandbox kernel)."""
        real_exit, real_abort = os._exit, os.abort

        def _exit(code=0):
            raise RuntimeError(f"os._exit({code}) was called; the grader does not let a notebook stop its process")

        def _abort():
            raise RuntimeError("os.abort() was called; the grader does not let a notebook stop its process")

        os._exit, os.abort = _exit, _abort
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(max(1, int(self.timeout)))
        try:
            return fn(*args, **kwargs)
        finally:
            signal.alarm(0)
            os._exit, os.abort = real_exit, real_abort

    def run_cells(self, cells):
        from IPython.core.inputtransformer2 import TransformerManager


        errors = []
        tm = TransformerManager()
        for i, src in enumerate(cells):
            try:
                code = compile(tm.transform_cell(src), f"<student cell {i + 1}>", "exec")
                self._limited(exec, code, self.ns)
            except _Timeout:
                errors.append([i, "TimeoutError", f"the cell ran longer than {self.timeout} s"])
            except BaseException as exc:  # noqa: BLE001 - student code: any error ends only its cell
                errors.append([i, *protocol.error_reply(exc)["error"][::2]])
        return {"errors": errors}

    def resolve(self, names):
        out = {}
        for name in names:
            name = str(name)
            if name not in self.ns:
                out[name] = ["missing"]
                continue
            obj = self.ns[name]
            if isinstance(obj, types.ModuleType):
                out[name] = ["object", "module"]
            elif callable(obj):
                out[name] = ["function", self.handle_of(obj), str(getattr(obj, "__name__", name))[:200],
                             str(getattr(obj, "__doc__", "") or "")[:2000]]
            else:
                try:
                    out[name] = ["value", protocol.encode(obj)]
                except protocol.NotPlainData:
                    out[name] = ["object", f"{type(obj).__module__}.{type(obj).__qualname__}"]
        return out

    def target(self, msg):
        """The function a CALL names: a handle, or ``"fn"``, a function importable by name
        (``{"ref": ...}`` or ``{"partial": ...}``, run beside the student's functions)."""
        if "fn" in msg:
            fn = msg["fn"]
            if not (isinstance(fn, dict) and len(fn) == 1 and next(iter(fn)) in ("ref", "partial")):
                raise protocol.ProtocolError("a call's \"fn\" must be a function by name")
            fn = protocol.decode(fn, self._deref)
            if not callable(fn):
                raise protocol.ProtocolError(f"{msg['fn']} is not a function")
            return fn
        return self._deref("handle", msg.get("handle"))

    def call(self, msg, profile=None):
        fn = self.target(msg)
        args = protocol.decode(msg.get("args"), self._deref)
        kwargs = protocol.decode(msg.get("kwargs"), self._deref)
        if type(args) is not tuple or type(kwargs) is not dict:
            raise protocol.ProtocolError("a call's args must be a tuple and its kwargs a dict")
        before = protocol.snapshot(args, kwargs)
        try:
            return self._call(fn, args, kwargs, profile)
        finally:  # what the call changed in its arguments goes back (see protocol.changed)
            self.back = protocol.changed(before)

    def take_back(self):
        """The changed arguments of the last call (and forget them)."""
        back, self.back = getattr(self, "back", []), []
        return back

    def _call(self, fn, args, kwargs, profile):
        if profile is None:
            result = self._limited(fn, *args, **kwargs)
            return protocol.encode(result, self._ref)
        seen = []
        forbidden = [str(f) for f in profile if not str(f).startswith("module:")]
        modules = {str(f)[len("module:"):] for f in profile if str(f).startswith("module:")}
        # inside a function the test passed in (a noise model, a fit): not the student's work;
        # the student's own functions are not exempt
        from regloss.arguments import GivenCalls

        given = GivenCalls(_given_code(args, kwargs, exclude=self.handles.values()))

        def profiler(frame, event, arg):
            if given.inside(frame, event):
                return
            if event == "c_call":
                mod = getattr(arg, "__module__", None) or ""
                qual = getattr(arg, "__qualname__", getattr(arg, "__name__", "?"))
            elif event == "call":
                mod, qual = frame.f_globals.get("__name__", ""), frame.f_code.co_name
            else:
                return
            if mod.startswith("regloss.grading"):  # this process's own runtime, not the student's call
                return
            top, short = mod.split(".")[0], str(qual).rsplit(".", 1)[-1]
            if top in modules and f"{mod}.{qual}" not in seen:
                seen.append(f"{mod}.{qual}")
            for f in forbidden:
                if f.split(".")[0] == top and f.rsplit(".", 1)[-1] == short and f"{mod}.{qual}" not in seen:
                    seen.append(f"{mod}.{qual}")

        old = sys.getprofile()
        sys.setprofile(profiler)
        try:
            self._limited(fn, *args, **kwargs)
        except BaseException:  # noqa: BLE001 - judged by the value checks
            pass
        finally:
            sys.setprofile(old)
        return protocol.encode(seen)


def serve(rfd: int, wfd: int, answer: Answer) -> None:
    while True:
        try:
            msg = protocol.receive(rfd)
        except protocol.ProtocolError:
            return
        op = msg.get("op")
        reply: protocol.Reply
        try:
            if op == protocol.BYE:
                return
            if op == protocol.RUN:
                reply = {"ok": answer.run_cells([str(c) for c in msg.get("cells", [])])}
            elif op == protocol.RESOLVE:
                reply = {"ok": answer.resolve(msg.get("names", []))}
            elif op == protocol.CALL:
                reply = {"ok": answer.call(msg)}
            elif op == protocol.RESET:
                answer.fresh_namespace()
                answer.handles = {}
                reply = {"ok": None}
            elif op == protocol.OWN_WORK:
                reply = {"ok": answer.call(msg, profile=msg.get("forbidden", []))}
            else:
                reply = {"error": ["ProtocolError", "RuntimeError", f"unknown request {op!r}"]}
        except _Timeout:
            reply = {"error": ["TimeoutError", "TimeoutError", f"the call ran longer than {answer.timeout} s"]}
        except protocol.NotPlainData as exc:
            reply = {"error": ["NotPlainData", "TypeError", f"it returned {exc}; a graded function returns "
                                                             "NumPy arrays, numbers, strings, or lists, tuples "
                                                             "and dicts of them"]}
        except BaseException as exc:  # noqa: BLE001 - anything student code raises goes back as data
            reply = protocol.error_reply(exc)
        if op in (protocol.CALL, protocol.OWN_WORK):
            try:
                back = answer.take_back()
            except BaseException:  # noqa: BLE001 - a hostile object's state: nothing goes back
                back = []
            if back:
                reply["back"] = back
        try:
            protocol.send(wfd, reply)
        except protocol.FrameTooLarge as exc:  # a value too large to cross: an error, not a broken pipe
            protocol.send(wfd, {"error": ["ValueError", "ValueError", f"the result is too large to check ({exc})"]})


def main(argv):
    rfd, wfd = int(argv[0]), int(argv[1])
    cfg = json.loads(argv[2])
    from regloss.grading.sandboxed import isolation as sandbox

    spec = sandbox.SandboxSpec.from_env()
    blocked = list(cfg["blocked"])
    if spec.filesystem:
        spec.hide = [*spec.hide, *module_dirs(blocked)]
        sandbox.enter(spec)
    for name in list(sys.modules):  # nothing blocked stays imported
        if any(name == b or name.startswith(b + ".") for b in blocked):
            del sys.modules[name]
    sys.meta_path.insert(0, ImportBlocker(blocked))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    import resource

    if cfg.get("memory_mb", 0) > 0:
        limit = int(cfg["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.path.insert(0, os.getcwd())
    import matplotlib

    matplotlib.use("Agg", force=True)
    if spec.filesystem:  # in its own mount namespace: the walls, before any student code
        from regloss.grading.sandboxed import walls

        walls.raise_walls(sandbox.installation(), [os.getcwd()], spec.uid)
    serve(rfd, wfd, Answer(cfg.get("timeout", 60)))


if __name__ == "__main__":
    main(sys.argv[1:])
