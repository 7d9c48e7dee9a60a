"""2. Class throughput: students per minute for a simulated class, all five assignments.

Three ways to grade the same class, each in its own copy of a throwaway course:
- plain nbgrader: `nbgrader autograde <assignment>` for each assignment in turn (nbgrader
  grades every submitted student one after another: the reference);
- `python -m course grade --workers 1 --root <course>`;
- `python -m course grade --workers 2 --root <course>` (it also normalizes the notebooks and
  writes feedback and the report, which plain autograde does not).
The class mixes complete, half-done and unfinished submissions, so grades differ from
student to student; every cell's score must be identical across the three.

Each run's CPU is the whole machine's (benchmarks.common.machine_busy_seconds), because the
sandboxed kernels are no process's waited-for children. It gives the ceiling of the ratio: a
`course grade` that did only plain nbgrader's work per notebook and kept every core busy would
take (plain nbgrader's CPU per notebook / cores) per notebook, so

    ceiling = cores x plain nbgrader's wall time / plain nbgrader's CPU time

and a plain nbgrader that keeps one core nearly busy leaves two cores little more than 2x.
"""
import os
import subprocess
import sys

from course.authoring import notebooks

from .common import Table, last_line, machine_busy_seconds, run_sampled, seconds, source_notebook

TITLE = "2. Class throughput (simulated class, all five assignments)"
TARGET = 3.0     # issue 13: course grade --workers 2 at least 3x plain sequential nbgrader
KINDS = ("complete", "half done", "unfinished", "complete")


