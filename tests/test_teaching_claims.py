"""Every number the notebooks' text states, computed again with the reference implementation.

Fast: no kernel, no nbgrader. Where a notebook cell holds the settings of a demo, the test reads
them from the source notebook, so the text, the demo and this test cannot drift apart.
"""
import ast
import contextlib
import io
import re

import numpy as np
import pytest

from course import data
from course.authoring import check_your_work, notebooks
from course.judge import reference as ref
from course.layout import notebook_path

X_XOR, Y_XOR = data.xor()


def source(assignment):
    return notebooks.read(notebook_path("source", assignment))


def cell(assignment, cell_id):
    for c in source(assignment).cells:
        if c.get("id") == cell_id:
            return c.source
    raise AssertionError(f"{assignment} has no cell {cell_id!r}")


def solved(lr, loss, seeds=range(20), n_hidden=4, epochs=200):
    """How many of the seeds' starts solve XOR (the notebook's defaults: 4 hidden units, 200 epochs)."""
    return sum(np.array_equal(ref.predict(X_XOR, ref.train(X_XOR, Y_XOR, n_hidden, lr, epochs, seed=s, loss=loss)[0]),
                              Y_XOR) for s in seeds)


# --- 01: symmetry -------------------------------------------------------------------------------

def hidden_columns_after_training(W1, W2, steps=50, lr=10.0):
    params = {"W1": W1.copy(), "b1": np.zeros((1, W1.shape[1])), "W2": W2.copy(), "b2": np.zeros((1, 1))}
    for _ in range(steps):
        _, cache = ref.forward(X_XOR, params)
        params = ref.update_params(params, ref.backward(X_XOR, Y_XOR, params, cache), lr)
    return params["W1"]


def test_hidden_units_stay_copies_when_incoming_and_outgoing_weights_are_equal():
    W1 = hidden_columns_after_training(np.full((2, 3), 0.3), np.full((3, 1), 0.3))
    assert np.allclose(W1, W1[:, :1], rtol=0, atol=1e-12)


def test_equal_incoming_weights_alone_do_not_keep_hidden_units_copies():
    W1 = hidden_columns_after_training(np.full((2, 3), 0.3), np.array([[0.3], [-0.5], [0.8]]))
    assert np.min(np.abs(W1[:, 0] - W1[:, 1])) > 1e-3 and np.min(np.abs(W1[:, 1] - W1[:, 2])) > 1e-3


# --- 03: forward and centred differences ----------------------------------------------------------

def difference_errors(eps, z0=1.0):
    exact = ref.sigmoid_derivative(ref.sigmoid(z0))
    forward = abs((ref.sigmoid(z0 + eps) - ref.sigmoid(z0)) / eps - exact)
    centred = abs((ref.sigmoid(z0 + eps) - ref.sigmoid(z0 - eps)) / (2 * eps) - exact)
    return float(forward), float(centred)


def test_finite_difference_errors_have_the_constants_the_text_states():
    text = cell("03_backward", "finite-differences-explain")
    assert "0.045\\,\\varepsilon" in text and "0.0059\\,\\varepsilon^2" in text
    s = ref.sigmoid(1.0)
    d1 = s * (1 - s)
    assert abs(d1 * (1 - 2 * s) - (-0.0909)) < 5e-4                   # f''(1)
    assert abs(d1 * (1 - 6 * s + 6 * s * s) - (-0.0353)) < 5e-4       # f'''(1)
    forward, _ = difference_errors(1e-4)                               # truncation dominates here
    _, centred = difference_errors(1e-3)
    assert forward / 1e-4 == pytest.approx(0.045, rel=0.02)
    assert centred / 1e-3 ** 2 == pytest.approx(0.0059, rel=0.02)


