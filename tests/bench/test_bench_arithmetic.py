"""The benchmark's arithmetic (tests/bench/bench_grading.py): what a run's fixed part allows."""

import pytest

from tests.bench.bench_grading import class_for_ratio, fixed_allowed, fixed_part, ratio_at


def test_fixed_part_is_what_the_rate_leaves():
    assert fixed_part(14.0, 8, 0.8) == pytest.approx(4.0)


@pytest.mark.parametrize("f1,r1,f2,r2", [(4.0, 0.8, 4.0, 1.6), (3.0, 0.75, 3.5, 1.45), (0.0, 1.0, 0.0, 2.0)])
def test_ratio_reaches_the_steady_ratio_on_a_large_class(f1, r1, f2, r2):
    assert ratio_at(10**9, f1, r1, f2, r2) == pytest.approx(r2 / r1, rel=1e-6)


@pytest.mark.parametrize("target,f1,r1,f2,r2", [(1.85, 4.0, 0.8, 4.0, 1.6), (1.5, 2.0, 1.0, 2.5, 1.9),
                                                (1.85, 4.3, 0.763, 4.3, 1.430)])
def test_class_for_ratio_is_the_first_class_that_reaches_it(target, f1, r1, f2, r2):
    m = class_for_ratio(target, f1, r1, f2, r2)
    assert ratio_at(m, f1, r1, f2, r2) >= target
    assert m == 1 or ratio_at(m - 1, f1, r1, f2, r2) < target


def test_no_class_reaches_more_than_the_steady_ratio():
    assert class_for_ratio(1.85, 4.0, 1.0, 4.0, 1.8) is None


@pytest.mark.parametrize("n,r1,r2", [(8, 0.8, 1.6), (8, 0.763, 1.43), (32, 0.75, 1.45)])
def test_fixed_allowed_is_the_break_even(n, r1, r2):
    f = fixed_allowed(1.85, n, r1, r2)
    assert ratio_at(n, f, r1, f, r2) == pytest.approx(1.85)
    assert ratio_at(n, f + 0.1, r1, f + 0.1, r2) < 1.85
