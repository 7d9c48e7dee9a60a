"""Helpers for the hidden tests: run student code quietly, compare, award points.

A hidden test cell reads like this::

    from course.judge.checks import Checker, expect_close, expect_gradient
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
judges (the grading kernel imports it before any student code runs: see
course/sandbox.py). It also guards what hidden tests use directly: before every
cell the originals of numpy, numpy.linalg/testing/random, math, the watched
builtins, sys.stdout/stderr, IPython's traceback/run/display entry points and
the attributes of course.judge.checks and course.judge.reference are put back; a cell
during which one of them was replaced gets a line on stderr (nbgrader: 0 points
for that cell), and a Checker that sees a replacement awards 0.
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
_vdot = np.vdot
_isfinite = np.isfinite
_all = np.all
_errstate = np.errstate
_floating = np.floating
_issubdtype = np.issubdtype
_isinstance = builtins.isinstance
_float = builtins.float
_max = builtins.max
_abs = builtins.abs
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


def scale_hint(actual, expected, hints, other=""):
    """Name a gradient that is the right one times a constant: a flipped sign, a missing 1/n, ...

    hints: [(factor, words), ...] in order of preference; returns the words of the first factor f
    with actual == f * expected (to 0.1%), else `other` formatted with {factor} when actual is some
    other multiple of expected, else '' (not a multiple, another shape, or not numbers). It only
    chooses words: whether a check passes is decided by the expect_* functions.
    """
    try:
        a = _asarray(actual, dtype=float)
        e = _asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return ""
    size = _float(_vdot(e.ravel(), e.ravel())) if a.shape == e.shape else 0.0
    if size == 0.0 or not _all(_isfinite(a)):
        return ""
    factor = _float(_vdot(a.ravel(), e.ravel())) / size      # least-squares scale of actual onto expected
    if relative_error(a, factor * e) > 1e-3:
        return ""
    for value, words in hints:
        if _abs(factor - value) <= 1e-3 * _abs(value):
            return words
    return other.format(factor=_round(factor, 3)) if other else ""


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
    guard = _GUARD
    guard.quiet += 1      # these two replacements are ours, not the student's
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
        guard.quiet -= 1


class Checker:
    """Collects the points of one autograder cell, part by part."""

    def __init__(self, points):
        self.points = _float(points)
        self.earned = 0.0
        self.failures = []
        self.replaced = _GUARD.restore()   # names student code replaced (put back): no points then

    def call(self, function, *args, **kwargs):
        """Call student code quietly; an exception becomes a message for the student."""
        guard = _GUARD          # taken before student code runs: it may replace module attributes
        try:
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
        finally:
            replaced = guard.restore()
            if replaced:
                self.replaced = self.replaced + replaced
                raise Wrong(_replaced_message(replaced))

    @contextlib.contextmanager
    def part(self, points, what):
        """Award `points` if the block finishes; otherwise print why not."""
        guard = _GUARD
        try:
            with quietly():
                yield self
            replaced = guard.restore()
            if replaced:
                self.replaced = self.replaced + replaced
                raise Wrong(_replaced_message(replaced))
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
        """The points earned, for the cell's last expression (never more than the cell's points).

        0 when student code replaced numpy, builtins or these helpers while the cell ran.
        """
        self.replaced = self.replaced + _GUARD.restore()
        if self.replaced:
            say(f"✗ {_replaced_message(self.replaced)}")
            say(f"0 of {_round(self.points, 2)} points")
            return 0.0
        earned = _max(0.0, self.earned) if self.earned <= self.points else self.points
        if self.failures:
            say(f"{_round(earned, 2)} of {_round(self.points, 2)} points")
        return _round(earned, 2)


# --- one function at a time ---------------------------------------------------------

def use_reference(namespace, names):
    """Grade one function on its own: for the rest of this cell, `namespace` (the notebook's
    globals()) holds course.judge.reference's functions `names` instead of the student's.

    forward_softmax calls the student's softmax, train calls nearly everything: the test cell
    of such a function starts with a hidden block

        from course.judge.checks import use_reference
        use_reference(globals(), ["softmax"])   # the grader's softmax while this cell runs

    so that its visible asserts and its hidden tests both run with the grader's helpers, and a
    wrong or unfinished softmax costs points only in softmax's own cell. The student's functions
    (or their absence) come back when the cell ends, even when an assert in it fails: the tamper
    guard does it after every cell (outside IPython, call _GUARD.give_back()).
    """
    from course import reference
    for name in names:
        _GUARD.lent.setdefault((id(namespace), name), (namespace, name, namespace.get(name, _MISSING)))
        namespace[name] = _getattr(reference, name)


# --- tamper-proofing -------------------------------------------------------------
#
# Hidden tests run in the same interpreter as the student's code, which could
# replace np.allclose, builtins.abs, sys.stderr, IPython's showtraceback or this
# module's helpers to turn a wrong answer into a pass. _Guard remembers the
# originals (taken when this module is first imported, before any student cell
# in the grading kernel) and puts them back before every cell; a cell during
# which something was replaced gets a line on the original stderr, which costs a
# test cell all its points in nbgrader.

_MISSING = object()
_vars = builtins.vars
_getattr = builtins.getattr
_callable = builtins.callable
_sorted = builtins.sorted
_set = builtins.set
_len = builtins.len
_setattr = builtins.setattr
_delattr = builtins.delattr
_stderr = sys.stderr
_HIDDEN_TESTS = "BEGIN HIDDEN TESTS"
_sha1 = __import__("hashlib").sha1

# builtins that hidden tests (and the checks above) rely on
_WATCHED_BUILTINS = (
    "abs", "all", "any", "bool", "callable", "dict", "divmod", "enumerate", "float", "getattr",
    "hasattr", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next",
    "pow", "print", "range", "repr", "round", "set", "setattr", "sorted", "str", "sum", "tuple", "type",
    "vars", "zip", "__import__", "__build_class__", "Exception", "AssertionError", "NotImplementedError",
    "ValueError", "TypeError")
# entry points of the IPython shell that decide what a cell runs and what it reports
_SHELL_ATTRIBUTES = (
    "showtraceback", "_showtraceback", "showsyntaxerror", "get_exception_only", "run_cell",
    "run_cell_async", "_run_cell", "run_ast_nodes", "run_code", "should_run_async", "transform_cell",
    "transform_ast", "displayhook", "display_pub", "display_formatter", "display_trap", "events",
    "ast_transformers", "input_transformer_manager", "input_transformers_post", "user_ns", "user_module")


def _public(module):
    return [name for name in _vars(module) if not name.startswith("_")]


def _own(module):
    return [name for name in _vars(module) if not (name.startswith("__") and name.endswith("__"))]


class _Guard:
    """The originals of what grading relies on, and the means to put them back."""

    def __init__(self):
        self.watched = []      # (owner, name, original value or _MISSING)
        self.stashed = {}      # user-namespace names hidden while a hidden-test cell runs
        self.lent = {}         # (id, name) -> (namespace, name, student's value): see use_reference
        self.quiet = 0         # > 0 inside quietly(), which swaps sys.stdout/stderr itself
        self.test_cells = frozenset()   # sha1 of the test cells' sources (set by course.grading.sandbox)

    def watch(self, owner, names):
        for name in names:
            self.watched.append((owner, name, _vars(owner).get(name, _MISSING)))

    def watch_classes(self, obj):
        """The methods of obj's Python classes (class attributes can be replaced)."""
        for cls in _type(obj).__mro__:
            if cls is not object and "__dict__" in _vars(cls):
                self.watch(cls, [n for n, v in _vars(cls).items() if _callable(v)])

    def restore(self):
        """Put every replaced original back; returns the replaced names (empty when none)."""
        replaced = []
        for owner, name, original in self.watched:
            if self.quiet and owner is sys and name in ("stdout", "stderr"):
                continue
            if _vars(owner).get(name, _MISSING) is not original:
                replaced.append(_label(owner, name))
                try:
                    if original is _MISSING:
                        _delattr(owner, name)
                    else:
                        _setattr(owner, name, original)
                except (AttributeError, TypeError):
                    pass
        return _tuple(replaced)

    # IPython event callbacks ------------------------------------------------------

    def before_cell(self, info=None):
        self.restore()
        source = _getattr(info, "raw_cell", "") or ""
        if _HIDDEN_TESTS in source or _sha1(source.encode()).hexdigest() in self.test_cells:
            self._hide_shadows()

    def after_cell(self, result=None):
        self.give_back()
        self._unhide_shadows()
        replaced = self.restore()
        if replaced:
            _stderr.write(f"✗ grading: {_replaced_message(replaced)}\n")
            _stderr.flush()

    def give_back(self):
        """Put back the notebook's own functions where use_reference lent the grader's."""
        for namespace, name, original in self.lent.values():
            if original is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = original
        self.lent = {}

    def _hide_shadows(self):
        """A test cell sees the real builtins and numpy, whatever the notebook named its globals
        (put back after the cell, so the student's own cells are unchanged)."""
        shell = _shell()
        if shell is None:
            return
        namespace = shell.user_ns
        for name in _WATCHED_BUILTINS:
            if name in namespace and _callable(namespace[name]):
                self.stashed[name] = namespace.pop(name)
        for name in ("np", "numpy"):
            if name in namespace and namespace[name] is not np:
                self.stashed[name] = namespace[name]
                namespace[name] = np

    def _unhide_shadows(self):
        shell = _shell()
        if shell is not None and self.stashed:
            shell.user_ns.update(self.stashed)
        self.stashed = {}


