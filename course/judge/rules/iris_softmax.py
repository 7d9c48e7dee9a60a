"""The grading rules of 05_iris_softmax: one_hot (2), softmax (4), cross_entropy (2), softmax_cross_entropy_grad (3),
forward_softmax (2), backward_softmax (4), train_softmax (3) and accuracy (2); the dependent
functions with the reference helpers.

Each rule was the hidden tests of its cell; it runs in the grader (see course.judge.rules).
"""
import warnings
from functools import cache

import numpy as np

from ... import data
from .. import reference as ref
from ..checks import Wrong, expect_close, expect_float, expect_unchanged, numerical_gradient
from ..softmax_hints import expect_matching_gradient
from . import given, rule

NOTEBOOK = 'iris_softmax'
STUDENT = ['one_hot', 'softmax', 'cross_entropy', 'softmax_cross_entropy_grad', 'forward_softmax', 'backward_softmax', 'train_softmax', 'accuracy']


@cache
def context():
    """What the visible checks use besides the student's functions: given code, the iris split."""
    cell = {"np": np}
    exec(data.iris_data_cell(), cell)
    mean, std = cell["X_train"].mean(axis=0), cell["X_train"].std(axis=0)
    return {"np": np, "warnings": warnings, **given("sigmoid", "init_params", "linear", "sigmoid_derivative",
                                                    "update_params", "GRADIENT_CHECK_EPS", "GRADIENT_CHECK_TOLERANCE",
                                                    "numerical_gradient", "relative_error"),
            "Xs_train": (cell["X_train"] - mean) / std, "labels_train": cell["labels_train"]}


@rule('test_one_hot', points=2)
def grade_one_hot(student, check):
    rng = np.random.default_rng(501)
    with check.part(1, "one_hot on random labels"):
        for n, k in [(7, 3), (12, 5), (1, 2), (20, 4)]:
            labels_h = rng.integers(0, k, size=n)
            labels_h[0] = k - 1                      # the largest class occurs: sizes agree with the labels
            before = labels_h.copy()
            Y_h = check.call(student.one_hot, labels_h, k)
            expect_close(Y_h, ref.one_hot(labels_h, k), "one_hot(labels, n_classes)",
                         hint="row i needs a single 1.0 in column labels[i] (columns count from 0)")
            expect_unchanged(before, labels_h, "labels")
    with check.part(1, "one_hot when the largest classes do not occur in labels"):
        for labels_h, k in [(np.array([0, 1, 1, 0]), 4), (np.array([2, 0, 2]), 5)]:
            Y_h = check.call(student.one_hot, labels_h, k)
            if isinstance(Y_h, np.ndarray) and Y_h.ndim == 2 and Y_h.shape[1] != k:
                raise Wrong(f"one_hot(labels, {k}) has {Y_h.shape[1]} columns: make n_classes columns, "
                            "even when the largest classes do not occur in labels")
            expect_close(Y_h, ref.one_hot(labels_h, k), f"one_hot(labels, {k})",
                         hint="row i needs a single 1.0 in column labels[i]")


@rule('test_softmax', points=4)
def grade_softmax(student, check):
    rng = np.random.default_rng(502)

    def expect_softmax(Z_h, what, hint):
        P_h = check.call(student.softmax, Z_h.copy())
        if isinstance(P_h, np.ndarray) and P_h.shape == Z_h.shape and not np.all(np.isfinite(P_h)):
            raise Wrong(f"{what} contains nan or inf - {hint}")
        expect_close(P_h, ref.softmax(Z_h), what, hint=hint)

    with check.part(1, "softmax on random logits of several shapes"):
        for shape in [(4, 3), (6, 5), (3, 3), (1, 4), (10, 2)]:
            expect_softmax(rng.normal(0.0, 2.0, size=shape), f"softmax of a {shape} matrix",
                           "exponentiate, then divide each ROW by its own sum (axis=1, keepdims=True)")
    with check.part(1, "softmax of logits in the thousands"):
        for offset in [2500.0, -2500.0, 9000.0]:
            expect_softmax(rng.normal(0.0, 3.0, size=(5, 4)) + offset, f"softmax of logits near {offset:g}",
                           "subtract each row's maximum before np.exp")
        expect_softmax(np.array([[2000.0, -2000.0, 0.0], [-1500.0, 1500.0, 1490.0]]),
                       "softmax of logits thousands apart in one row",
                       "subtract each row's MAXIMUM before np.exp, so that no exponent is positive")
    with check.part(1, "softmax of rows with very different scales in one matrix"):
        expect_softmax(rng.normal(0.0, 2.0, size=(4, 3)) + np.array([[3000.0], [0.0], [-3000.0], [40.0]]),
                       "softmax of rows near 3000, 0, -3000 and 40",
                       "subtract EACH ROW'S own maximum (axis=1, keepdims=True), not one maximum of the whole matrix")
    with check.part(1, "softmax leaves Z unchanged"):
        Z_h = rng.normal(0.0, 2.0, size=(5, 3))
        before = Z_h.copy()
        check.call(student.softmax, Z_h)
        expect_unchanged(before, Z_h, "Z")


