"""Catalogue for 03_smooth_l1: smooth_l1_loss and smooth_l1_loss_grad."""

from tests.catalogue import correct, delegates, wrong

A = "03_smooth_l1"

_CHECKS = '''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
'''


def _sl1(body, signature='input, target, reduction="mean", beta=1.0', checks=_CHECKS, name="smooth_l1_loss"):
    """A student's function: signature, the usual argument checks, then ``body``."""
    return f"def {name}({signature}):" + checks + body


def _grad(body, **kw):
    return _sl1(body, name="smooth_l1_loss_grad", **kw)


_REDUCE = '''
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
'''
_REDUCE_GRAD = '''
    return g / g.size if reduction == "mean" else g
'''
_L1_IF_ZERO = '''
    e = input - target
    a = np.abs(e)
    if beta == 0:
        loss = a
    else:'''
_SIGN_IF_ZERO = '''
    e = input - target
    if beta == 0:
        g = np.sign(e)
    else:'''

ENTRIES = [
    # --------------------------------------------------------- smooth_l1_loss
    wrong(A, "smooth_l1_loss", "huber-convention", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, 0.5 * e ** 2, beta * (a - 0.5 * beta))
''' + _REDUCE), "the Huber convention (SmoothL1 multiplied by beta)"),
    wrong(A, "smooth_l1_loss", "no-half-quadratic", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, e ** 2 / beta, a - 0.5 * beta)
''' + _REDUCE), "missing 0.5 in the quadratic branch"),
    wrong(A, "smooth_l1_loss", "no-half-offset", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, 0.5 * e ** 2 / beta, a - beta)
''' + _REDUCE), "missing 0.5 in the linear branch's offset"),
    wrong(A, "smooth_l1_loss", "no-offset", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, 0.5 * e ** 2 / beta, a)
''' + _REDUCE), "linear branch |e| without -0.5*beta"),
    wrong(A, "smooth_l1_loss", "beta-zero-nan-where", _sl1('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a <= beta, 0.5 * e ** 2 / beta, a - 0.5 * beta)
''' + _REDUCE), "beta = 0 divides by zero: nan at e = 0"),
    wrong(A, "smooth_l1_loss", "beta-zero-nan-min", _sl1('''
    a = np.abs(input - target)
    q = np.minimum(a, beta)
    loss = 0.5 * q ** 2 / beta + (a - q)
''' + _REDUCE), "beta = 0 divides by zero: nan everywhere"),
    wrong(A, "smooth_l1_loss", "beta-zero-refused", _sl1('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < beta, 0.5 * e ** 2 / beta, a - 0.5 * beta)
''' + _REDUCE, checks='''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
'''), "refuses beta = 0, which PyTorch accepts (L1)"),
    wrong(A, "smooth_l1_loss", "no-beta-check", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, 0.5 * e ** 2 / beta, a - 0.5 * beta)
''' + _REDUCE, checks='''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
'''), "negative beta accepted"),
    wrong(A, "smooth_l1_loss", "branch-on-e", _sl1(_L1_IF_ZERO + '''
        loss = np.where(e < beta, 0.5 * e ** 2 / beta, a - 0.5 * beta)
''' + _REDUCE), "branch condition e < beta instead of |e| < beta"),
    wrong(A, "smooth_l1_loss", "always-sum", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, 0.5 * e ** 2 / beta, a - 0.5 * beta)
    return loss if reduction == "none" else loss.sum()
'''), "sum for mean"),
    wrong(A, "smooth_l1_loss", "default-one-ninth", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, 0.5 * e ** 2 / beta, a - 0.5 * beta)
''' + _REDUCE, signature='input, target, reduction="mean", beta=1.0 / 9'),
        "default beta 1/9 (a detection library's) instead of 1.0"),
    wrong(A, "smooth_l1_loss", "beta-before-reduction", _sl1(_L1_IF_ZERO + '''
        loss = np.where(a < beta, 0.5 * e ** 2 / beta, a - 0.5 * beta)
