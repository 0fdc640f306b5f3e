"""Support library for the ``regloss`` course.

It checks a student's NumPy losses and gradients against PyTorch, checks
gradients numerically, refuses work handed to another library, draws the
course's plots, and drives nbgrader for instructors.

It holds no answer to any graded exercise: every reference value it produces
comes from :mod:`torch.nn.functional` and :mod:`torch.autograd`.
"""

__version__ = "0.1.0"

LOSSES = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")
"""The four losses of the course that :mod:`torch.nn.functional` ships, by their names there.

Everything the checks know about a loss, these and the robust ones of assignment 07,
is its record in :data:`regloss.checks.losses.REGISTRY`; this plain tuple (equal to
the registry's ``torch.nn.functional`` losses, as a test asserts) is for code that
must not import :mod:`regloss.checks` (nor torch)."""


def __getattr__(name):
    """``from regloss import official_check`` without importing anything until it is used."""
    if name == "official_check":
        from regloss.official import official_check

        return official_check
    raise AttributeError(f"module 'regloss' has no attribute {name!r}")