@rule('test_cross_entropy', points=2)
def grade_cross_entropy(student, check):
    rng = np.random.default_rng(503)
    with check.part(1, "cross_entropy on random batches"):
        for n, k in [(6, 3), (15, 4), (1, 3), (40, 2)]:
            Y_h = ref.one_hot(rng.integers(0, k, size=n), k)
            P_h = ref.softmax(rng.normal(0.0, 2.0, size=(n, k)))
            value = expect_float(check.call(student.cross_entropy, Y_h.copy(), P_h.copy()), "cross_entropy(Y, P)")
            expected = ref.cross_entropy(Y_h, P_h)
            hint = "average -sum(Y * log P) over the n rows"
            if n > 1 and abs(value - n * expected) < 1e-6 * n * expected:
                hint = "it is n times too large: take the MEAN over the rows, not the sum"
            elif abs(value - expected / k) < 1e-6 * expected:
                hint = "it is k times too small: sum over the classes of a row, then average over the rows only"
            elif abs(value + expected) < 1e-6 * expected:
                hint = "it has the wrong sign: the loss is MINUS the mean log-probability, so it is >= 0"
            expect_close(value, expected, "cross_entropy(Y, P)", hint=hint)
    with check.part(1, "cross_entropy when some probabilities are exactly 0"):
        Y_h = ref.one_hot(np.array([0, 2, 1, 1]), 3)
        value = expect_float(check.call(student.cross_entropy, Y_h.copy(), Y_h.copy()), "cross_entropy(Y, Y)")
        if abs(value) > 1e-6:
            raise Wrong(f"a perfect prediction (P equal to Y, with exact zeros) should have loss 0, not {value:.3g}")
        P_h = ref.softmax(rng.normal(0.0, 1.0, size=(4, 3)))
        P_h[0] = [0.0, 0.5, 0.5]                    # the true class of row 0 gets probability exactly 0
        value = expect_float(check.call(student.cross_entropy, Y_h.copy(), P_h.copy()),
                             "cross_entropy when the true class has probability 0")
        P_small = P_h.copy()
        P_small[0, 0] = 1e-3
        if value < ref.cross_entropy(Y_h, P_small) - 1e-9:
            raise Wrong("cross_entropy should be large when the true class gets probability 0 "
                        "(clip P into [1e-12, 1] before the log)")


@rule('test_softmax_cross_entropy_grad', points=3)
def grade_softmax_cross_entropy_grad(student, check):
    rng = np.random.default_rng(504)

    def grad_case(n, k):
        Z_h = rng.normal(0.0, 1.5, size=(n, k))
        Y_h = ref.one_hot(rng.integers(0, k, size=n), k)
        numeric = numerical_gradient(lambda Z: ref.cross_entropy(Y_h, ref.softmax(Z)), Z_h.copy())
        dZ = check.call(student.softmax_cross_entropy_grad, Y_h.copy(), ref.softmax(Z_h))
        expect_matching_gradient(dZ, numeric, f"dL/dZ for {n} examples and {k} classes", n,
                                 hint="dL/dZ = (P - Y) / n")

    with check.part(1, "gradient for a batch of 6 examples and 3 classes"):
        grad_case(6, 3)
    with check.part(1, "gradient for other batch sizes and numbers of classes"):
        for n, k in [(11, 4), (3, 2), (25, 3)]:
            grad_case(n, k)
    with check.part(1, "softmax_cross_entropy_grad leaves Y and P unchanged"):
        Y_h = ref.one_hot(rng.integers(0, 3, size=5), 3)
        P_h = ref.softmax(rng.normal(size=(5, 3)))
        Y_before, P_before = Y_h.copy(), P_h.copy()
        check.call(student.softmax_cross_entropy_grad, Y_h, P_h)
        expect_unchanged(Y_before, Y_h, "Y")
        expect_unchanged(P_before, P_h, "P")


