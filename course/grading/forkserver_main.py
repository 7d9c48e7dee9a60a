"""The kernel fork server's program: this file's text runs as `python -c`, outside any sandbox.

It is never imported (course.grading.forkserver reads it and starts it; `course` is not in
its sys.modules, nor in any kernel's it forks). It imports what every grading kernel imports
(ipykernel, IPython, numpy) once, then waits on its request socket (it runs as
`python -c <this file> <the socket's fd>`). A request is one JSON line:

    {"sandbox": <host pid of a bwrap sandbox's init, its command running>,
     "argv": ["-f", <connection file>], "cwd": <the kernel's working directory>,
     "env": {...}, "uid": <uid to become, or null>, "limits": {<rlimit name>: value}}

For each it forks a child that joins the sandbox (its user, mount, pid, network, IPC, UTS and
cgroup namespaces and its root directory, read from /proc/<sandbox>), and that child forks the
kernel inside it. The kernel, before it runs anything, becomes what `bwrap ... setpriv ...
prlimit ... python -m ipykernel_launcher` made it: a new session, no capabilities (none in the
bounding set either), no new privileges, the given uid and rlimits, the sandbox's environment,
stdin from /dev/null, no file descriptor of ours beyond stdout and stderr. Then it starts as
`python -m ipykernel_launcher <argv>` would. The reply is one JSON line: {"pid": <the kernel's
host pid>} or {"error": "..."}.

The first child stays outside the sandbox, waits for the kernel and, when it ends, kills the
sandbox's init, so bwrap exits and the kernel manager sees a dead kernel at once. Nothing in
this process, or in any kernel forked from it, has seen a grade, a test or a connection key:
each kernel reads its own connection file.
"""
import ctypes
import fcntl
import json
import os
import resource
import signal
import socket
import sys

# Preloaded once: what every grading kernel imports before running the notebook's first line
# (a notebook's `import numpy` then takes no time). debugpy is left out as in the sandbox.
sys.modules["debugpy"] = None
for name in ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.iostream",
             "ipykernel.heartbeat", "ipykernel.eventloops", "ipykernel.comm", "IPython.core.completer",
             "IPython.core.history", "sqlite3", "pygments.lexers.python", "numpy", "numpy.random"):
    try:
        __import__(name)
    except ImportError:
        pass
del sys.modules["debugpy"]
if sys.path and sys.path[0] == "":      # python -c puts the working directory first
    del sys.path[0]

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER = 0x10000000
NAMESPACES = {"mnt": 0x00020000, "pid": 0x20000000, "net": 0x40000000, "ipc": 0x08000000, "uts": 0x04000000,
              "cgroup": 0x02000000}
NS_GET_PARENT = 0xb702              # ioctl: the parent of a user namespace
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LIMITS = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "nproc": resource.RLIMIT_NPROC,
          "fsize": resource.RLIMIT_FSIZE, "core": resource.RLIMIT_CORE}


