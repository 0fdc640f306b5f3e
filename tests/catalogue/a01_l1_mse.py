"""Catalogue for 01_l1_mse: l1_loss, mse_loss and their gradients."""

from tests.catalogue import correct, delegates, variant, wrong

A = "01_l1_mse"

# The helpers of the solution cells `reductions` and `reduce_grad` (ungraded on their
# own, graded through every loss that uses them; 02 and 03 ship the model answer's).
HELPERS = """
def check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction!r} is not a valid value for reduction")


def reduce(values, reduction):
    check_reduction(reduction)
    values = np.asarray(values)
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values
"""
REDUCE_GRAD = """
def reduce_grad(grad, reduction):
    check_reduction(reduction)
    grad = np.asarray(grad)
    if reduction == "mean":
        return grad / grad.size
    return grad
"""
L1_WITH_HELPERS = """
def l1_loss(input, target, reduction="mean"):
    return reduce(np.abs(input - target), reduction)
"""
MSE_WITH_HELPERS = """
def mse_loss(input, target, reduction="mean"):
    return reduce((input - target) ** 2, reduction)
"""
L1_GRAD_WITH_HELPERS = """
def l1_loss_grad(input, target, reduction="mean"):
    return reduce_grad(np.sign(input - target), reduction)
"""
MSE_GRAD_WITH_HELPERS = """
def mse_loss_grad(input, target, reduction="mean"):
    return reduce_grad(2 * (input - target), reduction)
"""

