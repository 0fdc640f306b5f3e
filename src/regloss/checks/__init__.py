"""What the notebooks' test cells call: the PyTorch reference, the probe cases,
comparison and diagnosis, the own-work check and finite differences.

Modules: :mod:`~regloss.checks.losses` (one record per loss, :data:`~regloss.checks.losses.REGISTRY`:
everything the others know about a loss), :mod:`~regloss.checks.mistakes` (the mistakes a
hint can name, by stable id, and :class:`~regloss.checks.mistakes.Hint`),
:mod:`~regloss.checks.reference` (the truth: ``torch.nn.functional``, torch
expressions for 07's robust losses, and autograd), :mod:`~regloss.checks.cases`,
:mod:`~regloss.checks.compare`, :mod:`~regloss.checks.diagnose` (and
:mod:`~regloss.checks.diagnose_robust` for 07's losses), :mod:`~regloss.checks.own_work`,
:mod:`~regloss.checks.gradcheck`, :mod:`~regloss.checks.fits` (SciPy's Cauchy line fit,
07). Torch is imported only when a reference value is first needed.
"""

from regloss.checks.cases import Case, case, convention_cases, invalid_calls, probe_cases, uniform_cases
from regloss.checks.compare import check_grad, check_invalid_arguments, check_loss, quiet
from regloss.checks.gradcheck import check_gradient, numerical_gradient, rel_error
from regloss.checks.own_work import assert_own_work
from regloss.checks.reference import torch_error, torch_grad, torch_loss

__all__ = ["Case", "assert_own_work", "case", "check_grad", "check_gradient", "check_invalid_arguments",
           "check_loss", "convention_cases", "invalid_calls", "numerical_gradient", "probe_cases", "quiet",
           "rel_error", "torch_error", "torch_grad", "torch_loss", "uniform_cases"]