@rule('test_forward_softmax', points=2, lend=['softmax'])
def grade_forward_softmax(student, check):
    rng = np.random.default_rng(505)
    cases = []
    for n, d, H, k in [(6, 4, 5, 3), (3, 2, 7, 4), (12, 4, 3, 3), (1, 5, 2, 2)]:
        params_h = ref.init_params(d, H, k, rng)
        params_h["b1"] = rng.normal(0.0, 0.5, size=(1, H))
        params_h["b2"] = rng.normal(0.0, 0.5, size=(1, k))
        cases.append((rng.normal(size=(n, d)), params_h))
    outcomes = []
    for X_h, params_h in cases:
        try:
            outcomes.append((check.call(student.forward_softmax, X_h.copy(), {name: v.copy() for name, v in params_h.items()}), None))
        except Wrong as failure:
            outcomes.append((None, failure))
    with check.part(1, "forward_softmax probabilities"):
        for (X_h, params_h), (result, failure) in zip(cases, outcomes):
            if failure:
                raise failure
            if not (isinstance(result, tuple) and len(result) == 2):
                raise Wrong("forward_softmax should return a pair (P, cache)")
            expect_close(result[0], ref.forward_softmax(X_h, params_h)[0], "P",
                         hint="check the hidden layer, sigmoid(X @ W1 + b1) applied once, and the output softmax(A1 @ W2 + b2)")
    with check.part(1, "forward_softmax cache"):
        for (X_h, params_h), (result, failure) in zip(cases, outcomes):
            if failure:
                raise failure
            cache_h = result[1] if isinstance(result, tuple) and len(result) == 2 else None
            if not isinstance(cache_h, dict):
                raise Wrong("the second value returned should be the cache, a dict")
            expected = ref.forward_softmax(X_h, params_h)[1]
            hints = {"Z1": "Z1 = X @ W1 + b1", "A1": "A1 = sigmoid(Z1), the sigmoid applied once",
                     "Z2": "Z2 = A1 @ W2 + b2", "A2": "A2 = softmax(Z2), the same array as P"}
            for key in ["Z1", "A1", "Z2", "A2"]:
                if key not in cache_h:
                    raise Wrong(f"the cache has no entry '{key}'")
                expect_close(cache_h[key], expected[key], f"cache['{key}']", hint=hints[key])


@rule('test_backward_softmax', points=4, lend=['softmax', 'softmax_cross_entropy_grad', 'forward_softmax'])
def grade_backward_softmax(student, check):
    rng = np.random.default_rng(506)
    cases = []
    for n, d, H, k in [(6, 4, 5, 3), (3, 2, 7, 4), (10, 4, 3, 3)]:
        params_h = ref.init_params(d, H, k, rng)
        params_h["b1"] = rng.normal(0.0, 0.5, size=(1, H))
        params_h["b2"] = rng.normal(0.0, 0.5, size=(1, k))
        cases.append((rng.normal(size=(n, d)), ref.one_hot(rng.integers(0, k, size=n), k), params_h))
    outcomes = []
    for X_h, Y_h, params_h in cases:
        cache_h = ref.forward_softmax(X_h, params_h)[1]
        try:
            outcomes.append((check.call(student.backward_softmax, X_h.copy(), Y_h.copy(),
                                        {name: v.copy() for name, v in params_h.items()},
                                        {name: v.copy() for name, v in cache_h.items()}), None))
        except Wrong as failure:
            outcomes.append((None, failure))
    hints = {"W2": "dW2 = A1.T @ dZ2 with dZ2 = (P - Y) / n",
             "b2": "db2 sums dZ2 = (P - Y) / n over the batch (axis=0, keepdims=True)",
             "W1": "check dZ1 = (dZ2 @ W2.T) * sigmoid_derivative(A1): the derivative takes the activation A1, "
                   "not Z1 and not sigmoid(A1)",
             "b1": "db1 sums dZ1 = (dZ2 @ W2.T) * sigmoid_derivative(A1) over the batch (axis=0, keepdims=True)"}
    for name in ["W2", "b2", "W1", "b1"]:
        with check.part(1, f"d{name}"):
            for (X_h, Y_h, params_h), (grads_h, failure) in zip(cases, outcomes):
                if failure:
                    raise failure
                if not isinstance(grads_h, dict) or name not in grads_h:
                    raise Wrong(f"backward_softmax should return a dict with the key '{name}'")

                def loss(value, name=name, X_h=X_h, Y_h=Y_h, params_h=params_h):
                    return ref.cross_entropy(Y_h, ref.forward_softmax(X_h, {**params_h, name: value})[0])

                numeric = numerical_gradient(loss, params_h[name].copy())
                expect_matching_gradient(grads_h[name], numeric, f"d{name}", X_h.shape[0], hint=hints[name])


