"""Checks for assignment 08: a NumPy loss as a torch loss, and a training loop.

The test cells hand the student's *functions* to these helpers. Every observation
of them is made by a probe of :mod:`regloss.teaching.torch_probes` (plain data in,
plain data out): called directly in the notebook's kernel, and in the answer process
beside the student's function under the grader's judge (``f.call_beside``).
The comparison with the truth is made here, in the judge; why a forged probe gains
nothing is written in :mod:`regloss.teaching.torch_probes`. ``gradcheck`` is made
here too, as ``torch.autograd.gradcheck`` makes it (central differences with its
eps and tolerances), from probed forward values and backward gradients.
The truth is PyTorch: ``torch.nn.functional.<loss>`` with autograd for
:func:`check_numpy_loss_function`, and for :func:`check_train` parameter updates
computed from ``torch.autograd.grad`` and the optimisers' published update
rules (plain SGD with L2 weight decay, Adam), written without ``torch.optim``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from regloss.checks.compare import quiet, tolerance
from regloss.checks.losses import REGISTRY
from regloss.checks.mistakes import Hint
from regloss.checks.own_work import forbidden_calls
from regloss.checks.remote import Elsewhere
from regloss.teaching import torch_probes

#: What ``numpy_loss_function`` may not call: the losses it must build from the NumPy callables
#: (``torch.l1_loss``, ...: every loss whose record's truth is a ``torch.nn.functional`` function).
TORCH_LOSSES = tuple(f"torch.{s.truth}" for s in REGISTRY.values() if s.in_torch)
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


def _observe(student, probe, *args):
    """``probe(student, *args)``: directly in the kernel, or in the answer process beside
    the student's function under the judge (``student.call_beside``)."""
    if isinstance(student, Elsewhere):
        return student.call_beside(probe, student, *args)
    with quiet():
        return probe(student, *args)


def _arrays(rng, probe, params):
    """Input and target of one probe (float64 arrays of ``probe.shape``)."""
    scale = float(next(iter(params.values()), 1.0) or 1.0)
    n = int(np.prod(probe.shape)) if probe.shape else 1
    e = rng.normal(0.0, 2.0 * scale, n)
    if n >= 4:
        e[0] = 0.0                    # an error of exactly 0
        e[1] = 7.0 * scale            # far in the linear zone
    t = rng.normal(0.0, 1.0, n)
    x = t + e
    shape = tuple(probe.shape)
    return x.reshape(shape), t.reshape(shape)


def _leaves(x, t, dtype, strided=False, target_grad=False):
    torch = _torch()
    dtype = getattr(torch, dtype)
    if strided and np.ndim(x) == 2:
        leaf = torch.tensor(np.asarray(x).T.copy(), dtype=dtype).requires_grad_(True)
        xin = leaf.t()
    else:
        leaf = torch.tensor(np.asarray(x), dtype=dtype).requires_grad_(True)
        xin = leaf
    return leaf, xin, torch.tensor(np.asarray(t), dtype=dtype).requires_grad_(target_grad)


def _reference(name, xin, t, reduction, params):
    torch = _torch()
    return getattr(torch.nn.functional, name)(xin, t, reduction=reduction, **params)


def _truth(name, params, x, t, dtype, reduction, strided=False, target_grad=False, grad_output=None):
    """PyTorch's value and autograd's gradients (for input and target) of one call."""
    torch = _torch()
    leaf, xin, tleaf = _leaves(x, t, dtype, strided, target_grad)
    out = _reference(name, xin, tleaf, reduction, params)
    grads = [None, None]
    if grad_output is not None:
        w = torch.tensor(np.asarray(grad_output), dtype=out.dtype)
        need = [v for v in (leaf, tleaf) if v.requires_grad]
        gs = list(torch.autograd.grad(out, need, grad_outputs=w, allow_unused=True)) + [None]
        grads = [None if g is None else np.array(g.numpy(), dtype=np.float64) for g in gs[:2]]
    return out, grads


def _call(x, t, dtype, reduction, strided=False, target_grad=False, grad_outputs=(), points=()):
    return {"input": np.asarray(x, dtype=np.float64), "target": np.asarray(t, dtype=np.float64), "dtype": dtype,
            "reduction": reduction, "strided": bool(strided), "target_grad": bool(target_grad),
            "grad_outputs": [np.asarray(w, dtype=np.float64) for w in grad_outputs],
            "points": [[np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)] for a, b in points]}


