"""The checks of assignment 08 (regloss.checks.training, regloss.checks.schedules) and its
teaching helpers: references against independent computations, checks that accept correct
answers and refuse wrong ones."""

import numpy as np
import pytest
import torch

from regloss.checks import schedules, training
from regloss.teaching import training as teach


def _np_losses():
    """NumPy losses written here, independently of the course's answers."""
    def reduce(v, reduction):
        return {"none": v, "mean": v.mean(), "sum": v.sum()}[reduction]

    def reduce_grad(g, reduction):
        return g / g.size if reduction == "mean" else g

    def huber(x, t, reduction="mean", delta=1.0):
        e = x - t
        return reduce(np.where(np.abs(e) < delta, 0.5 * e * e, delta * (np.abs(e) - 0.5 * delta)), reduction)

    def huber_grad(x, t, reduction="mean", delta=1.0):
        return reduce_grad(np.clip(x - t, -delta, delta), reduction)

    return huber, huber_grad


class _Fn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, t, reduction, loss, grad, params, use_grad_output):
        ctx.save_for_backward(x, t)
        ctx.extra = (reduction, grad, params, use_grad_output)
        v = loss(x.detach().numpy(), t.detach().numpy(), reduction, **params)
        return torch.as_tensor(np.asarray(v), dtype=x.dtype)

    @staticmethod
    def backward(ctx, go):
        x, t = ctx.saved_tensors
        reduction, grad, params, use_go = ctx.extra
        g = torch.as_tensor(np.asarray(grad(x.numpy(), t.numpy(), reduction, **params)), dtype=x.dtype)
        g = g * go if use_go else g
        return g, -g, None, None, None, None, None


def _student(use_grad_output=True):
    def numpy_loss_function(loss, loss_grad, **params):
        return lambda x, t, reduction="mean": _Fn.apply(x, t, reduction, loss, loss_grad, params, use_grad_output)
    return numpy_loss_function


def test_check_numpy_loss_function_accepts_a_correct_one_on_every_probe():
    huber, huber_grad = _np_losses()
    n = training.check_numpy_loss_function(_student(), huber, huber_grad, "huber_loss",
                                           probes=training.hidden_probes(), gradcheck_reductions=("mean", "none"),
                                           delta=0.7)
    assert n == len(training.hidden_probes()) + 2 + 2


def test_check_numpy_loss_function_names_a_forgotten_grad_output():
    huber, huber_grad = _np_losses()
    with pytest.raises(AssertionError, match="ignores grad_output"):
        training.check_numpy_loss_function(_student(False), huber, huber_grad, "huber_loss",
                                           probes=[training.Probe((5,), "float64", "sum", scale=3.0)])


def test_check_numpy_loss_function_refuses_torch_functional():
    huber, huber_grad = _np_losses()

    def numpy_loss_function(loss, loss_grad, **params):
        return lambda x, t, reduction="mean": torch.nn.functional.huber_loss(x, t, reduction=reduction, **params)

    with pytest.raises(AssertionError, match="torch.nn.functional.huber_loss"):
        training.check_numpy_loss_function(numpy_loss_function, huber, huber_grad, "huber_loss")


def _torch_train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None, mistake=None):
    """A training loop written here (mini-batches: an epoch is a permutation cut into batches);
    ``mistake`` plants one of the mistakes a mini-batch loop can make."""
    out, queue, fixed = [], [], None
    n = len(x)
    for _ in range(n_steps):
        if batch_size is None:
            xb, yb = x, y
        else:
            if mistake == "integers":
                queue = [rng.integers(0, n, batch_size)]
            elif not queue:
                perm = {"shuffled-once": fixed, "not-shuffled": np.arange(n),
                        "global": np.random.permutation(n)}.get(mistake)
                perm = rng.permutation(n) if perm is None else perm
                fixed = perm if fixed is None else fixed
                stop = n - batch_size + 1 if mistake == "drop-last" else n
                queue = [perm[i:i + batch_size] for i in range(0, stop, batch_size)]
            rows = torch.as_tensor(queue.pop(0))
            xb, yb = x[rows], y[rows]
        if mistake != "no-zero-grad":
            optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        out.append((loss_fn(model(xb), yb) if mistake == "after" else loss).item())
    return out


