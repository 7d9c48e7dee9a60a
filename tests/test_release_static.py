"""What can be read off the release notebooks without running them.

- Every widget callback that plots ends with `plt.show()`, or with the `show(...)` of the
  LiveFigure it redraws (course/authoring/snippets/live_figure.py): Colab stacks a new figure
  under the old ones on every slider move otherwise. Callbacks are the functions passed to `interact`,
  `interactive`, `interact_manual`, `interactive_output`, used as `@interact...` decorators, or
  registered with a widget's `.observe`/`.on_click`/`.on_submit`; a call of a notebook function
  that returns one of its own functions (`interact(sigmoid_picture(), ...)`) names that function.
- The "Open in Colab" badge points at the notebook's own path in the repository.
"""
import ast
import re
from urllib.parse import urlparse

import pytest

from course.authoring import notebooks
from course.layout import ASSIGNMENTS, ROOT, nbgrader_settings, notebook_path
from course.authoring.release import colab_url

INTERACT_CALLS = {"interact", "interactive", "interact_manual", "interactive_output"}
OBSERVER_METHODS = {"observe", "on_click", "on_submit"}
# methods that draw on a figure or axes (plt.<anything> counts too)
DRAWING = {"plot", "scatter", "imshow", "contour", "contourf", "pcolormesh", "hist", "bar", "barh",
           "fill_between", "matshow", "errorbar", "step", "stem", "pie", "subplots", "figure",
           "axhline", "axvline", "text", "annotate", "semilogy", "loglog", "quiver", "heatmap"}


def release_notebook(assignment):
    path = notebook_path("release", assignment)
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: write source/{assignment} and run "
                    f"`python -m course release {assignment}`")
    return notebooks.read(path)


# --- plt.show() at the end of every plotting callback ----------------------------------------------

