"""What every benchmark shares: sizes, tables, timing statistics, memory sampling,
and a throwaway nbgrader course built from this repository's source/ notebooks.

A benchmark module exposes `TITLE` and `run(ctx) -> Table`. When its subject does
not exist yet (a notebook not written, `course grade` not landed) it raises or
records `Missing("why")`, and the table row says "not available yet: why".
"""
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from course.authoring import notebooks
from course.layout import ASSIGNMENTS, ROOT, notebook_path, tool_env

FLOOR = "00_floor"            # the trivial one-cell assignment: nbgrader's own cost
FLOOR_NOTEBOOK = "floor"


@dataclass(frozen=True)
class Sizes:
    reps: int              # autograde repetitions per notebook (median taken)
    runtime_reps: int      # student runs per notebook (median taken)
    class_size: int        # students in the simulated class
    xor_seeds: int
    iris_seeds: int
    slider_points: int     # values tried per slider
    notebooks: int = None  # how many notebooks the nbgrader/nbclient benchmarks measure (None: all)
    workers: tuple = (1, 2)  # `course grade --workers N` runs measured


# --workers 1 is left out of the full run (it took 6 of its 19 minutes): table 7's one Dask worker
# gives the per-core rate, and the target compares --workers 2 with plain nbgrader.
FULL = Sizes(reps=5, runtime_reps=5, class_size=40, xor_seeds=100, iris_seeds=20, slider_points=9, workers=(2,))
QUICK = Sizes(reps=1, runtime_reps=1, class_size=2, xor_seeds=5, iris_seeds=5, slider_points=2, notebooks=1,
              workers=(2,))
SKIPPED = "skipped: --quick measures only the first notebook present"


class Missing(Exception):
    """The subject of a measurement does not exist yet; the message says why."""


# --- tables ------------------------------------------------------------------------

