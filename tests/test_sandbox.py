"""The sandbox of the grading kernel (course/grading/sandbox.py): switches, configuration, the
bwrap command. The sandbox is proven against real attacks in tests/test_attacks.py.
"""
import os
import runpy
import shutil
import time

import pytest

from course.grading import execute, sandbox
from course.layout import ROOT

def test_require_refuses_without_bwrap(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as stop:
        sandbox.require(True)
    assert str(stop.value) == sandbox.MISSING
    assert "apt-get install bubblewrap" in str(stop.value) and "--no-sandbox" in str(stop.value)
    sandbox.require(False)          # opting out is allowed


def test_switch(monkeypatch):
    monkeypatch.delenv(sandbox.SWITCH, raising=False)
    assert sandbox.enabled()
    for value in ("off", "OFF", "0", "no", "false"):
        monkeypatch.setenv(sandbox.SWITCH, value)
        assert not sandbox.enabled()
    monkeypatch.setenv(sandbox.SWITCH, "on")
    assert sandbox.enabled()


def test_autograde_preprocessors_are_nbgraders_with_the_judging_execute():
    """nbgrader_config.py lists nbgrader's default autograde steps with Execute swapped for
    GradingExecute; an nbgrader upgrade that changes the default list shows up here."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.utils.importstring import import_item

    from course.layout import _Config
    config = _Config()
    runpy.run_path(str(ROOT / "nbgrader_config.py"), init_globals={"get_config": lambda: config})
    configured = [import_item(name) for name in config.Autograde.autograde_preprocessors]
    default = Autograde.class_traits()["autograde_preprocessors"].make_dynamic_default()
    assert configured[0] is execute.GradingExecute and issubclass(configured[0], Execute)
    assert default[0] is Execute
    assert configured[1:] == default[1:]


def test_bwrap_command_hides_the_course(tmp_path):
    """Only the interpreter and the venv are mounted, not the course package; the submission's
    notebook is left out of its working directory."""
    work = tmp_path / "autograded" / "s1" / "01_initialization"
    work.mkdir(parents=True)
    (work / "initialization.ipynb").write_text("{}")
    (work / "data.csv").write_text("1,2")
    box = sandbox.Box(work, {"memory_limit": 1, "cpu_limit": 2, "process_limit": 3, "file_size_limit": 4,
                             "tmpfs_size": 5})
    try:
        command = box.command(["python", "-m", "ipykernel_launcher"])
    finally:
        box.remove()
    assert not box.dir.exists()
    mounted = {command[i + 1] for i, arg in enumerate(command) if arg in ("--ro-bind", "--bind")}
    assert str(work / "data.csv") in mounted
    assert str(work / "initialization.ipynb") not in mounted
    import sys
    environment = {os.path.realpath(sys.prefix), sys.prefix}
    assert not any(m == str(ROOT) or m.startswith(str(ROOT) + "/") for m in mounted - environment)
    assert not any("course" in m.split("/") for m in mounted)
    assert not any("gradebook" in m for m in mounted)
    assert "--unshare-net" in command and "--clearenv" in command
    assert command[-3:] == ["python", "-m", "ipykernel_launcher"]
    assert ["--as=1", "--cpu=2", "--nproc=3", "--fsize=4"] == [a for a in command if a.split("=")[0] in
                                                               ("--as", "--cpu", "--nproc", "--fsize")]


@pytest.mark.slow      # starts grading kernels
def test_the_grading_kernel_has_no_debugger_and_is_killed_once_the_notebook_has_run(tmp_path, monkeypatch):
    """Two start-up savings of the grading kernel: debugpy (0.1 s of CPU to import) is an empty
    folder in the sandbox, and the kernel is killed, not waited for, when the last cell is done."""
    import nbformat
    import psutil
    monkeypatch.setenv(sandbox.SWITCH, "on")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import importlib.util, sys\n"
        "from ipykernel import debugger\n"
        "print(importlib.util.find_spec('debugpy.server') is None, debugger._is_debugpy_available)")])
    box = sandbox.Box(tmp_path, {"memory_limit": 1, "cpu_limit": 2, "process_limit": 3, "file_size_limit": 4,
                                 "tmpfs_size": 5})
    hidden = [box.command([])[i + 1] for i, arg in enumerate(box.command([])) if arg == "--tmpfs"]
    box.remove()
    assert any(path.endswith("/debugpy") for path in hidden)

    grader = execute.GradingExecute(test_sources={}, timeout=60)
    assert grader.shutdown_kernel == "immediate"
    seen = {}
    original = sandbox.SandboxKernelManager.shutdown_kernel

    async def shutdown(self, now=False, restart=False):
        seen["now"], seen["pid"] = now, self.provisioner.process.pid
        await original(self, now=now, restart=restart)
    monkeypatch.setattr(sandbox.SandboxKernelManager, "shutdown_kernel", shutdown)
    grader.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert nb.cells[0].outputs[0]["text"] == "True False\n"   # no debugpy: ipykernel's debugger is off
    assert seen["now"] is True and not psutil.pid_exists(seen["pid"])


@pytest.mark.slow      # starts grading kernels
def test_a_message_over_the_limit_costs_its_cell_its_output_and_nothing_else(tmp_path, monkeypatch):
    """The grader's client refuses one message over max_message_bytes (its memory is safe); that
    cell gets an OutputLost error, and the next cell's output arrives (IOPub is connected again)."""
    import nbformat
    monkeypatch.setenv(sandbox.SWITCH, "on")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('x' * 3_000_000)"),
                                         nbformat.v4.new_code_cell("print('after')")])
    grader = execute.GradingExecute(test_sources={}, timeout=30, max_message_bytes=1024 ** 2, iopub_timeout=1)
    grader.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    lost, after = nb.cells[0].outputs, nb.cells[1].outputs
    assert [o.ename for o in lost] == ["OutputLost"] and "one message over 1 MiB" in lost[0].evalue
    assert [o.get("text") for o in after] == ["after\n"]


