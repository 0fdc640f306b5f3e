"""Support library for the ``regloss`` course.

It checks a student's NumPy losses and gradients against PyTorch, checks
gradients numerically, refuses work handed to another library, draws the
course's plots, and drives nbgrader for instructors.

It holds no answer to any graded exercise: every reference value it produces
comes from :mod:`torch.nn.functional` and :mod:`torch.autograd`.
"""

__version__ = "0.1.0"

LOSSES = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")
"""The four losses of the course, named as in :mod:`torch.nn.functional`."""

ROBUST_LOSSES = ("log_cosh_loss", "pseudo_huber_loss", "cauchy_loss", "tukey_biweight_loss", "quantile_loss",
                 "general_robust_loss")
"""The robust losses of assignment 07, which :mod:`torch.nn.functional` does not ship:
:mod:`regloss.checks.reference` defines each as a torch expression."""

ALL_LOSSES = LOSSES + ROBUST_LOSSES
"""Every loss :mod:`regloss.checks` knows."""
