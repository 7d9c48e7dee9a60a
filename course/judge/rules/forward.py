"""The grading rules of 02_forward: linear (2), forward (4, graded with the reference linear and sigmoid) and mse_loss (2).

Each rule was the hidden tests of its cell; it runs in the grader (see course.judge.rules).
"""
from functools import cache

import numpy as np

from ... import data
from .. import reference as ref
from ..checks import Wrong, expect_array, expect_close, expect_float, expect_unchanged, relative_error
from . import given, rule

NOTEBOOK = 'forward'
STUDENT = ['linear', 'forward', 'mse_loss']


@cache
def context():
    """What the visible checks use besides the student's functions: the given code and XOR."""
    X, y = data.xor()
    return {"np": np, "X": X, "y": y, **given("sigmoid", "init_params")}


@rule('test_linear', points=2)
def grade_linear(student, check):
    CASES = [(1, 3, 2), (6, 2, 5), (4, 4, 4), (9, 5, 1), (2, 1, 3)]   # (n, d, m)

    def linear_case(n, d, m, seed):
        rng = np.random.default_rng(seed)
        return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=(1, m))

    with check.part(1, "linear returns an (n, m) array for several batch sizes and widths"):
        for seed, (n, d, m) in enumerate(CASES):
            X_, W_, b_ = linear_case(n, d, m, 3200 + seed)
            expect_array(check.call(student.linear, X_, W_, b_), f"linear(X, W, b) for X ({n}, {d}), W ({d}, {m}), b (1, {m})",
                         (n, m))
    with check.part(1, "linear values: X @ W + b, the bias added to every row"):
        for seed, (n, d, m) in enumerate(CASES):
            X_, W_, b_ = linear_case(n, d, m, 3300 + seed)
            Z_ = check.call(student.linear, X_.copy(), W_.copy(), b_.copy())
            hint = "compute X @ W (shape (n, m)) and add b to every row"
            if isinstance(Z_, np.ndarray) and Z_.shape == (n, m):
                if relative_error(Z_, X_ @ W_) < 1e-9:
                    hint = "you forgot to add the bias b"
                elif d == m and relative_error(Z_, X_ @ W_.T + b_) < 1e-9:
                    hint = "use W as it is: X @ W, not X @ W.T"
            expect_close(Z_, ref.linear(X_, W_, b_), f"linear(X, W, b) for X ({n}, {d}), W ({d}, {m})", hint=hint)