def test_at_the_course_eps_centred_differences_are_some_250000_times_more_accurate():
    forward, centred = difference_errors(ref.GRADIENT_CHECK_EPS)
    assert 4e-7 < forward < 6e-7                       # "about 5e-7"
    assert 1e-12 < centred < 3e-12                     # "about 2e-12, already mostly rounding"
    assert 2e5 < forward / centred < 3e5               # "some 250,000 times"
    eps_values = np.logspace(-13, 0, 53)                # the notebook's grid
    best = eps_values[int(np.argmin([difference_errors(e)[1] for e in eps_values]))]
    assert 1e-6 <= best <= 1e-4                        # "at its best near 1e-5"


# --- one gradient-check step and threshold -----------------------------------------------------------

def test_the_gradient_check_constants_are_given_to_03_04_and_05():
    for assignment in ("03_backward", "04_optimization", "05_iris_softmax"):
        nb = source(assignment)
        given = [c.metadata["backprop_lab"]["given"] for c in nb.cells if "given" in c.metadata.get("backprop_lab", {})]
        assert any({"GRADIENT_CHECK_EPS", "GRADIENT_CHECK_TOLERANCE"} <= set(names) for names in given), assignment
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert f"GRADIENT_CHECK_EPS = {ref.GRADIENT_CHECK_EPS!r}" in code
        assert f"GRADIENT_CHECK_TOLERANCE = {ref.GRADIENT_CHECK_TOLERANCE!r}" in code


def test_the_grader_differentiates_with_the_same_eps():
    import inspect
    from course.judge import checks
    assert inspect.signature(checks.numerical_gradient).parameters["eps"].default == ref.GRADIENT_CHECK_EPS
    assert inspect.signature(ref.numerical_gradient).parameters["eps"].default == ref.GRADIENT_CHECK_EPS


def test_students_numerical_gradient_defaults_to_the_course_eps():
    tree = ast.parse(cell("03_backward", "numerical_gradient").replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef))
    assert ast.literal_eval(function.args.defaults[0]) == ref.GRADIENT_CHECK_EPS


def test_no_gradient_check_cell_uses_its_own_threshold_or_step():
    """The visible gradient checks compare with GRADIENT_CHECK_TOLERANCE and step by GRADIENT_CHECK_EPS, never a literal."""
    cells = [("03_backward", "gradient-check"), ("03_backward", "gradient-check-widget"), ("04_optimization", "bce-fused-check"),
             ("05_iris_softmax", "gradient-check"), ("05_iris_softmax", "backward-check")]
    for assignment, cell_id in cells:
        text = cell(assignment, cell_id)
        assert "GRADIENT_CHECK_TOLERANCE" in text, (assignment, cell_id)
        assert not re.search(r"\b1e-0?[6-9]\b", text), (assignment, cell_id)
    for assignment, cell_id in [("03_backward", "gradient-check-explain"), ("05_iris_softmax", "gradient-check-explain")]:
        text = cell(assignment, cell_id)
        assert "10^{-7}" in text and "10^{-5}" in text, (assignment, cell_id)
    assert f"{ref.GRADIENT_CHECK_TOLERANCE:.0e}" == "1e-07" and f"{ref.GRADIENT_CHECK_EPS:.0e}" == "1e-05"


def mse_gradient_error(params, X, y):
    _, cache = ref.forward(X, params)
    grads = ref.backward(X, y, params, cache)
    return max(ref.relative_error(grads[name], ref.numerical_gradient(
        lambda v, name=name: ref.mse_loss(y, ref.forward(X, {**params, name: v})[0]), params[name].copy()))
        for name in grads)


def test_correct_gradients_check_far_below_the_threshold_on_the_sliders_networks():
    """03's text: a correct backward gives 1e-9 to 1e-11 on these networks, below the 1e-7 threshold."""
    worst = 0.0
    for H in (1, 4, 10):
        for seed in (0, 7, 20):
            for n in (1, 4, 16):
                rng = np.random.default_rng(seed)
                X = rng.normal(0, 1, size=(n, 2))
                y = rng.integers(0, 2, size=(n, 1)).astype(float)
                params = ref.init_params(2, H, 1, rng)
                params["b1"] = rng.normal(0, 0.5, size=(1, H))
                worst = max(worst, mse_gradient_error(params, X, y))
    assert worst < ref.GRADIENT_CHECK_TOLERANCE / 10


