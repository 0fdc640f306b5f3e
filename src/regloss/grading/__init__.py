"""Grading a class with nbgrader, a sub-package per process role (``docs/architecture.md`` has the map).

* :mod:`~regloss.grading.run`: the parent process -- intake, the pool of workers (threads or a
  Dask cluster), the cluster check, the run's state, the main gradebook, the command;
* :mod:`~regloss.grading.worker`: one student -- the warm nbgrader process, autograde, feedback;
* :mod:`~regloss.grading.judge`: the instructor's test cells against proxies of the student's
  functions; it runs no student code;
* :mod:`~regloss.grading.sandboxed`: what runs as student code or beside it -- the answer
  process, the sandbox kernel, their zygotes, the isolation and the import policy;
* :mod:`~regloss.grading.wire`: the plain data that crosses between them -- jobs and results,
  the judge/answer protocol, problems;
* :mod:`~regloss.grading.report` and :mod:`~regloss.grading.lms`: what a run hands back, and
  one record per learning-management system.

Beside them: :mod:`~regloss.grading.settings` (the run's one settings record),
:mod:`~regloss.grading.programs` (the programs a run starts) and
:mod:`~regloss.grading.processes` (process plumbing).
"""