@rule('test_train_softmax', points=3, lend=['softmax', 'cross_entropy', 'softmax_cross_entropy_grad', 'forward_softmax', 'backward_softmax'])
def grade_train_softmax(student, check):
    rng = np.random.default_rng(507)
    X_h = rng.normal(size=(24, 3))
    labels_h = (X_h[:, 0] > 0).astype(int) + (X_h[:, 1] > 0.5).astype(int)     # three classes
    Y_h = ref.one_hot(labels_h, 3)

    def run(*args, **kwargs):
        return check.call(student.train_softmax, X_h.copy(), Y_h.copy(), *args, **kwargs)

    def unpack(result, epochs):
        if not (isinstance(result, tuple) and len(result) == 2):
            raise Wrong("train_softmax should return a pair (params, losses)")
        params_s, losses_s = result
        if not isinstance(params_s, dict):
            raise Wrong("the first value returned should be the params dict")
        losses_s = np.asarray(losses_s, dtype=float).ravel()
        if losses_s.size != epochs:
            raise Wrong(f"train_softmax returned {losses_s.size} losses for {epochs} epochs; record one per epoch")
        return params_s, losses_s

    def expect_params(params_s, params_r, hint):
        for name in ["W1", "b1", "W2", "b2"]:
            if name not in params_s:
                raise Wrong(f"the trained params have no '{name}'")
            expect_close(params_s[name], params_r[name], f"trained params['{name}']", hint=hint)

    with check.part(1, "train_softmax losses"):
        for n_hidden, lr, epochs in [(4, 0.5, 12), (6, 2.0, 7)]:
            params_s, losses_s = unpack(run(n_hidden, lr, epochs), epochs)
            losses_r = ref.train_softmax(X_h, Y_h, n_hidden, lr, epochs)[1]
            hint = "record cross_entropy(Y, P) of every epoch, before that epoch's update"
            if epochs > 1 and np.allclose(losses_s[:-1], losses_r[1:], rtol=1e-9):
                hint = "these are the losses AFTER each update: record the loss before updating"
            expect_close(losses_s, np.asarray(losses_r), "the losses", hint=hint)
    with check.part(1, "train_softmax trained parameters"):
        for n_hidden, lr, epochs in [(4, 0.5, 12), (5, 1.5, 9)]:
            params_s, _ = unpack(run(n_hidden, lr, epochs), epochs)
            params_r = ref.train_softmax(X_h, Y_h, n_hidden, lr, epochs)[0]
            expect_params(params_s, params_r, "start from init_params(d, n_hidden, k, np.random.default_rng(seed)) "
                                              "and take one step update_params(params, grads, lr) per epoch")
    with check.part(1, "train_softmax uses its seed"):
        for seed in [3, 11]:
            params_s, _ = unpack(run(4, 0.5, 5, seed=seed), 5)
            expect_params(params_s, ref.train_softmax(X_h, Y_h, 4, 0.5, 5, seed=seed)[0],
                          f"with seed={seed} the start should be init_params(..., np.random.default_rng(seed))")


@rule('test_accuracy', points=2)
def grade_accuracy(student, check):
    rng = np.random.default_rng(508)
    with check.part(1, "accuracy on random predictions"):
        for n, k in [(20, 3), (7, 5), (50, 2), (3, 4)]:
            labels_h = rng.integers(0, k, size=n)
            P_h = ref.softmax(rng.normal(0.0, 2.0, size=(n, k)))
            expect_close(check.call(student.accuracy, labels_h.copy(), P_h.copy()), ref.accuracy(labels_h, P_h), "accuracy",
                         hint="compare np.argmax(P, axis=1) with the labels and return the FRACTION that agree (0 to 1)")
    with check.part(1, "accuracy when every prediction is right, or none"):
        labels_h = rng.integers(0, 3, size=9)
        right = ref.one_hot(labels_h, 3) * 0.8 + 0.1
        wrong = ref.one_hot((labels_h + 1) % 3, 3) * 0.8 + 0.1
        expect_close(check.call(student.accuracy, labels_h.copy(), right), 1.0, "accuracy of all-correct predictions",
                     hint="a fraction: 1.0 when every row is right")
        expect_close(check.call(student.accuracy, labels_h.copy(), wrong), 0.0, "accuracy of all-wrong predictions",
                     hint="a fraction: 0.0 when no row is right")
        expect_close(check.call(student.accuracy, labels_h[:1].copy(), right[:1]), 1.0, "accuracy of a single example")
