"""Probes of assignment 08's torch functions, run where the student's function lives.

:mod:`regloss.checks.training` checks ``numpy_loss_function`` and ``train`` by
*observations* that these probes make: in the notebook's kernel the checker calls
them directly; under the grader's judge it calls them in the answer process, beside
the student's functions, through ``f.call_beside(probe, f, ...)``. Every
argument and every result is plain data (arrays, numbers, strings, lists, dicts), or
a function importable by name (the shipped ``losses.py`` functions, the wrappers
:func:`shifted_loss` and :func:`tripled_grad` below, through :func:`functools.partial`).
This module imports nothing of :mod:`regloss.checks` (which the answer process cannot
import).

Why a probe cannot forge a grade
--------------------------------
The student controls everything in the answer process, these probes included (a
notebook cell can rebind their functions or patch ``torch.autograd``). But a probe
only *reports*: the checker in the judge compares every report with the truth it
computes itself (``torch.nn.functional.<loss>`` with autograd; the optimisers' update
rules written out in ``reference_train``), on random data and a random
``grad_output`` drawn in the judge. A loss torch does not have (the course's loss
shifted by 1) and a gradient that is not the loss's derivative (tripled) are among
the probes, and the gradient check uses forward values at perturbed points. A forged
report computed from torch's own losses fails the shifted and tripled checks; a
forged report passes only by computing, for every probe, the values and gradients of
the given ``loss`` and ``loss_grad`` scaled by ``grad_output`` -- the behaviour the
exercise asks for. What a probe cannot prove is *how* the student's process got
there (an ``autograd.Function`` or not); the own-work check profiles the forward call
where the student's function runs. For ``train`` on mini-batches the probe reports which
rows of ``x`` each optimiser step saw (:func:`train_run`); the judge checks that these
batches form shuffled epochs and replays them with the update rules, so a forged list of
batches passes only with the losses and final parameters that training on exactly those
batches gives.
"""

from __future__ import annotations

import numpy as np


def _torch():
    import torch

    return torch


def shifted_loss(loss, *args, **kwargs):
    """``loss(*args, **kwargs) + 1``: a loss torch does not have (its gradient is ``loss``'s)."""
    return np.asarray(loss(*args, **kwargs)) + 1.0


def tripled_grad(loss_grad, *args, **kwargs):
    """``3 * loss_grad(*args, **kwargs)``: a gradient that is not the loss's derivative."""
    return 3.0 * np.asarray(loss_grad(*args, **kwargs))


def _err(stage, exc):
    return {"error": stage, "type": type(exc).__name__, "message": str(exc)[:2000]}


def _leaves(call):
    torch = _torch()
    dtype = getattr(torch, str(call["dtype"]))
    x, t = np.asarray(call["input"], dtype=np.float64), np.asarray(call["target"], dtype=np.float64)
    shape = x.shape
    if call.get("strided") and len(shape) == 2:
        leaf = torch.tensor(x.T.copy(), dtype=dtype).requires_grad_(True)
        xin = leaf.t()  # non-contiguous, shape `shape`
    else:
        leaf = torch.tensor(x, dtype=dtype).requires_grad_(True)
        xin = leaf
    tleaf = torch.tensor(t, dtype=dtype).requires_grad_(bool(call.get("target_grad")))
    return leaf, xin, tleaf


def loss_calls(numpy_loss_function, loss, loss_grad, params, calls):
    """Build ``f = numpy_loss_function(loss, loss_grad, **params)`` and observe calls of it.

    Parameters
    ----------
    numpy_loss_function : callable
        The student's function.
    loss, loss_grad : callable
        NumPy loss and gradient, ``loss(input, target, reduction=..., **params)``.
    params : dict
        The loss's parameters (``delta``, ``beta``).
    calls : list of dict
        Each: ``input``, ``target`` (float64 arrays of one shape), ``dtype`` (``"float64"``
        or ``"float32"``), ``reduction``, ``strided`` (input a non-contiguous view, 2-d),
        ``target_grad`` (target requires grad), ``grad_outputs`` (a list of arrays of the
        output's shape: one backward ``torch.autograd.grad(out, leaves, w)`` each) and
        ``points`` (a list of ``[input, target]`` pairs at which only the forward value is
        wanted, for finite differences).

    Returns
    -------
    list of dict
        Per call: ``{"error": stage, "type", "message"}`` if building, calling or a backward
        raised; else ``returned`` (type name), and for a tensor ``shape`` (list), ``dtype``
        (e.g. ``"torch.float64"``), ``grad_fn`` (bool), ``value`` (float64 array), ``grads``
        (per grad_output ``[d input or None, d target or None, dtype names]``) and ``values``
        (the forward value at each point, float64 arrays).
    """
    torch = _torch()
    out_list = []
    for call in calls:
        try:
            f = numpy_loss_function(loss, loss_grad, **params)
        except Exception as exc:  # noqa: BLE001 - reported, judged by the checker
            out_list.append(_err("build", exc))
            continue
        leaf, xin, tleaf = _leaves(call)
        reduction = str(call["reduction"])
        try:
            out = f(xin, tleaf, reduction)
        except Exception as exc:  # noqa: BLE001
            out_list.append(_err("call", exc))
            continue
        if not isinstance(out, torch.Tensor):
            out_list.append({"returned": type(out).__name__})
            continue
        obs = {"returned": "Tensor", "shape": [int(n) for n in out.shape], "dtype": str(out.dtype),
               "grad_fn": out.grad_fn is not None,
               "value": np.array(out.detach().cpu().numpy(), dtype=np.float64), "grads": [], "values": []}
        need = [v for v in (leaf, tleaf) if v.requires_grad]
        try:
            for w in call.get("grad_outputs", []):
                wt = torch.tensor(np.asarray(w, dtype=np.float64), dtype=out.dtype)
                gs = list(torch.autograd.grad(out, need, grad_outputs=wt, allow_unused=True, retain_graph=True))
                gs += [None] * (2 - len(gs))
                obs["grads"].append([None if g is None else np.array(g.detach().cpu().numpy(), dtype=np.float64)
                                     for g in gs] + [[None if g is None else str(g.dtype) for g in gs]])
        except Exception as exc:  # noqa: BLE001
            out_list.append(_err("backward", exc))
            continue
        try:
            with torch.no_grad():
                for xp, tp in call.get("points", []):
                    p = dict(call, input=xp, target=tp)
                    _, xi, ti = _leaves(p)
                    obs["values"].append(np.array(f(xi, ti, reduction).detach().cpu().numpy(), dtype=np.float64))
        except Exception as exc:  # noqa: BLE001
            out_list.append(_err("call", exc))
            continue
        out_list.append(obs)
    return out_list