def _check(result, what):
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _prctl(option, arg):
    _check(LIBC.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def _user_namespaces(sandbox):
    """The user namespaces between this process's and the sandbox's, outermost first, as open fds.

    bwrap may nest two (started by a normal user inside a user namespace, it makes one for the
    mounts, then one more inside it for the sandbox's uid): the other namespaces belong to the
    outer one, so it is joined first."""
    ours = os.stat("/proc/self/ns/user").st_ino
    chain, fd = [], os.open(f"/proc/{sandbox}/ns/user", os.O_RDONLY)
    while os.fstat(fd).st_ino != ours:
        chain.append(fd)
        fd = fcntl.ioctl(fd, NS_GET_PARENT)
    os.close(fd)
    return chain[::-1]


def join_sandbox(sandbox):
    """Enter the namespaces and the root directory of process `sandbox` (this process: one thread)."""
    root = os.open(f"/proc/{sandbox}/root", os.O_RDONLY | os.O_DIRECTORY)
    users = _user_namespaces(sandbox)
    others = []
    for name, flag in NAMESPACES.items():
        theirs = f"/proc/{sandbox}/ns/{name}"
        if os.stat(theirs).st_ino != os.stat(f"/proc/self/ns/{name}").st_ino:
            others.append((os.open(theirs, os.O_RDONLY), flag, name))
    if not any(name == "mnt" for _, _, name in others):
        raise RuntimeError(f"process {sandbox} is not in a sandbox of its own")
    # the outermost user namespace grants the capabilities the others need; the sandbox's own last
    joins = [(fd, CLONE_NEWUSER, "user") for fd in users[:1]] + others + [(fd, CLONE_NEWUSER, "user") for fd in users[1:]]
    for fd, flag, name in joins:
        _check(LIBC.setns(fd, flag), f"setns {name}")
        os.close(fd)
    os.fchdir(root)
    os.chroot(".")
    os.close(root)


def drop_privileges(uid):
    """No capabilities, ever again; uid `uid` when given (started as root)."""
    for cap in range(int(open("/proc/sys/kernel/cap_last_cap").read()) + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)       # from root: the capabilities go with it
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)          # _LINUX_CAPABILITY_VERSION_3, this process
    _check(LIBC.capset(header, (ctypes.c_uint32 * 6)()), "capset")   # effective, permitted, inheritable: none
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def become_kernel(request, ready):
    """In the sandbox: take the kernel's identity, limits and environment, say so on fd `ready`,
    then run ipykernel."""
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
    drop_privileges(request["uid"])
    for name, value in request["limits"].items():
        resource.setrlimit(LIMITS[name], (value, value))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"], PWD=request["cwd"])      # bwrap's --chdir sets PWD too
    import numpy
    numpy.random.seed()       # a fresh kernel's global generator is seeded anew (random is, at fork)
    import ipykernel_launcher
    sys.argv = [ipykernel_launcher.__file__, *request["argv"]]
    os.write(ready, b"ok")
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))   # ready too
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()


def serve_one(request, channel, served):
    """The first child: join the sandbox, fork the kernel there, answer on `channel`, let the
    server go on (close fd `served`), wait for the kernel, then end the sandbox."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    init = os.pidfd_open(request["sandbox"])
    join_sandbox(request["sandbox"])
    ready_r, ready_w = os.pipe()
    kernel = os.fork()
    if kernel == 0:
        os.close(ready_r)
        try:
            become_kernel(request, ready_w)
        except BaseException as error:    # noqa: BLE001 - told the first child, then this process ends
            os.write(ready_w, f"{type(error).__name__}: {error}".encode()[:1000])
        os._exit(1)
    os.close(ready_w)
    with os.fdopen(ready_r, "rb") as ready:
        said = ready.read(1000)
    _answer(channel, {"pid": kernel} if said == b"ok" else {"error": said.decode(errors="replace")})
    channel.close()
    os.close(served)
    os.waitpid(kernel, 0)
    try:
        signal.pidfd_send_signal(init, signal.SIGKILL)
    except ProcessLookupError:      # the sandbox ended first (the kernel manager killed it)
        pass


def _answer(channel, answer):
    channel.sendall(json.dumps(answer).encode() + b"\n")


def read_request(channel):
    """One request line, read straight from the socket (no buffer outlives it)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = channel.recv(65536)
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def main():
    """Fork first, read after: each request is read, served and answered by a child of its own,
    so no request (another student's folder, say) is ever in this process, nor in the kernels
    forked from it later. It ends when the grader closes its end of the socket, or ends itself:
    not with a parent-death signal, which would come when the *thread* that started it ends (a Dask
    worker's task thread, say), killing the kernels of the submissions being graded."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)     # the first children are reaped by the system
    channel = socket.socket(fileno=int(sys.argv[1]))
    while True:
        served_r, served_w = os.pipe()
        if os.fork() == 0:
            os.close(served_r)
            request = read_request(channel)
            if request is None:                # the grader closed its end: no more kernels
                os.write(served_w, b"end")
                os._exit(0)
            try:
                serve_one(request, channel, served_w)
            except BaseException as error:    # noqa: BLE001 - the request fails, not the server
                if channel.fileno() != -1:
                    _answer(channel, {"error": f"{type(error).__name__}: {error}"})
                os._exit(1)
            os._exit(0)
        os.close(served_w)
        with os.fdopen(served_r, "rb") as served:
            if served.read() == b"end":
                os._exit(0)       # nothing to clean up: no interpreter teardown for the grader to wait on


if __name__ == "__main__":
    main()
