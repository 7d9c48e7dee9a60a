"""python -m benchmarks [--quick] [--only NAME ...] [--results PATH] [--class-size N] [--reps N]

Runs every benchmark, prints its table, and (full run) rewrites benchmarks/RESULTS.md
after each table: the tables of the benchmarks that ran are replaced, the others kept.
--quick uses tiny sizes (1 repetition, a class of 2, 5 seeds, one notebook where each
costs an nbgrader run) to prove the scripts work; it writes a results file only when
--results is given.
"""
import argparse
import dataclasses
import resource
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import autograde_cost, cluster, learning_quality, memory, report, slider_latency, student_runtime, throughput
from .common import FULL, QUICK, Context, Table, load_average

BENCHMARKS = {
    "autograde_cost": autograde_cost,
    "throughput": throughput,
    "student_runtime": student_runtime,
    "slider_latency": slider_latency,
    "learning_quality": learning_quality,
    "cluster": cluster,           # (table 7) run before memory: it records the local pool's, a class of 6
    "memory": memory,             # after the ones whose memory it reports
}
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def cpu_seconds():
    """CPU time used so far by this process and every child it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[2].rstrip(":") + ".")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that every benchmark runs")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--results", type=Path,
                        help=f"write the results here (default for a full run: {DEFAULT_RESULTS})")
    parser.add_argument("--class-size", type=int, help=f"students in the simulated class (full: {FULL.class_size})")
    parser.add_argument("--reps", type=int,
                        help=f"autograde and student-run repetitions per notebook (full: {FULL.reps})")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway courses (path printed)")
    args = parser.parse_args(argv)
    results = args.results or (None if args.quick else DEFAULT_RESULTS)
    sizes = QUICK if args.quick else FULL
    if args.class_size:
        sizes = dataclasses.replace(sizes, class_size=args.class_size)
    if args.reps:
        sizes = dataclasses.replace(sizes, reps=args.reps, runtime_reps=args.reps)

    workdir = Path(tempfile.mkdtemp(prefix="backprop-bench-"))
    ctx = Context(sizes=sizes, workdir=workdir, quick=args.quick, order=sorted(BENCHMARKS, key=lambda name: int(BENCHMARKS[name].TITLE.split('.')[0])))
    started = time.perf_counter()
    tables = {}
    try:
        for name in args.only or BENCHMARKS:
            module = BENCHMARKS[name]
            print(f"\n... {module.TITLE} (load average {load_average()})", flush=True)
            begun, cpu_begun, load_before = time.perf_counter(), cpu_seconds(), load_average()
            try:
                table = module.run(ctx)
            except Exception as error:      # one broken benchmark must not hide the others
                table = Table(module.TITLE, ["benchmark", "result"])
                table.add(name, f"FAILED: {type(error).__name__}: {error}"[:300])
                table.missed.append(f"{name} did not run: {type(error).__name__}: {error}"[:300])
                traceback.print_exc()
            table.took = (f"took {time.perf_counter() - begun:.0f} s "
                          f"({cpu_seconds() - cpu_begun:.0f} s of CPU time, this process and its children)")
            tables[name] = table
            print(table.markdown() + f"\n\n{table.took}", flush=True)
            if results:     # written after every table: an interrupted run keeps what it measured
                previous = results.read_text(encoding="utf-8") if results.exists() else ""
                results.write_text(report.results_markdown({name: table}, ctx, load_before, load_average(),
                                                           previous), encoding="utf-8")
    finally:
        if args.keep:
            print(f"throwaway courses kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print("\n" + report.targets_summary(tables.values()))
    print(f"\nall benchmarks took {elapsed:.0f} s")
    if results:
        print(f"wrote {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