def python_of(nb):
    """The notebook's code cells as one module (magic and shell lines blanked), with each
    statement's cell index kept in `cell_of`."""
    body, cell_of = [], {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
        tree = ast.parse(code)
        for statement in tree.body:
            cell_of[id(statement)] = index
        body += tree.body
    return ast.Module(body=body, type_ignores=[]), cell_of


def _called_name(call):
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _is_plt_show(statement, live_figures=()):
    """plt.show(), or show(...) of a name bound to a LiveFigure(...)."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    func = statement.value.func
    return (isinstance(func, ast.Attribute) and func.attr == "show"
            and isinstance(func.value, ast.Name) and func.value.id in ("plt", *live_figures))


def callbacks(module):
    """[(how it is registered, callback expression, the statement it is registered in)]."""
    found = []
    for statement in ast.walk(module):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in statement.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
                if name in INTERACT_CALLS:
                    found.append((f"@{name}", ast.Name(id=statement.name), statement))
        if isinstance(statement, ast.Call) and statement.args:
            name = _called_name(statement)
            if name in INTERACT_CALLS or (name in OBSERVER_METHODS and isinstance(statement.func, ast.Attribute)):
                found.append((f"{name}()", statement.args[0], statement))
    return found


class CallbackChecker:
    """Decides, for a callback expression, whether it plots and whether it ends with plt.show()."""

    def __init__(self, module):
        self.functions = {}
        self.live_figures = set()     # names bound to LiveFigure(...): their show() draws the picture
        for node in ast.walk(module):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node          # the last definition wins, as when run
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and _called_name(node.value) == "LiveFigure":
                self.live_figures |= {target.id for target in node.targets if isinstance(target, ast.Name)}

    def resolve(self, expression):
        """The function (def or lambda) an expression names; unwraps functools.partial(f, ...)."""
        if isinstance(expression, ast.Lambda):
            return expression
        if isinstance(expression, ast.Call) and _called_name(expression) == "partial" and expression.args:
            return self.resolve(expression.args[0])
        if isinstance(expression, ast.Name):
            return self.functions.get(expression.id)
        if isinstance(expression, ast.Call) and isinstance(expression.func, ast.Name) \
                and expression.func.id in self.functions:       # a function that makes the callback
            maker = self.functions[expression.func.id]
            returned = [node.value.id for node in maker.body
                        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name)]
            return self.functions.get(returned[-1]) if returned else None
        return None

    def plots(self, function, seen=()):
        """True if the function, or a notebook function it calls, draws with matplotlib."""
        if function is None or id(function) in seen:
            return False
        seen = (*seen, id(function))
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "plt":
                return True
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute) and node.func.attr in DRAWING:
                    return True
                if isinstance(node.func, ast.Name) and self.plots(self.functions.get(node.func.id), seen):
                    return True
        return False

    def ends_with_show(self, function, seen=()):
        """True if the last statement the function runs is plt.show() (directly, in every branch,
        or as a call to a notebook function that itself ends with plt.show())."""
        if function is None or id(function) in seen:
            return False
        if isinstance(function, ast.Lambda):
            body = function.body
            return isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and \
                self.ends_with_show(self.functions.get(body.func.id), (*seen, id(function)))
        return self._block_ends_with_show(function.body, (*seen, id(function)))

    def _block_ends_with_show(self, block, seen):
        statements = [s for s in block if not (isinstance(s, ast.Return) and s.value is None)]
        if not statements:
            return False
        last = statements[-1]
        if _is_plt_show(last, self.live_figures):
            return True
        if isinstance(last, ast.If):
            return self._block_ends_with_show(last.body, seen) and self._block_ends_with_show(last.orelse, seen)
        if isinstance(last, (ast.With, ast.AsyncWith)):
            return self._block_ends_with_show(last.body, seen)
        if isinstance(last, ast.Try):
            return self._block_ends_with_show(last.orelse or last.body, seen)
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and isinstance(last.value.func, ast.Name):
            return self.ends_with_show(self.functions.get(last.value.func.id), seen)
        return False


def plotting_callbacks_without_show(nb):
    """Messages naming each widget callback that plots but does not end with plt.show()."""
    module, cell_of = python_of(nb)
    checker = CallbackChecker(module)
    statement_cell = {}
    for statement in module.body:
        for node in ast.walk(statement):
            statement_cell[id(node)] = cell_of[id(statement)]
    messages = []
    for how, expression, registered_at in callbacks(module):
        where = f"cell {statement_cell.get(id(registered_at), '?')}"
        function = checker.resolve(expression)
        label = ast.unparse(expression)[:60]
        if function is None:
            messages.append(f"{where}: {how} callback {label} is not a function defined in the notebook; "
                            "define it there so that it can be checked")
        elif checker.plots(function) and not checker.ends_with_show(function):
            messages.append(f"{where}: {how} callback {label} plots but does not end with plt.show() "
                            "(Colab stacks a new figure on every slider move without it)")
    return messages


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_plotting_widget_callback_ends_with_plt_show(assignment):
    nb = release_notebook(assignment)
    assert plotting_callbacks_without_show(nb) == []


def _notebook(*sources):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


SETUP = "import matplotlib.pyplot as plt\nfrom ipywidgets import interact, interactive, FloatSlider\n"


@pytest.mark.parametrize("code", [
    "def draw(lr):\n    plt.plot([0, lr])\n\ninteract(draw, lr=(0.1, 1.0))",
    "@interact(lr=(0.1, 1.0))\ndef draw(lr):\n    fig, ax = plt.subplots()\n    ax.plot([0, lr])",
    "def draw(change):\n    plt.plot([0, change['new']])\n    plt.show()\n    print('done')\n\n"
    "slider = FloatSlider()\nslider.observe(draw, names='value')",
    "def draw(lr):\n    if lr > 0.5:\n        plt.plot([0, lr])\n        plt.show()\n    else:\n        plt.plot([lr, 0])\n\n"
    "w = interactive(draw, lr=(0.1, 1.0))",
    "def curve(lr):\n    plt.plot([0, lr])\n\ninteract(lambda lr: curve(lr), lr=(0.1, 1.0))",
    "from functools import partial\ndef draw(lr, epochs):\n    plt.plot([0, lr])\n\n"
    "interact(partial(draw, epochs=3), lr=(0.1, 1.0))",
    "interact(some_module.draw, lr=(0.1, 1.0))",
    "def picture():\n    live = LiveFigure()\n\n"
    "    def draw(lr):\n        live.axes.plot([0, lr])\n    return draw\n\ninteract(picture(), lr=(0.1, 1.0))",
])
def test_a_plotting_callback_without_a_final_plt_show_is_caught(code):
    assert len(plotting_callbacks_without_show(_notebook(SETUP, code))) == 1


@pytest.mark.parametrize("code", [
    "def draw(lr):\n    plt.plot([0, lr])\n    plt.show()\n\ninteract(draw, lr=(0.1, 1.0))",
    "@interact(lr=(0.1, 1.0))\ndef draw(lr):\n    fig, ax = plt.subplots()\n    ax.plot([0, lr])\n    plt.show()",
    "def finish(ax):\n    ax.set_title('loss')\n    plt.show()\n\n"
    "def draw(lr):\n    fig, ax = plt.subplots()\n    ax.plot([0, lr])\n    finish(ax)\n\ninteract(draw, lr=(0.1, 1.0))",
    "def draw(lr):\n    if lr <= 0:\n        return\n    plt.plot([0, lr])\n    plt.show()\n\ninteract(draw, lr=(0.1, 1.0))",
    "def report(lr):\n    print(f'learning rate {lr}')\n\ninteract(report, lr=(0.1, 1.0))",
    "def picture():\n    live = LiveFigure()\n    line, = live.axes.plot([0, 1])\n\n"
    "    def draw(lr):\n        line.set_ydata([0, lr])\n        live.show(line)\n    return draw\n\n"
    "interact(picture(), lr=(0.1, 1.0))",
])
def test_a_callback_that_shows_its_figure_or_draws_nothing_passes(code):
    assert plotting_callbacks_without_show(_notebook(SETUP, code)) == []


# --- the Colab badge ----------------------------------------------------------------------------

COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/[^\s\"')>]+")


def badge_problems(nb, assignment):
    """Messages for a missing badge, or any Colab link that does not lead to this notebook."""
    own_path = notebook_path("release", assignment).relative_to(ROOT).as_posix()
    settings = nbgrader_settings()
    expected = (f"https://colab.research.google.com/github/{settings['COLAB_REPOSITORY']}"
                f"/blob/{settings['COLAB_BRANCH']}/{own_path}")
    problems = []
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown" or "colab-badge.svg" not in first.source:
        problems.append("the first cell is not the Open in Colab badge")
    for index, cell in enumerate(nb.cells):
        for link in COLAB_LINK.findall(cell.source):
            if link.endswith("colab-badge.svg"):
                continue
            path = urlparse(link).path.split("/blob/", 1)[-1].split("/", 1)[-1]
            if link != expected:
                problems.append(f"cell {index} links to {link}, not to this notebook ({expected}; "
                                f"the link's path is {path!r}, the notebook's is {own_path!r})")
    if first is not None and expected not in first.source:
        problems.append(f"the badge does not link to {expected}")
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_colab_badge_opens_this_very_notebook(assignment):
    nb = release_notebook(assignment)
    assert badge_problems(nb, assignment) == []
    assert colab_url(assignment) in nb.cells[0].source     # the release tool's own idea agrees


def test_a_badge_pointing_at_another_notebook_is_caught():
    import nbformat
    nb = nbformat.v4.new_notebook()
    badge = (f'<a href="{colab_url("02_forward")}" target="_parent"><img '
             'src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/></a>')
    nb.cells = [nbformat.v4.new_markdown_cell(badge)]
    problems = badge_problems(nb, "03_backward")
    assert any("02_forward/forward.ipynb" in p for p in problems)
    assert badge_problems(nb, "02_forward") == []
