"""Normalization of submitted files: Colab's JSON, lost nbgrader metadata, damaged files."""
import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from course.authoring import notebooks
from course.grading.normalize import normalize, parse, NotANotebook, restore_nbgrader_metadata

FIXTURES = Path(__file__).parent / "fixtures"


def release():
    return notebooks.read(FIXTURES / "forward_release.ipynb")


def fixture_bytes(name):
    return (FIXTURES / name).read_bytes()


def graded_cells(nb):
    return {notebooks.grade_id(c): (c.cell_type, c.metadata["nbgrader"]) for c in nb.cells if notebooks.grade_id(c)}


def test_colab_saved_notebook_becomes_a_valid_jupyter_notebook():
    nb, log, problem = normalize(fixture_bytes("colab_saved.ipynb"), "Copy of forward.ipynb", release(),
                                 "forward.ipynb")
    assert problem is None
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    nbformat.validate(nb)
    assert [c.id for c in nb.cells][:2] == ["c000Xk00000", "c001Xk07919"]  # Colab's ids kept as real ids
    assert "colab" not in nb.metadata and "widgets" not in nb.metadata
    assert nb.metadata.kernelspec["language"] == "python"
    for cell in nb.cells:
        assert not {"colab", "executionInfo", "outputId", "id"} & set(cell.metadata)
    assert graded_cells(nb) == graded_cells(release())
    text = "\n".join(log)
    for step in ("'Copy of forward.ipynb' -> 'forward.ipynb'", "nbformat 4.0 -> 4.5", "removed Colab metadata",
                 "kernelspec", "widgets"):
        assert step in text


def test_widgets_without_state_crash_html_export_until_normalized():
    raw = nbformat.reads(fixture_bytes("colab_saved.ipynb").decode(), as_version=4)
    with pytest.raises(KeyError, match="state"):
        HTMLExporter().from_notebook_node(raw)
    nb, _, _ = normalize(fixture_bytes("colab_saved.ipynb"), "forward.ipynb", release(), "forward.ipynb")
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "square" in html


def test_stripped_nbgrader_metadata_is_restored_from_the_release():
    nb, log, problem = normalize(fixture_bytes("colab_saved_stripped_metadata.ipynb"), "forward (1).ipynb",
                                 release(), "forward.ipynb")
    assert problem is None
    assert graded_cells(nb) == graded_cells(release())
    solution = next(c for c in nb.cells if notebooks.grade_id(c) == "square")
    assert "return x * x" in solution.source  # the student's code, not the stub
    assert any("restored nbgrader metadata on 4 cells (2 matched by source, 2 by position)" in line for line in log)


def test_solution_cells_found_by_position_among_added_scratch_cells():
    submitted = notebooks.fill_solutions(release(), {"square": "def square(x):\n    return x ** 2",
                                                     "cube": "def cube(x):\n    return x ** 3"})
    for cell in submitted.cells:
        cell.metadata.pop("nbgrader", None)
    scratch = nbformat.v4.new_code_cell("print(square(4))  # trying it out")
    submitted.cells.insert(2, scratch)                                   # after the square solution
    submitted.cells.insert(1, nbformat.v4.new_code_cell("import numpy as np"))  # before it
    restore_nbgrader_metadata(submitted, release())
    ids = {notebooks.grade_id(c): c.source for c in submitted.cells if notebooks.grade_id(c)}
    assert ids["square"].endswith("x ** 2") and ids["cube"].endswith("x ** 3")
    assert notebooks.grade_id(scratch) is None
    assert set(ids) == set(graded_cells(release()))


def test_cells_with_metadata_are_left_alone_and_a_deleted_test_is_reported():
    submitted = copy.deepcopy(release())
    submitted.cells = [c for c in submitted.cells if notebooks.grade_id(c) != "test_cube"]
    before = graded_cells(submitted)
    log = restore_nbgrader_metadata(submitted, release())
    assert graded_cells(submitted) == before
    assert log == ["could not find the cells test_cube (deleted?); they are graded as missing"]


