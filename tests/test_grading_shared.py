"""course.judge.checks's helpers shared by the assignments' hidden tests, in-process.

use_reference: the grader's functions for one cell, the student's after (in a kernel the tamper
guard's post_run_cell hook ends the cell; here _GUARD.give_back() or after_cell() does; the real
thing, with nbgrader autograde, is proven in tests/test_0*_grading.py). scale_hint: the words for a
gradient that is the right one times a constant.
"""
import numpy as np

from course.judge import reference
from course.judge.checks import _GUARD, scale_hint, use_reference


def test_the_reference_is_lent_for_the_cell_and_the_students_functions_come_back():
    def mine(Z):
        return Z
    namespace = {"softmax": mine, "other": 1}
    use_reference(namespace, ["softmax", "cross_entropy"])
    assert namespace["softmax"] is reference.softmax and namespace["cross_entropy"] is reference.cross_entropy
    use_reference(namespace, ["softmax"])          # twice in one cell: the student's stays remembered
    _GUARD.give_back()
    assert namespace == {"softmax": mine, "other": 1}


def test_the_guard_gives_back_after_a_cell_that_failed():
    namespace = {"softmax": "mine"}
    use_reference(namespace, ["softmax"])
    try:
        raise AssertionError("a visible assert failed")
    except AssertionError:
        pass
    _GUARD.after_cell()                             # IPython's post_run_cell runs after failing cells too
    assert namespace == {"softmax": "mine"}


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
