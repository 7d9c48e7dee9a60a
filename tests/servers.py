"""Real servers on this machine for the cluster and gradebook tests, started and stopped by fixtures.

    with DaskCluster(tmp_path, workers=2) as cluster:   # `dask scheduler` + 2 `dask worker`, TCP on 127.0.0.1
        cluster.address                                 # tcp://127.0.0.1:PORT
        cluster.kill_busy_worker()                      # SIGKILL a worker process that is running a task
    with PostgresServer() as pg:                        # initdb + pg_ctl, a private port on 127.0.0.1
        pg.create_database("gradebook")                 # -> postgresql://postgres@127.0.0.1:PORT/gradebook

Both are the real programs, each in its own processes, as separate machines would run them;
their logs are kept beside their data for a failing test to show.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTUP = 120   # s a server may take to come up on a busy machine


class DaskCluster:
    """A dask.distributed scheduler and `workers` worker processes (1 thread each, with a nanny).

    allowed_failures: how many dying workers a task survives before it fails with KilledWorker
    (the scheduler setting distributed.scheduler.allowed-failures, given as an environment variable).
    """

    def __init__(self, directory, workers=2, allowed_failures=1):
        self.directory = Path(directory)
        self.workers = workers
        self.env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(allowed_failures)}
        self.processes = []
        self.client = None

    def _start(self, name, *args):
        log = open(self.directory / f"{name}.log", "w")
        dask = Path(sys.executable).parent / "dask"
        process = subprocess.Popen([str(dask), *args], cwd=self.directory, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)

    def __enter__(self):
        from distributed import Client
        scheduler_file = self.directory / "scheduler.json"
        self._start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(scheduler_file))
        try:
            for i in range(self.workers):
                self._start(f"worker{i}", "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                            "--no-dashboard", "--name", f"worker{i}", "--local-directory", str(self.directory / f"w{i}"))
            deadline = time.monotonic() + STARTUP
            while not scheduler_file.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.client = Client(scheduler_file=str(scheduler_file), timeout=STARTUP, set_as_default=False)
            self.wait_for_workers()
        except BaseException:
            self.__exit__()
            raise
        return self

    @property
    def address(self):
        return self.client.scheduler.address

    def wait_for_workers(self):
        """Until all `workers` are connected (a killed one is restarted by its nanny)."""
        self.client.wait_for_workers(self.workers, timeout=STARTUP)

    def kill_busy_worker(self):
        """SIGKILL one worker process that is running a task; returns the keys it was running."""
        processing = {worker: keys for worker, keys in self.client.processing().items() if keys}
        if not processing:
            return []
        worker, keys = sorted(processing.items())[0]
        pid = self.client.run(os.getpid, workers=[worker])[worker]
        os.kill(pid, signal.SIGKILL)
        return list(keys)

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        for process in reversed(self.processes):
            _stop(process)


class PostgresServer:
    """A private PostgreSQL server: its own data directory, a free port on 127.0.0.1, trust auth.

    PostgreSQL refuses to run as root, so under root it runs as the `postgres` system user
    that Debian's package creates.
    """

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="backprop-pg-"))  # not under pytest's 0700 tmp
        self.port = _free_port()
        self.bin = _postgres_bin()
        self.started = False

    def _run(self, *command):
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run(as_user + list(command), capture_output=True, text=True, cwd=self.directory)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def __enter__(self):
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        data = self.directory / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
                   "-c fsync=off -c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.directory / "server.log"),
                  "-o", options, "-w", "-t", str(STARTUP), "start")
        self.started = True
        return self

    def url(self, database):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name):
        import psycopg
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __exit__(self, *exc):
        if self.started:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def _postgres_bin():
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (see .ci/debian-packages.txt)")
    return Path(versions[-1]).parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process):
    """SIGTERM the process group (a nanny and its worker), SIGKILL after 20 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
