"""Catalogue for 02_huber: huber_loss and huber_loss_grad."""

from tests.catalogue import correct, delegates, wrong

A = "02_huber"

_CHECKS = '''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
    if delta <= 0:
        raise ValueError(f"delta must be > 0, got {delta}")
'''


def _huber(body, signature='input, target, reduction="mean", delta=1.0', checks=_CHECKS, name="huber_loss"):
    """A student's function: signature, the usual argument checks, then ``body``."""
    return f"def {name}({signature}):" + checks + body


def _grad(body, **kw):
    return _huber(body, name="huber_loss_grad", **kw)


_REDUCE = '''
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
'''
_REDUCE_GRAD = '''
    return g / g.size if reduction == "mean" else g
'''

ENTRIES = [
    # ------------------------------------------------------------- huber_loss
    wrong(A, "huber_loss", "smooth-l1-convention", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2 / delta, a - 0.5 * delta)
''' + _REDUCE), "the SmoothL1 convention (Huber divided by delta)"),
    wrong(A, "huber_loss", "no-half-quadratic", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, e ** 2, delta * (a - 0.5 * delta))
''' + _REDUCE), "missing 0.5 in the quadratic branch"),
    wrong(A, "huber_loss", "no-half-offset", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - delta))
''' + _REDUCE), "missing 0.5 in the linear branch's offset"),
    wrong(A, "huber_loss", "no-offset", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * a)
''' + _REDUCE), "linear branch delta*|e| without -0.5*delta^2"),
    wrong(A, "huber_loss", "offset-half-delta", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * a - 0.5 * delta)
''' + _REDUCE), "offset 0.5*delta instead of 0.5*delta^2 (right only for delta = 1)"),
    wrong(A, "huber_loss", "branch-on-e", _huber('''
    e = input - target
    loss = np.where(e < delta, 0.5 * e ** 2, delta * (np.abs(e) - 0.5 * delta))
''' + _REDUCE), "branch condition e < delta instead of |e| < delta"),
    wrong(A, "huber_loss", "no-delta-check", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta))
''' + _REDUCE, checks='''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
'''), "delta <= 0 accepted"),
    wrong(A, "huber_loss", "delta-zero-accepted", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta))
''' + _REDUCE, checks='''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
    if delta < 0:
        raise ValueError("delta must not be negative")
'''), "delta = 0 accepted (the check is delta < 0)"),
    wrong(A, "huber_loss", "assert-delta", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta))
''' + _REDUCE, checks='''
    assert reduction in ("none", "mean", "sum"), "bad reduction"
    assert delta > 0, "delta must be positive"
'''), "AssertionError instead of ValueError"),
    wrong(A, "huber_loss", "always-sum", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta))
    return loss if reduction == "none" else loss.sum()
'''), "sum for mean"),
    wrong(A, "huber_loss", "len-for-n", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta))
    if reduction == "mean":
        return loss.sum() / len(loss)
    return loss.sum() if reduction == "sum" else loss
'''), "len(input) for the number of elements"),
    wrong(A, "huber_loss", "pseudo-huber", _huber('''
    e = input - target
    loss = delta ** 2 * (np.sqrt(1 + (e / delta) ** 2) - 1)
''' + _REDUCE), "the pseudo-Huber loss, a smooth approximation"),
    wrong(A, "huber_loss", "default-1345", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta))
''' + _REDUCE, signature='input, target, reduction="mean", delta=1.345'),
        "default delta 1.345 instead of PyTorch's 1.0"),
    wrong(A, "huber_loss", "delta-before-reduction", _huber('''
    e = input - target
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta))
''' + _REDUCE, signature='input, target, delta=1.0, reduction="mean"'), "argument order differs from torch"),
    wrong(A, "huber_loss", "float32-always", _huber('''
    e = (input - target).astype(np.float32)
    a = np.abs(e)
    loss = np.where(a < delta, 0.5 * e ** 2, delta * (a - 0.5 * delta)).astype(np.float32)
