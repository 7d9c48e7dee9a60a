"""FeedbackExporter: nbgrader's feedback HTML, written in a third of the time, the same page.

    c.GenerateFeedback.exporter_class = "course.grading.feedback.FeedbackExporter"   (nbgrader_config.py)

course grade writes each submission's feedback with a GenerateFeedback of its own (every
submission is graded in a private course, see course.grading.autograde). nbconvert's
HTMLExporter spent about a second on each page of 05_iris_softmax, most of it on work that
is the same for every student or changes nothing:

- the templates were compiled again by every new exporter: here jinja's bytecode cache keeps
  them for the life of the process, keyed by template name and source checksum (an edited
  template is compiled afresh);
- every code and markdown cell was highlighted and rendered again, though most cells are
  the instructor's and the same in every submission: here each (source, settings) is turned
  into HTML once per process (a bounded cache);
- the finished page was parsed with BeautifulSoup and written out again, only to give images
  without an `alt` a default one and the JupyterLab template's cells a tabindex. nbgrader's
  feedback template is the classic one and a graded notebook draws no pictures, so the pass
  usually finds nothing to do: here it is skipped when the page holds no image and no
  JupyterLab notebook, and otherwise the page is made by HTMLExporter itself.

The page is the same document as HTMLExporter's (tests/test_feedback.py compares them);
plain `nbgrader generate_feedback` gains the same.
"""
import collections
import copy
import json
import re

import jinja2
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

REMEMBERED = 512           # distinct highlighted / rendered cells kept per process (a few KB each): the
                          # instructor's cells of all five notebooks fit, students' own come and go
NEEDS_SOUP = re.compile(r"<img|jp-Notebook", re.IGNORECASE)   # what HTMLExporter's last pass looks for


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, in this process's memory."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)     # jinja drops it if the source's checksum differs

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


class Remembered:
    """What make() returned for each key, the least recently used forgotten first beyond `size`
    (the instructor's cells, on every page, stay; students' own cells come and go)."""

    def __init__(self, size=REMEMBERED):
        self.size, self.values = size, collections.OrderedDict()

    def get(self, key, make):
        if key in self.values:
            self.values.move_to_end(key)
            return self.values[key]
        value = self.values[key] = make()
        if len(self.values) > self.size:
            self.values.popitem(last=False)
        return value


HIGHLIGHTED, RENDERED = Remembered(), Remembered()   # code cells' and markdown cells' HTML


class RememberedHighlight(Highlight2HTML):
    """nbconvert's code highlighting, each distinct cell highlighted once per process."""

    def __call__(self, source, language=None, metadata=None):
        magics = (metadata or {}).get("magics_language")   # the only metadata pygments is told about
        options = json.dumps(self.extra_formatter_options, sort_keys=True, default=str)
        language = language or self.pygments_lexer
        return HIGHLIGHTED.get((source, language, magics, options), lambda: Highlight2HTML.__call__(
            self, source, language, {"magics_language": magics} if magics else None))


class FeedbackExporter(HTMLExporter):
    """HTMLExporter that reuses this process's compiled templates and rendered cells."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED
        return environment

    @jinja2.pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        key = (source, json.dumps(cell.get("attachments", {}), sort_keys=True),
               context.get("resources", {}).get("metadata", {}).get("path", "") if self.embed_images else "",
               self.embed_images, self.anchor_link_text, self.exclude_anchor_links,
               json.dumps(self.lexer_options, sort_keys=True, default=str))
        return RENDERED.get(key, lambda: HTMLExporter.markdown2html(self, context, source))

    def from_notebook_node(self, nb, resources=None, **kw):
        """HTMLExporter.from_notebook_node (nbconvert 7) up to its BeautifulSoup pass, which runs
        (as HTMLExporter itself) only when the page has something it changes."""
        given = copy.deepcopy(resources)   # as it came, for HTMLExporter (nb itself is copied by the exporter)
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", RememberedHighlight(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        if NEEDS_SOUP.search(html):
            return super().from_notebook_node(nb, given, **kw)
        return html, resources

