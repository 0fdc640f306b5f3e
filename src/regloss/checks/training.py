"""Checks for assignment 08: a NumPy loss as a torch loss, and a training loop.

The test cells hand the student's *functions* to these helpers and keep every
tensor in here: a judge that runs the student's code elsewhere adapts this one
module. The truth is PyTorch: ``torch.nn.functional.<loss>`` with autograd for
:func:`check_numpy_loss_function`, and for :func:`check_train` parameter updates
computed from ``torch.autograd.grad`` and the optimisers' published update
rules (plain SGD with L2 weight decay, Adam), written without ``torch.optim``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from regloss.checks.compare import quiet, tolerance
from regloss.checks.own_work import forbidden_calls

#: What ``numpy_loss_function`` may not call: the losses it must build from the NumPy callables.
TORCH_LOSSES = ("torch.l1_loss", "torch.mse_loss", "torch.huber_loss", "torch.smooth_l1_loss")
NOT_TORCH = ("scipy", "sklearn", "statsmodels", "jax", "tensorflow", "pandas")


def _torch():
    import torch

    return torch


@dataclass(frozen=True)
class Probe:
    """One call ``f(input, target, reduction)`` of the torch loss a student builds.

    ``shape`` of input and target; ``dtype`` a NumPy dtype name; ``strided``
    makes ``input`` a non-contiguous view (a transpose); ``target_grad`` makes
    ``target`` require grad too; ``scale`` multiplies the random
    ``grad_output`` of the backward pass.
    """

    shape: tuple = (6,)
    dtype: str = "float64"
    reduction: str = "mean"
    strided: bool = False
    target_grad: bool = False
    scale: float = 1.0

    def describe(self, name, params):
        extra = [f"{k}={v!r}" for k, v in params.items()]
        flags = [f"shape {self.shape}", self.dtype] + (["non-contiguous input"] if self.strided else []) + \
                (["target requires grad"] if self.target_grad else [])
        return f"f = numpy_loss_function({name}, {name}_grad{''.join(', ' + e for e in extra)}); " \
               f"f(input, target, reduction={self.reduction!r}) [{', '.join(flags)}]"


def _data(rng, probe, params):
    torch = _torch()
    scale = float(next(iter(params.values()), 1.0) or 1.0)
    n = int(np.prod(probe.shape)) if probe.shape else 1
    e = rng.normal(0.0, 2.0 * scale, n)
    if n >= 4:
        e[0] = 0.0                    # an error of exactly 0
        e[1] = 7.0 * scale            # far in the linear zone
    t = rng.normal(0.0, 1.0, n)
    x = t + e
    dtype = getattr(torch, probe.dtype)
    shape = tuple(probe.shape)
    if probe.strided and len(shape) == 2:
        leaf = torch.tensor(x.reshape(shape).T.copy(), dtype=dtype).requires_grad_(True)
        xin = leaf.t()                # non-contiguous, shape `shape`
    else:
        leaf = torch.tensor(x.reshape(shape), dtype=dtype).requires_grad_(True)
        xin = leaf
    tleaf = torch.tensor(t.reshape(shape), dtype=dtype).requires_grad_(probe.target_grad)
    return leaf, xin, tleaf


def _reference(name, xin, t, reduction, params):
    torch = _torch()
    return getattr(torch.nn.functional, name)(xin, t, reduction=reduction, **params)


def _grads(out, leaves, w):
    torch = _torch()
    need = [v for v in leaves if v.requires_grad]
    gs = torch.autograd.grad(out, need, grad_outputs=w, allow_unused=True)
    return list(gs)


def _run_student(numpy_loss_function, loss, loss_grad, params, xin, t, reduction, label):
    torch = _torch()
    try:
        with quiet():
            f = numpy_loss_function(loss, loss_grad, **params)
            out = f(xin, t, reduction)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{label} raised {type(exc).__name__}: {exc}") from None
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"{label} returned {type(out).__name__}; a torch loss returns a torch.Tensor "
                             "(convert the NumPy result with torch.as_tensor)")
    return out


def _fmt(t):
    a = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    return np.array2string(np.asarray(a), precision=5, threshold=8) if np.ndim(a) else f"{float(a):.6g}"


def _check_probe(numpy_loss_function, loss, loss_grad, name, params, probe, rng):
    torch = _torch()
    label = probe.describe(name, params)
    leaf, xin, t = _data(rng, probe, params)
    truth = _reference(name, xin, t, probe.reduction, params)
    out = _run_student(numpy_loss_function, loss, loss_grad, params, xin, t, probe.reduction, label)
    if out.shape != truth.shape:
        raise AssertionError(f"{label} has shape {tuple(out.shape)}, PyTorch's {name} {tuple(truth.shape)}"
                             + (": a reduced loss is a 0-d tensor (shape ())" if truth.dim() == 0 else ""))
    if out.dtype != truth.dtype:
        raise AssertionError(f"{label} has dtype {out.dtype}; input is {xin.dtype}: give the result input's dtype "
                             "(and device), e.g. torch.as_tensor(value, dtype=input.dtype, device=input.device)")
    if out.grad_fn is None:
        raise AssertionError(f"{label} returned a tensor with no grad_fn although input requires grad: "
                             "return the output of your autograd.Function's .apply")
    rtol, atol = tolerance(np.dtype(probe.dtype))
    if not np.allclose(out.detach().numpy(), truth.detach().numpy(), rtol=rtol, atol=atol):
        raise AssertionError(f"{label} gives {_fmt(out)}, PyTorch's {name} {_fmt(truth)}")
    gen = np.random.default_rng(int(rng.integers(2**31)))
    w = torch.tensor(probe.scale * gen.uniform(0.5, 2.0, tuple(truth.shape)) * gen.choice([-1.0, 1.0]),
                     dtype=truth.dtype)
    leaves = [leaf, t]
    try:
        with quiet():
            got = _grads(out, leaves, w)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{label}: backward raised {type(exc).__name__}: {exc}") from None
    want = _grads(truth, leaves, w)
    for which, g, r in zip(("input", "target"), got, want):
        if g is None:
            raise AssertionError(f"{label}: no gradient reached {which}: backward must return one for it "
                                 f"(d loss / d target = -d loss / d input)")
        if g.dtype != r.dtype:
            raise AssertionError(f"{label}: the gradient for {which} has dtype {g.dtype}, not {r.dtype}")
        gn, rn = g.detach().numpy(), r.detach().numpy()
        if not np.allclose(gn, rn, rtol=rtol, atol=atol):
            raise AssertionError(f"{label}: backward with grad_output = {_fmt(w)} gives d/d {which} "
                                 f"{_fmt(g)}, autograd on PyTorch's {name} gives {_fmt(r)}"
                                 + _grad_hint(gn, rn, w, which, truth))
    return 1


def _grad_hint(g, r, w, which, truth):
    wn = w.detach().numpy()
    n = truth.numel() if truth.dim() else None
    with np.errstate(all="ignore"):
        if np.allclose(g * wn, r, rtol=1e-3, atol=1e-6) or np.allclose(g, r / wn, rtol=1e-3, atol=1e-6):
            return ": backward ignores grad_output (multiply loss_grad's result by it)"
        if np.allclose(g, -r, rtol=1e-3, atol=1e-6):
            return (": the sign is flipped" + (" (d loss / d target = -d loss / d input)" if which == "target" else ""))
    ratio = np.median(np.abs(g[np.abs(r) > 0] / r[np.abs(r) > 0])) if np.any(np.abs(r) > 0) else np.nan
    for k in range(2, 5000):
        if np.isclose(ratio, k, rtol=1e-3) and np.allclose(g, k * r, rtol=1e-3, atol=1e-6):
            return f": {k} times too large, the gradient of the sum for a mean?"
        if ratio > 5001:
            break
    return ""


def _follows(numpy_loss_function, loss, loss_grad, name, params, rng):
    """The forward must come from ``loss`` and the backward from ``loss_grad``."""
    torch = _torch()

    def shifted_loss(*args, **kwargs):
        return np.asarray(loss(*args, **kwargs)) + 1.0

    def tripled_grad(*args, **kwargs):
        return 3.0 * np.asarray(loss_grad(*args, **kwargs))

    probe = Probe((5,), "float64", "mean")
    leaf, xin, t = _data(rng, probe, params)
    truth = _reference(name, xin, t, "mean", params)
    label = f"numpy_loss_function(loss, loss_grad) with a loss that adds 1 to {name}"
    out = _run_student(numpy_loss_function, shifted_loss, loss_grad, params, xin, t, "mean", label)
    if not np.isclose(float(out.detach()), float(truth.detach()) + 1.0, rtol=1e-9):
        raise AssertionError(f"{label} gives {float(out.detach()):.6g}, not {name} + 1 = {float(truth) + 1:.6g}: "
                             "the forward pass must call the NumPy `loss` it is given")
    label = f"numpy_loss_function(loss, loss_grad) with a loss_grad that triples {name}_grad"
    out = _run_student(numpy_loss_function, loss, tripled_grad, params, xin, t, "mean", label)
    try:
        with quiet():
            (g,) = torch.autograd.grad(out, leaf)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{label}: backward raised {type(exc).__name__}: {exc}") from None
    (r,) = torch.autograd.grad(truth, leaf)
    if not np.allclose(g.numpy(), 3.0 * r.numpy(), rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{label}: the gradient is {_fmt(g)}, not 3 times autograd's {_fmt(r)}: "
                             "the backward pass must call the NumPy `loss_grad` it is given, not autograd")
    return 2


def _gradcheck(numpy_loss_function, loss, loss_grad, name, params, reductions, rng):
    torch = _torch()
    f = numpy_loss_function(loss, loss_grad, **params)
    scale = float(next(iter(params.values()), 1.0) or 1.0)
    for reduction in reductions:
        # errors away from the kinks (0 and +-delta), where the loss is smooth enough for finite differences
        e = rng.choice([-1.0, 1.0], 7) * scale * rng.choice([0.2, 0.4, 0.6, 1.7, 3.0, 5.0], 7)
        t = torch.tensor(rng.normal(0, 1, 7), dtype=torch.float64, requires_grad=True)
        x = (t.detach() + torch.tensor(e)).requires_grad_(True)
        label = f"torch.autograd.gradcheck(f, (input, target)) with f = numpy_loss_function({name}, ...), " \
                f"reduction={reduction!r}, float64"
        try:
            with quiet():
                ok = torch.autograd.gradcheck(lambda a, b: f(a, b, reduction), (x, t), raise_exception=True)
        except Exception as exc:  # noqa: BLE001
            msg = str(exc).strip().splitlines()
            raise AssertionError(f"{label} fails: {' '.join(msg[:6])[:600]}") from None
        if not ok:
            raise AssertionError(f"{label} fails")
    return len(reductions)


def check_numpy_loss_function(numpy_loss_function, loss, loss_grad, name, probes=None, seed=0,
                              gradcheck_reductions=("mean",), **params):
    """Check ``numpy_loss_function(loss, loss_grad, **params)`` against ``torch.nn.functional.<name>``.

    The student's ``numpy_loss_function`` returns ``f(input, target,
    reduction="mean")``, a torch loss whose forward is the NumPy ``loss`` and
    whose backward is the NumPy ``loss_grad``. Checked: value, shape and dtype
    of ``f``'s output, the gradient with respect to ``input`` (and ``target``,
    when it requires grad) for a random ``grad_output``, that the forward calls
    ``loss`` and the backward ``loss_grad``, ``torch.autograd.gradcheck`` in
    float64, and that no ``torch.nn.functional`` loss is called.

    Parameters
    ----------
    numpy_loss_function : callable
        The student's function.
    loss, loss_grad : callable
        NumPy loss and gradient (``loss(input, target, reduction, **params)``).
    name : str
        The ``torch.nn.functional`` loss they implement.
    probes : list of Probe, optional
        Default: one float64 vector, ``reduction="mean"``.
    seed : int
    gradcheck_reductions : tuple of str

    Returns
    -------
    int
        The number of checks passed.

    Raises
    ------
    AssertionError
        Naming the call, what differs and the likely mistake.
    """
    torch = _torch()
    rng = np.random.default_rng(seed)
    probes = list(probes) if probes is not None else [Probe()]

    def once():
        x = torch.tensor([0.5, -3.0, 2.0], dtype=torch.float64, requires_grad=True)
        t = torch.zeros(3, dtype=torch.float64)
        out = numpy_loss_function(loss, loss_grad, **params)(x, t, "mean")
        out.backward()

    calls, _ = forbidden_calls(once, forbidden_modules=NOT_TORCH, forbidden_functions=TORCH_LOSSES)
    if calls:
        raise AssertionError(
            f"numpy_loss_function calls {', '.join(calls[:3])}: it must build the torch loss from the NumPy "
            "`loss` and `loss_grad` it is given; a function that hands the work to torch.nn.functional "
            "earns no points for it")
    n = 0
    for p in probes:
        n += _check_probe(numpy_loss_function, loss, loss_grad, name, params, p, rng)
    n += _follows(numpy_loss_function, loss, loss_grad, name, params, rng)
    n += _gradcheck(numpy_loss_function, loss, loss_grad, name, params, gradcheck_reductions, rng)
    return n


def hidden_probes():
    """Every kind of call the hidden tests make: reductions, float32, 2-d and 0-d
    inputs, non-contiguous input, target requiring grad, scaled grad_output."""
    return [
        Probe((6,), "float64", "mean"), Probe((6,), "float64", "sum", scale=2.5),
        Probe((3, 4), "float64", "none", scale=0.7), Probe((3, 4), "float32", "mean"),
        Probe((5,), "float32", "none"), Probe((), "float64", "none"), Probe((), "float64", "sum"),
        Probe((4, 3), "float64", "mean", strided=True), Probe((2, 5), "float64", "none", strided=True),
        Probe((7,), "float64", "mean", target_grad=True, scale=-1.5),
        Probe((2, 3), "float32", "none", target_grad=True),
    ]


# ----------------------------------------------------------------------------- the training loop
def _model(seed, dtype):
    """A small MLP 3 -> 16 -> 16 -> 1 whose weights come from ``seed`` (no global torch seed)."""
    torch = _torch()
    rng = np.random.default_rng(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                                torch.nn.Linear(16, 1)).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(rng.normal(0, 0.5, tuple(p.shape)), dtype=dtype))
    return model


def _data_xy(seed, n, dtype):
    torch = _torch()
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(0, 1, (n, 3))
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] - x[:, 2:3] ** 2 / 4 + 0.1 * rng.standard_t(2, (n, 1))
    return torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)


def _make_optimizer(kind, params, lr, weight_decay):
    torch = _torch()
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def reference_train(model, loss_fn, kind, lr, weight_decay, x, y, n_steps, accumulate=False, zero_late=False):
    """Full-batch training by the optimisers' update rules, without ``torch.optim``.

    Loss recorded *before* each step (on the parameters that step starts from).
    SGD: ``p <- p - lr (g + wd p)``. Adam (PyTorch's defaults ``betas=(0.9, 0.999)``,
    ``eps=1e-8``): ``g <- g + wd p``, ``m <- 0.9 m + 0.1 g``, ``v <- 0.999 v + 0.001 g^2``,
    ``p <- p - lr m_hat / (sqrt(v_hat) + eps)`` with bias-corrected ``m_hat``, ``v_hat``.
    ``accumulate`` keeps summing gradients (a loop without ``zero_grad``), for hints.

    Returns
    -------
    losses : numpy.ndarray, shape ``(n_steps,)``
    params : list of torch.Tensor, the final parameters
    """
    torch = _torch()
    names = [k for k, _ in model.named_parameters()]
    params = [p.detach().clone() for p in model.parameters()]
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    acc = [torch.zeros_like(p) for p in params]
    losses = []
    for step in range(1, n_steps + 1):
        ps = [p.clone().requires_grad_(True) for p in params]
        out = torch.func.functional_call(model, dict(zip(names, ps)), (x,))
        loss = loss_fn(out, y)
        grads = torch.autograd.grad(loss, ps)
        losses.append(float(loss.detach()))
        if zero_late:
            grads = [torch.zeros_like(g) for g in grads]
        if accumulate:
            acc = [a + g for a, g in zip(acc, grads)]
            grads = acc
        new = []
        for i, (p, g) in enumerate(zip(params, grads)):
            g = g + weight_decay * p
            if kind == "sgd":
                p = p - lr * g
            else:
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                mh, vh = m[i] / (1 - 0.9 ** step), v[i] / (1 - 0.999 ** step)
                p = p - lr * mh / (vh.sqrt() + 1e-8)
            new.append(p)
        params = new
    return np.asarray(losses), params


TRAIN_CONFIGS_VISIBLE = [("sgd", 0.05, 0.0, "mse_loss", 25, "float64")]
TRAIN_CONFIGS_HIDDEN = [
    ("sgd", 0.1, 0.0, "huber_loss", 30, "float64"), ("sgd", 0.05, 0.01, "l1_loss", 20, "float64"),
    ("adam", 0.01, 0.0, "smooth_l1_loss", 25, "float64"), ("adam", 0.02, 0.05, "mse_loss", 15, "float64"),
    ("sgd", 0.05, 0.0, "mse_loss", 0, "float64"), ("sgd", 0.1, 0.0, "mse_loss", 1, "float64"),
    ("adam", 0.01, 0.0, "huber_loss", 20, "float32"),
]


def check_train(train, configs=TRAIN_CONFIGS_VISIBLE, seed=0, n=64):
    """Check a student's full-batch training loop by its behaviour.

    ``train(model, loss_fn, optimizer, x, y, n_steps)`` must take ``n_steps``
    optimiser steps on the whole data and return the ``n_steps`` losses, each
    computed before its step. Compared with :func:`reference_train`: the
    returned losses and the final parameters of the model.

    Parameters
    ----------
    configs : list of (optimizer, lr, weight_decay, loss name, n_steps, dtype)

    Returns
    -------
    int
        The number of configurations checked.
    """
    torch = _torch()
    for i, (kind, lr, wd, loss_name, n_steps, dtype_name) in enumerate(configs):
        dtype = getattr(torch, dtype_name)
        loss_fn = getattr(torch.nn.functional, loss_name)
        model = _model(seed + i, dtype)
        x, y = _data_xy(seed + i, n, dtype)
        student_model = copy.deepcopy(model)
        opt = _make_optimizer(kind, student_model.parameters(), lr, wd)
        label = (f"train(model, F.{loss_name}, torch.optim.{'SGD' if kind == 'sgd' else 'Adam'}(lr={lr}, "
                 f"weight_decay={wd}), x, y, n_steps={n_steps}) [{dtype_name}]")
        try:
            with quiet():
                result = train(student_model, loss_fn, opt, x, y, n_steps)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"{label} raised {type(exc).__name__}: {exc}") from None
        if result is None:
            raise AssertionError(f"{label} returned None: return the list of the n_steps losses")
        try:
            losses = np.array([float(v) for v in result], dtype=np.float64)
        except (TypeError, ValueError):
            raise AssertionError(f"{label} returned {type(result).__name__}, not a list of numbers") from None
        want, params = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps)
        rtol, atol = (1e-7, 1e-10) if dtype_name == "float64" else (1e-4, 1e-6)
        if losses.shape != want.shape:
            raise AssertionError(f"{label} returned {losses.size} losses; {n_steps} steps give {n_steps} "
                                 "(one per step, computed before the step)")
        got_params = [p.detach() for p in student_model.parameters()]
        same_params = all(np.allclose(a.numpy(), b.numpy(), rtol=rtol * 10, atol=atol * 10)
                          for a, b in zip(got_params, params))
        if not np.allclose(losses, want, rtol=rtol, atol=atol) or not same_params:
            raise AssertionError(f"{label}: you give losses {_fmt(torch.tensor(losses))}, the update rule gives "
                                 f"{_fmt(torch.tensor(want))}" + ("" if same_params else
                                                                   "; the final parameters differ too")
                                 + _train_hint(model, loss_fn, kind, lr, wd, x, y, n_steps, losses, got_params,
                                               rtol, atol))
    return len(configs)


def _train_hint(model, loss_fn, kind, lr, wd, x, y, n_steps, losses, got_params, rtol, atol):
    start = [p.detach() for p in model.parameters()]
    if n_steps and all(np.allclose(a.numpy(), b.numpy()) for a, b in zip(got_params, start)):
        return (": the model's parameters did not change. Is optimizer.step() called, and is zero_grad() "
                "called after backward() (which wipes the gradients before the step)?")
    acc, _ = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps, accumulate=True)
    if np.allclose(losses, acc, rtol=1e-5, atol=1e-8):
        return ": gradients accumulate from step to step: call optimizer.zero_grad() in every step"
    more, _ = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps + 1)
    if losses.size and np.allclose(losses, more[1:], rtol=1e-5, atol=1e-8):
        return ": each loss is the one after the step; record the loss computed for the step's backward()"
    if losses.size and np.allclose(losses[1:], more[:losses.size - 1], rtol=1e-5, atol=1e-8):
        return ": the first step did not move the parameters: is step() called before backward()?"
    return ""
