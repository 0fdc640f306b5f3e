"""Catalogue for 08_training: numpy_loss_function, train, dynamic_beta and self_adjusting_beta."""

from tests.catalogue import correct, delegates, wrong
from tests.catalogue import variant as _variant

A = "08_training"

# ------------------------------------------------------------ numpy_loss_function
NLF = """
def numpy_loss_function(loss, loss_grad, **params):
    class NumpyLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input, target, reduction):
            ctx.save_for_backward(input, target)
            ctx.reduction = reduction
            value = loss(input.detach().cpu().numpy(), target.detach().cpu().numpy(),
                         reduction=reduction, **params)
            return torch.as_tensor(np.asarray(value), dtype=input.dtype, device=input.device)

        @staticmethod
        def backward(ctx, grad_output):
            input, target = ctx.saved_tensors
            g = loss_grad(input.detach().cpu().numpy(), target.detach().cpu().numpy(),
                          reduction=ctx.reduction, **params)
            g = torch.as_tensor(np.asarray(g), dtype=input.dtype, device=input.device) * grad_output
            return (g if ctx.needs_input_grad[0] else None,
                    -g if ctx.needs_input_grad[1] else None,
                    None)

    def f(input, target, reduction="mean"):
        return NumpyLoss.apply(input, target, reduction)

    return f
"""


def _nlf(*pairs):
    return _variant(NLF, *pairs)


# -------------------------------------------------------------------------- train
TRAIN = """
def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
    n = len(x)
    losses, order = [], []
    for _ in range(n_steps):
        if batch_size is None:
            xb, yb = x, y
        else:
            if not order:
                perm = rng.permutation(n)
                order = [perm[i:i + batch_size] for i in range(0, n, batch_size)]
            idx = torch.as_tensor(order.pop(0))
            xb, yb = x[idx], y[idx]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
"""

# ------------------------------------------------------------------- dynamic_beta
DYN = """
def dynamic_beta(errors, k=10, interval=100, beta0=1.0):
    betas, record, beta = [], [], float(beta0)
    for t, e in enumerate(errors):
        betas.append(beta)
        a = np.sort(np.abs(np.ravel(e)))
        record.append(a[min(k, a.size) - 1])
        if (t + 1) % interval == 0:
            m = np.median(record)
            if m >= 1e-15:
                beta = min(float(beta0), m)
            record = []
    return np.array(betas)
"""

# ------------------------------------------------------------ self_adjusting_beta
SAB = """
def self_adjusting_beta(errors, beta_max=1.0, momentum=0.1):
    mu = var = None
    out = []
    for e in errors:
        a = np.abs(np.asarray(e, dtype=float))
        if mu is None:
            mu, var = np.full(a.shape[1:], float(beta_max)), np.zeros(a.shape[1:])
        if len(a) >= 2:
            mu = (1 - momentum) * mu + momentum * a.mean(axis=0)
            var = (1 - momentum) * var + momentum * a.var(axis=0, ddof=1)
        out.append(np.clip(mu - var, 1e-3, beta_max))
    return np.array(out)
"""

