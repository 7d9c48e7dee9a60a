"""`python -m course grade`: intake, normalize, autograde in parallel, merge, report.

    python -m course grade [ASSIGNMENT ...] [--from PATH] [--roster CSV] [--workers N] [--timeout S]
                           [--db-url URL] [--no-sandbox] [--cluster ADDRESS]

1. intake (course.grading.intake): submitted/<student>/<assignment>/, or --from a folder/.zip
   (Canvas, Moodle, Blackboard or plain names), ids from the LMS or --roster (course.grading.roster);
   files whose owner is in doubt are kept in grading/collisions/, graded for nobody;
2. normalize (course.grading.normalize) each file; the copies that get graded are kept in
   grading/normalized/, the originals are never written;
3. autograde (course.grading.autograde): each submission is one task (course.grading.tasks) graded
   in its own private course, N at a time by a local process pool, or on a Dask cluster
   (--cluster, course.grading.cluster); results come back here as bytes;
4. merge (course.grading.merge): this process alone writes the gradebook (CourseDirectory.db_url,
   or --db-url, e.g. postgresql://user@host/backprop_lab) and autograded/, feedback/;
5. report (course.grading.report): grading/grades.csv, items.csv, report.html.
Re-running grades everything again and overwrites the same rows: same inputs, same grades.
"""
import contextlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from traitlets.config.loader import PyFileConfigLoader

from ..authoring import notebooks
from . import autograde, identities, intake, merge, normalize, report, roster as rosters, tasks
from ..layout import ROOT, environment, notebook_path, present_assignments, tool_env


@dataclass
class Record:
    """Everything the report says about one student's submission of one assignment."""
    student: str
    assignment: str
    origin: str
    log: list = field(default_factory=list)
    problem: str | None = None
    notes: list = field(default_factory=list)
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0


def course_settings(root):
    """(db_url, course_id) from the course's nbgrader_config.py."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return config.CourseDirectory.db_url, config.CourseDirectory.course_id


def require_sandbox(enabled):
    """Ask course.grading.sandbox (when it exists) whether grading may start; it exits if not."""
    try:
        from . import sandbox
    except ImportError:
        return
    sandbox.require(enabled)


def main(assignments=None, from_path=None, workers=None, timeout=30, db_url=None, sandbox=True,
         root=ROOT, results=None, out=print, cluster=None, roster=None):
    """Grade every submission found; returns the list of Records (also written to the report)."""
    start = time.perf_counter()
    root = Path(root).resolve()
    results = Path(results) if results else root / "grading"
    workers = max(1, workers or os.cpu_count() or 1)
    require_sandbox(sandbox)
    configured_url, course_id = course_settings(root)
    db_url = db_url or configured_url
    assignments = list(assignments or present_assignments(root))
    if not assignments:
        raise SystemExit(f"no assignments to grade: {root / 'source'} holds no source notebooks")

    class_list = rosters.read(roster) if roster else None
    if from_path:
        found_all = intake.from_path(from_path, assignments, class_list)
    else:
        found_all = intake.from_submitted(root, assignments, class_list)
    found, skipped = found_all.submissions, found_all.skipped
    intake.keep(found_all.collisions, results / "collisions")
    if not found:
        where = from_path or root / "submitted"
        raise SystemExit(f"no submissions found in {where} for {', '.join(assignments)}; expected "
                         "submitted/<student>/<assignment>/<notebook>.ipynb or --from a folder/.zip")
    needed = sorted({s.assignment for s in found})
    env = tool_env(**({} if sandbox else {"BACKPROP_SANDBOX": "off"}))
    where = f"on the Dask cluster at {cluster}" if cluster else f"with {workers} workers"
    out(f"grading {len(found)} submissions ({len({s.student for s in found})} students, "
        f"{', '.join(needed)}) {where}, {timeout} s per cell, sandbox {'on' if sandbox else 'off'}")

    work = Path(tempfile.mkdtemp(prefix="backprop-grade-"))
    try:
        with contextlib.ExitStack() as stack:
            # templates are made by a local pool, before a cluster is reached (no fork after its threads)
            pool = stack.enter_context(tasks.LocalPool(min(workers, len(needed)) if cluster else workers, env))
            with environment(env):  # made once: a new gradebook costs an `alembic heads` run
                Gradebook(f"sqlite:///{work / autograde.EMPTY_GRADEBOOK}").close()
            pending = {a: pool.submit(autograde.make_template, a, root, work, timeout) for a in needed}
            templates = {}
            with environment(env):
                for assignment in needed:  # its cells and hidden tests into the real gradebook, one by one
                    templates[assignment] = pending[assignment].result()
                    autograde.register(templates[assignment], assignment, db_url)
                    _copy_duedate(assignment, db_url, templates[assignment])
            if cluster:
                from .cluster import DaskPool
                pool.executor.shutdown()
                pool = stack.enter_context(DaskPool(cluster, sandbox))
                out(f"grading on {pool.describe()}")
            workers = pool.size
            records = _grade_all(found, templates, root, results, work, db_url, course_id, sandbox, pool, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rosters.fill_gradebook(db_url, [s.person for s in found if s.person])
    identities.record(root, found)

    seconds = time.perf_counter() - start
    report.write(results, db_url, needed, records, skipped,
                 {"sandbox": "on" if sandbox else "off (--no-sandbox)", "workers": workers,
                  "timeout": timeout, "seconds": seconds}, found_all)
    students = len({r.student for r in records})
    problems = sum(1 for r in records if r.problem)
    percent = 100 * sum(r.score for r in records) / max(1e-9, sum(r.max_score for r in records))
    out(f"graded {len(records)} submissions of {students} students in {seconds:.0f} s "
        f"({60 * students / seconds:.1f} students/min, {workers} workers{' on the cluster' if cluster else ''}): "
        f"average {percent:.0f}%, "
        f"{problems} with problems; report: {results / 'report.html'}")
    if found_all.collisions:
        out(f"{len(found_all.collisions)} submissions whose owner is in doubt were not graded: their files are in "
            f"{results / 'collisions'} (see the report)")
    if class_list is not None:
        out(f"roster {class_list.source}: {len(found_all.not_in_roster)} graded students not on it, "
            f"{len(found_all.missing)} of its students with no submission (see the report)")
    return records


def _copy_duedate(assignment, db_url, template):
    """The workers' gradebook gets the real due date, so late penalties come out the same."""
    with Gradebook(db_url) as gb:
        duedate = gb.find_assignment(assignment).duedate
    if duedate is not None:
        with Gradebook(f"sqlite:///{template / 'gradebook.db'}") as gb:
            gb.update_or_create_assignment(assignment, duedate=duedate)


