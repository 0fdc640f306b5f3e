"""What a student sees when a check fails: hints that fit the loss, and a traceback
that shows the student's call and the message, not the library's frames."""

import re

import nbclient
import nbformat
import numpy as np
import pytest

from regloss.checks.cases import case
from regloss.checks.compare import CheckFailed, _outside_frames, check_grad, check_invalid_arguments, check_loss
from regloss.checks.diagnose import GENERIC_FACTORS, factor_readings, hint, ratio_hint
from regloss.checks.losses import REGISTRY
from regloss.checks.reference import torch_grad, torch_loss

CORE = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")

# (loss, kind) -> {factor: words the factor's hint must hold, or None: no reading of that factor}
# Three errors inside the quadratic zone of delta = beta = 1.5, reduction "sum": N and
# the parameter's factors (3, 1/3, 1.5, 1/1.5) cannot be mistaken for 2 or 0.5.
EXPECTED = {
    ("l1_loss", "loss"): {2.0: None, 0.5: None, -1.0: "never negative"},
    ("l1_loss", "grad"): {2.0: None, 0.5: None, -1.0: "sign of the gradient"},
    ("mse_loss", "loss"): {2.0: None, 0.5: "an extra 0.5", -1.0: "never negative"},
    ("mse_loss", "grad"): {2.0: None, 0.5: "factor 2 missing", -1.0: "sign of the gradient"},
    ("huber_loss", "loss"): {2.0: "missing factor 0.5", 0.5: None, -1.0: "never negative"},
    ("huber_loss", "grad"): {2.0: "0.5 of 0.5 * e**2 get lost", 0.5: None, -1.0: "sign of the gradient"},
    ("smooth_l1_loss", "loss"): {2.0: "0.5 * e**2 / beta", 0.5: None, -1.0: "never negative"},
    ("smooth_l1_loss", "grad"): {2.0: "0.5 of 0.5 * e**2 / beta get lost", 0.5: None, -1.0: "sign of the gradient"},
}


def _case(loss):
    p = REGISTRY[loss].main
    return case([0.5, -1.0, 1.2], [0.0, 0.0, 0.0], "sum", **({p: 1.5} if p else {}))


@pytest.mark.parametrize("loss, kind, factor", [(lo, k, f) for (lo, k), fs in EXPECTED.items() for f in fs])
def test_a_factor_is_read_only_as_a_mistake_that_fits_the_loss(loss, kind, factor):
    c = _case(loss)
    truth = (torch_loss if kind == "loss" else torch_grad)(loss, c.input, c.target, c.reduction, **c.params)
    got = ratio_hint(factor * truth, truth, c, kind, REGISTRY[loss].main, loss=loss)
    words = EXPECTED[(loss, kind)][factor]
    if words is None:
        assert got is None, f"{loss} {kind} x{factor}: {got!r}"
    else:
        assert got is not None and words in got, f"{loss} {kind} x{factor}: {got!r}"


@pytest.mark.parametrize("loss", ["l1_loss"])
def test_l1_never_hears_of_a_missing_half(loss):
    """The issue's example: for L1, "a missing factor 0.5?" must not appear, whatever the factor."""
    c = _case(loss)
    for kind in ("loss", "grad"):
        truth = (torch_loss if kind == "loss" else torch_grad)(loss, c.input, c.target, c.reduction)
        for factor in (2.0, 0.5, -2.0, 4.0):
            got = hint(factor * truth, truth, c, kind, None, loss=loss) or ""
            assert "0.5" not in got and "factor 2" not in got, got


def test_every_core_loss_has_its_own_readings_and_others_get_the_generic_ones():
    for lo in CORE:
        spec = REGISTRY[lo]
        for kind in ("loss", "grad"):
            own = spec.factors(kind)
            assert own is not None  # its record's own readings, not the generic ones
            at = spec.with_defaults(_case(lo).params)
            assert factor_readings(lo, kind, _case(lo).params) == [(r.at(at), r.hint) for r in own]
    assert factor_readings("some_new_loss", "grad") == GENERIC_FACTORS["grad"]


def test_check_loss_passes_the_loss_to_the_hints():
    """End to end: an L1 loss twice too large reads as nothing about 0.5; a Huber one does."""
    with pytest.raises(CheckFailed) as err:
        check_loss(lambda i, t, reduction="mean": 2 * np.abs(i - t).sum(), "l1_loss", _case("l1_loss"))
    assert "0.5" not in str(err.value).split("PyTorch gives")[1]
    with pytest.raises(CheckFailed, match="missing factor 0.5"):
        check_loss(lambda i, t, reduction="mean", delta=1.0: (i - t) @ (i - t), "huber_loss", _case("huber_loss"))


# ------------------------------------------------------------------ the traceback


