"""4. Slider latency: one slider callback (retrain and redraw), called directly.

The reference-filled release notebook runs in this process (benchmarks/inprocess.py:
Agg backend, `plt.show()` renders PNG like Jupyter's inline backend, widgets captured).
Each captured callback is then called with values spread over each slider's range,
one slider at a time, the others at their defaults; a call is timed until its
figures are rendered.
"""
import contextlib
import io
import time
import warnings

from .common import Missing, Table, median, millis, percentile
from .inprocess import inline_show, student_session

TITLE = "4. Slider latency (one callback: retrain and redraw, Agg backend, PNG rendered)"
ASSIGNMENTS = ("04_optimization", "05_iris_softmax")
TARGET = 0.150


def time_slider(slider, points):
    """[(seconds, argument, value)] for each call, and the seconds spent drawing (rendering PNG)."""
    times = []
    inline_show.seconds = 0.0
    with student_session(), warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        for name, value in slider.values_to_try(points):
            start = time.perf_counter()
            slider.function(**{**slider.defaults, name: value})
            inline_show()
            times.append((time.perf_counter() - start, name, value))
    return times, inline_show.seconds


def setting(timed):
    """'lr=0.5: 212 ms' for one timed call."""
    seconds, name, value = timed
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{name}={shown}: {millis(seconds)}"


def run(ctx):
    table = Table(TITLE, ["notebook", "callback (sliders)", "calls", "median", "p95", "share drawing",
                          "slowest setting", "target", "met"])
    for assignment in ASSIGNMENTS:
        try:
            sliders = ctx.notebook_run(assignment).sliders
        except Missing as why:
            table.add_missing(assignment, why)
            continue
        except RuntimeError as error:
            table.add(assignment, "FAILED", "", "", "", "", str(error)[:120], "", "NO")
            table.missed.append(f"slider latency in {assignment}: the notebook did not run ({error})")
            continue
        if not sliders:
            table.add_missing(assignment, "the notebook builds no slider (interact) when run as a student")
            continue
        for slider in sliders:
            times, drawing = time_slider(slider, ctx.sizes.slider_points)
            seconds_only = [t for t, _, _ in times]
            typical = median(seconds_only)
            slowest = max(times, key=lambda t: t[0])
            label = f"{slider.name}({', '.join(slider.widgets)})"
            met = table.verdict(f"slider {label} in {assignment}", typical < TARGET, millis(typical),
                                f"median < {millis(TARGET)}",
                                why=f"slowest at {setting(slowest)}")
            table.add(assignment, label, len(times), millis(typical), millis(percentile(seconds_only, 95)),
                      f"{drawing / sum(seconds_only):.0%}",
                      setting(slowest), f"median < {millis(TARGET)}", met)
    table.notes.append(f"{ctx.sizes.slider_points} value(s) per slider across its range, one slider at a time, "
                       "the others at their defaults; time = the callback plus rendering its figures to PNG; 'share drawing' = the part spent in "
                       "plt.show() rendering PNG (the rest is training and building the plot).")
    return table