# --- 03: the walk-through and the exercise -------------------------------------------------------------

def test_the_walk_through_numbers_are_the_reference_networks():
    x, y, w1, b1, w2, b2 = 2.0, 1.0, 1.0, -1.0, -1.0, 0.5
    text = cell("03_backward", "walkthrough-explain") + cell("03_backward", "paths-explain")
    a1 = float(ref.sigmoid(w1 * x + b1))
    a2 = float(ref.sigmoid(w2 * a1 + b2))
    dz2 = 2 * (a2 - y) * a2 * (1 - a2)
    dw2, da1 = ref.chain_rule_by_hand(x, y, w1, b1, w2, b2)
    # the same numbers through the matrix code, as 1 x 1 arrays
    params = {"W1": np.array([[w1]]), "b1": np.array([[b1]]), "W2": np.array([[w2]]), "b2": np.array([[b2]])}
    _, cache = ref.forward(np.array([[x]]), params)
    grads = ref.backward(np.array([[x]]), np.array([[y]]), params, cache)
    assert dw2 == pytest.approx(grads["W2"][0, 0]) and dz2 == pytest.approx(grads["b2"][0, 0])
    dz1 = da1 * a1 * (1 - a1)
    assert dz1 * x == pytest.approx(grads["W1"][0, 0])
    for value in (a1, w2 * a1 + b2, a2, (a2 - y) ** 2, 2 * (a2 - y), a2 * (1 - a2), dz2, dw2, da1,
                  a1 * (1 - a1), dz1, dz1 * x):
        assert f"{value:.4f}" in text, f"{value:.4f} is not in the walk-through"


# --- 04: learning rates and the fused cross-entropy gradient ------------------------------------------------

def test_bce_gradient_survives_an_output_that_rounds_to_one():
    params = {"W1": np.zeros((2, 2)), "b1": np.zeros((1, 2)), "W2": np.full((2, 1), 100.0), "b2": np.zeros((1, 1))}
    _, cache = ref.forward(X_XOR, params)
    assert np.all(cache["A2"] == 1.0)                               # sigmoid(100) is exactly 1.0
    unfused = ref.bce_loss_grad(Y_XOR, cache["A2"]) * ref.sigmoid_derivative(cache["A2"])
    assert np.all(unfused == 0.0)                                   # the product the text warns about
    grads = ref.backward(X_XOR, Y_XOR, params, cache, loss_grad=ref.bce_loss_grad)
    assert np.allclose(grads["b2"], [[0.5]])                        # sum of (A2 - y) / N = (1 + 0 + 0 + 1) / 4


def test_bce_at_a_large_learning_rate_does_not_freeze():
    _, losses = ref.train(X_XOR, Y_XOR, 4, 100.0, 200, seed=0, loss="bce")
    assert np.ptp(losses[100:]) > 1.0                                # it keeps moving
    assert not np.allclose(losses[1:], losses[-1])


def test_fused_bce_backward_agrees_with_numerical_gradients_of_bce_loss():
    params = ref.init_params(2, 3, 1, np.random.default_rng(3))
    params["b1"] = np.array([[0.1, -0.2, 0.3]])
    grads = ref.backward(X_XOR, Y_XOR, params, ref.forward(X_XOR, params)[1], loss_grad=ref.bce_loss_grad)
    for name in grads:
        numeric = ref.numerical_gradient(lambda v: ref.bce_loss(Y_XOR, ref.forward(X_XOR, {**params, name: v})[0]),
                                         params[name].copy())
        assert ref.relative_error(grads[name], numeric) < ref.GRADIENT_CHECK_TOLERANCE


def test_good_learning_rates_are_5_to_30_for_mse_and_3_to_7_for_bce():
    assert all(solved(lr, "mse") >= 18 for lr in (5.0, 10.0, 20.0, 30.0))
    assert all(solved(lr, "bce") >= 19 for lr in (3.0, 5.0, 7.0))
    assert solved(1.0, "mse") == 0 and solved(100.0, "mse") <= 2
    assert solved(20.0, "bce") == 0