''' + _REDUCE, signature='input, target, beta=1.0, reduction="mean"'),
        "argument order differs from the contract's (reduction third; torch's smooth_l1_loss has size_average there)"),
    correct(A, "smooth_l1_loss", "clip-guarded", '''
        def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"unknown reduction {reduction!r}")
            if beta < 0:
                raise ValueError(f"negative beta={beta} is not allowed")
            a = np.abs(input - target)
            q = np.clip(a, 0, beta)               # the part of |e| in the quadratic zone (empty if beta = 0)
            quad = 0.5 * q * q / beta if beta > 0 else np.zeros_like(a)
            loss = quad + (a - q)
            return loss if reduction == "none" else (loss.mean() if reduction == "mean" else loss.sum())
        '''),
    correct(A, "smooth_l1_loss", "loops", '''
        def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError("reduction: expected none, mean or sum, got " + repr(reduction))
            if beta < 0:
                raise ValueError("beta cannot be negative: " + repr(beta))
            out = np.zeros_like(input)
            for idx in np.ndindex(input.shape):
                d = abs(float(input[idx]) - float(target[idx]))
                out[idx] = 0.5 * d * d / beta if d < beta else d - 0.5 * beta
            if reduction == "none":
                return out
            s = np.sum(out, dtype=np.float64)
            return s / out.size if reduction == "mean" else s
        '''),
    correct(A, "smooth_l1_loss", "float32-divide-where", '''
        def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"{reduction!r} is not a valid reduction")
            if beta < 0:
                raise ValueError(f"beta must be non-negative, got {beta!r}")
            dt = np.result_type(input, target)
            b = dt.type(beta)
            e = np.subtract(input, target, dtype=dt)
            a = np.abs(e)
            small = a < b
            quad = np.divide(e * e / dt.type(2), b, out=np.zeros_like(e), where=small)
            loss = np.where(small, quad, a - b / dt.type(2))
            return {"none": loss, "mean": loss.mean(dtype=dt), "sum": loss.sum(dtype=dt)}[reduction]
        '''),
    correct(A, "smooth_l1_loss", "via-shipped-huber", '''
        from huber import huber_loss
        def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"bad reduction {reduction!r}")
            if beta < 0:
                raise ValueError(f"bad beta {beta!r}: must be >= 0")
            if beta == 0:   # huber(delta) = delta * smooth_l1(beta=delta) needs delta > 0; beta = 0 is L1
                a = np.abs(input - target)
                return {"none": a, "mean": a.mean(), "sum": a.sum()}[reduction]
            return huber_loss(input, target, reduction, beta) / beta
        '''),
    delegates(A, "smooth_l1_loss", "torch", '''
        import torch
        def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
            return torch.nn.functional.smooth_l1_loss(torch.as_tensor(input), torch.as_tensor(target),
                                                      reduction=reduction, beta=beta).numpy()
        '''),
    delegates(A, "smooth_l1_loss", "regloss-reference", '''
        from regloss.checks.reference import torch_loss
        def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
            return torch_loss("smooth_l1_loss", input, target, reduction, beta=beta)
        '''),
    # ---------------------------------------------------- smooth_l1_loss_grad
    wrong(A, "smooth_l1_loss_grad", "clip-beta-zero-nan", _grad('''
    g = np.clip((input - target) / beta, -1.0, 1.0)
''' + _REDUCE_GRAD), "clip(e / beta) with beta = 0: nan at e = 0"),
    wrong(A, "smooth_l1_loss_grad", "huber-convention", _grad(_SIGN_IF_ZERO + '''
        g = np.clip(e, -beta, beta)
''' + _REDUCE_GRAD), "the Huber gradient clip(e, -beta, beta)"),
    wrong(A, "smooth_l1_loss_grad", "no-1-over-beta", _grad(_SIGN_IF_ZERO + '''
        g = np.where(np.abs(e) < beta, e, np.sign(e))
