"""Grading a class with nbgrader: in parallel, in isolation, robust to anything students submit.

``intake`` (submissions: folder or zip, notebook discovery, JSON validation),
``isolate`` (private working copies, the sandboxed kernel, resource limits),
``runner`` (parallel autograde workers, the run's state), ``gradebook`` (the
instructor area, merging into the main gradebook), ``report`` (grades.csv, the
summary table, common mistakes, the score histogram). The command line is
``regloss grade`` / ``regloss demo`` (:mod:`regloss.grading.command`).
"""
