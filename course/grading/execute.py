"""GradingExecute: the one Execute step of autograding, for nbgrader autograde and course grade.

    c.Autograde.autograde_preprocessors = ["course.grading.execute.GradingExecute", ...]

It is four things, one per class:
- course.judge.execute.JudgeExecute: graded cells are judged in the grader, not the kernel;
- SandboxKernelManager (course.grading.sandbox): the student's kernel runs locked in;
- ReadyClient (below): the kernel counts as started once all its sockets are known to be
  connected, not after 0.2 s of silence;
- SurviveKernelDeath (below): nbgrader's Execute gives up on the whole notebook when the
  kernel dies (os._exit, a segfault, the memory limit) and the student gets nothing; here
  the cells before keep their points, the cell that killed the kernel and the ones after it
  get an error saying so (0 points for their tests).
"""
import asyncio
import time
from queue import Empty

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from traitlets import Enum

from ..judge.execute import JudgeExecute
from .sandbox import SandboxKernelManager, start_fork_server

KERNEL_DIED = "KernelDied"


class SurviveKernelDeath:
    """Mixin for nbgrader's Execute: a dead kernel ends execution, not the student's grade."""

    _dead_at = None

    def preprocess(self, nb, resources=None, km=None):
        self._dead_at = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if self._dead_at is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error(f"not run: the kernel died at cell {self._dead_at}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = index
            cell.outputs.append(_error(f"the kernel died while running this cell (cell {index}): "
                                       "the code exited Python, crashed or ran out of memory"))
            return cell, resources


def _error(message):
    return NotebookNode(output_type="error", ename=KERNEL_DIED, evalue=message,
                        traceback=[f"{KERNEL_DIED}: {message}"])


class ReadyClient(AsyncKernelClient):
    """jupyter_client's kernel client, ready as soon as every socket the grader uses is connected.

    jupyter_client's wait_for_ready takes a kernel_info reply as proof of the shell socket and one
    IOPub message as proof of IOPub, then listens to IOPub until it has been silent for 0.2 s: a
    fifth of a second of every notebook spent idle. That wait also hid a race: the kernel answers
    the judge's calls through the stdin socket (course.judge.remote), and the kernel drops what
    it sends there to a grader whose stdin connection it does not know yet. So ready here means:
    the kernel_info reply, one IOPub message, and the stdin socket's handshake done (a ZeroMQ
    monitor, attached before the socket connects)."""

    stdin_handshake = None

    def connect_stdin(self, identity=None):
        if self.curve_publickey is not None:     # encrypted sockets: jupyter_client's own, and its wait
            return super().connect_stdin(identity=identity)
        socket = self.context.socket(zmq.DEALER)    # as jupyter_client makes it, with the monitor first
        socket.linger = 1000
        if identity:
            socket.identity = identity
        self.stdin_handshake = socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self._monitored = socket
        socket.connect(self._make_url("stdin"))
        return socket

    async def _async_wait_for_ready(self, timeout=None):
        if self.stdin_handshake is None:
            return await super()._async_wait_for_ready(timeout=timeout)
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)   # IOPub subscribed: outputs will arrive
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        monitor, self.stdin_handshake = self.stdin_handshake, None
        try:
            await asyncio.wait_for(monitor.recv_multipart(), max(1.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise RuntimeError("the kernel's stdin socket did not connect") from None
        finally:
            self._monitored.disable_monitor()
            monitor.close(linger=0)

    wait_for_ready = _async_wait_for_ready     # AsyncKernelClient binds the name to its own at import


class GradingExecute(SurviveKernelDeath, JudgeExecute):
    """nbgrader's Execute step for grading: judged test cells, a sandboxed kernel, kernel deaths survived.

    (nbgrader's Execute takes its kernel manager class as a constructor default, which
    c.Execute.kernel_manager_class cannot override: hence the keyword here.)
    """

    # The kernel's outputs are all in when the last cell ends, and its sandbox is thrown away:
    # no need to wait 0.2 s for it to shut itself down.
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate", config=True,
                           help="'immediate': the kernel is killed once the notebook has run")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)
        if issubclass(self.kernel_manager_class, SandboxKernelManager):
            start_fork_server(self.config)

    async def async_start_new_kernel_client(self):
        self.km.client_factory = ReadyClient
        return await super().async_start_new_kernel_client()

    start_new_kernel_client = run_sync(async_start_new_kernel_client)   # see JudgeExecute

