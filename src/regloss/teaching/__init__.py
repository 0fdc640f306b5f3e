"""What the notebooks' prose cells call: plots, data sets (and their data files),
synthetic data and noise models.

Modules: :mod:`~regloss.teaching.plotting` (loss and gradient curves),
:mod:`~regloss.teaching.fitplots` (line fits, sweeps), :mod:`~regloss.teaching.studyplots`
(tables, heat-maps), :mod:`~regloss.teaching.datasets` (+ ``data/``),
:mod:`~regloss.teaching.synthetic` (lines with outliers), :mod:`~regloss.teaching.noise`,
:mod:`~regloss.teaching.robust_views` (07's loss, psi and weight panels, influence and gap
tables, the Theil-Sen start, the distance from Barron's family).
Matplotlib is imported only when a plot is drawn.
"""

from regloss.teaching.datasets import load_anscombe_iii, load_stackloss
from regloss.teaching.fitplots import plot_fits, plot_sweep
from regloss.teaching.noise import contaminated_normal, gaussian, laplace, noise_models, student_t
from regloss.teaching.plotting import error_grid, plot_curves, plot_losses_and_gradients
from regloss.teaching.studyplots import format_table, plot_heatmap, plot_lines, plot_noise_histograms
from regloss.teaching.synthetic import line_with_outliers

__all__ = ["contaminated_normal", "error_grid", "format_table", "gaussian", "laplace", "line_with_outliers",
           "load_anscombe_iii", "load_stackloss", "noise_models", "plot_curves", "plot_fits",
           "plot_heatmap", "plot_lines", "plot_losses_and_gradients", "plot_noise_histograms", "plot_sweep",
           "student_t"]
