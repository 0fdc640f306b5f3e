"""One memory cap for all of a student's processes (:mod:`regloss.grading.worker.memory_watch`)."""

from __future__ import annotations

import os

import pytest

from regloss.grading.worker.memory_watch import MemoryWatch, Proc, over_cap, pss_kib, read_proc, students_processes

ROOT, STUDENT, OTHER = 100, 200_007, 200_008

TREE = [
    Proc(1, 0, 0),
    Proc(ROOT, 1, 0),  # the worker
    Proc(101, ROOT, 0),  # the warm nbgrader process, root
    Proc(102, 101, STUDENT),  # the kernel
    Proc(103, 102, STUDENT),  # a child of the kernel
    Proc(104, 103, STUDENT),  # and its child
    Proc(105, 101, OTHER),  # another student of this run
    Proc(500, 1, STUDENT),  # the same uid in another run on this machine
    Proc(600, 601, STUDENT),  # a loop in the parent links is not followed forever
    Proc(601, 600, STUDENT),
]


def test_a_students_processes_are_theirs_under_this_worker_and_no_others():
    assert students_processes(TREE, STUDENT, ROOT) == [102, 103, 104]
    assert students_processes(TREE, OTHER, ROOT) == [105]
    assert students_processes(TREE, STUDENT, 999) == []


@pytest.mark.parametrize("kib, cap_mb, over", [
    ({1: 700 * 1024, 2: 700 * 1024, 3: 700 * 1024}, 2048, True),  # three children over the cap together
    ({1: 700 * 1024}, 2048, False),
    ({1: 2048 * 1024}, 2048, False),  # at the cap is allowed
    ({}, 1, False),
])
def test_the_cap_is_on_the_sum(kib, cap_mb, over):
    assert over_cap(kib, cap_mb) is over


def test_this_process_reads_back_from_proc():
    me = read_proc(os.getpid())
    assert me == Proc(os.getpid(), os.getppid(), os.getuid())
    assert pss_kib(os.getpid()) > 0
    assert read_proc(2**22 + 7) is None and pss_kib(2**22 + 7) == 0


def test_a_watch_with_nothing_to_watch_trips_never():
    with MemoryWatch(OTHER + 29_000, 1) as watch:
        assert watch.check() is None
    assert watch.tripped is None and watch.problem() is None