def _returned(obs, label):
    """Raise what a probe's report says went wrong before any value is compared."""
    if not isinstance(obs, dict):
        raise AssertionError(f"{label}: the probe's report is not a dict ({type(obs).__name__})")
    if "error" in obs:
        stage = {"backward": f"{label}: backward raised "}.get(obs["error"], f"{label} raised ")
        raise AssertionError(f"{stage}{obs.get('type')}: {obs.get('message')}")
    if obs.get("returned") != "Tensor":
        not_tensor = Hint("not-a-tensor", "a torch loss returns a torch.Tensor (convert the NumPy result with "
                                          "torch.as_tensor)")
        raise AssertionError(f"{label} returned {obs.get('returned')}; {not_tensor}")


def _fmt(t):
    a = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    return np.array2string(np.asarray(a), precision=5, threshold=8) if np.ndim(a) else f"{float(a):.6g}"


def _plan_probe(name, params, probe, rng):
    """The call of one probe, with the truth the judge computes for it."""
    torch = _torch()
    x, t = _arrays(rng, probe, params)
    truth, _ = _truth(name, params, x, t, probe.dtype, probe.reduction, probe.strided, probe.target_grad)
    gen = np.random.default_rng(int(rng.integers(2**31)))
    w = probe.scale * gen.uniform(0.5, 2.0, tuple(truth.shape)) * gen.choice([-1.0, 1.0])
    w = torch.tensor(w, dtype=truth.dtype).numpy().astype(np.float64)  # as representable in the probe's dtype
    truth, want = _truth(name, params, x, t, probe.dtype, probe.reduction, probe.strided, probe.target_grad,
                         grad_output=w)
    call = _call(x, t, probe.dtype, probe.reduction, probe.strided, probe.target_grad, grad_outputs=[w])
    return call, (truth, want, w)


def _check_probe(obs, name, params, probe, planned):
    truth, want, w = planned
    label = probe.describe(name, params)
    _returned(obs, label)
    if tuple(obs["shape"]) != tuple(truth.shape):
        shape = Hint("wrong-shape", f"has shape {tuple(obs['shape'])}, PyTorch's {name} {tuple(truth.shape)}"
                                    + (": a reduced loss is a 0-d tensor (shape ())" if truth.dim() == 0 else ""))
        raise AssertionError(f"{label} {shape}")
    if obs["dtype"] != str(truth.dtype):
        dtype = Hint("wrong-dtype", "give the result input's dtype (and device), e.g. torch.as_tensor(value, "
                                    "dtype=input.dtype, device=input.device)")
        raise AssertionError(f"{label} has dtype {obs['dtype']}; input is torch.{probe.dtype}: {dtype}")
    if not obs["grad_fn"]:
        apply = Hint("no-grad-fn", "return the output of your autograd.Function's .apply")
        raise AssertionError(f"{label} returned a tensor with no grad_fn although input requires grad: {apply}")
    rtol, atol = tolerance(np.dtype(probe.dtype))
    value = np.asarray(obs["value"], dtype=np.float64)
    if value.shape != tuple(truth.shape) or \
            not np.allclose(value, truth.detach().numpy().astype(np.float64), rtol=rtol, atol=atol):
        raise AssertionError(f"{label} gives {_fmt(value)}, PyTorch's {name} {_fmt(truth)}")
    grads = obs["grads"]
    if len(grads) != 1:
        raise AssertionError(f"{label}: the probe reported {len(grads)} backward passes, not 1")
    g_in, g_t, dtypes = grads[0]
    for which, g, r, dt in zip(("input", "target"), (g_in, g_t), want, dtypes):
        if r is None:
            continue
        if g is None:
            missing = Hint("missing-gradient", "backward must return one for it (d loss / d target = -d loss / d "
                                               "input)")
            raise AssertionError(f"{label}: no gradient reached {which}: {missing}")
        if dt != str(truth.dtype):
            dtype = Hint("wrong-dtype", f"the gradient for {which} has dtype {dt}, not {truth.dtype}")
            raise AssertionError(f"{label}: {dtype}")
        gn = np.asarray(g, dtype=np.float64)
        if gn.shape != r.shape or not np.allclose(gn, r, rtol=rtol, atol=atol):
            raise AssertionError(f"{label}: backward with grad_output = {_fmt(w)} gives d/d {which} "
                                 f"{_fmt(gn)}, autograd on PyTorch's {name} gives {_fmt(r)}"
                                 + (_grad_hint(gn, r, w, which, truth) if gn.shape == r.shape else ""))
    return 1


