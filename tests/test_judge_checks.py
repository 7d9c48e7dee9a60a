"""course.judge.checks: the comparisons and points every rule uses, in the grader's process."""
import numpy as np
import pytest

from course.judge import remote, wire
from course.judge.checks import Checker, Wrong, expect_close, expect_gradient, scale_hint

HINTS = [(-1.0, "sign"), (5.0, "n times too large"), (0.2, "n times too small")]


def test_scale_hint_names_the_first_matching_factor():
    expected = np.random.default_rng(0).normal(size=(5, 3))
    assert scale_hint(-expected, expected, HINTS) == "sign"
    assert scale_hint(expected * 5, expected, HINTS) == "n times too large"
    assert scale_hint(expected / 5 * (1 + 1e-7), expected, HINTS) == "n times too small"   # numerical noise
    assert scale_hint(3 * expected, expected, HINTS, other="{factor} times") == "3.0 times"
    assert scale_hint(3 * expected, expected, HINTS) == ""


def test_scale_hint_is_silent_on_unrelated_or_malformed_arrays():
    expected = np.random.default_rng(1).normal(size=(4, 2))
    assert scale_hint(expected + 1.0, expected, HINTS, other="{factor} times") == ""
    assert scale_hint(expected.T, expected, HINTS) == ""
    assert scale_hint("not an array", expected, HINTS) == ""
    assert scale_hint(np.full((4, 2), np.nan), expected, HINTS) == ""
    assert scale_hint(expected, np.zeros((4, 2)), HINTS) == ""


def test_a_checker_awards_the_parts_that_finish_and_says_why_the_others_did_not():
    check = Checker(points=3)
    with check.part(2, "values"):
        expect_close(np.ones(3), np.ones(3), "y_hat")
    with check.part(1, "shape"):
        expect_close(np.ones(2), np.ones(3), "y_hat")
    assert check.score() == 2.0
    assert check.summary() == ["✗ shape: y_hat has shape (2,) but should have shape (3,) (check the order of a "
                               "matrix product, a transpose, or a sum over the batch)", "2.0 of 3.0 points"]


def test_a_gradient_is_compared_with_centred_differences():
    x = np.array([0.3, -1.2, 2.0])
    expect_gradient(2 * x, lambda v: float(np.sum(v ** 2)), x.copy(), "dx")
    with pytest.raises(Wrong, match="dx has the right shape but differs from the numerical gradient by 200%"):
        expect_gradient(-2 * x, lambda v: float(np.sum(v ** 2)), x.copy(), "dx")


@pytest.mark.parametrize("error, words", [
    (remote._error_class("NotImplementedError")("NotImplementedError", ""), "forward is not implemented yet"),
    (remote._error_class("ValueError")("ValueError", "shapes (4,2) and (3,1) not aligned"),
     "forward raised ValueError: shapes (4,2) and (3,1) not aligned"),
    (wire.NotData("a MyArray"), "forward returned a MyArray, which is not plain data"),
])
def test_what_the_kernel_answers_instead_of_data_becomes_one_line(error, words):
    def forward(*args):
        raise error
    check = Checker(points=1)
    with check.part(1, "forward"):
        check.call(forward)
    assert words in check.summary()[0]


def test_a_time_limit_fails_the_whole_cell_not_one_part():
    def forever(*args):
        raise remote.TimeLimit()
    check = Checker(points=1)
    with pytest.raises(remote.TimeLimit):
        with check.part(1, "slow"):
            check.call(forever)