def _label(owner, name):
    owner_name = _getattr(owner, "__name__", None) or _type(owner).__name__
    return f"{owner_name}.{name}"


def _replaced_message(replaced):
    names = ", ".join(_sorted(_set(replaced))[:4]) + (" ..." if _len(_set(replaced)) > 4 else "")
    return (f"the notebook's code replaced {names} while it was being graded; "
            "the originals are back and this cell earns no points")


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _install_guard():
    import math

    import numpy.linalg
    import numpy.random
    import numpy.testing  # noqa: F401  (so that np.testing is there to watch)
    guard = _Guard()
    for module in (np, np.linalg, np.testing, np.random, math):
        guard.watch(module, _public(module))
    guard.watch(builtins, _WATCHED_BUILTINS)
    guard.watch(sys, ("stdout", "stderr"))
    guard.watch(sys.modules[__name__], _own(sys.modules[__name__]))
    guard.watch(Checker, _own(Checker))
    try:
        from course import reference
    except ImportError:
        pass
    else:
        guard.watch(reference, _own(reference))
    shell = _shell()
    if shell is not None:
        guard.watch(shell, _SHELL_ATTRIBUTES)
        for part in (shell, shell.displayhook, shell.display_pub, shell.display_formatter):
            guard.watch_classes(part)
        guard.watch(shell.display_trap, ("hook",))
        shell.events.register("pre_run_cell", guard.before_cell)
        shell.events.register("post_run_cell", guard.after_cell)
    return guard


_GUARD = _install_guard()
_GUARD.watch(sys.modules[__name__], ["_GUARD"])
