"""A peer that announces a frame and stalls does not hold the judge (:func:`regloss.grading.wire.protocol.receive`)."""

from __future__ import annotations

import os
import struct
import time

import pytest

from regloss.grading.wire import protocol


def test_a_stalled_frame_ends_at_the_deadline():
    r, w = os.pipe()
    try:
        os.write(w, struct.pack(">I", 1000) + b'{"ok": ')  # a frame begun, never finished
        t0 = time.monotonic()
        with pytest.raises(protocol.ProtocolError, match="stopped in the middle of a frame"):
            protocol.receive(r, deadline=time.monotonic() + 0.3)
        assert time.monotonic() - t0 < 2
    finally:
        os.close(r)
        os.close(w)


def test_a_whole_frame_is_read_before_the_deadline():
    r, w = os.pipe()
    try:
        protocol.send(w, {"ok": [1, 2]})
        assert protocol.receive(r, deadline=time.monotonic() + 5) == {"ok": [1, 2]}
    finally:
        os.close(r)
        os.close(w)


def test_a_frame_too_large_is_refused_before_it_is_sent(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_FRAME", 100)
    r, w = os.pipe()
    try:
        with pytest.raises(protocol.FrameTooLarge):
            protocol.send(w, {"ok": "x" * 200})
        protocol.send(w, {"ok": 1})  # nothing of the refused one was written
        assert protocol.receive(r) == {"ok": 1}
    finally:
        os.close(r)
        os.close(w)
