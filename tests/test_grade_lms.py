"""`course grade --from` with real nbgrader on Canvas, Moodle and Blackboard downloads of one class.

The class of tests/lms_downloads.py (ada hands in twice, alan late, charles not on the
roster, grace nothing) hands in 02_forward (the reference solutions, or a typical mistake) through
each LMS and the plain layout; every layout is graded with --roster into its own course
whose due date is set by nbgrader's own `nbgrader db assignment add --duedate` and whose
late policy is nbgrader's `LateSubmissionPlugin.penalty_method = "zero"`. Then the Canvas
course grades a download made a week later.
"""
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograde_harness import GradingCourse
from course.authoring import notebooks
from course.demo import MISTAKES
from course.grading import grade
from course.layout import notebook_path, tool_env
from lms_downloads import ATTEMPTS, DUE, WEEK_LATER, blackboard_zip, canvas_zip, moodle_zip, plain_folder, \
    roster_csv
from notebook_factory import course_copy

ASSIGNMENT = "02_forward"
LAYOUTS = {"plain": plain_folder, "canvas": canvas_zip, "moodle": moodle_zip, "blackboard": blackboard_zip}
OUTSIDER = {"plain": "charles", "canvas": "104", "moodle": "504", "blackboard": "cbabbage"}


FULL = 8.0     # 02_forward's autograded points


def class_contents(generated):
    """attempt index (lms_downloads.WEEK_LATER) -> notebook bytes: ada's first try is unfinished, her
    resubmission right; alan right; charles forgot the bias in linear."""
    course = GradingCourse(generated)
    right = nbformat.writes(course.reference_submission(ASSIGNMENT)).encode()
    release = nbformat.writes(course.release_notebook(ASSIGNMENT)).encode()
    mistake = nbformat.writes(course.reference_submission(ASSIGNMENT, linear=MISTAKES["linear"][1])).encode()
    return {0: release, 1: right, 2: right, 3: mistake, 4: right}


def raw_scores(root):
    """{student: (autograded points, late penalty, timestamp)} of every submission in the gradebook."""
    db_url, _ = grade.course_settings(root)
    with Gradebook(db_url) as gb:
        return {s.student_id: (sum(g.auto_score or 0 for nb in s.notebooks for g in nb.grades),
                               s.late_submission_penalty, str(s.timestamp))
                for s in gb.assignment_submissions(ASSIGNMENT)}


def students(root):
    db_url, _ = grade.course_settings(root)
    with Gradebook(db_url) as gb:
        return {s.id: (s.first_name, s.last_name, s.email, s.lms_user_id) for s in gb.students}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lms")
    roster = roster_csv(tmp / "roster.csv")
    (tmp / "generated").mkdir()
    contents = class_contents(tmp / "generated")
    source = notebooks.read(notebook_path("source", ASSIGNMENT))
    courses = {}
    for layout, build in LAYOUTS.items():
        (tmp / layout).mkdir()
        root = course_copy(tmp / layout, {ASSIGNMENT: source})
        with open(root / "nbgrader_config.py", "a") as f:
            f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
        due = subprocess.run([sys.executable, "-m", "nbgrader", "db", "assignment", "add", ASSIGNMENT,
                              f"--duedate={DUE}"], cwd=root, env=tool_env(), capture_output=True, text=True)
        assert due.returncode == 0, due.stderr[-2000:]
        download = build(tmp / layout / (f"{layout}.zip" if layout != "plain" else "download"), ATTEMPTS, contents)
        if layout == "plain":  # a file that could be ada's or an "ada_lovelace"'s: graded for nobody
            (download / "ada_lovelace_forward.ipynb").write_bytes(contents[2])
        lines = []
        grade.main([ASSIGNMENT], from_path=download, roster=roster, workers=2, timeout=10, sandbox=False,
                   root=root, out=lines.append)
        courses[layout] = {"root": root, "scores": raw_scores(root), "students": students(root),
                           "report": (root / "grading" / "report.html").read_text(), "lines": lines}
    courses["plain"]["collisions"] = sorted(p.relative_to(courses["plain"]["root"] / "grading" / "collisions")
                                            for p in (courses["plain"]["root"] / "grading" / "collisions").rglob("*.*"))
    canvas = courses["canvas"]["root"]
    grade.main([ASSIGNMENT], from_path=canvas_zip(tmp / "canvas-week-later.zip", WEEK_LATER, contents),
               roster=roster, workers=2, timeout=10, sandbox=False, root=canvas, out=lambda line: None)
    courses["week later"] = {"scores": raw_scores(canvas), "students": students(canvas)}
    return courses


