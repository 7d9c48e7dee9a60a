"""Reading and writing notebooks; solution regions; cells generated from one home.

Code shared by several notebooks (given functions, plotting helpers, the iris
data) lives once under course/authoring/snippets/ (or is generated, like the iris data
cell) and is copied into every source cell that names it in its metadata:

    "metadata": {"backprop_lab": {"snippet": "xor_data.py"}}     # course/authoring/snippets/xor_data.py
    "metadata": {"backprop_lab": {"generated": "iris_data"}}     # course.data.iris_data_cell()
    "metadata": {"backprop_lab": {"given": ["sigmoid", "forward"]}}  # from course/judge/reference.py
    "metadata": {"backprop_lab": {"check_your_work": "forward.ipynb"}}  # course/authoring/check_your_work.py

`python -m course release` refreshes those cells before nbgrader runs.
"""
import importlib
from pathlib import Path

import nbformat

SNIPPETS = Path(__file__).resolve().parent / "snippets"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def read(path):
    return nbformat.read(str(path), as_version=4)


def write(nb, path):
    """Write deterministically: the same notebook always gives the same bytes."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell):
    return nbgrader_meta(cell).get("grade_id")


def is_solution(cell):
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell):
    """An autograder test cell: graded code that is not a solution."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def split_region(source, markers=MARKERS):
    """(outside lines, inside lines) of a cell around a BEGIN/END marker pair."""
    outside, inside, depth = [], [], False
    for line in source.splitlines():
        if line.strip() == markers[0]:
            depth = True
        elif line.strip() == markers[1]:
            depth = False
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    return outside, inside


def reference_solutions(source_nb):
    """{grade_id: code} for every code solution cell, with the solution markers removed."""
    solutions = {}
    for cell in source_nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            solutions[grade_id(cell)] = "\n".join(
                line for line in cell.source.splitlines() if line.strip() not in MARKERS)
    return solutions


def fill_solutions(release_nb, codes):
    """A copy of a release notebook with the given solution cells' code put in (by grade_id)."""
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell) and grade_id(cell) in codes:
            cell.source = codes[grade_id(cell)]
    return nb


def given_source(names):
    """Read-only code for a notebook: reference functions from earlier assignments, and
    reference constants (upper-case names such as GRADIENT_CHECK_EPS) written as assignments."""
    import inspect
    from ..judge import reference
    header = ("# Given code (read-only): the functions you wrote in earlier assignments.\n"
              "import numpy as np\n")
    constants = [f"{n} = {getattr(reference, n)!r}" for n in names if n.isupper()]
    functions = [inspect.getsource(getattr(reference, n)).rstrip() for n in names if not n.isupper()]
    if constants:
        header += "\n# The gradient check's step and threshold, the same in assignments 3, 4 and 5.\n" + "\n".join(constants) + "\n"
    return header + "\n\n" + "\n\n\n".join(functions)


def snippet_source(meta, nb=None):
    """The text a generated cell must hold, from its backprop_lab metadata (and, for the
    check-your-work cells, from the notebook nb that holds them)."""
    if "check_your_work" in meta:
        from . import check_your_work
        return check_your_work.cell_source(meta["check_your_work"], nb)
    if "given" in meta:
        return given_source(meta["given"])
    if "snippet" in meta:
        return (SNIPPETS / meta["snippet"]).read_text(encoding="utf-8").rstrip("\n")
    module_name, _, function = meta["generated"].rpartition(".")
    module = importlib.import_module(f"course.{module_name or 'data'}")
    return getattr(module, f"{function}_cell")().rstrip("\n")


def sync_snippets(nb):
    """Refresh every generated cell from its home; returns the names of cells that changed."""
    changed = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("backprop_lab")
        if not meta:
            continue
        text = snippet_source(meta, nb)
        if cell.source != text:
            cell.source = text
            changed.append(meta.get("snippet") or meta.get("generated") or meta.get("check_your_work") or "given")
    return changed
