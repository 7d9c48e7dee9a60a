"""3. Student run time: each reference-filled release notebook, top to bottom, as a student runs it.

nbclient executes the notebook in a fresh kernel with NBGRADER_EXECUTION unset (so
widgets are built and demos run) and matplotlib's inline backend (as in Jupyter);
the wall time includes kernel start and shutdown. nbclient records when each cell
started and finished (cell metadata `execution`), which gives the time of the cells
that train a network (see training_cells).
"""
import ast
import os
import tempfile
import time

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from .common import Table, TreeSampler, cell_timings, filled_release_notebook, median, seconds

TITLE = "3. Student run time (reference-filled release notebook, top to bottom with nbclient)"
TOTAL_TARGET = 6.0          # seconds, kernel start to shutdown
TRAINING_TARGET = 1.0       # seconds, the slowest cell that trains
COSTLIEST = 3               # cells named in the table, the costliest first
TRAINING_FUNCTIONS = {"train", "train_softmax", "update_params"}   # update_params: a gradient step


def _tree(source):
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        return ast.parse(code)
    except SyntaxError:
        return ast.parse("")


def _names(node):
    """Every name a piece of code mentions (called or passed on, e.g. to interact)."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


def training_cells(nb):
    """Indexes of the code cells that train a network when they run.

    A function trains if it is train/train_softmax/update_params, or is defined in the
    notebook and mentions a function that trains (a slider callback calling a training
    loop of the notebook's own);
    a cell trains if its top-level code (not the bodies of the functions it merely
    defines) calls or passes on a function that trains.
    """
    trees = {i: _tree(c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    bodies = {node.name: _names(node) for tree in trees.values() for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    trainers, grown = set(TRAINING_FUNCTIONS), True
    while grown:
        new = {name for name, mentions in bodies.items() if mentions & trainers} - trainers
        trainers |= new
        grown = bool(new)
    return {i for i, tree in trees.items()
            if any(_names(stmt) & trainers for stmt in tree.body
                   if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))}


def execute(nb, ctx):
    """Run once; returns (wall seconds, seconds until the first cell starts, executed notebook,
    kernel memory sampler or None)."""
    kernel = {}

    def on_cell_start(**_):
        if "sampler" not in kernel:
            kernel["ready"] = time.perf_counter()
            kernel["sampler"] = TreeSampler(client.km.provisioner.process.pid).__enter__()

    saved = {k: os.environ.pop(k) for k in ("NBGRADER_EXECUTION", "MPLBACKEND") if k in os.environ}
    try:
        with tempfile.TemporaryDirectory(dir=ctx.workdir) as cwd:
            client = NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=True,
                                    resources={"metadata": {"path": cwd}}, on_cell_start=on_cell_start)
            start = time.perf_counter()
            try:
                executed = client.execute()
            finally:
                elapsed = time.perf_counter() - start
                if "sampler" in kernel:
                    kernel["sampler"].__exit__(None, None, None)
    finally:
        os.environ.update(saved)
    return elapsed, kernel.get("ready", start) - start, executed, kernel.get("sampler")


def run(ctx):
    table = Table(TITLE, ["notebook", "median total", "kernel start", "cells", "slowest training cell",
                          "costliest cells", "target", "met"])
    chosen, left_out = ctx.select(lambda a: filled_release_notebook(a, ctx.root))
    for assignment in ctx.assignments():
        if assignment in left_out:
            table.add_unmeasured({assignment: left_out[assignment]})
            continue
        nb = filled_release_notebook(assignment, ctx.root)
        runs, peak, trainers, per_cell = [], None, training_cells(nb), {}
        try:
            for _ in range(ctx.sizes.runtime_reps):
                elapsed, startup, executed, sampler = execute(nb, ctx)
                timings = cell_timings(executed)
                for index, label, t in timings:
                    per_cell.setdefault((index, label), []).append(t)
                runs.append((elapsed, sum(t for _, _, t in timings), startup))
                if sampler and (peak is None or sampler.peak_total > peak.peak_total):
                    peak = sampler
        except CellExecutionError as error:
            table.add(assignment, "FAILED", "", "", "", first_error_line(error), "", "NO")
            table.missed.append(f"student run of {assignment}: the reference-filled notebook raised an error")
            continue
        if peak:
            ctx.record_memory(f"student kernel: {assignment} run top to bottom", peak)
        total = median([r[0] for r in runs])
        startup = median([r[2] for r in runs])
        cells = median([r[1] for r in runs])
        cell_medians = sorted(((median(ts), label, index) for (index, label), ts in per_cell.items()), reverse=True)
        costliest = "; ".join(f"{label}: {seconds(t)}" for t, label, _ in cell_medians[:COSTLIEST])
        training = [(t, label) for t, label, index in cell_medians if index in trainers]
        met_total = table.verdict(f"student run time of {assignment}", total < TOTAL_TARGET, seconds(total),
                                  f"< {TOTAL_TARGET:g} s", why=f"costliest cells {costliest}")
        met_training = table.verdict(f"slowest training cell of {assignment}", training[0][0] < TRAINING_TARGET,
                                     f"{training[0][1]}: {seconds(training[0][0])}",
                                     f"< {TRAINING_TARGET:g} s") if training else "—"
        table.add(assignment, seconds(total), seconds(startup), seconds(cells),
                  f"{training[0][1]}: {seconds(training[0][0])}" if training else "no training cell",
                  costliest, f"< {TOTAL_TARGET:g} s total, every training cell < {TRAINING_TARGET:g} s",
                  "yes" if {met_total, met_training} <= {"yes", "—"} else "NO")
    table.notes.append(f"median of {ctx.sizes.runtime_reps} run(s), each cell's time its median over the runs; "
                       "'total' runs from starting the kernel to its shutdown; 'kernel start' until the first "
                       "cell starts; 'cells' sums each cell's execute_input → execute_reply time as the kernel "
                       "stamped it (the rest of the total is sending outputs and widget messages, and the "
                       "shutdown); a training cell is one whose own code calls train, train_softmax, "
                       "update_params or a function of the notebook that does.")
    return table


def first_error_line(error):
    lines = [line for line in str(error).splitlines() if line.strip()]
    return (lines[-1] if lines else "error")[:120]
