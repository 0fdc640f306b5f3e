"""Which modules the answer process may import, per assignment.

The answer process (:mod:`regloss.grading.sandboxed.answer`) runs the student's code with
the libraries that could do an exercise's work out of reach: PyTorch, SciPy,
scikit-learn, statsmodels, JAX, TensorFlow, pandas and ``regloss.checks`` (the
reference and the checks). An assignment whose exercises need one of them in
the student's own code says so, either in :data:`ALLOWED` below or in its
source notebook's metadata::

    "metadata": {"regloss": {"answer_may_import": ["torch"]}}

(``08_training`` grades ``numpy_loss_function(loss, loss_grad) -> f``, where
``f`` works on torch tensors: its answer process may import torch.)
"""

from __future__ import annotations

from dataclasses import dataclass

#: Top-level packages (or dotted sub-packages) the answer process cannot import.
BLOCKED = ("torch", "scipy", "sklearn", "statsmodels", "jax", "tensorflow", "pandas", "regloss.checks")

#: assignment -> modules of :data:`BLOCKED` its answer process may import after all.
ALLOWED = {"08_training": ("torch",)}


@dataclass(frozen=True)
class AnswerPolicy:
    """What the answer process of one assignment may not import.

    Attributes
    ----------
    blocked : tuple of str
        Module names; a name blocks the module and everything under it.
    """

    blocked: tuple = BLOCKED

    def is_blocked(self, module):
        return any(module == b or module.startswith(b + ".") for b in self.blocked)


def policy_for(assignment, notebook_metadata=None) -> AnswerPolicy:
    """The :class:`AnswerPolicy` of ``assignment`` (its source notebook's metadata may allow more)."""
    allowed = set(ALLOWED.get(assignment, ()))
    allowed |= set(((notebook_metadata or {}).get("regloss") or {}).get("answer_may_import", ()))
    return AnswerPolicy(tuple(b for b in BLOCKED if b not in allowed))


def describe_policy(assignment, isolation) -> str:
    """The run's ``judge:`` line."""
    p = policy_for(assignment)
    how = ("hidden from its mount namespace and refused by an import blocker" if isolation.filesystem
           else "refused by an import blocker only (no mount namespace: a determined student could get past it)")
    return (f"test cells run outside the student's kernel; student code runs in a separate answer process "
            f"where {', '.join(p.blocked)} are {how}")
