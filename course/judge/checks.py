"""The checks every grading rule uses: compare, explain in one line, award points by parts.

A rule (course/judge/rules/) reads like this::

    @rule("test_backward", points=8, lend=["sigmoid_derivative", "mse_loss_grad"])
    def backward(student, check):
        with check.part(2, "dW1"):
            grads = check.call(student.backward, X, y, params, cache)
            expect_gradient(grads["W1"], loss_of_W1, params["W1"], "dW1",
                            hint="check the derivative of the hidden activation")

All of it runs in the grader's process, on plain data that came back from the student's
kernel (course.judge.remote): the kernel never sees a check, an expected value or a point.
Each part that fails adds one line the student can act on, and never the hidden inputs or
the expected arrays.
"""
import contextlib
import warnings

import numpy as np

from . import remote, wire
from .reference import GRADIENT_CHECK_EPS


class Wrong(AssertionError):
    """A check failed; the message is shown to the student as one line."""


# --- numbers -----------------------------------------------------------------

def numerical_gradient(f, x, eps=GRADIENT_CHECK_EPS):
    """Centred-difference gradient of the scalar function f at the float array x.

    x is perturbed in place, one element at a time, and restored exactly.
    """
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = float(f(x))
        x[i] = old - eps
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(actual, expected):
    """||actual - expected|| / max(||actual||, ||expected||): 0 when equal, about 1 when unrelated."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    scale = max(float(np.linalg.norm(actual)), float(np.linalg.norm(expected)), 1e-12)
    return float(np.linalg.norm(actual - expected)) / scale


def scale_hint(actual, expected, hints, other=""):
    """Name a gradient that is the right one times a constant: a flipped sign, a missing 1/n, ...

    hints: [(factor, words), ...] in order of preference; returns the words of the first factor f
    with actual == f * expected (to 0.1%), else `other` formatted with {factor} when actual is some
    other multiple of expected, else '' (not a multiple, another shape, or not numbers). It only
    chooses words: whether a check passes is decided by the expect_* functions.
    """
    try:
        a = np.asarray(actual, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return ""
    size = float(np.vdot(e.ravel(), e.ravel())) if a.shape == e.shape else 0.0
    if size == 0.0 or not np.all(np.isfinite(a)):
        return ""
    factor = float(np.vdot(a.ravel(), e.ravel())) / size      # least-squares scale of actual onto expected
    if relative_error(a, factor * e) > 1e-3:
        return ""
    for value, words in hints:
        if abs(factor - value) <= 1e-3 * abs(value):
            return words
    return other.format(factor=round(factor, 3)) if other else ""


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


# --- expectations (raise Wrong with a message for the student) ----------------

def expect_array(value, name, shape):
    """value must be a float numpy array of exactly this shape."""
    shape = tuple(shape)
    if not isinstance(value, np.ndarray):
        raise Wrong(f"{name} should be a numpy array of shape {shape}, but it is {_describe(value)}")
    if value.shape != shape:
        raise Wrong(f"{name} has shape {value.shape} but should have shape {shape}"
                    " (check the order of a matrix product, a transpose, or a sum over the batch)")
    if not np.issubdtype(value.dtype, np.floating):
        raise Wrong(f"{name} has dtype {value.dtype}; it should hold floats")
    if not np.all(np.isfinite(value)):
        raise Wrong(f"{name} contains nan or inf (look for an overflow in exp or a log of 0)")


def expect_float(value, name):
    """value must be a finite Python or numpy float (not an array)."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (np.ndarray, list, tuple)) or not isinstance(value, (int, float, np.floating)):
        raise Wrong(f"{name} should be a single float, but it is {_describe(value)}")
    if not np.isfinite(value):
        raise Wrong(f"{name} is {value}; it should be a finite number (look for a log of 0)")
    return float(value)


def expect_close(actual, expected, name, hint="", tol=1e-6):
    """actual must equal expected (an array or a float) up to a relative error of tol."""
    if isinstance(expected, np.ndarray):
        expect_array(actual, name, expected.shape)
    else:
        actual = expect_float(actual, name)
    error = relative_error(actual, expected)
    if error > tol:
        what = "has the right shape but differs" if isinstance(expected, np.ndarray) else "differs"
        message = f"{name} {what} from the expected value by {_percent(error)}"
        raise Wrong(message + (f" - {hint}" if hint else ""))


def expect_gradient(analytic, f, x, name, hint="", tol=1e-5):
    """analytic must match the centred-difference gradient of the scalar f at x."""
    expected = numerical_gradient(f, x)
    expect_array(analytic, name, x.shape)
    error = relative_error(analytic, expected)
    if error > tol:
        raise Wrong(f"{name} has the right shape but differs from the numerical gradient by "
                    f"{_percent(error)}" + (f" - {hint}" if hint else ""))


def expect_unchanged(before, after, name):
    """An input array must not have been modified by the student's function."""
    if after.shape != before.shape or relative_error(after, before) > 0:
        raise Wrong(f"your function modified its input {name}; work on a copy or build a new array")


def _percent(error):
    return f"{round(100 * error)}%" if error >= 0.01 else f"{error:.1e} (relative)"


# --- points --------------------------------------------------------------------

class Checker:
    """Collects the points and the messages of one graded cell, part by part."""

    def __init__(self, points):
        self.points = float(points)
        self.earned = 0.0
        self.failures = []
        self.lines = []

    def call(self, function, *args, **kwargs):
        """Call the student's function (remote); its exception or non-data becomes a Wrong."""
        name = getattr(function, "__name__", "your function")
        try:
            return function(*args, **kwargs)
        except remote.StudentError as error:
            if error.name == "NotImplementedError":
                raise Wrong(f"{name} is not implemented yet") from None
            raise Wrong(f"{name} raised {error.name}: {str(error)[:120]}") from None
        except wire.NotData as error:
            raise Wrong(f"{name} returned {error}, which is not plain data "
                        "(a number, a numpy array, or a list, tuple or dict of them)") from None

    @contextlib.contextmanager
    def part(self, points, what):
        """Award `points` if the block finishes; otherwise record why not."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                yield self
        except (remote.TimeLimit, remote.KernelGone):
            raise                      # the whole cell fails: see course.judge.execute
        except Wrong as failure:
            self._fail(what, str(failure))
        except Exception as error:  # noqa: BLE001 - e.g. student data of an unexpected kind
            self._fail(what, f"{type(error).__name__}: {str(error)[:120]}")
        else:
            self.earned += float(points)

    def _fail(self, what, message):
        self.failures.append(what)
        self.lines.append(f"✗ {what}: {message}")

    def score(self):
        """The points earned (never more than the cell's points), rounded to 0.01."""
        earned = min(max(0.0, self.earned), self.points)
        return round(earned, 2)

    def summary(self):
        """The lines for the cell's output: one per failed part, then the points."""
        if not self.failures:
            return list(self.lines)
        return self.lines + [f"{round(self.score(), 2)} of {round(self.points, 2)} points"]
