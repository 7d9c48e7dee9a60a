"""The grading contract of 03_backward, proven with real nbgrader autograde.

Every submission is the release notebook filled with the reference solutions, with some graded
functions replaced. Submission k carries the k-th wrong variant of every function at once (the
functions are graded in separate cells, so they do not interfere); each wrong variant must lose
exactly the points of the parts meant to catch it, each correct alternative must get full marks.
Two more submissions prove that one mistake is not counted twice: wrong, or unimplemented (the
release stub), sigmoid_derivative and mse_loss_grad with a correct backward lose points only in the
helpers' cells, because the backward cell grades with the grader's helpers
(the rule's `lend`: the kernel's helpers answered by the grader while that cell is graded).
All submissions are graded in one nbgrader run.
"""
import pytest

from course.authoring import notebooks

ASSIGNMENT = "03_backward"
FULL = {"test_numerical_gradient": 4, "test_sigmoid_derivative": 2, "test_mse_loss_grad": 2,
        "test_chain_rule_by_hand": 2, "test_backward": 8}

# --- numerical_gradient: (code, expected score of 4) -----------------------------------------------
WRONG_NUMERICAL_GRADIENT = {
    "forward_difference": ("""
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    f_x = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - f_x) / eps
        x[i] = old
    return grad
""", 0),   # the visible check (x^3 with eps = 1e-3) already fails
    "does_not_restore_x": ("""
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad
""", 0),   # x drifts: later elements are differentiated at the wrong point, and x stays changed
    "loops_over_rows_only": ("""
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        old = x[i].copy()
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad
""", 0),   # right for vectors; the visible check on a matrix already fails
    "ignores_eps": ("""
def numerical_gradient(f, x, eps=1e-5):
    h = 1e-5
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
""", 3),
    "divides_by_eps_not_2eps": ("""
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / eps
    return grad
""", 0),   # visible assert fails
}
CORRECT_NUMERICAL_GRADIENT = {
    "copies_and_flat_index": """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.size)
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        grad[k] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad.reshape(x.shape)
""",
    "add_and_subtract_in_place": """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)
        x[i] += eps
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad
""",
    "works_on_a_copy": """
def numerical_gradient(f, x, eps=1e-5):
    x = np.array(x, dtype=float)
    grad = np.empty_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        up = float(f(x))
        flat[k] = old - eps
        down = float(f(x))
        flat[k] = old
        g[k] = (up - down) / (2 * eps)
    return grad
""",
}

# --- sigmoid_derivative: (code, expected score of 2) -------------------------------------------------
WRONG_SIGMOID_DERIVATIVE = {
    "sigmoid_applied_again": ("""
def sigmoid_derivative(a):
    s = sigmoid(a)
    return s * (1 - s)
""", 0),
    "overwrites_a": ("""
def sigmoid_derivative(a):
    a *= 1 - a
    return a
""", 0),   # visible: sigmoid_derivative(0.5) on a float works, arrays are changed -> hidden part 2 lost;
           # the visible check recomputes with a fresh array, so it passes: expected 1 (set below)
    "plus_instead_of_minus": ("""
def sigmoid_derivative(a):
    return a * (1 + a)
""", 0),
    "missing_factor_a": ("""
def sigmoid_derivative(a):
    return 1 - a
""", 0),
    "negative": ("""
def sigmoid_derivative(a):
    return -a * (1 - a)
""", 0),
}
WRONG_SIGMOID_DERIVATIVE["overwrites_a"] = (WRONG_SIGMOID_DERIVATIVE["overwrites_a"][0], 1)
CORRECT_SIGMOID_DERIVATIVE = {
    "expanded": """
def sigmoid_derivative(a):
    return a - a ** 2
""",
    "np_multiply": """
def sigmoid_derivative(a):
    return np.multiply(a, np.subtract(1.0, a))
""",
    "loop": """
def sigmoid_derivative(a):
    a = np.asarray(a, dtype=float)
    out = np.empty(a.shape)
    for i, value in np.ndenumerate(a):
        out[i] = value * (1.0 - value)
    return out
""",
}

