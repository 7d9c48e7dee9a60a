"""The grading contract of 04_optimization, proven with real nbgrader autograde.

Submission k carries the k-th wrong variant of every graded function at once (each function has its
own test cell, so they do not interfere); each wrong variant must lose exactly the points expected
(0 where a visible check already catches it), each correct alternative must get full marks. Two more
submissions prove that train is graded on its own, visible checks included: wrong, or unimplemented
(the release stub), update_params, bce_loss and bce_loss_grad with a correct train lose points only
in their own cells (the rule's `lend`, course.judge.rules). All submissions are graded in one run.
"""
import pytest

from course.authoring import notebooks

ASSIGNMENT = "04_optimization"
FULL = {"test_update_params": 2, "test_bce_loss": 2, "test_bce_loss_grad": 2, "test_train": 4, "test_predict": 2}

WRONG_UPDATE_PARAMS = {
    "climbs_the_loss": ("""
def update_params(params, grads, lr):
    return {name: params[name] + lr * grads[name] for name in params}
""", 0),
    "in_place": ("""
def update_params(params, grads, lr):
    for name in params:
        params[name] -= lr * grads[name]
    return params
""", 0),
    "shallow_copy_then_in_place": ("""
def update_params(params, grads, lr):
    new = dict(params)
    for name in new:
        new[name] -= lr * grads[name]
    return new
""", 0),
    "scales_grads_in_place": ("""
def update_params(params, grads, lr):
    new = {}
    for name in params:
        grads[name] *= lr
        new[name] = params[name] - grads[name]
    return new
""", 1),   # right values, but the caller's grads are changed
    "learning_rate_missing": ("""
def update_params(params, grads, lr):
    return {name: params[name] - grads[name] for name in params}
""", 0),
}
CORRECT_UPDATE_PARAMS = {
    "copy_then_subtract": """
def update_params(params, grads, lr):
    new = {}
    for name, value in params.items():
        new[name] = value.copy()
        new[name] -= lr * grads[name]
    return new
""",
    "np_subtract": """
def update_params(params, grads, lr):
    return dict((k, np.subtract(params[k], np.multiply(lr, grads[k]))) for k in params)
""",
    "plus_negative_step": """
def update_params(params, grads, lr):
    return {k: params[k] + (-lr) * grads[k] for k in grads}
""",
}

WRONG_BCE_LOSS = {
    "sum_not_mean": ("""
def bce_loss(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
""", 0),
    "minus_sign_missing": ("""
def bce_loss(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
""", 0),
    "not_clipped": ("""
def bce_loss(y, y_hat):
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))
""", 0),
    "log10": ("""
def bce_loss(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log10(p) + (1 - y) * np.log10(1 - p)))
""", 0),
    "mean_over_rows_only": ("""
def bce_loss(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.mean(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)))
""", 1),   # right for one column, wrong for (n, 3)
}
CORRECT_BCE_LOSS = {
    "where_form": """
def bce_loss(y, y_hat):
    p = np.clip(y_hat, 1e-15, 1 - 1e-15)
    return float(-np.mean(np.log(np.where(y == 1, p, 1 - p))))
""",
    "math_loop": """
import math
def bce_loss(y, y_hat):
    total = 0.0
    for t, q in zip(np.ravel(y), np.ravel(y_hat)):
        q = min(max(q, 1e-9), 1 - 1e-9)
        total += -(t * math.log(q) + (1 - t) * math.log(1 - q))
    return total / np.size(y)
""",
    "returns_numpy_scalar": """
def bce_loss(y, y_hat):
    eps = 1e-12
    p = np.minimum(np.maximum(y_hat, eps), 1 - eps)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
""",
}