class Table:
    """A titled table printed as Markdown; rows may carry a target verdict."""

    def __init__(self, title, columns):
        self.title = title
        self.columns = list(columns)
        self.rows = []
        self.notes = []        # sentences printed under the table
        self.missed = []       # "what: measured, target; why" for every missed target
        self.unavailable = []  # "what: why" for every row that could not be measured
        self.took = ""         # "took N s (...)", set by the runner

    def add(self, *cells):
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.title}: row {cells!r} does not fit columns {self.columns}")
        self.rows.append([str(c) for c in cells])

    def add_text(self, label, text):
        """A row with a sentence in place of numbers."""
        self.rows.append([str(label), str(text)] + [""] * (len(self.columns) - 2))

    def add_missing(self, label, why):
        """A row whose subject is missing: 'not available yet: <why>' in place of numbers."""
        self.add_text(label, f"not available yet: {why}")
        self.unavailable.append(f"{label}: {why}")

    def add_unmeasured(self, assignments):
        """Rows for the assignments `Context.select` left out: missing ones, or skipped in --quick."""
        for assignment, why in assignments.items():
            if why == SKIPPED:
                self.add_text(assignment, why)
            else:
                self.add_missing(assignment, why)

    def verdict(self, label, met, measured, target, why=""):
        """'yes'/'NO' for a target; a miss is remembered with the measured value and why."""
        if met is None:
            return "—"
        if not met:
            self.missed.append(f"{label}: {measured} against a target of {target}" + (f" — {why}" if why else ""))
        return "yes" if met else "NO"

    def markdown(self):
        lines = [f"### {self.title}", "",
                 "| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines)


# --- statistics and formatting -------------------------------------------------------

def median(values):
    return statistics.median(values)


def percentile(values, q):
    """The q-th percentile (0-100), linear between order statistics."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def seconds(value):
    return f"{value:.2f} s"


def millis(value):
    return f"{value * 1000:.0f} ms"


def megabytes(value):
    return f"{value / 2**20:.0f} MB"


def load_average():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy since boot, all cores together (/proc/stat).

    The difference over a run counts every process, including the sandboxed grading kernels,
    which no rusage sees (they are killed, never waited for): on an idle machine, the run's CPU."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]          # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")   # guest time is already in user


# --- memory sampling -------------------------------------------------------------------

class TreeSampler:
    """Samples the resident memory of a process and all its descendants every `interval` s.

        with TreeSampler(pid) as sampler: ...
        sampler.peak_total      # peak of the summed RSS of the whole tree (bytes)
        sampler.peak_by_role    # {"kernel": bytes, "nbgrader": bytes, "course grade worker": ...}: peak RSS of one process
    Shared pages are counted once per process (RSS), so the total is an upper bound.
    """

    def __init__(self, pid, interval=0.05):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_total = 0
        self.peak_by_role = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def role(process):
        """What a process is, from its command line; raises psutil.Error if it has gone."""
        command = " ".join(process.cmdline())
        if "ipykernel" in command:
            return "kernel"
        if "nbgrader" in command:
            return "nbgrader"
        if "course" in command and "grade" in command:
            return "course grade"
        name = process.name()
        return Path(name).name if name else "other"

    def sample(self):
        """One sample of the tree; a process that ends while it is sampled is left out of it."""
        try:
            processes = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            return
        total = 0
        for process in processes:
            try:       # any of these calls raises NoSuchProcess (or AccessDenied) once the process is gone
                rss = process.memory_info().rss
                role = self.role(process)
                if role == "course grade" and process.pid != self.root.pid:
                    role = "course grade worker"      # a forked grading worker, apart from the main process
            except (psutil.Error, OSError):
                continue
            total += rss
            self.peak_by_role[role] = max(self.peak_by_role.get(role, 0), rss)
        self.peak_total = max(self.peak_total, total)

    def _loop(self):
        while not self._stop.is_set():
            try:
                self.sample()
            except (psutil.Error, OSError):    # the sampler outlives whatever it samples
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_sampled(command, cwd, env=None, memory=None):
    """Run a command to the end; returns (wall seconds, CompletedProcess-like result, sampler).

    The process tree's memory is sampled while it runs.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env or tool_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with TreeSampler(process.pid) as sampler:
        stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    return elapsed, subprocess.CompletedProcess(command, process.returncode, stdout, stderr), sampler


# --- the course's notebooks --------------------------------------------------------------

def source_notebook(assignment, root=ROOT):
    path = notebook_path("source", assignment, root)
    if not path.exists():
        raise Missing(f"{path.relative_to(root)} not written yet")
    return notebooks.read(path)


def filled_release_notebook(assignment, root=ROOT):
    """The committed release notebook with every solution cell filled from the source's reference code."""
    source = source_notebook(assignment, root)
    path = notebook_path("release", assignment, root)
    if not path.exists():
        raise Missing(f"{path.relative_to(root)} not built yet (python -m course release)")
    return notebooks.fill_solutions(notebooks.read(path), notebooks.reference_solutions(source))


def floor_notebook():
    """nbgrader's floor: one autograded cell that does nothing worth measuring."""
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("assert 1 + 1 == 2")
    cell.metadata["nbgrader"] = {"grade_id": "test_floor", "grade": True, "solution": False, "locked": True,
                                 "points": 1, "schema_version": 3}
    cell["id"] = "floor"
    nb.cells = [cell]
    return nb


class Course:
    """A throwaway nbgrader course: this repository's nbgrader_config.py and source notebooks.

    The assignments are generated once (that fills the gradebook); `copy(name)` gives an
    independent course (own gradebook, own submitted/ and autograded/) in a sibling folder.
    """

    def __init__(self, root, source_root=ROOT):
        self.root = Path(root)
        self.source_root = Path(source_root)
        self.generated = set()
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(source_root) / "nbgrader_config.py", self.root / "nbgrader_config.py")

    @staticmethod
    def notebook_name(assignment):
        return FLOOR_NOTEBOOK if assignment == FLOOR else ASSIGNMENTS[assignment]

    def path(self, folder, assignment, student=None):
        parts = [folder] + ([student] if student else []) + [assignment, self.notebook_name(assignment) + ".ipynb"]
        return self.root.joinpath(*parts)

    def generate(self, assignment):
        """nbgrader generate_assignment for one assignment (once); raises Missing when it has no source."""
        if assignment in self.generated:
            return
        if assignment == FLOOR:
            notebooks.write(floor_notebook(), self.path("source", FLOOR))
        else:
            notebooks.write(source_notebook(assignment, self.source_root), self.path("source", assignment))
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
             f"--CourseDirectory.root={self.root}"],
            cwd=self.root, capture_output=True, text=True, env=tool_env())
        if result.returncode != 0:
            raise Missing(f"nbgrader generate_assignment {assignment} failed: {last_line(result.stderr)}")
        self.generated.add(assignment)

    def release_notebook(self, assignment):
        self.generate(assignment)
        return notebooks.read(self.path("release", assignment))

    def reference_submission(self, assignment):
        """The generated release notebook with every solution filled with the reference code."""
        if assignment == FLOOR:
            return floor_notebook()
        source = source_notebook(assignment, self.source_root)
        return notebooks.fill_solutions(self.release_notebook(assignment), notebooks.reference_solutions(source))

    def submit(self, student, assignment, nb):
        notebooks.write(nb, self.path("submitted", assignment, student))

    def autograde(self, assignment, student=None):
        """Run `nbgrader autograde` (one student, or all submitted); returns (seconds, sampler)."""
        command = [sys.executable, "-m", "nbgrader", "autograde", assignment]
        if student:
            command.append(f"--student={student}")
        elapsed, result, sampler = run_sampled(command, self.root)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader autograde {assignment} failed: {last_line(result.stderr)}")
        return elapsed, sampler

    def scores(self, assignments, students):
        """{(student, assignment, grade_id): score} for every graded cell, from the gradebook."""
        from nbgrader.api import Gradebook, MissingEntry
        scores = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            for assignment in assignments:
                for student in students:
                    try:
                        nb = gradebook.find_submission_notebook(self.notebook_name(assignment), assignment, student)
                    except MissingEntry:
                        scores[(student, assignment, None)] = None
                        continue
                    for grade in nb.grades:
                        scores[(student, assignment, grade.name)] = grade.score
        return scores

    def copy(self, name):
        """A fresh course beside this one with the same generated assignments and no submissions."""
        target = self.root.parent / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.root, target, ignore=shutil.ignore_patterns("submitted", "autograded", "feedback"))
        clone = Course.__new__(Course)
        clone.root, clone.source_root, clone.generated = target, self.source_root, set(self.generated)
        return clone


