"""``--memory`` below what a kernel needs to start is refused with the minimum named
(:mod:`regloss.grading.run.memory_floor`)."""

from __future__ import annotations

import json

import pytest

from regloss.course import CourseError
from regloss.grading.run import memory_floor
from regloss.grading.sandboxed.kernel_start import peak_mb


@pytest.mark.parametrize("peak, floor", [(1654, 1664), (1664, 1664), (1, 64), (1665, 1728)])
def test_the_floor_is_the_peak_rounded_up(peak, floor):
    assert memory_floor.floor_mb(peak) == floor


@pytest.mark.parametrize("memory, floor, refused", [
    (512, 1664, True), (1663, 1664, True), (1664, 1664, False), (2048, 1664, False),
    (0, 1664, False),  # no cap at all
    (512, None, False),  # not measured: nothing refused
])
def test_a_cap_below_the_floor_is_refused_with_the_minimum_named(memory, floor, refused):
    if refused:
        with pytest.raises(CourseError, match=rf"--memory {memory} .* {floor} MB.*--memory {floor} or more"):
            memory_floor.check(memory, floor)
    else:
        memory_floor.check(memory, floor)


def test_vmpeak_is_read_in_mb_rounded_up():
    assert peak_mb("Name:\tpython\nVmPeak:\t 1693696 kB\nVmSize:\t 1 kB\n") == 1654
    assert peak_mb("VmPeak:\t 1693697 kB\n") == 1655
    with pytest.raises(ValueError):
        peak_mb("Name: x\n")


def test_the_measure_is_taken_once_per_installation_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []
    monkeypatch.setattr(memory_floor, "measure", lambda: calls.append(1) or 1700)
    assert memory_floor.kernel_floor_mb() == 1728
    assert memory_floor.kernel_floor_mb() == 1728
    assert calls == [1]
    kept = json.loads((tmp_path / "regloss" / "kernel-start.json").read_text())
    assert kept == {memory_floor.cache_key(): 1700}
    (tmp_path / "regloss" / "kernel-start.json").write_text(json.dumps({"another installation": 10}))
    assert memory_floor.kernel_floor_mb() == 1728 and calls == [1, 1]


def test_a_measure_that_failed_refuses_nothing_and_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(memory_floor, "measure", lambda: None)
    memory_floor.refuse_below_floor(64)
    assert not (tmp_path / "regloss" / "kernel-start.json").exists()
