"""Hidden-test helpers for 05_iris_softmax: name the likely mistake in a softmax gradient.

    from course.judge.softmax_hints import expect_matching_gradient
    expect_matching_gradient(dZ, numeric, "dL/dZ", n, hint="dL/dZ = (P - Y) / n")

(Dependent functions are graded with the grader's helpers: the rules' `lend`, course.judge.rules.)
"""
from .checks import Wrong, expect_array, relative_error, scale_hint

# captured at import, like course.judge.checks (student code may replace numpy functions later)
_round = round
_getattr = getattr


def likely_mistake(actual, expected, n):
    """A hint when actual is expected times a telltale factor (-1, n, 1/n, -n); '' otherwise."""
    n = float(n)
    hints = [(-1.0, "it has the wrong sign: the gradient of the loss points along P - Y, not Y - P")]
    if n > 1:
        hints += [(n, "it is n times too large: the loss is a MEAN over the n rows, so divide by n"),
                  (-n, "it has the wrong sign and is n times too large: use (P - Y) / n"),
                  (1.0 / n, "it is n times too small: divide by n only once")]
    return scale_hint(actual, expected, hints,
                      other="it is {factor} times the right gradient: check the constant factors")


def expect_matching_gradient(analytic, numeric, name, n, hint="", tol=1e-5):
    """analytic must equal the numerical gradient; the message names a likely mistake."""
    expect_array(analytic, name, numeric.shape)
    error = relative_error(analytic, numeric)
    if error > tol:
        percent = f"{round(100 * error)}%" if error >= 0.01 else f"{error:.1e} (relative)"
        why = likely_mistake(analytic, numeric, n) or hint
        raise Wrong(f"{name} has the right shape but differs from the numerical gradient by {percent}"
                    + (f" - {why}" if why else ""))