WRONG_BCE_LOSS_GRAD = {
    "gradient_for_z": ("""
def bce_loss_grad(y, y_hat):
    return (y_hat - y) / y.size
""", 0),
    "sign_flipped": ("""
def bce_loss_grad(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return (y - p) / (p * (1 - p)) / y.size
""", 0),
    "not_clipped": ("""
def bce_loss_grad(y, y_hat):
    return (y_hat - y) / (y_hat * (1 - y_hat)) / y.size
""", 1),   # right inside (0, 1), inf or nan at exact 0 and 1
    "missing_1_over_n": ("""
def bce_loss_grad(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return (p - y) / (p * (1 - p))
""", 0),
    "divides_by_rows": ("""
def bce_loss_grad(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return (p - y) / (p * (1 - p)) / y.shape[0]
""", 1),
}
CORRECT_BCE_LOSS_GRAD = {
    "two_terms": """
def bce_loss_grad(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return -(y / p - (1 - y) / (1 - p)) / y.size
""",
    "loop": """
def bce_loss_grad(y, y_hat):
    grad = np.zeros(y.shape)
    for i in np.ndindex(y.shape):
        q = min(max(float(y_hat[i]), 1e-10), 1 - 1e-10)
        grad[i] = (q - y[i]) / (q * (1 - q)) / y.size
    return grad
""",
    "np_divide": """
def bce_loss_grad(y, y_hat):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return np.divide(np.subtract(p, y), p * (1 - p) * np.size(y))
""",
}

TRAIN_TEMPLATE = """
def train(X, y, n_hidden, lr, epochs, seed=0, loss="mse"):
    loss_fn, loss_grad = {{"mse": (mse_loss, mse_loss_grad), "bce": (bce_loss, bce_loss_grad)}}[loss]
    {init}
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(X, params)
        {record_before}
        grads = backward(X, y, params, cache, {grad_arg})
        params = {update}
        {record_after}
    return params, losses
"""
RIGHT_TRAIN = dict(init="params = init_params(X.shape[1], n_hidden, 1, np.random.default_rng(seed))",
                   record_before="losses.append(loss_fn(y, y_hat))", record_after="",
                   grad_arg="loss_grad=loss_grad", update="update_params(params, grads, lr)")


def train_with(**changes):
    return TRAIN_TEMPLATE.format(**{**RIGHT_TRAIN, **changes})


WRONG_TRAIN = {
    # the visible check compares losses[0] with the loss of init_params(..., default_rng(0)): these three fail it
    "losses_after_update": (train_with(record_before="",
                                       record_after="losses.append(loss_fn(y, forward(X, params)[0]))"), 0),
    "global_randomness": (train_with(init="np.random.seed(seed); params = init_params(X.shape[1], n_hidden, 1, np.random)"), 0),
    "seed_ignored": (train_with(init="params = init_params(X.shape[1], n_hidden, 1, np.random.default_rng())"), 0),
    "climbs_the_loss": (train_with(update="{k: params[k] + lr * grads[k] for k in params}"), 0),
    "bce_gradient_not_used": (train_with(grad_arg=""), 3),
    "always_mse": (train_with(record_before="losses.append(mse_loss(y, y_hat))", grad_arg=""), 3),
}
CORRECT_TRAIN = {
    "while_loop_and_if": """
def train(X, y, n_hidden, lr, epochs, seed=0, loss="mse"):
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[1], n_hidden, y.shape[1], rng)
    losses = []
    epoch = 0
    while epoch < epochs:
        y_hat, cache = forward(X, params)
        if loss == "bce":
            losses.append(bce_loss(y, y_hat))
            grads = backward(X, y, params, cache, loss_grad=bce_loss_grad)
        else:
            losses.append(mse_loss(y, y_hat))
            grads = backward(X, y, params, cache)
        params = {k: params[k] - lr * grads[k] for k in params}
        epoch += 1
    return params, losses
""",
    "numpy_losses": """
def train(X, y, n_hidden, lr, epochs, seed=0, loss="mse"):
    params = init_params(X.shape[1], n_hidden, 1, rng=np.random.default_rng(seed=seed))
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        y_hat, cache = forward(X, params)
        losses[epoch] = bce_loss(y, y_hat) if loss == "bce" else mse_loss(y, y_hat)
        grad_fn = bce_loss_grad if loss == "bce" else mse_loss_grad
        params = update_params(params, backward(X, y, params, cache, grad_fn), lr)
    return params, losses
""",
}