def comparison_starts():
    """The seeds of 04's MSE-versus-BCE picture (its cell says how many), checked against its text."""
    starts = notebook_constant("04_optimization", "mse-bce-picture", "COMPARE_STARTS")
    assert f"count how many of {starts} random starts" in cell("04_optimization", "mse-bce-explain")
    return range(starts)


def test_at_the_default_rate_bce_fails_seed_0_and_solves_about_two_thirds():
    assert solved(10.0, "bce", seeds=[0]) == 0
    assert solved(10.0, "mse") == 20
    assert 11 <= solved(10.0, "bce") <= 15
    starts = comparison_starts()      # "the squared error solves every one of these starts, cross-entropy about two thirds"
    assert solved(10.0, "mse", seeds=starts) == len(starts)
    assert 0.55 <= solved(10.0, "bce", seeds=starts) / len(starts) <= 0.75


def test_at_learning_rate_2_bce_solves_about_twice_as_many_starts():
    assert notebook_constant("04_optimization", "mse-bce-picture", "COMPARE_LR") == 2.0
    for starts in (range(20), comparison_starts()):          # the picture's starts, and more
        mse, bce = solved(2.0, "mse", seeds=starts), solved(2.0, "bce", seeds=starts)
        assert 1.6 <= bce / mse <= 2.5


def test_bce_dL_dz_is_at_least_twice_mse_and_exactly_twice_at_one_half():
    z = np.linspace(-8, 8, 401)
    a = ref.sigmoid(z)
    for y in (0.0, 1.0):
        mse = np.abs(2 * (a - y) * a * (1 - a))
        bce = np.abs(a - y)
        assert np.all(bce >= 2 * mse - 1e-15)
    assert abs(ref.sigmoid(0.0) - 1) == pytest.approx(2 * abs(2 * (0.5 - 1) * 0.25))
    assert (2 / 4) * (1 / 4) * 0.5 * (1 / 4) == pytest.approx(1 / 64)


def test_mse_at_learning_rate_100_jumps_once_then_stays_flat_with_the_output_unit_saturated():
    params, losses = ref.train(X_XOR, Y_XOR, 4, 100.0, 200, seed=0)
    assert losses[1] - losses[0] > 0.2 and abs(losses[1] - 0.5) < 0.01
    assert np.ptp(losses[1:]) < 1e-3
    _, cache = ref.forward(X_XOR, params)
    assert 0.09 < cache["A1"].min() and cache["A1"].max() < 0.7        # seed 0: hidden units between 0.1 and 0.7
    for seed in range(5):
        params, losses = ref.train(X_XOR, Y_XOR, 4, 100.0, 200, seed=seed)
        z2 = np.abs(ref.forward(X_XOR, params)[1]["Z2"])
        assert 6 < z2.min() and z2.max() < 21                          # "|z2| of 6 to 20 for every point"
        assert not np.array_equal(ref.predict(X_XOR, params), Y_XOR)


# --- 05: one hidden unit, overfitting -------------------------------------------------------------------

def iris_sets():
    X, labels, _, _ = data.iris()
    split = data.iris_split()
    return (X[split["train"]], labels[split["train"]]), (X[split["validation"]], labels[split["validation"]])


def notebook_constant(assignment, cell_id, name):
    for node in ast.parse(cell(assignment, cell_id)).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned in {assignment}/{cell_id}")


