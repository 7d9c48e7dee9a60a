"""Student code runs locked in: the grading kernel inside bubblewrap, with resource limits.

During `nbgrader autograde` (and so `python -m course grade`) every submission's
kernel is started by SandboxKernelManager, which nbgrader_config.py installs
through course.grading.execute.GradingExecute. With the sandbox on (the default), the kernel runs as

    bwrap <read-only view> -- setpriv <a fresh uid> prlimit <limits> -- python -m ipykernel_launcher ...

(started by a normal user instead of root: bwrap --unshare-user, no setpriv). By default the
last part is not started anew: bwrap runs a placeholder (`sleep infinity`) in the sandbox it has
set up, and the kernel is forked into that sandbox from a Python that imported ipykernel and
numpy once (course.grading.forkserver); it takes the same uid, capabilities (none), limits and
environment, and the sandbox ends when the kernel does. That saves 0.3 s of CPU per kernel;
c.SandboxKernelManager.fork_kernels = False starts every kernel as above.

and sees only:
- read-only: /usr, the virtual environment and its interpreter (sys.prefix,
  sys.base_prefix), a few files of /etc (library cache, fonts, time zone); NOT the
  `course` package (an empty directory is mounted over it where the environment holds
  a copy): nothing the kernel can import or read computes a right answer, grades or
  holds a test; the grader judges outside (course/judge/); nor debugpy, which a
  grading kernel never uses (see UNNEEDED);
- its own working directory (the submission's autograded folder) as a small
  private tmpfs in which the submission's other files appear read-only: the
  graded notebook itself (which holds the hidden tests) is not there, and
  nothing the kernel writes reaches the disk;
- a private /tmp (tmpfs, also HOME), private /proc, a minimal read-only /dev with
  a 16 MiB /dev/shm;
- no network (its own empty network namespace), no other processes (its own
  pid namespace); the kernel talks to nbgrader over IPC (unix) sockets in a
  small tmpfs of its own, which the grader reaches through /proc/<pid>/root: the
  kernel can write nothing on the host (see Box).

Not there: source/, release/, gradebook.db, submitted/, other students'
folders, the home directory, the rest of the repository.

Limits (per kernel, traits of SandboxKernelManager, settable in
nbgrader_config.py as c.SandboxKernelManager.<name>): address space
`memory_limit` (2 GiB), CPU time `cpu_limit` (600 s), processes and threads
`process_limit` (64; counted per uid, and each kernel gets its own uid or user
namespace, so a fork bomb only starves itself), size of one written file `file_size_limit`
(256 MiB), size of each private tmpfs `tmpfs_size` (256 MiB). A memory or
fork bomb fails inside its own kernel: MemoryError, BlockingIOError, "File too
large".

Switches: BACKPROP_SANDBOX=off in the environment runs kernels unconfined
(`course grade --no-sandbox` sets it; with plain nbgrader, set it yourself).
With the sandbox on and bwrap missing, grading stops with a one-line message
(see `require`).

Timeouts still work: the kernel is interrupted with an interrupt_request
message (a signal would reach bwrap, not the kernel).

`python -m course check` runs the instructor's own source notebooks without the
sandbox: there is no student code in them.
"""
import asyncio
import importlib.util
import os
import secrets
import shutil
import sys
import tempfile
import weakref
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer

from .forkserver import ForkServer, ForkServerError

SWITCH = "BACKPROP_SANDBOX"
MISSING = ("bubblewrap (bwrap) is not installed: apt-get install bubblewrap, "
           "or grade with --no-sandbox to run student code unconfined")

MiB = 1024 * 1024
GiB = 1024 * MiB

# Files of /etc the interpreter and matplotlib read; nothing else of /etc is visible.
ETC_FILES = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "mime.types",
             "alternatives", "nsswitch.conf"]
# Environment variables passed into the sandbox (everything else is dropped).
ENV_KEEP = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "NBGRADER_EXECUTION", "MPLBACKEND",
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}
ENV_KEEP_PREFIXES = ("LC_", "PYTHON", "OPENBLAS_")  # OPENBLAS_CORETYPE: some CPUs need it


