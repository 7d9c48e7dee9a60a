"""Name the usual mistakes in a derivative, so a failed check can tell the student what to fix.

The hidden tests of 03_backward and 04_optimization grade a derivative by comparing it with
the centred-difference gradient of a loss built from course.judge.reference
(course.judge.checks.expect_gradient). When the two differ, the functions here look for the likely
mistake: they recompute the quantity the way the usual wrong solutions do (with the reference
code) and, if the student's array matches one of those, return the hint for that mistake.

These functions only choose the words of a message; whether a part passes is decided by
course.judge.checks alone, so student code that tampers with numpy can change a hint, never a score.
"""
import numpy as np

from . import checks as grading, reference as ref
from .checks import Wrong, expect_gradient, relative_error

SAME = 1e-6       # relative error under which two arrays count as the same


def _same(a, b):
    try:
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        return a.shape == b.shape and relative_error(a, b) < SAME
    except (TypeError, ValueError):
        return False


def first_match(actual, variants):
    """The hint of the first (hint, array) in variants that actual equals, else ''."""
    for hint, value in variants:
        if _same(actual, value):
            return hint
    return ""


def scale_hint(actual, expected, n_elements, name):
    """Hint for a result that is the right one times a constant (a sign, a 2, a 1/n), or a sum."""
    n = float(n_elements)
    return grading.scale_hint(actual, expected, [
        (-1.0, "has the opposite sign: compute y_hat - y, not y - y_hat"),
        (0.5, "is half the right value: the derivative of (y_hat - y)^2 has a factor 2"),
        (n, f"is {n_elements} times too large: divide by the number of elements (y.size), because the loss is a mean"),
        (1.0 / n, f"is {n_elements} times too small: divide by the number of elements only once"),
    ]) or first_match(actual, [
        (f"looks like a sum of {name} was returned: return one value per element, the shape of y",
         np.full_like(expected, expected.sum())),
    ])


# --- sigmoid_derivative --------------------------------------------------------

def sigmoid_derivative_hint(actual, a):
    """Hint for a wrong sigmoid_derivative(a), a = sigmoid(z) in (0, 1)."""
    s = ref.sigmoid(a)
    return first_match(actual, [
        ("looks like sigmoid was applied to a again: a is already sigmoid(z), return a * (1 - a)",
         s * (1 - s)),
        ("has the opposite sign: the sigmoid is increasing, so its derivative a * (1 - a) is positive",
         -a * (1 - a)),
        ("one factor is missing: the derivative is a * (1 - a)", 1 - a),
        ("one factor is missing: the derivative is a * (1 - a)", a),
        ("check the sign inside: the derivative is a * (1 - a), not a * (1 + a)", a * (1 + a)),
    ])


# --- backward --------------------------------------------------------------------

def backward_case(n, d, n_hidden, seed):
    """A random problem for grading backward: X (n, d), 0/1 targets y (n, 1), params with
    nonzero biases, and the reference forward cache (so a wrong forward elsewhere costs nothing)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, size=(n, d))
    y = rng.integers(0, 2, size=(n, 1)).astype(float)
    params = {"W1": rng.normal(0.0, 1.0, size=(d, n_hidden)), "b1": rng.normal(0.0, 0.5, size=(1, n_hidden)),
              "W2": rng.normal(0.0, 1.0, size=(n_hidden, 1)), "b2": rng.normal(0.0, 0.5, size=(1, 1))}
    return X, y, params, ref.forward(X, params)[1]


def _backward_variant(X, y, params, cache, *, at="A", output_derivative=True, hidden_derivative=True,
                      loss_scale=1.0, bias="sum"):
    """The reference backward pass with one of the usual mistakes switched on."""
    def local(layer):
        if at == "Z":
            value = cache[f"Z{layer}"]
        elif at == "sigmoid(A)":
            value = ref.sigmoid(cache[f"A{layer}"])
        else:
            value = cache[f"A{layer}"]
        return ref.sigmoid_derivative(value)

    def bias_grad(dZ):
        return dZ.sum(axis=0, keepdims=True) / (dZ.shape[0] if bias == "mean" else 1)

    dA2 = loss_scale * ref.mse_loss_grad(y, cache["A2"])
    dZ2 = dA2 * local(2) if output_derivative else dA2
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * local(1) if hidden_derivative else dA1
    return {"W1": X.T @ dZ1, "b1": bias_grad(dZ1), "W2": cache["A1"].T @ dZ2, "b2": bias_grad(dZ2)}


def backward_hint(actual, name, X, y, params, cache):
    """Hint for a wrong gradient `name` ('W1', 'b1', 'W2', 'b2') returned by backward."""
    layer = name[1]
    n = y.size
    mistakes = [
        (f"looks like sigmoid_derivative was applied to Z instead of A: it takes the activation "
         f"(cache['A{layer}'], the sigmoid's output), not the pre-activation", dict(at="Z")),
        ("looks like the sigmoid was applied twice: the cache's A values are already sigmoid outputs, "
         "pass them to sigmoid_derivative as they are", dict(at="sigmoid(A)")),
        ("the output sigmoid's derivative is missing: dZ2 = dA2 * sigmoid_derivative(A2)",
         dict(output_derivative=False)),
        ("the hidden sigmoid's derivative is missing: dZ1 = dA1 * sigmoid_derivative(A1)",
         dict(hidden_derivative=False)),
        ("has the opposite sign: the loss gradient is 2 (y_hat - y) / n, not 2 (y - y_hat) / n",
         dict(loss_scale=-1.0)),
        (f"is {n} times too large: the loss is a mean, so dL/dy_hat has a 1/n (use mse_loss_grad)",
         dict(loss_scale=float(n))),
        ("is half the right value: dL/dy_hat of (y_hat - y)^2 has a factor 2 (use mse_loss_grad)",
         dict(loss_scale=0.5)),
        (f"looks like an average over the batch: the 1/n is already inside dL/dy_hat, so sum "
         f"dZ{layer} over the rows (axis=0, keepdims=True)", dict(bias="mean")),
    ]
    right = _backward_variant(X, y, params, cache)[name]
    for hint, switches in mistakes:
        wrong = _backward_variant(X, y, params, cache, **switches)[name]
        if not _same(wrong, right) and _same(actual, wrong):
            return hint
    if name.startswith("b"):
        return f"db{layer} is the sum of dZ{layer} over the batch (one row, axis=0, keepdims=True)"
    if layer == "1":
        return "check dA1 = dZ2 @ W2.T and the hidden derivative dZ1 = dA1 * sigmoid_derivative(A1)"
    return "check dW2 = A1.T @ dZ2 with dZ2 = dL/dy_hat * sigmoid_derivative(A2)"


def expect_backward_gradient(grads, name, X, y, params, cache):
    """grads[name] must be the gradient of the reference MSE loss with respect to params[name]."""
    if not isinstance(grads, dict):
        raise Wrong("backward should return a dict with keys 'W1', 'b1', 'W2', 'b2', "
                    f"but it returned a {type(grads).__name__}")
    if name not in grads:
        raise Wrong(f"the dict returned by backward has no key {name!r} (keys: 'W1', 'b1', 'W2', 'b2')")

    def loss(value):
        return ref.mse_loss(y, ref.forward(X, {**params, name: value})[0])

    hint = backward_hint(grads[name], name, X, y, params, cache)
    expect_gradient(grads[name], loss, params[name].copy(), f"d{name}", hint=hint)
