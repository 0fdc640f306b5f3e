"""Grading a class with nbgrader, by process role.

* parent (:mod:`~regloss.grading.parent`): intake (:mod:`~regloss.grading.intake`),
  the pool of workers, merging into the gradebook (:mod:`~regloss.grading.gradebook`),
  the report (:mod:`~regloss.grading.report`);
* the parent/worker boundary: :mod:`~regloss.grading.jobs` (``StudentJob -> StudentResult``);
* worker (:mod:`~regloss.grading.worker`): one student; its nbgrader process
  (:mod:`~regloss.grading.autograde`) and the feedback (:mod:`~regloss.grading.feedback`);
* kernel side (:mod:`~regloss.grading.kernel`): what runs beside student code in
  the nbgrader kernel;
* judge (:mod:`~regloss.grading.judge`): the instructor's test cells, against proxies;
* answer process (:mod:`~regloss.grading.answer`): the student's code, sandboxed;
  the judge/answer boundary is :mod:`~regloss.grading.protocol` (plain data only);
  what it may import is :mod:`~regloss.grading.policy`;
* the operating system's isolation: :mod:`~regloss.grading.sandbox`; problems as
  values: :mod:`~regloss.grading.problems`.

The command line is ``regloss grade`` / ``regloss demo`` (:mod:`regloss.grading.command`).
"""