def cell_timings(nb):
    """[(index, label, seconds)] for every executed code cell, from nbclient's timing metadata."""
    from datetime import datetime
    timings = []
    for index, cell in enumerate(nb.cells):
        execution = cell.get("metadata", {}).get("execution", {})
        start, end = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
        if cell.cell_type != "code" or not (start and end):
            continue
        elapsed = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
        timings.append((index, cell_label(index, cell), elapsed))
    return timings


def cell_label(index, cell):
    """'cell 12 (test_backward)' or 'cell 7: first line of code'."""
    if notebooks.grade_id(cell):
        return f"cell {index} ({notebooks.grade_id(cell)})"
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {index}: {first[:40]}"


def last_line(text):
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no message)"


# --- the run every module shares --------------------------------------------------------

@dataclass
class Context:
    sizes: Sizes
    workdir: Path
    root: Path = ROOT
    quick: bool = False
    order: list = field(default_factory=list)    # benchmark names in the order of RESULTS.md
    memory: list = field(default_factory=list)   # (what, peak bytes, detail) recorded by any benchmark
    _course: Course = None
    _runs: dict = field(default_factory=dict)
    # (grader label, assignments, class size) -> (seconds, scores) of a class graded by one benchmark,
    # which another may reuse instead of grading the same class again (--quick: the cluster's local pool)
    graded: dict = field(default_factory=dict)
    peaks: dict = field(default_factory=dict)    # what -> {role: peak RSS of one process} (record_memory)
    floor: float = None                          # table 1's floor (s), for table 2's per-notebook costs
    cell_seconds: dict = field(default_factory=dict)   # assignment -> its cells' time in the grading kernel (table 1)

    def assignments(self):
        """Every assignment id, in course order (present or not: missing ones get a row saying so)."""
        return list(ASSIGNMENTS)

    def select(self, check):
        """(assignments to measure, {assignment left out: why}).

        `check(assignment)` raises Missing when the subject does not exist yet; in --quick
        only the first `sizes.notebooks` present assignments are measured."""
        chosen, left_out = [], {}
        for assignment in self.assignments():
            if self.sizes.notebooks is not None and len(chosen) >= self.sizes.notebooks:
                left_out[assignment] = SKIPPED
                continue
            try:
                check(assignment)
            except Missing as why:
                left_out[assignment] = str(why)
                continue
            chosen.append(assignment)
        return chosen, left_out

    def course(self):
        """The shared throwaway course (created on first use; assignments generated on demand)."""
        if self._course is None:
            self._course = Course(self.workdir / "course", self.root)
        return self._course

    def notebook_run(self, assignment):
        """The reference-filled release notebook run in this process (inprocess.NotebookRun), once per run.

        Raises Missing when the notebook does not exist, RuntimeError when a cell fails."""
        if assignment not in self._runs:
            from .inprocess import run_notebook
            try:
                self._runs[assignment] = run_notebook(filled_release_notebook(assignment, self.root))
            except (Missing, RuntimeError) as error:
                self._runs[assignment] = error
        if isinstance(self._runs[assignment], Exception):
            raise self._runs[assignment]
        return self._runs[assignment]

    def record_memory(self, what, sampler):
        self.peaks[what] = dict(getattr(sampler, "peak_by_role", {}))
        roles = ", ".join(f"{role} {megabytes(rss)}" for role, rss in sorted(sampler.peak_by_role.items())
                          if rss >= 2**20)
        self.memory.append((what, sampler.peak_total, roles))