ENTRIES = [
    # ---------------------------------------------------------------- l1_loss
    wrong(A, "l1_loss", "always-sum", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = np.abs(input - target)
            return e if reduction == "none" else e.sum()
        """, "sum for mean"),
    wrong(A, "l1_loss", "always-mean", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = np.abs(input - target)
            return e if reduction == "none" else e.mean()
        """, "mean for sum"),
    wrong(A, "l1_loss", "len-for-n", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = np.abs(input - target)
            if reduction == "mean":
                return e.sum() / len(input)
            return e.sum() if reduction == "sum" else e
        """, "len(input) is the first dimension, not the number of elements"),
    wrong(A, "l1_loss", "no-abs-in-none", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = input - target
            if reduction == "none":
                return e
            return np.abs(e).mean() if reduction == "mean" else np.abs(e).sum()
        """, "forgot abs for reduction='none'"),
    wrong(A, "l1_loss", "abs-of-mean", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = input - target
            if reduction == "none":
                return np.abs(e)
            return np.abs(e.mean()) if reduction == "mean" else np.abs(e.sum())
        """, "abs of the mean error instead of mean of abs"),
    wrong(A, "l1_loss", "no-validation", """
        def l1_loss(input, target, reduction="mean"):
            e = np.abs(input - target)
            if reduction == "sum":
                return e.sum()
            if reduction == "none":
                return e
            return e.mean()
        """, "unknown reductions silently averaged"),
    wrong(A, "l1_loss", "rmse", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = (input - target) ** 2
            if reduction == "none":
                return np.sqrt(e)
            return np.sqrt(e.mean()) if reduction == "mean" else np.sqrt(e.sum())
        """, "root-mean-square error instead of mean absolute error"),
    wrong(A, "l1_loss", "float32-always", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = np.abs(input.astype(np.float32) - target.astype(np.float32))
            return {"none": e, "mean": e.mean(), "sum": e.sum()}[reduction]
        """, "computes in float32 whatever the input: loses float64 precision"),
    correct(A, "l1_loss", "loops", """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError("reduction must be 'none', 'mean' or 'sum', got " + repr(reduction))
            out = np.empty_like(input)
            for idx in np.ndindex(input.shape):
                d = input[idx] - target[idx]
                out[idx] = d if d >= 0 else -d
            if reduction == "none":
                return out
            total = 0.0
            for v in out.flat:
                total += v
            return total if reduction == "sum" else total / out.size
        """),
    correct(A, "l1_loss", "sqrt-square-dict", """
        def l1_loss(input, target, reduction="mean"):
            reducers = {"none": lambda a: a, "mean": np.mean, "sum": np.sum}
            if reduction not in reducers:
                raise ValueError(f"unknown reduction: {reduction}")
            return reducers[reduction](np.sqrt(np.square(np.subtract(input, target))))
        """),
    delegates(A, "l1_loss", "torch", """
        import torch
        def l1_loss(input, target, reduction="mean"):
            return torch.nn.functional.l1_loss(torch.as_tensor(input), torch.as_tensor(target),
                                               reduction=reduction).numpy()
        """),
    # --------------------------------------------------------------- mse_loss
    wrong(A, "mse_loss", "missing-square", """
        def mse_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = np.abs(input - target)
            return {"none": e, "mean": e.mean(), "sum": e.sum()}[reduction]
        """, "absolute instead of squared error"),
    wrong(A, "mse_loss", "half", """
        def mse_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = 0.5 * (input - target) ** 2
            return {"none": e, "mean": e.mean(), "sum": e.sum()}[reduction]
        """, "an extra 0.5 (the textbook 1/2 e^2 convention)"),
    wrong(A, "mse_loss", "rmse", """
        def mse_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = (input - target) ** 2
            if reduction == "mean":
                return np.sqrt(e.mean())
            return e.sum() if reduction == "sum" else e
        """, "root of the mean"),
    wrong(A, "mse_loss", "square-of-mean", """
        def mse_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = input - target
            if reduction == "none":
                return e ** 2
            return e.mean() ** 2 if reduction == "mean" else (e ** 2).sum()
        """, "square of the mean error"),
    wrong(A, "mse_loss", "always-sum", """
        def mse_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = (input - target) ** 2
            return e if reduction == "none" else e.sum()
        """, "sum for mean"),
    wrong(A, "mse_loss", "len-for-n", """
        def mse_loss(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = (input - target) ** 2
            if reduction == "mean":
                return e.sum() / len(e)
            return e.sum() if reduction == "sum" else e
        """, "len(input) for the number of elements"),
    wrong(A, "mse_loss", "no-validation", """
        def mse_loss(input, target, reduction="mean"):
            e = (input - target) ** 2
            if reduction == "none":
                return e
            if reduction == "sum":
                return e.sum()
            return e.mean()
        """, "unknown reductions silently averaged"),
    correct(A, "mse_loss", "dot-products", """
        def mse_loss(input, target, reduction="mean"):
            if reduction == "none":
                d = input - target
                return d * d
            if reduction in ("mean", "sum"):
                d = (input - target).ravel()
                s = np.dot(d, d)
                return s / d.size if reduction == "mean" else s
            raise ValueError("reduction has to be one of none/mean/sum, not %r" % (reduction,))
        """),
    correct(A, "mse_loss", "loops", """
        def mse_loss(input, target, reduction="mean"):
            if reduction not in ["none", "mean", "sum"]:
                raise ValueError(f"{reduction} is not a valid value for reduction")
            sq = np.zeros_like(input)
            for i, (a, b) in enumerate(zip(input.flat, target.flat)):
                sq.flat[i] = (a - b) * (a - b)
            if reduction == "none":
                return sq
            return sq.sum() if reduction == "sum" else sq.sum() / sq.size
        """),
    # ----------------------------------------------------------- l1_loss_grad
    wrong(A, "l1_loss_grad", "sign0-is-1", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            g = np.where(input - target >= 0, 1.0, -1.0)
            return g / input.size if reduction == "mean" else g
        """, "sign(0) = 1"),
    wrong(A, "l1_loss_grad", "no-1-over-n", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            return np.sign(input - target)
        """, "forgot the 1/N of the mean"),
    wrong(A, "l1_loss_grad", "sign-flipped", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            g = np.sign(target - input)
            return g / input.size if reduction == "mean" else g
        """, "derivative with respect to target"),
    wrong(A, "l1_loss_grad", "divides-always", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            return np.sign(input - target) / input.size
        """, "1/N for every reduction"),
    wrong(A, "l1_loss_grad", "len-for-n", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            g = np.sign(input - target)
            return g / len(input) if reduction == "mean" else g
        """, "len(input) for N"),
    wrong(A, "l1_loss_grad", "no-validation", """
        def l1_loss_grad(input, target, reduction="mean"):
            g = np.sign(input - target)
            return g / input.size if reduction == "mean" else g
        """, "unknown reductions accepted"),
    wrong(A, "l1_loss_grad", "scalar-mean", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            g = np.sign(input - target)
            return g.mean() if reduction == "mean" else g
        """, "returns the mean of the gradient, not the gradient"),
    correct(A, "l1_loss_grad", "nested-where", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in {"none", "mean", "sum"}:
                raise ValueError("bad reduction " + str(reduction))
            e = input - target
            g = np.where(e > 0, 1.0, np.where(e < 0, -1.0, 0.0)).astype(input.dtype)
            if reduction == "mean":
                g = g / e.size
            return g
        """),
    correct(A, "l1_loss_grad", "loops", """
        def l1_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"reduction={reduction!r} is not supported")
            scale = 1.0 / input.size if reduction == "mean" else 1.0
            g = np.zeros_like(input)
            for idx in np.ndindex(input.shape):
                if input[idx] > target[idx]:
                    g[idx] = scale
                elif input[idx] < target[idx]:
                    g[idx] = -scale
            return g
        """),
    delegates(A, "l1_loss_grad", "torch-autograd", """
        import torch
        def l1_loss_grad(input, target, reduction="mean"):
            x = torch.tensor(input, requires_grad=True)
            loss = torch.nn.functional.l1_loss(x, torch.tensor(target), reduction=reduction)
            (g,) = torch.autograd.grad(loss.sum(), x)
            return g.numpy()
        """),
    # ---------------------------------------------------------- mse_loss_grad
    wrong(A, "mse_loss_grad", "missing-2", """
        def mse_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            g = input - target
            return g / input.size if reduction == "mean" else g
        """, "missing factor 2"),
    wrong(A, "mse_loss_grad", "no-1-over-n", """
        def mse_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            return 2 * (input - target)
        """, "forgot the 1/N of the mean"),
    wrong(A, "mse_loss_grad", "sign-flipped", """
        def mse_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            g = 2 * (target - input)
            return g / input.size if reduction == "mean" else g
        """, "derivative with respect to target"),
    wrong(A, "mse_loss_grad", "len-for-n", """
        def mse_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            g = 2 * (input - target)
            return g / len(input) if reduction == "mean" else g
        """, "len(input) for N"),
    wrong(A, "mse_loss_grad", "divides-always", """
        def mse_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            return 2 * (input - target) / input.size
        """, "1/N for every reduction"),
    wrong(A, "mse_loss_grad", "no-validation", """
        def mse_loss_grad(input, target, reduction="mean"):
            g = 2 * (input - target)
            return g / input.size if reduction == "mean" else g
        """, "unknown reductions accepted"),
    wrong(A, "mse_loss_grad", "grad-of-rmse", """
        def mse_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"invalid reduction {reduction!r}")
            e = input - target
            if reduction == "mean":
                return e / (input.size * np.sqrt(np.mean(e ** 2)))
            return 2 * e
        """, "gradient of the root mean square"),
    correct(A, "mse_loss_grad", "einsum-scale", """
        def mse_loss_grad(input, target, reduction="mean"):
            scale = {"none": 2.0, "sum": 2.0, "mean": None}
            if reduction not in scale:
                raise ValueError(f"Unsupported reduction: {reduction}")
            factor = 2.0 / input.size if reduction == "mean" else 2.0
            return np.multiply(factor, np.subtract(input, target)).astype(input.dtype)
        """),
    correct(A, "mse_loss_grad", "loops", """
        def mse_loss_grad(input, target, reduction="mean"):
            if reduction not in ("none", "mean", "sum"):
                raise ValueError(f"{reduction!r} is not a valid reduction")
            g = np.empty_like(input)
            n = input.size
            for idx in np.ndindex(input.shape):
                g[idx] = 2 * (input[idx] - target[idx])
                if reduction == "mean":
                    g[idx] /= n
            return g
        """),
    # ------------------------------------------- the same mistakes, made in the helpers
    wrong(A, "l1_loss", "helper-mean-sums", L1_WITH_HELPERS, "reduce() sums for 'mean'",
          also={"reductions": variant(HELPERS, ("return values.mean()", "return values.sum()"))}),
    wrong(A, "l1_loss", "helper-accepts-anything", L1_WITH_HELPERS,
          "check_reduction() never raises: reduce() returns the values for an unknown reduction",
          also={"reductions": variant(HELPERS, (
              'raise ValueError(f"{reduction!r} is not a valid value for reduction")', "pass"))}),
    wrong(A, "mse_loss", "helper-len-for-n", MSE_WITH_HELPERS, "reduce() divides by len(values), the first dimension",
          also={"reductions": variant(HELPERS, ("return values.mean()", "return values.sum() / len(values)"))}),
    wrong(A, "l1_loss_grad", "helper-no-1-over-n", L1_GRAD_WITH_HELPERS, "reduce_grad() forgets the 1/N of 'mean'",
          also={"reduce_grad": variant(REDUCE_GRAD, ("return grad / grad.size", "return grad"))}),
    wrong(A, "mse_loss_grad", "helper-averages", MSE_GRAD_WITH_HELPERS,
          "reduce_grad() returns the mean of the gradient, a scalar",
          also={"reduce_grad": variant(REDUCE_GRAD, ("return grad / grad.size", "return grad.mean()"))}),
    correct(A, "l1_loss", "helper-dict-dispatch", L1_WITH_HELPERS, also={"reductions": """
        def check_reduction(reduction):
            if reduction not in {"none", "mean", "sum"}:
                raise ValueError("reduction must be 'none', 'mean' or 'sum', not " + repr(reduction))


        def reduce(values, reduction):
            check_reduction(reduction)
            return {"none": lambda v: v, "mean": np.mean, "sum": np.sum}[reduction](np.asarray(values))
        """}),
    correct(A, "l1_loss_grad", "helper-grad-scaled", L1_GRAD_WITH_HELPERS, also={"reduce_grad": """
        def reduce_grad(grad, reduction):
            check_reduction(reduction)
            scale = 1.0 / np.size(grad) if reduction == "mean" else 1.0
            return np.asarray(grad) * np.asarray(scale, dtype=np.asarray(grad).dtype)
        """}),
    delegates(A, "mse_loss_grad", "scipy-approx-fprime", """
        from scipy.optimize import approx_fprime
        def mse_loss_grad(input, target, reduction="mean"):
            f = lambda z: mse_loss(z.reshape(input.shape), target, reduction="sum")
            g = approx_fprime(input.ravel().astype(float), f, 1e-7).reshape(input.shape)
            return g / input.size if reduction == "mean" else g
        """),
]
