"""5. Learning quality with the notebooks' own default settings, over many seeds.

The settings are read from the notebooks, not repeated here: the reference-filled
release notebook runs in this process and the first call its own demo cells make to
`train` (04) or `train_softmax` (05) is recorded — data, hidden units, learning rate,
epochs, loss. Then course.judge.reference trains with those settings for each seed.

XOR: fraction of seeds whose trained network gets all four points right, and the
median number of epochs after which all four are right and stay right (tracked by a
loop built from the reference's own steps and checked equal to reference.train).
Iris: test accuracy over seeds, on the notebook's own test split.
"""
import numpy as np

from course.judge import reference

from .common import Missing, Table, median

TITLE = "5. Learning quality (course.judge.reference with each notebook's default settings)"
XOR_TARGET = 0.95
IRIS_TARGET = 0.95


def notebook_settings(ctx, assignment, function):
    """(arguments of the first call the notebook's own demo cells make to `function`, its cell, namespace)."""
    run = ctx.notebook_run(assignment)
    demo_calls = [(index, arguments) for index, graded, arguments in run.calls[function] if not graded]
    if not demo_calls:
        raise Missing(f"the notebook's own cells never call {function}() outside the graded cells")
    index, arguments = demo_calls[0]
    return arguments, index, run.namespace


def train_tracking(X, y, n_hidden, lr, epochs, seed=0, loss="mse"):
    """reference.train, step by step: (params, epochs after which XOR is solved for good, or None)."""
    loss_grad = {"mse": reference.mse_loss_grad, "bce": reference.bce_loss_grad}[loss]
    params = reference.init_params(X.shape[1], n_hidden, y.shape[1], np.random.default_rng(seed))
    solved_since = None
    for epoch in range(epochs):
        y_hat, cache = reference.forward(X, params)
        right = bool(np.all((y_hat >= 0.5) == (y >= 0.5)))
        solved_since = (solved_since if solved_since is not None else epoch) if right else None
        params = reference.update_params(params, reference.backward(X, y, params, cache, loss_grad), lr)
    final_right = bool(np.all(reference.predict(X, params) == y))
    if final_right and solved_since is None:
        solved_since = epochs
    return params, solved_since if final_right else None


def xor_row(table, ctx):
    call, cell, _ = notebook_settings(ctx, "04_optimization", "train")
    X, y = np.asarray(call["X"], float), np.asarray(call["y"], float)
    settings = {k: call[k] for k in ("n_hidden", "lr", "epochs") if k in call}
    settings["loss"] = call.get("loss", "mse")
    solved, epochs_needed, mismatches = 0, [], 0
    for seed in range(ctx.sizes.xor_seeds):
        params, _ = reference.train(X, y, seed=seed, **settings)
        tracked, since = train_tracking(X, y, seed=seed, **settings)
        mismatches += not all(np.array_equal(params[k], tracked[k]) for k in params)
        if np.all(reference.predict(X, params) == y):
            solved += 1
            epochs_needed.append(since)
    fraction = solved / ctx.sizes.xor_seeds
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    met = table.verdict("XOR solved", fraction >= XOR_TARGET, f"{fraction:.0%} of seeds", f"≥ {XOR_TARGET:.0%}",
                        why=f"{ctx.sizes.xor_seeds - solved} seed(s) end with a wrong prediction "
                            f"after {settings.get('epochs')} epochs")
    table.add("04 XOR: all four right", f"{shown} (release cell {cell})", ctx.sizes.xor_seeds,
              f"{fraction:.0%} solved; median {median(epochs_needed):g} epochs to solve" if epochs_needed
              else f"{fraction:.0%} solved", f"≥ {XOR_TARGET:.0%} of seeds", met)
    if mismatches:
        table.notes.append(f"the epoch-tracking loop disagreed with course.judge.reference.train on {mismatches} seed(s): "
                           "its epoch counts are not trustworthy")


def name_of(namespace, value):
    """The notebook variable that holds exactly this object (or None)."""
    return next((name for name, v in namespace.items() if v is value and not name.startswith("_")), None)


def find_test_split(namespace, X_train, Y_train):
    """(X_test, test labels, their names): the test counterparts of the arrays the notebook trained on.

    X_test is the variable named like the training inputs with 'train' -> 'test' (Xs_train ->
    Xs_test, so it is standardized the same way); the labels are that of the one-hot targets
    or, failing that, an integer array named like labels_test / y_test with as many rows.
    """
    x_name = name_of(namespace, X_train)
    test_x = x_name and x_name.replace("train", "test")
    if not (test_x and isinstance(namespace.get(test_x), np.ndarray)):
        raise Missing(f"cannot find the test inputs: the training inputs are {x_name!r}, "
                      "and no array of that name with 'train' -> 'test' exists")
    X_test = namespace[test_x]
    y_name = name_of(namespace, Y_train)
    candidates = [y_name.replace("train", "test")] if y_name else []
    candidates += [n for n in ("labels_test", "y_test", "Y_test", "test_labels")]
    for name in candidates:
        value = namespace.get(name)
        if isinstance(value, np.ndarray) and value.shape[0] == X_test.shape[0]:
            labels = value.argmax(axis=1) if value.ndim == 2 and value.shape[1] > 1 else value.ravel()
            return X_test, labels.astype(int), f"{test_x}, {name}"
    raise Missing(f"cannot find the test labels for {test_x} (looked for {', '.join(candidates)})")


def iris_row(table, ctx):
    call, cell, namespace = notebook_settings(ctx, "05_iris_softmax", "train_softmax")
    X, Y = np.asarray(call["X"], float), np.asarray(call["Y"], float)
    settings = {k: call[k] for k in ("n_hidden", "lr", "epochs")}
    X_test, labels, names = find_test_split(namespace, call["X"], call["Y"])
    accuracies = []
    for seed in range(ctx.sizes.iris_seeds):
        params, _ = reference.train_softmax(X, Y, seed=seed, **settings)
        accuracies.append(reference.accuracy(labels, reference.forward_softmax(X_test, params)[0]))
    typical = median(accuracies)
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    met = table.verdict("iris test accuracy", typical >= IRIS_TARGET, f"median {typical:.1%}",
                        f"median ≥ {IRIS_TARGET:.0%}", why=f"min {min(accuracies):.1%} on {len(labels)} test flowers")
    table.add("05 iris: test accuracy", f"{shown} (release cell {cell}; test split {names}, {len(labels)} rows)",
              ctx.sizes.iris_seeds, f"min {min(accuracies):.1%}, median {typical:.1%}, max {max(accuracies):.1%}",
              f"median ≥ {IRIS_TARGET:.0%}", met)


def run(ctx):
    table = Table(TITLE, ["task", "settings (read from the notebook)", "seeds", "result", "target", "met"])
    for label, row in (("04 XOR", xor_row), ("05 iris", iris_row)):
        try:
            row(table, ctx)
        except Missing as why:
            table.add_missing(label, why)
        except RuntimeError as error:
            table.add(label, "FAILED", "", str(error)[:150], "", "NO")
            table.missed.append(f"learning quality, {label}: the notebook did not run ({error})")
    return table