# ----------------------------------------------------------------------------- the training loop
def model(seed, dtype):
    """A small MLP 3 -> 16 -> 16 -> 1 whose weights come from ``np.random.default_rng(seed)``.

    ``dtype`` a torch dtype or its name; normal(0, 0.5) weights and biases.
    """
    torch = _torch()
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    rng = np.random.default_rng(seed)
    m = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                            torch.nn.Linear(16, 1)).to(dtype)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.tensor(rng.normal(0, 0.5, tuple(p.shape)), dtype=dtype))
    return m


def data_xy(seed, n, dtype):
    """``x``, shape ``(n, 3)``, standard normal; ``y = sin x_1 + x_2 / 2 - x_3^2 / 4 + 0.1 t_2``,
    shape ``(n, 1)``; from ``np.random.default_rng(seed + 1)``, as torch tensors of ``dtype``."""
    torch = _torch()
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(0, 1, (n, 3))
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] - x[:, 2:3] ** 2 / 4 + 0.1 * rng.standard_t(2, (n, 1))
    return torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)


def optimizer(kind, params, lr, weight_decay):
    """``torch.optim.SGD`` (``kind="sgd"``) or ``torch.optim.Adam`` on ``params``."""
    torch = _torch()
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def _row_index(x):
    """The rows of ``x`` (a 2-d tensor) by their bytes: ``{row bytes: index}``."""
    a = np.ascontiguousarray(x.detach().cpu().numpy())
    return {a[i].tobytes(): i for i in range(a.shape[0])}


def _recorder(m, opt, x):
    """Record, for every step of ``opt``, the rows of ``x`` (their indices) of the last forward
    call of ``m`` made with gradients enabled before the step ended; -1 for a row not of ``x``."""
    torch = _torch()
    index, width = _row_index(x), x.shape[-1]
    seen, steps = [None], []

    def forward_hook(module, inputs, output):
        if torch.is_grad_enabled() and inputs and hasattr(inputs[0], "detach"):
            a = np.ascontiguousarray(inputs[0].detach().cpu().numpy()).reshape(-1, width)
            seen[0] = [index.get(r.tobytes(), -1) for r in a]

    def step_hook(optimizer, args, kwargs):
        steps.append([] if seen[0] is None else list(seen[0]))

    m.register_forward_hook(forward_hook)
    opt.register_step_post_hook(step_hook)
    return steps


def train_run(train, kind, lr, weight_decay, loss_name, n_steps, dtype, seed, n, batch_size=None, rng_seed=None):
    """Run ``train(model, F.<loss_name>, optimizer, x, y, n_steps)`` on :func:`model` and
    :func:`data_xy` built from ``seed``; report what it returned and the final parameters.

    With ``batch_size``, the call is ``train(..., n_steps, batch_size=batch_size,
    rng=np.random.default_rng(rng_seed))``. Every call is observed: for each optimiser step,
    the indices of the rows of ``x`` the model saw in its last forward pass (with gradients
    enabled) before the step ended, -1 for a row that is not one of ``x``'s.

    Returns
    -------
    dict
        ``{"error": "call", "type", "message"}`` if it raised; else ``returned`` (type name),
        ``losses`` (float64 array, or None if the result is None or not a list of numbers),
        ``params`` (the model's parameters afterwards, float64 arrays, in order) and
        ``batches`` (one list of row indices per optimiser step).
    """
    torch = _torch()
    m = model(seed, dtype)
    x, y = data_xy(seed, n, dtype)
    opt = optimizer(kind, m.parameters(), lr, weight_decay)
    steps = _recorder(m, opt, x)
    try:
        if batch_size is None:
            result = train(m, getattr(torch.nn.functional, loss_name), opt, x, y, n_steps)
        else:
            result = train(m, getattr(torch.nn.functional, loss_name), opt, x, y, n_steps,
                           batch_size=batch_size, rng=np.random.default_rng(rng_seed))
    except Exception as exc:  # noqa: BLE001
        return _err("call", exc)
    losses = None
    if result is not None:
        try:
            losses = np.array([float(v) for v in result], dtype=np.float64)
        except (TypeError, ValueError):
            losses = None
    return {"returned": type(result).__name__, "losses": losses,
            "params": [np.array(p.detach().cpu().numpy(), dtype=np.float64) for p in m.parameters()],
            "batches": [[int(i) for i in b] for b in steps]}
