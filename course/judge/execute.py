"""JudgeExecute: nbgrader's Execute, except that graded cells are judged here, not in the kernel.

Every cell of the submission runs in the student's kernel as usual, but a graded test cell
(nbgrader: grade and not solution) is never sent there. Instead, in this process:

1. its visible checks (the cell's source as nbgrader restored it from the gradebook: the
   instructor's, never the student's copy) run here, with the notebook's functions called
   in the kernel (course.judge.remote) and the notebook's given code and data from the
   rule module's context(); a failing assert is the cell's error, as it was in the kernel;
2. its rule (course/judge/rules/<notebook>.py) grades the functions on hidden inputs;
3. the cell's outputs are written from what this process decided: the messages as a
   stream, the points as the execute_result nbgrader reads (nbgrader.utils.determine_grade).

Nothing the kernel prints, displays or raises decides a score: the kernel only computes.
A graded cell with no rule earns nothing (and says so). A test cell the gradebook does not
know (made-up grading metadata) is neither run here nor in the kernel: it gets an error.

Outputs of the cells that do run in the kernel are capped per cell (max_output_bytes), and
the client refuses any single message over max_message_bytes (that cell gets an OutputLost
error, the next cells run), so a flood of prints never reaches the grader's memory.
"""
import contextlib
import io
import logging
import time

import zmq
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute
from traitlets import Dict, Instance, Integer

from . import remote, rules
from .checks import Checker

log = logging.getLogger(__name__)

TIMEOUT = "CellTimeoutError"


def is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


