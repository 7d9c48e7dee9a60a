"""The attacked class: the corpus and two honest students, graded for real, twice.

    runs = AttackedClass(directory)      # made once per test session (tests/test_attacks.py)
    runs.scores("course grade", "a01_patch_numpy") -> {"test_sigmoid": 2.0, "test_init_params": 0.0}

1. `course grade` as root (course.grading.grade.main, sandbox on, two workers), in one course;
2. plain `nbgrader autograde` + `generate_feedback` as a normal user: uid 1000 in a user
   namespace (bwrap --unshare-user), so the sandbox takes its non-root path. The attackers are
   split over two courses graded at the same time (each with the honest students), so that this
   run costs what the two-worker `course grade` run costs.
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
        graded_by_course_grade = GradingCourse(_fresh(directory / "course-grade"))
        halves = [GradingCourse(_fresh(directory / f"plain-nbgrader-{k}")) for k in (1, 2)]
        self.tmp = _fresh(directory / "host-tmp")     # the graders' TMPDIR: kernel folders are made here
        self.host_before = host_state(self.tmp)
        # run -> {student: the course that grades them}; the honest students are in every course
        self.where = {"course grade": {}, "nbgrader": {}}
        users_attacks = [a for a in ATTACKS if not a.root_only]
        plan = [(graded_by_course_grade, "course grade", ATTACKS)] + [
            (half, "nbgrader", users_attacks[k::2]) for k, half in enumerate(halves)]
        for course, run, attacks in plan:
            students = {"m_right": submission(course, right=True), "m_wrong": submission(course)}
            students.update({a.student: submission(course, a) for a in attacks})
            for student, nb in students.items():
                notebooks.write(nb, course.root / "submitted" / student / ASSIGNMENT / f"{NAME}.ipynb")
                self.where[run].setdefault(student, course)
        self.halves = halves
        self.logs = {"course grade": self._course_grade(graded_by_course_grade.root),
                     "nbgrader": self._plain_nbgrader([half.root for half in halves])}
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

    def _plain_nbgrader(self, roots):
        """autograde, then generate_feedback, in each course at the same time, as uid 1000."""
        log = ""
        for step in (["autograde", ASSIGNMENT, f"--Execute.timeout={TIMEOUT}"], ["generate_feedback", ASSIGNMENT]):
            running = [subprocess.Popen(
                ["bwrap", "--dev-bind", "/", "/", "--unshare-user", "--uid", "1000", "--gid", "1000",
                 "--chdir", str(root), "--", sys.executable, "-m", "nbgrader", *step],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=tool_env(TMPDIR=str(self.tmp)))
                for root in roots]
            for process in running:
                log += process.communicate(timeout=1800)[0]
        return log

    def scores(self, run, student, course=None):
        """{test grade_id: score} of one student in one run (from the gradebook; nothing graded: 0)."""
        root = (course or self.where[run][student]).root
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            try:
                nb = gb.find_submission_notebook(NAME, ASSIGNMENT, student)
            except MissingEntry:
                return {cell: 0.0 for cell in HONEST_WRONG}
            return {g.name: g.score for g in nb.grades if g.cell_type == "code"}

    def autograded(self, run, student):
        return self.where[run][student].root / "autograded" / student / ASSIGNMENT / f"{NAME}.ipynb"

    def feedback(self, run, student):
        return self.where[run][student].root / "feedback" / student / ASSIGNMENT / f"{NAME}.html"

    def roots(self):
        """Every course of both runs."""
        return sorted({course.root for run in self.where.values() for course in run.values()})

    def honest_everywhere(self, run):
        """{course root: (m_right's scores, m_wrong's scores)} for every course of the run."""
        return {course.root: (self.scores(run, "m_right", course), self.scores(run, "m_wrong", course))
                for course in set(self.where[run].values())}

    def outputs(self, run, student):
        """All text the student's graded notebook shows (cell outputs)."""
        nb = notebooks.read(self.autograded(run, student))
        return "\n".join(o.get("text", "") + str(o.get("data", "")) + o.get("evalue", "")
                         for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
