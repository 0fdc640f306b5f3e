"""Data, models and plots for assignment 08 (the losses in training).

Everything is small enough to train on one CPU core in a fraction of a second,
and seeded explicitly: a model's weights come from ``np.random.default_rng(seed)``,
never from torch's global generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _torch():
    import torch

    return torch


def target_function(x):
    """The noise-free function the regression must recover: ``sin(2x) + 0.3 x``.

    ``x`` of any shape; returns the same shape.
    """
    return np.sin(2.0 * x) + 0.3 * x


@dataclass
class RegressionData:
    """Train and test tensors, shape ``(n, 1)`` each, float32.

    ``y_train`` carries noise and outliers; ``f_test`` is the noise-free
    function at ``x_test`` (what a good model predicts); ``is_outlier`` marks
    the corrupted training targets.
    """

    x_train: object
    y_train: object
    x_test: object
    f_test: object
    is_outlier: np.ndarray


def regression_data(seed, n_train=512, n_test=400, noise=0.2, df=2.0, outlier_fraction=0.1, outlier_size=8.0):
    """A 1-d regression with heavy-tailed noise and gross outliers.

    ``y = target_function(x) + noise * t_df`` (Student's t with ``df`` degrees
    of freedom: heavy tails, infinite variance for ``1 < df <= 2``), and each
    training target, with probability ``outlier_fraction``, replaced by
    ``f(x) + outlier_size * (1 + U(0, 1))`` (all above the curve, as a biased
    sensor would). ``x ~ U(-3, 3)``; the test inputs are an even grid.

    Returns
    -------
    RegressionData
    """
    torch = _torch()
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n_train)
    y = target_function(x) + noise * rng.standard_t(df, n_train)
    out = rng.random(n_train) < outlier_fraction
    y = np.where(out, target_function(x) + outlier_size * (1.0 + rng.random(n_train)), y)
    xt = np.linspace(-3.0, 3.0, n_test)

    def col(a):
        return torch.tensor(a, dtype=torch.float32).reshape(-1, 1)

    return RegressionData(col(x), col(y), col(xt), col(target_function(xt)), out)


def mlp(seed, hidden=32, inputs=1, dtype=None, outputs=1):
    """A two-hidden-layer tanh MLP ``inputs -> hidden -> hidden -> outputs``.

    Weights drawn from ``np.random.default_rng(seed)`` with PyTorch's default
    scale (uniform in +-1/sqrt(fan_in)), so that two calls with one seed give
    identical models.
    """
    torch = _torch()
    dtype = dtype or torch.float32
    rng = np.random.default_rng(seed)
    model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden),
                                torch.nn.Tanh(), torch.nn.Linear(hidden, outputs)).to(dtype)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                bound = 1.0 / np.sqrt(layer.in_features)
                layer.weight.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(layer.weight.shape)), dtype=dtype))
                layer.bias.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(layer.bias.shape)), dtype=dtype))
    return model


def mlp_ensemble(seeds, hidden=32, inputs=1, dtype=None, outputs=1):
    """``S = len(seeds)`` independent MLPs of :func:`mlp`, held as one module.

    Each layer's weights are stacked along a first axis of size ``S``; member
    ``s`` starts from the weights of ``mlp(seeds[s], ...)``. ``forward(x)`` takes
    ``x`` of shape ``(n, inputs)`` (every member sees the same inputs) or
    ``(S, n, inputs)`` (member ``s`` sees ``x[s]``) and returns ``(S, n, outputs)``,
    member ``s``'s predictions in row ``s``: one batched matrix product per layer
    instead of ``S`` models one after the other.

    The members share no parameter, so the gradient of the *sum* of their losses
    with respect to member ``s``'s weights is the gradient of member ``s``'s own
    loss; an optimiser that acts element by element (SGD with or without weight
    decay, Adam, AdamW) then moves each member as it would move it alone, up to
    floating-point rounding. :func:`member` returns one member as an ordinary MLP.
    """
    models = [mlp(s, hidden=hidden, inputs=inputs, dtype=dtype, outputs=outputs) for s in seeds]
    return _ensemble_class()(models)


_ENSEMBLE = None


def _ensemble_class():
    global _ENSEMBLE
    if _ENSEMBLE is None:
        torch = _torch()

        class MLPEnsemble(torch.nn.Module):
            def __init__(self, models):
                super().__init__()
                linears = [[m for m in model if isinstance(m, torch.nn.Linear)] for model in models]
                self.size = len(models)
                self.weights = torch.nn.ParameterList(
                    [torch.nn.Parameter(torch.stack([ls[i].weight.detach().T for ls in linears]).clone())
                     for i in range(3)])
                self.biases = torch.nn.ParameterList(
                    [torch.nn.Parameter(torch.stack([ls[i].bias.detach()[None, :] for ls in linears]).clone())
                     for i in range(3)])

            def forward(self, x):
                h = x if x.dim() == 3 else x.expand(self.size, *x.shape)
                for i, (w, b) in enumerate(zip(self.weights, self.biases)):
                    h = torch.matmul(h, w) + b
                    if i < 2:
                        h = torch.tanh(h)
                return h

        _ENSEMBLE = MLPEnsemble
    return _ENSEMBLE


def member(ensemble, s):
    """Member ``s`` of an :func:`mlp_ensemble` as an ordinary MLP (a copy of its current weights)."""
    torch = _torch()
    w, b = ensemble.weights, ensemble.biases
    layers = []
    for i in range(3):
        lin = torch.nn.Linear(w[i].shape[1], w[i].shape[2]).to(w[i].dtype)
        with torch.no_grad():
            lin.weight.copy_(w[i][s].T)
            lin.bias.copy_(b[i][s, 0])
        layers += [lin, torch.nn.Tanh()] if i < 2 else [lin]
    return torch.nn.Sequential(*layers)


def test_errors(model, x, f):
    """``(MAE, RMSE)`` of ``model(x)`` against the noise-free ``f``, as Python floats."""
    torch = _torch()
    with torch.no_grad():
        r = (model(x) - f).double()
    return float(r.abs().mean()), float(r.pow(2).mean().sqrt())


def parameter_vector(model):
    """All parameters of ``model`` as one float64 NumPy vector."""
    return np.concatenate([p.detach().double().numpy().ravel() for p in model.parameters()])


def plot_learning_curves(curves, ax=None, ylabel="test MAE", title=None, every=1, logy=True):
    """One line per label: ``curves[label]`` is a sequence of values, one per ``every`` steps."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(len(values)) * every, values, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if curves:
        ax.legend(fontsize="small")
    return ax