class JudgeExecute(Execute):
    """Execute for autograding: test cells are judged in this process (see the module)."""

    max_output_bytes = Integer(1024 * 1024, config=True,
                               help="outputs kept per kernel cell; the rest is dropped with one line").tag(config=True)
    max_message_bytes = Integer(64 * 1024 * 1024, config=True,
                                help="the largest message accepted from the kernel").tag(config=True)

    rule_modules = Dict(config=True, help="{notebook name: module of its rules} for notebooks the course adds "
                                         "(course/judge/rules/ holds the five of Backprop Lab)").tag(config=True)
    test_sources = Instance(dict, allow_none=True,
                        help="{grade_id: the trusted source of its test cell}; None: read from the gradebook")

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        self.notebook_name = info.get("notebook") or (resources or {}).get("unique_key")
        self.rules, self.module = rules.for_notebook(self.notebook_name, self.rule_modules)
        self.trusted = self.test_sources if self.test_sources is not None else self._gradebook_sources(info)
        self.kernel = None
        self.earned = {}          # grade_id -> (points earned, points) of the cells judged so far
        self._cell_bytes = {}
        return super().preprocess(nb, resources, km)

    def _gradebook_sources(self, info):
        """The instructor's source of each graded test cell, from nbgrader's gradebook."""
        sources = {}
        if not info.get("db_url"):
            return sources
        with Gradebook(info["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return sources
            graded = {cell.name for cell in notebook.grade_cells if cell.cell_type == "code"}
            for cell in notebook.source_cells:
                if cell.name in graded:          # the test cells (and code solution cells' ids, never judged)
                    sources[cell.name] = cell.source
        return sources

    async def async_start_new_kernel_client(self):
        # the client makes its sockets (on a zmq context of its own) when its channels start:
        # the limit goes on that context as soon as the client exists
        make_client = self.km.client

        def limited_client(**kwargs):
            client = make_client(**kwargs)
            client.context.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
            return client
        self.km.client = limited_client
        return await super().async_start_new_kernel_client()

    # nbclient's setup_kernel calls start_new_kernel_client, which it made from its own coroutine:
    # bound again here, or the override above never runs
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if not is_test_cell(cell):
            try:
                return super().preprocess_cell(cell, resources, index)
            except CellTimeoutError as error:   # nbgrader raises it when IOPub brings no end of the cell
                if "IOPub" not in str(error):
                    raise
                cell.outputs.append(_error("OutputLost", (
                    f"the grader did not get all of this cell's output: one message over "
                    f"{self.max_message_bytes / 1024 ** 2:.0f} MiB, or none within {self.iopub_timeout} s; print less")))
                self._reconnect_iopub()
                return cell, resources
        if grade_id in self.trusted:
            self.judge_cell(cell, grade_id, index)
        else:   # never run a test cell in the kernel: its output would be the kernel's word
            cell.outputs = [_error("NotGraded", f"{grade_id!r} is not a test cell of this assignment")]
        return cell, resources

    def _reconnect_iopub(self):
        """ZeroMQ drops the connection that brought a message over the limit and does not make it
        again: a new IOPub socket, in use once a message has come through it. A kernel that sends
        nothing through it either is taken for dead (DeadKernelError: the cells after this one are
        not run, see course.grading.execute.SurviveKernelDeath)."""
        self.kc.iopub_channel.close()
        self.kc._iopub_channel = None
        self.kc.iopub_channel.start()
        try:
            run_sync(self.kc.wait_for_ready)(timeout=self.iopub_timeout)
        except RuntimeError:     # it cannot send anything any more (its own code broke it): as good as dead
            raise DeadKernelError("the kernel stopped answering") from None

    # --- judging ---------------------------------------------------------------------

    def judge_cell(self, cell, grade_id, index):
        """Write the outputs of graded cell `grade_id` from this process's verdict."""
        start = time.perf_counter()
        if self.kernel is None:
            self.kernel = remote.Kernel(self.kc, self.km)
        rule = self.rules.get(grade_id)
        if rule is None:
            cell.outputs = [_error("NoRule", f"the grader has no rule for {grade_id}; ask your instructor")]
            return
        student = remote.Student(self.kernel, run_sync, budget=self.timeout, lend=self._to_lend(rule))
        printed = io.StringIO()
        check = Checker(rule.points)
        try:
            try:
                with contextlib.redirect_stdout(printed):
                    self._visible_checks(self.trusted[grade_id], rule, student)
                rule.grade(student, check)
            finally:
                student.close()          # the kernel is free for the next cell
        except AssertionError as failure:
            cell.outputs = _stream(printed.getvalue()) + [_error(type(failure).__name__, str(failure))]
        except remote.TimeLimit:
            cell.outputs = _stream(printed.getvalue()) + [
                _error(TIMEOUT, f"stopped after {self.timeout} s: the notebook's code did not finish")]
        except remote.KernelDied:
            raise DeadKernelError(f"the kernel died while {grade_id} was graded") from None
        except remote.KernelGone as gone:
            cell.outputs = _stream(printed.getvalue()) + [_error("NoAnswer", f"the notebook's kernel did not answer: {gone}")]
        except remote.StudentError as error:
            cell.outputs = _stream(printed.getvalue()) + [_error(error.name[:80], str(error)[:300])]
        except Exception as error:  # noqa: BLE001 - e.g. non-data in a visible check: this cell only
            cell.outputs = _stream(printed.getvalue()) + [_error(type(error).__name__, str(error)[:300])]
        else:
            lines = check.summary()
            cell.outputs = _stream(printed.getvalue() + "".join(line + "\n" for line in lines))
            self.earned[grade_id] = (check.score(), rule.points)
            cell.outputs.append(new_output("execute_result", data={"text/plain": repr(check.score())},
                                           execution_count=None))
        cell.execution_count = None
        log.info("judged %s in %.2f s", grade_id, time.perf_counter() - start)

    def _to_lend(self, rule):
        """The helpers the kernel gets from the grader for this cell: those of rule.lend whose own
        test cell has not earned its full points here (wrong, unfinished, or not judged yet).
        A helper that earned them is the student's, and right as far as its tests can tell; one
        with no test cell of its own is the notebook's read-only given code."""
        lend = {}
        for name, function in rule.lent().items():
            test = f"test_{name}"
            if test in self.rules and self.earned.get(test) != (self.rules[test].points, self.rules[test].points):
                lend[name] = function
        return lend

    def _visible_checks(self, source, rule, student):
        """Run the cell's visible checks here: the student's functions remote, the rest ours."""
        namespace = {"__name__": "visible_checks", "__builtins__": __builtins__}
        for name in getattr(self.module, "STUDENT", []):
            namespace[name] = getattr(student, name)
        namespace.update(self.module.context())
        namespace.update(rule.lent())
        exec(compile(source, f"<visible checks of {rule.grade_id}>", "exec"), namespace)

    # --- bounded outputs -------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        size = len(str(msg.get("content", "")))
        used = self._cell_bytes.get(cell_index, 0)
        self._cell_bytes[cell_index] = used + size
        if used + size > self.max_output_bytes:
            if used <= self.max_output_bytes:
                outs.append(new_output("stream", name="stdout",
                                       text=f"[output cut: this cell printed more than "
                                            f"{self.max_output_bytes // 1024} KiB]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)


def _stream(text):
    return [new_output("stream", name="stdout", text=text)] if text else []


def _error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
