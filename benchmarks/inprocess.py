"""Run a notebook's code inside this process, the way a student's kernel would, but observable.

    run = run_notebook(nb)        # run.namespace, run.sliders, run.calls["train"]

- matplotlib uses the Agg backend; `plt.show()` renders every open figure to PNG and
  closes it, which is what Jupyter's inline backend does, so a redraw costs what it
  costs a student.
- Every slider built with `interact`, `interactive` or `interactive_output` is
  captured as a `Slider` (the callback and its widgets), so it can be called again
  with other values, directly, without a browser.
- NBGRADER_EXECUTION is unset (a student's run: widgets are built, demos run).
- Calls to `train` / `train_softmax` are recorded with their arguments (the cell that
  made them, and whether it is graded), which tells the notebook's default settings.
"""
import contextlib
import io
import os
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np

from course.authoring import notebooks


@dataclass
class Slider:
    """One captured widget callback: function(**values) retrains/redraws."""
    name: str
    function: callable
    widgets: dict                      # argument name -> ipywidgets widget
    cell: int                          # index of the cell that built it
    cell_source: str = ""
    defaults: dict = field(default_factory=dict)

    def values_to_try(self, points):
        """[(argument, value)]: `points` positions across each slider's range, one slider at a time."""
        tries = []
        for name, widget in self.widgets.items():
            tries += [(name, value) for value in widget_positions(widget, points)]
        return tries


def widget_positions(widget, points):
    """Values a student can reach with this widget, spread over its range."""
    import ipywidgets
    if isinstance(widget, ipywidgets.FloatLogSlider):
        return [float(widget.base ** e) for e in np.linspace(widget.min, widget.max, points)]
    if isinstance(widget, (ipywidgets.IntSlider, ipywidgets.BoundedIntText)):
        return sorted({int(round(v)) for v in np.linspace(widget.min, widget.max, points)})
    if hasattr(widget, "min") and hasattr(widget, "max"):
        return [float(v) for v in np.linspace(widget.min, widget.max, points)]
    if hasattr(widget, "options") and widget.options:
        options = [o[1] if isinstance(o, tuple) else o for o in widget.options]
        return options[:max(points, 2)]
    if isinstance(widget.value, bool):
        return [False, True]
    return [widget.value]


def inline_show(*args, **kwargs):
    """plt.show() as Jupyter's inline backend does it: every open figure to PNG, then closed.

    The time it takes is added to inline_show.seconds (the cost of drawing)."""
    import time
    import matplotlib.pyplot as plt
    start = time.perf_counter()
    for number in plt.get_fignums():
        plt.figure(number).canvas.print_figure(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close("all")
    inline_show.seconds += time.perf_counter() - start


inline_show.seconds = 0.0


def drawing_clock(function):
    """A drawing function, timed: every figure drawn or PNG rendered (by plt.show() or by a callback
    itself) adds its seconds to drawing_clock.seconds (once, however the calls nest)."""
    import functools
    import time

    @functools.wraps(function)
    def timed(*args, **kwargs):
        drawing_clock.depth += 1
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            drawing_clock.depth -= 1
            if drawing_clock.depth == 0:
                drawing_clock.seconds += time.perf_counter() - start
    return timed


drawing_clock.seconds = 0.0
drawing_clock.depth = 0


def strip_magics(source):
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


@contextlib.contextmanager
def student_session():
    """Agg + inline-like show, widgets captured, NBGRADER_EXECUTION unset; yields the captured list."""
    import ipywidgets
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from ipywidgets.widgets import interaction
    from matplotlib.backend_bases import FigureCanvasBase

    captured = []
    original_init = interaction.interactive.__init__
    original_output = interaction.interactive_output

    def capturing_init(self, function, *args, **kwargs):
        original_init(self, function, *args, **kwargs)
        widgets = {w._kwarg: w for w in self.kwargs_widgets if hasattr(w, "_kwarg")}
        captured.append((function, widgets))

    def capturing_output(function, controls):
        captured.append((function, dict(controls)))
        return original_output(function, controls)

    saved_env = os.environ.pop("NBGRADER_EXECUTION", None)
    import matplotlib.image
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    # everything that renders a figure into pixels or a PNG, whoever calls it (LiveFigure writes its
    # PNG itself: zlib.compress is nearly all of that)
    drawing = [(FigureCanvasBase, "print_figure"), (FigureCanvasAgg, "draw"), (Figure, "draw_artist"),
               (matplotlib.image, "imsave"), (zlib, "compress")]
    saved_drawing = [getattr(owner, name) for owner, name in drawing]
    saved_show = plt.show
    interaction.interactive.__init__ = capturing_init
    interaction.interactive_output = ipywidgets.interactive_output = capturing_output
    plt.show = inline_show
    for (owner, name), original in zip(drawing, saved_drawing):
        setattr(owner, name, drawing_clock(original))
    try:
        yield captured
    finally:
        interaction.interactive.__init__ = original_init
        interaction.interactive_output = ipywidgets.interactive_output = original_output
        plt.show = saved_show
        for (owner, name), original in zip(drawing, saved_drawing):
            setattr(owner, name, original)
        plt.close("all")
        if saved_env is not None:
            os.environ["NBGRADER_EXECUTION"] = saved_env


@dataclass
class NotebookRun:
    """What one in-process run of a notebook left behind."""
    namespace: dict
    sliders: list                      # [Slider]
    calls: dict                        # function name -> [(cell index, cell is graded, arguments)]


def run_notebook(nb, record=("train", "train_softmax")):
    """Execute every code cell of `nb` in one namespace, recording calls to the `record` functions."""
    import matplotlib.pyplot as plt
    namespace = {"__name__": "__main__"}
    sliders, calls, recording, log = [], {name: [] for name in record}, {"on": True}, []
    with student_session() as captured, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            before, logged = len(captured), len(log)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                for name in record:      # wrap a function as soon as a cell defines (or redefines) it
                    if callable(namespace.get(name)) and not hasattr(namespace[name], "_recorded"):
                        namespace[name] = recorder(namespace[name], name, log, recording)
                try:
                    exec(compile(strip_magics(cell.source), f"<cell {index}>", "exec"), namespace)
                except Exception as error:
                    raise RuntimeError(f"cell {index} raised {type(error).__name__}: {error}") from error
                inline_show()      # the inline backend flushes figures left open at the end of a cell
            for name, arguments in log[logged:]:
                calls[name].append((index, is_graded(cell), arguments))
            for function, widgets in captured[before:]:
                sliders.append(Slider(getattr(function, "__name__", "callback"), function, widgets, index,
                                      cell.source, {name: w.value for name, w in widgets.items()}))
        plt.close("all")
    recording["on"] = False
    return NotebookRun(namespace, sliders, calls)


def recorder(function, name, log, recording):
    """`function`, logging the arguments of each call (bound to its signature) while recording is on."""
    import inspect
    signature = inspect.signature(function)

    def recorded(*args, **kwargs):
        if recording["on"]:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            log.append((name, dict(bound.arguments)))
        return function(*args, **kwargs)
    recorded._recorded = True
    return recorded


def is_graded(cell):
    """A cell nbgrader manages (solution or test): not part of the notebook's own demo."""
    return bool(notebooks.grade_id(cell))
