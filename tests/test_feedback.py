"""course.grading.feedback: the feedback page is the same document as nbconvert's, made with less work."""
import copy
import os

import jinja2
import nbformat
import nbgrader
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from course.grading import feedback

TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
FORMGRADER = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")


def nbgraders_feedback_config():
    """The exporter settings nbgrader's GenerateFeedback uses (its feedback template, classic-based)."""
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [os.path.join(FORMGRADER, "templates")]
    config.HTMLExporter.extra_template_paths = [
        os.path.join(FORMGRADER, "static", "node_modules", "bootstrap", "dist", "css")]
    return config


def graded_notebook(*extra_outputs):
    """A notebook as GetGrades leaves it: a markdown cell, an answer cell, a graded test cell with a score."""
    test = nbformat.v4.new_code_cell("assert f(2) == 4", outputs=list(extra_outputs))
    test.metadata.nbgrader = {"grade": True, "solution": False, "grade_id": "test_f", "points": 2,
                              "score": 2, "comment": "Well *done*"}
    answer = nbformat.v4.new_code_cell("def f(x):\n    return x * 2",
                                       outputs=[nbformat.v4.new_output("stream", text="ok\n")])
    answer.metadata.nbgrader = {"grade": False, "solution": True, "grade_id": "f"}
    cells = [nbformat.v4.new_markdown_cell("# Doubling\nWrite *f*."), answer, test]
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number}"
    return nbformat.v4.new_notebook(cells=cells)


RESOURCES = {"nbgrader": {"notebook": "doubling", "score": 2, "max_score": 2, "late_penalty": 0}}


def page(exporter_class, nb, config=None):
    html, _ = exporter_class(config=nbgraders_feedback_config() if config is None else config).from_notebook_node(
        copy.deepcopy(nb), resources=copy.deepcopy(RESOURCES))
    return html


def same_document(a, b):
    return str(BeautifulSoup(a, "html.parser")) == str(BeautifulSoup(b, "html.parser"))


def test_nbgraders_feedback_page_is_the_same_document_without_the_parse():
    expected = page(HTMLExporter, graded_notebook())
    ours = page(feedback.FeedbackExporter, graded_notebook())
    assert "assert f(2) == 4" not in ours and "f</span><span" in ours    # highlighted, not plain text
    assert same_document(ours, expected)
    assert ours != expected, "the page was parsed and written out again (the work this exporter saves)"


@pytest.mark.parametrize("needs_the_pass", ["an image output", "JupyterLab's template"])
def test_a_page_the_pass_changes_is_exactly_nbconverts(needs_the_pass):
    if needs_the_pass == "an image output":
        nb = graded_notebook(nbformat.v4.new_output("display_data", data={"image/png": TINY_PNG}))
        config = None
    else:
        nb, config = graded_notebook(), Config()      # HTMLExporter's default: the lab template
        nb.cells = nb.cells[:2]                       # (it knows nothing of nbgrader's scores)
    expected = page(HTMLExporter, nb, config)
    assert ('alt="No description has been provided for this image"' in expected
            if needs_the_pass == "an image output" else 'tabindex="0"' in expected)
    assert page(feedback.FeedbackExporter, nb, config) == expected


def test_a_second_page_compiles_no_template_and_highlights_no_cell_again(monkeypatch):
    first = page(feedback.FeedbackExporter, graded_notebook())
    compiled, highlighted = [], []
    original_compile = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, *a, **k: compiled.append(a) or original_compile(self, *a, **k))
    import nbconvert.filters.highlight as highlight
    original_highlight = highlight._pygments_highlight
    monkeypatch.setattr(highlight, "_pygments_highlight",
                        lambda source, *a, **k: highlighted.append(source) or original_highlight(source, *a, **k))
    assert page(feedback.FeedbackExporter, graded_notebook()) == first
    assert not compiled and not highlighted

    other = graded_notebook()
    other.cells[1].source = "def f(x):\n    return x + x"     # another student's answer
    assert "<span class=\"n\">x</span> <span class=\"o\">+</span>" in page(feedback.FeedbackExporter, other)
    assert highlighted == ["def f(x):\n    return x + x"], "only the new cell is highlighted"
    assert not compiled


def test_markdown_with_different_attachments_is_not_taken_for_the_same_cell():
    def with_attachment(png):
        nb = graded_notebook()
        nb.cells[0].source = "![plot](attachment:plot.png)"
        nb.cells[0].attachments = {"plot.png": {"image/png": png}}
        return page(feedback.FeedbackExporter, nb)
    assert TINY_PNG in with_attachment(TINY_PNG)
    assert TINY_PNG[:-8] + "AAAAAAA=" in with_attachment(TINY_PNG[:-8] + "AAAAAAA=")


def test_an_edited_template_is_compiled_afresh():
    environment = jinja2.Environment(loader=jinja2.DictLoader({"t": "one {{ x }}"}), bytecode_cache=feedback.COMPILED)
    assert environment.get_template("t").render(x=1) == "one 1"
    edited = jinja2.Environment(loader=jinja2.DictLoader({"t": "two {{ x }}"}), bytecode_cache=feedback.COMPILED)
    assert edited.get_template("t").render(x=2) == "two 2"


def test_remembered_forgets_the_least_recently_used_first():
    made = []
    remembered = feedback.Remembered(size=2)
    for key in ["instructor", "student-1", "instructor", "student-2", "instructor", "student-1"]:
        remembered.get(key, lambda: made.append(key) or key.upper())
    assert made == ["instructor", "student-1", "student-2", "student-1"]   # the instructor's cell made once
    assert list(remembered.values) == ["instructor", "student-1"] and remembered.get("instructor", None) == "INSTRUCTOR"