def _grad_hint(g, r, w, which, truth):
    wn = np.asarray(w)
    with np.errstate(all="ignore"):
        if np.allclose(g * wn, r, rtol=1e-3, atol=1e-6) or np.allclose(g, r / wn, rtol=1e-3, atol=1e-6):
            return ": " + str(Hint("ignores-grad-output", "backward ignores grad_output (multiply loss_grad's result "
                                                          "by it)"))
        if np.allclose(g, -r, rtol=1e-3, atol=1e-6):
            flipped = "the sign is flipped" + (" (d loss / d target = -d loss / d input)" if which == "target" else "")
            return ": " + str(Hint("flipped-sign", flipped))
    ratio = np.median(np.abs(g[np.abs(r) > 0] / r[np.abs(r) > 0])) if np.any(np.abs(r) > 0) else np.nan
    for k in range(2, 5000):
        if np.isclose(ratio, k, rtol=1e-3) and np.allclose(g, k * r, rtol=1e-3, atol=1e-6):
            return ": " + str(Hint("missing-1/N", f"{k} times too large, the gradient of the sum for a mean?"))
        if ratio > 5001:
            break
    return ""


def _follows(numpy_loss_function, loss, loss_grad, name, params, rng):
    """The forward must come from ``loss`` and the backward from ``loss_grad``: observed with
    a loss shifted by 1 and a gradient tripled (:mod:`regloss.teaching.torch_probes`)."""
    probe = Probe((5,), "float64", "mean")
    x, t = _arrays(rng, probe, params)
    truth, (r, _) = _truth(name, params, x, t, "float64", "mean", grad_output=np.array(1.0))
    call = _call(x, t, "float64", "mean", grad_outputs=[np.array(1.0)])
    label = f"numpy_loss_function(loss, loss_grad) with a loss that adds 1 to {name}"
    (obs,) = _observe(numpy_loss_function, torch_probes.loss_calls,
                      functools.partial(torch_probes.shifted_loss, loss), loss_grad, dict(params), [call])
    _returned(obs, label)
    got = np.asarray(obs["value"], dtype=np.float64)
    if got.shape != () or not np.isclose(float(got), float(truth.detach()) + 1.0, rtol=1e-9):
        forward = Hint("forward-ignores-loss", "the forward pass must call the NumPy `loss` it is given")
        raise AssertionError(f"{label} gives {_fmt(got)}, not {name} + 1 = {float(truth.detach()) + 1:.6g}: {forward}")
    label = f"numpy_loss_function(loss, loss_grad) with a loss_grad that triples {name}_grad"
    (obs,) = _observe(numpy_loss_function, torch_probes.loss_calls,
                      loss, functools.partial(torch_probes.tripled_grad, loss_grad), dict(params), [call])
    _returned(obs, label)
    g = obs["grads"][0][0] if obs["grads"] else None
    g = np.full(np.shape(r), np.nan) if g is None else np.asarray(g, dtype=np.float64)
    if g.shape != r.shape or not np.allclose(g, 3.0 * r, rtol=1e-9, atol=1e-12):
        backward = Hint("backward-ignores-loss-grad", "the backward pass must call the NumPy `loss_grad` it is "
                                                      "given, not autograd")
        raise AssertionError(f"{label}: the gradient is {_fmt(g)}, not 3 times autograd's {_fmt(r)}: {backward}")
    return 2


#: The finite differences of :func:`_gradcheck`: torch.autograd.gradcheck's defaults.
GRADCHECK_EPS, GRADCHECK_ATOL, GRADCHECK_RTOL = 1e-6, 1e-5, 1e-3


