"""The grading rules of 03_backward: numerical_gradient (4), sigmoid_derivative (2), mse_loss_grad (2),
chain_rule_by_hand (2) and backward (8, graded with the reference helpers).

Each rule was the hidden tests of its cell; it runs in the grader (see course.judge.rules).
"""
from functools import cache

import numpy as np

from ... import data
from .. import reference as ref
from .. import checks as grading
from ..checks import Wrong, expect_close, expect_float, expect_gradient, expect_unchanged, relative_error
from ..hints import backward_case, expect_backward_gradient, first_match, scale_hint, sigmoid_derivative_hint
from . import given, rule

NOTEBOOK = 'backward'
STUDENT = ['numerical_gradient', 'sigmoid_derivative', 'mse_loss_grad', 'chain_rule_by_hand', 'backward']


@cache
def context():
    """What the visible checks use besides the student's functions: the given code and XOR."""
    X, y = data.xor()
    return {"np": np, "X": X, "y": y, **given("sigmoid", "init_params", "linear", "forward", "mse_loss")}


@rule('test_numerical_gradient', points=4)
def grade_numerical_gradient(student, check):
    def forward_difference(f, x, eps):
        grad = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            shifted = x.copy()
            shifted[i] += eps
            grad[i] = (f(shifted) - f(x.copy())) / eps
        return grad

    def graded_gradient(f, x, what, eps=None):
        """The student's gradient of f at (a copy of) x, compared with the grader's centred difference."""
        args = () if eps is None else (eps,)
        actual = check.call(student.numerical_gradient, f, x.copy(), *args)
        step = ref.GRADIENT_CHECK_EPS if eps is None else eps      # the default of the student's numerical_gradient
        expected = grading.numerical_gradient(f, x.copy(), eps=step)
        hint = first_match(actual, [
            ("looks like a forward difference (f(x + eps) - f(x)) / eps: use the centred one, "
             "(f(x + eps) - f(x - eps)) / (2 eps)", forward_difference(f, x, step)),
            ("looks like eps was ignored: use the eps argument",
             grading.numerical_gradient(f, x.copy(), eps=ref.GRADIENT_CHECK_EPS)
             if step != ref.GRADIENT_CHECK_EPS else None),
        ]) or ("perturb one element at a time (np.ndindex(x.shape)) and restore it before the next"
               if x.ndim > 1 else "use (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for each element i")
        expect_close(actual, expected, f"the gradient {what}", hint=hint, tol=1e-6)

    with check.part(1, "gradients of functions of a vector"):
        for seed, size in [(31, 4), (32, 7)]:
            v = np.random.default_rng(seed).normal(0, 1, size=size)
            graded_gradient(lambda u: float(np.sum(np.sin(3 * u)) + u @ u), v, f"of a function of a vector of {size}")
    with check.part(1, "gradients with respect to matrices and 3-D arrays"):
        for seed, shape in [(41, (3, 4)), (42, (2, 3, 2)), (43, (5, 1))]:
            A = np.random.default_rng(seed).normal(0, 1, size=shape)
            graded_gradient(lambda B: float(np.sum(np.tanh(B)) * np.sum(B ** 2)), A, f"of a function of an array of shape {shape}")
    with check.part(1, "centred differences with the given eps, on a strongly curved function"):
        for seed, eps in [(51, 1e-3), (52, 1e-2)]:
            v = np.random.default_rng(seed).normal(0, 0.5, size=5)
            graded_gradient(lambda u: float(np.sum(np.exp(6 * u))), v, f"of sum(exp(6x)) with eps={eps}", eps=eps)
    with check.part(1, "x holds its original values afterwards"):
        A = np.random.default_rng(61).normal(0, 1, size=(3, 2))
        before = A.copy()
        check.call(student.numerical_gradient, lambda B: float(np.sum(B ** 3)), A)
        if not isinstance(A, np.ndarray) or A.shape != before.shape or relative_error(A, before) > 1e-13:
            raise Wrong("x was changed by numerical_gradient: save old = x[i] and set x[i] = old after the two evaluations")


@rule('test_sigmoid_derivative', points=2)
def grade_sigmoid_derivative(student, check):
    with check.part(1, "sigmoid_derivative(sigmoid(z)) matches the numerical slope of the sigmoid"):
        for seed, shape in [(71, (6,)), (72, (4, 3)), (73, (2, 3, 2)), (74, (1, 1))]:
            z = np.random.default_rng(seed).normal(0, 2.5, size=shape)
            a = ref.sigmoid(z)
            actual = check.call(student.sigmoid_derivative, a.copy())
            expect_gradient(actual, lambda u: float(np.sum(ref.sigmoid(u))), z.copy(),
                            f"sigmoid_derivative for an array of shape {shape}",
                            hint=sigmoid_derivative_hint(actual, a))
    with check.part(1, "values at the ends and the middle, and a left unchanged"):
        a = np.array([[0.0, 1.0, 0.5], [0.1, 0.9, 0.75]])
        before = a.copy()
        actual = check.call(student.sigmoid_derivative, a)
        expect_unchanged(before, a, "a")
        expect_close(actual, before * (1 - before), "sigmoid_derivative at a = 0, 1, 0.5, 0.1, 0.9, 0.75",
                     hint=sigmoid_derivative_hint(actual, before) or "the slope is a * (1 - a): 0 at a = 0 and 1, 1/4 at 1/2")