WRONG_PREDICT = {
    "strictly_greater": ("""
def predict(X, params):
    return (forward(X, params)[0] > 0.5).astype(float)
""", 0),
    "np_round": ("""
def predict(X, params):
    return np.round(forward(X, params)[0])
""", 0),   # rounds 0.5 to 0 (to even)
    "booleans": ("""
def predict(X, params):
    return forward(X, params)[0] >= 0.5
""", 0),   # the visible check cannot tell True from 1.0; the hidden one can
    "probabilities": ("""
def predict(X, params):
    return forward(X, params)[0]
""", 0),
    "flat": ("""
def predict(X, params):
    return (forward(X, params)[0] >= 0.5).astype(float).ravel()
""", 0),
}
CORRECT_PREDICT = {
    "integers": """
def predict(X, params):
    return (forward(X, params)[0] >= 0.5).astype(int)
""",
    "where": """
def predict(X, params):
    y_hat, cache = forward(X, params)
    return np.where(y_hat >= 0.5, 1.0, 0.0)
""",
    "pre_activation_sign": """
def predict(X, params):
    return (forward(X, params)[1]["Z2"] >= 0) * 1.0
""",
}

FUNCTIONS = [
    ("update_params", WRONG_UPDATE_PARAMS, CORRECT_UPDATE_PARAMS),
    ("bce_loss", WRONG_BCE_LOSS, CORRECT_BCE_LOSS),
    ("bce_loss_grad", WRONG_BCE_LOSS_GRAD, CORRECT_BCE_LOSS_GRAD),
    ("train", WRONG_TRAIN, CORRECT_TRAIN),
    ("predict", WRONG_PREDICT, CORRECT_PREDICT),
]
N_WRONG = max(len(wrong) for _, wrong, _ in FUNCTIONS)
N_CORRECT = max(len(correct) for _, _, correct in FUNCTIONS)
HELPERS_WRONG = {"update_params": WRONG_UPDATE_PARAMS["climbs_the_loss"][0],
                 "bce_loss": WRONG_BCE_LOSS["sum_not_mean"][0],
                 "bce_loss_grad": WRONG_BCE_LOSS_GRAD["sign_flipped"][0]}


def wrong_plan(k):
    """{function: (variant name, code, expected score)} for wrong submission k."""
    return {fn: (list(wrong)[k], *wrong[list(wrong)[k]]) for fn, wrong, _ in FUNCTIONS if k < len(wrong)}


def correct_plan(k):
    return {fn: (list(correct)[k], correct[list(correct)[k]]) for fn, _, correct in FUNCTIONS if k < len(correct)}


@pytest.fixture(scope="module")
def graded(grading_course):
    submissions = {"opt_reference": grading_course.reference_submission(ASSIGNMENT),
                   "opt_helpers_wrong": grading_course.reference_submission(ASSIGNMENT, **HELPERS_WRONG),
                   "opt_helpers_unimplemented": grading_course.reference_submission(
                       ASSIGNMENT, **release_stubs(grading_course, HELPERS_WRONG))}
    for k in range(N_WRONG):
        codes = {fn: code for fn, (_, code, _) in wrong_plan(k).items()}
        submissions[f"opt_wrong_{k}"] = grading_course.reference_submission(ASSIGNMENT, **codes)
    for k in range(N_CORRECT):
        codes = {fn: code for fn, (_, code) in correct_plan(k).items()}
        submissions[f"opt_correct_{k}"] = grading_course.reference_submission(ASSIGNMENT, **codes)
    return grading_course.autograde(ASSIGNMENT, submissions)