def _plan_gradcheck(name, params, reduction, rng):
    """A gradcheck as torch.autograd.gradcheck makes it (float64, central differences),
    as one probe call: backward for each unit grad_output (the first twice: reentrant?)
    and the forward at input and target moved by +-eps in each element."""
    scale = float(next(iter(params.values()), 1.0) or 1.0)
    # errors away from the kinks (0 and +-delta), where the loss is smooth enough for finite differences
    e = rng.choice([-1.0, 1.0], 7) * scale * rng.choice([0.2, 0.4, 0.6, 1.7, 3.0, 5.0], 7)
    t = rng.normal(0, 1, 7)
    x = t + e
    m = 7 if reduction == "none" else 1
    units = [np.eye(m)[k].reshape((7,) if reduction == "none" else ()) for k in range(m)]
    points = []
    for which in (0, 1):
        for j in range(7):
            for sign in (1.0, -1.0):
                xp, tp = x.copy(), t.copy()
                (xp if which == 0 else tp)[j] += sign * GRADCHECK_EPS
                points.append((xp, tp))
    return _call(x, t, "float64", reduction, target_grad=True, grad_outputs=units + units[:1], points=points), m


def _check_gradcheck(obs, name, params, reduction, m):
    label = (f"gradcheck of f = numpy_loss_function({name}, ...) (as torch.autograd.gradcheck: central "
             f"differences, eps={GRADCHECK_EPS}, atol={GRADCHECK_ATOL}, rtol={GRADCHECK_RTOL}) on "
             f"(input, target), reduction={reduction!r}, float64")
    _returned(obs, label)
    grads, values = obs["grads"], [np.asarray(v, dtype=np.float64).reshape(-1) for v in obs["values"]]
    if len(grads) != m + 1 or len(values) != 28 or any(v.size != m for v in values):
        raise AssertionError(f"{label} fails: the probe reported {len(grads)} backward passes and "
                             f"{len(values)} forward values")
    for k, which in enumerate(("input", "target")):
        analytical = np.stack([np.zeros(7) if gr[k] is None else np.asarray(gr[k], dtype=np.float64).reshape(-1)
                               for gr in grads[:m]])  # (outputs, 7)
        for gr in grads:
            if gr[k] is not None and gr[2][k] != "torch.float64":
                mismatch = Hint("wrong-dtype", f"Gradient has dtype mismatch (the gradient for {which} has dtype "
                                               f"{gr[2][k]}, not torch.float64)")
                raise AssertionError(f"{label} fails: {mismatch}")
        plus, minus = values[14 * k:14 * k + 14:2], values[14 * k + 1:14 * k + 14:2]
        numerical = np.stack([(p - q) / (2 * GRADCHECK_EPS) for p, q in zip(plus, minus)], axis=1)
        if analytical.shape != numerical.shape or not np.all(
                np.abs(analytical - numerical) <= GRADCHECK_ATOL + GRADCHECK_RTOL * np.abs(numerical)):
            jacobian = Hint("gradient-vs-finite-differences",
                            f"Jacobian mismatch for output 0 with respect to input {k} ({which}), numerical: "
                            f"{_fmt(numerical.squeeze())}, analytical: {_fmt(analytical.squeeze())}")
            raise AssertionError(f"{label} fails: {jacobian}")
    first, again = grads[0], grads[m]
    for a, b in zip(first[:2], again[:2]):
        if (a is None) != (b is None) or (a is not None and not np.array_equal(np.asarray(a), np.asarray(b))):
            reentrant = Hint("not-reentrant", "Backward is not reentrant, i.e., running backward with same input "
                                              "and grad_output multiple times gives different values")
            raise AssertionError(f"{label} fails: {reentrant}")
    return 1