@pytest.mark.parametrize("layout", ["canvas", "moodle", "blackboard"])
def test_every_lms_grades_the_same_students_under_the_same_ids_as_the_plain_layout(graded, layout):
    plain, lms = graded["plain"]["scores"], graded[layout]["scores"]
    assert set(lms) == {"ada", "alan", OUTSIDER[layout]}
    assert {s: lms[s][0] for s in ("ada", "alan")} == {s: plain[s][0] for s in ("ada", "alan")} == \
        {"ada": FULL, "alan": FULL}     # ada's resubmission is graded, not her first try
    assert lms[OUTSIDER[layout]][0] == plain["charles"][0] < FULL
    ada = graded[layout]["students"]["ada"]
    assert ada[:3] == ("Ada", "Lovelace", "ada@uni.example")      # from the roster
    assert ada[3] == {"canvas": "101", "moodle": "501", "blackboard": "ada"}[layout]


@pytest.mark.parametrize("layout", ["canvas", "moodle", "blackboard"])
def test_late_work_gets_nbgraders_penalty_and_the_report_says_by_how_much(graded, layout):
    scores = graded[layout]["scores"]
    assert scores["alan"][1:] == (FULL, "2026-11-22 09:30:00")   # penalty "zero": all his points
    assert scores["ada"][1] == 0.0 and scores["ada"][2] == "2026-11-20 12:00:00"
    page = graded[layout]["report"]
    assert "<td>alan</td><td>02_forward</td><td>2026-11-22 09:30:00</td><td>2026-11-21 23:59:00</td>" \
           "<td>9 h 31 min</td><td>8</td>" in page
    assert "02_forward: grace (Grace Hopper)" in page and "not on the roster, graded as " + OUTSIDER[layout] in page
    assert graded["plain"]["scores"]["alan"][1] in (None, 0.0)   # no submission time in the plain layout
    assert graded[layout]["lines"][-1] == ("roster roster.csv (nbgrader): 1 graded students not on it, "
                                           "1 of its students with no submission (see the report)")


def test_a_file_that_could_be_two_students_is_kept_and_graded_for_nobody(graded):
    plain = graded["plain"]
    assert "ada_lovelace" not in plain["students"] and plain["scores"]["ada"][0] == FULL
    assert [str(p) for p in plain["collisions"]] == [
        "ada_lovelace/02_forward/1-ada_lovelace_forward.ipynb", "ada_lovelace/02_forward/2-ada_Copy_of_forward.ipynb",
        "ada_lovelace/02_forward/3-ada_forward.ipynb"]
    assert "ada_lovelace_forward.ipynb could be the work of ada_lovelace or ada: not graded" in plain["report"]
    assert any(line.startswith("1 submissions whose owner is in doubt were not graded") for line in plain["lines"])


def test_a_download_a_week_later_duplicates_nothing(graded):
    before, after = graded["canvas"], graded["week later"]
    assert set(after["students"]) == set(before["students"])
    assert set(after["scores"]) == set(before["scores"])
    assert after["scores"]["ada"][2] == "2026-11-27 09:00:00"   # her newest attempt, late this time
    assert after["scores"]["ada"][1] == FULL
