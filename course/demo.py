"""`python -m course demo`: release the course, simulate a class, grade it, show the grades.

The class (deterministic: the same every run) is built from the release notebooks
filled with the reference solutions of source/, then changed the way real students
change them:

  correct          every solution as in source/
  different        correct, written another way (np.dot, tanh, loops, a - a**2, ...)
  mistake:<what>   one typical error (derivative at the pre-activation, missing 1/n,
                   a flipped sign, sum instead of mean, no max shift in softmax, ...)
  unfinished       only the first solution cells done, the rest left as stubs
  colab            correct or with a mistake, saved by Colab (nbformat 4.0, colab
                   metadata, widgets without state), renamed ("Copy of forward.ipynb",
                   "forward (1).ipynb", "forward.ipynb.json"); some lost their nbgrader metadata
  infinite loop    one function never returns (stopped by the per-cell time limit)
  damaged          a file cut off in the middle of the download

Every student who got that far also answers the notebook's written question (a markdown
cell graded by hand): the complete ones in a few sentences of their own, the ones with a
mistake more vaguely; the unfinished leave it blank. After grading, those answers wait in
nbgrader's formgrader as "needs manual grade" and count in the totals once graded.

Each student hands in two of the assignments (all five are represented) in one
.zip as an LMS would give it (``<student>_<file name>``), graded with
``course grade --from`` into demo/ (git-ignored; its own gradebook, so the course's
real gradebook is never touched).
"""
import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat

from .authoring import notebooks
from .grading import grade, report
from .layout import ASSIGNMENTS, ROOT, notebook_path, present_assignments
from .authoring.release import generate

NAMES = ["ada", "alan", "barbara", "claude", "dijkstra", "edsger", "emmy", "fei_fei", "geoffrey", "grace",
         "hedy", "ian", "judea", "katherine", "ken", "leslie", "linus", "margaret", "marvin", "niklaus",
         "radia", "richard", "rosalind", "shafi", "sophie", "tim", "tu_youyou", "vint", "yann", "yoshua",
         "yukihiro", "zhang_heng", "andrej", "fran", "guido", "hal"]

