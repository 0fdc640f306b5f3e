"""Where the parent's students are graded: local worker threads, a Dask cluster, or a running
``regloss serve`` (:mod:`regloss.grading.run.via_service`).

:func:`results` takes the run's :class:`~regloss.grading.wire.jobs.StudentJob` values
and yields ``(job, StudentResult or exception)`` as each student finishes, in
completion order; the parent merges and reports them in its own process.

* Locally (``--workers N``), N threads each call
  :func:`regloss.grading.worker.student.grade_student` (which starts the student's
  processes on this machine), each thread with its own warm nbgrader process
  (:class:`regloss.grading.worker.warm.WarmAutograder`) kept for the whole run.
* On a Dask distributed cluster (``--scheduler tcp://HOST:PORT``), each student
  is one task, :func:`grade_task`: it receives the job as bytes
  (:meth:`StudentJob.to_bytes`: the submission, JSON, never a pickle of data)
  and the assignment's files (:meth:`InstructorBundle.to_bytes`, scattered to
  the cluster once for the class), grades it in a scratch folder of the Dask
  worker's machine with that machine's own isolation (:func:`sandbox.probe`,
  once per worker process) and returns the :class:`StudentResult` as bytes
  (the private gradebook, the autograded notebook and the feedback inside). No
  shared filesystem is assumed; every worker needs the ``regloss`` package
  installed (the same code and dependencies as the parent's: checked before
  the class is sent, :mod:`regloss.grading.run.cluster_match`) and ``unshare`` for
  the sandbox.

Either way the jobs are read lazily and handed out a few at a time
(:class:`InFlight`): twice as many as there are workers (threads of the
cluster) are submitted and unfinished at once, so a class of ten thousand is
never in the parent's memory, nor queued on the scheduler, at once.

Dask's own documentation covers starting a cluster: by hand (``dask scheduler``
and ``dask worker``), over SSH, on Kubernetes, or on an HPC job queue
(``dask-jobqueue``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from regloss.course import CourseError
from regloss.grading.wire.jobs import StudentJob, StudentResult

_ISOLATION: dict = {}
_ISOLATION_LOCK = threading.Lock()


class WarmPool:
    """One :class:`~regloss.grading.worker.warm.WarmAutograder` per thread that asks; :meth:`close` stops them all.

    :meth:`prestart` starts servers in the background (while the parent generates the
    assignment, say); a thread's first :meth:`get` takes one of them.
    """

    def __init__(self, iso):
        self.iso = iso
        self.local = threading.local()
        self.all = []
        self.ready = []  # (server, the thread starting it)
        self.templates = []  # the processes the prestarted servers were forked from
        self.lock = threading.Lock()

    def prestart(self, n, env):
        """Start ``n`` servers now, in the background: one template process does the
        imports and forks them (:func:`regloss.grading.worker.warm.start_copies`); a server
        that does not come up starts on its own at first use."""
        from regloss.grading.worker.warm import WarmAutograder, start_copies

        if n <= 0:
            return
        servers = [WarmAutograder(self.iso) for _ in range(n)]

        def start():
            try:
                template = start_copies(self.iso, servers, env)
            except Exception:  # noqa: BLE001 - each starts on its own when first used
                for w in servers:
                    w.close()
                return
            with self.lock:
                self.templates.append(template)

        t = threading.Thread(target=start, daemon=True, name="regloss-warm-start")
        t.start()
        with self.lock:
            for w in servers:
                self.all.append(w)
                self.ready.append((w, t))

    def get(self):
        from regloss.grading.worker.warm import WarmAutograder

        w = getattr(self.local, "warm", None)
        if w is None:
            with self.lock:
                taken = self.ready.pop(0) if self.ready else None
                if taken is None:
                    w = WarmAutograder(self.iso)
                    self.all.append(w)
            if taken is not None:
                w, t = taken
                t.join()
            self.local.warm = w
        return w

    def close(self):
        with self.lock:
            ready, self.ready = self.ready, []
        for _, t in ready:
            t.join()
        with self.lock:
            for w in self.all:
                w.close()
            self.all.clear()
            templates, self.templates = self.templates, []
        for t in templates:
            from regloss.grading.processes import kill_tree

            kill_tree(t.pid, wait=False)
            try:
                t.wait(timeout=10)
            except Exception:  # noqa: BLE001 - killed; nothing more to do
                pass
            if t.stdin is not None:
                t.stdin.close()


_TASK_WARM: dict = {}


def _isolation(enabled: bool):
    """This machine's isolation, probed once per process."""
    from regloss.grading.sandboxed.isolation import probe

    with _ISOLATION_LOCK:
        if enabled not in _ISOLATION:
            _ISOLATION[enabled] = probe(enabled)
        return _ISOLATION[enabled]


