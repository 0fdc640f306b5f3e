"""The environment of every process that runs a student's code, or that forks one: an allow-list.

The instructor's environment holds what student code must never see: database passwords
(``PGPASSWORD``), API tokens, cloud credentials, the paths of their files. Nothing of it
is copied: the processes of the worker side (the warm nbgrader process, whose exec-time
environment every kernel and answer process forked from it inherits in
``/proc/self/environ``; the nbgrader process; the judge; the kernels; the answer
processes) start from :func:`student_env`, which passes only the variables named in
:data:`PASSED` -- how to find programs and libraries, the locale, the thread counts --
plus what the grader sets itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: Variables passed from the grader's environment to the worker side: none holds a secret.
PASSED = (
    "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_MESSAGES", "TZ",
    "PYTHONPATH", "LD_LIBRARY_PATH",  # where this interpreter's packages are (a worker may run an edited copy)
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",  # how many threads NumPy and torch use
    "REGLOSS_NO_ZYGOTE",  # the grader's own switch: start kernels and answer processes afresh
)


def student_env(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed environment: :data:`PASSED` from ``base`` (default: this process's),
    ``PATH`` with this interpreter's ``bin/`` first (nbgrader runs ``jupyter`` and ``alembic``
    from it), then ``extra``."""
    base = os.environ if base is None else base
    env = {k: base[k] for k in PASSED if k in base}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), base.get("PATH", os.defpath)])
    env.update(extra or {})
    return env