# --- mse_loss_grad: (code, expected score of 2) ---------------------------------------------------------
WRONG_MSE_LOSS_GRAD = {
    "missing_factor_2": ("""
def mse_loss_grad(y, y_hat):
    return (y_hat - y) / y.size
""", 0),
    "missing_1_over_n": ("""
def mse_loss_grad(y, y_hat):
    return 2 * (y_hat - y)
""", 0),
    "sign_flipped": ("""
def mse_loss_grad(y, y_hat):
    return 2 * (y - y_hat) / y.size
""", 0),
    "divides_by_rows": ("""
def mse_loss_grad(y, y_hat):
    return 2 * (y_hat - y) / y.shape[0]
""", 1),   # right for (n, 1), wrong for (n, 3)
    "overwrites_y_hat": ("""
def mse_loss_grad(y, y_hat):
    y_hat -= y
    y_hat *= 2 / y.size
    return y_hat
""", 0),
}
CORRECT_MSE_LOSS_GRAD = {
    "len_of_ravel": """
def mse_loss_grad(y, y_hat):
    return (2.0 / len(np.ravel(y))) * np.subtract(y_hat, y)
""",
    "loop": """
def mse_loss_grad(y, y_hat):
    grad = np.zeros(y.shape)
    for i in np.ndindex(y.shape):
        grad[i] = 2 * (y_hat[i] - y[i]) / y.size
    return grad
""",
    "mean_form": """
def mse_loss_grad(y, y_hat):
    return 2 * (y_hat - y) * np.mean(np.ones_like(y))  / np.prod(y.shape) * 1.0
""",
}

# --- backward: (code, expected score of 8; parts of 2: W2, b2, W1, b1) -----------------------------------
BACKWARD_TEMPLATE = """
def backward(X, y, params, cache):
    dA2 = {dA2}
    dZ2 = {dZ2}
    dW2 = cache["A1"].T @ dZ2
    db2 = {db2}
    dA1 = {dA1}
    dZ1 = {dZ1}
    dW1 = X.T @ dZ1
    db1 = {db1}
    return {{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}}
"""
RIGHT = dict(dA2='mse_loss_grad(y, cache["A2"])', dZ2='dA2 * sigmoid_derivative(cache["A2"])',
             db2="dZ2.sum(axis=0, keepdims=True)", dA1='dZ2 @ params["W2"].T',
             dZ1='dA1 * sigmoid_derivative(cache["A1"])', db1="dZ1.sum(axis=0, keepdims=True)")


def backward_with(**changes):
    return BACKWARD_TEMPLATE.format(**{**RIGHT, **changes})


WRONG_BACKWARD = {
    "derivative_at_Z": (backward_with(dZ2='dA2 * sigmoid_derivative(cache["Z2"])',
                                      dZ1='dA1 * sigmoid_derivative(cache["Z1"])'), 0),
    "sigmoid_applied_twice": (backward_with(dZ2='dA2 * sigmoid_derivative(sigmoid(cache["A2"]))',
                                            dZ1='dA1 * sigmoid_derivative(sigmoid(cache["A1"]))'), 0),
    "sign_flipped": (backward_with(dA2='mse_loss_grad(cache["A2"], y)'), 0),
    "bias_averaged": (backward_with(db2="dZ2.mean(axis=0, keepdims=True)",
                                    db1="dZ1.mean(axis=0, keepdims=True)"), 4),
    "bias_not_summed": (backward_with(db2="dZ2", db1="dZ1"), 4),
    "transpose_forgotten": (backward_with(dA1='dZ2 @ params["W2"]'), 0),   # raises for H > 1
    "hidden_derivative_missing": (backward_with(dZ1="dA1"), 4),
    "missing_1_over_n": (backward_with(dA2='2 * (cache["A2"] - y)'), 0),
    "output_derivative_missing": (backward_with(dZ2="dA2"), 0),
}
CORRECT_BACKWARD = {
    "loop_over_examples": """
def backward(X, y, params, cache):
    n = X.shape[0]
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    for i in range(n):
        a1, a2 = cache["A1"][i:i + 1], cache["A2"][i:i + 1]
        dz2 = 2 * (a2 - y[i:i + 1]) / y.size * a2 * (1 - a2)
        dz1 = (dz2 @ params["W2"].T) * a1 * (1 - a1)
        grads["W2"] += a1.T @ dz2
        grads["b2"] += dz2
        grads["W1"] += X[i:i + 1].T @ dz1
        grads["b1"] += dz1
    return grads
""",
    "np_dot_and_recomputed_forward": """
def backward(X, y, params, cache):
    A1 = sigmoid(np.dot(X, params["W1"]) + params["b1"])
    A2 = sigmoid(np.dot(A1, params["W2"]) + params["b2"])
    dZ2 = np.multiply(mse_loss_grad(y, A2), sigmoid_derivative(A2))
    dZ1 = np.multiply(np.dot(dZ2, params["W2"].T), sigmoid_derivative(A1))
    return {"W1": np.dot(X.T, dZ1), "b1": np.sum(dZ1, axis=0, keepdims=True),
            "W2": np.dot(A1.T, dZ2), "b2": np.sum(dZ2, axis=0).reshape(1, 1)}
""",
    "einsum": """
def backward(X, y, params, cache):
    dZ2 = mse_loss_grad(y, cache["A2"]) * sigmoid_derivative(cache["A2"])
    dZ1 = np.einsum("nk,hk->nh", dZ2, params["W2"]) * sigmoid_derivative(cache["A1"])
    return {"W1": np.einsum("nd,nh->dh", X, dZ1), "b1": np.einsum("nh->h", dZ1)[None, :],
            "W2": np.einsum("nh,nk->hk", cache["A1"], dZ2), "b2": np.einsum("nk->k", dZ2)[None, :]}
""",
}

