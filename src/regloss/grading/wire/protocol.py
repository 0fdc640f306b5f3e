"""The judge/answer boundary: plain data in length-prefixed JSON frames.

The judge (:mod:`regloss.grading.judge.judging`) and the answer process
(:mod:`regloss.grading.sandboxed.answer`) talk over a pair of pipes. A frame is a
4-byte big-endian length and that many bytes of UTF-8 JSON. Values cross as
*plain data* only -- never a pickle, never code:

=====================  ==========================================================
Python value           on the wire
=====================  ==========================================================
None, bool, str        JSON null, true/false, string
int, float             JSON number (``{"f": "nan"}`` etc. for non-finite floats)
complex                ``{"c": [re, im]}``
bytes                  ``{"b": base64}``
list / tuple / dict    ``{"l": [...]}`` / ``{"t": [...]}`` / ``{"d": [[k, v], ...]}``
numpy.ndarray          ``{"a": [dtype.str, shape, base64 of the C-order bytes]}``
NumPy scalar           ``{"s": [dtype.str, base64]}``
torch tensor (08)      ``{"tensor": array, "requires_grad": bool}``
numpy.random.Generator ``{"rng": [bit generator's name, its state]}``: NumPy's own bit
                       generators only (PCG64, PCG64DXSM, MT19937, Philox, SFC64), the
                       state as ``bit_generator.state`` (a dict of ints and arrays); rebuilt
                       on the other side by setting that state, never by running code
a function by name     ``{"ref": [module, qualname]}``: imported on the other side
functools.partial      ``{"partial": [function, args, kwargs]}``
a remote object        ``{"handle": n}``: stays in the answer process
=====================  ==========================================================

Arrays must have a numeric, boolean or string dtype (never ``object``) and be
plain :class:`numpy.ndarray`; anything else is refused with
:class:`NotPlainData`. Messages are dicts (see the requests below).

Arguments come back: after a CALL (or OWN_WORK) the reply carries ``"back":
[[path, value], ...]``, the final state of each argument that is a NumPy array
whose contents changed or a Generator whose state changed (found by
:func:`mutable_arguments`: positional ``("a", i, ...)`` or keyword ``("k", name,
...)``, then list/tuple positions and dict keys). The judge writes them into its
own objects -- only at paths of the arguments it sent, an array only when its
shape and dtype are unchanged and it is writeable -- so a test sees an array
sorted in place, or a generator advanced by the draws, as in a kernel.
"""

from __future__ import annotations

import base64
import json
import math
import os
import select
import struct
import time
from typing import Any, Literal, TypedDict

MAX_FRAME = 64 * 1024 * 1024  # bytes; a larger frame is a broken (or hostile) peer
MAX_DEPTH = 64
_KINDS = set("biufcUSMm")
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class NotPlainData(TypeError):
    """A value that cannot cross the boundary."""


class ProtocolError(RuntimeError):
    """The peer sent something that is not a frame of this protocol, or went away."""


# --------------------------------------------------------------------------- values


def encode(value, ref=None, depth=0):
    """The JSON-able form of ``value`` (see the module docstring).

    Parameters
    ----------
    ref : callable, optional
        ``ref(obj)`` -> a JSON-able form for an object that is not plain data (a
        function crossing by name, a remote handle), or raises :class:`NotPlainData`.
    """
    import numpy as np

    if depth > MAX_DEPTH:
        raise NotPlainData("data nested too deeply")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value
    if t is float:
        return value if math.isfinite(value) else {"f": repr(value)}
    if t is complex:
        return {"c": [encode(value.real), encode(value.imag)]}
    if t is bytes:
        return {"b": base64.b64encode(value).decode("ascii")}
    if t is list:
        return {"l": [encode(v, ref, depth + 1) for v in value]}
    if t is tuple:
        return {"t": [encode(v, ref, depth + 1) for v in value]}
    if t is dict:
        return {"d": [[encode(k, ref, depth + 1), encode(v, ref, depth + 1)] for k, v in value.items()]}
    if t is np.ndarray:
        if value.dtype.kind not in _KINDS or value.dtype.fields is not None:
            raise NotPlainData(f"a NumPy array of dtype {value.dtype} (only numbers, booleans and strings cross)")
        return {"a": [value.dtype.str, list(value.shape),
                      base64.b64encode(np.ascontiguousarray(value).tobytes()).decode("ascii")]}
    if isinstance(value, np.generic) and t.__module__ == "numpy":
        if value.dtype.kind not in _KINDS:
            raise NotPlainData(f"a NumPy scalar of dtype {value.dtype}")
        return {"s": [value.dtype.str, base64.b64encode(value.tobytes()).decode("ascii")]}
    if t is np.random.Generator:
        bg = value.bit_generator
        name = type(bg).__name__
        if name not in BIT_GENERATORS or type(bg) is not getattr(np.random, name):
            raise NotPlainData(f"a Generator over a {type(bg).__module__}.{type(bg).__qualname__} "
                               f"(only NumPy's {', '.join(BIT_GENERATORS)} cross)")
        return {"rng": [name, encode(bg.state, None, depth + 1)]}
    if t.__module__ == "torch" and t.__name__ == "Tensor":
        arr = value.detach().cpu().numpy()
        return {"tensor": encode(arr), "requires_grad": bool(value.requires_grad)}
    if ref is not None:
        return ref(value)
    raise NotPlainData(f"a {t.__module__}.{t.__qualname__} is not plain data")