# Wrong versions of graded functions: appended after the student's code, they replace it.
MISTAKES = {
    "sigmoid": ("exp(z) instead of exp(-z)", "def sigmoid(z):\n    return 1 / (1 + np.exp(z))"),
    "init_params": ("weights not scaled by 1/sqrt(fan_in)",
                    "def init_params(n_in, n_hidden, n_out, rng):\n"
                    "    return {'W1': rng.normal(0, 1, (n_in, n_hidden)), 'b1': np.zeros((1, n_hidden)),\n"
                    "            'W2': rng.normal(0, 1, (n_hidden, n_out)), 'b2': np.zeros((1, n_out))}"),
    "linear": ("bias forgotten", "def linear(X, W, b):\n    return X @ W"),
    "forward": ("no sigmoid on the output", "def forward(X, params):\n"
                                            "    Z1 = X @ params['W1'] + params['b1']\n    A1 = 1 / (1 + np.exp(-Z1))\n"
                                            "    Z2 = A1 @ params['W2'] + params['b2']\n"
                                            "    return Z2, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': Z2}"),
    "mse_loss": ("sum instead of mean", "def mse_loss(y, y_hat):\n    return float(np.sum((y_hat - y) ** 2))"),
    "sigmoid_derivative": ("derivative taken at the pre-activation",
                           "def sigmoid_derivative(a):\n    s = 1 / (1 + np.exp(-a))\n    return s * (1 - s)"),
    "mse_loss_grad": ("missing 1/n", "def mse_loss_grad(y, y_hat):\n    return 2.0 * (y_hat - y)"),
    "backward": ("hidden sigmoid derivative forgotten",
                 "def backward(X, y, params, cache):\n"
                 "    A1, A2 = cache['A1'], cache['A2']\n"
                 "    dZ2 = 2.0 * (A2 - y) / y.size * A2 * (1 - A2)\n"
                 "    dZ1 = dZ2 @ params['W2'].T\n"
                 "    return {'W1': X.T @ dZ1, 'b1': dZ1.sum(axis=0, keepdims=True),\n"
                 "            'W2': A1.T @ dZ2, 'b2': dZ2.sum(axis=0, keepdims=True)}"),
    "numerical_gradient": ("one-sided difference",
                           "def numerical_gradient(f, x, eps=1e-5):\n"
                           "    grad = np.zeros_like(x, dtype=float)\n"
                           "    base = f(x)\n"
                           "    for i in np.ndindex(x.shape):\n"
                           "        old = x[i]\n        x[i] = old + eps\n"
                           "        grad[i] = (f(x) - base) / eps\n        x[i] = old\n"
                           "    return grad"),
    "update_params": ("flipped sign", "def update_params(params, grads, lr):\n"
                                      "    return {k: params[k] + lr * grads[k] for k in params}"),
    "bce_loss": ("log of 0", "def bce_loss(y, y_hat):\n"
                             "    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))"),
    "bce_loss_grad": ("missing 1/n", "def bce_loss_grad(y, y_hat):\n"
                                     "    p = np.clip(y_hat, 1e-12, 1 - 1e-12)\n    return (p - y) / (p * (1 - p))"),
    "one_hot": ("sized from the labels", "def one_hot(labels, n_classes):\n"
                                         "    labels = np.asarray(labels).ravel().astype(int)\n"
                                         "    Y = np.zeros((labels.size, labels.max() + 1))\n"
                                         "    Y[np.arange(labels.size), labels] = 1.0\n    return Y"),
    "softmax": ("no max shift", "def softmax(Z):\n    e = np.exp(Z)\n    return e / e.sum(axis=1, keepdims=True)"),
    "cross_entropy": ("summed instead of averaged",
                      "def cross_entropy(Y, P, eps=1e-12):\n"
                      "    return float(-np.sum(Y * np.log(np.clip(P, eps, 1.0))))"),
    "softmax_cross_entropy_grad": ("missing 1/n", "def softmax_cross_entropy_grad(Y, P):\n    return P - Y"),
    "accuracy": ("compares with one-hot rows", "def accuracy(labels, P):\n"
                                               "    return float(np.mean(np.argmax(P, axis=0)[:1] == labels))"),
}

# Correct versions written another way.
ALTERNATIVES = {
    "sigmoid": "def sigmoid(z):\n    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))",
    "linear": "def linear(X, W, b):\n    return np.dot(X, W) + b",
    "mse_loss": "def mse_loss(y, y_hat):\n    diff = y_hat - y\n    return float(np.square(diff).mean())",
    "sigmoid_derivative": "def sigmoid_derivative(a):\n    return a - a ** 2",
    "mse_loss_grad": "def mse_loss_grad(y, y_hat):\n    return (y_hat - y) * (2.0 / y.size)",
    "update_params": "def update_params(params, grads, lr):\n"
                     "    new = {}\n    for name, value in params.items():\n"
                     "        new[name] = value - lr * grads[name]\n    return new",
    "softmax": "def softmax(Z):\n    shifted = Z - np.max(Z, axis=1, keepdims=True)\n"
               "    e = np.exp(shifted)\n    return e / np.sum(e, axis=1, keepdims=True)",
    "accuracy": "def accuracy(labels, P):\n    labels = np.asarray(labels).ravel()\n"
                "    return float(sum(int(np.argmax(row) == label) for row, label in zip(P, labels)) / len(labels))",
}

COLAB_NAMES = ["Copy of {}.ipynb", "{} (1).ipynb", "{}.ipynb.json"]
VAGUE_ANSWER = "I think it is because of the gradients, but I am not sure how."


def written_answer(source_nb, grade_id, kind):
    """What a student of this kind writes in a written-answer cell (None: left blank).

    The complete ones paraphrase the model answer's first sentence; a student with a mistake
    answers vaguely.
    """
    if kind in ("unfinished", "infinite_loop", "damaged"):
        return None
    if "mistake" in kind:
        return VAGUE_ANSWER
    model = next(c.source for c in source_nb.cells if notebooks.grade_id(c) == grade_id)
    plain = re.sub(r"^A model answer[^:]*:\s*", "", re.sub(r"[*_]", "", model).strip())
    first = re.split(r"(?<=\.)\s", plain, maxsplit=1)[0]
    return f"In my own words: {first[0].lower()}{first[1:]}"


