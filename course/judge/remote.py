"""Call the student's functions in their kernel, from the grader, and get plain data back.

    kernel = Kernel(client, manager)                  # nbclient's kernel client and manager
    student = Student(kernel, budget)                 # student.backward(X, y, params, cache)
    grads = student.backward(X, y, params, cache)     # a dict of plain numpy arrays, or raises
    student.close()                                   # ends the session: the kernel is free again

The agent (course/judge/agent.py) is sent once per kernel; the calls of a graded cell
then share one session, a silent execute_request (not stored in the history) in which the
agent reads each call from the kernel's stdin channel and answers it there (input_request
prompts that are JSON; the grader's answer to a result is the next call). The grader
answers the kernel's callbacks the same way: the functions the call hands over (numerical_gradient's f) and the helpers lent
for the call (`lend`: the kernel's `softmax` answered by the grader's reference while
forward_softmax is graded). Whatever the kernel prints meanwhile is read and dropped.

What comes back goes through course.judge.wire.decode: plain data or NotData. An exception
in the student's code comes back as its type name and message and is raised here as
StudentError (a subclass of the builtin of that name when there is one, so that
`except FloatingPointError` works). Arguments the function changed in place are changed
here too (a student's numerical_gradient that forgets to restore x leaves x changed).
"""
import json
import logging
import secrets
import time
from pathlib import Path

import zmq
import zmq.asyncio

from . import wire

log = logging.getLogger(__name__)

AGENT = (Path(__file__).parent / "agent.py").read_text(encoding="utf-8")
PREFIX = "\x1ebackprop-lab:"
# The agent is compiled once per kernel, kept in sys.modules under a name no notebook uses;
# every call runs `_run` (student code may have replaced it: then only its own answers change).
AGENT_MODULE = "__backprop_lab_agent__"
INSTALL_CODE = ('(lambda sys, types: (sys.modules.__setitem__({name!r}, types.ModuleType({name!r})), '
                'exec(compile({agent!r}, "<backprop-lab>", "exec"), sys.modules[{name!r}].__dict__)))'
                '(__import__("sys"), __import__("types"))')
SESSION_CODE = '__import__("sys").modules[{name!r}]._serve(globals(), input, {token!r})'
MAX_PROMPT = wire.MAX_BYTES
INTERRUPT_GRACE = 5.0     # seconds the kernel gets to answer an interrupt


class StudentError(Exception):
    """The student's function raised; .name is the exception's type, str() its message."""

    def __init__(self, name, message):
        super().__init__(message)
        self.name = name


def _error_class(name):
    import builtins
    base = getattr(builtins, name, None) if name.isidentifier() else None
    if isinstance(base, type) and issubclass(base, Exception) and base is not Exception:
        return type(name, (StudentError, base), {})
    return StudentError


class TimeLimit(Exception):
    """The kernel did not answer within the cell's time limit."""


class KernelGone(Exception):
    """The kernel stopped answering (its agent was broken by student code, or it died)."""


class KernelDied(KernelGone):
    """The kernel process is gone (os._exit, a crash, the memory limit)."""