''' + _REDUCE), "computes in float32 whatever the input"),
    correct(A, "huber_loss", "clip-based", '''
        def huber_loss(input, target, reduction="mean", delta=1.0):
            if reduction not in {"none", "mean", "sum"}:
                raise ValueError("unknown reduction: " + str(reduction))
            if not delta > 0:
                raise ValueError("delta has to be positive, not " + str(delta))
            r = np.abs(input - target)
            q = np.clip(r, 0.0, delta)          # the part of |e| inside the quadratic zone
            loss = 0.5 * q * q + delta * (r - q)
            if reduction == "none":
                return loss
            return np.mean(loss) if reduction == "mean" else np.sum(loss)
        '''),
    correct(A, "huber_loss", "loops", '''
        def huber_loss(input, target, reduction="mean", delta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"reduction={reduction!r} is not one of none, mean, sum")
            if delta <= 0:
                raise ValueError(f"delta={delta} must be strictly positive")
            out = np.zeros_like(input)
            for idx in np.ndindex(input.shape):
                d = float(input[idx]) - float(target[idx])
                if abs(d) < delta:
                    out[idx] = 0.5 * d * d
                else:
                    out[idx] = delta * (abs(d) - 0.5 * delta)
            if reduction == "none":
                return out
            total = np.sum(out, dtype=np.float64)
            return total if reduction == "sum" else total / out.size
        '''),
    correct(A, "huber_loss", "float32-masks", '''
        def huber_loss(input, target, reduction="mean", delta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError("invalid reduction %r" % reduction)
            if delta <= 0.0:
                raise ValueError("invalid delta %r: must be > 0" % delta)
            dt = np.result_type(input, target)
            d = dt.type(delta)
            e = np.subtract(input, target, dtype=dt)
            a = np.abs(e)
            small = a < d
            loss = np.empty_like(e)
            loss[small] = e[small] * e[small] / dt.type(2)
            loss[~small] = d * (a[~small] - d / dt.type(2))
            if reduction == "mean":
                return loss.mean(dtype=dt)
            if reduction == "sum":
                return loss.sum(dtype=dt)
            return loss
        '''),
    correct(A, "huber_loss", "piecewise", '''
        def huber_loss(input, target, reduction="mean", delta=1.0):
            if reduction not in ["none", "mean", "sum"]:
                raise ValueError(f"Unsupported reduction {reduction}")
            if delta <= 0:
                raise ValueError(f"delta should be positive but got {delta}")
            e = np.asarray(input - target, dtype=float)
            loss = np.piecewise(e, [np.abs(e) <= delta, np.abs(e) > delta],
                                [lambda x: 0.5 * x ** 2, lambda x: delta * np.abs(x) - 0.5 * delta ** 2])
            return {"none": loss, "sum": np.sum(loss), "mean": np.mean(loss)}[reduction]
        '''),
    delegates(A, "huber_loss", "torch", '''
        import torch
        def huber_loss(input, target, reduction="mean", delta=1.0):
            return torch.nn.functional.huber_loss(torch.as_tensor(input), torch.as_tensor(target),
                                                  reduction=reduction, delta=delta).numpy()
        '''),
    # -------------------------------------------------------- huber_loss_grad
    wrong(A, "huber_loss_grad", "clip-to-one", _grad('''
    g = np.clip(input - target, -1.0, 1.0)
''' + _REDUCE_GRAD), "clips the gradient to +-1 instead of +-delta"),
    wrong(A, "huber_loss_grad", "smooth-l1-convention", _grad('''
    g = np.clip((input - target) / delta, -1.0, 1.0)
''' + _REDUCE_GRAD), "the SmoothL1 gradient clip(e/delta, -1, 1)"),
    wrong(A, "huber_loss_grad", "quadratic-2e", _grad('''
    e = input - target
    g = np.where(np.abs(e) < delta, 2 * e, delta * np.sign(e))
''' + _REDUCE_GRAD), "2e on the quadratic branch (gradient of e^2, not 0.5 e^2)"),
    wrong(A, "huber_loss_grad", "zero-outside", _grad('''
    e = input - target
    g = np.where(np.abs(e) < delta, e, 0.0)
''' + _REDUCE_GRAD), "gradient 0 beyond delta (the error is dropped, not clipped)"),
    wrong(A, "huber_loss_grad", "branch-on-e", _grad('''
    e = input - target
    g = np.where(e < delta, e, delta)
''' + _REDUCE_GRAD), "e < delta instead of |e| < delta: no clip for negative errors"),
    wrong(A, "huber_loss_grad", "no-1-over-n", _grad('''
    return np.clip(input - target, -delta, delta)
'''), "forgot the 1/N of the mean"),
    wrong(A, "huber_loss_grad", "divides-always", _grad('''
    return np.clip(input - target, -delta, delta) / input.size
'''), "1/N for every reduction"),
    wrong(A, "huber_loss_grad", "len-for-n", _grad('''
    g = np.clip(input - target, -delta, delta)
    return g / len(g) if reduction == "mean" else g
'''), "len(input) for N"),
    wrong(A, "huber_loss_grad", "sign-flipped", _grad('''
    g = np.clip(target - input, -delta, delta)
''' + _REDUCE_GRAD), "derivative with respect to target"),
    wrong(A, "huber_loss_grad", "no-delta-check", _grad('''
    g = np.clip(input - target, -delta, delta)
''' + _REDUCE_GRAD, checks='''
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"invalid reduction {reduction!r}")
'''), "delta <= 0 accepted"),
    wrong(A, "huber_loss_grad", "scalar-mean", _grad('''
    g = np.clip(input - target, -delta, delta)
    return g.mean() if reduction == "mean" else g