def check_numpy_loss_function(numpy_loss_function, loss, loss_grad, name, probes=None, seed=0,
                              gradcheck_reductions=("mean",), **params):
    """Check ``numpy_loss_function(loss, loss_grad, **params)`` against ``torch.nn.functional.<name>``.

    The student's ``numpy_loss_function`` returns ``f(input, target,
    reduction="mean")``, a torch loss whose forward is the NumPy ``loss`` and
    whose backward is the NumPy ``loss_grad``. Checked: value, shape and dtype
    of ``f``'s output, the gradient with respect to ``input`` (and ``target``,
    when it requires grad) for a random ``grad_output``, that the forward calls
    ``loss`` and the backward ``loss_grad``, a gradcheck in float64 made as
    ``torch.autograd.gradcheck`` makes it (:func:`_plan_gradcheck`; torch's own is not
    called), and that no ``torch.nn.functional`` loss is called.

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
    rng = np.random.default_rng(seed)
    probes = list(probes) if probes is not None else [Probe()]
    calls = _own_work_calls(numpy_loss_function, loss, loss_grad, params)
    if calls:
        delegates = Hint("delegates", "it must build the torch loss from the NumPy `loss` and `loss_grad` it is "
                                      "given; a function that hands the work to torch.nn.functional earns no points "
                                      "for it")
        raise AssertionError(f"numpy_loss_function calls {', '.join(calls[:3])}: {delegates}")
    planned = [_plan_probe(name, params, p, rng) for p in probes]
    follows_seed = int(rng.integers(2**31))
    checks = [_plan_gradcheck(name, params, r, rng) for r in gradcheck_reductions]
    # one crossing for every probe and gradcheck call of the real loss and gradient
    obs = _observe(numpy_loss_function, torch_probes.loss_calls, loss, loss_grad, dict(params),
                   [c for c, _ in planned] + [c for c, _ in checks])
    if not isinstance(obs, list) or len(obs) != len(planned) + len(checks):
        raise AssertionError("numpy_loss_function: the probe reported "
                             f"{len(obs) if isinstance(obs, list) else type(obs).__name__} calls, "
                             f"not {len(planned) + len(checks)}")
    n = 0
    for p, (_, want), o in zip(probes, planned, obs):
        n += _check_probe(o, name, params, p, want)
    n += _follows(numpy_loss_function, loss, loss_grad, name, params, np.random.default_rng(follows_seed))
    for r, (_, m), o in zip(gradcheck_reductions, checks, obs[len(planned):]):
        n += _check_gradcheck(o, name, params, r, m)
    return n


def _own_work_calls(numpy_loss_function, loss, loss_grad, params):
    """The forbidden calls of building ``f`` and one forward and backward of it (in the kernel);
    under the judge, of one forward call of ``f``, profiled in the answer process (a backward
    that delegates fails the tripled-gradient check there)."""
    torch = _torch()
    x = torch.tensor([0.5, -3.0, 2.0], dtype=torch.float64, requires_grad=True)
    t = torch.zeros(3, dtype=torch.float64)
    if isinstance(numpy_loss_function, Elsewhere):
        try:
            f = numpy_loss_function(loss, loss_grad, **params)
        except Exception:  # noqa: BLE001 - a crash is judged by the value checks
            return []
        if not isinstance(f, Elsewhere):
            return []
        calls, _ = forbidden_calls(f, x, t, "mean", forbidden_modules=NOT_TORCH, forbidden_functions=TORCH_LOSSES)
        return calls

    def once():
        out = numpy_loss_function(loss, loss_grad, **params)(x, t, "mean")
        out.backward()

    calls, _ = forbidden_calls(once, forbidden_modules=NOT_TORCH, forbidden_functions=TORCH_LOSSES)
    return calls


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
#: The model, data and optimiser of a check: built from a seed and a config, alike in the
#: judge (for the truth) and where the student's ``train`` runs (:mod:`regloss.teaching.torch_probes`).
_model, _data_xy, _make_optimizer = torch_probes.model, torch_probes.data_xy, torch_probes.optimizer


def reference_train(model, loss_fn, kind, lr, weight_decay, x, y, n_steps, accumulate=False, zero_late=False,
                    batches=None, after=False):
    """Full-batch training by the optimisers' update rules, without ``torch.optim``.

    ``batches`` (one index array per step): step ``k`` on the rows ``batches[k]`` of ``x`` and
    ``y`` instead of all of them (a replay of the batches a mini-batch loop used). ``after``
    records each batch's loss after its step instead (for hints).

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
        xb, yb = (x, y) if batches is None else (x[list(batches[step - 1])], y[list(batches[step - 1])])
        ps = [p.clone().requires_grad_(True) for p in params]
        out = torch.func.functional_call(model, dict(zip(names, ps)), (xb,))
        loss = loss_fn(out, yb)
        grads = torch.autograd.grad(loss, ps)
        if not after:
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
        if after:
            with torch.no_grad():
                out = torch.func.functional_call(model, dict(zip(names, params)), (xb,))
                losses.append(float(loss_fn(out, yb)))
    return np.asarray(losses), params


TRAIN_CONFIGS_VISIBLE = [("sgd", 0.05, 0.0, "mse_loss", 25, "float64"),
                         ("sgd", 0.05, 0.0, "mse_loss", 12, "float64", 4, 10)]