def test_reference_train_is_what_torch_optim_does():
    """The update rules written out in reference_train agree with torch.optim's SGD and Adam,
    full-batch and replayed on the batches of a mini-batch loop."""
    configs = training.TRAIN_CONFIGS_VISIBLE + training.TRAIN_CONFIGS_HIDDEN
    assert any(len(c) == 8 for c in configs)
    assert training.check_train(_torch_train, configs) == len(configs)


@pytest.mark.parametrize("mistake, hint", [
    ("integers", "batch-with-replacement"), ("shuffled-once", "shuffled-once"), ("not-shuffled", "not-shuffled"),
    ("global", "rng-ignored"), ("drop-last", "last-batch-dropped"), ("after", "loss-after-step"),
    ("no-zero-grad", "no-zero-grad"),
])
def test_check_train_names_each_mini_batch_mistake(mistake, hint):
    def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
        return _torch_train(model, loss_fn, optimizer, x, y, n_steps, batch_size, rng, mistake)

    with pytest.raises(AssertionError, match=rf"\[mistake: {hint}\]"):
        training.check_train(train, [c for c in training.TRAIN_CONFIGS_VISIBLE if len(c) == 8])


def test_check_train_counts_steps_not_epochs():
    def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
        out = []
        for _ in range(n_steps):
            out += _torch_train(model, loss_fn, optimizer, x, y, -(-len(x) // batch_size), batch_size, rng)
        return out[:n_steps]

    with pytest.raises(AssertionError, match=r"\[mistake: wrong-number-of-steps\]"):
        training.check_train(train, [c for c in training.TRAIN_CONFIGS_VISIBLE if len(c) == 8])


def test_check_train_names_missing_zero_grad():
    def train(model, loss_fn, optimizer, x, y, n_steps):
        out = []
        for _ in range(n_steps):
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            out.append(loss.item())
        return out

    with pytest.raises(AssertionError, match="zero_grad"):
        training.check_train(train)


def _dynamic_by_blocks(errors, k, interval, beta0):
    """Dynamic R-CNN's rule, written block by block (not iteration by iteration)."""
    kth = [np.sort(np.abs(np.ravel(e)))[min(k, np.size(e)) - 1] for e in errors]
    out, beta = [], beta0
    for s in range(0, len(kth), interval):
        block = kth[s:s + interval]
        out += [beta] * len(block)
        if len(block) == interval and np.median(block) >= 1e-15:
            beta = min(beta0, float(np.median(block)))
    return np.array(out)


@pytest.mark.parametrize("k, interval, beta0", [(10, 100, 1.0), (3, 7, 0.2), (1, 1, 0.002), (50, 4, 2.0)])
def test_dynamic_reference_matches_the_rule_block_by_block(k, interval, beta0):
    errors = schedules.error_batches(np.random.default_rng(k + interval), 230, n=(5, 60))
    ref = schedules.dynamic_beta_reference(errors, k, interval, beta0)
    assert ref.shape == (230,) and ref[0] == beta0
    np.testing.assert_allclose(ref, _dynamic_by_blocks(errors, k, interval, beta0), rtol=1e-12)
    # the reference passes its own check, and every wrong design the hints know gives another schedule
    assert schedules.check_dynamic_beta(lambda e, k, interval, beta0: schedules.dynamic_beta_reference(
        e, k, interval, beta0), errors, k=k, interval=interval, beta0=beta0) == 230
    for mode in schedules._DYNAMIC_MISTAKES:
        variant = schedules._dynamic_variant(errors, k, interval, beta0, mode)
        if mode == "mean-history" and interval == 1 or beta0 < 0.01:
            continue  # one record per update, or every record above the cap: the same numbers
        assert not np.allclose(variant, ref), mode


def test_dynamic_reference_keeps_beta_for_zero_errors():
    errors = [np.zeros(4)] * 3 + [np.ones(4)] * 3
    np.testing.assert_array_equal(schedules.dynamic_beta_reference(errors, 2, 3, 0.5), [0.5] * 6)


def test_self_adjusting_reference_matches_retinamask_update():
    """Against the update written with torch.Tensor.var (unbiased) and in-place momentum, as the authors' code."""
    rng = np.random.default_rng(3)
    errors = schedules.error_batches(rng, 50, d=4, n=(1, 8))
    mu, var, want = torch.full((4,), 0.11, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), []
    for e in errors:
        n = torch.as_tensor(e).abs()
        if n.shape[0] > 1:  # the authors' later code skips batches whose variance is nan
            mu = mu * 0.9 + 0.1 * n.mean(dim=0)
            var = var * 0.9 + 0.1 * n.var(dim=0)
        want.append((mu - var).clamp(max=0.11, min=1e-3).numpy())
    got = schedules.self_adjusting_beta_reference(errors, beta_max=0.11, momentum=0.1)
    np.testing.assert_allclose(got, np.array(want), rtol=1e-12)
    flat = schedules.self_adjusting_beta_reference([e[:, 0] for e in errors], beta_max=0.11)
    np.testing.assert_allclose(flat, np.array(want)[:, 0], rtol=1e-12)


def _dyn(record=None, stat=np.median, every=None, cap=True, keep_zero=True, early=False, clear=True):
    """Dynamic SmoothL1 written with one design choice changed (each default is a sound one)."""
    def dynamic_beta(errors, k=10, interval=100, beta0=1.0):
        out, rec, beta = [], [], beta0
        for t, e in enumerate(errors):
            if not early:
                out.append(beta)
            a = np.sort(np.abs(np.ravel(e)))
            rec.append(record(a, k) if record else a[min(k, a.size) - 1])
            if (t + 1) % (every or interval) == 0:
                m = stat(rec)
                if m >= 1e-15 or not keep_zero:
                    beta = min(beta0, m) if cap else m
                if clear:
                    rec = []
            if early:
                out.append(beta)
        return np.array(out)
    return dynamic_beta


def _dyn_scenarios():
    rng = np.random.default_rng(80)
    return [(schedules.error_batches(rng, 300), 10, 25, 1.0),
            (schedules.error_batches(rng, 137, n=(2, 12)), 5, 10, 0.2),
            (schedules.error_batches(rng, 90, scale=(0.5, 3.0)), 1, 7, 50.0),
            ([np.zeros(5)] * 6 + schedules.error_batches(rng, 14), 2, 3, 0.5)]


@pytest.mark.parametrize("fn, mistake", [
    (_dyn(every=1), "beta-updated-every-step"), (_dyn(early=True), "beta-applied-early"),
    (_dyn(record=lambda a, k: a.mean()), "mean-record"), (_dyn(record=lambda a, k: a[::-1][min(k, a.size) - 1]),
                                                           "kth-largest"),
    (_dyn(record=lambda a, k: a[min(k, a.size - 1)]), "kth-off-by-one"), (_dyn(stat=np.mean), "mean-of-records"),
    (_dyn(cap=False), "beta-not-capped"), (_dyn(clear=False), "records-not-cleared"),
    (_dyn(keep_zero=False), "beta-not-positive"), (lambda e, k, interval, beta0: np.full(len(e), beta0),
                                                   "beta-never-updated"),
    (_dyn(stat=lambda r: float(np.max(r))), "beta-not-typical")])
def test_dynamic_check_names_a_planted_wrong_design(fn, mistake):
    with pytest.raises(AssertionError, match=rf"\[mistake: {mistake}\]"):
        for errors, k, interval, beta0 in _dyn_scenarios():
            schedules.check_dynamic_beta(fn, errors, k=k, interval=interval, beta0=beta0)


@pytest.mark.parametrize("fn", [_dyn(), _dyn(stat=lambda r: float(np.sort(r)[(len(r) - 1) // 2])),
                                _dyn(stat=lambda r: float(np.sort(r)[len(r) // 2])),
                                _dyn(stat=lambda r: float(np.percentile(r, 50, method="nearest")))],
                         ids=["median", "lower-median", "upper-median", "nearest-percentile"])
def test_dynamic_check_keeps_every_median(fn):
    for errors, k, interval, beta0 in _dyn_scenarios():
        schedules.check_dynamic_beta(fn, errors, k=k, interval=interval, beta0=beta0)


def _sab(ddof=1, weight=None, stat=None, signed=False, floor=1e-3, cap=True, before=False, skip_single=True,
         pooled=False):
    """Self-adjusting SmoothL1 written with one design choice changed (each default is a sound one)."""
    def self_adjusting_beta(errors, beta_max=1.0, momentum=0.1):
        first = np.asarray(errors[0])
        d = 1 if first.ndim == 1 else first.shape[1]
        mu, var, out = np.full(d, beta_max), np.zeros(d), []
        w = momentum if weight is None else weight(momentum)
        for e in errors:
            a = np.asarray(e, dtype=float).reshape(len(e), d)
            a = a if signed else np.abs(a)
            if pooled:
                a = np.repeat(a.reshape(-1, 1), d, axis=1)
            b = np.clip(mu - var, floor, beta_max if cap else np.inf)
            if len(a) >= 2 or not skip_single:
                with np.errstate(all="ignore"):
                    v = a.var(axis=0, ddof=ddof)
                v = stat(v) if stat else v
                mu, var = (1 - w) * mu + w * a.mean(axis=0), (1 - w) * var + w * v
            out.append(b if before else np.clip(mu - var, floor, beta_max if cap else np.inf))
        res = np.array(out)
        return res[:, 0] if first.ndim == 1 else res
    return self_adjusting_beta


def _sab_scenarios():
    rng = np.random.default_rng(90)
    return [(schedules.error_batches(rng, 100, scale=(0.1, 0.8), outliers=0.0), 1.0, 0.1),
            (schedules.error_batches(rng, 150, scale=(0.3, 1.0), outliers=0.0, d=2), 0.2, 0.1),
            (schedules.error_batches(rng, 120, scale=(0.02, 5.0), n=(2, 6)), 2.0, 0.3),
            (schedules.error_batches(rng, 200, d=4, n=(1, 4)), 0.5, 0.05)]


@pytest.mark.parametrize("fn, mistake", [
    (_sab(weight=lambda m: 1 - m), "momentum-flipped"), (_sab(weight=lambda m: 1.0), "no-running-statistics"),
    (_sab(stat=np.sqrt), "std-for-variance"), (_sab(signed=True), "signed-errors"),
    (_sab(floor=0.0), "beta-clipped-at-zero"), (_sab(cap=False), "beta-not-capped"),
    (_sab(before=True), "beta-before-update"), (_sab(skip_single=False), "beta-not-finite"),
    (_sab(pooled=True), "columns-not-separate"), (_sab(weight=lambda m: m / 10), "beta-not-typical")])
def test_self_adjusting_check_names_a_planted_wrong_design(fn, mistake):
    with pytest.raises(AssertionError, match=rf"\[mistake: {mistake}\]"):
        for errors, beta_max, momentum in _sab_scenarios():
            schedules.check_self_adjusting_beta(fn, errors, beta_max=beta_max, momentum=momentum)


@pytest.mark.parametrize("fn", [_sab(), _sab(ddof=0)], ids=["unbiased", "biased"])
def test_self_adjusting_check_keeps_sound_designs(fn):
    for errors, beta_max, momentum in _sab_scenarios():
        schedules.check_self_adjusting_beta(fn, errors, beta_max=beta_max, momentum=momentum)


def test_teaching_data_and_models_are_seeded():
    a, b = teach.regression_data(3), teach.regression_data(3)
    assert a.x_train.shape == a.y_train.shape == (512, 1) and a.f_test.shape == (400, 1)
    assert torch.equal(a.y_train, b.y_train) and 0.05 < a.is_outlier.mean() < 0.15
    assert (a.y_train.numpy().ravel()[a.is_outlier] > teach.target_function(a.x_train.numpy().ravel())[a.is_outlier]
            + 7).all()
    m1, m2 = teach.mlp(5), teach.mlp(5)
    np.testing.assert_array_equal(teach.parameter_vector(m1), teach.parameter_vector(m2))
    mae, rmse = teach.test_errors(m1, a.x_test, a.f_test)
    assert 0 < mae <= rmse
    phi, y, q, boom = teach.q_regression_data(1)
    assert phi.shape == (2000, 8) and y.shape == q.shape == (2000, 1)
    assert (np.abs((y - q).numpy().ravel()[boom]) > 400).all() and (np.abs((y - q).numpy().ravel()[~boom]) < 5).all()


def test_check_numpy_loss_function_needs_the_given_loss_grad_in_backward():
    """A backward through autograd of the loss written in torch (the forward from the NumPy loss) fails the
    tripled-gradient probe (regloss.teaching.torch_probes.tripled_grad)."""
    huber, huber_grad = _np_losses()

    class _AutogradBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, t, reduction, loss, delta):
            ctx.save_for_backward(x, t)
            ctx.extra = (reduction, delta)
            return torch.as_tensor(np.asarray(loss(x.detach().numpy(), t.detach().numpy(), reduction, delta=delta)),
                                   dtype=x.dtype)

        @staticmethod
        def backward(ctx, go):
            x, t = ctx.saved_tensors
            reduction, delta = ctx.extra
            with torch.enable_grad():
                a = x.detach().requires_grad_(True)
                e = (a - t).abs()  # Huber in torch operations (no torch.nn.functional loss)
                v = torch.where(e < delta, 0.5 * e * e, delta * (e - 0.5 * delta))
                (g,) = torch.autograd.grad(v.mean() if reduction == "mean" else v.sum(), a)
            return g * go, -g * go, None, None, None

    def numpy_loss_function(loss, loss_grad, **params):
        return lambda x, t, reduction="mean": _AutogradBackward.apply(x, t, reduction, loss, params["delta"])

    with pytest.raises(AssertionError, match="must call the NumPy `loss_grad`"):
        training.check_numpy_loss_function(numpy_loss_function, huber, huber_grad, "huber_loss", delta=1.0)


def test_gradcheck_in_the_checker_finds_a_wrong_gradient_for_none():
    """The gradcheck made from probed values finds a backward that is right for "mean" only."""
    huber, huber_grad = _np_losses()

    def mean_only_grad(x, t, reduction="mean", delta=1.0):
        return huber_grad(x, t, "mean", delta)

    with pytest.raises(AssertionError, match="Jacobian mismatch"):
        training.check_numpy_loss_function(_student(), huber, mean_only_grad, "huber_loss", probes=[],
                                           gradcheck_reductions=("none",), delta=1.0)


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_an_ensemble_trains_each_member_as_it_would_train_alone(kind):
    """The gradient of the summed losses is each member's own, and these optimisers act element by element."""
    seeds, n_steps = (3, 4, 5), 20
    make = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01),
            "adam": lambda p: torch.optim.Adam(p, lr=0.01), "adamw": lambda p: torch.optim.AdamW(p, lr=0.01)}[kind]
    data = [teach.regression_data(s) for s in seeds]
    x = torch.stack([d.x_train[:128] for d in data]).double()
    y = torch.stack([d.y_train[:128] for d in data]).double()
    ens = teach.mlp_ensemble(seeds, dtype=torch.float64)
    for i, s in enumerate(seeds):   # members start as mlp(seed)
        np.testing.assert_array_equal(teach.parameter_vector(teach.member(ens, i)),
                                      teach.parameter_vector(teach.mlp(s, dtype=torch.float64)))
    opt = make(ens.parameters())
    for _ in range(n_steps):
        opt.zero_grad()
        (len(seeds) * torch.nn.functional.huber_loss(ens(x), y)).backward()
        opt.step()
    for i, s in enumerate(seeds):
        alone = teach.mlp(s, dtype=torch.float64)
        o = make(alone.parameters())
        for _ in range(n_steps):
            o.zero_grad()
            torch.nn.functional.huber_loss(alone(x[i]), y[i]).backward()
            o.step()
        np.testing.assert_allclose(teach.parameter_vector(teach.member(ens, i)), teach.parameter_vector(alone),
                                   rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(teach.member(ens, i)(x[i]).detach().numpy(), ens(x)[i].detach().numpy(),
                                   rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("batches, hint", [
    ([[3, 1, 4, 0], [9, 2, 6, 5], [8, 7], [5, 0, 2, 9], [1, 7, 4, 6], [3, 8]], None),
    ([[3, 1, 4, 0], [9, 2, 6, 5], [8, 0]], "epoch-incomplete"),
    ([[3, 1, 4, 0], [9, 2, 6, 3]], "batch-with-replacement"),
    ([[3, 1, 4, 0], [9, 2, 6, 5], [5, 0, 2, 9], [1, 7, 4, 6]], "last-batch-dropped"),
    ([[3, 1, 4], [0, 9, 2], [6, 5, 8], [7]], "wrong-batch-size"),
    ([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], "not-shuffled"),
    ([[3, 1, 4, 0], [9, 2, 6, 5], [8, 7], [3, 1, 4, 0], [9, 2, 6, 5]], "shuffled-once"),
])
def test_order_hint_names_the_property_a_run_breaks(batches, hint):
    """Ten samples in batches of four: epochs of 4 + 4 + 2, each a new random order."""
    got = training._order_hint(batches, 10, 4)
    assert (got and got.id) == hint


def test_a_loop_that_changes_the_rows_is_named():
    def train(model, loss_fn, optimizer, x, y, n_steps, batch_size=None, rng=None):
        return _torch_train(model, loss_fn, optimizer, x * 1.0000001, y, n_steps, batch_size, rng)

    with pytest.raises(AssertionError, match=r"\[mistake: rows-not-from-x\]"):
        training.check_train(train, [c for c in training.TRAIN_CONFIGS_VISIBLE if len(c) == 8])
