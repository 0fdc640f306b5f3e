"""What the course's own long-lived and command-line processes do before their imports.

:func:`skip_slow_optional_imports`: ``jsonschema`` (imported by ``nbformat``, so by
nbgrader and by the ``regloss`` command) imports the optional ``rfc3987_syntax``
when it is installed, only to check the ``iri`` and ``iri-reference`` string
formats; that module compiles a Lark grammar at import, 0.7 s of every process
start on the course's machines. No schema these processes validate (nbformat's
notebook schema, nbgrader's) uses those formats. Marking the module as absent
makes jsonschema go without those two format checks, as it does wherever the
package is not installed.

Called by the ``regloss`` command and the warm grading process
(:mod:`regloss.grading.worker.warm`); never by the library a notebook imports. The
processes those zygotes fork for students call :func:`restore_optional_imports`
first, so student code finds the module as it would anywhere.
"""

from __future__ import annotations

import sys

SLOW_OPTIONAL = ("rfc3987_syntax",)


def skip_slow_optional_imports():
    """Make ``import rfc3987_syntax`` fail fast in this process (see the module docstring);
    a module already imported is left alone."""
    for name in SLOW_OPTIONAL:
        sys.modules.setdefault(name, None)


def restore_optional_imports():
    """Undo :func:`skip_slow_optional_imports` (in a process forked for student code)."""
    for name in SLOW_OPTIONAL:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
