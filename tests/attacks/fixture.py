"""The attacked class: the corpus and two honest students, graded for real, twice.

    runs = AttackedClass(directory)      # made once per test session (tests/test_attacks.py)
    runs.scores("course grade", "a01_patch_numpy") -> {"test_sigmoid": 2.0, "test_init_params": 0.0}

1. `course grade` as root (course.grading.grade.main, sandbox on, two workers), in one course;
2. plain `nbgrader autograde` + `generate_feedback` in a second course, as a normal user: uid
   1000 in a user namespace (bwrap --unshare-user), so the sandbox takes its non-root path.
   (This machine's Python lives under /root, mode 700: an account made with useradd could
   not run it; inside the namespace the process is uid 1000 to itself and to the sandbox.
   Outside it is still root, for which the kernel ignores the process limit: the fork bomb,
   bounded by that per-uid limit, is graded in the root run only.)
Both courses hold this repository's nbgrader_config.py and source/01_initialization.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograde_harness import GradingCourse
from corpus import ATTACKS, HONEST_WRONG, WRONG_SIGMOID
from course.authoring import notebooks
from course.layout import notebook_path, tool_env

ASSIGNMENT = "01_initialization"
NAME = notebook_path("source", ASSIGNMENT).stem
HONEST = ("m_right", "m_wrong")
TIMEOUT = 10          # seconds per cell: the infinite loop is stopped here


def submission(course, attack=None, right=False):
    """The release notebook filled in: the reference (right), or the honest wrong one plus an attack."""
    if right:
        return course.reference_submission(ASSIGNMENT)
    release = course.release_notebook(ASSIGNMENT)
    stub = next(c.source for c in release.cells if notebooks.grade_id(c) == "init_params")
    code = WRONG_SIGMOID if attack is None else attack.code.replace("{root}", str(course.root)) + WRONG_SIGMOID
    if attack is not None and attack.student == "a08_lying_objects":
        code = attack.code                        # its own lying sigmoid, not the honest one
    nb = notebooks.fill_solutions(release, {"sigmoid": code, "init_params": stub})
    if attack is not None and attack.edit:
        attack.edit(nb)
    return nb


def host_state(tmp):
    """What a kernel might leave on the host: anything in the graders' TMPDIR, files in /dev/shm."""
    return sorted(os.listdir(tmp)), sorted(os.listdir("/dev/shm"))


class AttackedClass:
    def __init__(self, directory):
        directory = Path(directory)
        self.courses = {"course grade": GradingCourse(_fresh(directory / "course-grade")),
                        "nbgrader": GradingCourse(_fresh(directory / "plain-nbgrader"))}
        self.tmp = _fresh(directory / "host-tmp")     # the graders' TMPDIR: kernel folders are made here
        self.host_before = host_state(self.tmp)
        self.logs = {}
        for label, course in self.courses.items():
            students = {"m_right": submission(course, right=True), "m_wrong": submission(course)}
            students.update({a.student: submission(course, a) for a in ATTACKS
                             if label == "course grade" or not a.root_only})
            for student, nb in students.items():
                notebooks.write(nb, course.root / "submitted" / student / ASSIGNMENT / f"{NAME}.ipynb")
        self.logs["course grade"] = self._course_grade(self.courses["course grade"].root)
        self.logs["nbgrader"] = self._plain_nbgrader(self.courses["nbgrader"].root)
        self.host_after = host_state(self.tmp)

    def _course_grade(self, root):
        lines = []
        from course.grading.grade import main
        saved = os.environ.get("TMPDIR"), tempfile.tempdir
        os.environ["TMPDIR"], tempfile.tempdir = str(self.tmp), None
        try:
            main([ASSIGNMENT], workers=2, timeout=TIMEOUT, sandbox=True, root=root, out=lines.append)
        finally:
            tempfile.tempdir = saved[1]
            if saved[0] is None:
                os.environ.pop("TMPDIR")
            else:
                os.environ["TMPDIR"] = saved[0]
        return "\n".join(lines)

    def _plain_nbgrader(self, root):
        as_user = ["bwrap", "--dev-bind", "/", "/", "--unshare-user", "--uid", "1000", "--gid", "1000",
                   "--chdir", str(root), "--"]
        log = ""
        for step in (["autograde", ASSIGNMENT, f"--Execute.timeout={TIMEOUT}"], ["generate_feedback", ASSIGNMENT]):
            result = subprocess.run(as_user + [sys.executable, "-m", "nbgrader", *step], capture_output=True,
                                    text=True, env=tool_env(TMPDIR=str(self.tmp)), timeout=1800)
            log += result.stdout + result.stderr
        return log

    def scores(self, run, student):
        """{test grade_id: score} of one student in one run (from the gradebook; nothing graded: 0)."""
        root = self.courses[run].root
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            try:
                nb = gb.find_submission_notebook(NAME, ASSIGNMENT, student)
            except MissingEntry:
                return {cell: 0.0 for cell in HONEST_WRONG}
            return {g.name: g.score for g in nb.grades if g.cell_type == "code"}

    def autograded(self, run, student):
        return self.courses[run].root / "autograded" / student / ASSIGNMENT / f"{NAME}.ipynb"

    def feedback(self, run, student):
        return self.courses[run].root / "feedback" / student / ASSIGNMENT / f"{NAME}.html"

    def outputs(self, run, student):
        """All text the student's graded notebook shows (cell outputs)."""
        nb = notebooks.read(self.autograded(run, student))
        return "\n".join(o.get("text", "") + str(o.get("data", "")) + o.get("evalue", "")
                         for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
