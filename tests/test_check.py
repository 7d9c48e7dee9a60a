"""`python -m course check`: every source notebook passes with its solutions and fails with the stubs."""
import subprocess
import sys

import nbformat
import pytest

from course.authoring import notebooks
from course.authoring.check import check_notebook
from course.judge import rules
from course.layout import ASSIGNMENTS, ROOT, notebook_path, tool_env
from notebook_factory import course_copy, nbgrader_cell, square_notebook


@pytest.fixture(autouse=True)
def square_rules(monkeypatch):
    """The square notebooks are graded by tests/square_rules.py (square_strict: a rule that fails)."""
    monkeypatch.setitem(rules.MODULES, "square", "square_rules")
    monkeypatch.setitem(rules.MODULES, "square_strict", "square_strict_rules")


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_source_notebook_passes_check(assignment):
    path = notebook_path("source", assignment)
    assert path.exists(), f"{path} is missing"
    report = check_notebook(notebooks.read(path), assignment, path.parent, path.stem)
    assert report.problems == []
    assert report.points > 0


def test_check_accepts_a_sound_notebook(tmp_path):
    assert check_notebook(square_notebook(), "square", tmp_path, "square").problems == []


def test_check_fails_a_test_cell_the_grader_has_no_rule_for(tmp_path):
    report = check_notebook(square_notebook(test="assert True"), "square", tmp_path, "no_such_notebook")
    assert report.problems == [
        "cell 2 (test_square) raised NoRule: the grader has no rule for test_square; ask your instructor"]


def test_check_fails_a_visible_check_that_passes_on_the_stub(tmp_path, monkeypatch):
    import square_rules
    from course.judge.rules import Rule
    # a rule that awards its points whatever the function does, and visible checks that test nothing
    def grade_nothing(student, check):
        with check.part(2, "nothing at all"):
            pass

    monkeypatch.setitem(rules._registry, "square_rules", {"test_square": Rule("test_square", 2, grade_nothing)})
    report = check_notebook(square_notebook(test="assert True"), "square", tmp_path, "square")
    assert square_rules.NOTEBOOK == "square"
    assert report.problems == ["cell 2 (test_square) earned 2.0 of 2.0 points on the unimplemented stubs: "
                               "the test does not test anything"]


def test_check_fails_a_hidden_rule_that_the_solution_does_not_pass(tmp_path):
    report = check_notebook(square_notebook(), "square", tmp_path, "square_strict")
    assert report.problems == ["cell 2 (test_square) earned 0.0 of 2.0 points with the solutions"]


def test_check_fails_a_notebook_that_writes_to_stderr(tmp_path):
    noisy = nbgrader_cell(nbformat.v4.new_code_cell("import numpy as np\nnp.log(np.zeros(1))"), "demo", locked=True)
    report = check_notebook(square_notebook(extra_cells=[noisy]), "square", tmp_path, "square")
    assert len(report.problems) == 1 and "cell 3 (demo) wrote to stderr: " in report.problems[0]
    assert "RuntimeWarning" in report.problems[0]


def test_check_command_exits_nonzero_and_names_the_problem(tmp_path):
    root = course_copy(tmp_path, {"01_initialization": square_notebook(test="assert True")})
    script = "import sys; from course.authoring.check import check; sys.exit(bool(check(root=sys.argv[1])[0].problems))"
    result = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True,
                            env=tool_env())
    assert result.returncode == 1
    assert "FAILED source/01_initialization/initialization.ipynb" in result.stdout
    assert "the grader has no rule for test_square" in result.stdout


def test_nbgrader_works_in_the_repository_root_with_no_flags(tmp_path):
    root = course_copy(tmp_path, {"01_initialization": square_notebook()})
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "01_initialization"],
                   cwd=root, env=tool_env(), check=True, capture_output=True)
    released = notebook_path("release", "01_initialization", root)
    assert released.exists()
    submitted = root / "submitted" / "alice" / "01_initialization" / "initialization.ipynb"
    submitted.parent.mkdir(parents=True)
    nb = notebooks.fill_solutions(notebooks.read(released), {"square": "def square(x):\n    return x * x"})
    notebooks.write(nb, submitted)
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "01_initialization"],
                   cwd=root, env=tool_env(), check=True, capture_output=True)
    assert (root / "autograded" / "alice" / "01_initialization" / "initialization.ipynb").exists()
    assert (root / "gradebook.db").exists() and not (ROOT / "tests" / "gradebook.db").exists()