'''), "returns the mean of the gradient, not the gradient"),
    wrong(A, "huber_loss_grad", "delta-before-reduction", _grad('''
    g = np.clip(input - target, -delta, delta)
''' + _REDUCE_GRAD, signature='input, target, delta=1.0, reduction="mean"'), "argument order differs from torch"),
    correct(A, "huber_loss_grad", "min-max", '''
        def huber_loss_grad(input, target, reduction="mean", delta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"{reduction} is not a valid reduction")
            if not (delta > 0):
                raise ValueError(f"delta must be > 0 (got {delta})")
            g = np.maximum(-delta, np.minimum(input - target, delta))
            if reduction == "mean":
                g = g / np.size(input)
            return g
        '''),
    correct(A, "huber_loss_grad", "where-sign", '''
        def huber_loss_grad(input, target, reduction="mean", delta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError("reduction must be none, mean or sum")
            if delta <= 0:
                raise ValueError("delta must be positive")
            e = input - target
            g = np.where(np.abs(e) <= delta, e, delta * np.sign(e)).astype(input.dtype)
            return g * (1.0 / e.size) if reduction == "mean" else g
        '''),
    correct(A, "huber_loss_grad", "loops", '''
        def huber_loss_grad(input, target, reduction="mean", delta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"reduction={reduction!r} is not supported")
            if delta <= 0:
                raise ValueError(f"delta={delta!r} is not supported, it must be positive")
            n = input.size if reduction == "mean" else 1
            g = np.zeros_like(input)
            for idx in np.ndindex(input.shape):
                d = input[idx] - target[idx]
                if d > delta:
                    d = delta
                elif d < -delta:
                    d = -delta
                g[idx] = d / n
            return g
        '''),
    correct(A, "huber_loss_grad", "float32-preserving", '''
        def huber_loss_grad(input, target, reduction="mean", delta=1.0):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"unknown reduction {reduction!r}")
            if delta <= 0:
                raise ValueError(f"delta must be positive, got {delta!r}")
            dt = np.result_type(input, target)
            d = dt.type(delta)
            g = np.clip(np.subtract(input, target, dtype=dt), -d, d)
            if reduction == "mean":
                g = g / dt.type(g.size)
            return g
        '''),
    delegates(A, "huber_loss_grad", "torch-autograd", '''
        import torch
        def huber_loss_grad(input, target, reduction="mean", delta=1.0):
            x = torch.tensor(input, requires_grad=True)
            loss = torch.nn.functional.huber_loss(x, torch.tensor(target), reduction=reduction, delta=delta)
            (g,) = torch.autograd.grad(loss.sum(), x)
            return g.numpy()
        '''),
]
