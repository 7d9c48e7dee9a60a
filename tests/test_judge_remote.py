"""course.judge.remote: the student's functions run in a real kernel, the grader gets plain data.

One plain (unsandboxed) IPython kernel for the module; each test defines the notebook code it
needs, then calls it from here as the judge does.
"""
import time

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbclient.util import run_sync

from course.judge import remote, wire


@pytest.fixture(scope="module")
def kernel():
    client = NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3", timeout=60)
    with client.setup_kernel():
        client.kernel = remote.Kernel(client.kc, client.km)
        yield client


def define(kernel, code):
    """Run notebook code in the kernel, as a student's cell."""
    run_sync(kernel.kernel.end)()          # the judge's session, if open, ends before a cell runs
    cell = nbformat.v4.new_code_cell(code)
    kernel.nb.cells.append(cell)
    kernel.execute_cell(cell, len(kernel.nb.cells) - 1)
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors


def student(kernel, budget=20, lend=None):
    return remote.Student(kernel.kernel, run_sync, budget=budget, lend=lend)


def test_a_call_returns_plain_data(kernel):
    define(kernel, "import numpy as np\ndef forward(X, params):\n"
                   "    Z = X @ params['W']\n    return Z, {'Z': Z, 'n': len(X)}")
    X, W = np.arange(6.0).reshape(3, 2), np.ones((2, 1))
    out, cache = student(kernel).forward(X, {"W": W})
    assert type(out) is np.ndarray and np.array_equal(out, X @ W) and cache["n"] == 3


def test_the_students_exception_comes_back_as_its_own_type(kernel):
    define(kernel, "def todo(x):\n    raise NotImplementedError()\ndef broken(x):\n    return x.nope")
    with pytest.raises(NotImplementedError):
        student(kernel).todo(1)
    with pytest.raises(AttributeError, match="nope"):
        student(kernel).broken(1)


def test_arguments_changed_in_place_are_changed_here_too(kernel):
    define(kernel, "def clobber(a, d):\n    a *= 2\n    d['new'] = 1\n    return None")
    a, d = np.ones(3), {"old": 0}
    student(kernel).clobber(a, d)
    assert np.array_equal(a, [2.0, 2.0, 2.0]) and d == {"old": 0, "new": 1}


def test_a_function_argument_is_answered_by_the_grader(kernel):
    define(kernel, "def ng(f, x, eps=1e-5):\n    g = np.zeros(x.shape)\n    for i in np.ndindex(x.shape):\n"
                   "        o = x[i]; x[i] = o + eps; a = f(x); x[i] = o - eps; b = f(x); x[i] = o\n"
                   "        g[i] = (a - b) / (2 * eps)\n    return g")
    seen = []
    x = np.array([1.0, -2.0])
    grad = student(kernel).ng(lambda v: seen.append(v.copy()) or float(np.sum(v ** 2)), x)
    assert np.allclose(grad, [2.0, -4.0]) and len(seen) == 4 and np.array_equal(x, [1.0, -2.0])


def test_a_lent_helper_is_the_graders_for_the_call_and_the_students_after(kernel):
    define(kernel, "def helper(z):\n    return 'mine'\ndef outer(z):\n    return helper(z)")
    lent = {"helper": lambda z: "the grader's"}
    assert student(kernel, lend=lent).outer(1) == "the grader's"
    assert student(kernel).outer(1) == "mine"


def test_what_the_kernel_prints_meanwhile_is_dropped(kernel):
    define(kernel, "def noisy(x):\n    for _ in range(300):\n        print('x' * 1000)\n    input('a question?')\n"
                   "    return x")
    assert student(kernel).noisy(5) == 5
    assert kernel.kernel.discarded_bytes > 300_000


def test_a_function_that_runs_forever_is_stopped_at_the_cells_time_limit(kernel):
    define(kernel, "import time\ndef forever(x):\n    while True:\n        time.sleep(0.01)")
    start = time.monotonic()
    with pytest.raises(remote.TimeLimit):
        student(kernel, budget=2).forever(1)
    assert time.monotonic() - start < 20
    assert student(kernel).outer(2) == "mine"          # the kernel still answers afterwards


def test_a_forged_or_broken_agent_only_changes_the_students_own_answers(kernel):
    define(kernel, "import sys\nagent = sys.modules['__backprop_lab_agent__']\nreal = agent._run\n"
                   "def lie(payload, ns, ask):\n    ask(agent.PREFIX + '{\"token\": \"guess\", \"result\": {\"value\": 42}}')\n"
                   "    return real(payload, ns, ask)\nagent._run = lie")
    assert student(kernel).outer(3) == "mine"          # the forged result had the wrong token
    define(kernel, "agent._run = lambda payload, ns, ask: ask(agent.PREFIX + '{\"token\": ' + "
                   "__import__('json').dumps(__import__('json').loads(payload)['token']) + "
                   "', \"result\": {\"value\": {\"other\": \"Evil\"}}}')")
    with pytest.raises(wire.NotData, match="a Evil"):
        student(kernel).outer(4)
    define(kernel, "agent._run = real")


def test_the_calls_of_a_cell_share_one_session_and_ending_it_frees_the_kernel(kernel, monkeypatch):
    define(kernel, "def double(x):\n    return 2 * x")
    executed = []
    execute = kernel.kernel.client.execute
    monkeypatch.setattr(kernel.kernel.client, "execute", lambda code, **kw: executed.append(code) or execute(code, **kw))
    who = student(kernel)
    assert [who.double(i) for i in range(20)] == [2 * i for i in range(20)]
    assert len(executed) == 1 and "_serve" in executed[0]      # twenty calls, one execute_request
    who.close()
    who.close()                                                 # closing twice is harmless
    define(kernel, "after = double(21)")                        # the kernel runs cells again
    assert student(kernel).double(4) == 8
    assert executed[1] == "after = double(21)" and len(executed) == 3 and "_serve" in executed[2]