class Kernel:
    """One student's kernel, seen from the grader: remote calls with a time budget.

    The calls of one graded cell share a session: one execute_request in which the agent
    waits on the stdin channel for the next call (one stdin round trip per call instead of
    an execute_request each). end() closes it; nothing else can run in the kernel meanwhile.
    """

    def __init__(self, client, manager):
        self.client = client
        self.manager = manager
        self.discarded_bytes = 0        # what the kernel printed during remote calls
        self.installed = False
        self.session = None             # msg_id of the open session's execute_request
        self.poller = zmq.asyncio.Poller()
        self.channels = {}
        for channel in (client.shell_channel, client.stdin_channel, client.iopub_channel):
            self.poller.register(channel.socket, zmq.POLLIN)
            self.channels[channel.socket] = channel

    async def call(self, name, args=(), kwargs=None, lend=None, errstate=None, deadline=None):
        """name(*args, **kwargs) in the kernel -> the decoded result; raises StudentError,
        wire.NotData, TimeLimit or KernelGone. lend: {name: grader function}."""
        callbacks = wire.Callbacks()
        token = secrets.token_hex(8)
        request = {"token": token, "call": name,
                   "args": wire.encode(list(args), callbacks), "kwargs": wire.encode(dict(kwargs or {}), callbacks),
                   "lend": {n: callbacks.add(f) for n, f in (lend or {}).items()},
                   "errstate": dict(errstate or {})}
        if self.session is None:
            await self._open(deadline)
        self.client.input(json.dumps(request))
        outcome = await self._serve(token, callbacks, deadline)
        if "error" in outcome:
            raise _error_class(_text(outcome["error"], 80))(outcome["error"], _text(outcome.get("message", ""), 500))
        changed = outcome.get("changed", {})
        if type(changed) is not dict:
            raise wire.NotData("a malformed reply")
        for index, after in changed.items():
            if type(index) is str and index.isdigit() and int(index) < len(args):
                _write_back(args[int(index)], after)
        return wire.decode(outcome.get("value"))

    async def _open(self, deadline):
        """Start a session: the agent (sent once per kernel) waits for the first request."""
        if not self.installed:
            self.client.execute(INSTALL_CODE.format(name=AGENT_MODULE, agent=AGENT), silent=True,
                                store_history=False, stop_on_error=False)
            self.installed = True
        token = secrets.token_hex(8)
        self.session = self.client.execute(SESSION_CODE.format(name=AGENT_MODULE, token=token), silent=True,
                                           store_history=False, allow_stdin=True, stop_on_error=False)
        await self._serve(token, wire.Callbacks(), deadline, wanted="ready")

    async def end(self, grace=INTERRUPT_GRACE):
        """Close the session (an empty answer ends the agent's loop) and wait for its reply."""
        if self.session is None:
            return
        msg_id, self.session = self.session, None
        self.client.input("")
        deadline = time.monotonic() + grace
        interrupted = False
        while True:
            now = time.monotonic()
            if now > deadline:
                if interrupted:
                    raise KernelGone("the kernel did not end its session")
                await self._interrupt()
                interrupted, deadline = True, now + grace
            for channel, _ in await self._messages(msg_id, deadline - now):
                if channel is self.client.shell_channel:
                    return
                self.client.input("")              # anything still asking: the session is over

    async def _serve(self, token, callbacks, deadline, wanted="result"):
        """Answer the kernel's prompts until it sends the `wanted` one (left unanswered: the
        kernel waits for the next request); returns its content."""
        interrupted = False
        while True:
            now = time.monotonic()
            if deadline is not None and now > deadline and not interrupted:
                await self._interrupt()
                interrupted, deadline = True, now + INTERRUPT_GRACE
            elif deadline is not None and now > deadline:
                self.session = None
                raise KernelGone("the kernel did not answer an interrupt")
            try:
                messages = await self._messages(self.session, 1.0 if deadline is None else deadline - now)
            except KernelDied:
                self.session = None
                raise
            for channel, message in messages:
                if channel is self.client.shell_channel:      # the session ended before answering
                    self.session = None
                    if interrupted:
                        raise TimeLimit()
                    log.debug("no result: %s", message.get("content"))
                    raise KernelGone("the kernel answered without a result")
                answer, found = self._answer(message, token, callbacks, wanted)
                if found is not None:
                    if interrupted:
                        raise TimeLimit()
                    return found
                self.client.input(answer)

    async def _messages(self, msg_id, wait):
        """[(channel, message)] of the shell and stdin messages for request msg_id that arrive
        within `wait` seconds (at most 1 s); what the kernel prints meanwhile is counted and dropped."""
        ready = dict(await self.poller.poll(max(1, int(1000 * min(1.0, wait)))))
        if not ready and not await self._alive():
            raise KernelDied("the kernel died")
        found = []
        for socket in ready:
            channel = self.channels[socket]
            message = await channel.get_msg(timeout=0)
            if channel is self.client.iopub_channel:
                self.discarded_bytes += len(json.dumps(message.get("content", {}), default=str))
            elif message.get("parent_header", {}).get("msg_id") == msg_id:
                found.append((channel, message))
        return found

    def _answer(self, message, token, callbacks, wanted):
        """(reply text, None) for one input_request of the kernel, or (None, content) when it is
        the prompt the grader waits for."""
        prompt = message.get("content", {}).get("prompt", "")
        if type(prompt) is not str or not prompt.startswith(PREFIX) or len(prompt) > MAX_PROMPT:
            return "", None                       # the student's own input(), or garbage: an empty answer
        try:
            request = json.loads(prompt[len(PREFIX):])
        except ValueError:
            return "", None
        if type(request) is not dict or request.get("token") != token:
            return "", None
        if wanted in request:
            return None, request[wanted] if type(request[wanted]) is dict else {}
        if "callback" not in request:
            return "", None
        try:
            function = callbacks.get(request.get("callback"))
            args = wire.decode(request.get("args"), callbacks)
            kwargs = wire.decode(request.get("kwargs"), callbacks)
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise wire.NotData("malformed arguments")
            value = function(*args, **kwargs)
            return json.dumps({"value": wire.encode(value, wire.Callbacks())}), None
        except wire.NotData as error:   # e.g. init_params(..., np.random): the kernel uses its own helper
            return json.dumps({"error": "TypeError", "message": f"not plain data: {error}", "not_data": True}), None
        except Exception as error:  # noqa: BLE001 - the kernel raises it in the student's code
            return json.dumps({"error": type(error).__name__, "message": str(error)[:300]}), None

    async def _interrupt(self):
        log.info("interrupting the kernel: time limit")
        try:
            await self.manager.interrupt_kernel()
        except Exception as error:  # noqa: BLE001
            log.warning("could not interrupt the kernel: %s", error)

    async def _alive(self):
        try:
            return await self.manager.is_alive()
        except Exception:  # noqa: BLE001
            return False


