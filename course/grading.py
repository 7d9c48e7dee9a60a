"""Helpers for the hidden tests: run student code quietly, compare, award points.

A hidden test cell reads like this::

    from course.grading import Checker, expect_close, expect_gradient
    check = Checker(points=4)
    with check.part(2, "dW1"):
        grads = check.call(backward, X, y, params, cache)
        expect_gradient(grads["W1"], loss_of_W1, params["W1"], "dW1",
                        hint="check the derivative of the hidden activation")
    ...
    check.score()          # last expression: the points earned (nbgrader partial credit)

Each part that fails prints one line the student can act on, and never the
hidden inputs or the expected arrays. Student code runs with warnings, stderr
and stdout swallowed, so a RuntimeWarning never costs points (nbgrader gives 0
to a test cell that writes to stderr).

Everything this module relies on is captured when it is first imported, so a
submission that later replaces numpy functions or builtins cannot change how it
judges (the grading kernel imports it before any student code runs).
"""
import builtins
import contextlib
import io
import os
import sys
import warnings

import numpy as np

# References captured at import time (see the module docstring).
_ndarray = np.ndarray
_asarray = np.asarray
_zeros_like = np.zeros_like
_ndindex = np.ndindex
_norm = np.linalg.norm
_isfinite = np.isfinite
_all = np.all
_errstate = np.errstate
_floating = np.floating
_issubdtype = np.issubdtype
_isinstance = builtins.isinstance
_float = builtins.float
_max = builtins.max
_round = builtins.round
_repr = builtins.repr
_type = builtins.type
_tuple = builtins.tuple
_stdout = sys.stdout
_catch_warnings = warnings.catch_warnings
_simplefilter = warnings.simplefilter


class Wrong(AssertionError):
    """A check failed; the message is shown to the student as one line."""


def say(message):
    """Write one line to the cell's output (stdout), whatever the student did to print."""
    _stdout.write(message + "\n")
    _stdout.flush()


# --- numbers -----------------------------------------------------------------

def numerical_gradient(f, x, eps=1e-6):
    """Centred-difference gradient of the scalar function f at the float array x.

    x is perturbed in place, one element at a time, and restored exactly.
    """
    grad = _zeros_like(x, dtype=float)
    for i in _ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = _float(f(x))
        x[i] = old - eps
        f_minus = _float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(actual, expected):
    """||actual - expected|| / max(||actual||, ||expected||): 0 when equal, about 1 when unrelated."""
    actual = _asarray(actual, dtype=float)
    expected = _asarray(expected, dtype=float)
    scale = _max(_float(_norm(actual)), _float(_norm(expected)), 1e-12)
    return _float(_norm(actual - expected)) / scale


def _describe(value):
    if _isinstance(value, _ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {_type(value).__name__}"


# --- expectations (raise Wrong with a message for the student) ----------------

def expect_array(value, name, shape):
    """value must be a float numpy array of exactly this shape."""
    shape = _tuple(shape)
    if not _isinstance(value, _ndarray):
        raise Wrong(f"{name} should be a numpy array of shape {shape}, but it is {_describe(value)}")
    if value.shape != shape:
        raise Wrong(f"{name} has shape {value.shape} but should have shape {shape}"
                    " (check the order of a matrix product, a transpose, or a sum over the batch)")
    if not _issubdtype(value.dtype, _floating):
        raise Wrong(f"{name} has dtype {value.dtype}; it should hold floats")
    if not _all(_isfinite(value)):
        raise Wrong(f"{name} contains nan or inf (look for an overflow in exp or a log of 0)")


def expect_float(value, name):
    """value must be a finite Python or numpy float (not an array)."""
    if _isinstance(value, _ndarray) and value.shape == ():
        value = value[()]
    if _isinstance(value, (_ndarray, list, _tuple)) or not _isinstance(value, (int, _float, _floating)):
        raise Wrong(f"{name} should be a single float, but it is {_describe(value)}")
    if not _isfinite(value):
        raise Wrong(f"{name} is {value}; it should be a finite number (look for a log of 0)")
    return _float(value)


def expect_close(actual, expected, name, hint="", tol=1e-6):
    """actual must equal expected (an array or a float) up to a relative error of tol."""
    if _isinstance(expected, _ndarray):
        expect_array(actual, name, expected.shape)
    else:
        actual = expect_float(actual, name)
    error = relative_error(actual, expected)
    if error > tol:
        what = "has the right shape but differs" if _isinstance(expected, _ndarray) else "differs"
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
    return f"{_round(100 * error)}%" if error >= 0.01 else f"{error:.1e} (relative)"


# --- points --------------------------------------------------------------------

@contextlib.contextmanager
def quietly():
    """Swallow warnings, floating-point complaints, stdout and stderr (also at file-descriptor level)."""
    saved_out, saved_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    saved_fd = None
    try:
        saved_fd = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        saved_fd = None
    try:
        with _catch_warnings():
            _simplefilter("ignore")
            with _errstate(all="ignore"):
                yield
    finally:
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        sys.stdout, sys.stderr = saved_out, saved_err


class Checker:
    """Collects the points of one autograder cell, part by part."""

    def __init__(self, points):
        self.points = _float(points)
        self.earned = 0.0
        self.failures = []

    def call(self, function, *args, **kwargs):
        """Call student code quietly; an exception becomes a message for the student."""
        with quietly():
            try:
                return function(*args, **kwargs)
            except NotImplementedError:
                raise Wrong(f"{getattr(function, '__name__', 'the function')} is not implemented yet") from None
            except Wrong:
                raise
            except Exception as error:  # noqa: BLE001 - any failure of student code is reported
                name = getattr(function, "__name__", "your function")
                raise Wrong(f"{name} raised {_type(error).__name__}: {str(error)[:120]}") from None

    @contextlib.contextmanager
    def part(self, points, what):
        """Award `points` if the block finishes; otherwise print why not."""
        try:
            with quietly():
                yield self
        except Wrong as failure:
            self._fail(what, str(failure))
        except Exception as error:  # noqa: BLE001 - e.g. student code returning the wrong type
            self._fail(what, f"{_type(error).__name__}: {str(error)[:120]}")
        else:
            self.earned += _float(points)

    def _fail(self, what, message):
        self.failures.append(what)
        say(f"✗ {what}: {message}")

    def score(self):
        """The points earned, for the cell's last expression (never more than the cell's points)."""
        earned = _max(0.0, self.earned) if self.earned <= self.points else self.points
        if self.failures:
            say(f"{_round(earned, 2)} of {_round(self.points, 2)} points")
        return _round(earned, 2)
