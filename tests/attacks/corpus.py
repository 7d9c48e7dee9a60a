"""The attack corpus: submissions to the fixture assignment (tests/attacks/fixture.py), each
with the outcome the grading pipeline must produce.

Every attempt in a submission prints "blocked <what>: <error>" or "LEAK <what>: ..." in the
solution cell's output, so a test can see exactly which ones were stopped. `{root}` in the
code is the absolute path of the course (so absolute-path attacks aim at the real files).
"""
from dataclasses import dataclass, field

import nbformat

from fixture import FULL, RIGHT, WRONG, ZERO

ATTEMPT = '''
import os, socket, sqlite3, time

def attempt(what, action):
    try:
        result = action()
    except BaseException as error:
        print(f"blocked {what}: {type(error).__name__}: {error}"[:160])
    else:
        print(f"LEAK {what}: {str(result)[:60]!r}")
'''


@dataclass
class Attack:
    student: str
    what: str
    code: str                       # the solution cell
    scores: dict                    # expected {test grade_id: points}
    blocked: list = field(default_factory=list)   # attempts that must print "blocked <what>"
    sandbox_only: bool = False      # unsafe or meaningless without the sandbox
    unboxed: bool = True            # also graded with BACKPROP_SANDBOX=off (if not sandbox_only)
    edit: object = None             # edit(notebook) after filling the solution cell


SNOOP = RIGHT + ATTEMPT + '''
attempt("source by relative path", lambda: open("../../../source/01_initialization/initialization.ipynb").read())
attempt("source by absolute path", lambda: open("{root}/source/01_initialization/initialization.ipynb").read())
attempt("listing of submitted/", lambda: os.listdir("{root}/submitted"))
attempt("gradebook by relative path", lambda: open("../../../gradebook.db", "rb").read(64))
attempt("gradebook by absolute path", lambda: open("{root}/gradebook.db", "rb").read(64))
attempt("gradebook update", lambda: sqlite3.connect("file:{root}/gradebook.db?mode=rw", uri=True).execute(
    "update grade set manual_score = 99").rowcount)
attempt("write other student's autograded notebook",
        lambda: open("{root}/autograded/m_right/01_initialization/initialization.ipynb", "a").write("0"))
attempt("write other student's autograded folder",
        lambda: open("{root}/autograded/m_right/01_initialization/planted.txt", "w").write("0"))
attempt("write other student's submission",
        lambda: open("{root}/submitted/m_wrong/01_initialization/initialization.ipynb", "w").write("0"))
attempt("own notebook with the hidden tests", lambda: open("initialization.ipynb").read())
attempt("home directory", lambda: open("/root/.bashrc").read())
attempt("network", lambda: socket.create_connection(("1.1.1.1", 80), timeout=3))
attempt("name lookup", lambda: socket.getaddrinfo("pypi.org", 443))
'''

HOG = RIGHT + ATTEMPT + '''
def fork_many(count=200):
    started = 0
    for _ in range(count):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        started += 1
    return started

def big_file(path, megabytes=100):
    with open(path, "wb") as f:
        for _ in range(megabytes):
            f.write(b"x" * 1024 ** 2)
    return os.path.getsize(path)

attempt("2 GB bytearray", lambda: len(bytearray(2 * 1024 ** 3)))
attempt("2 GB numpy array", lambda: np.ones(2 * 1024 ** 3 // 8).sum())
attempt("200 processes", fork_many)
attempt("100 MB file in the working directory", lambda: big_file("big.bin"))
attempt("100 MB file in /tmp", lambda: big_file("/tmp/big.bin"))
'''

NOISY = RIGHT + '''
import sys
print("debugging output on stderr", file=sys.stderr)
sys.exit("stopping this cell early")
'''

LOOP = RIGHT + '''
while True:          # stopped by the cell timeout: the kernel is interrupted, the tests still run
    pass
'''

OS_EXIT = RIGHT + '''
import os
os._exit(0)
'''

PATCH_EVERYTHING = '''
import builtins, io, sys, numpy

def pass_everything(*args, **kwargs):
    return True

np.allclose = pass_everything
np.testing.assert_allclose = lambda *args, **kwargs: None
builtins.abs = lambda x: 0.0
import course.judge.checks as grading
import course.judge.reference as reference
grading.expect_close = lambda *args, **kwargs: None
grading.Checker.score = lambda self: self.points
grading.Checker.call = lambda self, function, *args, **kwargs: reference.sigmoid(*args)
reference.sigmoid = lambda z: 1.0 / (1.0 + numpy.exp(z))
builtins.print = lambda *args, **kwargs: None
sys.stderr = io.StringIO()
get_ipython().showtraceback = lambda *args, **kwargs: None
'''