def enabled():
    """Whether kernels run sandboxed: yes unless BACKPROP_SANDBOX=off (or 0/no/false)."""
    return os.environ.get(SWITCH, "on").strip().lower() not in {"off", "0", "no", "false"}


def available():
    return shutil.which("bwrap") is not None


def require(enabled=True):
    """Stop with a one-line message when the sandbox is wanted but bwrap is missing."""
    if enabled and not available():
        raise SystemExit(MISSING)


def _mounted_trees():
    """The directories the kernel reads (read-only): the interpreter and the environment."""
    trees = {"/usr", sys.prefix, sys.base_prefix, os.path.realpath(sys.prefix),
             os.path.realpath(sys.base_prefix)}
    return sorted(t for t in trees if os.path.isdir(t))


def _hidden_trees(mounted):
    """Packages inside the mounted trees the kernel gets an empty directory for instead:
    the `course` package (when the environment holds a copy: a non-editable install) and
    the UNNEEDED ones."""
    packages = {os.path.realpath(Path(__file__).resolve().parent.parent)}
    for name in UNNEEDED:
        spec = importlib.util.find_spec(name)    # finds the folder without importing the package
        if spec and spec.submodule_search_locations:
            packages.update(os.path.realpath(p) for p in spec.submodule_search_locations)
    return sorted(p for p in packages if any(p == t or p.startswith(t.rstrip("/") + "/") for t in mounted))


def _matplotlib_font_cache():
    """The host's matplotlib font list, so a sandboxed matplotlib does not rebuild it (1-2 s)."""
    for folder in (os.environ.get("MPLCONFIGDIR"), os.path.expanduser("~/.cache/matplotlib")):
        if folder and os.path.isdir(folder):
            lists = sorted(Path(folder).glob("fontlist-v*.json"))
            if lists:
                return lists[-1]
    return None


# Packages ipykernel imports when they are there that a grading kernel never uses: debugpy
# (no one debugs a grading kernel; importing it is 0.1 s of CPU in every kernel's start).
UNNEEDED = ("debugpy",)

# What bwrap runs when the kernel is forked into the sandbox (SandboxKernelManager.fork_kernels):
# it keeps the sandbox up until the kernel ends (course.grading.forkserver).
PLACEHOLDER = ["sleep", "infinity"]

IPC = "/run/backprop-kernel"      # inside the sandbox: a small private tmpfs holding the kernel's sockets
IPC_SIZE = 1 * MiB
SHM_SIZE = 16 * MiB               # /dev/shm (the rest of /dev is read-only)


def kernel_environment():
    """The grading kernel's environment variables: a few of this process's, and a private home."""
    env = {k: v for k, v in os.environ.items() if k in ENV_KEEP or k.startswith(ENV_KEEP_PREFIXES)}
    env.update(HOME="/tmp", TMPDIR="/tmp", MPLCONFIGDIR="/tmp/.matplotlib", IPYTHONDIR="/tmp/.ipython",
               JPY_PARENT_PID="1")   # bwrap's init is the parent: no parent polling, no console note
    return env


def start_fork_server(config=None):
    """Start this process's kernel fork server now, when kernels will be forked, so that its imports
    (0.3 s) run while nbgrader prepares the notebook, not while the first kernel is awaited."""
    fork = True
    if config is not None and "SandboxKernelManager" in config:
        fork = config.SandboxKernelManager.get("fork_kernels", True)
    if fork and enabled() and available():
        ForkServer.for_this_process(server_environment())


def server_environment():
    """The fork server's environment: the kernels' without NBGRADER_EXECUTION, which nbgrader sets
    just before it runs a notebook (each kernel gets it in its own environment)."""
    return {k: v for k, v in kernel_environment().items() if k != "NBGRADER_EXECUTION"}


