"""The judge/answer boundary: plain data in length-prefixed JSON frames.

The judge (:mod:`regloss.grading.judge`) and the answer process
(:mod:`regloss.grading.answer`) talk over a pair of pipes. A frame is a
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
a function by name     ``{"ref": [module, qualname]}``: imported on the other side
functools.partial      ``{"partial": [function, args, kwargs]}``
a remote object        ``{"handle": n}``: stays in the answer process
=====================  ==========================================================

Arrays must have a numeric, boolean or string dtype (never ``object``) and be
plain :class:`numpy.ndarray`; anything else is refused with
:class:`NotPlainData`. Messages are dicts (see :func:`request` / :func:`reply`).
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct

MAX_FRAME = 64 * 1024 * 1024  # bytes; a larger frame is a broken (or hostile) peer
MAX_DEPTH = 64
_KINDS = set("biufcUSMm")


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


# --------------------------------------------------------------------------- frames


def send(fd, message):
    """Write one frame holding ``message`` (a JSON-able dict) to file descriptor ``fd``."""
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    buf = struct.pack(">I", len(data)) + data
    view = memoryview(buf)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise ProtocolError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd):
    """Read one frame from ``fd``; returns the message (a dict)."""
    (n,) = struct.unpack(">I", _read_exact(fd, 4))
    if n > MAX_FRAME:
        raise ProtocolError(f"a frame of {n} bytes (more than {MAX_FRAME})")
    try:
        msg = json.loads(_read_exact(fd, n))
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
#   (:meth:`regloss.grading.judge.RemoteFunction.regloss_call_beside`)
OWN_WORK = "own_work"  # CALL plus {"forbidden": [...]} -> {"ok": [calls]}
RESET = "reset"  # {} -> {"ok": null}: a fresh namespace (for grading many trusted notebooks in one process)
BYE = "bye"


def error_reply(exc):
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
