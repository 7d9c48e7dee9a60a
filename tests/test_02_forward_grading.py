"""The grading contract of 02_forward (linear, forward, mse_loss), proven with real nbgrader autograde.

Every submission is the release notebook filled with the reference solutions, with some graded
functions replaced: a wrong implementation must lose points in its own test cell (exactly the
points of the part meant to catch it, where the score is given), a differently written correct one
must get full marks everywhere. All submissions are graded in one nbgrader run.
"""
import re

import pytest

from course.authoring import notebooks

ASSIGNMENT = "02_forward"
CELLS = {"linear": "test_linear", "forward": "test_forward", "mse_loss": "test_mse_loss"}
FULL = {"test_linear": 2, "test_forward": 4, "test_mse_loss": 2}

# function -> name -> (code, score expected in the function's test cell; 0 where a visible assert already fails)
WRONG = {
    "linear": {
        "W_times_X": ("""
def linear(X, W, b):
    return W @ X + b
""", 0),
        "bias_forgotten": ("""
def linear(X, W, b):
    return X @ W
""", 0),
        "W_transposed": ("""
def linear(X, W, b):
    return X @ W.T + b
""", 0),
        "bias_on_first_row_only": ("""
def linear(X, W, b):
    Z = X @ W
    Z[0] += b[0]
    return Z
""", 0),
        "written_for_two_inputs_only": ("""
def linear(X, W, b):
    return X[:, :1] @ W[:1] + X[:, 1:2] @ W[1:2] + b
""", 1),
    },
    "forward": {
        "no_sigmoid_on_output": ("""
def forward(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    return Z2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": Z2}
""", 0),
        "lowercase_cache_keys": ("""
def forward(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = sigmoid(Z2)
    return A2, {"z1": Z1, "a1": A1, "z2": Z2, "a2": A2}
""", 0),
        "hidden_layer_uses_W2": ("""
def forward(X, params):
    Z1 = linear(X, params["W2"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 0),
        "cache_stored_in_params": ("""
def forward(X, params):
    params["Z1"] = linear(X, params["W1"], params["b1"])
    params["A1"] = sigmoid(params["Z1"])
    params["Z2"] = linear(params["A1"], params["W2"], params["b2"])
    params["A2"] = sigmoid(params["Z2"])
    return params["A2"], {k: params[k] for k in ("Z1", "A1", "Z2", "A2")}
""", 3.5),
        "bias_flattened_in_params": ("""
def forward(X, params):
    params["b1"] = params["b1"].ravel()
    Z1 = X @ params["W1"] + params["b1"]
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 3.5),
        "output_layer_takes_Z1": ("""
def forward(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(Z1, params["W2"], params["b2"])
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 3),
        "sigmoid_twice_on_output": ("""
def forward(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = sigmoid(sigmoid(Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", 0),
        "returns_cache_first": ("""
def forward(X, params):
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = sigmoid(Z2)
    return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}, A2
""", 0),
    },
    "mse_loss": {
        "sum_instead_of_mean": ("""
def mse_loss(y, y_hat):
    return float(np.sum((y_hat - y) ** 2))
""", 0),
        "square_missing": ("""
def mse_loss(y, y_hat):
    return float(np.mean(y_hat - y))
""", 0),
        "absolute_error": ("""
def mse_loss(y, y_hat):
    return float(np.mean(np.abs(y_hat - y)))
""", 0),
        "divided_by_rows_only": ("""
def mse_loss(y, y_hat):
    return float(np.sum((y_hat - y) ** 2) / len(y))
""", 1.5),
        "returns_an_array": ("""
def mse_loss(y, y_hat):
    return np.mean((y_hat - y) ** 2, keepdims=True)
""", 0),
        "halved": ("""
def mse_loss(y, y_hat):
    return float(0.5 * np.mean((y_hat - y) ** 2))
""", 0),
        "replaces_numpy_checks": ("""
np.isclose = lambda *args, **kwargs: True
def mse_loss(y, y_hat):
    return float(np.sum((y_hat - y) ** 2))
""", 0),
        "rounded": ("""
def mse_loss(y, y_hat):
    return round(float(np.mean((y_hat - y) ** 2)), 3)
""", 0.5),
    },
}

CORRECT = {
    "linear": {
        "np_dot": """
def linear(X, W, b):
    return np.dot(X, W) + b
""",
        "loops": """
def linear(X, W, b):
    n, d = X.shape
    m = W.shape[1]
    Z = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            Z[i, j] = b[0, j] + sum(X[i, k] * W[k, j] for k in range(d))
    return Z
""",
        "einsum": """
def linear(X, W, b):
    return np.einsum("nd,dm->nm", X, W) + b
""",
    },
    "forward": {
        "inlined_with_np_dot": """
def forward(X, params):
    cache = {}
    cache["Z1"] = np.dot(X, params["W1"]) + params["b1"]
    cache["A1"] = 1.0 / (1.0 + np.exp(-cache["Z1"]))
    cache["Z2"] = np.dot(cache["A1"], params["W2"]) + params["b2"]
    cache["A2"] = 1.0 / (1.0 + np.exp(-cache["Z2"]))
    return cache["A2"], cache
""",
        "one_example_at_a_time": """
def forward(X, params):
    rows = {"Z1": [], "A1": [], "Z2": [], "A2": []}
    for x in X:
        z1 = linear(x[None, :], params["W1"], params["b1"])
        a1 = sigmoid(z1)
        z2 = linear(a1, params["W2"], params["b2"])
        for key, value in zip(("Z1", "A1", "Z2", "A2"), (z1, a1, z2, sigmoid(z2))):
            rows[key].append(value[0])
    cache = {key: np.array(value) for key, value in rows.items()}
    return cache["A2"], cache
""",
        "cache_with_extra_keys": """
def forward(X, params):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = linear(X, W1, b1)
    A1 = sigmoid(Z1)
    Z2 = linear(A1, W2, b2)
    A2 = sigmoid(Z2)
    return A2, dict(X=X, Z1=Z1, A1=A1, Z2=Z2, A2=A2)
""",
    },
    "mse_loss": {
        "sum_over_size": """
def mse_loss(y, y_hat):
    return float(np.sum((y - y_hat) ** 2) / y.size)
""",
        "loop": """
def mse_loss(y, y_hat):
    total = 0.0
    for target, prediction in zip(y.ravel(), y_hat.ravel()):
        total += (prediction - target) ** 2
    return total / y.size
""",
        "numpy_scalar": """
def mse_loss(y, y_hat):
    return np.square(y_hat - y).mean()
""",
    },
}


def _plan(variants, prefix):
    """Submissions: the k-th one carries the k-th variant of every function (None once a list runs out)."""
    size = max(len(v) for v in variants.values())
    return {f"{prefix}{k}": {f: (list(v)[k] if k < len(v) else None) for f, v in variants.items()}
            for k in range(size)}


WRONG_SUBMISSIONS = _plan(WRONG, "wrong")
CORRECT_SUBMISSIONS = _plan(CORRECT, "correct")


def _code(variant):
    return (variant[0] if isinstance(variant, tuple) else variant).strip("\n")


@pytest.fixture(scope="module")
def graded(grading_course):
    """{submission: {test cell: (score, max)}} for every submission, from one nbgrader autograde run."""
    submissions = {
        "reference": grading_course.reference_submission(ASSIGNMENT),
        # a broken linear alone: forward and mse_loss must keep their points
        "only_linear_broken": grading_course.reference_submission(
            ASSIGNMENT, linear=_code(WRONG["linear"]["bias_forgotten"])),
        # linear left as the release stub (raise NotImplementedError()): forward is graded, visible
        # checks included, with the grader's linear (the rule's `lend`)
        "only_linear_unimplemented": grading_course.reference_submission(
            ASSIGNMENT, linear=_release_stub(grading_course, "linear")),
    }
    for plan, variants in ((WRONG_SUBMISSIONS, WRONG), (CORRECT_SUBMISSIONS, CORRECT)):
        for submission, chosen in plan.items():
            codes = {f: _code(variants[f][name]) for f, name in chosen.items() if name}
            submissions[submission] = grading_course.reference_submission(ASSIGNMENT, **codes)
    return grading_course.autograde(ASSIGNMENT, submissions)


def _release_stub(grading_course, function):
    """The release notebook's code for a solution cell: `raise NotImplementedError()`."""
    cell = next(c for c in grading_course.release_notebook(ASSIGNMENT).cells
                if notebooks.is_solution(c) and notebooks.grade_id(c) == function)
    assert "raise NotImplementedError()" in cell.source
    return cell.source


def _submission_of(plan, function, name):
    return next(s for s, chosen in plan.items() if chosen[function] == name)


def _cell_output(grading_course, submission, cell_id):
    """The text a student sees under an autograded test cell."""
    folders = [p for p in (grading_course.root / "autograded").iterdir()
               if re.fullmatch(rf"s\d+_{submission}", p.name) and (p / ASSIGNMENT).is_dir()]
    assert len(folders) == 1, f"expected one autograded folder for {submission}"
    nb = notebooks.read(folders[0] / ASSIGNMENT / "forward.ipynb")
    cell = next(c for c in nb.cells if notebooks.grade_id(c) == cell_id)
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def test_reference_gets_full_marks(graded):
    assert graded["reference"] == {cell: (points, points) for cell, points in FULL.items()}


def test_a_broken_linear_costs_only_the_linear_points(graded):
    assert graded["only_linear_broken"] == {"test_linear": (0, 2), "test_forward": (4, 4), "test_mse_loss": (2, 2)}


def test_an_unimplemented_linear_costs_only_the_linear_points(graded):
    assert graded["only_linear_unimplemented"] == {"test_linear": (0, 2), "test_forward": (4, 4),
                                                   "test_mse_loss": (2, 2)}


@pytest.mark.parametrize("function, name", [(f, n) for f, variants in CORRECT.items() for n in variants])
def test_correct_alternatives_get_full_marks(graded, function, name):
    cell = CELLS[function]
    assert graded[_submission_of(CORRECT_SUBMISSIONS, function, name)][cell] == (FULL[cell], FULL[cell])


def test_correct_submissions_get_full_marks_in_every_cell(graded):
    for submission in CORRECT_SUBMISSIONS:
        assert graded[submission] == {cell: (points, points) for cell, points in FULL.items()}, submission


@pytest.mark.parametrize("function, name", [(f, n) for f, variants in WRONG.items() for n in variants])
def test_wrong_implementations_lose_their_points(graded, function, name):
    cell = CELLS[function]
    score, max_score = graded[_submission_of(WRONG_SUBMISSIONS, function, name)][cell]
    assert max_score == FULL[cell]
    assert score == WRONG[function][name][1] < max_score


@pytest.mark.parametrize("function, name, expected", [
    ("linear", "written_for_two_inputs_only", "compute X @ W (shape (n, m)) and add b to every row"),
    ("forward", "cache_stored_in_params", "forward added or removed keys of params"),
    ("forward", "bias_flattened_in_params", "your function modified its input params['b1']"),
    ("forward", "output_layer_takes_Z1", "the output layer takes the hidden activations A1, not X or Z1"),
    ("mse_loss", "divided_by_rows_only", "divide by the number of elements, y.size, not the number of rows"),
    ("mse_loss", "rounded", "mse_loss for a batch of"),
])
def test_messages_name_the_mistake(graded, grading_course, function, name, expected):
    text = _cell_output(grading_course, _submission_of(WRONG_SUBMISSIONS, function, name), CELLS[function])
    assert expected in text
    assert "[[" not in text and "array(" not in text       # no hidden arrays printed
