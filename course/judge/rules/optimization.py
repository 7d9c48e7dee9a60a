"""The grading rules of 04_optimization: update_params (2), bce_loss (2), bce_loss_grad (2), train (4, with every helper
answered by the reference) and predict (2).

Each rule was the hidden tests of its cell; it runs in the grader (see course.judge.rules).
"""
from functools import cache

import numpy as np

from ... import data
from .. import reference as ref
from ..checks import Wrong, expect_array, expect_close, expect_float, expect_gradient, expect_unchanged
from ..hints import first_match, scale_hint
from . import given, rule

NOTEBOOK = 'optimization'
STUDENT = ['update_params', 'bce_loss', 'bce_loss_grad', 'train', 'predict']


@cache
def context():
    """What the visible checks use besides the student's functions: the given code and XOR."""
    X, y = data.xor()
    return {"np": np, "X": X, "y": y, **given("sigmoid", "init_params", "linear", "forward", "mse_loss",
                                               "sigmoid_derivative", "mse_loss_grad", "backward")}


@rule('test_update_params', points=2)
def grade_update_params(student, check):
    def update_case(seed, H, d):
        rng = np.random.default_rng(seed)
        shapes = {"W1": (d, H), "b1": (1, H), "W2": (H, 1), "b2": (1, 1)}
        return ({k: rng.normal(size=s) for k, s in shapes.items()}, {k: rng.normal(size=s) for k, s in shapes.items()})

    with check.part(1, "the new parameters are params - lr * grads"):
        for seed, H, d, lr in [(11, 3, 2, 0.1), (12, 5, 4, 2.5), (13, 1, 3, 0.03)]:
            params_, grads_ = update_case(seed, H, d)
            new_ = check.call(student.update_params, {k: v.copy() for k, v in params_.items()},
                              {k: v.copy() for k, v in grads_.items()}, lr)
            if not isinstance(new_, dict) or set(new_) != set(params_):
                raise Wrong("update_params should return a dict with the keys W1, b1, W2, b2")
            for k in params_:
                hint = first_match(new_[k], [
                    ("this climbs the loss: subtract lr * grads, do not add", params_[k] + lr * grads_[k]),
                    ("the learning rate is missing: multiply the gradient by lr", params_[k] - grads_[k]),
                    ("divide by nothing: the step is lr * grads", params_[k] - grads_[k] / lr),
                ])
                expect_close(new_[k], params_[k] - lr * grads_[k], f"the updated {k}", hint=hint, tol=1e-9)
    with check.part(1, "a new dict, with params and grads left unchanged"):
        params_, grads_ = update_case(14, 4, 2)
        params_in, grads_in = {k: v.copy() for k, v in params_.items()}, {k: v.copy() for k, v in grads_.items()}
        check.call(student.update_params, params_in, grads_in, 0.5)
        for k in params_:
            expect_unchanged(params_[k], params_in[k], f"params[{k!r}]")
            expect_unchanged(grads_[k], grads_in[k], f"grads[{k!r}]")


@rule('test_bce_loss', points=2)
def grade_bce_loss(student, check):
    with check.part(1, "the mean cross-entropy for predictions inside (0, 1)"):
        for seed, shape in [(21, (5, 1)), (22, (12, 1)), (23, (1, 1)), (24, (4, 3))]:
            rng = np.random.default_rng(seed)
            y_ = rng.integers(0, 2, size=shape).astype(float)
            y_hat_ = rng.uniform(0.02, 0.98, size=shape)
            y_in, y_hat_in = y_.copy(), y_hat_.copy()
            actual = expect_float(check.call(student.bce_loss, y_in, y_hat_in), "bce_loss")
            expect_unchanged(y_hat_, y_hat_in, "y_hat")
            expected = ref.bce_loss(y_, y_hat_)
            terms = y_ * np.log(y_hat_) + (1 - y_) * np.log(1 - y_hat_)
            hint = first_match(np.array([actual]), [
                ("looks like a sum: take the mean over all elements", np.array([expected * y_.size])),
                ("the minus sign is missing: log of a probability is negative, the loss is positive", np.array([-expected])),
                ("use the natural logarithm np.log, not log10 or log2", np.array([expected / np.log(10)])),
                ("use the natural logarithm np.log, not log10 or log2", np.array([expected / np.log(2)])),
                ("the (1 - y) * log(1 - y_hat) term is missing", np.array([-np.mean(y_ * np.log(y_hat_))])),
                ("looks like the mean over rows only: take the mean over all elements",
                 np.array([-np.mean(np.sum(terms, axis=1))])),
            ])
            expect_close(actual, expected, f"bce_loss for y of shape {shape}", hint=hint, tol=1e-7)
    with check.part(1, "finite (and right) when predictions are exactly 0 or 1"):
        y_ = np.array([[1.0], [0.0], [1.0], [0.0]])
        perfect = expect_float(check.call(student.bce_loss, y_.copy(), y_.copy()), "bce_loss for perfect predictions")
        if not 0 <= perfect < 1e-6:
            raise Wrong(f"bce_loss is {perfect:.3g} for predictions exactly equal to the targets; it should be about 0")
        wrong = expect_float(check.call(student.bce_loss, y_.copy(), 1 - y_), "bce_loss for predictions exactly 0 or 1")
        nearly = ref.bce_loss(y_, np.abs(1 - y_ - 0.01))
        if not wrong >= nearly:
            raise Wrong("bce_loss for predictions exactly wrong (0 for 1, 1 for 0) should be large, at least the "
                        "loss of predictions 0.01 from wrong: clip y_hat to [1e-12, 1 - 1e-12]")


