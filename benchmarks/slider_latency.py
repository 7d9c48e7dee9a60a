"""4. Slider latency: every slider callback of every notebook, called directly, over each slider's range.

The reference-filled release notebook runs in this process (benchmarks/inprocess.py:
Agg backend, `plt.show()` renders PNG like Jupyter's inline backend, widgets captured).
Each captured callback is then called with values spread over each slider's whole range,
one slider at a time, the others at their defaults; a call is timed until its figures are
rendered to PNG (by plt.show() as the inline backend does, or by the callback itself).

Every timed call is a setting the callback has not drawn before in this run (the
defaults, drawn when the cell ran, and repeats are left out), so a cache in the notebook
does not flatter the numbers; returning to a setting is timed separately (the `return`
column: the median of calling the first few measured settings again).
"""
import contextlib
import io
import time
import warnings

from .common import Missing, Table, median, millis, percentile
from .inprocess import drawing_clock, inline_show, student_session
from course.layout import ASSIGNMENTS as ALL

TITLE = "4. Slider latency (every slider callback: retrain and redraw, Agg backend, PNG rendered)"
ASSIGNMENTS = tuple(ALL)
MEDIAN_TARGET = 0.100
P95_TARGET = 0.250
RETURNS = 3          # settings called a second time, per slider


def call(slider, values):
    """Seconds for one callback call with these values, its figures rendered to PNG."""
    start = time.perf_counter()
    slider.function(**values)
    inline_show()
    return time.perf_counter() - start


def time_slider(slider, points):
    """{argument: [(seconds, value)]} of first visits, {argument: [seconds]} of returns, and the
    seconds spent rendering PNG during the first visits."""
    first, returns, seen = {}, {}, {tuple(sorted(slider.defaults.items(), key=str))}
    drawing_clock.seconds = 0.0
    with student_session(), warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        for name, value in slider.values_to_try(points):
            values = {**slider.defaults, name: value}
            key = tuple(sorted(values.items(), key=str))
            if key in seen:
                continue
            seen.add(key)
            first.setdefault(name, []).append((call(slider, values), value))
        drawing = drawing_clock.seconds
        for name, timed in first.items():
            for _, value in timed[:RETURNS]:
                returns.setdefault(name, []).append(call(slider, {**slider.defaults, name: value}))
    return first, returns, drawing


def setting(name, timed):
    """'lr=0.5: 212 ms' for one timed call."""
    seconds, value = timed
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{name}={shown}: {millis(seconds)}"


def run(ctx):
    table = Table(TITLE, ["notebook", "callback", "slider", "calls", "median", "p95", "return to a setting",
                          "share drawing", "slowest setting", "target", "met"])
    target = f"median < {millis(MEDIAN_TARGET)}, p95 < {millis(P95_TARGET)}"
    for assignment in ASSIGNMENTS:
        try:
            sliders = ctx.notebook_run(assignment).sliders
        except Missing as why:
            table.add_missing(assignment, why)
            continue
        except RuntimeError as error:
            table.add(assignment, "FAILED", "", "", "", "", "", "", str(error)[:120], "", "NO")
            table.missed.append(f"slider latency in {assignment}: the notebook did not run ({error})")
            continue
        if not sliders:
            table.add_missing(assignment, "the notebook builds no slider (interact) when run as a student")
            continue
        for slider in sliders:
            first, returns, drawing = time_slider(slider, ctx.sizes.slider_points)
            every = [t for timed in first.values() for t, _ in timed]
            for name, timed in first.items():
                seconds = [t for t, _ in timed]
                typical, p95 = median(seconds), percentile(seconds, 95)
                slowest = max(timed, key=lambda t: t[0])
                label = f"{slider.name} in {assignment}, slider {name}"
                met = table.verdict(f"slider {label}", typical < MEDIAN_TARGET and p95 < P95_TARGET,
                                    f"median {millis(typical)}, p95 {millis(p95)}", target,
                                    why=f"slowest at {setting(name, slowest)}")
                table.add(assignment, slider.name, name, len(seconds), millis(typical), millis(p95),
                          millis(median(returns[name])) if returns.get(name) else "",
                          f"{drawing / sum(every):.0%}" if every else "",
                          setting(name, slowest), target, met)
    table.notes.append(f"{ctx.sizes.slider_points} value(s) per slider spread over its whole range "
                       "one slider at a time, the others at their defaults; only "
                       "settings not drawn before are timed. Time = the callback plus rendering its figures to "
                       "PNG; 'share drawing' = the part of all of that callback's calls spent rendering PNG "
                       "(print_figure, by plt.show() or by the callback); 'return to a setting' = calling "
                       f"the first {RETURNS} settings again (a cache answers these).")
    return table