''' + _REDUCE_GRAD), "quadratic branch e instead of e / beta"),
    wrong(A, "smooth_l1_loss_grad", "quadratic-2e", _grad(_SIGN_IF_ZERO + '''
        g = np.where(np.abs(e) < beta, 2 * e / beta, np.sign(e))
''' + _REDUCE_GRAD), "2e / beta on the quadratic branch"),
    wrong(A, "smooth_l1_loss_grad", "sign0-is-1", _grad('''
    e = input - target
    if beta == 0:
        g = np.where(e >= 0, 1.0, -1.0)
    else:
        g = np.clip(e / beta, -1.0, 1.0)
''' + _REDUCE_GRAD), "beta = 0: sign(0) = 1"),
    wrong(A, "smooth_l1_loss_grad", "beta-zero-refused", _grad('''
    g = np.clip((input - target) / beta, -1.0, 1.0)
''' + _REDUCE_GRAD, checks='''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
'''), "refuses beta = 0"),
    wrong(A, "smooth_l1_loss_grad", "branch-on-e", _grad(_SIGN_IF_ZERO + '''
        g = np.where(e < beta, e / beta, 1.0)
''' + _REDUCE_GRAD), "e < beta instead of |e| < beta"),
    wrong(A, "smooth_l1_loss_grad", "no-1-over-n", _grad(_SIGN_IF_ZERO + '''
        g = np.clip(e / beta, -1.0, 1.0)
    return g
'''), "forgot the 1/N of the mean"),
    wrong(A, "smooth_l1_loss_grad", "divides-always", _grad(_SIGN_IF_ZERO + '''
        g = np.clip(e / beta, -1.0, 1.0)
    return g / g.size
'''), "1/N for every reduction"),
    wrong(A, "smooth_l1_loss_grad", "no-validation", _grad(_SIGN_IF_ZERO + '''
        g = np.clip(e / beta, -1.0, 1.0)
''' + _REDUCE_GRAD, checks="\n"), "no argument checks at all"),
    correct(A, "smooth_l1_loss_grad", "where-divide", '''
        def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"reduction must be 'none', 'mean' or 'sum', not {reduction!r}")
            if beta < 0:
                raise ValueError(f"beta={beta} < 0")
            e = input - target
            small = np.abs(e) < beta
            g = np.where(small, np.divide(e, beta, out=np.zeros_like(e), where=small), np.sign(e))
            if reduction == "mean":
                g = g / e.size
            return g
        '''),
    correct(A, "smooth_l1_loss_grad", "loops", '''
        def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"reduction={reduction!r} is not supported")
            if beta < 0:
                raise ValueError(f"beta={beta!r} must not be negative")
            scale = input.size if reduction == "mean" else 1
            g = np.zeros_like(input)
            for idx in np.ndindex(input.shape):
                d = input[idx] - target[idx]
                if abs(d) < beta:
                    g[idx] = d / beta / scale
                elif d > 0:
                    g[idx] = 1.0 / scale
                elif d < 0:
                    g[idx] = -1.0 / scale
            return g
        '''),
    correct(A, "smooth_l1_loss_grad", "float32-preserving", '''
        def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"unknown reduction {reduction!r}")
            if beta < 0:
                raise ValueError(f"beta must be >= 0, got {beta!r}")
            dt = np.result_type(input, target)
            e = np.subtract(input, target, dtype=dt)
            g = np.sign(e) if beta == 0 else np.clip(e / dt.type(beta), dt.type(-1), dt.type(1))
            return g / dt.type(e.size) if reduction == "mean" else g
        '''),
    delegates(A, "smooth_l1_loss_grad", "torch-autograd", '''
        import torch
        def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
            x = torch.tensor(input, requires_grad=True)
            loss = torch.nn.functional.smooth_l1_loss(x, torch.tensor(target), reduction=reduction, beta=beta)
            (g,) = torch.autograd.grad(loss.sum(), x)
            return g.numpy()
        '''),
]