def _text(value, limit):
    return value[:limit] if type(value) is str else ""


def _write_back(target, after):
    """Make the grader's argument look like the kernel's after the call (in-place changes)."""
    import numpy as np
    try:
        value = wire.decode(after)
    except wire.NotData:
        return
    if isinstance(target, np.random.Generator) and isinstance(value, np.random.Generator):
        target.bit_generator.state = value.bit_generator.state
    elif type(target) is np.ndarray and type(value) is np.ndarray and value.shape == target.shape:
        target[...] = value
    elif type(target) is dict and type(value) is dict:
        target.clear()
        target.update(value)
    elif type(target) is list and type(value) is list:
        target[:] = value


class RemoteFunction:
    """A student's function: calling it runs it in the kernel (see Student)."""

    def __init__(self, student, name):
        self.student = student
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return self.student.run(self.__name__, args, kwargs)

    def with_errstate(self, *args, errstate, **kwargs):
        """Call with numpy's floating-point errors set in the kernel (e.g. over="raise")."""
        return self.student.run(self.__name__, args, kwargs, errstate=errstate)


class Student:
    """The notebook's functions, called in its kernel: `student.sigmoid(z)`.

    budget: seconds for everything this cell asks of the kernel (the cell's time limit).
    lend: {name: grader function} the kernel's function of that name is answered by while
    this cell is graded.
    """

    def __init__(self, kernel, run_sync, budget=None, lend=None):
        self.kernel = kernel
        self.run_sync = run_sync
        self.deadline = None if budget is None else time.monotonic() + budget
        self.lend = dict(lend or {})

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self, name)

    def run(self, name, args, kwargs, errstate=None):
        return self.run_sync(self.kernel.call)(name, args, kwargs, lend=self.lend, errstate=errstate,
                                               deadline=self.deadline)

    def close(self):
        """End the kernel's session: needed before anything else runs in the kernel."""
        self.run_sync(self.kernel.end)()
