"""Kernels forked into their sandbox (course.grading.forkserver) are confined exactly as kernels
started by bwrap, setpriv and prlimit; the fork server holds nothing of any submission, ends
with the grader, and a request it cannot serve costs only that kernel.

The attack corpus (tests/test_attacks.py) runs against forked kernels, the default.
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from course.grading import sandbox
from course.grading.forkserver import ForkServer, ForkServerError

pytestmark = pytest.mark.skipif(not sandbox.available(), reason="needs bubblewrap (apt-get install bubblewrap)")

PROBE = r"""
import json, os, resource, sys
def namespaces(pid):
    return {n: os.stat(f"/proc/{pid}/ns/{n}").st_ino for n in ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")}
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
print(json.dumps({
    "uid": os.getresuid(), "gid": os.getresgid(), "groups": os.getgroups(),
    "capabilities": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")},
    "limits": {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n)) for n in ("AS", "CPU", "NPROC", "FSIZE", "CORE")},
    "root": sorted(os.listdir("/")), "cwd": os.getcwd(), "files": sorted(os.listdir(".")),
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), "me": os.getpid(),
    "environment": dict(os.environ), "terminal": int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[4]),
    "course modules": sorted(m for m in sys.modules if m.split(".")[0] == "course"),
    "in the sandbox's namespaces": namespaces("self") == namespaces(2),
    "command line": open("/proc/self/cmdline").read().split("\0"),
    "parent handle": __import__("ipykernel.kernelapp").kernelapp.IPKernelApp.instance().parent_handle,
}))
"""


async def _run(km, code, timeout=30):
    """Run code in km's kernel; returns (stdout, error name or None)."""
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=timeout)
        msg_id = client.execute(code)
        out, error = "", None
        while True:
            msg = await client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out += msg["content"]["text"]
            elif msg["msg_type"] == "error":
                error = msg["content"]["ename"]
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out, error
    finally:
        client.stop_channels()


def probe(cwd, fork):
    async def main():
        km = sandbox.SandboxKernelManager(fork_kernels=fork)
        await km.start_kernel(cwd=str(cwd))
        try:
            out, error = await _run(km, PROBE)
        finally:
            await km.shutdown_kernel(now=True)
        assert error is None, out
        return json.loads(out)
    return asyncio.run(main())


@pytest.fixture
def sandboxed(monkeypatch):
    monkeypatch.setenv(sandbox.SWITCH, "on")


def test_a_forked_kernel_is_confined_as_a_started_one(tmp_path, sandboxed):
    (tmp_path / "data.csv").write_text("1,2\n")
    (tmp_path / "work.ipynb").write_text("{}")
    started, forked = probe(tmp_path, fork=False), probe(tmp_path, fork=True)
    assert "ipykernel_launcher" in started["command line"] and "ipykernel_launcher" not in forked["command line"]
    for key in ("capabilities", "limits", "root", "cwd", "files", "environment", "course modules", "groups",
                "terminal", "parent handle"):
        assert forked[key] == started[key], key
    assert forked["capabilities"]["CapEff"] == forked["capabilities"]["CapBnd"] == "0000000000000000"
    assert forked["capabilities"]["NoNewPrivs"] == "1"
    assert forked["files"] == ["data.csv"] and forked["course modules"] == []
    uid = forked["uid"]
    assert len(set(uid)) == 1 and forked["gid"] == uid and (os.geteuid() != 0 or uid[0] != 0)
    # its own pid namespace holds bwrap's init, the placeholder keeping the sandbox up, and the kernel
    assert forked["pids"] == [1, 2, forked["me"]] and forked["in the sandbox's namespaces"]
    assert forked["terminal"] == 0          # no controlling terminal to push keystrokes into


