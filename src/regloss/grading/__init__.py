"""Grading a class with nbgrader, by process role.

* parent (:mod:`~regloss.grading.run.parent`): intake (:mod:`~regloss.grading.run.intake`),
  the pool of workers, merging into the gradebook (:mod:`~regloss.grading.run.gradebook`),
  the report (:mod:`~regloss.grading.report.tables`);
* the parent/worker boundary: :mod:`~regloss.grading.wire.jobs` (``StudentJob -> StudentResult``);
* worker (:mod:`~regloss.grading.worker.student`): one student; its nbgrader process
  (:mod:`~regloss.grading.worker.autograde`) and the feedback (:mod:`~regloss.grading.worker.feedback`);
* kernel side (:mod:`~regloss.grading.sandboxed.kernel`): what runs beside student code in
  the nbgrader kernel;
* judge (:mod:`~regloss.grading.judge.judging`): the instructor's test cells, against proxies;
* answer process (:mod:`~regloss.grading.sandboxed.answer`): the student's code, sandboxed;
  the judge/answer boundary is :mod:`~regloss.grading.wire.protocol` (plain data only);
  what it may import is :mod:`~regloss.grading.sandboxed.policy`;
* the operating system's isolation: :mod:`~regloss.grading.sandboxed.isolation`; problems as
  values: :mod:`~regloss.grading.wire.problems`.

The command line is ``regloss grade`` / ``regloss demo`` (:mod:`regloss.grading.run.command`).
"""
