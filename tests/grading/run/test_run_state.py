"""What a run records as it goes (:mod:`regloss.grading.run.state`) and how it hands
out a class (:class:`regloss.grading.run.pool.InFlight`): both must cost the same
per student for a class of ten thousand as for a class of ten."""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest

from regloss.grading.run.pool import InFlight
from regloss.grading.run.state import JOURNAL, LEGACY, RunState, parse_journal, read_students
from regloss.grading.wire.jobs import InstructorBundle, StudentJob


def summary(i):
    return {"key": f"k{i}", "seconds": 1.5, "problems": [], "verdicts": [{"grade_id": "t", "passed": True}]}


def test_recording_a_student_appends_one_line(tmp_path):
    """The file is appended to, never rewritten, while the run goes on (rewriting it per
    student wrote O(n^2) bytes: about 70 GB for 10,000 students)."""
    state = RunState(tmp_path)
    path = tmp_path / JOURNAL
    state.record("s0000", summary(0))
    inode, before = path.stat().st_ino, path.read_bytes()
    for i in range(1, 300):
        state.record(f"s{i:04d}", summary(i))
        now = path.read_bytes()
        assert path.stat().st_ino == inode and now.startswith(before)
        assert now[len(before):].count(b"\n") == 1  # one line for one student
        before = now
    assert read_students(tmp_path) == {f"s{i:04d}": summary(i) for i in range(300)}


def test_the_last_record_of_a_student_holds_and_compact_keeps_one_line_each(tmp_path):
    state = RunState(tmp_path)
    state.record("a", summary(1))
    state.record("b", summary(2))
    state.record("a", summary(3))
    assert read_students(tmp_path) == {"a": summary(3), "b": summary(2)}
    state.compact()
    lines = (tmp_path / JOURNAL).read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0]) == {"version": 3}
    assert read_students(tmp_path) == {"a": summary(3), "b": summary(2)}


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_next_run_goes_on(tmp_path):
    state = RunState(tmp_path)
    state.record("a", summary(1))
    state.close()
    with open(tmp_path / JOURNAL, "a") as f:
        f.write('{"student": "b", "summ')  # the parent died while writing
    assert read_students(tmp_path) == {"a": summary(1)}
    again = RunState(tmp_path)
    assert again.students == {"a": summary(1)}
    again.record("c", summary(3))
    again.close()
    assert read_students(tmp_path) == {"a": summary(1), "c": summary(3)}


@pytest.mark.parametrize("lines, expected", [
    ([], {}),
    (['{"version": 2}', '{"student": "a", "summary": {}}'], {}),  # another version: nothing is known
    (["not json"], {}),
    (['{"version": 3}', '{"student": "a", "summary": {"x": 1}}', "[1, 2]", '{"student": "a"}'], {"a": {"x": 1}}),
])
def test_parse_journal(lines, expected):
    assert parse_journal(lines) == expected


def test_a_folder_graded_before_the_journal_is_read_then_replaced(tmp_path):
    (tmp_path / LEGACY).write_text(json.dumps({"version": 2, "students": {"a": summary(1)}}))
    state = RunState(tmp_path)
    assert state.students == {"a": summary(1)}
    state.record("b", summary(2))
    state.compact()
    assert not (tmp_path / LEGACY).exists()
    assert read_students(tmp_path) == {"a": summary(1), "b": summary(2)}


# --------------------------------------------------------------------------- InFlight


@pytest.mark.parametrize("workers, n", [(1, 7), (2, 25), (4, 3)])
def test_jobs_are_read_lazily_and_at_most_window_are_in_flight(workers, n):
    read, done = [], []

    def jobs():
        for i in range(n):
            read.append(i)
            yield i

    with ThreadPoolExecutor(max_workers=workers) as ex:
        flight = InFlight(jobs(), lambda j: ex.submit(lambda: j * j),
                          lambda fs: wait(fs, return_when=FIRST_COMPLETED).done, window=2 * workers)
        for j, f in flight:
            assert len(read) - len(done) <= 2 * workers  # never more read than handed out
            done.append((j, f.result()))
    assert sorted(done) == [(i, i * i) for i in range(n)]
    assert flight.most == min(n, 2 * workers)


def test_a_job_is_not_read_before_a_place_is_free():
    read = []

    def jobs():
        for i in range(100):
            read.append(i)
            yield i

    with ThreadPoolExecutor(max_workers=1) as ex:
        it = iter(InFlight(jobs(), lambda j: ex.submit(lambda: j),
                           lambda fs: wait(fs, return_when=FIRST_COMPLETED).done, window=3))
        next(it)
        assert len(read) == 3


def test_a_job_without_its_bundle_travels_small_and_comes_back_whole():
    bundle = InstructorBundle("01_l1_mse", "c = get_config()\n", {"01_l1_mse.ipynb": b"x" * 100_000},
                              {"01_l1_mse.ipynb": b"y" * 50_000}, b"\0" * 150_000, "digest", ["/hidden"])
    job = StudentJob("alice", {"01_l1_mse.ipynb": b"{}"}, bundle, index=3)
    small = job.to_bytes(with_bundle=False)
    assert len(small) < 2_000 < len(job.to_bytes())
    cache = {}
    data = bundle.to_bytes()
    back = StudentJob.from_bytes(small, bundle=InstructorBundle.from_bytes(data, cache=cache))
    assert back == job
    assert InstructorBundle.from_bytes(data, cache=cache) is back.bundle  # decoded once per worker
