"""Grade notebooks with real `nbgrader autograde`, for the grading-contract tests.

    course = GradingCourse(tmp_path_factory.mktemp("course"))      # once per session
    scores = course.grading.autograde("03_backward", {"sign_error": nb1, "loops": nb2})
    scores["sign_error"]["test_backward"]  ->  (earned, max_points)
    gradebook_rows(db_url, "02_forward")   ->  everything autograde wrote for an assignment, comparable


The throwaway course has this repository's nbgrader_config.py and source/ notebooks;
each assignment is generated once (to fill its gradebook), then any number of
submissions are autograded together in one nbgrader run.
"""
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook

from course.authoring import notebooks
from course.layout import ROOT, notebook_path, tool_env
from course.authoring.release import generate

_counter = itertools.count()


class GradingCourse:
    def __init__(self, directory, source_root=ROOT):
        self.root = Path(directory)
        self.source_root = Path(source_root)
        shutil.copy(ROOT / "nbgrader_config.py", self.root / "nbgrader_config.py")
        self.generated = set()

    def release_notebook(self, assignment):
        """The release notebook of an assignment (generated here from the repository's source)."""
        self._generate(assignment)
        return notebooks.read(notebook_path("release", assignment, self.root))

    def reference_submission(self, assignment, **replacements):
        """The release notebook filled with the reference solutions, some replaced by other code."""
        source = notebooks.read(notebook_path("source", assignment, self.source_root))
        codes = {**notebooks.reference_solutions(source), **replacements}
        return notebooks.fill_solutions(self.release_notebook(assignment), codes)

    def _generate(self, assignment):
        if assignment in self.generated:
            return
        target = notebook_path("source", assignment, self.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook_path("source", assignment, self.source_root), target)
        generate(assignment, self.root)
        self.generated.add(assignment)

    def autograde(self, assignment, submissions):
        """{name: notebook} -> {name: {grade_id: (score, max_score)}} from the gradebook."""
        self._generate(assignment)
        students = {}
        for name, nb in submissions.items():
            student = f"s{next(_counter)}_{name}"[:60]
            students[name] = student
            path = self.root / "submitted" / student / assignment / notebook_path("source", assignment).name
            path.parent.mkdir(parents=True)
            notebooks.write(nb, path)
        # students graded by an earlier call are skipped (no --force): only these new ones run
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", assignment],
            cwd=self.root, capture_output=True, text=True, env=tool_env())
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader autograde failed:\n{result.stderr[-4000:]}")
        name_of_notebook = notebook_path("source", assignment).stem
        scores = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            for name, student in students.items():
                nb = gb.find_submission_notebook(name_of_notebook, assignment, student)
                scores[name] = {g.name: (g.score, g.max_score) for g in nb.grades if g.cell_type == "code"}
        return scores


def gradebook_rows(db_url, assignment):
    """Everything autograde writes into a gradebook (any SQLAlchemy URL) for one assignment, as plain data."""
    from nbgrader.api import Grade
    with Gradebook(db_url) as gb:
        rows = {"students": sorted(s.id for s in gb.students)}
        for submission in gb.assignment_submissions(assignment):
            for nb in submission.notebooks:
                rows[submission.student_id] = (
                    str(submission.timestamp), nb.late_submission_penalty,
                    sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade) for g in nb.grades),
                    sorted((c.name, c.auto_comment) for c in nb.comments))
        rows["grade rows"] = gb.db.query(Grade).count()
    return rows
