"""7. Grading on a Dask cluster: students per minute, the local pool against 1 and 2 Dask workers.

The same simulated class (throughput.build_class: complete, half-done and unfinished
submissions) is graded three times, each in its own copy of the throwaway course, by
`python -m course grade --root <course>`:
- with the local pool, `--workers 2`;
- with `--cluster ADDRESS` on a dask.distributed cluster on this machine with 1, then 2 worker
  processes (one thread each; distributed.LocalCluster: a scheduler and nanny-run workers over
  TCP on 127.0.0.1, as remote machines would connect).
Every cell's score must equal the local pool's. The 1-worker rate is the per-core figure:
a worker grades one notebook at a time on one core, so a cluster of N such workers grades
about N times as many (the README's "how many workers for how many students" note).
The class is smaller than throughput's (CLUSTER_CLASS students, the first CLUSTER_ASSIGNMENTS
assignments): three gradings of it already take minutes on two cores.
"""
from .common import Table, seconds
from .throughput import build_class, grade_with_course

TITLE = "7. Grading on a Dask cluster (local pool against 1 and 2 Dask workers on this machine)"
CLUSTER_CLASS = 6
CLUSTER_ASSIGNMENTS = 2
NOTEBOOKS_PER_STUDENT = 5  # a whole course: students per minute below are for all five assignments


def dask_cluster(workers):
    """A distributed.LocalCluster of `workers` processes with one thread each (close it after use)."""
    from distributed import LocalCluster
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None)


def run(ctx):
    table = Table(TITLE, ["grader", "class", "wall time", "notebooks / minute",
                          f"students / minute ({NOTEBOOKS_PER_STUDENT} notebooks each)", "per worker",
                          "same grades as the local pool"])
    base = ctx.course()
    assignments, _ = ctx.select(base.generate)
    if not assignments:
        table.add_missing("course grade --cluster", "no assignment has a source notebook yet")
        return table
    assignments = assignments[:1 if ctx.quick else CLUSTER_ASSIGNMENTS]
    size = 2 if ctx.quick else CLUSTER_CLASS
    notebooks = size * len(assignments)
    described = f"{size} students × {len(assignments)} assignment(s) ({', '.join(assignments)})"
    runs = [("local pool: course grade --workers 2", 2, False)]
    runs += [(f"course grade --cluster (Dask, {n} worker{'s' * (n > 1)})", n, True) for n in ((1,) if ctx.quick else (1, 2))]
    reference, per_core = None, None
    for label, workers, on_cluster in runs:
        done = ctx.graded.get(("course grade --workers 2", tuple(assignments), size))
        if not on_cluster and ctx.quick and done:   # the same class, graded by table 2 in this run
            elapsed, scores = done
            reference = scores
            table.add(label + " (timed in table 2)", described, seconds(elapsed), f"{notebooks / elapsed * 60:.1f}",
                      f"{notebooks / elapsed * 60 / NOTEBOOKS_PER_STUDENT:.2f}",
                      f"{notebooks / elapsed * 60 / workers:.1f} notebooks / min", "(reference)")
            continue
        graded = base.copy(f"cluster_{len(table.rows)}")
        students = build_class(graded, assignments, size)
        if on_cluster:
            with dask_cluster(workers) as cluster:
                elapsed, _ = grade_with_course(graded, assignments, workers, "--cluster", cluster.scheduler_address)
        else:   # its memory, for a class of 6, goes beside table 2's class of 40 in the memory table
            elapsed, sampler = grade_with_course(graded, assignments, workers)
            ctx.record_memory(f"course grade --workers {workers}: whole process tree, {described}", sampler)
        scores = graded.scores(assignments, students)
        rate = notebooks / elapsed * 60
        if on_cluster and workers == 1:
            per_core = rate
        if reference is None:
            reference, same = scores, "(reference)"
        else:
            same = "yes" if scores == reference else "NO"
        if same == "NO":
            table.missed.append(f"{label}: grades differ from the local pool's")
        table.add(label, described, seconds(elapsed), f"{rate:.1f}", f"{rate / NOTEBOOKS_PER_STUDENT:.2f}",
                  f"{rate / workers:.1f} notebooks / min", same)
    if per_core:
        table.notes.append(f"per core (one Dask worker, one thread): {per_core:.1f} notebooks / minute = "
                           f"{per_core / NOTEBOOKS_PER_STUDENT:.2f} students / minute for all five assignments; "
                           "workers needed ≈ notebooks / (that rate × minutes available).")
    table.notes.append("each run includes building the assignments' grading templates on the instructor's machine, "
                       "the report and, for the cluster, connecting to it; the cluster's start is not timed.")
    return table