def _release_notebook(assignment, root, template):
    path = notebook_path("release", assignment, root)
    if not path.exists():  # no committed release (yet): the one just generated for grading
        path = notebook_path("release", assignment, template)
    return notebooks.read(path)


def _grade_all(found, templates, root, results, work, db_url, course_id, sandbox, pool, out):
    """Normalize, autograde in the pool (tasks.LocalPool or cluster.DaskPool), merge here one by one;
    returns the Records."""
    releases = {a: _release_notebook(a, root, templates[a]) for a in templates}
    records, jobs = [], {}
    packed = {a: tasks.pack(templates[a]) for a in templates}  # 15-50 KB, sent with each task
    normalized_dir = results / "normalized"
    shutil.rmtree(normalized_dir, ignore_errors=True)
    for sub in found:
        name = notebook_path("source", sub.assignment).name
        record = Record(sub.student, sub.assignment, sub.origin, list(sub.log))
        records.append(record)
        try:
            nb, log, problem = normalize.normalize(sub.data, sub.filename, releases[sub.assignment], name)
        except Exception as error:  # noqa: BLE001 - a file nothing else caught costs only its student
            nb, log, problem = None, [], f"{sub.filename} could not be read: {type(error).__name__}: {error}"[:300]
        record.log += log
        if problem:
            record.problem = problem
            merge.merge(autograde.Result(sub.student, sub.assignment, Path(name).stem, sub.timestamp,
                                         problem=problem), db_url, course_id, root)
            continue
        notebooks.write(nb, normalized_dir / sub.student / sub.assignment / name)
        job = tasks.Job(sub.student, sub.assignment, nbformat.writes(nb).encode(), sub.timestamp, sandbox)
        future = pool.submit(tasks.grade_submission, packed[sub.assignment], job,
                             name=("grade", sub.student, sub.assignment))
        jobs[future] = record

    progress = Progress([r.student for r in records], out)
    for record in records:
        if record.problem:
            progress.step(record.student, failed=True)
    for future in pool.as_completed(jobs):
        record = jobs[future]
        try:
            result = tasks.unpack_result(pool.result(future), work)
        except Exception as error:  # noqa: BLE001 - one broken submission never stops the class
            result = autograde.Result(record.student, record.assignment,
                                      Path(notebook_path("source", record.assignment)).stem,
                                      problem=f"grading failed: {type(error).__name__}: {error}")
        merge.merge(result, db_url, course_id, root)
        record.problem, record.notes, record.seconds = result.problem, result.notes, result.seconds
        record.score = sum(s or 0 for s, _ in result.grades.values())
        progress.step(record.student, failed=bool(result.problem or result.notes))
        shutil.rmtree(Path(work) / "students" / f"{record.student}--{record.assignment}", ignore_errors=True)
    progress.close()
    with Gradebook(db_url, course_id) as gb:  # autograded points only: written answers are graded by hand
        max_scores = {a: sum(cell.max_score for nb in gb.find_assignment(a).notebooks
                             for cell in nb.grade_cells if cell.cell_type == "code") for a in templates}
    for record in records:
        record.max_score = max_scores[record.assignment]
    return records


class Progress:
    """`[#####-----] 12/40 notebooks (5/20 students) graded, 1 with problems, 0:42`.

    Redrawn in place on a terminal; in a log, one line per tenth of the way.
    """

    def __init__(self, students, out):
        self.left = {}
        for student in students:
            self.left[student] = self.left.get(student, 0) + 1
        self.total, self.done, self.failed, self.out = len(students), 0, 0, out
        self.start = time.perf_counter()
        self.tty = out is print and sys.stdout.isatty()
        self.last_tenth = -1

    def step(self, student, failed=False):
        self.done += 1
        self.failed += failed
        self.left[student] -= 1
        finished = sum(1 for n in self.left.values() if n == 0)
        elapsed = int(time.perf_counter() - self.start)
        bar = "#" * (20 * self.done // self.total)
        line = (f"[{bar:<20}] {self.done}/{self.total} notebooks ({finished}/{len(self.left)} students) graded, "
                f"{self.failed} with problems, {elapsed // 60}:{elapsed % 60:02d}")
        if self.tty:
            sys.stdout.write("\r" + line)
            sys.stdout.flush()
        elif 10 * self.done // self.total != self.last_tenth:
            self.last_tenth = 10 * self.done // self.total
            self.out(line)

    def close(self):
        if self.tty:
            sys.stdout.write("\n")