@pytest.mark.slow      # starts grading kernels
def test_a_kernel_that_can_send_nothing_more_is_taken_for_dead(tmp_path, monkeypatch):
    """Attack a01 breaks isinstance, and with it the kernel's own messages: after its cell's output is
    lost the kernel answers nothing, so the cells after it are not run (instead of waiting out each one)."""
    import nbformat
    monkeypatch.setenv(sandbox.SWITCH, "on")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import builtins\nbuiltins.isinstance = lambda *a: True"),
                                         nbformat.v4.new_code_cell("print('after')")])
    grader = execute.GradingExecute(test_sources={}, timeout=2, iopub_timeout=1)   # no reply either: the time limit
    grader.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert [o.ename for o in nb.cells[0].outputs] == ["OutputLost", execute.KERNEL_DIED]
    assert [o.ename for o in nb.cells[1].outputs] == [execute.KERNEL_DIED]
    assert "not run" in nb.cells[1].outputs[0].evalue


@pytest.mark.slow      # starts grading kernels
def test_the_judges_first_call_reaches_a_kernel_ready_at_once(tmp_path, monkeypatch):
    """The kernel counts as ready without jupyter_client's 0.2 s of IOPub silence, but only once its
    stdin socket is connected: the judge's first call goes through it a few milliseconds later, and a
    kernel that did not know the grader's socket yet would drop it (the cell would time out)."""
    import nbformat
    monkeypatch.setenv(sandbox.SWITCH, "on")
    test = nbformat.v4.new_code_cell("")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_square", "points": 2}
    readiness = []
    original = execute.ReadyClient._async_wait_for_ready

    async def timed(self, timeout=None):
        begun = time.monotonic()
        await original(self, timeout)
        readiness.append(time.monotonic() - begun)
    monkeypatch.setattr(execute.ReadyClient, "_async_wait_for_ready", timed)
    monkeypatch.setattr(execute.ReadyClient, "wait_for_ready", timed)
    for run in range(15):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def square(x):\n    return x * x"), test])
        grader = execute.GradingExecute(test_sources={"test_square": ""}, rule_modules={"square": "square_rules"},
                                        timeout=10)
        grader.preprocess(nb, {"metadata": {"path": str(tmp_path)}, "nbgrader": {"notebook": "square"}})
        assert grader.earned == {"test_square": (2, 2)}, (run, nb.cells[1].outputs)
    assert len(readiness) == 15      # every kernel was made ready by ReadyClient