#: sha256 of the bytes -> InstructorBundle, per Dask worker process: decoded once per run, not per task
_BUNDLES: dict = {}


def grade_task(job_bytes: bytes, bundle_bytes: bytes, expected: dict | None = None) -> bytes:
    """The Dask task: grade one student on whichever machine runs it.

    Parameters
    ----------
    job_bytes : bytes
        :meth:`StudentJob.to_bytes` of the student's job, without the bundle
        (``with_bundle=False``).
    bundle_bytes : bytes
        :meth:`InstructorBundle.to_bytes` of the assignment: the same for the whole
        class, scattered to the cluster once (Dask hands each worker a copy).

    Returns
    -------
    bytes
        :meth:`StudentResult.to_bytes` of the result.
    """
    from regloss.course import tool_env
    from regloss.grading.wire.jobs import InstructorBundle
    from regloss.grading.worker.student import grade_student

    if expected is not None:
        from regloss.grading.run.cluster_match import this_worker

        this_worker(expected)
    os.environ["PATH"] = tool_env()["PATH"]  # nbgrader's Gradebook API runs `alembic` from here
    with _ISOLATION_LOCK:
        bundle = InstructorBundle.from_bytes(bundle_bytes, cache=_BUNDLES)
    job = StudentJob.from_bytes(job_bytes, bundle=bundle)
    iso = _isolation(job.settings.sandbox)  # this machine's isolation, not the parent's
    with _ISOLATION_LOCK:  # a warm nbgrader process per Dask worker process, kept between tasks
        pool = _TASK_WARM.setdefault(job.settings.sandbox, WarmPool(iso))
    scratch = Path(tempfile.mkdtemp(prefix="regloss-task-"))
    os.chmod(scratch, 0o700)
    try:
        return grade_student(job, scratch, iso, warm=pool.get()).to_bytes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class InFlight:
    """Hand out ``jobs`` (any iterable, read lazily) to ``submit`` with at most ``window``
    of them submitted and unfinished; iterate for ``(job, future)`` as each finishes.

    A class of ten thousand is then never in memory at once, nor queued at once on a
    cluster: the next submission is read when a place frees up.

    Parameters
    ----------
    jobs : iterable
    submit : callable
        ``submit(job) -> future``.
    first_done : callable
        ``first_done(futures) -> the finished ones`` (blocks until at least one is).
    window : int
    """

    def __init__(self, jobs, submit, first_done, window):
        self.jobs, self.submit, self.first_done = iter(jobs), submit, first_done
        self.window = max(1, int(window))
        self.pending = {}  # future -> job
        self.most = 0  # the largest number in flight at once (for the tests)

    def _fill(self):
        while len(self.pending) < self.window:
            job = next(self.jobs, None)
            if job is None:
                return
            self.pending[self.submit(job)] = job
            self.most = max(self.most, len(self.pending))

    def __iter__(self):
        self._fill()
        while self.pending:
            for f in self.first_done(list(self.pending)):
                yield self.pending.pop(f), f
            self._fill()

    def outcomes(self):
        """``(job, its result or the exception it raised)`` as each finishes: one student's
        failure is theirs alone (Ctrl-C is not a student's)."""
        for j, f in self:
            try:
                yield j, f.result()
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - reported per student
                yield j, exc


