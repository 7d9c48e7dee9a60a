"""FeedbackExporter: nbgrader's feedback HTML, its templates compiled once per process.

    c.GenerateFeedback.exporter_class = "course.grading.feedback.FeedbackExporter"   (nbgrader_config.py)

course grade writes each submission's feedback with a GenerateFeedback of its own (every
submission is graded in a private course, see course.grading.autograde), and each new
HTMLExporter compiles the feedback templates again: about a quarter of a second per
submission. This exporter is nbconvert's HTMLExporter with the compiled templates kept in
memory: jinja's bytecode cache, keyed by template name and the checksum of its source, so an
edited template is compiled afresh. The HTML is the same; plain `nbgrader generate_feedback`
(one exporter for the whole class) gains nothing and loses nothing.
"""
import jinja2
from nbconvert.exporters import HTMLExporter


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


class FeedbackExporter(HTMLExporter):
    """HTMLExporter whose template environment reuses this process's compiled templates."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED
        return environment
