"""The model answers of assignment 05 against independent references.

The fits are taken from the source notebook itself: :func:`solution_functions`
execs the source of its solution cells, so these tests check exactly the code
students are graded against. References: numpy.polyfit for least squares,
scipy.optimize.least_squares(loss="huber") for the Huber fit, statsmodels'
QuantReg(q=0.5) for least absolute deviations.

Test names start with ``test_05_robust_`` so that ``pytest -k 05_robust`` selects
them together with the assignment's catalogue.
"""

import importlib.util
from functools import partial

import nbformat
import numpy as np
import pytest
from scipy.optimize import least_squares

from regloss.teaching.datasets import load_anscombe_iii, load_stackloss
from regloss.teaching.synthetic import line_with_outliers
from tests.harness import ROOT

A = "05_robust_line_fit"
FOLDER = ROOT / "solutions" / A


def solution_functions(names=("fit_line_ols", "fit_line_gd", "fit_line_irls"), folder=FOLDER):
    """Exec the solution cells ``names`` (by grade_id) of the assignment's source notebook.

    Returns
    -------
    dict
        ``name -> function``, defined in one namespace holding ``np``.
    """
    (path,) = folder.glob("*.ipynb")
    nb = nbformat.read(str(path), as_version=4)
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    namespace = {"np": np, "__name__": "solution"}
    for name in names:
        assert name in sources, f"no solution cell {name!r} in {path.name}"
        exec(compile(sources[name], f"{path.name}:{name}", "exec"), namespace)
    return {name: namespace[name] for name in names}


def assignment_losses(folder=FOLDER):
    """The ``losses.py`` shipped with the assignment, imported from its folder."""
    spec = importlib.util.spec_from_file_location("a05_losses", folder / "losses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FITS = solution_functions()
LOSSES = assignment_losses()


def huber_reference(x, y, delta):
    """argmin sum huber(y - a x - b; delta) by scipy.optimize.least_squares.

    SciPy fits the line in centred x (y = a (x - m) + c), which keeps its
    stopping rule accurate when x is far from 0; the result is mapped back.
    """
    m = x.mean()
    a, c = least_squares(lambda p: y - p[0] * (x - m) - p[1], np.polyfit(x - m, y, 1), loss="huber",
                         f_scale=delta, xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    return np.array([a, c - a * m])


def datasets():
    out = [("anscombe", *_xy(load_anscombe_iii())), ("stackloss", *_xy(load_stackloss()))]
    for seed, n, slope, shift, frac in ((1, 20, 2.0, 0.0, 0.1), (2, 100, -0.5, 40.0, 0.3), (3, 400, 5.0, -10.0, 0.2)):
        d = line_with_outliers(np.random.default_rng(seed), n=n, slope=slope, intercept=3.0, noise=1.5,
                               x_range=(shift, shift + 10), outlier_fraction=frac)
        out.append((f"synthetic-{seed}", d.x, d.y))
    return out


def _xy(d):
    return d.x, d.y


DATA = datasets()
IDS = [d[0] for d in DATA]


@pytest.mark.parametrize("name,x,y", DATA, ids=IDS)
def test_05_robust_ols_agrees_with_polyfit(name, x, y):
    np.testing.assert_allclose(FITS["fit_line_ols"](x, y), np.polyfit(x, y, 1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("delta", [0.5, 1.345, 3.0])
@pytest.mark.parametrize("name,x,y", DATA, ids=IDS)
def test_05_robust_irls_agrees_with_scipy_least_squares_huber(name, x, y, delta):
    fit = FITS["fit_line_irls"](x, y, delta=delta)
    np.testing.assert_allclose(fit, huber_reference(x, y, delta), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,x,y", DATA, ids=IDS)
def test_05_robust_gd_with_the_huber_gradient_converges_to_irls(name, x, y):
    delta = 1.345
    gd = FITS["fit_line_gd"](x, y, partial(LOSSES.huber_loss_grad, delta=delta), n_steps=5000)
    np.testing.assert_allclose(gd, FITS["fit_line_irls"](x, y, delta=delta), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,x,y", DATA, ids=IDS)
def test_05_robust_gd_with_the_mse_gradient_reaches_least_squares(name, x, y):
    np.testing.assert_allclose(FITS["fit_line_gd"](x, y, LOSSES.mse_loss_grad), np.polyfit(x, y, 1),
                               rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("name,x,y", DATA, ids=IDS)
def test_05_robust_lad_by_gradient_descent_is_close_to_quantreg(name, x, y):
    sm = pytest.importorskip("statsmodels.api")
    q = sm.QuantReg(y, sm.add_constant(x)).fit(q=0.5, max_iter=5000)
    ref_intercept, ref_slope = q.params
    slope, intercept = FITS["fit_line_gd"](x, y, LOSSES.l1_loss_grad, lr=0.005, n_steps=20000)
    # LAD need not have a unique minimiser: compare the objective tightly, the line loosely
    obj = np.abs(y - slope * x - intercept).sum()
    ref = np.abs(y - ref_slope * x - ref_intercept).sum()
    assert obj <= ref * (1 + 2e-3) + 1e-9, (obj, ref)
    sx, sy = x.std(), np.median(np.abs(y - np.median(y)))
    assert abs(slope - ref_slope) * sx < 0.05 * sy, ((slope, intercept), (ref_slope, ref_intercept))
    mid = x.mean()
    assert abs((slope - ref_slope) * mid + intercept - ref_intercept) < 0.05 * sy


def test_05_robust_smooth_l1_gd_has_the_huber_minimiser():
    """SmoothL1(beta) = Huber(delta=beta) / beta: the same line."""
    _, x, y = DATA[3]
    gd = FITS["fit_line_gd"](x, y, partial(LOSSES.smooth_l1_loss_grad, beta=2.0), lr=0.5, n_steps=5000)
    np.testing.assert_allclose(gd, huber_reference(x, y, 2.0), rtol=1e-6, atol=1e-6)


def test_05_robust_shipped_losses_match_pytorch():
    from regloss.checks.reference import torch_grad, torch_loss

    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(2, 4, 5)) * 2
    x[0, 0] = t[0, 0]
    x[0, 1] = t[0, 1] + 1.0     # |e| = delta = beta = 1 exactly
    for name, params in (("l1_loss", {}), ("mse_loss", {}), ("huber_loss", {"delta": 1.0}),
                         ("huber_loss", {"delta": 0.3}), ("smooth_l1_loss", {"beta": 1.0}),
                         ("smooth_l1_loss", {"beta": 0.0})):
        for reduction in ("none", "mean", "sum"):
            np.testing.assert_allclose(getattr(LOSSES, name)(x, t, reduction, **params),
                                       torch_loss(name, x, t, reduction, **params), rtol=1e-12)
            np.testing.assert_allclose(getattr(LOSSES, name + "_grad")(x, t, reduction, **params),
                                       torch_grad(name, x, t, reduction, **params), rtol=1e-12)