@rule('test_forward', points=4, lend=['linear', 'sigmoid'])
def grade_forward(student, check):
    CASES = [(5, 2, 3), (1, 3, 4), (8, 4, 1), (6, 2, 7)]   # (n, d, H): batch size, inputs, hidden units
    KEYS = ("Z1", "A1", "Z2", "A2")

    def forward_case(n, d, H, seed):
        """Random inputs and parameters, with nonzero biases."""
        rng = np.random.default_rng(seed)
        params_ = ref.init_params(d, H, 1, rng)
        params_["b1"] = rng.normal(size=(1, H))
        params_["b2"] = rng.normal(size=(1, 1))
        return rng.normal(size=(n, d)), params_

    def graded_forward(X_, params_):
        out_ = check.call(student.forward, X_.copy(), {k: v.copy() for k, v in params_.items()})
        if not isinstance(out_, tuple) or len(out_) != 2 or not isinstance(out_[1], dict):
            raise Wrong("forward should return a pair (y_hat, cache) with cache a dict")
        missing = [k for k in KEYS if k not in out_[1]]
        if missing:
            raise Wrong(f"the cache has no key {missing[0]!r}: it needs Z1, A1, Z2 and A2 (capital letters)")
        return out_

    with check.part(1, "the cache holds Z1, A1, Z2, A2 with the right shapes"):
        for seed, (n, d, H) in enumerate(CASES):
            X_, params_ = forward_case(n, d, H, 3400 + seed)
            y_hat_, cache_ = graded_forward(X_, params_)
            for key, shape in zip(KEYS, [(n, H), (n, H), (n, 1), (n, 1)]):
                expect_array(cache_[key], f"cache[{key!r}] for X ({n}, {d}) and {H} hidden units", shape)
    with check.part(1, "hidden layer: Z1 = X @ W1 + b1 and A1 = sigmoid(Z1)"):
        for seed, (n, d, H) in enumerate(CASES):
            X_, params_ = forward_case(n, d, H, 3500 + seed)
            y_hat_, cache_ = graded_forward(X_, params_)
            expected = ref.forward(X_, params_)[1]
            expect_close(cache_["Z1"], expected["Z1"], "Z1", hint="Z1 = linear(X, W1, b1), with W1 and b1 of the hidden layer")
            expect_close(cache_["A1"], expected["A1"], "A1", hint="A1 = sigmoid(Z1)")
    with check.part(1, "output layer: Z2 = A1 @ W2 + b2 and A2 = sigmoid(Z2)"):
        for seed, (n, d, H) in enumerate(CASES):
            X_, params_ = forward_case(n, d, H, 3600 + seed)
            y_hat_, cache_ = graded_forward(X_, params_)
            expected = ref.forward(X_, params_)[1]
            expect_close(cache_["Z2"], expected["Z2"], "Z2",
                         hint="Z2 = linear(A1, W2, b2): the output layer takes the hidden activations A1, not X or Z1")
            hint = "A2 = sigmoid(Z2)"
            if isinstance(cache_["A2"], np.ndarray) and cache_["A2"].shape == (n, 1) \
                    and relative_error(cache_["A2"], expected["Z2"]) < 1e-9:
                hint = "apply the sigmoid to the output layer too: A2 = sigmoid(Z2)"
            expect_close(cache_["A2"], expected["A2"], "A2", hint=hint)
    with check.part(0.5, "forward returns y_hat equal to cache['A2']"):
        for seed, (n, d, H) in enumerate(CASES):
            X_, params_ = forward_case(n, d, H, 3700 + seed)
            y_hat_, cache_ = graded_forward(X_, params_)
            expect_array(y_hat_, f"y_hat for a batch of {n}", (n, 1))
            if relative_error(y_hat_, cache_["A2"]) > 1e-12:
                raise Wrong("y_hat should be the same array as cache['A2'], the output of the network")
    with check.part(0.5, "forward leaves X and params unchanged"):
        for seed, (n, d, H) in enumerate(CASES):
            X_, params_ = forward_case(n, d, H, 3800 + seed)
            X_before, params_before = X_.copy(), {k: v.copy() for k, v in params_.items()}
            check.call(student.forward, X_, params_)
            if set(params_) != set(params_before):
                raise Wrong("forward added or removed keys of params; keep the intermediate arrays in the cache instead")
            expect_unchanged(X_before, X_, "X")
            for key in params_before:
                expect_unchanged(params_before[key], params_[key], f"params[{key!r}]")


@rule('test_mse_loss', points=2)
def grade_mse_loss(student, check):
    def mse_case(shape, seed):
        rng = np.random.default_rng(seed)
        return (rng.random(shape) < 0.5).astype(float), rng.random(shape)

    def mse_hint(y_, y_hat_, value):
        """Name the likely mistake from the value the student returned."""
        errors = y_hat_ - y_
        for wrong, hint in ((np.sum(errors ** 2), "you summed the squared errors: take the mean instead"),
                            (np.mean(np.abs(errors)), "square the errors instead of taking their absolute value"),
                            (np.mean(errors), "square the errors before averaging"),
                            (np.sum(errors ** 2) / y_.shape[0], "divide by the number of elements, y.size, not the number of rows"),
                            (0.5 * np.mean(errors ** 2), "the mean squared error has no factor 1/2 here")):
            if abs(value - wrong) <= 1e-9 * max(1.0, abs(wrong)):
                return hint
        return "mse_loss = mean over all elements of (y_hat - y) ** 2"

    with check.part(0.5, "mse_loss returns a single float"):
        y_, y_hat_ = mse_case((5, 1), 3900)
        expect_float(check.call(student.mse_loss, y_, y_hat_), "mse_loss(y, y_hat)")
    with check.part(1, "mse_loss values for (n, 1) targets and predictions"):
        for seed, n in enumerate((1, 4, 13, 50)):
            y_, y_hat_ = mse_case((n, 1), 3910 + seed)
            value = expect_float(check.call(student.mse_loss, y_.copy(), y_hat_.copy()), "mse_loss(y, y_hat)")
            expect_close(value, ref.mse_loss(y_, y_hat_), f"mse_loss for a batch of {n}", hint=mse_hint(y_, y_hat_, value))
    with check.part(0.5, "mse_loss averages over all elements of an array with several columns"):
        for seed, shape in enumerate(((6, 3), (2, 5))):
            y_, y_hat_ = mse_case(shape, 3920 + seed)
            value = expect_float(check.call(student.mse_loss, y_.copy(), y_hat_.copy()), "mse_loss(y, y_hat)")
            expect_close(value, ref.mse_loss(y_, y_hat_), f"mse_loss for {shape} arrays", hint=mse_hint(y_, y_hat_, value))