# --- chain_rule_by_hand: (code, expected score of 2) -----------------------------------------------
CHAIN_RULE_TEMPLATE = """
def chain_rule_by_hand(x, y, w1, b1, w2, b2):
    a1 = float(sigmoid(w1 * x + b1))
    a2 = float(sigmoid(w2 * a1 + b2))
    dL_dz2 = {upstream}
    return {result}
"""
RIGHT_CHAIN_RULE = dict(upstream="2 * (a2 - y) * a2 * (1 - a2)", result="dL_dz2 * a1, dL_dz2 * w2")


def chain_rule_with(**changes):
    return CHAIN_RULE_TEMPLATE.format(**{**RIGHT_CHAIN_RULE, **changes})


WRONG_CHAIN_RULE_BY_HAND = {
    "sigmoid_slope_missing": (chain_rule_with(upstream="2 * (a2 - y)"), 0),          # the visible check fails
    "local_gradients_swapped": (chain_rule_with(result="dL_dz2 * w2, dL_dz2 * a1"), 0),
    "target_taken_as_1": (chain_rule_with(upstream="2 * (a2 - 1) * a2 * (1 - a2)"), 0),   # right for the example's y = 1 only
    "w2_of_the_example": (chain_rule_with(result="dL_dz2 * a1, dL_dz2 * -1.0"), 1),      # dL/da1 right only where w2 = -1
    "the_examples_numbers": ("""
def chain_rule_by_hand(x, y, w1, b1, w2, b2):
    a1 = float(sigmoid(1.0 * 2.0 - 1.0))
    a2 = float(sigmoid(-1.0 * a1 + 0.5))
    dL_dz2 = 2 * (a2 - 1.0) * a2 * (1 - a2)
    return dL_dz2 * a1, dL_dz2 * -1.0
""", 0),
}
CORRECT_CHAIN_RULE_BY_HAND = {
    "math_exp_and_a_list": """
def chain_rule_by_hand(x, y, w1, b1, w2, b2):
    import math
    a1 = 1 / (1 + math.exp(-(w1 * x + b1)))
    a2 = 1 / (1 + math.exp(-(w2 * a1 + b2)))
    upstream = 2 * (a2 - y) * a2 * (1 - a2)
    return [upstream * a1, upstream * w2]
""",
    "matrix_code_on_1x1_arrays": """
def chain_rule_by_hand(x, y, w1, b1, w2, b2):
    params = {"W1": np.array([[w1]]), "b1": np.array([[b1]]), "W2": np.array([[w2]]), "b2": np.array([[b2]])}
    X1, y1 = np.array([[x]]), np.array([[y]])
    y_hat, cache = forward(X1, params)
    dZ2 = mse_loss_grad(y1, y_hat) * sigmoid_derivative(cache["A2"])
    return cache["A1"].T @ dZ2, dZ2 @ params["W2"].T
""",
}

