"""The grading contract of 01_initialization (sigmoid, init_params), proven with real nbgrader autograde.

Every submission is the release notebook filled with the reference solutions, with some graded
functions replaced: a wrong implementation must lose points in its own test cell (exactly the
points of the part meant to catch it, where the score is given), a differently written correct one
must get full marks everywhere. All submissions are graded in one nbgrader run.
"""
import re

import pytest

from course.authoring import notebooks

ASSIGNMENT = "01_initialization"
SIGMOID_CELL, INIT_CELL = "test_sigmoid", "test_init_params"
FULL = {SIGMOID_CELL: 3, INIT_CELL: 4}

# name -> (code, score expected in test_sigmoid out of 3; 0 where a visible assert already fails)
WRONG_SIGMOID = {
    "sign_flipped": ("""
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(z))
""", 0),
    "tanh_instead": ("""
def sigmoid(z):
    return np.tanh(z)
""", 0),
    "unstable_for_negative_z": ("""
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
""", 2),
    "unstable_for_positive_z": ("""
def sigmoid(z):
    return np.exp(z) / (1.0 + np.exp(z))
""", 2),
    "where_computes_both_branches": ("""
def sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-z)), np.exp(z) / (1.0 + np.exp(z)))
""", 2),
    "returns_a_list": ("""
import math
def sigmoid(z):
    return [1.0 / (1.0 + math.exp(-v)) for v in np.ravel(z)]
""", 0),
    "rounds_the_result": ("""
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.round(np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)), 3)
""", 0),
    "replaces_numpy_checks": ("""
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
def sigmoid(z):
    return np.tanh(z)
""", 0),
    "overwrites_its_input": ("""
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    z[...] = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return z
""", 2),
}

CORRECT_SIGMOID = {
    "tanh_form": """
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))
""",
    "python_loop": """
import math
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty(z.shape)
    for index, value in np.ndenumerate(z):
        if value >= 0:
            out[index] = 1.0 / (1.0 + math.exp(-value))
        else:
            out[index] = math.exp(value) / (1.0 + math.exp(value))
    return out
""",
    "clipped_then_plain_formula": """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
""",
}

# name -> (code, score expected in test_init_params out of 4)
WRONG_INIT = {
    "global_np_random": ("""
def init_params(n_in, n_hidden, n_out, rng):
    return {"W1": np.random.normal(0, 1 / np.sqrt(n_in), size=(n_in, n_hidden)), "b1": np.zeros((1, n_hidden)),
            "W2": np.random.normal(0, 1 / np.sqrt(n_hidden), size=(n_hidden, n_out)), "b2": np.zeros((1, n_out))}
""", 0),
    "own_seeded_generator": ("""
def init_params(n_in, n_hidden, n_out, rng):
    rng = np.random.default_rng(0)
    return {"W1": rng.normal(0, 1 / np.sqrt(n_in), size=(n_in, n_hidden)), "b1": np.zeros((1, n_hidden)),
            "W2": rng.normal(0, 1 / np.sqrt(n_hidden), size=(n_hidden, n_out)), "b2": np.zeros((1, n_out))}
""", 2.5),
    "std_one": ("""
def init_params(n_in, n_hidden, n_out, rng):
    return {"W1": rng.normal(0, 1.0, size=(n_in, n_hidden)), "b1": np.zeros((1, n_hidden)),
            "W2": rng.normal(0, 1.0, size=(n_hidden, n_out)), "b2": np.zeros((1, n_out))}
""", 2),
    "fan_out_scaling": ("""
def init_params(n_in, n_hidden, n_out, rng):
    return {"W1": rng.normal(0, 1 / np.sqrt(n_hidden), size=(n_in, n_hidden)), "b1": np.zeros((1, n_hidden)),
            "W2": rng.normal(0, 1 / np.sqrt(n_out), size=(n_hidden, n_out)), "b2": np.zeros((1, n_out))}
""", 2),
    "zero_weights": ("""
def init_params(n_in, n_hidden, n_out, rng):
    return {"W1": np.zeros((n_in, n_hidden)), "b1": np.zeros((1, n_hidden)),
            "W2": np.zeros((n_hidden, n_out)), "b2": np.zeros((1, n_out))}
""", 0),
    "transposed_weights": ("""
def init_params(n_in, n_hidden, n_out, rng):
    return {"W1": rng.normal(0, 1 / np.sqrt(n_in), size=(n_hidden, n_in)), "b1": np.zeros((1, n_hidden)),
            "W2": rng.normal(0, 1 / np.sqrt(n_hidden), size=(n_out, n_hidden)), "b2": np.zeros((1, n_out))}
""", 0),
    "biases_of_ones": ("""
def init_params(n_in, n_hidden, n_out, rng):
    return {"W1": rng.normal(0, 1 / np.sqrt(n_in), size=(n_in, n_hidden)), "b1": np.ones((1, n_hidden)),
            "W2": rng.normal(0, 1 / np.sqrt(n_hidden), size=(n_hidden, n_out)), "b2": np.ones((1, n_out))}
""", 0),
    "W2_drawn_first": ("""
def init_params(n_in, n_hidden, n_out, rng):
    W2 = rng.normal(0, 1 / np.sqrt(n_hidden), size=(n_hidden, n_out))
    W1 = rng.normal(0, 1 / np.sqrt(n_in), size=(n_in, n_hidden))
    return {"W1": W1, "b1": np.zeros((1, n_hidden)), "W2": W2, "b2": np.zeros((1, n_out))}
""", 3),
    "variance_used_as_std": ("""
def init_params(n_in, n_hidden, n_out, rng):
    return {"W1": rng.normal(0, 1 / n_in, size=(n_in, n_hidden)), "b1": np.zeros((1, n_hidden)),
            "W2": rng.normal(0, 1 / n_hidden, size=(n_hidden, n_out)), "b2": np.zeros((1, n_out))}
""", 2),
}