TRAIN_CONFIGS_HIDDEN = [
    ("sgd", 0.1, 0.0, "huber_loss", 30, "float64"), ("sgd", 0.05, 0.01, "l1_loss", 20, "float64"),
    ("adam", 0.01, 0.0, "smooth_l1_loss", 25, "float64"), ("adam", 0.02, 0.05, "mse_loss", 15, "float64"),
    ("sgd", 0.05, 0.0, "mse_loss", 0, "float64"), ("sgd", 0.1, 0.0, "mse_loss", 1, "float64"),
    ("adam", 0.01, 0.0, "huber_loss", 20, "float32"),
    # mini-batches: (..., batch_size, n), b dividing n and not, b = 1, b >= n, several epochs, float32
    ("sgd", 0.05, 0.0, "mse_loss", 20, "float64", 4, 12), ("adam", 0.01, 0.01, "huber_loss", 17, "float64", 5, 13),
    ("sgd", 0.1, 0.0, "l1_loss", 20, "float64", 1, 7), ("adam", 0.02, 0.0, "smooth_l1_loss", 4, "float64", 16, 9),
    ("sgd", 0.05, 0.01, "mse_loss", 9, "float64", 9, 9), ("adam", 0.01, 0.0, "mse_loss", 14, "float32", 3, 8),
]


def _train_report(label, obs):
    """The probe's report of one call of the student's ``train``, or the failure it shows."""
    if not isinstance(obs, dict):
        raise AssertionError(f"{label}: the probe's report is not a dict ({type(obs).__name__})")
    if "error" in obs:
        raise AssertionError(f"{label} raised {obs.get('type')}: {obs.get('message')}")
    if obs.get("returned") == "NoneType":
        raise AssertionError(f"{label} returned None: {Hint('no-return', 'return the list of the n_steps losses')}")
    if obs.get("losses") is None:
        not_list = Hint("not-an-array", "not a list of numbers")
        raise AssertionError(f"{label} returned {obs.get('returned')}, {not_list}")
    return obs


def check_train(train, configs=TRAIN_CONFIGS_VISIBLE, seed=0, n=64):
    """Check a student's training loop (full-batch, and on shuffled mini-batches) by its behaviour.

    ``train(model, loss_fn, optimizer, x, y, n_steps)`` must take ``n_steps``
    optimiser steps on the whole data and return the ``n_steps`` losses, each
    computed before its step. Compared with :func:`reference_train`: the
    returned losses and the final parameters of the model.

    A configuration with ``batch_size`` and ``n`` checks the mini-batch loop
    ``train(..., n_steps, batch_size=b, rng=rng)`` (see :func:`_check_minibatch`).

    Parameters
    ----------
    configs : list of (optimizer, lr, weight_decay, loss name, n_steps, dtype[, batch_size, n])

    Returns
    -------
    int
        The number of configurations checked.
    """
    torch = _torch()
    for i, config in enumerate(configs):
        if len(config) == 8:
            _check_minibatch(train, config, seed + i)
            continue
        kind, lr, wd, loss_name, n_steps, dtype_name = config
        dtype = getattr(torch, dtype_name)
        loss_fn = getattr(torch.nn.functional, loss_name)
        model = _model(seed + i, dtype)
        x, y = _data_xy(seed + i, n, dtype)
        label = (f"train(model, F.{loss_name}, torch.optim.{'SGD' if kind == 'sgd' else 'Adam'}(lr={lr}, "
                 f"weight_decay={wd}), x, y, n_steps={n_steps}) [{dtype_name}]")
        obs = _train_report(label, _observe(train, torch_probes.train_run, kind, lr, wd, loss_name, n_steps,
                                            dtype_name, seed + i, n))
        losses = np.asarray(obs["losses"], dtype=np.float64).reshape(-1)
        want, params = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps)
        rtol, atol = (1e-7, 1e-10) if dtype_name == "float64" else (1e-4, 1e-6)
        if losses.shape != want.shape:
            count = Hint("wrong-number-of-losses", f"{n_steps} steps give {n_steps} (one per step, computed before "
                                                   "the step)")
            raise AssertionError(f"{label} returned {losses.size} losses; {count}")
        got_params = [np.asarray(p, dtype=np.float64) for p in obs.get("params") or []]
        same_params = len(got_params) == len(params) and all(
            a.shape == tuple(b.shape) and np.allclose(a, b.numpy(), rtol=rtol * 10, atol=atol * 10)
            for a, b in zip(got_params, params))
        if not np.allclose(losses, want, rtol=rtol, atol=atol) or not same_params:
            raise AssertionError(f"{label}: you give losses {_fmt(losses)}, the update rule gives "
                                 f"{_fmt(want)}" + ("" if same_params else "; the final parameters differ too")
                                 + _train_hint(model, loss_fn, kind, lr, wd, x, y, n_steps, losses, got_params,
                                               rtol, atol))
    return len(configs)