def decode(obj, deref=None, depth=0):
    """The Python value of an :func:`encode` form (``deref`` turns ``ref``/``partial``/
    ``handle`` forms into objects, or raises :class:`NotPlainData`)."""
    import numpy as np

    if depth > MAX_DEPTH:
        raise ProtocolError("data nested too deeply")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        raise ProtocolError("a bare list on the wire")
    if not isinstance(obj, dict) or len(obj) not in (1, 2):
        raise ProtocolError(f"not a value of the protocol: {str(obj)[:80]}")
    (key, val), *_ = obj.items()
    try:
        if key == "f":
            if val not in ("nan", "inf", "-inf"):
                raise ProtocolError(f"bad float {val!r}")
            return float(val)
        if key == "c":
            return complex(float(val[0]), float(val[1]))
        if key == "b":
            return base64.b64decode(val)
        if key == "l":
            return [decode(v, deref, depth + 1) for v in val]
        if key == "t":
            return tuple(decode(v, deref, depth + 1) for v in val)
        if key == "d":
            return {decode(k, deref, depth + 1): decode(v, deref, depth + 1) for k, v in val}
        if key == "a":
            dtype, shape, data = np.dtype(val[0]), tuple(int(n) for n in val[1]), base64.b64decode(val[2])
            if dtype.kind not in _KINDS or dtype.fields is not None:
                raise ProtocolError(f"dtype {dtype} refused")
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if key == "s":
            dtype = np.dtype(val[0])
            if dtype.kind not in _KINDS:
                raise ProtocolError(f"dtype {dtype} refused")
            return np.frombuffer(base64.b64decode(val[1]), dtype=dtype)[0]
        if key == "rng":
            return _generator(val, depth)
        if key == "tensor":
            import torch

            t = torch.from_numpy(decode(val, deref, depth + 1))
            return t.requires_grad_(bool(obj.get("requires_grad")))
    except ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed data from the peer
        raise ProtocolError(f"malformed {key!r} value: {exc}") from None
    if deref is not None and key in ("ref", "partial", "handle"):
        return deref(key, val)
    raise ProtocolError(f"unknown tag {key!r}")


def _generator(val, depth):
    """A :class:`numpy.random.Generator` rebuilt from ``[name, state]`` (NumPy's own bit generators only)."""
    import numpy as np

    name, state = val
    if name not in BIT_GENERATORS:
        raise ProtocolError(f"bit generator {str(name)[:40]!r} refused (only {', '.join(BIT_GENERATORS)})")
    state = decode(state, None, depth + 1)
    if not isinstance(state, dict) or state.get("bit_generator") != name:
        raise ProtocolError(f"not the state of a {name}")
    bg = getattr(np.random, name)(0)
    bg.state = state  # NumPy validates it (types, sizes) and raises otherwise
    return np.random.Generator(bg)


def mutable_arguments(args, kwargs):
    """The arguments a call may change in place, with their paths.

    Parameters
    ----------
    args : tuple
    kwargs : dict

    Returns
    -------
    dict
        ``{path: obj}`` for every :class:`numpy.ndarray` and
        :class:`numpy.random.Generator` in ``args`` (path ``("a", i, ...)``) and
        ``kwargs`` (``("k", name, ...)``), also inside lists, tuples and dicts (a
        position or a key per level).
    """
    import numpy as np

    found = {}

    def walk(v, path):
        if len(path) > MAX_DEPTH:
            return
        t = type(v)
        if t is np.ndarray or t is np.random.Generator:
            found.setdefault(path, v)
        elif t is list or t is tuple:
            for i, x in enumerate(v):
                walk(x, (*path, i))
        elif t is dict:
            for k, x in v.items():
                if type(k) in (str, int, bool) or k is None:
                    walk(x, (*path, k))

    for i, a in enumerate(args):
        walk(a, ("a", i))
    for k, a in kwargs.items():
        walk(a, ("k", k))
    return found