PATCH_TOP = WRONG + PATCH_EVERYTHING

PATCH_INSIDE = '''def sigmoid(z):
    """Wrong, and replaces the graders' tools every time it is called."""
''' + "\n".join("    " + line for line in PATCH_EVERYTHING.strip().splitlines()) + '''
    return 1.0 / (1.0 + np.exp(z))
'''

HIDE_TRACEBACK = '''def sigmoid(z):
    """Wrong, and hides the traceback of the test that calls it."""
    shell = get_ipython()
    shell.showtraceback = lambda *args, **kwargs: None
    shell._showtraceback = lambda *args, **kwargs: None
    return 1.0 / (1.0 + np.exp(z))
'''

SHADOW = WRONG + '''
import types, numpy
abs = lambda x: 0.0
np = types.SimpleNamespace(**{k: v for k, v in vars(numpy).items() if not k.startswith("__")})
np.allclose = lambda *args, **kwargs: True
np.testing = types.SimpleNamespace(assert_allclose=lambda *args, **kwargs: None)
'''


def delete_test_cells(nb):
    nb.cells = [c for c in nb.cells
                if (c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                    not in ("test_sigmoid", "test_sigmoid_testing"))]


def edit_test_cells(nb):
    """Edit locked cells: empty a visible test, fake a hidden test's score and output, strip metadata."""
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id == "test_public_allclose":
            cell.source = "pass"
        elif grade_id == "test_public_abs":
            cell.source = "abs = lambda x: 0.0\n" + cell.source
        elif grade_id == "test_sigmoid":
            cell.source = "2"
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=5)]
        elif grade_id == "test_sigmoid_testing":
            cell.source = "pass"
            del cell.metadata["nbgrader"]


ATTACKS = [
    Attack("a_snooper", "read source/ and gradebook.db (relative and absolute paths), write into other "
           "students' folders, read the graded notebook and home, open a network connection",
           SNOOP, FULL, sandbox_only=True,
           blocked=["source by relative path", "source by absolute path", "listing of submitted/",
                    "gradebook by relative path", "gradebook by absolute path", "gradebook update",
                    "write other student's autograded notebook", "write other student's autograded folder",
                    "write other student's submission", "own notebook with the hidden tests",
                    "home directory", "network", "name lookup"]),
    Attack("a_hog", "allocate past the memory limit, start processes past the process limit, write files "
           "past the file-size limit", HOG, FULL, sandbox_only=True,
           blocked=["2 GB bytearray", "2 GB numpy array", "200 processes",
                    "100 MB file in the working directory", "100 MB file in /tmp"]),
    Attack("a_noisy", "print to stderr and sys.exit() in a solution cell (costs nothing)", NOISY, FULL),
    Attack("a_loop", "an infinite loop in a solution cell (interrupted at the cell timeout)", LOOP, FULL,
           unboxed=False),
    Attack("a_os_exit", "os._exit() in a solution cell (the kernel dies: no test can pass)", OS_EXIT, ZERO),
    Attack("z_patch_top", "replace np.allclose, np.testing, builtins.abs, print, sys.stderr, showtraceback "
           "and the grading helpers at the top level", PATCH_TOP, ZERO),
    Attack("z_patch_inside", "replace the same from inside the graded function, while the tests run",
           PATCH_INSIDE, ZERO),
    Attack("z_hide_traceback", "override IPython's showtraceback while a test runs", HIDE_TRACEBACK, ZERO),
    Attack("z_shadow", "shadow abs and np in the notebook's namespace", SHADOW, ZERO),
    Attack("z_delete_tests", "delete the hidden-test cells", WRONG, ZERO, edit=delete_test_cells, unboxed=False),
    Attack("z_edit_tests", "edit locked test cells, fake a test's output, strip a test's metadata",
           WRONG, ZERO, edit=edit_test_cells, unboxed=False),
]

# graded alongside, with and without the attackers: their results must not change
HONEST = {"m_right": (RIGHT, FULL), "m_wrong": (WRONG, ZERO)}