def _train_hint(model, loss_fn, kind, lr, wd, x, y, n_steps, losses, got_params, rtol, atol):
    start = [p.detach().numpy() for p in model.parameters()]
    if n_steps and len(got_params) == len(start) and all(
            a.shape == b.shape and np.allclose(a, b) for a, b in zip(got_params, start)):
        return ": " + str(Hint("parameters-unchanged", "the model's parameters did not change. Is optimizer.step() "
                                                       "called, and is zero_grad() called after backward() (which "
                                                       "wipes the gradients before the step)?"))
    acc, _ = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps, accumulate=True)
    if np.allclose(losses, acc, rtol=1e-5, atol=1e-8):
        return ": " + str(Hint("no-zero-grad", "gradients accumulate from step to step: call optimizer.zero_grad() "
                                               "in every step"))
    more, _ = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps + 1)
    if losses.size and np.allclose(losses, more[1:], rtol=1e-5, atol=1e-8):
        return ": " + str(Hint("loss-after-step", "each loss is the one after the step; record the loss computed for "
                                                  "the step's backward()"))
    if losses.size and np.allclose(losses[1:], more[:losses.size - 1], rtol=1e-5, atol=1e-8):
        return ": " + str(Hint("step-before-backward", "the first step did not move the parameters: is step() called "
                                                       "before backward()?"))
    return ""


