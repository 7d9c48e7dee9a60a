"""`python -m course release`: reproduces release/ byte for byte, and refuses notebooks that leak or can't run in Colab."""
import shutil

import nbformat
import pytest

from course.authoring import notebooks
from course.layout import ROOT, notebook_path, present_assignments
from course.authoring.release import LeakError, colab_url, find_leaks, release
from notebook_factory import course_copy, nbgrader_cell, square_notebook


def test_release_reproduces_the_committed_release_byte_for_byte(tmp_path):
    assignments = present_assignments()
    assert assignments, "no source notebooks yet"
    root = course_copy(tmp_path)
    for assignment in assignments:
        shutil.copytree(ROOT / "source" / assignment, root / "source" / assignment)
    release(root=root, out=lambda line: None)
    for assignment in assignments:
        built = notebook_path("release", assignment, root).read_bytes()
        committed = notebook_path("release", assignment).read_bytes()
        assert built == committed, f"release/{assignment} is stale: run `python -m course release {assignment}`"
        # and the generated cells of the committed source are up to date with their homes
        assert notebook_path("source", assignment, root).read_bytes() == notebook_path("source", assignment).read_bytes()
    assert sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir()) == assignments


def test_release_adds_a_colab_badge_pointing_at_the_notebook_itself(tmp_path):
    root = course_copy(tmp_path, {"02_forward": square_notebook()})
    release(root=root, out=lambda line: None)
    nb = notebooks.read(notebook_path("release", "02_forward", root))
    assert colab_url("02_forward", root) in nb.cells[0].source
    assert colab_url("02_forward", root).endswith("/blob/main/release/02_forward/forward.ipynb")
    assert "raise NotImplementedError()" in nb.cells[2].source and "x * x" not in nb.cells[2].source


def test_release_refuses_a_misspelled_hidden_test_marker_and_writes_nothing(tmp_path):
    leaky = square_notebook(test="assert square(3) == 9\n### BEGIN HIDDEN TEST\nassert square(-2) == 4\n### END HIDDEN TEST")
    root = course_copy(tmp_path, {"01_initialization": leaky})
    with pytest.raises(LeakError) as refused:
        release(root=root, out=lambda line: None)
    assert "release/01_initialization/initialization.ipynb, cell 3 (test_square)" in str(refused.value)
    assert "BEGIN HIDDEN" in str(refused.value)
    assert not notebook_path("release", "01_initialization", root).exists()


def _leaks(extra_source, cell_type="code"):
    """Leak messages for the square notebook with one extra read-only cell (as it would be released)."""
    new = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    extra = nbgrader_cell(new(extra_source), "extra", locked=True)
    source = square_notebook(extra_cells=[extra])
    released = nbformat.from_dict(source)
    released.cells[1].source = "def square(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    released.cells[2].source = "assert square(3) == 9"
    return find_leaks(released, source, "release/x/x.ipynb")


@pytest.mark.parametrize("extra, expected", [
    ("import course.judge.checks", "imports course.judge.checks"),
    ("from nbgrader.api import Gradebook", "imports nbgrader.api"),
    ("import pandas as pd", "imports pandas"),
    ("import urllib.request", "reaches the network"),
    ("import socket", "reaches the network"),
    ("data = open('iris.csv').read()", "calls open()"),
    ("X = np.loadtxt('xor.txt')", "calls loadtxt()"),
    ("!wget https://example.org/data.csv", "runs a shell command"),
    ("%run helpers.py", "runs a shell command or magic (%run)"),
])
def test_release_check_refuses_what_colab_cannot_run(extra, expected):
    messages = _leaks(extra)
    assert any(expected in m and "cell 3 (extra)" in m for m in messages), messages


def test_release_check_refuses_solution_code_copied_into_another_cell():
    messages = _leaks("Hint: it is one line,\n\n    return x * x", cell_type="markdown")
    assert any("still contains solution or hidden-test code: 'return x * x'" in m for m in messages), messages


def test_release_check_accepts_what_colab_has():
    assert _leaks("import numpy as np\nimport matplotlib.pyplot as plt\nfrom ipywidgets import interact\n"
                  "import os, math\nfrom IPython.display import display\n%matplotlib inline") == []
