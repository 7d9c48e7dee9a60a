"""GradingExecute: the one Execute step of autograding, for nbgrader autograde and course grade.

    c.Autograde.autograde_preprocessors = ["course.grading.execute.GradingExecute", ...]

It is four things, one per class:
- course.judge.execute.JudgeExecute: graded cells are judged in the grader, not the kernel;
- SandboxKernelManager (course.grading.sandbox): the student's kernel runs locked in;
- ReadyClient (below): the kernel counts as started when it answers, not 0.2 s later;
- SurviveKernelDeath (below): nbgrader's Execute gives up on the whole notebook when the
  kernel dies (os._exit, a segfault, the memory limit) and the student gets nothing; here
  the cells before keep their points, the cell that killed the kernel and the ones after it
  get an error saying so (0 points for their tests).
"""
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from traitlets import Enum

from ..judge.execute import JudgeExecute
from .sandbox import SandboxKernelManager

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
    """jupyter_client's kernel client, ready once the kernel has answered kernel_info and IOPub
    is known to be connected (a message has come through it).

    jupyter_client's own wait_for_ready then listens to IOPub until it has been silent for
    0.2 s, to throw away messages nobody asked for; nbclient and the judge read only the
    messages whose parent is their own request, so that wait is a fifth of a second of
    every notebook's grading spent idle."""

    async def _async_wait_for_ready(self, timeout=None):
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
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

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

    async def async_start_new_kernel_client(self):
        self.km.client_factory = ReadyClient
        return await super().async_start_new_kernel_client()

    start_new_kernel_client = run_sync(async_start_new_kernel_client)   # see JudgeExecute
