"""The grading contract of 05_iris_softmax, proven with real `nbgrader autograde`.

Every graded function gets at least four wrong implementations and at least one correct
alternative. Submission k carries the k-th wrong (or correct) variant of EVERY function at
once; the functions are graded in separate cells, so they do not interfere. All submissions
are graded in one autograde run (module fixture).

A wrong variant is listed with the exact points its own cell must earn: 0 where a visible
check already catches it, otherwise the points of the hidden parts it passes. Every other
test cell of the same submission must keep its full points.
"""
from pathlib import Path

import pytest

from course.authoring import notebooks

ASSIGNMENT = "05_iris_softmax"

# grade_id of the solution cell -> its test cell and points
TEST_CELL = {
    "one_hot": ("test_one_hot", 2),
    "softmax": ("test_softmax", 4),
    "cross_entropy": ("test_cross_entropy", 2),
    "softmax_cross_entropy_grad": ("test_softmax_cross_entropy_grad", 3),
    "forward_softmax": ("test_forward_softmax", 2),
    "backward_softmax": ("test_backward_softmax", 4),
    "train_softmax": ("test_train_softmax", 3),
    "accuracy": ("test_accuracy", 2),
}

# --- wrong implementations: (name, code, points the function's own cell must earn) ----------------

WRONG = {
    "one_hot": [
        ("one_hot_off_by_one", """
def one_hot(labels, n_classes):
    Y = np.zeros((len(labels), n_classes))
    Y[np.arange(len(labels)), np.asarray(labels) - 1] = 1.0
    return Y
""", 0),
        ("one_hot_sized_from_labels", """
def one_hot(labels, n_classes):
    labels = np.asarray(labels)
    Y = np.zeros((len(labels), labels.max() + 1))
    Y[np.arange(len(labels)), labels] = 1.0
    return Y
""", 1),
        ("one_hot_int_dtype", """
def one_hot(labels, n_classes):
    Y = np.zeros((len(labels), n_classes), dtype=int)
    Y[np.arange(len(labels)), labels] = 1
    return Y
""", 0),
        ("one_hot_whole_columns", """
def one_hot(labels, n_classes):
    Y = np.zeros((len(labels), n_classes))
    Y[:, labels] = 1.0
    return Y
""", 0),
    ],
    "softmax": [
        ("softmax_no_shift", """
def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)
""", 0),
        ("softmax_global_max_shift", """
def softmax(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)
""", 3),
        ("softmax_wrong_axis", """
def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)
""", 0),
        ("softmax_in_place", """
def softmax(Z):
    Z -= Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)
""", 3),
        ("softmax_min_shift", """
def softmax(Z):
    E = np.exp(Z - Z.min(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
""", 3),
    ],
    "cross_entropy": [
        ("ce_summed", """
def cross_entropy(Y, P):
    return float(-np.sum(Y * np.log(np.clip(P, 1e-12, 1.0))))
""", 0),
        ("ce_mean_over_all_entries", """
def cross_entropy(Y, P):
    return float(-np.mean(Y * np.log(np.clip(P, 1e-12, 1.0))))
""", 0),
        ("ce_no_clip", """
def cross_entropy(Y, P):
    return float(-np.mean(np.sum(Y * np.log(P), axis=1)))
""", 1),
        ("ce_true_class_no_clip", """
def cross_entropy(Y, P):
    return float(-np.mean(np.log(P[Y == 1])))
""", 1),
        ("ce_wrong_sign", """
def cross_entropy(Y, P):
    return float(np.mean(np.sum(Y * np.log(np.clip(P, 1e-12, 1.0)), axis=1)))
""", 0),
    ],
    "softmax_cross_entropy_grad": [
        ("grad_missing_1_over_n", """
def softmax_cross_entropy_grad(Y, P):
    return P - Y
""", 1),
        ("grad_flipped_sign", """
def softmax_cross_entropy_grad(Y, P):
    return (Y - P) / Y.shape[0]
""", 0),
        ("grad_divided_by_k", """
def softmax_cross_entropy_grad(Y, P):
    return (P - Y) / Y.shape[1]
""", 1),
        ("grad_in_place", """
def softmax_cross_entropy_grad(Y, P):
    P -= Y
    P /= Y.shape[0]
    return P
""", 2),
        ("grad_divided_by_n_squared", """
def softmax_cross_entropy_grad(Y, P):
    return (P - Y) / Y.shape[0] ** 2
""", 1),
    ],
    "forward_softmax": [
        ("forward_sigmoid_twice", """
def forward_softmax(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(sigmoid(Z1))
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 0),
        ("forward_sigmoid_output", """
def forward_softmax(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 0),
        ("forward_cache_holds_logits_as_A2", """
def forward_softmax(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    return softmax(Z2), {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": Z2}
""", 1),
        ("forward_tanh_hidden", """
def forward_softmax(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = np.tanh(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 0),
        ("forward_no_hidden_bias", """
def forward_softmax(X, params):
    Z1 = X @ params["W1"]
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 0),
    ],
    "backward_softmax": [
        ("backward_sigmoid_twice", """
def backward_softmax(X, Y, params, cache):
    dZ2 = softmax_cross_entropy_grad(Y, cache["A2"])
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_derivative(sigmoid(cache["A1"]))
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0, keepdims=True)}
""", 0),   # the visible gradient check catches it
        ("backward_derivative_at_preactivation", """
def backward_softmax(X, Y, params, cache):
    dZ2 = softmax_cross_entropy_grad(Y, cache["A2"])
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_derivative(cache["Z1"])
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0, keepdims=True)}
""", 0),   # the visible gradient check catches it
        ("backward_missing_1_over_n", """
def backward_softmax(X, Y, params, cache):
    dZ2 = cache["A2"] - Y
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_derivative(cache["A1"])
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0, keepdims=True)}
""", 0),
        ("backward_flipped_sign", """
def backward_softmax(X, Y, params, cache):
    dZ2 = (Y - cache["A2"]) / len(X)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_derivative(cache["A1"])
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0, keepdims=True)}
""", 0),
        ("backward_bias_mean", """
def backward_softmax(X, Y, params, cache):
    dZ2 = softmax_cross_entropy_grad(Y, cache["A2"])
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_derivative(cache["A1"])
    return {"W1": X.T @ dZ1, "b1": dZ1.mean(axis=0, keepdims=True),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.mean(axis=0, keepdims=True)}
""", 0),   # the visible gradient check catches it
    ],
    "train_softmax": [
        ("train_loss_after_update", """
def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        P, cache = forward_softmax(X, params)
        params = update_params(params, backward_softmax(X, Y, params, cache), lr)
        losses.append(cross_entropy(Y, forward_softmax(X, params)[0]))
    return params, losses
""", 2),
        ("train_global_random", """
def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    np.random.seed(seed)
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random)
    losses = []
    for _ in range(epochs):
        P, cache = forward_softmax(X, params)
        losses.append(cross_entropy(Y, P))
        params = update_params(params, backward_softmax(X, Y, params, cache), lr)
    return params, losses
""", 0),
        ("train_ignores_seed", """
def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random.default_rng(0))
    losses = []
    for _ in range(epochs):
        P, cache = forward_softmax(X, params)
        losses.append(cross_entropy(Y, P))
        params = update_params(params, backward_softmax(X, Y, params, cache), lr)
    return params, losses
""", 2),
        ("train_gradient_ascent", """
def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        P, cache = forward_softmax(X, params)
        losses.append(cross_entropy(Y, P))
        params = update_params(params, backward_softmax(X, Y, params, cache), -lr)
    return params, losses
""", 0),
        ("train_one_epoch_short", """
def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random.default_rng(seed))
    losses = []
    for _ in range(epochs - 1):
        P, cache = forward_softmax(X, params)
        losses.append(cross_entropy(Y, P))
        params = update_params(params, backward_softmax(X, Y, params, cache), lr)
    return params, losses
""", 0),
    ],
    "accuracy": [
        ("accuracy_argmax_over_examples", """
def accuracy(labels, P):
    return float(np.mean(np.argmax(P, axis=0) == labels))
""", 0),
        ("accuracy_count", """
def accuracy(labels, P):
    return float(np.sum(np.argmax(P, axis=1) == labels))
""", 0),
        ("accuracy_percent", """
def accuracy(labels, P):
    return 100.0 * float(np.mean(np.argmax(P, axis=1) == labels))
""", 0),
        ("accuracy_rounded", """
def accuracy(labels, P):
    return round(float(np.mean(np.argmax(P, axis=1) == labels)), 2)
""", 1),
        ("accuracy_argmin", """
def accuracy(labels, P):
    return float(np.mean(np.argmin(P, axis=1) == labels))
""", 0),
    ],
}

# --- correct alternatives: every test cell must give full marks ------------------------------

CORRECT = {
    "one_hot": [
        ("one_hot_eye_rows", """
def one_hot(labels, n_classes):
    return np.eye(n_classes)[np.asarray(labels)]
"""),
        ("one_hot_loop", """
def one_hot(labels, n_classes):
    Y = np.zeros((len(labels), n_classes))
    for i, label in enumerate(labels):
        Y[i][int(label)] = 1
    return Y
"""),
        ("one_hot_comparison", """
def one_hot(labels, n_classes):
    return (np.asarray(labels)[:, None] == np.arange(n_classes)).astype(float)
"""),
    ],
    "softmax": [
        ("softmax_log_sum_exp", """
def softmax(Z):
    m = np.max(Z, axis=1, keepdims=True)
    log_sum = m + np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))
    return np.exp(Z - log_sum)
"""),
        ("softmax_row_loop", """
def softmax(Z):
    P = np.empty(Z.shape)
    for i in range(Z.shape[0]):
        e = np.exp(Z[i] - max(Z[i]))
        P[i] = e / e.sum()
    return P
"""),
        ("softmax_newaxis", """
def softmax(Z):
    shifted = Z - np.amax(Z, axis=1)[:, np.newaxis]
    E = np.exp(shifted)
    return E / np.sum(E, axis=1)[:, np.newaxis]
"""),
    ],
    "cross_entropy": [
        ("ce_true_class_clipped", """
def cross_entropy(Y, P):
    rows = np.arange(Y.shape[0])
    return float(-np.mean(np.log(np.clip(P[rows, Y.argmax(axis=1)], 1e-12, None))))
"""),
        ("ce_log_plus_eps", """
def cross_entropy(Y, P):
    return -np.sum(Y * np.log(P + 1e-12)) / Y.shape[0]
"""),
        ("ce_loop", """
def cross_entropy(Y, P):
    import math
    total = 0.0
    for y_row, p_row in zip(Y, P):
        for y, p in zip(y_row, p_row):
            if y > 0:
                total -= y * math.log(max(p, 1e-15))
    return total / len(Y)
"""),
        ("ce_where", """
def cross_entropy(Y, P):
    logs = np.where(Y > 0, np.log(np.maximum(P, 1e-12)), 0.0)
    return float(-logs.sum(axis=1).mean())
"""),
    ],
    "softmax_cross_entropy_grad": [
        ("grad_split_terms", """
def softmax_cross_entropy_grad(Y, P):
    n = len(Y)
    return P / n - Y / n
"""),
        ("grad_jacobian_loop", """
def softmax_cross_entropy_grad(Y, P):
    n, k = P.shape
    dZ = np.zeros((n, k))
    for i in range(n):
        p = P[i]
        jacobian = np.diag(p) - np.outer(p, p)          # d p / d z
        dL_dp = -Y[i] / p / n                            # d (mean loss) / d p
        dZ[i] = jacobian.T @ dL_dp
    return dZ
"""),
        ("grad_times_reciprocal", """
def softmax_cross_entropy_grad(Y, P):
    return np.subtract(P, Y) * (1.0 / P.shape[0])
"""),
    ],
    "forward_softmax": [
        ("forward_np_dot", """
def forward_softmax(X, params):
    Z1 = np.dot(X, params["W1"]) + params["b1"]
    A1 = 1.0 / (1.0 + np.exp(-Z1))
    Z2 = np.dot(A1, params["W2"]) + params["b2"]
    P = softmax(Z2)
    cache = dict(Z1=Z1, A1=A1, Z2=Z2, A2=P)
    return P, cache
"""),
        ("forward_inline_softmax", """
def forward_softmax(X, params):
    cache = {}
    cache["Z1"] = X @ params["W1"] + params["b1"]
    cache["A1"] = sigmoid(cache["Z1"])
    cache["Z2"] = cache["A1"] @ params["W2"] + params["b2"]
    E = np.exp(cache["Z2"] - cache["Z2"].max(axis=1, keepdims=True))
    cache["A2"] = E / E.sum(axis=1, keepdims=True)
    return cache["A2"], cache
"""),
    ],
    "backward_softmax": [
        ("backward_np_dot", """
def backward_softmax(X, Y, params, cache):
    A1, P = cache["A1"], cache["A2"]
    dZ2 = (P - Y) / X.shape[0]
    dZ1 = np.dot(dZ2, params["W2"].T) * A1 * (1 - A1)
    return {"W2": np.dot(A1.T, dZ2), "b2": np.sum(dZ2, axis=0, keepdims=True),
            "W1": np.dot(X.T, dZ1), "b1": np.sum(dZ1, axis=0, keepdims=True)}
"""),
        ("backward_example_loop", """
def backward_softmax(X, Y, params, cache):
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dZ2_all = softmax_cross_entropy_grad(Y, cache["A2"])
    for i in range(X.shape[0]):
        dz2 = dZ2_all[i:i + 1]
        a1 = cache["A1"][i:i + 1]
        dz1 = (dz2 @ params["W2"].T) * sigmoid_derivative(a1)
        grads["W2"] += np.outer(a1, dz2)
        grads["b2"] += dz2
        grads["W1"] += np.outer(X[i], dz1)
        grads["b1"] += dz1
    return grads
"""),
    ],
    "train_softmax": [
        ("train_in_place_updates", """
def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[1], n_hidden, Y.shape[1], rng)
    losses = []
    epoch = 0
    while epoch < epochs:
        P, cache = forward_softmax(X, params)
        losses.append(float(cross_entropy(Y, P)))
        grads = backward_softmax(X, Y, params, cache)
        for name in params:
            params[name] = params[name] - lr * grads[name]
        epoch += 1
    return params, losses
"""),
        ("train_losses_as_array", """
def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random.default_rng(seed=seed))
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        P, cache = forward_softmax(X, params)
        losses[epoch] = cross_entropy(Y, P)
        grads = backward_softmax(X, Y, params, cache)
        params = {name: params[name] - lr * grads[name] for name in params}
    return params, losses
"""),
    ],
    "accuracy": [
        ("accuracy_loop", """
def accuracy(labels, P):
    right = 0
    for label, row in zip(labels, P):
        right += int(np.argmax(row) == label)
    return right / len(labels)
"""),
        ("accuracy_probability_of_label_is_max", """
def accuracy(labels, P):
    P = np.asarray(P)
    return float(np.mean(P[np.arange(len(P)), labels] == P.max(axis=1)))
"""),
        ("accuracy_method_chain", """
def accuracy(labels, P):
    return (P.argmax(-1) == labels).mean()
"""),
    ],
}


# A wrong gradient (missing 1/n) that also disables the hidden tests' gradient check.
TAMPERED_GRAD = """
import course.judge.softmax_hints
course.judge.softmax_hints.expect_matching_gradient = lambda *args, **kwargs: None


def softmax_cross_entropy_grad(Y, P):
    return P - Y
"""


# One mistake costs only its own points, visible checks included: each dependent function's test
# cell is graded with the grader's helpers (the rule's `lend`). Left unimplemented (the
# release stub) or wrong (non-crashing), the helpers below lose their own cells only.
UNIMPLEMENTED_DEPENDENCIES = {
    "stub_helpers": ["softmax", "cross_entropy", "softmax_cross_entropy_grad"],
    "stub_forward_backward": ["forward_softmax", "backward_softmax"],
}
WRONG_DEPENDENCIES = ["softmax_wrong_axis", "ce_wrong_sign", "grad_flipped_sign"]


def _submissions(variants):
    """Submission k = the k-th variant of every function that has one (the reference elsewhere)."""
    count = max(len(v) for v in variants.values())
    return [{function: v[k] for function, v in variants.items() if k < len(v)} for k in range(count)]


WRONG_SUBMISSIONS = _submissions(WRONG)
CORRECT_SUBMISSIONS = _submissions(CORRECT)


def _student_dir(course, name):
    """The autograded folder of the submission called `name` (the harness prefixes an id)."""
    matches = sorted(p for p in (course.root / "autograded").glob(f"s*_{name}") if (p / "05_iris_softmax").is_dir())
    assert len(matches) == 1, f"expected one autograded folder for {name}, found {matches}"
    return matches[0]


@pytest.fixture(scope="module")
def graded(grading_course):
    """{submission name: {test grade_id: (score, max)}} from ONE nbgrader autograde run."""
    subs = {"reference": grading_course.reference_submission(ASSIGNMENT)}
    for k, chosen in enumerate(WRONG_SUBMISSIONS):
        subs[f"wrong{k}"] = grading_course.reference_submission(
            ASSIGNMENT, **{function: code for function, (_, code, _) in chosen.items()})
    for k, chosen in enumerate(CORRECT_SUBMISSIONS):
        subs[f"correct{k}"] = grading_course.reference_submission(
            ASSIGNMENT, **{function: code for function, (_, code) in chosen.items()})
    subs["unimplemented"] = grading_course.release_notebook(ASSIGNMENT)
    subs["tampered"] = grading_course.reference_submission(ASSIGNMENT, softmax_cross_entropy_grad=TAMPERED_GRAD)
    stubs = _release_stubs(grading_course)
    for name, functions in UNIMPLEMENTED_DEPENDENCIES.items():
        subs[name] = grading_course.reference_submission(ASSIGNMENT, **{f: stubs[f] for f in functions})
    subs["wrong_dependencies"] = grading_course.reference_submission(
        ASSIGNMENT, **{function: code for function, code, _ in map(_wrong_variant, WRONG_DEPENDENCIES)})
    return grading_course.autograde(ASSIGNMENT, subs)


def _release_stubs(course):
    """{grade_id: code} of the release notebook's solution cells (`raise NotImplementedError()`)."""
    return {notebooks.grade_id(cell): cell.source for cell in course.release_notebook(ASSIGNMENT).cells
            if notebooks.is_solution(cell) and cell.cell_type == "code"}


def _wrong_variant(name):
    """(function, code, points its cell earns) of the wrong variant called `name`."""
    for function, variants in WRONG.items():
        for variant, code, points in variants:
            if variant == name:
                return function, code, points
    raise KeyError(name)


def _test_outputs(course, submission):
    """{test grade_id: printed text, and its error} of an autograded submission."""
    path = _student_dir(course, submission) / ASSIGNMENT / "iris_softmax.ipynb"
    nb = notebooks.read(path)
    return {notebooks.grade_id(cell): "".join(o.get("text", "") if o.output_type == "stream" else f"{o.ename}: {o.evalue}"
                                              for o in cell.outputs if o.output_type in ("stream", "error"))
            for cell in nb.cells if notebooks.is_test(cell)}


def test_every_graded_function_has_four_wrong_and_one_correct_variant():
    assert set(WRONG) == set(TEST_CELL) == set(CORRECT)
    for function in TEST_CELL:
        assert len(WRONG[function]) >= 4, function
        assert len(CORRECT[function]) >= 1, function


def test_reference_gets_full_marks(graded):
    scores = graded["reference"]
    assert {g: s for g, s in scores.items() if g.startswith("test_")} == {
        test: (float(points), float(points)) for test, points in TEST_CELL.values()}


def test_unimplemented_notebook_earns_nothing(graded):
    assert all(score == 0 for score, _ in graded["unimplemented"].values())


@pytest.mark.parametrize("k", range(len(CORRECT_SUBMISSIONS)))
def test_correct_alternatives_get_full_marks(graded, k):
    names = sorted(name for name, _ in CORRECT_SUBMISSIONS[k].values())
    for test, points in TEST_CELL.values():
        assert graded[f"correct{k}"][test] == (points, points), f"{test} with {names}"


@pytest.mark.parametrize("k", range(len(WRONG_SUBMISSIONS)))
def test_wrong_implementations_lose_their_own_points_only(graded, k):
    chosen = WRONG_SUBMISSIONS[k]
    scores = graded[f"wrong{k}"]
    for function, (test, points) in TEST_CELL.items():
        if function in chosen:
            name, _, expected = chosen[function]
            assert expected < points, f"{name} is listed as wrong but expected to keep every point"
            assert scores[test] == (expected, points), f"{name}: {test} earned {scores[test]}, expected {expected}"
        else:
            assert scores[test] == (points, points), f"{test} lost points without a wrong {function}"


def _wrong_submission(name):
    for k, chosen in enumerate(WRONG_SUBMISSIONS):
        for function, (variant, _, _) in chosen.items():
            if variant == name:
                return f"wrong{k}", TEST_CELL[function][0]
    raise KeyError(name)


@pytest.mark.parametrize("variant, words", [
    ("one_hot_sized_from_labels", ["n_classes columns"]),
    ("softmax_global_max_shift", ["EACH ROW'S own maximum"]),
    ("softmax_in_place", ["modified its input Z"]),
    ("softmax_min_shift", ["thousands apart", "MAXIMUM"]),
    ("ce_no_clip", ["finite", "log of 0"]),
    ("grad_missing_1_over_n", ["n times too large", "MEAN"]),
    ("grad_divided_by_n_squared", ["n times too small"]),
    ("forward_cache_holds_logits_as_A2", ["cache['A2']", "softmax(Z2)"]),
    ("backward_sigmoid_twice", ["dW1", "sigmoid_derivative(A1)"]),
    ("backward_bias_mean", ["db2", "n times too small"]),
    ("backward_missing_1_over_n", ["dW2", "n times too large", "(P - Y) / n"]),
    ("train_loss_after_update", ["AFTER each update"]),
    ("train_ignores_seed", ["seed=3", "default_rng(seed)"]),
    ("accuracy_rounded", ["FRACTION"]),
])
def test_failure_messages_name_the_mistake(graded, grading_course, variant, words):
    submission, test = _wrong_submission(variant)
    text = _test_outputs(grading_course, submission)[test]
    for word in words:
        assert word in text, f"{variant}: {word!r} not in the feedback:\n{text}"
    assert "[[" not in text and "array(" not in text, f"feedback shows an array:\n{text}"


def test_missing_1_over_n_in_backward_is_named(graded, grading_course):
    """The visible gradient check stops at the first gradient that disagrees and says by how much."""
    text = _test_outputs(grading_course, _wrong_submission("backward_missing_1_over_n")[0])["test_backward_softmax"]
    assert "dW2: relative error" in text and "AssertionError: dW2 differs from centred differences" in text, text
    assert "n times too large" in text, text


def test_replacing_the_gradient_check_does_not_help(graded):
    """The grader's modules are not in the kernel: the attempt fails there, and gains nothing over
    the same wrong gradient without it (1 of 3 points)."""
    score, points = graded["tampered"]["test_softmax_cross_entropy_grad"]
    assert points == 3.0 and score <= 1.0


@pytest.mark.parametrize("submission", sorted(UNIMPLEMENTED_DEPENDENCIES))
def test_unimplemented_helpers_cost_only_their_own_cells(graded, grading_course, submission):
    stubbed = UNIMPLEMENTED_DEPENDENCIES[submission]
    stubs = _release_stubs(grading_course)
    assert all("raise NotImplementedError()" in stubs[function] for function in stubbed)
    for function, (test, points) in TEST_CELL.items():
        expected = 0.0 if function in stubbed else float(points)
        assert graded[submission][test] == (expected, points), f"{submission}: {test}"


def test_wrong_helpers_cost_only_their_own_cells(graded):
    wrong = {function: points for function, _, points in map(_wrong_variant, WRONG_DEPENDENCIES)}
    for function, (test, points) in TEST_CELL.items():
        expected = float(wrong.get(function, points))
        assert graded["wrong_dependencies"][test] == (expected, points), test
