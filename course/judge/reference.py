"""The grader's own implementation of every graded function.

Hidden tests compute expected values and losses with these, never with the
student's code, so one mistake in a submission costs only its own points.
Arrays hold one example per row: X (n, d), y (n, 1), Y one-hot (n, k).
"""
import numpy as np


# --- 01_initialization ---------------------------------------------------------

def sigmoid(z):
    """Elementwise logistic 1 / (1 + exp(-z)) of an array of any shape.

    Written so that exp never sees a large positive number: no overflow for any z.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))                      # in (0, 1], never overflows
    # 1 / (1 + e) where z >= 0, e / (1 + e) where z < 0: np.where picks the numerator, one division
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def init_params(n_in, n_hidden, n_out, rng):
    """Parameters of an n_in-n_hidden-n_out network.

    W1 (n_in, n_hidden) and W2 (n_hidden, n_out) are drawn, in that order, from the
    numpy Generator `rng` as normal(0, 1/sqrt(fan_in)); b1 (1, n_hidden), b2 (1, n_out) are zero.
    """
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_hidden)),
        "b1": np.zeros((1, n_hidden)),
        "W2": rng.normal(0.0, 1.0 / np.sqrt(n_hidden), size=(n_hidden, n_out)),
        "b2": np.zeros((1, n_out)),
    }


# --- 02_forward ------------------------------------------------------------------

def linear(X, W, b):
    """X (n, d) @ W (d, m) + b (1, m) -> (n, m)."""
    return X @ W + b


def forward(X, params):
    """Sigmoid hidden layer, sigmoid output. X (n, d) -> (y_hat (n, 1), cache of Z1, A1, Z2, A2)."""
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def mse_loss(y, y_hat):
    """Mean over all elements of (y_hat - y)^2, as a float."""
    return float(np.mean((y_hat - y) ** 2))


# --- 03_backward -----------------------------------------------------------------

def sigmoid_derivative(a):
    """d sigmoid / dz written with the sigmoid's output a = sigmoid(z)."""
    return a * (1.0 - a)


def mse_loss_grad(y, y_hat):
    """dL/dy_hat of mse_loss: 2 (y_hat - y) / (number of elements), shaped like y."""
    return 2.0 * (y_hat - y) / y.size


def chain_rule_by_hand(x, y, w1, b1, w2, b2):
    """(dL/dw2, dL/da1) of L = (a2 - y)^2 for one example through the 1-1-1 network, as floats."""
    a1 = float(sigmoid(w1 * x + b1))
    a2 = float(sigmoid(w2 * a1 + b2))
    dL_dz2 = 2.0 * (a2 - y) * a2 * (1.0 - a2)
    return dL_dz2 * a1, dL_dz2 * w2


def backward(X, y, params, cache, loss_grad=mse_loss_grad):
    """Gradients {W1, b1, W2, b2} of the loss, each shaped like its parameter.

    loss_grad(y, y_hat) is dL/dy_hat of the loss (MSE by default; pass bce_loss_grad for BCE).
    With bce_loss_grad the output step is fused, dL/dZ2 = (A2 - y) / N (N = y.size): on paper
    dL/dy_hat * A2 (1 - A2) cancels to that, but in floats it is 0 once A2 rounds to 0 or 1.
    """
    if loss_grad is bce_loss_grad:
        dZ2 = (cache["A2"] - y) / y.size
    else:
        dZ2 = loss_grad(y, cache["A2"]) * sigmoid_derivative(cache["A2"])
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * sigmoid_derivative(cache["A1"])
    return {
        "W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True),
        "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0, keepdims=True),
    }


# The gradient check of assignments 3, 4 and 5: one step and one threshold, stated in their text.
GRADIENT_CHECK_EPS = 1e-5         # the step of the centred differences
GRADIENT_CHECK_TOLERANCE = 1e-7   # a relative error below this: backward and the numerical gradient agree


def numerical_gradient(f, x, eps=GRADIENT_CHECK_EPS):
    """Centred differences: grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps); x is restored."""
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """|a - b| / max(|a|, |b|): the size of a gradient's error, whatever the size of the gradient."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-12))


# --- 04_optimization -------------------------------------------------------------

def update_params(params, grads, lr):
    """One gradient-descent step: a new dict of params - lr * grads (inputs untouched)."""
    return {name: params[name] - lr * grads[name] for name in params}


def bce_loss(y, y_hat, eps=1e-12):
    """Mean binary cross-entropy; y_hat is clipped to [eps, 1 - eps] so log never sees 0."""
    p = np.clip(y_hat, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def bce_loss_grad(y, y_hat, eps=1e-12):
    """dL/dy_hat of bce_loss, shaped like y."""
    p = np.clip(y_hat, eps, 1 - eps)
    return (p - y) / (p * (1 - p)) / y.size


def train(X, y, n_hidden, lr, epochs, seed=0, loss="mse"):
    """Full-batch gradient descent; returns (params, losses) with one loss per epoch (before its step)."""
    loss_fn, loss_grad = {"mse": (mse_loss, mse_loss_grad), "bce": (bce_loss, bce_loss_grad)}[loss]
    params = init_params(X.shape[1], n_hidden, y.shape[1], np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(X, params)
        losses.append(loss_fn(y, y_hat))
        params = update_params(params, backward(X, y, params, cache, loss_grad), lr)
    return params, losses


def predict(X, params):
    """(n, 1) array of 0/1 labels: 1 where the network's output is at least 0.5."""
    return (forward(X, params)[0] >= 0.5).astype(float)


# --- 05_iris_softmax -------------------------------------------------------------

def one_hot(labels, n_classes):
    """Integer labels (n,) -> (n, n_classes) float array with a single 1 per row."""
    labels = np.asarray(labels).astype(int).ravel()
    Y = np.zeros((labels.size, n_classes))
    Y[np.arange(labels.size), labels] = 1.0
    return Y


def softmax(Z):
    """Row-wise softmax of logits Z (n, k); each row's max is subtracted first, so exp never overflows."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(Y, P, eps=1e-12):
    """Mean over rows of -sum(Y * log P); P is clipped at eps so log never sees 0."""
    return float(-np.mean(np.sum(Y * np.log(np.clip(P, eps, 1.0)), axis=1)))


def softmax_cross_entropy_grad(Y, P):
    """dL/dZ of cross_entropy(Y, softmax(Z)): (P - Y) / n."""
    return (P - Y) / Y.shape[0]


def forward_softmax(X, params):
    """Sigmoid hidden layer, softmax output. X (n, d) -> (P (n, k), cache of Z1, A1, Z2, A2)."""
    Z1 = linear(X, params["W1"], params["b1"])
    A1 = sigmoid(Z1)
    Z2 = linear(A1, params["W2"], params["b2"])
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward_softmax(X, Y, params, cache):
    """Gradients {W1, b1, W2, b2} of the mean cross-entropy, each shaped like its parameter."""
    dZ2 = softmax_cross_entropy_grad(Y, cache["A2"])
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_derivative(cache["A1"])
    return {
        "W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True),
        "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0, keepdims=True),
    }


def train_softmax(X, Y, n_hidden, lr, epochs, seed=0):
    """Full-batch gradient descent on cross-entropy; returns (params, losses), one loss per epoch."""
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        P, cache = forward_softmax(X, params)
        losses.append(cross_entropy(Y, P))
        params = update_params(params, backward_softmax(X, Y, params, cache), lr)
    return params, losses


def accuracy(labels, P):
    """Fraction of rows of P whose largest entry is at the true label."""
    return float(np.mean(np.argmax(P, axis=1) == np.asarray(labels).ravel()))
