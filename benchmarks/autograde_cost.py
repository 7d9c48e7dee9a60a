"""1. Autograde cost per notebook, as a multiple of nbgrader's own floor.

For each assignment, `nbgrader autograde` grades one complete submission (the release
notebook filled with the reference solutions) in a throwaway course; the floor is the
same command on a trivial one-cell notebook. Repetitions are interleaved (floor, 01,
..., 05, floor, 01, ...) so a change in machine load hits every notebook alike.
"""
from course.authoring import notebooks

from .common import FLOOR, Table, cell_timings, median, seconds

TITLE = "1. Autograde cost per notebook (nbgrader autograde of one complete submission)"
TARGET = 1.5


def run(ctx):
    table = Table(TITLE, ["notebook", "median autograde", "floor (1-cell notebook)", "× floor",
                          "score", "grading kernel's own cells", "target", "met"])
    base = ctx.course()
    chosen, left_out = ctx.select(base.generate)
    if not chosen:
        table.add_unmeasured(left_out)
        return table
    base.generate(FLOOR)
    present = [FLOOR] + chosen
    course = base.copy("autograde_cost")

    times = {a: [] for a in present}
    peaks = {}
    for rep in range(ctx.sizes.reps):
        for assignment in present:
            student = f"cost{rep}"
            course.submit(student, assignment, course.reference_submission(assignment))
            elapsed, sampler = course.autograde(assignment, student)
            times[assignment].append(elapsed)
            if sampler.peak_total > peaks.get(assignment, (0,))[0]:
                peaks[assignment] = (sampler.peak_total, sampler)
    for assignment, (_, sampler) in peaks.items():
        if assignment != FLOOR:
            ctx.record_memory(f"grading worker: nbgrader autograde + kernel, {assignment}", sampler)

    floor = median(times[FLOOR])
    ctx.floor = floor                       # table 2 sets its per-notebook cost against these
    for assignment in chosen:
        timings = own_cell_timings(course, assignment)
        if timings:
            ctx.cell_seconds[assignment] = sum(t for _, _, t in timings)
    table.notes.append(f"floor = nbgrader autograde of a one-cell notebook: median {seconds(floor)} "
                       f"over {len(times[FLOOR])} run(s) in this run; each notebook's median is over "
                       f"{ctx.sizes.reps} run(s), interleaved with the floor's.")
    for assignment in ctx.assignments():
        if assignment in left_out:
            table.add_unmeasured({assignment: left_out[assignment]})
            continue
        score, max_score = full_marks(course, assignment, f"cost{ctx.sizes.reps - 1}")
        ratio = median(times[assignment]) / floor
        cells = own_cells(course, assignment)
        met = table.verdict(f"autograde cost of {assignment}", ratio <= TARGET, f"{ratio:.2f}× floor",
                            f"≤ {TARGET}×", why=f"its cells run {cells} inside the grading kernel")
        table.add(assignment, seconds(median(times[assignment])), seconds(floor), f"{ratio:.2f}×",
                  f"{score:g} / {max_score:g} autograded", cells, f"≤ {TARGET}×", met)
        if score != max_score:
            table.notes.append(f"{assignment}: the reference submission earned {score:g} of {max_score:g} "
                               "points — a grading defect, not a speed issue.")
    return table


def full_marks(course, assignment, student):
    """(earned, possible) autograded points of one graded reference submission (written answers,
    graded by hand, are left out)."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        nb = gradebook.find_submission_notebook(course.notebook_name(assignment), assignment, student)
        tests = [grade for grade in nb.grades if grade.cell_type == "code"]
        return sum(g.score or 0 for g in tests), sum(g.max_score for g in tests)


def own_cell_timings(course, assignment):
    """[(index, label, seconds)] of the notebook's code cells in the grading kernel, or None."""
    path = course.path("autograded", assignment, "cost0")
    return cell_timings(notebooks.read(path)) if path.exists() else None


def own_cells(course, assignment):
    """Total time the notebook's code cells took in the grading kernel, and the slowest one."""
    timings = own_cell_timings(course, assignment)
    if timings is None:
        return "?"
    if not timings:
        return "no timing recorded"
    _, label, slowest = max(timings, key=lambda t: t[2])
    return f"{seconds(sum(t for _, _, t in timings))} (slowest {label}: {seconds(slowest)})"
