"""benchmarks/RESULTS.md: the machine, the versions, the date, the tables, and the targets missed."""
import datetime
import os
import platform
import subprocess
from importlib import metadata

import psutil

from course.layout import ROOT

PACKAGES = ("nbgrader", "nbclient", "nbconvert", "ipykernel", "jupyter_client", "ipywidgets", "numpy",
            "matplotlib", "psutil")
NOTES_HEADING = "## Notes (written by hand, kept across runs)"


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
    dirty = git("status", "--porcelain", "--", "source", "release", "course", "benchmarks")
    return head + (" (with uncommitted changes in source/, release/, course/ or benchmarks/)" if dirty else "")


def sandbox():
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    if "SandboxExecute" in config and os.environ.get("BACKPROP_SANDBOX") != "off":
        return ("on: grading kernels run in the bubblewrap sandbox (course.sandbox, set in nbgrader_config.py), "
                "for plain `nbgrader autograde` and `course grade` alike")
    return "off: grading kernels run unconfined"


def targets_summary(tables):
    missed = [m for t in tables for m in t.missed]
    unavailable = [u for t in tables for u in t.unavailable]
    lines = ["## Targets", ""]
    if missed:
        lines += ["Missed:", ""] + [f"- {m}" for m in missed]
    else:
        lines.append("No measured target was missed.")
    if unavailable:
        lines += ["", "Not measured (the subject does not exist yet):", ""] + [f"- {u}" for u in unavailable]
    return "\n".join(lines)


def results_markdown(tables, ctx, elapsed, load_before, load_after, summary, previous=""):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick (tiny sizes: not representative)" if ctx.quick else "full"
    sizes = ctx.sizes
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks` (see benchmarks/__main__.py); every number below was measured",
        "in the run described here. Benchmarks print tables and assert nothing; targets are from issue 7.",
        "",
        f"- Date: {now}; run took {elapsed:.0f} s ({mode})",
        f"- Sizes: {sizes.reps} autograde repetition(s), {sizes.runtime_reps} student run(s) per notebook, "
        f"class of {sizes.class_size}, {sizes.xor_seeds} XOR seeds, {sizes.iris_seeds} iris seeds, "
        f"{sizes.slider_points} value(s) per slider",
        f"- Machine: {machine()}",
        f"- Load average (1, 5, 15 min): {load_before} at the start, {load_after} at the end "
        "(the machine is shared; other work running at the same time slows every number alike)",
        f"- Versions: {versions()}",
        f"- Sandbox: {sandbox()}",
        f"- Repository commit: {commit()}",
        "",
        summary,
        "",
        "## Tables",
        "",
    ]
    for table in tables:
        lines += [table.markdown(), ""]
    if NOTES_HEADING in previous:
        lines += [NOTES_HEADING + previous.split(NOTES_HEADING, 1)[1].rstrip(), ""]
    return "\n".join(lines)