def snapshot(args, kwargs):
    """What :func:`changed` compares against: the contents of the mutable arguments before a call."""
    out = {}
    for path, v in mutable_arguments(args, kwargs).items():
        out[path] = (v, v.shape, v.dtype, v.tobytes()) if hasattr(v, "dtype") else \
            (v, json.dumps(encode(v.bit_generator.state)))
    return out


def changed(before):
    """``[[path, value], ...]`` (encoded) for the arguments of :func:`snapshot` that changed since."""
    back = []
    for path, (v, *was) in before.items():
        try:
            if hasattr(v, "dtype"):
                if v.shape == was[0] and v.dtype == was[1] and v.tobytes() == was[2]:
                    continue
            elif json.dumps(encode(v.bit_generator.state)) == was[0]:
                continue
            back.append([encode(list(path)), encode(v)])
        except NotPlainData:
            continue
    return back


# --------------------------------------------------------------------------- frames


class PeerClosed(ProtocolError):
    """The other side went away (its process ended): no message, and no breach of the protocol."""


class FrameTooLarge(ProtocolError):
    """A message larger than :data:`MAX_FRAME`: refused before it is sent."""


def send(fd: int, message: Request | Reply) -> None:
    """Write one frame holding ``message`` (a JSON-able dict) to file descriptor ``fd``.

    Raises
    ------
    FrameTooLarge
        The message is larger than the other side reads (nothing is written).
    """
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    if len(data) > MAX_FRAME:
        raise FrameTooLarge(f"{len(data)} bytes, more than {MAX_FRAME}")
    buf = struct.pack(">I", len(data)) + data
    view = memoryview(buf)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n, deadline=None):
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise ProtocolError(f"the other side stopped in the middle of a frame ({n - left} of {n} bytes)")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise PeerClosed("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, deadline: float | None = None) -> dict[str, Any]:
    """Read one frame from ``fd``; returns the message (a dict). With a ``deadline``
    (``time.monotonic()``), a peer that has not sent the whole frame by then is a
    :class:`ProtocolError`: announcing a frame and stalling does not hold the reader."""
    (n,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if n > MAX_FRAME:
        raise ProtocolError(f"a frame of {n} bytes (more than {MAX_FRAME})")
    try:
        msg = json.loads(_read_exact(fd, n, deadline))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("a frame that is not a message")
    return msg


# --------------------------------------------------------------------------- messages

#: Requests (judge -> answer): ``{"op": ..., ...}``
RUN = "run"  # {"cells": [source, ...]} -> {"ok": {"errors": [[index, type, message], ...]}}
RESOLVE = "resolve"  # {"names": [...]} -> {"ok": {name: ["function"|"value"|"missing"|"object", detail]}}
CALL = "call"  # {"handle": n, "args": [...], "kwargs": [[k, v], ...]} -> {"ok": value} | {"error": [...]}
#   or {"fn": {"ref": [module, qualname]} | {"partial": ...}, "args": ..., "kwargs": ...}: a function
#   importable by name, called in the answer process beside the student's functions
#   (:meth:`regloss.grading.judge.client.RemoteFunction.call_beside`)
OWN_WORK = "own_work"  # CALL plus {"forbidden": [...]} -> {"ok": [calls]}
RESET = "reset"  # {} -> {"ok": null}: a fresh namespace (for grading many trusted notebooks in one process)
BYE = "bye"

#: The operations of a request.
Op = Literal["run", "resolve", "call", "own_work", "reset", "bye"]


class Request(TypedDict, total=False):
    """A request (judge -> answer process); which keys it holds depends on ``op`` (above).
    Values are encoded (:func:`encode`): the answer process trusts none of it beyond that."""

    op: Op
    cells: list[str]                 # run
    names: list[str]                 # resolve
    handle: int                      # call, own_work: a student function
    fn: dict[str, Any]               # call, own_work: a function importable by name
    args: Any                        # call, own_work: encoded tuple
    kwargs: Any                      # call, own_work: encoded dict
    forbidden: list[str]             # own_work


class Reply(TypedDict, total=False):
    """A reply (answer process -> judge): ``ok`` (encoded) or ``error`` ([type, built-in base,
    message]), and after a call the arguments it changed (``back``)."""

    ok: Any
    error: list[str]
    back: list[list[Any]]


def error_reply(exc: BaseException) -> Reply:
    """The reply for an exception raised by student code: its type's name, the
    nearest built-in exception class it derives from, and its message."""
    import builtins

    base = next((k.__name__ for k in type(exc).__mro__
                 if isinstance(k, type) and getattr(builtins, k.__name__, None) is k), "Exception")
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a hostile __str__
        text = "<the exception's message could not be read>"
    return {"error": [type(exc).__name__[:200], base, text[:20_000]]}
