"""One student, graded in a worker: the warm nbgrader process, autograde, the feedback page, the kernel manager."""