def _memory_holds(pid, needle):
    """Whether the writable memory of process pid holds the bytes `needle`."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as memory:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("rw"):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                memory.seek(start)
                if needle in memory.read(end - start):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def test_the_fork_server_never_holds_a_request(tmp_path, sandboxed):
    """The student's folder (which names the student) is read by a child of the server, never by
    the server itself, whose memory every later kernel starts from."""
    marker = "student-7f3a9c-only-here"
    folder = tmp_path / marker
    folder.mkdir()

    async def main():
        km = sandbox.SandboxKernelManager()
        await km.start_kernel(cwd=str(folder))
        try:
            out, _ = await _run(km, "import os; print(os.getcwd())")
            assert out.strip().endswith(marker)
            server = ForkServer.for_this_process(sandbox.server_environment()).process.pid
            serving = [child.pid for child in psutil.Process(server).children()
                       if _memory_holds(child.pid, marker.encode())]
            return server, serving
        finally:
            await km.shutdown_kernel(now=True)
    server, serving = asyncio.run(main())
    assert serving, "the scan must find the request in the child that served it"
    assert not _memory_holds(server, marker.encode())


def test_a_kernel_that_exits_ends_its_sandbox_at_once(tmp_path, sandboxed):
    async def main():
        km = sandbox.SandboxKernelManager()
        await km.start_kernel(cwd=str(tmp_path))
        bwrap = km.provisioner.process.pid
        server = ForkServer.for_this_process(sandbox.server_environment()).process.pid
        client = km.client()
        client.start_channels()
        await client.wait_for_ready(timeout=30)
        client.execute("import os; os._exit(3)")
        begun = time.monotonic()
        while await km.is_alive() and time.monotonic() - begun < 10:
            await asyncio.sleep(0.05)
        alive = await km.is_alive()
        client.stop_channels()
        await km.shutdown_kernel(now=True)
        return alive, bwrap, server
    alive, bwrap, server = asyncio.run(main())
    assert not alive and not psutil.pid_exists(bwrap)
    time.sleep(0.2)
    # what stays is the server and its one idle child, waiting for the next request
    assert len(psutil.Process(server).children()) == 1


def test_a_request_it_cannot_serve_costs_only_that_kernel(tmp_path, sandboxed):
    env = sandbox.server_environment()
    server = ForkServer.for_this_process(env)
    with pytest.raises(ForkServerError, match="not in a sandbox of its own"):
        server.spawn(sandbox=os.getpid(), argv=[], cwd="/", env={}, uid=None, limits={})
    assert probe(tmp_path, fork=True)["course modules"] == []       # the next kernel is forked as usual
    assert ForkServer.for_this_process(env) is server


def test_a_server_serves_only_kernels_of_its_own_environment(tmp_path, sandboxed):
    """ipykernel reads JPY_PARENT_PID when it is imported: a server started with another environment
    would give its kernels that one's defaults, so another environment gets a server of its own."""
    env = sandbox.server_environment()
    server = ForkServer.for_this_process(env)
    other = ForkServer.for_this_process({**env, "JPY_PARENT_PID": "0"})
    assert other is not server and server.process.poll() is not None
    assert ForkServer.for_this_process(env) is not other


def test_the_fork_server_ends_with_the_grader():
    grader = subprocess.Popen(
        [sys.executable, "-c", "import os, time\nfrom course.grading.forkserver import ForkServer\n"
                               "print(ForkServer.for_this_process(dict(os.environ)).process.pid, flush=True)\n"
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    server = int(grader.stdout.readline())
    assert psutil.pid_exists(server)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    begun = time.monotonic()
    while psutil.pid_exists(server) and psutil.Process(server).status() != psutil.STATUS_ZOMBIE \
            and time.monotonic() - begun < 10:
        time.sleep(0.05)
    assert not psutil.pid_exists(server) or psutil.Process(server).status() == psutil.STATUS_ZOMBIE


def test_the_grading_step_starts_the_fork_server_before_its_first_kernel(tmp_path, monkeypatch, sandboxed):
    """Its imports then overlap nbgrader's preparation of the notebook; with fork_kernels off, none."""
    from traitlets.config import Config

    from course.grading import execute
    for server in ForkServer._servers.values():
        server.stop()
    ForkServer._servers.clear()
    off = Config()
    off.SandboxKernelManager.fork_kernels = False
    execute.GradingExecute(test_sources={}, config=off)
    assert os.getpid() not in ForkServer._servers
    execute.GradingExecute(test_sources={})
    server = ForkServer._servers[os.getpid()]
    assert server.process.poll() is None and server.env == sandbox.server_environment()
    # nbgrader sets NBGRADER_EXECUTION before it runs the notebook: the kernel still comes from this server
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert probe(tmp_path, fork=True)["environment"]["NBGRADER_EXECUTION"] == "autograde"
    assert ForkServer._servers[os.getpid()] is server


def test_a_kernel_that_cannot_be_forked_leaves_no_sandbox_behind(tmp_path, monkeypatch, sandboxed):
    def refuse(self, **request):
        raise ForkServerError("the grading kernel could not be started in its sandbox: refused")
    monkeypatch.setattr(ForkServer, "spawn", refuse)
    km = sandbox.SandboxKernelManager()

    async def start():
        await km.start_kernel(cwd=str(tmp_path))
    with pytest.raises(ForkServerError, match="refused"):
        asyncio.run(start())
    bwrap = km.provisioner.process
    assert bwrap.wait(timeout=5) is not None and km.box is None


def test_a_server_that_does_not_answer_in_time_is_replaced(tmp_path, monkeypatch, sandboxed):
    """After a timeout its answer could still come, to the next request: the server is ended instead."""
    env = sandbox.server_environment()
    server = ForkServer.for_this_process(env)
    begun = time.monotonic()
    while not psutil.Process(server.process.pid).children() and time.monotonic() - begun < 10:
        time.sleep(0.02)                                     # a new server is still importing
    idle = psutil.Process(server.process.pid).children()   # the child that will read the next request
    assert len(idle) == 1
    idle[0].suspend()                                        # ... and now will not answer
    server.channel.settimeout(0.5)
    with pytest.raises(ForkServerError, match="gone"):
        server.spawn(sandbox=os.getpid(), argv=[], cwd="/", env={}, uid=None, limits={})
    assert server.process.wait(timeout=5) is not None
    assert ForkServer.for_this_process(env) is not server
    assert probe(tmp_path, fork=True)["course modules"] == []       # the next kernel comes from the new one