@rule('test_bce_loss_grad', points=2)
def grade_bce_loss_grad(student, check):
    def graded_bce_grad(shape, seed):
        rng = np.random.default_rng(seed)
        y_ = rng.integers(0, 2, size=shape).astype(float)
        y_hat_ = rng.uniform(0.05, 0.95, size=shape)
        y_in, y_hat_in = y_.copy(), y_hat_.copy()
        actual = check.call(student.bce_loss_grad, y_in, y_hat_in)
        expect_unchanged(y_, y_in, "y")
        expect_unchanged(y_hat_, y_hat_in, "y_hat")
        right = ref.bce_loss_grad(y_, y_hat_)
        hint = scale_hint(actual, right, y_.size, "the gradient") or first_match(actual, [
            ("this is the gradient with respect to z (after the sigmoid); for y_hat divide by y_hat * (1 - y_hat)",
             (y_hat_ - y_) / y_.size),
            ("the (1 - y) / (1 - y_hat) term is missing", -y_ / y_hat_ / y_.size),
            ("divide by the number of elements y.size, not by the number of rows", right * shape[1]),
        ])
        expect_gradient(actual, lambda u: ref.bce_loss(y_, u), y_hat_.copy(),
                        f"bce_loss_grad for y of shape {shape}", hint=hint)

    with check.part(1, "gradient for a column of targets, several batch sizes"):
        for seed, n in [(31, 5), (32, 9), (33, 1)]:
            graded_bce_grad((n, 1), seed)
    with check.part(1, "several columns, and finite when predictions are exactly 0 or 1"):
        graded_bce_grad((4, 3), 34)
        y_ = np.array([[1.0], [0.0], [1.0], [0.0]])
        for y_hat_ in (y_.copy(), 1 - y_):
            expect_array(check.call(student.bce_loss_grad, y_.copy(), y_hat_), "bce_loss_grad at exact 0s and 1s", (4, 1))


# train is graded on its own: every helper it may call is answered by the reference
@rule('test_train', points=4, lend=["sigmoid", "init_params", "linear", "forward", "mse_loss", "sigmoid_derivative",
                                    "mse_loss_grad", "backward", "update_params", "bce_loss", "bce_loss_grad", "predict"])
