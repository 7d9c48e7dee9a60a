"""Every release notebook, filled with the reference solutions, runs cleanly where students run it.

Two stacks: Colab's (a cached venv with ipywidgets 7.7.1, IPython 7.34, numpy 2.1.3, matplotlib
3.10.0, no nbgrader, no `course`; see tests/colab_env.py) and the project's own (ipywidgets 8,
what JupyterLab users get). Each notebook runs top to bottom in an empty folder with
NBGRADER_EXECUTION unset, so every slider is built and its picture drawn: no cell may raise or
write to stderr, and no widget may show an error.

The first run builds the Colab venv (about two minutes, pip must reach PyPI); later runs reuse it.
"""
import subprocess
import sys
import textwrap

import nbformat
import pytest

from colab_env import colab_python, execute, interact_outputs, reference_filled
from course.layout import ASSIGNMENTS

STACKS = ["colab", "project"]


@pytest.fixture(scope="session")
def colab_stack():
    """The Colab venv's python (built on first use, then cached under .cache/colab-venv)."""
    return colab_python(log=lambda message: print(message, file=sys.stderr))


@pytest.fixture
def python_of(request):
    return lambda stack: request.getfixturevalue("colab_stack") if stack == "colab" else sys.executable


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("stack", STACKS)
def test_reference_filled_release_runs_cleanly(stack, assignment, python_of):
    nb = reference_filled(assignment)
    run = execute(nb, python_of(stack))
    print(f"{assignment} in the {stack} stack: {run.seconds:.1f} s")
    assert run.problems == [], f"{assignment} in the {stack} stack:\n  " + "\n  ".join(run.problems)
    for cell, pictures in interact_outputs(run).items():
        assert all(pictures), f"{assignment}, cell {cell}: a slider's picture area stayed empty"


def test_colab_venv_is_colabs_stack_and_nothing_more(colab_stack, tmp_path):
    probe = textwrap.dedent("""
        import importlib.util, IPython, ipykernel, ipywidgets, matplotlib, numpy
        print(numpy.__version__, matplotlib.__version__, ipywidgets.__version__,
              IPython.__version__, ipykernel.__version__)
        print(*[name for name in ("nbgrader", "course", "pandas", "nbclient")
                if importlib.util.find_spec(name)])
    """)
    lines = subprocess.run([str(colab_stack), "-c", probe], capture_output=True, text=True, check=True,
                           cwd=tmp_path).stdout.splitlines()     # not the repository: it holds course/
    assert lines[0].split() == ["2.1.3", "3.10.0", "7.7.1", "7.34.0", "6.17.1"]
    assert lines[1:] in ([], [""]), f"the Colab venv has packages Colab lacks: {lines[1]}"


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(source)) for source in sources]
    return nb


def test_what_breaks_in_colab_is_caught(colab_stack):
    """One notebook, one defect per cell; each must be reported against its own cell."""
    nb = _notebook(
        "import numpy as np\nimport matplotlib.pyplot as plt\nfrom ipywidgets import FloatSlider, interact",
        "from course.judge import reference      # Colab has no `course` package",
        "data = np.loadtxt('iris.csv')            # nor any file next to the notebook",
        """\
        def show(lr):
            plt.plot([0, 1 / (lr - 0.5)])        # fails at the slider's start value
            plt.show()

        interact(show, lr=FloatSlider(value=0.5, min=0.5, max=1.0))""",
        "import warnings\nwarnings.warn('deprecated')   # a warning is stderr",
        "from ipywidgets import TagsInput          # ipywidgets 8 only",
    )
    problems = execute(nb, colab_stack).problems
    assert len(problems) == 5, problems
    assert problems[0].startswith("cell 1") and "ModuleNotFoundError: No module named 'course'" in problems[0]
    assert problems[1].startswith("cell 2") and "FileNotFoundError" in problems[1]
    assert problems[2].startswith("cell 3 (def show(lr):), inside a widget: ZeroDivisionError")
    assert problems[3].startswith("cell 4") and "stderr" in problems[3] and "deprecated" in problems[3]
    assert problems[4].startswith("cell 5") and "ImportError" in problems[4]


def test_students_kernel_builds_widgets_even_while_the_tests_grade(colab_stack, monkeypatch):
    """NBGRADER_EXECUTION of the test process does not reach the notebook (or no slider would be
    built), the notebook's folder is empty, and the kernel is Colab's ipywidgets 7."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    nb = _notebook(
        """\
        import os, ipywidgets
        assert "NBGRADER_EXECUTION" not in os.environ, "grading mode leaked into the student's kernel"
        assert os.listdir(".") == [], os.listdir(".")
        assert ipywidgets.__version__ == "7.7.1", ipywidgets.__version__
        slider = ipywidgets.FloatSlider(description="learning rate")
        slider""")
    run = execute(nb, colab_stack)
    assert run.problems == []
    assert any(state.get("description") == "learning rate" for state in run.widgets.values())