def curves(per_species, features, n_hidden, lr, epochs, seed=0):
    """The notebook's overfit_curves, written with the reference functions."""
    (X_train, labels_train), (X_val, labels_val) = iris_sets()
    rows = np.concatenate([np.flatnonzero(labels_train == k)[:per_species] for k in range(3)])
    features = list(features)
    X_small, labels_small = X_train[rows][:, features], labels_train[rows]
    mu, sigma = X_small.mean(axis=0), X_small.std(axis=0)
    Xs, Xv = (X_small - mu) / sigma, (X_val[:, features] - mu) / sigma
    Y, Yv = ref.one_hot(labels_small, 3), ref.one_hot(labels_val, 3)
    params = ref.init_params(len(features), n_hidden, 3, np.random.default_rng(seed))
    train, val = [], []
    for _ in range(epochs):
        P, cache = ref.forward_softmax(Xs, params)
        train.append(ref.cross_entropy(Y, P))
        val.append(ref.cross_entropy(Yv, ref.forward_softmax(Xv, params)[0]))
        params = ref.update_params(params, ref.backward_softmax(Xs, Y, params, cache), lr)
    return np.array(train), np.array(val)


def test_the_overfitting_demo_shows_validation_loss_rising_while_training_loss_falls():
    settings = notebook_constant("05_iris_softmax", "overfitting-demo", "OVERFIT_SETTINGS")
    train, val = curves(**settings)
    best = int(np.argmin(val))
    assert best < settings["epochs"] // 2                           # the lowest point comes early
    assert val[-1] > val[best] + 0.15                               # ... and then the validation loss climbs
    assert np.all(np.diff(train[best:]) < 0)                        # while the training loss keeps falling
    assert 0.04 < train[-1] < 0.08                               # "about 0.06 after 1000 epochs"


@pytest.mark.parametrize("change", [{"per_species": 30}, {"features": (0, 1, 2, 3)},
                                    {"per_species": 30, "features": (0, 1, 2, 3)}])
def test_with_more_flowers_or_all_features_the_validation_loss_no_longer_turns_up(change):
    settings = {**notebook_constant("05_iris_softmax", "overfitting-demo", "OVERFIT_SETTINGS"), **change}
    _, val = curves(**settings)
    assert val[-1] <= val.min() + 1e-3


def test_every_overfitting_curve_starts_below_the_fixed_top_of_the_loss_axis():
    """The picture's loss axis is 0 .. OVERFIT_TOP at every setting: no curve may start above it."""
    top = notebook_constant("05_iris_softmax", "overfitting-demo", "OVERFIT_TOP")
    (X_train, labels_train), (X_val, labels_val) = iris_sets()
    highest = 0.0
    for per_species in range(3, 31):                                # the sliders' whole ranges
        rows = np.concatenate([np.flatnonzero(labels_train == k)[:per_species] for k in range(3)])
        for features in ([0, 1], [0, 1, 2, 3]):
            X_small = X_train[rows][:, features]
            mu, sigma = X_small.mean(axis=0), X_small.std(axis=0)
            Xs, Xv = (X_small - mu) / sigma, (X_val[:, features] - mu) / sigma
            Y, Yv = ref.one_hot(labels_train[rows], 3), ref.one_hot(labels_val, 3)
            for n_hidden in range(1, 65):
                params = ref.init_params(len(features), n_hidden, 3, np.random.default_rng(0))
                highest = max(highest, ref.cross_entropy(Y, ref.forward_softmax(Xs, params)[0]),
                              ref.cross_entropy(Yv, ref.forward_softmax(Xv, params)[0]))
    assert highest < top - 0.02                                     # "every curve starts below it"
    assert highest == pytest.approx(1.56, abs=0.005)                # "... at 0.9 to 1.56"


def full_data_curves(n_hidden, lr, epochs):
    (X_train, labels_train), _ = iris_sets()
    mu, sigma = X_train.mean(axis=0), X_train.std(axis=0)
    train, val = curves(30, (0, 1, 2, 3), n_hidden, lr, epochs)     # 30 per species = the whole training set
    assert np.allclose(mu, X_train[np.concatenate([np.flatnonzero(labels_train == k) for k in range(3)])].mean(axis=0))
    return train, val


def test_the_full_data_does_not_overfit_and_validation_lies_below_training():
    for n_hidden, lr, epochs in [(8, 1.0, 200), (32, 1.0, 600)]:    # the defaults; many units and epochs
        train, val = full_data_curves(n_hidden, lr, epochs)
        assert val[-1] <= val.min() + 1e-3                          # the validation loss never turns up
        assert np.mean(val < train) > 0.95                          # and lies below the training loss
        assert train[-1] > 0.05                                     # "well above 0"


