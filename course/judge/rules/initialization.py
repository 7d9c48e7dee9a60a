"""The grading rules of 01_initialization: sigmoid (3 points) and init_params (4 points).

Each rule was the hidden tests of its cell; it runs in the grader (see course.judge.rules).
"""
from functools import cache

import numpy as np

from ... import data
from .. import reference as ref
from ..checks import Wrong, expect_array, expect_close, expect_unchanged
from . import rule

NOTEBOOK = 'initialization'
STUDENT = ['sigmoid', 'init_params']


@cache
def context():
    """What the visible checks use besides the student's functions."""
    X, y = data.xor()
    return {"np": np, "X": X, "y": y}


@rule('test_sigmoid', points=3)
def grade_sigmoid(student, check):
    with check.part(1, "sigmoid values on random arrays"):
        rng = np.random.default_rng(3101)
        for shape in [(7,), (3, 4), (2, 3, 2), (5, 1)]:
            z = rng.normal(0.0, 4.0, size=shape)
            expected = ref.sigmoid(z)
            expect_close(check.call(student.sigmoid, z.copy()), expected, f"sigmoid of a {shape} array",
                         hint="sigmoid(z) = 1 / (1 + exp(-z)): check the sign inside exp and do not round")
    with check.part(1, "sigmoid keeps the shape, returns floats and leaves z unchanged"):
        rng = np.random.default_rng(3102)
        for shape in [(1,), (6, 1), (1, 6), (2, 2, 3)]:
            z = rng.normal(0.0, 2.0, size=shape)
            before = z.copy()
            expect_array(check.call(student.sigmoid, z), f"sigmoid of a {shape} array", shape)
            expect_unchanged(before, z, "z")
        expect_array(check.call(student.sigmoid, np.array([[0, 1], [-2, 3]])), "sigmoid of an integer array", (2, 2))
    with check.part(1, "sigmoid is stable for large |z|"):
        big = np.array([10000.0, 5000.0, 1000.0, 710.0, 100.0])
        for side, z in (("negative", -big), ("positive", big)):
            try:   # numpy raises in the kernel on an overflow (a warning in the student's notebook)
                out = student.sigmoid.with_errstate(z.copy(), errstate=dict(over="raise", invalid="raise", divide="raise", under="ignore"))
            except (FloatingPointError, OverflowError):
                raise Wrong(f"sigmoid overflows for large {side} z - use a formula that never computes "
                            "exp of a large positive number") from None
            expect_close(out, ref.sigmoid(z), f"sigmoid for large {side} z",
                         hint="it should be close to 0 for large negative z and close to 1 for large positive z")


@rule('test_init_params', points=4)
def grade_init_params(student, check):
    SIZES = [(3, 4, 2), (5, 1, 3), (1, 6, 1), (2, 3, 1)]
    KEYS = {"W1", "b1", "W2", "b2"}

    def graded_init(*sizes, seed):
        params = check.call(student.init_params, *sizes, np.random.default_rng(seed))
        if not isinstance(params, dict) or set(params) != KEYS:
            raise Wrong("init_params should return a dict with exactly the keys W1, b1, W2, b2")
        return params

    with check.part(1, "init_params returns W1, b1, W2, b2 with the right shapes"):
        for sizes in SIZES:
            params = graded_init(*sizes, seed=11)
            for name, expected in ref.init_params(*sizes, np.random.default_rng(11)).items():
                expect_array(params[name], f"{name} of init_params{sizes + ('rng',)}".replace("'", ""), expected.shape)
    with check.part(0.5, "the biases start at zero"):
        for sizes in SIZES:
            params = graded_init(*sizes, seed=12)
            for name in ("b1", "b2"):
                if not isinstance(params[name], np.ndarray) or not np.all(params[name] == 0):
                    raise Wrong(f"{name} should be an array of zeros")
    with check.part(1, "the weights have mean 0 and standard deviation 1/sqrt(fan_in)"):
        n_in, n_hidden, n_out = 400, 100, 50
        params = graded_init(n_in, n_hidden, n_out, seed=13)
        for name, shape, fan_in, fan_name, tol in (("W1", (n_in, n_hidden), n_in, "n_in", 0.05),
                                                   ("W2", (n_hidden, n_out), n_hidden, "n_hidden", 0.1)):
            expect_array(params[name], name, shape)
            want, got = 1.0 / np.sqrt(fan_in), float(np.std(params[name]))
            if abs(got - want) > tol * want:
                raise Wrong(f"{name} has standard deviation {got:.3f} but should have about {want:.3f} = 1/sqrt({fan_name}) "
                            f"(its fan-in, the number of inputs of the layer)")
            if abs(float(np.mean(params[name]))) > 5 * want / np.sqrt(params[name].size):
                raise Wrong(f"{name} should have mean 0")
    with check.part(0.5, "init_params draws from the rng it is given"):
        first = graded_init(4, 5, 2, seed=14)
        again = graded_init(4, 5, 2, seed=14)
        other = graded_init(4, 5, 2, seed=15)
        for name in ("W1", "W2"):
            if not np.array_equal(np.asarray(first[name]), np.asarray(again[name])):
                raise Wrong("the same rng seed gave different weights - draw with the rng argument (rng.normal), not np.random")
            if np.array_equal(np.asarray(first[name]), np.asarray(other[name])):
                raise Wrong("different rng seeds gave the same weights - draw the weights from the rng argument")
    with check.part(1, "the weights are exactly the draws rng.normal gives, W1 first, then W2"):
        for seed, sizes in zip((0, 7, 2024, 99), SIZES):
            params = graded_init(*sizes, seed=seed)
            expected = ref.init_params(*sizes, np.random.default_rng(seed))
            for name in ("W1", "W2"):
                expect_close(params[name], expected[name], name,
                             hint="draw W1 first, then W2, each with one call rng.normal(0.0, 1/np.sqrt(fan_in), size=shape)")
