"""course.judge.softmax_hints: the helpers of 05_iris_softmax's hidden tests, in-process."""
import numpy as np
import pytest

from course.judge import reference
from course.judge import softmax_hints as softmax_grading
from course.judge.checks import Wrong, numerical_gradient


def gradient_case(n=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k))
    Y = reference.one_hot(rng.integers(0, k, size=n), k)
    numeric = numerical_gradient(lambda z: reference.cross_entropy(Y, reference.softmax(z)), Z.copy())
    return Y, reference.softmax(Z), numeric


@pytest.mark.parametrize("mistake, words", [
    (lambda Y, P, n: P - Y, "n times too large"),
    (lambda Y, P, n: (Y - P) / n, "wrong sign"),
    (lambda Y, P, n: Y - P, "wrong sign and is n times too large"),
    (lambda Y, P, n: (P - Y) / n ** 2, "n times too small"),
    (lambda Y, P, n: 2 * (P - Y) / n, "2.0 times the right gradient"),
])
def test_a_scaled_gradient_is_named(mistake, words):
    Y, P, numeric = gradient_case()
    with pytest.raises(Wrong, match=words):
        softmax_grading.expect_matching_gradient(mistake(Y, P, 6), numeric, "dL/dZ", 6, hint="fallback")


def test_an_unrelated_gradient_gets_the_hint():
    Y, P, numeric = gradient_case()
    with pytest.raises(Wrong, match="differs from the numerical gradient by .* - fallback$"):
        softmax_grading.expect_matching_gradient(P * Y, numeric, "dL/dZ", 6, hint="fallback")


def test_the_right_gradient_passes():
    Y, P, numeric = gradient_case(n=9, k=4, seed=3)
    softmax_grading.expect_matching_gradient((P - Y) / 9, numeric, "dL/dZ", 9)