def test_one_hidden_unit_tells_the_species_apart_along_petal_size():
    (X_train, labels_train), (X_val, labels_val) = iris_sets()
    mu, sigma = X_train.mean(axis=0), X_train.std(axis=0)
    params, _ = ref.train_softmax((X_train - mu) / sigma, ref.one_hot(labels_train, 3), 1, 1.0, 200)
    train_acc = ref.accuracy(labels_train, ref.forward_softmax((X_train - mu) / sigma, params)[0])
    val_acc = ref.accuracy(labels_val, ref.forward_softmax((X_val - mu) / sigma, params)[0])
    assert round(train_acc, 2) == 0.94 and round(val_acc, 2) == 0.97     # "about 94% ... and 97%"
    weights = np.abs(params["W1"].ravel())
    assert set(np.argsort(weights)[-2:]) == {2, 3}                       # petal length and width


# --- the check-your-work cell -----------------------------------------------------------------------

def run_check_cell(nb, namespace):
    code = next(c.source for c in nb.cells if c.get("id") == "check-your-work")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, namespace)
    return out.getvalue()


@pytest.mark.parametrize("assignment", ["01_initialization", "02_forward", "03_backward", "04_optimization", "05_iris_softmax"])
def test_every_notebook_ends_with_the_generated_check_your_work_cell(assignment):
    nb = source(assignment)
    assert [c.get("id") for c in nb.cells[-2:]] == ["check-your-work-heading", "check-your-work"]
    meta = nb.cells[-1].metadata["backprop_lab"]
    assert nb.cells[-1].source == check_your_work.cell_source(meta["check_your_work"], nb)
    checks, written = check_your_work.graded_cells(nb)
    points = sum(notebooks.nbgrader_meta(c).get("points", 0) for c in nb.cells if notebooks.is_test(c))
    assert sum(p for _, p, _ in checks) == points and written


def test_check_your_work_lists_what_is_unwritten_or_failing_with_its_points():
    nb = source("01_initialization")
    X, y = data.xor()

    def unwritten(*args):
        raise NotImplementedError()

    base = {"np": np, "X": X, "y": y, "GRADING": False}
    done = run_check_cell(nb, {**base, "sigmoid": ref.sigmoid, "init_params": ref.init_params})
    assert "Visible checks pass for 7 of 7 autograded points." in done and "Still to do" not in done
    assert "initialization.ipynb" in done and "question_symmetry (1 point)" in done
    left = run_check_cell(nb, {**base, "sigmoid": unwritten, "init_params": lambda *a: {"W1": np.zeros((2, 3))}})
    assert "Visible checks pass for 0 of 7 autograded points." in left
    assert "sigmoid (3 points): not written yet" in left
    assert "init_params (4 points): AssertionError: the dict should have exactly the keys W1, b1, W2, b2" in left
    assert run_check_cell(nb, {**base, "GRADING": True, "sigmoid": unwritten}) == ""


def test_iris_slider_extremes_creep_and_jump_as_the_text_says():
    """05's slider text: at 0.01 the loss creeps down and is far from done; at 10 it jumps about."""
    (X_train, labels_train), _ = iris_sets()
    Xs = (X_train - X_train.mean(axis=0)) / X_train.std(axis=0)
    _, slow = ref.train_softmax(Xs, ref.one_hot(labels_train, 3), 8, 0.01, 200)
    _, default = ref.train_softmax(Xs, ref.one_hot(labels_train, 3), 8, 1.0, 200)
    _, fast = ref.train_softmax(Xs, ref.one_hot(labels_train, 3), 8, 10.0, 200)
    assert np.all(np.diff(slow) < 0) and slow[-1] > 0.8 > 5 * default[-1]
    assert np.sum(np.diff(fast) > 0) > 20 and np.max(np.diff(fast)) > 1.0