@pytest.mark.parametrize("name, message", [
    ("damaged_truncated.ipynb", "the file is cut off"),
    ("damaged_not_json.ipynb", "it is not JSON"),
    ("damaged_json_not_a_notebook.ipynb", "JSON but not a notebook"),
])
def test_damaged_files_give_a_clear_problem(name, message):
    nb, _, problem = normalize(fixture_bytes(name), "forward.ipynb", release(), "forward.ipynb")
    assert nb is None
    assert problem.startswith("forward.ipynb is not a valid notebook: ") and message in problem


@pytest.mark.parametrize("data, message", [(b"", "empty"), (b"\x89PNG\r\n\x1a\n\x00\xff", "not a text file"),
                                           (json.dumps([1, 2]).encode(), "not a notebook")])
def test_parse_refuses_what_is_not_a_notebook(data, message):
    with pytest.raises(NotANotebook, match=message):
        parse(data)


def test_a_jupyter_saved_notebook_is_left_unchanged():
    original = notebooks.fill_solutions(release(), {"square": "def square(x):\n    return x * x"})
    data = nbformat.writes(original).encode()
    nb, log, problem = normalize(data, "forward.ipynb", release(), "forward.ipynb")
    assert (problem, log) == (None, [])
    assert nbformat.writes(nb) == nbformat.writes(original)


def _damaged(edit):
    """The release notebook as JSON bytes, with `edit(notebook dict)` applied."""
    nb = json.loads(nbformat.writes(release()))
    edit(nb)
    return json.dumps(nb).encode()


def _test_cells(nb):
    return [c for c in nb["cells"] if (c.get("metadata") or {}).get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("what, edit", [
    ("nbgrader metadata null", lambda nb: _test_cells(nb)[0]["metadata"].__setitem__("nbgrader", None)),
    ("nbgrader metadata a string", lambda nb: _test_cells(nb)[0]["metadata"].__setitem__("nbgrader", "graded")),
    ("a grade_id that is a number", lambda nb: _test_cells(nb)[0]["metadata"]["nbgrader"].__setitem__("grade_id", 7)),
    ("points that are text", lambda nb: _test_cells(nb)[0]["metadata"]["nbgrader"].__setitem__("points", "lots")),
    ("grade that is a number", lambda nb: _test_cells(nb)[0]["metadata"]["nbgrader"].__setitem__("grade", 1)),
])
def test_damaged_nbgrader_metadata_is_replaced_by_the_releases(what, edit):
    nb, log, problem = normalize(_damaged(edit), "forward.ipynb", release(), "forward.ipynb")
    assert problem is None, what
    assert any("removed damaged nbgrader metadata" in line for line in log), log
    assert [notebooks.nbgrader_meta(c) for c in nb.cells] == [notebooks.nbgrader_meta(c) for c in release().cells]


@pytest.mark.parametrize("what, edit, words", [
    ("cell metadata null", lambda nb: nb["cells"][1].__setitem__("metadata", None), "nbformat cannot read it"),
    ("cells a dict", lambda nb: nb.__setitem__("cells", {"a": 1}), "nbformat cannot read it"),
    ("a source of numbers", lambda nb: nb["cells"][1].__setitem__("source", [1, 2]), "nbformat cannot read it"),
    ("a huge cell", lambda nb: nb["cells"][1].__setitem__("source", "x = 1\n" * 100_000), "characters; a cell"),
    ("a huge file", lambda nb: nb["cells"][1].__setitem__("source", "x = 1\n" * 3_000_000), "MB, over the 16 MB"),
])
def test_a_notebook_nbgrader_cannot_read_is_one_problem_not_a_crash(what, edit, words):
    nb, log, problem = normalize(_damaged(edit), "forward.ipynb", release(), "forward.ipynb")
    assert nb is None and problem.startswith("forward.ipynb is not a valid notebook: ") and words in problem, what
