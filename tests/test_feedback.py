"""course.grading.feedback: the feedback exporter compiles its templates once per process, same HTML."""
import copy

import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter

from course.grading import feedback


NOTEBOOK = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_markdown_cell("# Feedback\nSome *text*."),
    nbformat.v4.new_code_cell("print(1 + 1)", outputs=[nbformat.v4.new_output("stream", text="2\n")])])


def a_notebook():
    return copy.deepcopy(NOTEBOOK)


def test_the_html_is_nbconverts_and_a_second_exporter_compiles_nothing(monkeypatch):
    expected, _ = HTMLExporter().from_notebook_node(a_notebook())
    first, _ = feedback.FeedbackExporter().from_notebook_node(a_notebook())
    compiled = []
    original = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, *args, **kwargs: compiled.append(args) or original(self, *args, **kwargs))
    second, _ = feedback.FeedbackExporter().from_notebook_node(a_notebook())
    plain, _ = HTMLExporter().from_notebook_node(a_notebook())
    assert first == second == expected
    assert plain == expected and compiled, "a plain HTMLExporter compiles its templates again"
    compiled.clear()
    feedback.FeedbackExporter().from_notebook_node(a_notebook())
    assert not compiled, "the feedback exporter compiled a template it had compiled before"


def test_an_edited_template_is_compiled_afresh():
    environment = jinja2.Environment(loader=jinja2.DictLoader({"t": "one {{ x }}"}), bytecode_cache=feedback.COMPILED)
    assert environment.get_template("t").render(x=1) == "one 1"
    edited = jinja2.Environment(loader=jinja2.DictLoader({"t": "two {{ x }}"}), bytecode_cache=feedback.COMPILED)
    assert edited.get_template("t").render(x=2) == "two 2"
