"""Small nbgrader notebooks built in code, for tests of the course tooling."""
import shutil
from pathlib import Path

import nbformat

from course.layout import ROOT


def nbgrader_cell(cell, grade_id, *, solution=False, grade=False, locked=False, points=0):
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked,
            "schema_version": 3}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def square_notebook(solution="    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                    test="assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-2) == 4\n### END HIDDEN TESTS",
                    extra_cells=()):
    """A one-function source notebook: implement square(x), tested for 2 points."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Squares\nImplement `square(x)`."),
        nbgrader_cell(nbformat.v4.new_code_cell(f"def square(x):\n    \"\"\"x squared.\"\"\"\n{solution}"),
                      "square", solution=True),
        nbgrader_cell(nbformat.v4.new_code_cell(test), "test_square", grade=True, locked=True, points=2),
        *extra_cells,
    ]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"
    return nb


def course_copy(tmp_path, notebooks=None, rules=None):
    """A throwaway course root: this repository's nbgrader_config.py plus the given source notebooks.

    notebooks: {assignment: notebook object}; written to source/<assignment>/<name>.ipynb
    with the fixed notebook names of course.layout.
    rules: {notebook name: module in tests/ or tests/fixtures/} that grades it
    (c.JudgeExecute.rule_modules, for notebooks that are not Backprop Lab's own).
    """
    from course.layout import notebook_path
    root = Path(tmp_path) / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    if rules:
        tests = Path(__file__).resolve().parent
        with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nimport sys\nsys.path[:0] = [{str(tests)!r}, {str(tests / 'fixtures')!r}]\n"
                         f"c.JudgeExecute.rule_modules = {dict(rules)!r}\n")
    for assignment, nb in (notebooks or {}).items():
        path = notebook_path("source", assignment, root)
        path.parent.mkdir(parents=True)
        nbformat.write(nb, str(path))
    return root