@rule('test_mse_loss_grad', points=2)
def grade_mse_loss_grad(student, check):
    def graded_mse_grad(shape, seed):
        rng = np.random.default_rng(seed)
        y_ = rng.integers(0, 2, size=shape).astype(float)
        y_hat_ = rng.uniform(0.05, 0.95, size=shape)
        y_before, y_hat_before = y_.copy(), y_hat_.copy()
        actual = check.call(student.mse_loss_grad, y_, y_hat_)
        expect_unchanged(y_before, y_, "y")
        expect_unchanged(y_hat_before, y_hat_, "y_hat")
        hint = scale_hint(actual, ref.mse_loss_grad(y_before, y_hat_before), y_.size, "the errors")
        if not hint and shape[1] > 1:
            hint = "divide by the number of elements y.size (rows times columns), not by the number of rows"
        expect_gradient(actual, lambda u: ref.mse_loss(y_before, u), y_hat_before.copy(),
                        f"mse_loss_grad for y of shape {shape}", hint=hint)

    with check.part(1, "gradient for a column of targets, several batch sizes"):
        for seed, n in [(81, 5), (82, 12), (83, 1)]:
            graded_mse_grad((n, 1), seed)
    with check.part(1, "gradient for several columns (the mean is over all elements)"):
        graded_mse_grad((4, 3), 84)


# (x, y, w1, b1, w2, b2): every weight and input away from 0 and 1, both targets, both signs of dL/dz2
CHAIN_RULE_CASES = [(-1.5, 0.0, 0.7, 0.3, 2.0, -0.4), (0.5, 1.0, -2.0, 0.1, 0.8, 1.2),
                    (3.0, 0.0, -0.4, 1.5, -1.7, 0.25), (1.2, 1.0, 1.3, -0.6, 0.45, -2.0)]


@rule('test_chain_rule_by_hand', points=2)
def grade_chain_rule_by_hand(student, check):
    def graded_pair(case):
        result = check.call(student.chain_rule_by_hand, *case)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Wrong("chain_rule_by_hand should return a pair of numbers: (dL_dw2, dL_da1)")
        return [expect_float(np.squeeze(value) if isinstance(value, np.ndarray) and value.size == 1 else value,
                             name) for value, name in zip(result, ("dL_dw2", "dL_da1"))]

    def upstream_hint(actual, case, local, name):
        """Name the likely slip in upstream x local for the gradient `name`."""
        x, y, w1, b1, w2, b2 = case
        a1 = float(ref.sigmoid(w1 * x + b1))
        a2 = float(ref.sigmoid(w2 * a1 + b2))
        return first_match(np.array([actual]), [
            ("the sigmoid's slope a2 (1 - a2) is missing from the upstream dL/dz2", np.array([2 * (a2 - y) * local])),
            ("the factor 2 of the derivative of (a2 - y)^2 is missing", np.array([(a2 - y) * a2 * (1 - a2) * local])),
            ("the sign is flipped: dL/da2 = 2 (a2 - y), not 2 (y - a2)", np.array([-2 * (a2 - y) * a2 * (1 - a2) * local])),
            (f"the local gradient is swapped: z2 = w2 a1 + b2, so dz2/dw2 = a1 and dz2/da1 = w2 ({name})",
             np.array([2 * (a2 - y) * a2 * (1 - a2) * (w2 if name == "dL_dw2" else a1)])),
        ]) or f"{name} = dL/dz2 (upstream) times the local gradient of z2 = w2 a1 + b2"

    for index, name in [(0, "dL_dw2"), (1, "dL_da1")]:
        with check.part(1, f"{name}, on examples with other numbers"):
            for case in CHAIN_RULE_CASES:
                actual = graded_pair(case)[index]
                expected = ref.chain_rule_by_hand(*case)[index]
                x, y, w1, b1, w2, b2 = case
                local = float(ref.sigmoid(w1 * x + b1)) if name == "dL_dw2" else w2
                expect_close(actual, expected, f"{name} for (x, y, w1, b1, w2, b2) = {case}",
                             hint=upstream_hint(actual, case, local, name), tol=1e-7)


@rule('test_backward', points=8, lend=['sigmoid_derivative', 'mse_loss_grad'])
def grade_backward(student, check):
    CASES = [(5, 3, 4, 9101), (7, 2, 1, 9102), (3, 4, 6, 9103), (1, 2, 3, 9104)]   # (n, d, H, seed)
    for name, what in [("W2", "dW2, the output weights"), ("b2", "db2, the output bias"),
                       ("W1", "dW1, the hidden weights"), ("b1", "db1, the hidden biases")]:
        with check.part(2, what):
            for n, d, H, seed in CASES:
                X_, y_, params_, cache_ = backward_case(n, d, H, seed)
                grads_ = check.call(student.backward, X_.copy(), y_.copy(), {k: v.copy() for k, v in params_.items()},
                                    {k: v.copy() for k, v in cache_.items()})
                expect_backward_gradient(grads_, name, X_, y_, params_, cache_)
