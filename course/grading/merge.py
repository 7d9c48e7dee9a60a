"""The single writer: put one graded submission into the real gradebook and course folders.

Only the grading process calls this, one submission at a time, so the gradebook (SQLite
by default, any SQLAlchemy URL through --db-url) never has two writers. It writes what
`nbgrader autograde` itself writes (nbgrader's SaveAutoGrades and AssignLatePenalties):
the student, the submission (timestamp), each grade's auto_score and needs_manual_grade
(a grade a person already changed stays marked for review), each solution's auto
comment and the late penalty; then it replaces autograded/<student>/<assignment>/ and
feedback/<student>/<assignment>/ with the new ones. Running it twice with the same
result leaves the same rows: nothing duplicated.
"""
import shutil
import warnings
from pathlib import Path

from nbgrader.api import Gradebook

from .tasks import forget_compiled_statements


def merge(result, db_url, course_id, root):
    """Write a course.grading.autograde.Result into the gradebook at db_url and the course root."""
    with warnings.catch_warnings(), Gradebook(db_url, course_id) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy 2's autoflush notes about nbgrader's own queries
        gb.update_or_create_student(result.student)
        if result.timestamp:
            gb.update_or_create_submission(result.assignment, result.student, timestamp=result.timestamp)
        else:
            gb.update_or_create_submission(result.assignment, result.student)
        submission = gb.find_submission_notebook(result.notebook, result.assignment, result.student)
        graded = result.problem is None
        for grade in submission.grades:
            auto_score, _ = result.grades.get(grade.name, (0.0, None)) if graded else (0.0, None)
            grade.auto_score = auto_score
            grade.needs_manual_grade = grade.manual_score is not None or auto_score is None
        for comment in submission.comments:
            comment.auto_comment = result.comments.get(comment.name) if graded else None
        submission.late_submission_penalty = result.late_penalty if graded else None
        gb.db.commit()
    forget_compiled_statements()   # each Gradebook is a new engine: its statements are never used again
    for folder, produced in (("autograded", result.autograded), ("feedback", result.feedback)):
        target = Path(root) / folder / result.student / result.assignment
        shutil.rmtree(target, ignore_errors=True)
        if produced:
            shutil.copytree(produced, target)
