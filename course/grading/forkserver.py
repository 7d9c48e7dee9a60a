"""Grading kernels forked from a preloaded Python instead of started from nothing.

A kernel started as `python -m ipykernel_launcher` spends 0.3 s of CPU importing ipykernel,
IPython and numpy before the notebook's first line, in every submission. The fork server
(forkserver_main.py, one per grading process, started at its first kernel) has imported them
once; for each kernel it forks a process that joins that kernel's bwrap sandbox, already set up,
and drops to what bwrap, setpriv and prlimit gave a started kernel (see forkserver_main.py).

    server = ForkServer.for_this_process(server_environment())   # course.grading.sandbox
    pid = server.spawn(sandbox=init_pid, argv=["-f", connection_file], cwd=..., env=..., uid=..., limits=...)

course.grading.sandbox uses it (SandboxKernelManager.fork_kernels, on by default): bwrap then
runs a placeholder (`sleep infinity`) that keeps the sandbox up, and the kernel forked into it
ends it when it ends. The server runs unsandboxed, as the grader's user, and never runs student
code: only its forked children do, each inside its sandbox.
"""
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

PROGRAM = Path(__file__).with_name("forkserver_main.py")


class ForkServerError(RuntimeError):
    """The fork server could not start a kernel (the message says why)."""


class ForkServer:
    """One preloaded Python that forks grading kernels into their sandboxes (see the module)."""

    TIMEOUT = 60                  # seconds for one kernel to be forked and set up (it takes milliseconds)
    _lock = threading.Lock()
    _servers = {}                 # {os.getpid(): ForkServer}: a forked grading worker starts its own

    def __init__(self, env):
        self.env = dict(env)
        parent, child = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-c", PROGRAM.read_text(encoding="utf-8"), str(child.fileno())],
            env=env, cwd="/", stdin=subprocess.DEVNULL, pass_fds=(child.fileno(),))
        child.close()
        parent.settimeout(self.TIMEOUT)
        self.channel = parent
        self.replies = parent.makefile("r", encoding="utf-8")
        self.lock = threading.Lock()

    @classmethod
    def for_this_process(cls, env):
        """This process's server for kernels with environment `env`: started now if it has none, if
        its server has ended, or if that server has another environment (the preloaded modules read
        some of it when they were imported: ipykernel, JPY_PARENT_PID)."""
        with cls._lock:
            server = cls._servers.get(os.getpid())
            if server is not None and (server.process.poll() is not None or server.env != dict(env)):
                server.stop()
                server = None
            if server is None:
                server = cls._servers[os.getpid()] = cls(env)
            return server

    def spawn(self, **request):
        """Fork a kernel into the sandbox whose init is request['sandbox']; returns its host pid."""
        with self.lock:
            try:
                self.channel.sendall(json.dumps(request).encode() + b"\n")
                line = self.replies.readline()
            except OSError as error:      # a timeout too: its answer could come later, to the next request
                self.process.kill()       # so this server is done; for_this_process starts another
                raise ForkServerError(f"the kernel fork server is gone: {error}") from None
        if not line:
            raise ForkServerError(f"the kernel fork server ended (exit status {self.process.wait()})")
        answer = json.loads(line)
        if "pid" not in answer:
            raise ForkServerError(f"the grading kernel could not be started in its sandbox: {answer.get('error')}")
        return answer["pid"]

    def stop(self):
        self.channel.close()
        self.process.kill()
        self.process.wait()
