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


def _torch_train(model, loss_fn, optimizer, x, y, n_steps):
    out = []
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        out.append(loss.item())
    return out


def test_reference_train_is_what_torch_optim_does():
    """The update rules written out in reference_train agree with torch.optim's SGD and Adam."""
    assert training.check_train(_torch_train, training.TRAIN_CONFIGS_VISIBLE + training.TRAIN_CONFIGS_HIDDEN) == 8


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
    # every mistake the hints know gives a different schedule on such data
    for mode in schedules._DYNAMIC_MISTAKES:
        variant = schedules._dynamic_variant(errors, k, interval, beta0, mode)
        same = {"no-cap": beta0 >= 1.0, "every-step": interval == 1, "mean-history": interval == 1,
                "lower-median": interval % 2 == 1}  # where the mistake gives the same numbers
        if same.get(mode):
            continue
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


def test_schedule_checks_name_the_mistake():
    errors = schedules.error_batches(np.random.default_rng(1), 40, scale=(0.05, 0.3), outliers=0.0)
    with pytest.raises(AssertionError, match="after every iteration"):
        schedules.check_dynamic_beta(
            lambda e, k, interval, beta0: schedules._dynamic_variant(e, k, interval, beta0, "every-step"),
            errors, k=5, interval=10, beta0=1.0)
    with pytest.raises(AssertionError, match="unbiased"):
        def biased(errs, beta_max, momentum):
            mu, var, out = beta_max, 0.0, []
            for e in errs:
                a = np.abs(e)
                mu, var = 0.9 * mu + 0.1 * a.mean(), 0.9 * var + 0.1 * a.var()
                out.append(np.clip(mu - var, 1e-3, beta_max))
            return np.array(out)
        schedules.check_self_adjusting_beta(biased, errors, beta_max=1.0)


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