def _failing_call():
    return check_grad(lambda i, t, reduction="mean": np.sign(i - t), "l1_loss", case([1.0, 3.0, 5.0], [2.0, 1.0, 4.0]))


def test_a_failed_check_is_an_assertion_error_with_no_chained_cause():
    with pytest.raises(AssertionError) as err:
        _failing_call()
    exc = err.value
    assert type(exc) is CheckFailed
    assert exc.__cause__ is None and exc.__suppress_context__
    assert "1/N" in str(exc)


def test_the_shown_traceback_holds_no_library_frame():
    try:
        _failing_call()
    except CheckFailed as exc:
        raw = exc.__traceback__
    names = []
    tb = _outside_frames(raw)
    while tb is not None:
        names.append((tb.tb_frame.f_globals["__name__"], tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    assert names == [(__name__, "test_the_shown_traceback_holds_no_library_frame"), (__name__, "_failing_call")]


def test_invalid_argument_checks_fail_as_check_failed_too():
    with pytest.raises(CheckFailed, match="instead of raising ValueError"):
        check_invalid_arguments(lambda i, t, reduction="mean": 1.0, "l1_loss")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_a_student_sees_their_call_and_the_message_in_jupyter():
    """Run the cells in a real IPython kernel (nbclient, as JupyterLab and nbgrader do) and
    read the error output: the test cell's line and the message; no regloss frame, no
    library source. A crash in the student's own function shows the student's frame."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "import numpy as np\nfrom regloss.checks.cases import case\nfrom regloss.checks.compare import check_loss",
        "def huber_loss(input, target, reduction='mean', delta=1.0):\n"
        "    e = input - target\n"
        "    loss = np.where(np.abs(e) < delta, e * e, delta * (np.abs(e) - 0.5 * delta))\n"
        "    return loss.mean() if reduction == 'mean' else loss",
        "check_loss(huber_loss, 'huber_loss', case([0.5, 2.0], [0, 0], 'none', delta=1.0))",
        "def l1_loss(input, target, reduction='mean'):\n    return np.abs(input - target).mean() + undefined_name\n"
        "check_loss(l1_loss, 'l1_loss', case([0.5, 2.0], [0, 0]))",
    )]
    nbclient.NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    (wrong,) = [o for o in nb.cells[2].outputs if o.output_type == "error"]
    shown = _ANSI.sub("", "\n".join(wrong.traceback))
    assert wrong.ename == "CheckFailed"
    assert "check_loss(huber_loss, 'huber_loss'" in shown
    assert "wrong only where |e| < delta (the quadratic branch), and there by a constant factor: twice" in shown
    assert "[mistake: missing-0.5]" in shown
    assert "regloss" not in shown and "_check_one" not in shown and "Parameters" not in shown
    assert len(shown.splitlines()) <= 8, shown
    (crash,) = [o for o in nb.cells[3].outputs if o.output_type == "error"]
    shown = _ANSI.sub("", "\n".join(crash.traceback))
    assert crash.ename == "NameError" and "undefined_name" in shown
    assert "in l1_loss" in shown and "check_loss(l1_loss" in shown
    assert "compare.py" not in shown and "_check_one" not in shown and "cases.py" not in shown


@pytest.mark.parametrize("loss, params, subgradient", [
    ("l1_loss", {}, True), ("smooth_l1_loss", {"beta": 0.0}, True),
    ("mse_loss", {}, False), ("huber_loss", {"delta": 1.0}, False), ("smooth_l1_loss", {"beta": 0.5}, False)])
def test_a_gradient_wrong_only_at_zero_speaks_of_a_subgradient_only_at_a_kink(loss, params, subgradient):
    c = case([1.0, 3.0, 5.0], [2.0, 1.0, 5.0], "none", **params)  # e = 0 in the last place
    truth = torch_grad(loss, c.input, c.target, c.reduction, **c.params)
    student = truth.copy()
    student[2] = 1.0  # as `e >= 0` would give
    got = hint(student, truth, c, "grad", REGISTRY[loss].main, loss=loss)
    assert "wrong only where e = 0" in got
    assert ("a subgradient" in got) == subgradient and ("no kink" in got) == (not subgradient), got
    # a hint diagnoses, it does not hand over the fix
    assert "np.sign" not in got and ">= 0" not in got and "is 0" not in got, got


def test_the_class_report_counts_a_failed_check_as_a_wrong_value_not_a_crash():
    """Autograded notebooks now carry ename "CheckFailed": still an assertion, not an error."""
    from regloss.grading.report.mistakes import classify

    assert classify("gave 1, PyTorch gives 2", "CheckFailed") == classify("gave 1, PyTorch gives 2") == "other"
    assert classify("name 'x' is not defined", "NameError") == "error"
