"""Grade on a Dask cluster: `course grade --cluster tcp://HOST:8786`.

A drop-in for tasks.LocalPool (submit, as_completed, result) over a dask.distributed
Client. The scheduler and workers are Dask's own commands (see the README):

    dask scheduler --host 0.0.0.0 --port 8786
    dask worker tcp://HOST:8786 --nthreads 1 --nworkers 2

Each task is tasks.grade_submission: everything it needs and produces travels as bytes, so
workers share no filesystem with the instructor; they need the project's environment (this
package, nbgrader, ...) and bubblewrap.

Faults are Dask's: a worker that dies mid-task (killed, out of memory) has its tasks run on
another worker; a task that was running on `allowed-failures` + 1 dying workers (scheduler
setting distributed.scheduler.allowed-failures, default 3) fails with KilledWorker, which
result() turns into WorkerDied: one student's problem, the class goes on. Results come back
to the instructor's process only, which merges each one once.

Each task carries its packed template itself (15-50 KB), rather than depending on one
scattered or computed copy per assignment: a task with a dependency waits on a worker for
that data, and when a worker holding the only copy dies every task waiting for it is charged
with the death too, so one poison submission could fail innocent ones. The tasks are sent a
few at a time (as_completed): no more than the workers have threads, so the scheduler holds
only those. Keys are ("grade", student, assignment, random hex): one task group on the
dashboard, and two runs on one cluster never share a key.
"""
import collections
import shutil
import uuid

CONNECT_TIMEOUT = 20   # s to reach the scheduler
WORKER_TIMEOUT = 120   # s to wait for a first worker


class WorkerDied(Exception):
    """A submission's task ended every Dask worker it ran on."""


class Task:
    """A submission's task: what to run, its Dask key, and its future once it is on the cluster."""

    def __init__(self, function, args, key):
        self.function, self.args, self.key, self.future = function, args, key, None


class DaskPool:
    """Tasks on the dask.distributed cluster whose scheduler listens at `address`."""

    def __init__(self, address, sandbox=True):
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - pinned in requirements.txt
            raise SystemExit("--cluster needs dask.distributed: pip install -r requirements.txt") from None
        self.address = address
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise SystemExit(f"--cluster {address}: no Dask scheduler answers there ({error}); start one "
                             "with `dask scheduler` and pass the address it prints") from None
        try:
            self.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except TimeoutError:
            self.client.close()
            raise SystemExit(f"--cluster {address}: no Dask worker joined within {WORKER_TIMEOUT} s; start "
                             f"workers with `dask worker {address} --nthreads 1`") from None
        self.allowed_failures = self.client.run_on_scheduler(_allowed_failures)
        if sandbox:
            self._require_bubblewrap()

    def _require_bubblewrap(self):
        missing = sorted(worker for worker, path in self.client.run(shutil.which, "bwrap").items() if not path)
        if missing:
            self.client.close()
            raise SystemExit(f"--cluster {self.address}: bubblewrap (bwrap) is not installed on worker(s) "
                             f"{', '.join(missing)}: apt-get install bubblewrap there, or grade with --no-sandbox")

    @property
    def size(self):
        """Tasks the cluster runs at once now (its workers' threads)."""
        return sum(w["nthreads"] for w in self.client.scheduler_info(n_workers=-1)["workers"].values())

    def describe(self):
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        return (f"the Dask cluster at {self.address} ({len(workers)} workers, {self.size} threads; a submission "
                f"is tried on at most {self.allowed_failures + 1} workers)")

    def submit(self, function, *args, name=None):
        """A task to run; it is sent to the cluster by as_completed, when a worker thread is free."""
        return Task(function, args, (*(name or (function.__name__,)), uuid.uuid4().hex))

    def as_completed(self, tasks):
        """Yield each Task when it is done. At most as many are on the cluster as it has threads,
        counted afresh as each finishes (workers may come and go), so a worker that dies seldom
        holds more than the task it was running, and only those are charged with its death."""
        from distributed import as_completed
        waiting, running, done = collections.deque(tasks), {}, as_completed(loop=self.client.loop)

        def fill():
            for _ in range(max(1, self.size) - len(running)):
                if not waiting:
                    return
                task = waiting.popleft()
                task.future = self.client.submit(task.function, *task.args, key=task.key, pure=False)
                running[task.future.key] = task
                done.add(task.future)

        fill()
        for future in done:
            task = running.pop(future.key)
            fill()
            yield task

    def result(self, task):
        from distributed import KilledWorker
        try:
            return task.future.result()
        except KilledWorker as error:
            raise WorkerDied(f"it ended every Dask worker it ran on ({error.allowed_failures + 1} tries, last on "
                             f"{error.last_worker.address if error.last_worker else 'an unknown worker'}): it "
                             "crashed or ran out of memory outside the sandbox; grade it alone to see why") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()


def _allowed_failures(dask_scheduler):
    return dask_scheduler.allowed_failures
