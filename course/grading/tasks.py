"""One submission's grading as a task that carries everything as bytes, and the local pool that runs it.

    template = pack(autograde.make_template(...))        # once per assignment
    job = Job(student, assignment, nbformat.writes(nb).encode(), timestamp, sandbox=True)
    graded = grade_submission(template, job)            # anywhere: a forked process, a Dask worker
    result = unpack_result(graded, work)                # back in the instructor's process

Formats:
- a packed folder is a gzip-compressed tar archive (bytes) of the folder's contents, paths
  relative to the folder;
- Job.notebook is the normalized submission as nbformat JSON (UTF-8 bytes); the per-cell
  timeout travels inside the template (its nbgrader_config.py, see autograde.make_template);
- Graded.result is an autograde.Result whose `autograded` and `feedback` are None; the two
  folders travel as packed bytes in Graded.autograded / Graded.feedback (None: not produced).

No shared filesystem is assumed: the task unpacks the template into a temporary folder of
its own, grades there with course.grading.autograde.grade (the same call for every pool), packs
what it produced and removes the folder. It never writes the real gradebook: the instructor's
process merges each Result (course.grading.merge). The local pool (LocalPool, the default) and
the Dask cluster (course.grading.cluster.DaskPool) have the same three methods: submit,
as_completed, result.
"""
import concurrent.futures
import dataclasses
import io
import multiprocessing
import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import autograde
from ..layout import environment, tool_env

# nbgrader changes the working directory while it runs: one grading at a time per process,
# even on a Dask worker started with several threads.
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class Job:
    """One normalized submission to grade (plain data: it crosses process and machine boundaries)."""
    student: str
    assignment: str
    notebook: bytes               # nbformat JSON, UTF-8
    timestamp: str | None = None  # nbgrader's timestamp.txt, when the submission had one
    sandbox: bool = True          # False: kernels run unconfined (course grade --no-sandbox)


@dataclass
class Graded:
    """What grade_submission returns: the Result, its two folders packed."""
    result: autograde.Result
    autograded: bytes | None = None
    feedback: bytes | None = None


def pack(folder):
    """A folder's contents as the bytes of a .tar.gz archive (paths relative to the folder)."""
    buffer = io.BytesIO()
    # gzip level 1: five times faster than the default 9 (2 ms against 9 ms for a graded notebook's
    # folder) for archives a quarter larger, which only cross from a worker to the instructor's process
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for path in sorted(Path(folder).rglob("*")):
            archive.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def unpack(data, folder):
    """Write the archive made by pack into folder (created); returns folder as a Path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(folder, filter="data")  # no absolute paths, no '..', no devices
    return folder


def grade_submission(template, job):
    """Grade one Job against a packed template in a private temporary folder; returns Graded."""
    notebook = nbformat.reads(job.notebook.decode("utf-8"), as_version=4)
    switch = {"BACKPROP_SANDBOX": "on" if job.sandbox else "off"}  # a worker's own environment cannot turn it off
    with _ONE_AT_A_TIME, environment(tool_env(**switch)):
        work = Path(tempfile.mkdtemp(prefix="backprop-task-"))
        try:
            course = unpack(template, work / "template")
            result = autograde.grade(course, job.student, job.assignment, notebook, job.timestamp, work)
            folders = {name: pack(getattr(result, name)) if getattr(result, name) else None
                       for name in ("autograded", "feedback")}
        finally:
            shutil.rmtree(work, ignore_errors=True)
            forget_compiled_statements()
    return Graded(dataclasses.replace(result, autograded=None, feedback=None), **folders)


def forget_compiled_statements():
    """Empty SQLAlchemy's per-table caches of compiled INSERT/UPDATE statements.

    They are keyed by the database's dialect, and every submission's private gradebook is a new
    engine with a dialect of its own, so no entry is ever used again: kept, they grew a worker
    by 0.2 MB a notebook (up to 150 entries for each of nbgrader's tables)."""
    from nbgrader.api import Base
    for mapper in Base.registry.mappers:
        mapper._compiled_cache.clear()


def unpack_result(graded, work):
    """The Result of a Graded, its folders written under work/students/<student>--<assignment>/."""
    result = graded.result
    private = Path(work) / "students" / f"{result.student}--{result.assignment}"
    folders = {name: str(unpack(data, private / name)) if data is not None else None
               for name, data in (("autograded", graded.autograded), ("feedback", graded.feedback))}
    return dataclasses.replace(result, **folders)


class LocalPool:
    """N forked processes on this machine: the default pool, nothing to start beforehand."""

    def __init__(self, workers, env):
        # fork: the workers start with nbgrader already imported
        self.size = workers
        self.executor = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker, initargs=(env,))

    def describe(self):
        return f"{self.size} workers"

    def submit(self, function, *args, name=None):
        """Run function(*args) in a worker process; name (a tuple of strings) only matters on a cluster."""
        return self.executor.submit(function, *args)

    def as_completed(self, futures):
        return concurrent.futures.as_completed(futures)

    def result(self, future):
        return future.result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.executor.shutdown()


def _start_worker(env):
    """A local grading worker: nbgrader's environment; kernels' chatter kept off the terminal."""
    os.environ.clear()
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