FUNCTIONS = [  # (grade_id of the solution cell, its test cell, wrong variants, correct variants)
    ("numerical_gradient", "test_numerical_gradient", WRONG_NUMERICAL_GRADIENT, CORRECT_NUMERICAL_GRADIENT),
    ("sigmoid_derivative", "test_sigmoid_derivative", WRONG_SIGMOID_DERIVATIVE, CORRECT_SIGMOID_DERIVATIVE),
    ("mse_loss_grad", "test_mse_loss_grad", WRONG_MSE_LOSS_GRAD, CORRECT_MSE_LOSS_GRAD),
    ("chain_rule_by_hand", "test_chain_rule_by_hand", WRONG_CHAIN_RULE_BY_HAND, CORRECT_CHAIN_RULE_BY_HAND),
    ("backward", "test_backward", WRONG_BACKWARD, CORRECT_BACKWARD),
]
N_WRONG = max(len(wrong) for _, _, wrong, _ in FUNCTIONS)
N_CORRECT = max(len(correct) for _, _, _, correct in FUNCTIONS)


def wrong_plan(k):
    """{solution grade_id: (variant name, code, expected score)} for wrong submission k."""
    plan = {}
    for solution, test, wrong, _ in FUNCTIONS:
        if k < len(wrong):
            name = list(wrong)[k]
            plan[solution] = (name, *wrong[name])
    return plan


def correct_plan(k):
    plan = {}
    for solution, test, _, correct in FUNCTIONS:
        if k < len(correct):
            name = list(correct)[k]
            plan[solution] = (name, correct[name])
    return plan


HELPERS_WRONG = {"sigmoid_derivative": WRONG_SIGMOID_DERIVATIVE["sigmoid_applied_again"][0],
                 "mse_loss_grad": WRONG_MSE_LOSS_GRAD["sign_flipped"][0]}


@pytest.fixture(scope="module")
def graded(grading_course):
    """Grade every submission in one nbgrader run: {name: {test grade_id: (score, max)}}."""
    submissions = {"bw_reference": grading_course.reference_submission(ASSIGNMENT),
                   "bw_helpers_wrong": grading_course.reference_submission(ASSIGNMENT, **HELPERS_WRONG),
                   "bw_helpers_unimplemented": grading_course.reference_submission(
                       ASSIGNMENT, **release_stubs(grading_course, HELPERS_WRONG))}
    for k in range(N_WRONG):
        codes = {solution: code for solution, (_, code, _) in wrong_plan(k).items()}
        submissions[f"bw_wrong_{k}"] = grading_course.reference_submission(ASSIGNMENT, **codes)
    for k in range(N_CORRECT):
        codes = {solution: code for solution, (_, code) in correct_plan(k).items()}
        submissions[f"bw_correct_{k}"] = grading_course.reference_submission(ASSIGNMENT, **codes)
    return grading_course.autograde(ASSIGNMENT, submissions)


def release_stubs(grading_course, functions):
    """{grade_id: the release notebook's code} for these solution cells: `raise NotImplementedError()`."""
    stubs = {notebooks.grade_id(c): c.source for c in grading_course.release_notebook(ASSIGNMENT).cells
             if notebooks.is_solution(c) and notebooks.grade_id(c) in functions}
    assert set(stubs) == set(functions) and all("raise NotImplementedError()" in code for code in stubs.values())
    return stubs


def autograded_outputs(grading_course, name):
    """{test grade_id: what the test cell printed, and its error} from a submission's autograded notebook."""
    matches = list((grading_course.root / "autograded").glob(f"s*_{name}/{ASSIGNMENT}/backward.ipynb"))
    assert len(matches) == 1, f"expected one autograded notebook for {name}, found {matches}"
    nb = notebooks.read(matches[0])
    return {notebooks.grade_id(c): "".join(o.get("text", "") if o.output_type == "stream" else
                                           f"{o.ename}: {o.evalue}" for o in c.outputs
                                           if o.output_type in ("stream", "error"))
            for c in nb.cells if notebooks.is_test(c)}


def test_reference_gets_full_marks(graded):
    assert {cell: score for cell, (score, _) in graded["bw_reference"].items()} == FULL
    assert {cell: top for cell, (_, top) in graded["bw_reference"].items()} == FULL


@pytest.mark.parametrize("k", range(N_WRONG))
def test_each_wrong_variant_loses_exactly_its_points(graded, k):
    for solution, (name, _, expected) in wrong_plan(k).items():
        cell = f"test_{solution}"
        score, top = graded[f"bw_wrong_{k}"][cell]
        assert score < top, f"{name} got full marks in {cell}"
        assert score == expected, f"{name}: {cell} gave {score} of {top}, expected {expected}"
    # functions whose variants ran out carry the reference solution: full marks there
    for solution, test, wrong, _ in FUNCTIONS:
        if k >= len(wrong):
            assert graded[f"bw_wrong_{k}"][test] == (FULL[test], FULL[test])


