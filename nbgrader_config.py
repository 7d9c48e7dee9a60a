"""nbgrader configuration for Backprop Lab.

nbgrader reads this file whenever it is run from the repository root, so plain
`nbgrader generate_assignment 01_initialization` and `nbgrader autograde ...` work
with no extra flags. The course tooling (`python -m course ...`) reads it too.
"""
import os

_here = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "backprop-lab"
c.CourseDirectory.root = _here
# The gradebook. Any SQLAlchemy URL works, e.g. postgresql://user@host/backprop_lab
# (`course grade --db-url URL` overrides it for one run).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "gradebook.db")
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Seconds one cell may run during validate/autograde before it is stopped.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# Grading policy, read by plain `nbgrader autograde` / `generate_feedback` and by `course grade` alike.
# The student's kernel only computes: GradingExecute runs every cell in it except the graded test
# cells, which it judges in this process with the rules of course/judge/rules/ (hidden inputs, the
# reference, centred differences), writing the points and messages itself. The kernel runs locked
# in (course/grading/sandbox.py: bubblewrap, no network, no `course` package, resource limits);
# BACKPROP_SANDBOX=off runs it unconfined. Limits: c.SandboxKernelManager.memory_limit = 2 * 1024**3,
# ...; output kept per cell: c.JudgeExecute.max_output_bytes. This is nbgrader 0.9.6's default list
# with Execute replaced (tests/test_sandbox.py checks it still matches).
c.Autograde.autograde_preprocessors = [
    "course.grading.execute.GradingExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Feedback is safe to open: nbconvert's SanitizeHTML drops scripts, event handlers and raw HTML from
# student outputs and markdown, keeping text, images and the sanitized rest (nbgrader's default list
# with it added; the notebooks hold no hidden tests, ClearHiddenTests stays as a second lock).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.sanitize.SanitizeHTML",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.SanitizeHTML.enabled = True      # nbconvert's preprocessors start disabled; nbgrader does not enable them
# nbconvert's HTMLExporter, its templates compiled once per process instead of once per submission
# (course grade writes each submission's feedback in a private course: course/grading/feedback.py).
c.GenerateFeedback.exporter_class = "course.grading.feedback.FeedbackExporter"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Late work: nbgrader compares each submission's timestamp (from the LMS download, see course/grading/lms.py)
# with the due date set by `nbgrader db assignment add ID --duedate="YYYY-MM-DD HH:MM:SS"`. The default
# policy, "none", records the lateness only; "zero" takes the late submission's points away:
# c.LateSubmissionPlugin.penalty_method = "zero"

# Colab: the "Open in Colab" badge of each release notebook points at
#   https://colab.research.google.com/github/<COLAB_REPOSITORY>/blob/<COLAB_BRANCH>/release/...
# COLAB_REPOSITORY is the PUBLIC student repository that `python -m course publish DEST` writes and you
# push (this course repository, with the solutions, stays private). Plain variables: nbgrader ignores
# them, `python -m course release` and `publish` read them.
COLAB_REPOSITORY = "backprop-lab/backprop-lab"
COLAB_BRANCH = "main"
