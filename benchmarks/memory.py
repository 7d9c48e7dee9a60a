"""6. Memory: peak resident memory of a grading worker and of a student's kernel.

Against the class size: `course grade --workers 2` on a class of 6 with table 2's
assignments, beside table 2's class of 40 (full sizes only).

The other benchmarks sample memory while they run (common.TreeSampler, every 50 ms,
the process and all its descendants): benchmark 1 samples each `nbgrader autograde`
(nbgrader's process + the kernel it starts), benchmark 3 each student kernel,
benchmark 2 the whole `course grade` tree. This module reports those peaks, and
measures what none of them sampled in this run (one autograde / one student run per notebook).
"""
from .common import FLOOR, Table, filled_release_notebook, megabytes

TITLE = "6. Memory (peak resident set size, sampled every 50 ms)"


GRADING, STUDENT = "grading worker", "student kernel"
FLOOD_ASSIGNMENT = "01_initialization"
FLOOD = 'for _ in range(60):\n    print("x" * 1_000_000)\nprint("y" * 30_000_000)\n'   # 90 MB printed


def flood(ctx):
    """One autograde of a submission that prints 90 MB (the judge cuts a cell's output at 1 MiB)."""
    from course.authoring import notebooks
    base = ctx.course()
    base.generate(FLOOD_ASSIGNMENT)
    course = base.copy("memory_flood")
    nb = course.reference_submission(FLOOD_ASSIGNMENT)
    for cell in nb.cells:
        if notebooks.grade_id(cell) == "sigmoid":
            cell.source = FLOOD + cell.source
    course.submit("flood", FLOOD_ASSIGNMENT, nb)
    _, sampler = course.autograde(FLOOD_ASSIGNMENT, "flood")
    ctx.record_memory(f"{GRADING}: nbgrader autograde + kernel, {FLOOD_ASSIGNMENT} printing 90 MB", sampler)


SMALL_CLASS = 6


def small_class(ctx):
    """course grade --workers 2 on a class of SMALL_CLASS with table 2's assignments: a grading
    worker's peak for a small class beside table 2's (the same notebooks, so only the size differs)."""
    from .throughput import build_class, grade_with_course
    graded = [(assignments, size) for (label, assignments, size) in ctx.graded
              if label == "course grade --workers 2" and size > SMALL_CLASS]
    if not graded:
        return
    assignments = list(graded[0][0])
    course = ctx.course().copy("memory_small_class")
    build_class(course, assignments, SMALL_CLASS)
    _, sampler = grade_with_course(course, assignments, 2)
    ctx.record_memory(f"course grade --workers 2: whole process tree, "
                      f"{SMALL_CLASS} students × {len(assignments)} assignment(s)", sampler)


def measure(ctx, grading=True, student=True):
    """One autograde and/or one student run per notebook, for what no other benchmark sampled."""
    from .student_runtime import execute
    base = ctx.course()
    chosen, _ = ctx.select(lambda a: (base.generate(a), filled_release_notebook(a, ctx.root)))
    course = base.copy("memory") if chosen and grading else None
    for assignment in chosen:
        if grading:
            course.submit("memory", assignment, course.reference_submission(assignment))
            _, sampler = course.autograde(assignment, "memory")
            ctx.record_memory(f"{GRADING}: nbgrader autograde + kernel, {assignment}", sampler)
        if student:
            _, _, _, kernel = execute(filled_release_notebook(assignment, ctx.root), ctx)
            if kernel:
                ctx.record_memory(f"{STUDENT}: {assignment} run top to bottom", kernel)


def run(ctx):
    table = Table(TITLE, ["process", "peak RSS (sum over the process tree)", "largest single processes"])
    sampled = " ".join(what for what, _, _ in ctx.memory)
    if GRADING not in sampled or STUDENT not in sampled:
        measure(ctx, grading=GRADING not in sampled, student=STUDENT not in sampled)
    if not ctx.quick:
        flood(ctx)
        small_class(ctx)
    if not ctx.memory:
        table.add_missing("grading worker and student kernel", "no notebook written yet")
        return table
    for what, peak, roles in ctx.memory:
        if FLOOR not in what:
            table.add(what, megabytes(peak), roles)
    classes = {what.split(", ", 1)[1]: peaks for what, peaks in ctx.peaks.items()
               if what.startswith("course grade --workers 2") and peaks.get("course grade worker")
               and "(" not in what}    # all of table 2's assignments (a subset is named in brackets)
    if len(classes) > 1:
        table.notes.append("against the class size (course grade --workers 2): " + "; ".join(
            f"{size}: a grading worker {megabytes(peaks['course grade worker'])}, the main process "
            f"{megabytes(peaks.get('course grade', 0))}" for size, peaks in classes.items()))
    table.notes.append("RSS counts shared pages once per process, so a tree's sum is an upper bound; "
                       "a peak shorter than 50 ms can be missed.")
    return table