def connect(address: str, timeout: float = 30, check: bool = True):
    """A Dask client of the scheduler at ``address`` (``tcp://HOST:PORT``) whose
    workers all grade as this machine does (with ``check``:
    :func:`regloss.grading.run.cluster_match.check_workers`), or a
    :class:`CourseError` saying why not."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency
        raise CourseError(f"--scheduler needs dask[distributed]: {exc}") from exc
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise CourseError(f"cannot reach the Dask scheduler {address}: {exc}") from exc
    if not client.scheduler_info().get("workers"):
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            client.close()
            raise CourseError(f"the Dask scheduler {address} has no workers") from exc
    if check:
        from regloss.grading.run.cluster_match import check_workers

        try:
            check_workers(client)
        except BaseException:
            client.close()
            raise
    return client


def describe(address: str) -> str:
    """One line about the cluster at ``address`` (its workers and threads), once :func:`connect` has
    checked that every worker grades as this machine does."""
    client = connect(address)
    try:
        workers = client.scheduler_info().get("workers", {})
        threads = sum(w.get("nthreads", 1) for w in workers.values())
        return f"Dask cluster {address}: {len(workers)} workers, {threads} threads"
    finally:
        client.close()


def _local(jobs, workers, scratch, iso, procs, warm=None):
    from regloss.grading.worker.student import grade_student

    warm = warm or WarmPool(iso)

    def one(job):
        return grade_student(job, scratch, iso, procs, warm=warm.get())

    def first_done(futures):
        return wait(futures, return_when=FIRST_COMPLETED).done

    workers = max(1, workers)
    with ThreadPoolExecutor(max_workers=workers) as ex:
        flight = InFlight(jobs, lambda j: ex.submit(one, j), first_done, window=2 * workers)
        try:
            yield from flight.outcomes()
        except BaseException:
            for f in flight.pending:
                f.cancel()
            if procs is not None:
                procs.kill_all()
            raise
        finally:
            warm.close()


def _dask(jobs, address):
    from distributed import as_completed

    from regloss.grading.run.cluster_match import here

    # the run's describe() checked the workers before anything was graded; one that
    # joined since refuses its tasks (grade_task's ``expected``)
    client = connect(address, check=False)
    expected = here()
    run = uuid.uuid4().hex[:8]
    flight = None
    try:
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values())
        bundle = None
        finished = as_completed(loop=client.loop)  # every submitted future, yielded as it finishes

        def submit(j):
            nonlocal bundle
            if bundle is None:  # the assignment's files, sent once for the class, a copy on each worker
                bundle = client.scatter(j.bundle.to_bytes(), hash=False, broadcast=True)
            key = f"regloss-{j.bundle.assignment}-{j.student_id}-{run}"
            f = client.submit(grade_task, j.to_bytes(with_bundle=False), bundle, expected, key=key, pure=False)
            finished.add(f)
            return f

        def first_done(_futures):
            return [next(finished)]

        # enough queued that no worker waits for the parent; workers that join later get a share
        flight = InFlight(jobs, submit, first_done, window=max(4, 2 * threads))
        for j, f in flight:
            try:
                yield j, StudentResult.from_bytes(f.result())
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - reported per student
                yield j, exc
            finally:
                f.release()
    finally:
        if flight is not None and flight.pending:  # stopped early: the cluster forgets the rest
            client.cancel(list(flight.pending), force=True)
        client.close()


def results(jobs, *, workers=1, scheduler=None, scratch=None, iso=None, procs=None, warm=None, service=None):
    """Grade ``jobs``; yield ``(job, StudentResult or Exception)`` as each finishes.

    Parameters
    ----------
    jobs : list of StudentJob
    workers : int
        Local worker threads (ignored with ``scheduler``).
    scheduler : str or None
        ``tcp://HOST:PORT`` of a Dask scheduler: grade on its cluster.
    scratch : Path
        The local scratch folder (local workers only).
    iso : Isolation
        This machine's isolation (local workers only; Dask workers probe their own).
    procs : Processes, optional
        Where local workers register their processes (killed on Ctrl-C).
    warm : WarmPool, optional
        The local workers' warm processes (maybe started early); closed at the end.
    service : str or None
        The URL of a running ``regloss serve``: grade on its warm workers
        (:mod:`regloss.grading.run.via_service`).
    """
    if service:
        from regloss.grading.run import via_service

        yield from via_service.results(jobs, service)
    elif scheduler:
        yield from _dask(jobs, scheduler)
    else:
        yield from _local(jobs, workers, scratch, iso, procs, warm)