def plot_regression(data, models, ax=None, title=None):
    """The training points (outliers marked), the true function and each model's curve."""
    import matplotlib.pyplot as plt

    torch = _torch()
    ax = ax or plt.gca()
    x, y = data.x_train.numpy().ravel(), data.y_train.numpy().ravel()
    ax.scatter(x[~data.is_outlier], y[~data.is_outlier], s=5, c="0.6", label="training data")
    ax.scatter(x[data.is_outlier], y[data.is_outlier], s=8, c="tab:red", marker="x", label="outliers")
    xt = data.x_test.numpy().ravel()
    ax.plot(xt, data.f_test.numpy().ravel(), "k--", lw=2, label="true function")
    with torch.no_grad():
        for label, model in models.items():
            ax.plot(xt, model(data.x_test).numpy().ravel(), lw=1.5, label=label)
    ax.set_ylim(-3, 4)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", ncol=2)
    return ax


def q_regression_data(seed, n=2000, n_features=8, explode_fraction=0.005, explode_size=500.0, noise=0.5):
    """A Q-value regression: features ``phi (n, n_features)``, TD targets and the true Q.

    ``q_true = phi @ w_true``; the targets are ``q_true + noise * N(0, 1)``,
    each of them, with probability ``explode_fraction``, also off by
    ``+-explode_size`` (a bootstrapped target that exploded).

    Returns
    -------
    phi, targets, q_true : float32 tensors of shapes ``(n, n_features)``, ``(n, 1)``, ``(n, 1)``
    exploded : numpy.ndarray of bool, shape ``(n,)``
    """
    torch = _torch()
    rng = np.random.default_rng(seed)
    phi = rng.normal(0.0, 1.0, (n, n_features)) / np.sqrt(n_features)
    w = rng.normal(0.0, 3.0, n_features)
    q = phi @ w
    boom = rng.random(n) < explode_fraction
    y = q + noise * rng.normal(0.0, 1.0, n) + boom * explode_size * rng.choice([-1.0, 1.0], n)

    def t(a):
        return torch.tensor(a, dtype=torch.float32).reshape(len(a), -1)

    return t(phi), t(y), t(q), boom