def release_stubs(grading_course, functions):
    """{grade_id: the release notebook's code} for these solution cells: `raise NotImplementedError()`."""
    stubs = {notebooks.grade_id(c): c.source for c in grading_course.release_notebook(ASSIGNMENT).cells
             if notebooks.is_solution(c) and notebooks.grade_id(c) in functions}
    assert set(stubs) == set(functions) and all("raise NotImplementedError()" in code for code in stubs.values())
    return stubs


def autograded_outputs(grading_course, name):
    """{test grade_id: what the test cell printed, and its error} from a submission's autograded notebook."""
    matches = list((grading_course.root / "autograded").glob(f"s*_{name}/{ASSIGNMENT}/optimization.ipynb"))
    assert len(matches) == 1, f"expected one autograded notebook for {name}, found {matches}"
    nb = notebooks.read(matches[0])
    return {notebooks.grade_id(c): "".join(o.get("text", "") if o.output_type == "stream" else
                                           f"{o.ename}: {o.evalue}" for o in c.outputs
                                           if o.output_type in ("stream", "error"))
            for c in nb.cells if notebooks.is_test(c)}


def test_reference_gets_full_marks(graded):
    assert graded["opt_reference"] == {cell: (points, points) for cell, points in FULL.items()}


@pytest.mark.parametrize("k", range(N_WRONG))
def test_each_wrong_variant_loses_exactly_its_points(graded, k):
    for fn, (name, _, expected) in wrong_plan(k).items():
        score, top = graded[f"opt_wrong_{k}"][f"test_{fn}"]
        assert score < top, f"{name} got full marks in test_{fn}"
        assert score == expected, f"{name}: test_{fn} gave {score} of {top}, expected {expected}"
    for fn, wrong, _ in FUNCTIONS:
        if k >= len(wrong):
            assert graded[f"opt_wrong_{k}"][f"test_{fn}"] == (FULL[f"test_{fn}"],) * 2


@pytest.mark.parametrize("k", range(N_CORRECT))
def test_correct_alternatives_get_full_marks(graded, k):
    assert graded[f"opt_correct_{k}"] == {cell: (points, points) for cell, points in FULL.items()}, correct_plan(k)


@pytest.mark.parametrize("submission", ["opt_helpers_wrong", "opt_helpers_unimplemented"])
def test_train_is_graded_with_correct_helpers(graded, submission):
    """Wrong or unimplemented update_params, bce_loss and bce_loss_grad cost their own points, not train's."""
    scores = graded[submission]
    assert scores["test_update_params"][0] == 0
    assert scores["test_bce_loss"][0] == 0
    assert scores["test_bce_loss_grad"][0] == 0
    assert scores["test_train"] == (4, 4)
    assert scores["test_predict"] == (2, 2)


def test_failure_messages_name_the_mistake(graded, grading_course):
    where = {name: k for k in range(N_WRONG) for name, _, _ in wrong_plan(k).values()}

    def output(variant, cell):
        return autograded_outputs(grading_course, f"opt_wrong_{where[variant]}")[cell]

    assert "modified its input grads" in output("scales_grads_in_place", "test_update_params")
    assert "mean over rows only" in output("mean_over_rows_only", "test_bce_loss")
    assert "nan or inf" in output("not_clipped", "test_bce_loss_grad")
    assert "not by the number of rows" in output("divides_by_rows", "test_bce_loss_grad")
    # the visible check of losses[0] catches these two first, with its own words
    assert "record each loss before that epoch's update" in output("losses_after_update", "test_train")
    assert "np.random.default_rng(0)) has loss" in output("global_randomness", "test_train")
    assert "pass loss_grad=bce_loss_grad" in output("bce_gradient_not_used", "test_train")
    assert "squared errors: use bce_loss" in output("always_mse", "test_train")
    assert "booleans" in output("booleans", "test_predict")
    # partial credit is reported, and no hidden array is printed
    text = output("bce_gradient_not_used", "test_train")
    assert "3.0 of 4.0 points" in text and "[[" not in text and "array(" not in text