class Box:
    """One kernel's sandbox: its connection file, uid and bwrap command line.

    The kernel's sockets are made in IPC, a tmpfs of the sandbox's own; the grader reaches
    them through /proc/<pid>/root (ipc_path), so the kernel has nothing on the host it can
    write, as root or as a normal user. The connection file (host, mode 0700 folder) is
    mounted read-only."""

    def __init__(self, cwd, limits):
        self.cwd = os.path.realpath(cwd)
        self.limits = limits
        self.root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="backprop-kernel-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.dir), True)
        if self.root:
            # Started by root: the kernel runs as a uid no other process has, so the process
            # limit (counted per uid, and not applied to root at all) is its own.
            self.uid = 1_000_000 + secrets.randbelow(1_000_000_000)
        else:
            # Started by a user: bwrap makes a user namespace, in which the process limit
            # counts the kernel's own processes.
            self.uid = os.geteuid()

    def remove(self):
        self._cleanup()

    def environment(self):
        return kernel_environment()

    def rlimits(self):
        """prlimit's limits, by its option names."""
        limits = self.limits
        return {"as": limits["memory_limit"], "cpu": limits["cpu_limit"], "nproc": limits["process_limit"],
                "fsize": limits["file_size_limit"], "core": 0}

    def command(self, kernel_cmd):
        """bwrap ... -- setpriv ... prlimit ... -- <kernel_cmd>."""
        limits = self.limits
        args = ["bwrap", "--die-with-parent", "--new-session", "--clearenv",
                "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                "--perms", "1777", "--size", str(limits["tmpfs_size"]), "--tmpfs", "/tmp"]
        for name, value in sorted(self.environment().items()):
            args += ["--setenv", name, value]
        made = {"/", "/tmp", "/proc", "/dev"}

        def parents(path):
            for parent in reversed(Path(path).parents):
                if str(parent) not in made:
                    made.add(str(parent))
                    args.extend(["--perms", "0755", "--dir", str(parent)])

        for link in ("bin", "sbin", "lib", "lib64", "lib32"):
            target = os.path.join("/", link)
            if os.path.islink(target):
                args += ["--symlink", os.readlink(target), target]
                made.add(target)
        mounted = _mounted_trees()
        for tree in mounted:
            parents(tree)
            args += ["--ro-bind", tree, tree]
            made.add(tree)
        for hidden in _hidden_trees(mounted):
            args += ["--tmpfs", hidden, "--remount-ro", hidden]
        for name in ETC_FILES:
            path = os.path.join("/etc", name)
            if os.path.exists(path):
                parents(path)
                args += ["--ro-bind", path, path]
        fonts = _matplotlib_font_cache()
        if fonts:
            args += ["--perms", "0777", "--dir", "/tmp/.matplotlib",
                     "--ro-bind", str(fonts), f"/tmp/.matplotlib/{fonts.name}"]
        # the working directory: a private tmpfs showing the submission's other files read-only
        parents(self.cwd)
        args += ["--perms", "1777", "--size", str(limits["tmpfs_size"]), "--tmpfs", self.cwd]
        for entry in sorted(os.listdir(self.cwd)):
            if entry.endswith(".ipynb") or entry == ".ipynb_checkpoints":
                continue
            args += ["--ro-bind", os.path.join(self.cwd, entry), os.path.join(self.cwd, entry)]
        connection = self.dir / "kernel.json"
        parents(connection)
        args += ["--ro-bind", str(connection), str(connection)]
        parents(IPC)
        args += ["--perms", "1777", "--size", str(IPC_SIZE), "--tmpfs", IPC, "--chdir", self.cwd]
        if self.root:
            args += ["--", "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        else:
            args += ["--unshare-user", "--"]
        args += ["prlimit", *(f"--{name}={value}" for name, value in self.rlimits().items()), "--"]
        return args + list(kernel_cmd)


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager for grading: runs the kernel in a Box (unless BACKPROP_SANDBOX=off)."""

    memory_limit = Integer(2 * GiB, config=True, help="address space of the kernel, bytes")
    cpu_limit = Integer(600, config=True, help="CPU seconds of the kernel process")
    process_limit = Integer(64, config=True, help="processes and threads of the kernel's own uid")
    file_size_limit = Integer(256 * MiB, config=True, help="largest file the kernel may write, bytes")
    tmpfs_size = Integer(256 * MiB, config=True, help="size of the private /tmp and working directory")
    fork_kernels = Bool(True, config=True, help="fork each kernel into its sandbox from a Python that has "
                                                "imported ipykernel and numpy already (course.grading.forkserver) "
                                                "instead of starting python anew")

    box = None
    forked_argv = None      # the kernel's arguments, when it is forked into its sandbox

    def limits(self):
        return {name: getattr(self, name) for name in
                ("memory_limit", "cpu_limit", "process_limit", "file_size_limit", "tmpfs_size")}

    async def start_kernel(self, **kw):
        self.forked_argv = None
        if enabled():
            require(True)
            self.box = Box(kw.get("cwd") or os.getcwd(), self.limits())
            self.transport = "ipc"
            self.connection_file = str(self.box.dir / "kernel.json")
            self.ip = f"{IPC}/kernel"          # as the kernel sees it (written into the connection file)
        try:
            await super().start_kernel(**kw)
        except BaseException:
            self._remove_box()
            raise

    async def _async_post_start_kernel(self, **kw):
        """The grader's side of the sockets: the sandbox's IPC tmpfs through /proc/<pid>/root."""
        if self.box:
            init = await self._sandbox_pid(ready=self.forked_argv is not None)
            if self.forked_argv is not None and self.provisioner.process.poll() is None:
                try:
                    ForkServer.for_this_process(server_environment()).spawn(
                        sandbox=init, argv=self.forked_argv, cwd=self.box.cwd, env=self.box.environment(),
                        uid=self.box.uid if self.box.root else None, limits=self.box.rlimits())
                except ForkServerError:
                    await self.provisioner.kill()     # no placeholder sandbox left behind
                    raise
            self.ip = f"/proc/{init}/root{IPC}/kernel"
        await super()._async_post_start_kernel(**kw)

    async def _sandbox_pid(self, ready=False, timeout=60):
        """A process inside the sandbox (bwrap's child, its init: it lives as long as the sandbox).
        ready: wait until the sandbox is set up (bwrap has started its command)."""
        import psutil
        bwrap = psutil.Process(self.provisioner.process.pid)
        for _ in range(int(timeout / 0.002)):
            children = bwrap.children()
            if children and (not ready or children[0].children()):
                return children[0].pid
            if self.provisioner.process.poll() is not None:
                return bwrap.pid       # bwrap is gone: nbclient reports the dead kernel
            await asyncio.sleep(0.002)
        return bwrap.pid

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if not self.box:
            return cmd
        os.chown(self.connection_file, self.box.uid, self.box.uid)   # the kernel reads it
        self.forked_argv = _launcher_arguments(cmd) if self.fork_kernels else None
        return self.box.command(cmd if self.forked_argv is None else PLACEHOLDER)

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None and self.box:
            spec.interrupt_mode = "message"   # a signal would hit bwrap, not the kernel
        return spec

    async def _async_wait(self, pollinterval=0.1):
        """Wait for the kernel's process to end, looking every 10 ms (jupyter_client: every 100 ms,
        a tenth of a second of every kernel's shutdown spent idle)."""
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))

    async def shutdown_kernel(self, now=False, restart=False):
        try:
            await super().shutdown_kernel(now=now, restart=restart)
        finally:
            self._remove_box()

    def _remove_box(self):
        if self.box:
            self.box.remove()
            self.box = None


def _launcher_arguments(cmd):
    """The arguments of `<this python> -m ipykernel_launcher <arguments>`, or None for any other
    kernel command (a kernel of another interpreter is started, not forked)."""
    python = shutil.which(cmd[0]) if cmd else None
    if python and os.path.realpath(python) == os.path.realpath(sys.executable) and cmd[1:3] == ["-m", "ipykernel_launcher"]:
        return list(cmd[3:])
    return None