def answer_written_questions(nb, source_nb, kind):
    """Fill the markdown solution cells of a filled release notebook; returns how many were answered."""
    answered = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown" and notebooks.is_solution(cell):
            text = written_answer(source_nb, notebooks.grade_id(cell), kind)
            if text:
                cell.source = text
                answered += 1
    return answered


def defined_functions(code):
    return [line.split("(")[0][4:].strip() for line in code.splitlines() if line.startswith("def ")]


def profiles(count):
    """The class: (student, kind) pairs, a realistic mix, the same every time."""
    kinds = (["correct"] * 6 + ["different"] * 3 + ["mistake"] * 13 + ["unfinished"] * 3
             + ["colab", "colab_stripped", "colab_mistake", "colab_stripped_mistake"]
             + ["infinite_loop", "damaged"])
    return [(NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i)), kinds[i % len(kinds)])
            for i in range(count)]


def submission(kind, assignment, source_nb, release_nb, variant):
    """(file name, bytes, what was done) one student of this kind hands in for an assignment.

    variant picks which mistake (cycling through the assignment's functions) and which
    Colab file name.
    """
    name = ASSIGNMENTS[assignment]
    codes = notebooks.reference_solutions(source_nb)
    order = list(codes)
    functions = {f: gid for gid, code in codes.items() for f in defined_functions(code)}
    filename, what = f"{name}.ipynb", kind
    if kind == "different":
        changed = [f for f in ALTERNATIVES if f in functions]
        for function in changed:
            codes[functions[function]] += "\n\n\n" + ALTERNATIVES[function]
        what = "correct, written differently: " + (", ".join(changed) or "(as given)")
    elif kind.endswith("mistake"):
        present = [f for f in MISTAKES if f in functions]
        if present:
            function = present[variant % len(present)]
            codes[functions[function]] += "\n\n\n" + MISTAKES[function][1]
            what = f"{kind}: {function}, {MISTAKES[function][0]}"
    elif kind == "unfinished":
        for gid in order[len(order) // 2:]:
            del codes[gid]
        what = f"unfinished: {len(order) - len(order) // 2} of {len(order)} solutions left as stubs"
    elif kind == "infinite_loop":
        function = defined_functions(codes[order[-1]])[-1]
        codes[order[-1]] += f"\n\n\ndef {function}(*args, **kwargs):\n    while True:\n        pass"
        what = f"infinite loop in {function}"
    nb = notebooks.fill_solutions(release_nb, codes)
    if answer_written_questions(nb, source_nb, kind):
        what += "; answered the written question"
    text = nbformat.writes(nb)
    if kind.startswith("colab"):
        filename = COLAB_NAMES[variant % len(COLAB_NAMES)].format(name)
        text = json.dumps(colab_saved(json.loads(text), strip_nbgrader="stripped" in kind), indent=2)
        what += f", saved by Colab as {filename!r}"
    if kind == "damaged":
        text = text[: len(text) // 2]
        what = "damaged: the download was cut off halfway"
    return filename, text.encode("utf-8"), what


def colab_saved(nb, strip_nbgrader=False):
    """A notebook as Google Colab saves it (plain JSON in, plain JSON out)."""
    nb["nbformat_minor"] = 0
    nb["metadata"] = {"colab": {"provenance": [], "toc_visible": True},
                      "kernelspec": {"name": "python3", "display_name": "Python 3"},
                      "language_info": {"name": "python"},
                      "widgets": {"application/vnd.jupyter.widget-state+json": {
                          "9f2c6e0d1b7a4c3e8f5a2b1c0d9e8f7a": {
                              "model_module": "@jupyter-widgets/controls", "model_name": "FloatSliderModel",
                              "model_module_version": "1.5.0", "state": {"value": 0.5}}}}}
    slider = {"output_type": "display_data", "metadata": {}, "data": {
        "application/vnd.jupyter.widget-view+json": {"model_id": "9f2c6e0d1b7a4c3e8f5a2b1c0d9e8f7a",
                                                     "version_major": 2, "version_minor": 0},
        "text/plain": "FloatSlider(value=0.5)"}}
    code_cells = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    if code_cells:  # the student moved a slider: its view is saved in the outputs
        code_cells[0]["outputs"] = [slider]
    for index, cell in enumerate(nb["cells"]):
        colab_id = f"c{index:03d}Xk{(index * 7919) % 10007:05d}"
        cell.pop("id", None)
        meta = {"id": colab_id}
        if not strip_nbgrader and "nbgrader" in cell.get("metadata", {}):
            meta["nbgrader"] = cell["metadata"]["nbgrader"]
        if cell["cell_type"] == "code":
            meta["colab"] = {"base_uri": "https://localhost:8080/"}
            meta["executionInfo"] = {"status": "ok", "timestamp": 1700000000000 + index, "user_tz": -60,
                                     "elapsed": 12, "user": {"displayName": "Student", "userId": "0"}}
            meta["outputId"] = f"{index:04d}aaaa-bbbb-cccc-dddd-eeeeffff0000"
        cell["metadata"] = meta
    return nb


def build_class(course, students, out=print):
    """Write the simulated class as an LMS-style .zip (and class.csv: who did what) in the demo course."""
    assignments = present_assignments(course)
    archive_path = course / "lms_download.zip"
    buffer, roster, counters = io.BytesIO(), [("student", "assignment", "simulated submission")], {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (student, kind) in enumerate(profiles(students)):
            mine = {assignments[index % len(assignments)], assignments[(index + 2) % len(assignments)]}
            for assignment in sorted(mine):
                source_nb = notebooks.read(notebook_path("source", assignment, course))
                release_nb = notebooks.read(notebook_path("release", assignment, course))
                key = "colab" if kind.startswith("colab") else (assignment, kind)  # Colab names cycle class-wide
                variant = counters[key] = counters.get(key, -1) + 1
                filename, data, what = submission(kind, assignment, source_nb, release_nb, variant)
                info = zipfile.ZipInfo(f"{student}_{filename}", date_time=(2026, 11, 20, 23, 59, 0))
                archive.writestr(info, data)
                roster.append((student, assignment, what))
    archive_path.write_bytes(buffer.getvalue())
    with open(course / "class.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(roster)
    out(f"simulated class: {students} students, {len(roster) - 1} notebooks in {archive_path} "
        f"(who did what: {course / 'class.csv'})")
    return archive_path


def prepare_course(target, source_root=ROOT):
    """demo/: a fresh course with this repository's config and source notebooks, release generated."""
    target = Path(target)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(Path(source_root) / "nbgrader_config.py", target / "nbgrader_config.py")
    for assignment in present_assignments(source_root):
        shutil.copytree(Path(source_root) / "source" / assignment, target / "source" / assignment)
        released = notebook_path("release", assignment, source_root)
        if released.exists():  # what students were given (built by `course release`)
            shutil.copytree(released.parent, target / "release" / assignment)
        else:
            generate(assignment, target)
    return target


UNCONFINED = ("bubblewrap (bwrap) is not installed: the demo grades its own simulated class unconfined "
              "(real students need the sandbox: apt-get install bubblewrap)")


def main(students=32, workers=None, sandbox=True, target=None, build_release=True, timeout=10, out=print):
    """The README's main job. Returns the grade Records.

    Without bubblewrap the demo says so in one line and runs unconfined: its class is ours
    (`course grade` on real students refuses instead, unless told --no-sandbox).
    """
    from .grading import sandbox as confinement
    if sandbox and not confinement.available():
        out(UNCONFINED)
        sandbox = False
    if build_release:
        from .authoring.release import release
        release(out=out)
    course = prepare_course(target or ROOT / "demo")
    archive = build_class(course, students, out)
    records = grade.main(from_path=archive, workers=workers, timeout=timeout, sandbox=sandbox,
                         root=course, out=out)
    db_url, _ = grade.course_settings(course)
    graded = sorted({r.assignment for r in records})
    out("\n" + report.grades_table(db_url, graded) + "\n")
    out(f"report:    {course / 'grading' / 'report.html'}")
    out(f"grades:    {course / 'grading' / 'grades.csv'} (per item: {course / 'grading' / 'items.csv'})")
    out(f"feedback:  {course / 'feedback'}/<student>/<assignment>/*.html")
    return records