def _epochs(n, b, n_steps):
    """The batch sizes of ``n_steps`` steps in epochs of ``n`` samples cut into batches of ``b``,
    grouped by epoch (the last epoch cut short)."""
    per = [b] * (n // b) + ([n % b] if n % b else [])
    out, left = [], n_steps
    while left > 0:
        out.append(per[:left])
        left -= len(out[-1])
    return out


def _order_hint(batches, n, b):
    """The hint for a run whose epochs are not shuffled permutations, or None."""
    flat = [i for bt in batches for i in bt]
    full = n - n % b
    if any(len(set(bt)) != len(bt) for bt in batches) or len(set(flat[:full])) != len(flat[:full]):
        return Hint("batch-with-replacement", "a sample appears twice before the epoch is over: an epoch visits "
                                              "every sample exactly once")
    sizes = [len(bt) for bt in batches]
    epochs = _epochs(n, b, len(batches))
    if sizes != [k for e in epochs for k in e]:
        if n % b and all(k == b for k in sizes):
            return Hint("last-batch-dropped", f"every batch has {b} rows, but {n} samples leave a last batch of "
                                              f"{n % b} in each epoch: where do those samples go?")
        return Hint("wrong-batch-size", f"the batches had {sizes[:8]}{' ...' if len(sizes) > 8 else ''} rows; "
                                        f"with batch_size={b} and n={n}, an epoch's batches have {epochs[0]} rows")
    at, orders = 0, []
    for e in epochs:
        rows = flat[at:at + sum(e)]
        at += sum(e)
        complete = sum(e) == n
        if (complete and sorted(rows) != list(range(n))) or len(set(rows)) != len(rows):
            return Hint("epoch-incomplete", "an epoch does not visit every sample exactly once")
        orders.append(rows)
    if b < n:
        if all(o == list(range(len(o))) for o in orders):
            return Hint("not-shuffled", "the samples come in their stored order: an epoch is a random order")
        for o, p in zip(orders, orders[1:]):
            if p == o[:len(p)]:
                return Hint("shuffled-once", "two consecutive epochs visit the samples in the same order: each "
                                             "epoch needs a new order")
    return None


def _check_minibatch(train, config, seed):
    """``train(model, loss_fn, optimizer, x, y, n_steps, batch_size=b, rng=rng)`` by its behaviour.

    Observed where the student's function runs (:func:`torch_probes.train_run`): the rows each
    optimiser step's batch held, the returned losses and the final parameters. Checked: one loss
    and one step per step; epochs of ``n`` samples cut into batches of ``b`` rows (the last one
    ``n mod b``), every sample once per epoch, a new random order in each epoch (when ``b < n``),
    the order drawn from ``rng`` (the same seed gives the same order, another seed another); each
    loss is the batch's loss before its step and the final parameters those of the update rules
    replayed on the recorded batches (:func:`reference_train`).
    """
    torch = _torch()
    kind, lr, wd, loss_name, n_steps, dtype_name, b, n = config
    dtype = getattr(torch, dtype_name)
    loss_fn = getattr(torch.nn.functional, loss_name)
    model = _model(seed, dtype)
    x, y = _data_xy(seed, n, dtype)
    label = (f"train(model, F.{loss_name}, torch.optim.{'SGD' if kind == 'sgd' else 'Adam'}(lr={lr}, "
             f"weight_decay={wd}), x, y, n_steps={n_steps}, batch_size={b}, rng=np.random.default_rng(...)) "
             f"[{n} samples, {dtype_name}]")
    runs = []
    for rng_seed in (1000 + seed, 1000 + seed, 2000 + seed):
        runs.append(_train_report(label, _observe(train, torch_probes.train_run, kind, lr, wd, loss_name, n_steps,
                                                  dtype_name, seed, n, b, rng_seed)))
    obs = runs[0]
    losses = np.asarray(obs["losses"], dtype=np.float64).reshape(-1)
    batches = [list(bt) for bt in obs.get("batches") or []]
    if losses.size != n_steps:
        count = Hint("wrong-number-of-losses", f"{n_steps} steps give {n_steps} (one per step, computed before the "
                                               "step)")
        raise AssertionError(f"{label} returned {losses.size} losses; {count}")
    if len(batches) != n_steps:
        steps = Hint("wrong-number-of-steps", f"n_steps counts optimiser steps, one per batch: {n_steps} in all, "
                                              "whatever the number of epochs")
        raise AssertionError(f"{label} took {len(batches)} optimiser steps; {steps}")
    if any(i < 0 for bt in batches for i in bt):
        rows = Hint("rows-not-from-x", "the model must see rows of x itself (selected, not changed)")
        raise AssertionError(f"{label}: a batch held rows that are not rows of x; {rows}")
    shown = "; ".join(str(bt) for bt in batches[:6]) + ("; ..." if len(batches) > 6 else "")
    order = _order_hint(batches, n, b)
    if order is not None:
        raise AssertionError(f"{label}: the steps' batches (row indices) were {shown}: {order}")
    if b < n:
        again, other = ([list(bt) for bt in r.get("batches") or []] for r in runs[1:])
        if again != batches:
            same = Hint("rng-ignored", "two runs with generators of the same seed used different orders: draw the "
                                       "order from the rng you are given, not from another source of randomness")
            raise AssertionError(f"{label}: {same}")
        if other == batches:
            seeds = Hint("rng-ignored", "generators with different seeds gave the same order: draw the order from "
                                        "the rng you are given")
            raise AssertionError(f"{label}: {seeds}")
    want, params = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps, batches=batches)
    rtol, atol = (1e-7, 1e-10) if dtype_name == "float64" else (1e-4, 1e-6)
    got_params = [np.asarray(p, dtype=np.float64) for p in obs.get("params") or []]
    same_params = len(got_params) == len(params) and all(
        a.shape == tuple(p.shape) and np.allclose(a, p.numpy(), rtol=rtol * 10, atol=atol * 10)
        for a, p in zip(got_params, params))
    if not np.allclose(losses, want, rtol=rtol, atol=atol) or not same_params:
        hint = ""
        after, _ = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps, batches=batches, after=True)
        acc, _ = reference_train(model, loss_fn, kind, lr, wd, x, y, n_steps, batches=batches, accumulate=True)
        if np.allclose(losses, after, rtol=1e-5, atol=1e-8):
            hint = ": " + str(Hint("loss-after-step", "each loss is the batch's loss after the step; record the loss "
                                                      "computed for the step's backward()"))
        elif np.allclose(losses, acc, rtol=1e-5, atol=1e-8):
            hint = ": " + str(Hint("no-zero-grad", "gradients accumulate from step to step: call "
                                                   "optimizer.zero_grad() in every step"))
        raise AssertionError(f"{label}: you give losses {_fmt(losses)}; the update rule on the batches your loop "
                             f"drew gives {_fmt(want)}" + ("" if same_params else "; the final parameters differ "
                                                           "too") + hint)