@pytest.mark.parametrize("k", range(N_CORRECT))
def test_correct_alternatives_get_full_marks(graded, k):
    scores = graded[f"bw_correct_{k}"]
    assert {cell: score for cell, (score, _) in scores.items()} == FULL, correct_plan(k)


@pytest.mark.parametrize("submission", ["bw_helpers_wrong", "bw_helpers_unimplemented"])
def test_wrong_helpers_are_not_counted_twice_in_backward(graded, submission):
    scores = graded[submission]
    assert scores["test_sigmoid_derivative"][0] == 0
    assert scores["test_mse_loss_grad"][0] == 0
    assert scores["test_backward"] == (8, 8)
    assert scores["test_numerical_gradient"] == (4, 4)


def test_failure_messages_name_the_mistake(graded, grading_course):
    wrong_index = {name: k for k in range(N_WRONG) for name, _, _ in wrong_plan(k).values()}

    def output(variant, cell):
        return autograded_outputs(grading_course, f"bw_wrong_{wrong_index[variant]}")[cell]

    assert "applied to Z instead of A" in output("derivative_at_Z", "test_backward")
    assert "sigmoid was applied twice" in output("sigmoid_applied_twice", "test_backward")
    assert "dW1 has the right shape but differs from the numerical gradient" in output("sign_flipped", "test_backward")
    assert "opposite sign" in output("sign_flipped", "test_backward")
    assert "average over the batch" in output("bias_averaged", "test_backward")
    assert "db1 has shape" in output("bias_not_summed", "test_backward")
    assert "hidden sigmoid's derivative is missing" in output("hidden_derivative_missing", "test_backward")
    assert "times too large" in output("missing_1_over_n", "test_backward")
    assert "forward difference" in output("forward_difference", "test_numerical_gradient")
    assert "x was changed" in output("does_not_restore_x", "test_numerical_gradient")
    assert "eps was ignored" in output("ignores_eps", "test_numerical_gradient")
    assert "do not apply sigmoid to it again" in output("sigmoid_applied_again", "test_sigmoid_derivative")
    assert "modified its input a" in output("overwrites_a", "test_sigmoid_derivative")
    assert "the factor 2" in output("missing_factor_2", "test_mse_loss_grad")
    assert "not by the number of rows" in output("divides_by_rows", "test_mse_loss_grad")
    text = output("w2_of_the_example", "test_chain_rule_by_hand")
    assert "dL_da1 for (x, y, w1, b1, w2, b2) = " in text and "local gradient of z2 = w2 a1 + b2" in text
    assert "dL_dw2 for (x, y, w1, b1, w2, b2) = (-1.5, 0.0" in output("target_taken_as_1", "test_chain_rule_by_hand")
    # a failing part names its gradient and never prints the hidden arrays
    text = output("bias_averaged", "test_backward")
    assert "db2" in text and "db1" in text and "[[" not in text and "array(" not in text


def test_hints_recognise_each_backward_mistake():
    """course.judge.hints names the mistake behind a wrong gradient, also where the autograde
    run above never shows it (a visible check fails first), and stays silent on a right one."""
    import numpy as np

    from course.judge import hints as gradient_hints, reference as ref
    X, y, params, cache = gradient_hints.backward_case(5, 3, 4, 7)
    right = ref.backward(X, y, params, cache)
    for name in right:
        assert gradient_hints.backward_hint(right[name], name, X, y, params, cache).startswith(
            ("db", "check")), "a right gradient must not be matched to a mistake"
    wrong_at_z = gradient_hints._backward_variant(X, y, params, cache, at="Z")["W1"]
    assert "applied to Z instead of A" in gradient_hints.backward_hint(wrong_at_z, "W1", X, y, params, cache)
    assert "opposite sign" in gradient_hints.backward_hint(-right["W2"], "W2", X, y, params, cache)
    a = ref.sigmoid(np.linspace(-3, 3, 7))
    assert "applied to a again" in gradient_hints.sigmoid_derivative_hint(ref.sigmoid(a) * (1 - ref.sigmoid(a)), a)
    assert gradient_hints.sigmoid_derivative_hint(a * (1 - a), a) == ""
    g = ref.mse_loss_grad(y, cache["A2"])
    assert "factor 2" in gradient_hints.scale_hint(g / 2, g, y.size, "the errors")
    assert "times too large" in gradient_hints.scale_hint(g * y.size, g, y.size, "the errors")