def submission(course, assignment, kind):
    """The release notebook with all, the first half, or none of its solutions filled in."""
    codes = notebooks.reference_solutions(source_notebook(assignment, course.source_root))
    if kind == "half done":
        codes = dict(list(codes.items())[:len(codes) // 2])
    elif kind == "unfinished":
        codes = {}
    return notebooks.fill_solutions(course.release_notebook(assignment), codes)


def build_class(course, assignments, size):
    """Submit the class into `course`; returns the student ids."""
    students = [f"student{i:03d}" for i in range(size)]
    forms = {(a, kind): submission(course, a, kind) for a in assignments for kind in set(KINDS)}
    for i, student in enumerate(students):
        for assignment in assignments:
            course.submit(student, assignment, forms[(assignment, KINDS[i % len(KINDS)])])
    return students


def course_grade_missing():
    """Why `python -m course grade --root` cannot be benchmarked (not landed yet), or None."""
    result = subprocess.run([sys.executable, "-m", "course", "grade", "--help"], capture_output=True, text=True)
    if result.returncode != 0:
        return "`python -m course grade` has not landed (issue 5): " + last_line(result.stderr)
    if "--root" not in result.stdout:
        return "`python -m course grade` has no --root option to grade a throwaway course"
    return None


def grade_with_course(course, assignments, workers, *options):
    """Grade the course's submitted/ with `course grade --workers N --root <course> [options]`;
    returns (seconds, sampler)."""
    command = [sys.executable, "-m", "course", "grade", *assignments, "--workers", str(workers),
               "--root", str(course.root), *options]
    elapsed, result, sampler = run_sampled(command, course.root)
    if result.returncode != 0:
        raise RuntimeError(f"course grade --workers {workers} {' '.join(options)} failed: "
                           f"{last_line(result.stderr or result.stdout)}")
    return elapsed, sampler


def run(ctx):
    table = Table(TITLE, ["grader", "class", "wall time", "machine CPU per notebook", "students / minute",
                          "× plain nbgrader", "same grades as plain nbgrader", "target", "met"])
    base = ctx.course()
    assignments, left_out = ctx.select(base.generate)
    absent = [f"{assignment} ({why})" for assignment, why in left_out.items()]
    if not assignments:
        table.add_missing("plain nbgrader autograde", "no assignment has a source notebook yet")
        return table
    size = ctx.sizes.class_size
    described = f"{size} students × {len(assignments)} assignment(s)"
    if absent:
        table.notes.append("graded without " + "; ".join(absent))

    plain = base.copy("throughput_plain")
    students = build_class(plain, assignments, size)
    notebooks = size * len(assignments)
    busy = machine_busy_seconds()
    plain_time = sum(plain.autograde(assignment)[0] for assignment in assignments)
    plain_cpu = machine_busy_seconds() - busy
    reference_scores = plain.scores(assignments, students)
    plain_rate = size / plain_time * 60
    cores = os.cpu_count()
    ceiling = cores * plain_time / plain_cpu
    table.add("plain nbgrader autograde, one assignment after another", described, seconds(plain_time),
              seconds(plain_cpu / notebooks), f"{plain_rate:.1f}", "1.00×", "(reference)", "", "")

    why = course_grade_missing()
    for workers in (1, 2):
        label = f"course grade --workers {workers}"
        if workers not in ctx.sizes.workers:
            table.add_text(label, f"skipped: this run measures only --workers {', '.join(map(str, ctx.sizes.workers))}")
            continue
        if why:
            table.add_missing(label, why)
            continue
        graded = base.copy(f"throughput_workers{workers}")
        build_class(graded, assignments, size)
        try:
            busy = machine_busy_seconds()
            elapsed, sampler = grade_with_course(graded, assignments, workers)
            cpu = machine_busy_seconds() - busy
        except RuntimeError as error:
            table.add(label, described, "FAILED", "", "", "", "", "", "NO")
            table.missed.append(f"{label}: {error}")
            continue
        ctx.record_memory(f"course grade --workers {workers}: whole process tree, {described}", sampler)
        scores = graded.scores(assignments, students)
        ctx.graded[(label, tuple(assignments), size)] = (elapsed, scores)
        same = scores == reference_scores
        differing = sum(scores.get(k) != v for k, v in reference_scores.items())
        rate = size / elapsed * 60
        ratio = rate / plain_rate
        target, met = ("", "")
        if workers == 2:
            target = f"≥ {TARGET}× plain nbgrader"
            met = table.verdict("course grade --workers 2 throughput", ratio >= TARGET, f"{ratio:.2f}×", target,
                                why=f"{seconds(elapsed)} against {seconds(plain_time)} for plain nbgrader; "
                                    f"the ceiling on this machine is {ceiling:.2f}× (see the notes)")
        if not same:
            table.missed.append(f"{label}: grades differ from plain nbgrader's in {differing} graded cell(s)")
            met = "NO"
        table.add(label, described, seconds(elapsed), seconds(cpu / notebooks), f"{rate:.1f}", f"{ratio:.2f}×",
                  "yes" if same else f"NO ({differing} cells differ)", target, met)
    costs = [f"plain nbgrader {seconds(plain_time / notebooks)}"]
    costs += [f"{label} {seconds(elapsed / notebooks)}" for (label, graded, graded_size), (elapsed, _)
              in ctx.graded.items() if graded == tuple(assignments) and graded_size == size]
    limits = []
    if ctx.floor is not None:
        limits.append(f"nbgrader's floor, one `nbgrader autograde` of a one-cell notebook: {seconds(ctx.floor)} (table 1)")
    cells = [f"{a} {seconds(ctx.cell_seconds[a])}" for a in assignments if a in ctx.cell_seconds]
    if cells:
        limits.append("the notebooks' own cells in the grading kernel, the limit: " + ", ".join(cells))
    table.notes.append("wall time per notebook: " + "; ".join(costs) + (" — against " + "; ".join(limits) if limits else ""))
    table.notes.append(
        f"ceiling of the ratio on this machine: {cores} cores × plain nbgrader's {seconds(plain_time)} wall ÷ its "
        f"{seconds(plain_cpu)} of machine CPU = {ceiling:.2f}×. Plain nbgrader keeps one core "
        f"{plain_cpu / plain_time:.0%} busy (kernel, nbgrader and the judge take turns, with little waiting), "
        f"so a course grade doing no more work per notebook and keeping all {cores} cores busy would reach only "
        f"that; 3× needs the work both share (the kernel's start, the cells, nbgrader's Autograde) to shrink for "
        f"course grade alone. CPU: the whole machine's busy time during the run (the load average is under the table).")
    table.notes.append("class: " + ", ".join(f"{KINDS.count(k)}/{len(KINDS)} {k}" for k in dict.fromkeys(KINDS))
                       + " (solutions from the reference, stubs otherwise); grades compared cell by cell.")
    return table
