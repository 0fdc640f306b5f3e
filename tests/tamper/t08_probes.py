"""Tampering submissions of 08_training against the probes of regloss.teaching.torch_probes.

Under the judge, 08's checks observe the student's torch functions through probes
that run in the answer process, where the student's code can rebind them. Each
entry's ``numpy_loss_function`` is wrong or delegates to torch, and a trick in its
cell tries to make the probes report the truth anyway. Judged by
``tests/test_judge_tamper_08.py``: each must earn 0 for ``numpy_loss_function``.
"""

from __future__ import annotations

_ZEROS = '''import torch

def numpy_loss_function(loss, loss_grad, **params):
    def f(input, target, reduction="mean"):
        out = (input - target) * 0.0
        return out.mean() * 0.0 if reduction != "none" else out
    return f
'''

#: rebinds the probe to report values and gradients of torch.nn.functional's loss (named by the
#: NumPy loss it is given), computed with autograd: what a forger who knows the checks' truth would send
REBIND_PROBE = _ZEROS + '''
import numpy as np
import torch.nn.functional as F
import regloss.teaching.torch_probes as P

def _forged(student, loss, loss_grad, params, calls):
    base = loss.args[0] if hasattr(loss, "func") else loss  # unwrap the checks' partial wrappers
    fn = getattr(F, base.__name__)
    out_list = []
    for call in calls:
        leaf, xin, t = P._leaves(call)
        out = fn(xin, t, reduction=call["reduction"], **params)
        obs = {"returned": "Tensor", "shape": list(out.shape), "dtype": str(out.dtype), "grad_fn": True,
               "value": out.detach().numpy().astype(np.float64), "grads": [], "values": []}
        need = [v for v in (leaf, t) if v.requires_grad]
        for w in call["grad_outputs"]:
            gs = list(torch.autograd.grad(out, need, torch.tensor(w, dtype=out.dtype), retain_graph=True,
                                          allow_unused=True)) + [None]
            obs["grads"].append([None if g is None else g.numpy().astype(np.float64) for g in gs[:2]]
                                + [[None if g is None else str(g.dtype) for g in gs[:2]]])
        with torch.no_grad():
            for xp, tp in call["points"]:
                _, a, b = P._leaves(dict(call, input=xp, target=tp))
                obs["values"].append(fn(a, b, reduction=call["reduction"], **params).numpy().astype(np.float64))
        out_list.append(obs)
    return out_list

P.loss_calls = _forged
'''

#: delegates to torch.nn.functional through a patched torch.autograd.Function.apply, and
#: switches the profiler off so the own-work check sees nothing
PATCH_AUTOGRAD_FUNCTION = '''import sys
import torch
import torch.nn.functional as F

class _Shell(torch.autograd.Function):
    pass

def numpy_loss_function(loss, loss_grad, **params):
    name = (loss.args[0] if hasattr(loss, "func") else loss).__name__
    def apply(*a):
        return getattr(F, name)(a[0], a[1], reduction=a[2], **params)
    _Shell.apply = staticmethod(apply)
    def f(input, target, reduction="mean"):
        sys.setprofile(None)
        return _Shell.apply(input, target, reduction)
    return f
'''

TAMPERS_08 = {"t08_rebind_probe": REBIND_PROBE, "t08_patch_autograd_function": PATCH_AUTOGRAD_FUNCTION}