ENTRIES = [
    # ------------------------------------------------------------ numpy_loss_function
    wrong(A, "numpy_loss_function", "ignores-grad-output", _nlf(
        ("device=input.device) * grad_output", "device=input.device)")),
        "backward returns loss_grad without multiplying by grad_output"),
    wrong(A, "numpy_loss_function", "sum-grad-for-mean", _nlf(
        ("reduction=ctx.reduction, **params)", 'reduction="none" if ctx.reduction == "none" else "sum", **params)')),
        "backward takes the gradient of the sum whatever the reduction"),
    wrong(A, "numpy_loss_function", "float32-result", _nlf(
        ("return torch.as_tensor(np.asarray(value), dtype=input.dtype, device=input.device)",
         "return torch.tensor(np.asarray(value).tolist())")),
        "torch.tensor of Python floats: float32 (the default dtype) for a float64 input"),
    wrong(A, "numpy_loss_function", "detached-result", """
        def numpy_loss_function(loss, loss_grad, **params):
            def f(input, target, reduction="mean"):
                value = loss(input.detach().numpy(), target.detach().numpy(), reduction=reduction, **params)
                return torch.tensor(value, dtype=input.dtype, requires_grad=True)
            return f
        """, "a new leaf tensor holding the NumPy value: cut off from the graph, no gradient reaches input"),
    wrong(A, "numpy_loss_function", "target-grad-sign", _nlf(
        ("-g if ctx.needs_input_grad[1] else None", "g if ctx.needs_input_grad[1] else None")),
        "d loss / d target given the sign of d loss / d input"),
    wrong(A, "numpy_loss_function", "no-target-grad", _nlf(
        ("-g if ctx.needs_input_grad[1] else None", "None")),
        "never returns a gradient for target"),
    wrong(A, "numpy_loss_function", "shape-1-result", _nlf(
        ("torch.as_tensor(np.asarray(value), dtype", "torch.as_tensor(np.atleast_1d(value), dtype")),
        "a reduced loss of shape (1,) instead of a 0-d tensor"),
    wrong(A, "numpy_loss_function", "backward-by-autograd", """
        def numpy_loss_function(loss, loss_grad, **params):
            def f(input, target, reduction="mean"):
                value = loss(input.detach().numpy(), target.detach().numpy(), reduction=reduction, **params)
                e = input - target
                d = params.get("delta", params.get("beta", 1.0))
                surrogate = torch.where(e.abs() < d, 0.5 * e * e, d * (e.abs() - 0.5 * d))
                surrogate = {"none": surrogate, "mean": surrogate.mean(), "sum": surrogate.sum()}[reduction]
                return surrogate - surrogate.detach() + torch.as_tensor(value, dtype=input.dtype)
            return f
        """, "forward from the NumPy loss, but the gradient from autograd on a torch Huber: ignores loss_grad"),
    correct(A, "numpy_loss_function", "grad-in-forward", """
        def numpy_loss_function(loss, loss_grad, **params):
            class Fn(torch.autograd.Function):
                @staticmethod
                def forward(ctx, input, target, reduction="mean"):
                    x = input.detach().numpy()
                    t = target.detach().numpy()
                    ctx.g = np.asarray(loss_grad(x, t, reduction=reduction, **params))
                    ctx.dtype = input.dtype
                    return torch.from_numpy(np.array(loss(x, t, reduction=reduction, **params))).to(input.dtype)

                @staticmethod
                def backward(ctx, grad_output):
                    g = torch.from_numpy(ctx.g).to(ctx.dtype) * grad_output
                    return g, -g, None

            return lambda input, target, reduction="mean": Fn.apply(input, target, reduction)
        """, "the gradient computed in forward and kept on ctx; a gradient for target even when unused"),
    correct(A, "numpy_loss_function", "numpy-backward", """
        def numpy_loss_function(loss, loss_grad, **params):
            class Fn(torch.autograd.Function):
                @staticmethod
                def forward(ctx, input, target, reduction):
                    ctx.arrays = (input.detach().cpu().numpy().copy(), target.detach().cpu().numpy().copy())
                    ctx.reduction, ctx.like = reduction, input
                    out = loss(*ctx.arrays, reduction, *params.values())
                    return input.new_tensor(np.asarray(out, dtype=input.detach().numpy().dtype))

                @staticmethod
                def backward(ctx, grad_output):
                    g = np.asarray(loss_grad(*ctx.arrays, ctx.reduction, *params.values()))
                    g = g * grad_output.detach().cpu().numpy()
                    gi = torch.from_numpy(np.ascontiguousarray(g)).to(dtype=ctx.like.dtype, device=ctx.like.device)
                    return gi, (-gi if ctx.needs_input_grad[1] else None), None

            def f(input, target, reduction="mean"):
                return Fn.apply(input, target, reduction)

            return f
        """, "multiplies by grad_output in NumPy; passes the arguments positionally"),
    delegates(A, "numpy_loss_function", "torch-functional", """
        def numpy_loss_function(loss, loss_grad, **params):
            def f(input, target, reduction="mean"):
                return getattr(torch.nn.functional, loss.__name__)(input, target, reduction=reduction, **params)
            return f
        """),
    # -------------------------------------------------------------------------- train
    wrong(A, "train", "no-zero-grad", _variant(TRAIN, ("        optimizer.zero_grad()\n", "")),
          "never clears the gradients: they accumulate over the steps"),
    wrong(A, "train", "zero-grad-before-step", _variant(
        TRAIN, ("        optimizer.zero_grad()\n", ""),
        ("loss.backward()\n", "loss.backward()\n        optimizer.zero_grad()\n")),
          "zero_grad between backward and step: the step sees no gradient"),
    wrong(A, "train", "step-before-backward", _variant(
        TRAIN, ("        loss.backward()\n        optimizer.step()\n",
                "        optimizer.step()\n        loss.backward()\n")),
          "step before backward: every step uses the previous step's gradient"),
    wrong(A, "train", "loss-after-step", _variant(
        TRAIN, ("losses.append(loss.item())", "losses.append(loss_fn(model(xb), yb).item())")),
          "records the loss after the update"),
    wrong(A, "train", "off-by-one", _variant(TRAIN, ("range(n_steps)", "range(1, n_steps)")),
          "n_steps - 1 steps"),
    wrong(A, "train", "prediction-outside-loop", """
        def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
            pred = model(x)
            losses = []
            for _ in range(n_steps):
                optimizer.zero_grad()
                loss = loss_fn(pred, y)
                loss.backward(retain_graph=True)
                optimizer.step()
                losses.append(loss.item())
            return losses
        """, "computes the prediction once, before the loop: every step uses the first gradient"),
    wrong(A, "train", "integers-with-replacement", _variant(
        TRAIN, ("            if not order:\n", "            if True:\n"),
        ("perm = rng.permutation(n)", "perm = rng.integers(0, n, batch_size)")),
          "each batch drawn with rng.integers: samples repeat and others are skipped within an epoch"),
    wrong(A, "train", "choice-with-replacement", _variant(
        TRAIN, ("perm = rng.permutation(n)", "perm = rng.choice(n, size=n, replace=True)")),
          "an epoch's order drawn with rng.choice(replace=True): a bootstrap sample, not a permutation"),
    wrong(A, "train", "choice-per-batch", _variant(
        TRAIN, ("            if not order:\n", "            if True:\n"),
        ("perm = rng.permutation(n)", "perm = rng.choice(n, size=batch_size, replace=False)")),
          "each batch drawn on its own without replacement (no epochs): samples repeat across batches "
          "before others are seen"),
    wrong(A, "train", "shuffled-once", _variant(
        TRAIN, ("    losses, order = [], []\n",
                "    losses, order = [], []\n    perm = None if rng is None else rng.permutation(n)\n"),
        ("                perm = rng.permutation(n)\n", "")),
          "one permutation drawn before the loop and reused for every epoch"),
    wrong(A, "train", "not-shuffled", _variant(TRAIN, ("perm = rng.permutation(n)", "perm = np.arange(n)")),
          "batches in the stored order: rng never used"),
    wrong(A, "train", "last-batch-dropped", _variant(
        TRAIN, ("for i in range(0, n, batch_size)]", "for i in range(0, n - batch_size + 1, batch_size)]")),
          "drop_last: the smaller last batch of each epoch is skipped"),
    wrong(A, "train", "global-rng", _variant(TRAIN, ("perm = rng.permutation(n)", "perm = np.random.permutation(n)")),
          "the order from the global np.random, not the rng given: the same seed gives different orders"),
    wrong(A, "train", "torch-randperm", _variant(TRAIN, ("perm = rng.permutation(n)", "perm = torch.randperm(n)")),
          "the order from torch's global generator: rng ignored"),
    wrong(A, "train", "array-split", _variant(
        TRAIN, ("order = [perm[i:i + batch_size] for i in range(0, n, batch_size)]",
                "order = list(np.array_split(perm, -(-n // batch_size)))")),
          "np.array_split into ceil(n/b) near-equal parts: batches of other sizes than b"),
    wrong(A, "train", "n-steps-as-epochs", """
        def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
            b = len(x) if batch_size is None else batch_size
            losses = []
            for _ in range(n_steps):
                perm = np.arange(len(x)) if batch_size is None else rng.permutation(len(x))
                for i in range(0, len(x), b):
                    idx = torch.as_tensor(perm[i:i + b])
                    optimizer.zero_grad()
                    loss = loss_fn(model(x[idx]), y[idx])
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.item())
            return losses
        """, "n_steps taken as a number of epochs: one loss per batch, too many steps"),
    correct(A, "train", "zero-grad-last", """
        def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
            history = []
            model.zero_grad(set_to_none=True)
            index = np.arange(len(x))
            b = len(x) if batch_size is None else batch_size
            start = len(x)
            step = 0
            while step < n_steps:
                if batch_size is None:
                    xb, yb = x, y
                else:
                    if start >= len(x):
                        rng.shuffle(index)
                        start = 0
                    rows = torch.from_numpy(index[start:start + b].copy())
                    start += b
                    xb, yb = x.index_select(0, rows), y.index_select(0, rows)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                model.zero_grad(set_to_none=True)
                history.append(float(loss))
                step += 1
            return history
        """, "rng.shuffle of an index array in place, index_select, zero_grad after the step"),
    correct(A, "train", "closure", """
        def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
            def batches():
                while True:
                    if batch_size is None:
                        yield x, y
                        continue
                    perm = torch.as_tensor(rng.permutation(len(x)))
                    for chunk in torch.split(perm, batch_size):
                        yield x[chunk], y[chunk]

            source = batches()

            def step(xb, yb):
                def closure():
                    optimizer.zero_grad()
                    loss = loss_fn(model(xb), yb)
                    loss.backward()
                    return loss
                return optimizer.step(closure).item()

            return [step(*next(source)) for _ in range(n_steps)]
        """, "a generator of batches (torch.split of a permutation), optimizer.step(closure)"),
    correct(A, "train", "data-loader", """
        def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
            if batch_size is None:
                batches = iter(lambda: (x, y), None)
            else:
                gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
                loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size,
                                                     shuffle=True, generator=gen)
                batches = (b for _ in iter(int, 1) for b in loader)
            losses = []
            for _, (xb, yb) in zip(range(n_steps), batches):
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """, "torch's DataLoader, seeded from rng: the student still writes the steps; the loader's epochs are "
             "shuffled anew, keep the last batch and follow the seed"),
    # ------------------------------------------------------------------- dynamic_beta
    wrong(A, "dynamic_beta", "every-step", _variant(DYN, ("if (t + 1) % interval == 0:", "if True:")),
          "beta updated after every iteration"),
    wrong(A, "dynamic_beta", "early", _variant(
        DYN, ("        betas.append(beta)\n", ""),
        ("            record = []\n", "            record = []\n        betas.append(beta)\n")),
          "the new beta already used in the iteration that triggers the update"),
    wrong(A, "dynamic_beta", "mean-instead-of-kth", _variant(
        DYN, ("record.append(a[min(k, a.size) - 1])", "record.append(a.mean())")),
          "records the mean |error| instead of the k-th smallest"),
    wrong(A, "dynamic_beta", "k-zero-based", _variant(
        DYN, ("record.append(a[min(k, a.size) - 1])", "record.append(a[min(k, a.size - 1)])")),
          "the (k+1)-th smallest: k taken as a 0-based index"),
    wrong(A, "dynamic_beta", "mean-of-records", _variant(DYN, ("m = np.median(record)", "m = np.mean(record)")),
          "the mean of the records instead of their median"),
    wrong(A, "dynamic_beta", "no-cap", _variant(DYN, ("beta = min(float(beta0), m)", "beta = m")),
          "beta not capped at beta0"),
    wrong(A, "dynamic_beta", "no-clear", _variant(DYN, ("            record = []\n", "")),
          "records never cleared: the median of every iteration so far"),
    wrong(A, "dynamic_beta", "kth-largest", _variant(
        DYN, ("a = np.sort(np.abs(np.ravel(e)))", "a = np.sort(np.abs(np.ravel(e)))[::-1]")),
          "the k-th largest |target|: a high quantile, where the goal is the small targets"),
    wrong(A, "dynamic_beta", "never-updated", """
        def dynamic_beta(errors, k=10, interval=100, beta0=1.0):
            return np.full(len(errors), float(beta0))
        """, "beta0 throughout: the schedule never follows the targets"),
    wrong(A, "dynamic_beta", "zero-beta", _variant(DYN, ("            if m >= 1e-15:\n", "            if True:\n")),
          "an interval of zero targets sets beta = 0 (SmoothL1 then divides by zero)"),
    wrong(A, "dynamic_beta", "uncapped-running-min", """
        def dynamic_beta(errors, k=10, interval=100, beta0=1.0):
            out, beta, smallest = [], beta0, np.inf
            for t, e in enumerate(errors):
                out.append(beta)
                smallest = min(smallest, np.sort(np.abs(np.ravel(e)))[min(k, np.size(e)) - 1])
                if (t + 1) % interval == 0:
                    beta = min(beta0, smallest)
            return np.array(out)
        """, "the smallest record ever seen: never forgets, and is not a typical record"),
    correct(A, "dynamic_beta", "partition-blocks", """
        def dynamic_beta(errors, k=10, interval=100, beta0=1.0):
            kth = []
            for e in errors:
                a = np.abs(np.asarray(e, dtype=np.float64)).reshape(-1)
                j = min(k, a.size) - 1
                kth.append(np.partition(a, j)[j])
            out = np.empty(len(kth))
            beta = beta0
            for start in range(0, len(kth), interval):
                block = kth[start:start + interval]
                out[start:start + len(block)] = beta
                if len(block) == interval:
                    med = float(np.percentile(block, 50))
                    if med >= 1e-15:
                        beta = min(beta0, med)
            return out
        """, "the k-th smallest by np.partition, blocks of interval iterations, the median by np.percentile"),
    correct(A, "dynamic_beta", "lower-median", _variant(
        DYN, ("m = np.median(record)", "m = np.sort(record)[(len(record) - 1) // 2]")),
            "torch.median's convention (the lower middle record): another median, a sound design"),
    correct(A, "dynamic_beta", "python-lists", """
        def dynamic_beta(errors, k=10, interval=100, beta0=1.0):
            import statistics
            result, window, current = [], [], beta0
            for i, batch in enumerate(errors, start=1):
                result.append(current)
                values = sorted(abs(float(v)) for v in np.ravel(batch))
                window.append(values[:k][-1])
                if i % interval == 0:
                    med = statistics.median(window)
                    window.clear()
                    if med < 1e-15:
                        continue
                    current = beta0 if med > beta0 else med
            return np.asarray(result, dtype=float)
        """, "plain Python: sorted lists, statistics.median, 1-based iteration counter"),
    delegates(A, "dynamic_beta", "torch-kthvalue", """
        def dynamic_beta(errors, k=10, interval=100, beta0=1.0):
            out, record, beta = [], [], beta0
            for t, e in enumerate(errors):
                out.append(beta)
                a = torch.as_tensor(np.abs(np.ravel(e)))
                record.append(torch.kthvalue(a, min(k, a.numel())).values.item())
                if (t + 1) % interval == 0:
                    m = torch.quantile(torch.tensor(record), 0.5).item()
                    beta = min(beta0, m) if m >= 1e-15 else beta
                    record = []
            return np.array(out)
        """),
    # ------------------------------------------------------------ self_adjusting_beta
    wrong(A, "self_adjusting_beta", "flipped-momentum", _variant(
        SAB, ("mu = (1 - momentum) * mu + momentum * a.mean(axis=0)",
              "mu = momentum * mu + (1 - momentum) * a.mean(axis=0)"),
        ("var = (1 - momentum) * var + momentum * a.var(axis=0, ddof=1)",
         "var = momentum * var + (1 - momentum) * a.var(axis=0, ddof=1)")),
          "the new batch weighted by 1 - momentum"),
    wrong(A, "self_adjusting_beta", "signed-errors", _variant(
        SAB, ("a = np.abs(np.asarray(e, dtype=float))", "a = np.asarray(e, dtype=float)")),
          "running statistics of the signed errors, not of |error|"),
    wrong(A, "self_adjusting_beta", "columns-pooled", """
        def self_adjusting_beta(errors, beta_max=1.0, momentum=0.1):
            mu, var, out = beta_max, 0.0, []
            for e in errors:
                a = np.abs(np.asarray(e, dtype=float))
                if a.size >= 2:
                    mu = (1 - momentum) * mu + momentum * a.mean()
                    var = (1 - momentum) * var + momentum * a.var(ddof=1)
                out.append(np.full(a.shape[1:], np.clip(mu - var, 1e-3, beta_max)))
            return np.array(out)
        """, "one running mean and variance for all columns of 2-d errors"),
    wrong(A, "self_adjusting_beta", "std", _variant(SAB, ("a.var(axis=0, ddof=1)", "a.std(axis=0, ddof=1)")),
          "running standard deviation instead of variance"),
    wrong(A, "self_adjusting_beta", "no-momentum", _variant(
        SAB, ("mu = (1 - momentum) * mu + momentum * a.mean(axis=0)", "mu = a.mean(axis=0)"),
        ("var = (1 - momentum) * var + momentum * a.var(axis=0, ddof=1)", "var = a.var(axis=0, ddof=1)")),
          "each batch's own statistics: no running mean and variance"),
    wrong(A, "self_adjusting_beta", "clip-at-zero", _variant(
        SAB, ("np.clip(mu - var, 1e-3, beta_max)", "np.clip(mu - var, 0.0, beta_max)")),
          "clipped at 0 instead of 1e-3"),
    wrong(A, "self_adjusting_beta", "beta-before-update", _variant(
        SAB, ("        out.append(np.clip(mu - var, 1e-3, beta_max))\n", ""),
        ("        if len(a) >= 2:\n",
         "        out.append(np.clip(mu - var, 1e-3, beta_max))\n        if len(a) >= 2:\n")),
          "beta computed before the statistics see the current batch"),
    wrong(A, "self_adjusting_beta", "no-cap", _variant(
        SAB, ("np.clip(mu - var, 1e-3, beta_max)", "np.maximum(mu - var, 1e-3)")),
          "beta not capped at beta_max"),
    wrong(A, "self_adjusting_beta", "single-error-batches", _variant(
        SAB, ("        if len(a) >= 2:\n", "        if len(a) >= 1:\n")),
          "updates with a batch of one error, whose unbiased variance is nan"),
    delegates(A, "self_adjusting_beta", "torch-lerp", """
        def self_adjusting_beta(errors, beta_max=1.0, momentum=0.1):
            mu = var = None
            out = []
            for e in errors:
                a = torch.as_tensor(np.abs(np.asarray(e, dtype=float)))
                if mu is None:
                    mu, var = torch.full(a.shape[1:], float(beta_max), dtype=a.dtype), torch.zeros(a.shape[1:], dtype=a.dtype)
                if len(a) >= 2:
                    mu, var = torch.lerp(mu, a.mean(0), momentum), torch.lerp(var, a.var(0), momentum)
                out.append((mu - var).clamp(1e-3, beta_max).numpy())
            return np.array(out)
        """),  # noqa: E501 - a student's source, kept as written
    correct(A, "self_adjusting_beta", "biased-variance", _variant(SAB, ("a.var(axis=0, ddof=1)", "a.var(axis=0)")),
            "the biased variance (divides by n): a sound estimate, within the tolerance"),
    correct(A, "self_adjusting_beta", "start-from-first-batch", """
        def self_adjusting_beta(errors, beta_max=1.0, momentum=0.1):
            stats, betas = None, []
            for e in errors:
                a = np.abs(np.asarray(e, dtype=np.float64))
                if len(a) > 1:
                    m, v = a.mean(axis=0), a.var(axis=0, ddof=1)
                    if stats is None:
                        stats = [m, v]
                    else:
                        stats = [s + momentum * (x - s) for s, x in zip(stats, (m, v))]
                cur = stats if stats is not None else [np.full(a.shape[1:], beta_max), np.zeros(a.shape[1:])]
                betas.append(np.clip(cur[0] - cur[1], 1e-3, beta_max))
            return np.stack(betas)
        """, "the running statistics start from the first batch with two errors, not from beta_max and 0"),
    correct(A, "self_adjusting_beta", "lerp-stack", """
        def self_adjusting_beta(errors, beta_max=1.0, momentum=0.1):
            batches = [np.abs(np.asarray(e, dtype=np.float64)) for e in errors]
            if not batches:
                return np.zeros(0)
            shape = batches[0].shape[1:]
            mean, variance = np.full(shape, beta_max, dtype=float), np.zeros(shape)
            betas = np.empty((len(batches),) + shape)
            for i, a in enumerate(batches):
                n = a.shape[0]
                if n > 1:
                    m = a.sum(axis=0) / n
                    v = ((a - m) ** 2).sum(axis=0) / (n - 1)
                    mean += momentum * (m - mean)
                    variance += momentum * (v - variance)
                betas[i] = np.minimum(np.maximum(mean - variance, 0.001), beta_max)
            return betas
        """, "update written as x += m (new - x); variance by hand"),
    correct(A, "self_adjusting_beta", "per-column-python", """
        def self_adjusting_beta(errors, beta_max=1.0, momentum=0.1):
            import statistics
            errors = [np.asarray(e, dtype=float) for e in errors]
            flat = errors[0].ndim == 1
            cols = [e.reshape(len(e), -1) for e in errors]
            d = cols[0].shape[1]
            mu, var = [beta_max] * d, [0.0] * d
            rows = []
            for c in cols:
                row = []
                for j in range(d):
                    x = [abs(v) for v in c[:, j]]
                    if len(x) >= 2:
                        mu[j] = (1 - momentum) * mu[j] + momentum * statistics.fmean(x)
                        var[j] = (1 - momentum) * var[j] + momentum * statistics.variance(x)
                    row.append(min(beta_max, max(1e-3, mu[j] - var[j])))
                rows.append(row)
            out = np.array(rows)
            return out[:, 0] if flat else out
        """, "per column in plain Python with statistics.variance"),
]
