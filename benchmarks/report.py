"""benchmarks/RESULTS.md: the machine, the versions, the tables, and the targets missed.

Each benchmark's table is one section of the file, stamped with when, at what sizes and
under what machine load it was measured. A run replaces the sections of the benchmarks it
ran and keeps the others (`--only throughput` refreshes one table), so every number in the
file comes from a real run, and the file says which.
"""
import datetime
import os
import platform
import re
import subprocess
from importlib import metadata

import psutil

from course.layout import ROOT

PACKAGES = ("nbgrader", "nbclient", "nbconvert", "ipykernel", "jupyter_client", "ipywidgets", "numpy",
            "matplotlib", "psutil")
NOTES_HEADING = "## Notes (written by hand, kept across runs)"
SECTION = re.compile(r"<!-- benchmark: (\w+) -->\n(.*?)<!-- end: \1 -->", re.S)
MISSED, UNMEASURED = "- Missed: ", "- Not measured: "


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
            f"{platform.system()} {platform.release()}")


def versions():
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return f"Python {platform.python_version()}, " + ", ".join(found)


def commit():
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "source", "release", "course", "benchmarks/*.py")
    return head + (" + uncommitted changes in source/, release/ or course/" if dirty else "")


def sandbox():
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    if "GradingExecute" in config and os.environ.get("BACKPROP_SANDBOX") != "off":
        return ("on: grading kernels run in the bubblewrap sandbox (course.grading.sandbox, set in nbgrader_config.py), "
                "for plain `nbgrader autograde` and `course grade` alike")
    return "off: grading kernels run unconfined"


def targets_summary(tables):
    """The verdict of one run, for the terminal."""
    missed = [m for t in tables for m in t.missed]
    unavailable = [u for t in tables for u in t.unavailable]
    lines = ["## Targets", ""]
    lines += [f"{MISSED}{m}" for m in missed] or ["No measured target was missed."]
    lines += [f"{UNMEASURED}{u}" for u in unavailable]
    return "\n".join(lines)


def section(table, stamp):
    """One benchmark's part of RESULTS.md: its stamp, its table, and its verdict lines."""
    lines = [table.markdown(), "", f"_{stamp}_", ""]
    lines += [f"{MISSED}{m}" for m in table.missed] + [f"{UNMEASURED}{u}" for u in table.unavailable]
    return "\n".join(lines).rstrip() + "\n"


def results_markdown(tables, ctx, load_before, load_after, previous=""):
    """RESULTS.md with this run's tables ({benchmark name: Table}) replacing their old sections."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sizes = ctx.sizes
    from .common import FULL
    mode = ("QUICK sizes, not representative" if ctx.quick else
            "full sizes" if sizes == FULL else "REDUCED sizes (--class-size/--reps), not issue 7's")
    stamp = (f"Measured {now} ({mode}: {sizes.reps} autograde repetition(s), {sizes.runtime_reps} student "
             f"run(s), class of {sizes.class_size}, {sizes.xor_seeds}/{sizes.iris_seeds} XOR/iris seeds, "
             f"{sizes.slider_points} values per slider); load average {load_before} before, {load_after} after; "
             f"commit {commit()}")
    sections = {name: body for name, body in SECTION.findall(previous)}
    for name, table in tables.items():
        sections[name] = section(table, stamp + f"; {table.took}")
    order = [name for name in ctx.order if name in sections]

    verdicts = [line for name in order for line in sections[name].splitlines()
                if line.startswith((MISSED, UNMEASURED))]
    verdicts += [f"- Not run yet: {name} (no table below)" for name in ctx.order if name not in sections]
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks` (benchmarks/__main__.py). Every number here was measured in the run",
        "named under its table (date, sizes, machine load, commit); a run rewrites the tables it ran and",
        "keeps the others. Benchmarks print tables and assert nothing; the targets are issue 7's.",
        "",
        f"- Machine: {machine()} (shared with other work: see each table's load average)",
        f"- Versions: {versions()}",
        f"- Sandbox: {sandbox()}",
        "",
        "## Targets",
        "",
        *(verdicts or ["No measured target was missed."]),
        "",
        "## Tables",
        "",
    ]
    for name in order:
        lines += [f"<!-- benchmark: {name} -->", sections[name].rstrip(), f"<!-- end: {name} -->", ""]
    if NOTES_HEADING in previous:
        lines += [NOTES_HEADING + previous.split(NOTES_HEADING, 1)[1].rstrip(), ""]
    return "\n".join(lines)
