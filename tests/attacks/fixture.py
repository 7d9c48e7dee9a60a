"""A small assignment and a throwaway course for the attack corpus.

The assignment asks for sigmoid(z) and grades it in four test cells, each of
which leans on one thing a submission might try to replace:

    test_public_allclose   1 pt   visible   np.allclose
    test_public_abs        1 pt   visible   builtins.abs
    test_sigmoid           2 pts  hidden    course.judge.checks (Checker, expect_close) and course.judge.reference
    test_sigmoid_testing   1 pt   hidden    np.testing.assert_allclose

so a wrong sigmoid earns 0 everywhere, and any replacement that worked would
show up as points in its own cell.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from course.authoring import notebooks
from course.layout import notebook_path, tool_env
from course.authoring.release import generate
from notebook_factory import course_copy, nbgrader_cell

ASSIGNMENT = "01_initialization"
NOTEBOOK = notebook_path("source", ASSIGNMENT).stem      # "initialization"
POINTS = {"test_public_allclose": 1.0, "test_public_abs": 1.0, "test_sigmoid": 2.0, "test_sigmoid_testing": 1.0}
FULL = dict(POINTS)
ZERO = {name: 0.0 for name in POINTS}

RIGHT = '''def sigmoid(z):
    """Elementwise logistic of an array of any shape."""
    return 1.0 / (1.0 + np.exp(-z))
'''
WRONG = '''def sigmoid(z):
    """The classic sign slip: exp(+z)."""
    return 1.0 / (1.0 + np.exp(z))
'''

# Limits for the tests: small, so every bomb is bounded well below the machine's memory.
TEST_LIMITS = {"memory_limit": 1024 ** 3, "process_limit": 32, "file_size_limit": 32 * 1024 ** 2,
               "tmpfs_size": 48 * 1024 ** 2, "cpu_limit": 120}

HIDDEN_CHECKER = '''# sigmoid is also checked by hidden tests
### BEGIN HIDDEN TESTS
from course.judge.checks import Checker, expect_close
from course.judge import reference
check = Checker(points=2)
z = np.linspace(-6.0, 6.0, 13).reshape(13, 1)
with check.part(1, "sigmoid of a column of values"):
    expect_close(check.call(sigmoid, z), reference.sigmoid(z), "sigmoid(z)", hint="1 / (1 + exp(-z))")
with check.part(1, "sigmoid of a (2, 3) array"):
    grid = np.array([[-2.0, 0.0, 2.0], [3.0, -3.0, 0.5]])
    expect_close(check.call(sigmoid, grid), reference.sigmoid(grid), "sigmoid(grid)")
check.score()
### END HIDDEN TESTS'''
HIDDEN_TESTING = '''# more hidden tests
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(sigmoid(np.array([-1.0, 1.0])), [0.2689414213699951, 0.7310585786300049], rtol=1e-6)
### END HIDDEN TESTS'''


def source_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Sigmoid\nImplement `sigmoid(z)`."),
        nbgrader_cell(nbformat.v4.new_code_cell("import numpy as np"), "imports", locked=True),
        nbgrader_cell(nbformat.v4.new_code_cell(RIGHT.replace(
            '    return', '    ### BEGIN SOLUTION\n    return').rstrip() + "\n    ### END SOLUTION"),
            "sigmoid", solution=True),
        nbgrader_cell(nbformat.v4.new_code_cell(
            "assert np.allclose(sigmoid(np.array([0.0, 100.0])), [0.5, 1.0])"),
            "test_public_allclose", grade=True, locked=True, points=1),
        nbgrader_cell(nbformat.v4.new_code_cell(
            "assert abs(float(sigmoid(np.array([100.0]))[0]) - 1.0) < 1e-6"),
            "test_public_abs", grade=True, locked=True, points=1),
        nbgrader_cell(nbformat.v4.new_code_cell(HIDDEN_CHECKER), "test_sigmoid", grade=True, locked=True, points=2),
        nbgrader_cell(nbformat.v4.new_code_cell(HIDDEN_TESTING), "test_sigmoid_testing",
                      grade=True, locked=True, points=1),
    ]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"
    return nb


class AttackCourse:
    """A throwaway nbgrader course holding the fixture assignment, with the tests' sandbox limits."""

    def __init__(self, directory, template=None):
        """A new course in directory/course, or a copy of the template course (quicker: no generate)."""
        if template is not None:
            self.root = Path(directory) / "course"
            shutil.copytree(template.root, self.root)
        else:
            self.root = course_copy(directory, {ASSIGNMENT: source_notebook()})
            with open(self.root / "nbgrader_config.py", "a") as config:
                config.write("\n# tests: small sandbox limits\n")
                for name, value in TEST_LIMITS.items():
                    config.write(f"c.SandboxKernelManager.{name} = {value}\n")
                # nbclient's per-cell timestamps are the only bytes that differ between two runs of
                # the same notebook; without them runs can be compared byte for byte
                config.write("c.Execute.record_timing = False\n")
                config.write("c.Execute.timeout = 10\n")       # a_loop waits this long
            generate(ASSIGNMENT, self.root)
        self.release = notebooks.read(notebook_path("release", ASSIGNMENT, self.root))

    def submit(self, student, code=None, edit=None):
        """Write a submission: the release notebook with `code` in the solution cell, then edit(nb)."""
        nb = notebooks.fill_solutions(self.release, {"sigmoid": code} if code else {})
        if edit:
            edit(nb)
        path = self.submission_path(student)
        path.parent.mkdir(parents=True, exist_ok=True)
        notebooks.write(nb, path)

    def submission_path(self, student, folder="submitted"):
        return self.root / folder / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"

    def start_autograde(self, sandbox=True):
        """Start `nbgrader autograde` (returns the process: several courses can grade at once)."""
        env = tool_env(BACKPROP_SANDBOX="on" if sandbox else "off")
        return subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT],
                                cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def scores(self, student):
        """{test grade_id: score} from the gradebook."""
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            return {g.name: g.score for g in nb.grades if g.cell_type == "code"}

    def graded_cells(self, student):
        """{grade_id: cell} of the autograded notebook."""
        nb = notebooks.read(self.submission_path(student, "autograded"))
        return {notebooks.grade_id(c): c for c in nb.cells if notebooks.grade_id(c)}

    def output_text(self, student, grade_id):
        cell = self.graded_cells(student)[grade_id]
        parts = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type == "error":
                parts.append(f"{output.ename}: {output.evalue} {' '.join(output.traceback)}")
            else:
                parts.append(str(output.get("data", {}).get("text/plain", "")))
        return "".join(parts)


def wait(process, timeout=600):
    """The log of a finished autograde run (nbgrader exits with 1 when a student's kernel died:
    the tests look at the gradebook instead)."""
    out, err = process.communicate(timeout=timeout)
    if "Traceback" in err and "error processing assignment" not in err:
        raise RuntimeError(f"nbgrader autograde failed:\n{err[-4000:]}")
    return err


def tree_bytes(folder):
    """{relative path: bytes} of every file under folder."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def gradebook_rows(root, student):
    """Everything the gradebook holds about one student's grades, as plain tuples."""
    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        grades = sorted((g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade, g.max_score)
                        for g in nb.grades)
        comments = sorted((c.name, c.auto_comment, c.manual_comment) for c in nb.comments)
        return grades, comments, nb.score, nb.max_score, nb.needs_manual_grade
