"""GradingExecute: the one Execute step of autograding, for nbgrader autograde and course grade.

    c.Autograde.autograde_preprocessors = ["course.grading.execute.GradingExecute", ...]

It is three things, one per class:
- course.judge.execute.JudgeExecute: graded cells are judged in the grader, not the kernel;
- SandboxKernelManager (course.grading.sandbox): the student's kernel runs locked in;
- SurviveKernelDeath (below): nbgrader's Execute gives up on the whole notebook when the
  kernel dies (os._exit, a segfault, the memory limit) and the student gets nothing; here
  the cells before keep their points, the cell that killed the kernel and the ones after it
  get an error saying so (0 points for their tests).
"""
from nbclient.exceptions import DeadKernelError
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