CORRECT_INIT = {
    "standard_normal_divided": """
def init_params(n_in, n_hidden, n_out, rng):
    W1 = rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)
    W2 = rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)
    return {"W1": W1, "b1": np.zeros((1, n_hidden)), "W2": W2, "b2": np.zeros((1, n_out))}
""",
    "one_draw_at_a_time": """
def init_params(n_in, n_hidden, n_out, rng):
    params = {"W1": np.zeros((n_in, n_hidden)), "b1": np.zeros((1, n_hidden)),
              "W2": np.zeros((n_hidden, n_out)), "b2": np.zeros((1, n_out))}
    for name, fan_in in (("W1", n_in), ("W2", n_hidden)):
        rows, cols = params[name].shape
        for i in range(rows):
            for j in range(cols):
                params[name][i, j] = rng.normal(0.0, fan_in ** -0.5)
    return params
""",
    "helper_function": """
def init_params(n_in, n_hidden, n_out, rng):
    def layer(fan_in, fan_out):
        return rng.normal(loc=0.0, scale=1.0 / np.sqrt(fan_in), size=(fan_in, fan_out)), np.zeros((1, fan_out))
    W1, b1 = layer(n_in, n_hidden)
    W2, b2 = layer(n_hidden, n_out)
    return dict(W1=W1, b1=b1, W2=W2, b2=b2)
""",
}


def _pairs(first, second):
    """Submissions k = (k-th variant of the first function, k-th of the second), padded with None."""
    a, b = list(first), list(second)
    return [(a[k] if k < len(a) else None, b[k] if k < len(b) else None) for k in range(max(len(a), len(b)))]


def _code(variants, name):
    value = variants[name]
    return (value[0] if isinstance(value, tuple) else value).strip("\n")


WRONG_SUBMISSIONS = {f"wrong{k}": {"sigmoid": s, "init_params": i}
                     for k, (s, i) in enumerate(_pairs(WRONG_SIGMOID, WRONG_INIT))}
CORRECT_SUBMISSIONS = {f"correct{k}": {"sigmoid": s, "init_params": i}
                       for k, (s, i) in enumerate(_pairs(CORRECT_SIGMOID, CORRECT_INIT))}


