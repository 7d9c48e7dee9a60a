"""Autograde one submission in a private, throwaway nbgrader course (the expensive part).

Every submission is graded in its own copy of a small template course: this
repository's nbgrader_config.py (plus the grading settings below), source/<assignment>/
and a gradebook.db in which only that assignment was generated. So any number of
workers run `nbgrader autograde` and `nbgrader generate_feedback` at once without
ever sharing a file; the single writer in course.grading.merge then copies the results into
the real gradebook.

The private nbgrader_config.py adds only the per-run time limits (grading_config); the
judge, the sandbox and the feedback policy are the course's nbgrader_config.py, the same
as for plain `nbgrader autograde` in the repository root.
"""
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook

from ..authoring import notebooks
from ..layout import notebook_path
from .execute import KERNEL_DIED

EMPTY_GRADEBOOK = "empty-gradebook.db"  # tables made once per run, copied into every template
TIMEOUT = "CellTimeoutError"


def grading_config(c, timeout):
    """Settings for a private grading course, applied at the end of its nbgrader_config.py:
    only what differs per run. Everything else (the judge, the sandbox, the feedback) is
    the course's own nbgrader_config.py, as for plain nbgrader."""
    c.Execute.timeout = timeout
    c.Execute.startup_timeout = 180  # a busy machine can take a while to start a (sandboxed) kernel


@dataclass
class Result:
    """What grading one submission produced (plain data: it crosses process boundaries)."""
    student: str
    assignment: str
    notebook: str
    timestamp: str | None = None                    # from the submission's timestamp.txt
    grades: dict = field(default_factory=dict)      # grade_id -> (auto_score or None, max_score)
    comments: dict = field(default_factory=dict)    # grade_id -> auto_comment
    late_penalty: float | None = None
    autograded: str | None = None                   # folder with the autograded notebook
    feedback: str | None = None                     # folder with the feedback HTML
    notes: list = field(default_factory=list)       # kernel died, timeouts (for the report)
    problem: str | None = None                      # grading failed for this student
    seconds: float = 0.0


def run_app(converter, root, assignment, student=None, db_url=None):
    """Run one nbgrader converter (Autograde, GenerateFeedback, ...) in this process.

    Returns (success, log text). The converter reads root/nbgrader_config.py; nbgrader
    changes the working directory while it runs, so one converter at a time per process.
    """
    import logging
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    if student:
        coursedir.student_id = student
    log = logging.getLogger(f"course.grading.autograde.{converter.__name__}")
    log.propagate, log.level = False, logging.INFO
    app = converter(coursedir=coursedir, config=config, log=log)
    app.force = True
    outcome = capture_log(app)
    return outcome["success"], outcome.get("log", "") + outcome.get("error", "")


def make_template(assignment, root, work, timeout):
    """A small course in work/template-<assignment> with only that assignment generated."""
    template = Path(work) / f"template-{assignment}"
    shutil.rmtree(template, ignore_errors=True)
    (template / "source").mkdir(parents=True)
    shutil.copytree(Path(root) / "source" / assignment, template / "source" / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    config = (Path(root) / "nbgrader_config.py").read_text(encoding="utf-8")
    config += ("\n\n# --- added by course.grading.autograde: this is a private grading course ---\n"
               "from course.grading.autograde import grading_config as _grading_config\n"
               f"_grading_config(c, timeout={int(timeout)})\n")
    (template / "nbgrader_config.py").write_text(config, encoding="utf-8")
    empty = Path(work) / EMPTY_GRADEBOOK
    if empty.exists():
        shutil.copy(empty, template / "gradebook.db")
    register(template, assignment)
    return template


def register(template, assignment, db_url=None):
    """generate_assignment in the template: fills its gradebook, or the one at db_url."""
    from nbgrader.converters import GenerateAssignment

    ok, log = run_app(GenerateAssignment, template, assignment, db_url=db_url)
    if not ok:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{log[-3000:]}")


def grade(template, student, assignment, nb, timestamp, work):
    """Autograde one normalized notebook in a private copy of the template; returns a Result."""
    from nbgrader.converters import Autograde, GenerateFeedback

    start = time.perf_counter()
    name = notebook_path("source", assignment).stem
    result = Result(student, assignment, name, timestamp)
    private = Path(work) / "students" / f"{student}--{assignment}"
    shutil.rmtree(private, ignore_errors=True)
    shutil.copytree(template, private, ignore=shutil.ignore_patterns("release", "autograded", "feedback"))
    submitted = private / "submitted" / student / assignment
    submitted.mkdir(parents=True)
    notebooks.write(nb, submitted / f"{name}.ipynb")
    if timestamp:
        (submitted / "timestamp.txt").write_text(timestamp, encoding="utf-8")

    autograded = private / "autograded" / student / assignment
    for attempt in (1, 2):  # the student's code cannot fail it (see SurviveKernelDeath): retry once
        ok, log = run_app(Autograde, private, assignment, student)
        if ok and (autograded / f"{name}.ipynb").exists():
            break
        if attempt == 1:
            result.notes.append("graded twice: the first run failed with " + _last_error(log))
    else:
        result.problem = "nbgrader autograde failed: " + _last_error(log)
        result.seconds = time.perf_counter() - start
        return result
    result.autograded = str(autograded)
    result.notes += execution_notes(notebooks.read(autograded / f"{name}.ipynb"))

    with Gradebook(f"sqlite:///{private / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(name, assignment, student)
        result.grades = {g.name: (g.auto_score, g.max_score) for g in submission.grades}
        result.comments = {c.name: c.auto_comment for c in submission.comments}
        result.late_penalty = submission.late_submission_penalty

    ok, log = run_app(GenerateFeedback, private, assignment, student)
    html = private / "feedback" / student / assignment
    if ok and (html / f"{name}.html").exists():
        result.feedback = str(html)
    else:
        result.notes.append("feedback failed: " + _last_error(log))
    result.seconds = time.perf_counter() - start
    return result


def execution_notes(nb):
    """One line per cell the grader had to stop: kernel deaths and timeouts."""
    notes = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            label = f"cell {index}" + (f" ({notebooks.grade_id(cell)})" if notebooks.grade_id(cell) else "")
            if output.ename == KERNEL_DIED and "while running" in output.evalue:
                notes.append(f"the kernel died at {label}; the cells after it were not run")
            elif output.ename == TIMEOUT:
                notes.append(f"{label} was stopped by the time limit (infinite loop?)")
    return notes


def _last_error(log):
    """The exception that ended a converter run ("RuntimeError: Kernel didn't respond ..."), one line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Interrupt)\w*: ", line)]
    errors = [line for line in lines if "Error" in line or "ERROR" in line]
    return (raised or errors or lines or ["no output"])[-1][:300]