def grade_train(student, check):
    X, y = data.xor()

    def train_case(seed, n=6, d=3):
        rng = np.random.default_rng(seed)
        return rng.normal(size=(n, d)), rng.integers(0, 2, size=(n, 1)).astype(float)

    def graded_train(X_, y_, n_hidden, lr, epochs, seed, loss="mse"):
        out_ = check.call(student.train, X_.copy(), y_.copy(), n_hidden, lr, epochs, seed=seed, loss=loss)
        if not isinstance(out_, tuple) or len(out_) != 2 or not isinstance(out_[0], dict):
            raise Wrong("train should return a pair (params, losses) with params a dict")
        params_, losses_ = out_
        if np.ndim(losses_) != 1 or len(losses_) != epochs:
            raise Wrong(f"train(..., epochs={epochs}) returned {np.shape(losses_)} losses; it should return a list of {epochs} floats")
        return params_, [expect_float(value, "each loss") for value in losses_]

    def loss_hint(losses_, X_, y_, n_hidden, lr, seed, loss):
        """Name the likely mistake when the recorded losses differ from the reference's."""
        _, ref_losses = ref.train(X_, y_, n_hidden, lr, len(losses_) + 1, seed=seed, loss=loss)
        if np.allclose(losses_, ref_losses[1:], rtol=1e-7, atol=0):
            return "the losses are recorded after each update: record the loss of the current params before updating them"
        if len(losses_) > 1 and losses_[-1] > losses_[0] and ref_losses[-1] < ref_losses[0]:
            return "the loss goes up: step against the gradient, params - lr * grads"
        if np.isclose(losses_[0], ref_losses[0], rtol=1e-7, atol=0):
            if loss == "bce":
                return "the first loss is right, the steps are not: pass loss_grad=bce_loss_grad to backward"
            return "the first loss is right, the steps are not: params = update_params(params, grads, lr) every epoch"
        return ("start from init_params(X.shape[1], n_hidden, 1, np.random.default_rng(seed)), "
                "not the global np.random functions")

    with check.part(1, "returns (params, losses) with one float per epoch and params of the right shapes"):
        for seed, (n, d, H, epochs) in enumerate([(6, 3, 3, 5), (4, 2, 5, 1), (9, 4, 1, 12)]):
            X_, y_ = train_case(40 + seed, n, d)
            params_, _ = graded_train(X_, y_, H, 0.5, epochs, seed)
            for name, shape in [("W1", (d, H)), ("b1", (1, H)), ("W2", (H, 1)), ("b2", (1, 1))]:
                if name not in params_:
                    raise Wrong(f"the params returned by train have no key {name!r}")
                expect_array(params_[name], f"the trained {name}", shape)
    with check.part(1, "losses[0] is the loss of init_params(..., np.random.default_rng(seed))"):
        X_, y_ = train_case(50)
        for seed in (5, 17):
            _, losses_ = graded_train(X_, y_, 3, 0.5, 3, seed)
            start = ref.init_params(X_.shape[1], 3, 1, np.random.default_rng(seed))
            expect_close(losses_[0], ref.mse_loss(y_, ref.forward(X_, start)[0]), f"losses[0] with seed={seed}",
                         hint=loss_hint(losses_, X_, y_, 3, 0.5, seed, "mse"), tol=1e-7)
    with check.part(1, "loss='mse': the losses and final params of gradient descent"):
        for seed, (X_, y_, H, lr, epochs) in enumerate([(*train_case(60), 3, 0.5, 8), (X, y, 4, 2.0, 30)]):
            params_, losses_ = graded_train(X_, y_, H, lr, epochs, seed)
            ref_params, ref_losses = ref.train(X_, y_, H, lr, epochs, seed=seed)
            hint = loss_hint(losses_, X_, y_, H, lr, seed, "mse")
            expect_close(np.array(losses_), np.array(ref_losses), "the list of losses", hint=hint, tol=1e-6)
            for name in ref_params:
                expect_close(params_.get(name), ref_params[name], f"the trained {name}",
                             hint="apply exactly `epochs` updates params - lr * grads", tol=1e-6)
    with check.part(1, "loss='bce': cross-entropy losses and its gradient in backward"):
        for seed, (X_, y_, H, lr, epochs) in enumerate([(*train_case(70), 3, 0.5, 8), (X, y, 4, 2.0, 30)]):
            params_, losses_ = graded_train(X_, y_, H, lr, epochs, seed, loss="bce")
            ref_params, ref_losses = ref.train(X_, y_, H, lr, epochs, seed=seed, loss="bce")
            mse_params, mse_losses = ref.train(X_, y_, H, lr, epochs, seed=seed, loss="mse")
            if np.allclose(losses_, mse_losses, rtol=1e-7, atol=0):
                raise Wrong("with loss='bce' the losses recorded are squared errors: use bce_loss")
            expect_close(np.array(losses_), np.array(ref_losses), "the list of bce losses",
                         hint=loss_hint(losses_, X_, y_, H, lr, seed, "bce"), tol=1e-6)
            for name in ref_params:
                hint = ("with loss='bce' pass loss_grad=bce_loss_grad to backward"
                        if name in params_ and np.allclose(params_[name], mse_params[name], rtol=1e-7, atol=0) else "")
                expect_close(params_.get(name), ref_params[name], f"the trained {name} with loss='bce'", hint=hint, tol=1e-6)


@rule('test_predict', points=2)
def grade_predict(student, check):
    def expect_labels(actual, expected, what):
        if not isinstance(actual, np.ndarray):
            raise Wrong(f"predict should return a numpy array, but it returned a {type(actual).__name__}")
        if actual.shape != expected.shape:
            raise Wrong(f"predict returned shape {actual.shape}; it should be {expected.shape}, one column (n, 1)")
        if actual.dtype.kind == "b":
            raise Wrong("predict returned booleans: convert them to numbers with .astype(float)")
        if actual.dtype.kind not in "iuf":
            raise Wrong(f"predict returned dtype {actual.dtype}; it should return 0.0 and 1.0 as floats")
        wrong = int(np.sum(actual != expected))
        if wrong:
            hint = ("predict should return labels 0 and 1, not probabilities: compare y_hat with 0.5"
                    if not np.all(np.isin(actual, (0, 1))) else "1 where y_hat >= 0.5, 0 where y_hat < 0.5")
            raise Wrong(f"{wrong} of {expected.size} labels {what} are wrong - {hint}")

    with check.part(1, "labels of random networks: shape (n, 1), 0/1 numbers"):
        for seed, (n, d, H) in enumerate([(7, 2, 3), (12, 4, 5), (1, 3, 2)]):
            rng = np.random.default_rng(80 + seed)
            X_ = rng.normal(size=(n, d))
            params_ = ref.init_params(d, H, 1, rng)
            params_["W2"] *= 4
            expect_labels(check.call(student.predict, X_.copy(), params_), ref.predict(X_, params_), "of a random network")
    with check.part(1, "the threshold: exactly 0.5 gives 1, just below gives 0"):
        X_ = np.random.default_rng(90).normal(size=(6, 2))
        for b2 in (0.0, -1e-3, 1e-3):
            params_ = {"W1": np.ones((2, 3)), "b1": np.zeros((1, 3)), "W2": np.zeros((3, 1)), "b2": np.array([[b2]])}
            expect_labels(check.call(student.predict, X_.copy(), params_), ref.predict(X_, params_),
                          f"for outputs {'exactly at' if b2 == 0 else 'next to'} 0.5")