@pytest.fixture(scope="module")
def graded(grading_course):
    """{submission: {test cell: (score, max)}} for every submission, from one nbgrader autograde run."""
    submissions = {"reference": grading_course.reference_submission(ASSIGNMENT)}
    for plan, wrong in ((WRONG_SUBMISSIONS, (WRONG_SIGMOID, WRONG_INIT)),
                        (CORRECT_SUBMISSIONS, (CORRECT_SIGMOID, CORRECT_INIT))):
        for submission, chosen in plan.items():
            codes = {grade_id: _code(variants, name)
                     for (grade_id, name), variants in zip(chosen.items(), wrong) if name}
            submissions[submission] = grading_course.reference_submission(ASSIGNMENT, **codes)
    return grading_course.autograde(ASSIGNMENT, submissions)


def _submission_of(plan, function, name):
    return next(s for s, chosen in plan.items() if chosen[function] == name)


def _cell_output(grading_course, submission, cell_id):
    """The text a student sees under an autograded test cell."""
    folders = [p for p in (grading_course.root / "autograded").iterdir()
               if re.fullmatch(rf"s\d+_{submission}", p.name) and (p / ASSIGNMENT).is_dir()]
    assert len(folders) == 1, f"expected one autograded folder for {submission}"
    nb = notebooks.read(folders[0] / ASSIGNMENT / "initialization.ipynb")
    cell = next(c for c in nb.cells if notebooks.grade_id(c) == cell_id)
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def test_reference_gets_full_marks(graded):
    assert graded["reference"] == {cell: (points, points) for cell, points in FULL.items()}


@pytest.mark.parametrize("name", CORRECT_SIGMOID)
def test_correct_sigmoid_alternatives_get_full_marks(graded, name):
    scores = graded[_submission_of(CORRECT_SUBMISSIONS, "sigmoid", name)]
    assert scores[SIGMOID_CELL] == (3, 3)


@pytest.mark.parametrize("name", CORRECT_INIT)
def test_correct_init_params_alternatives_get_full_marks(graded, name):
    scores = graded[_submission_of(CORRECT_SUBMISSIONS, "init_params", name)]
    assert scores[INIT_CELL] == (4, 4)


@pytest.mark.parametrize("name", WRONG_SIGMOID)
def test_wrong_sigmoid_loses_its_points(graded, name):
    score, max_score = graded[_submission_of(WRONG_SUBMISSIONS, "sigmoid", name)][SIGMOID_CELL]
    assert max_score == 3
    assert score == WRONG_SIGMOID[name][1] < 3


@pytest.mark.parametrize("name", WRONG_INIT)
def test_wrong_init_params_loses_its_points(graded, name):
    score, max_score = graded[_submission_of(WRONG_SUBMISSIONS, "init_params", name)][INIT_CELL]
    assert max_score == 4
    assert score == WRONG_INIT[name][1] < 4


@pytest.mark.parametrize("name, side", [("unstable_for_negative_z", "negative"),
                                        ("unstable_for_positive_z", "positive")])
def test_an_overflowing_sigmoid_is_told_which_side_overflows(graded, grading_course, name, side):
    text = _cell_output(grading_course, _submission_of(WRONG_SUBMISSIONS, "sigmoid", name), SIGMOID_CELL)
    assert f"sigmoid overflows for large {side} z - use a formula that never computes exp of a large positive number" in text
    assert "2.0 of 3.0 points" in text
    assert "RuntimeWarning" not in text          # the student's warning did not leak into the cell output


@pytest.mark.parametrize("name, expected", [
    ("own_seeded_generator", "different rng seeds gave the same weights - draw the weights from the rng argument"),
    ("std_one", "but should have about 0.050 = 1/sqrt(n_in)"),
    ("fan_out_scaling", "= 1/sqrt(n_in) (its fan-in, the number of inputs of the layer)"),
    ("W2_drawn_first", "draw W1 first, then W2"),
])
def test_init_params_messages_name_the_mistake(graded, grading_course, name, expected):
    text = _cell_output(grading_course, _submission_of(WRONG_SUBMISSIONS, "init_params", name), INIT_CELL)
    assert expected in text
    assert "[[" not in text and "array(" not in text       # no hidden arrays printed
