"""The written answers, graded by hand in nbgrader's formgrader in a real Chromium, reach the totals.

A tiny demo course (course.demo: one student, ada, complete work and the written question
answered; 02_forward only) is graded by `course grade`; then formgrader (JupyterLab with
nbgrader's server extension, tests/test_browser.py's Lab) shows the written answer as
needing a manual grade, an instructor types the point into it, and the student's total
on formgrader's student page goes up by that point, as does every export.
"""
import csv
import re
import shutil
import time

import pytest
from nbgrader.api import Gradebook

from course import demo
from course.grading import export, grade
from test_browser import Lab, chromium, require_chromium

ASSIGNMENT = "02_forward"
WRITTEN = "question_hand_tuned"      # 02_forward's written answer (1 point, graded by hand)


@pytest.fixture(scope="module")
def graded_demo(tmp_path_factory):
    require_chromium()
    course = demo.prepare_course(tmp_path_factory.mktemp("formgrader") / "course")
    for folder in ("source", "release"):
        for other in (course / folder).iterdir():
            if other.name != ASSIGNMENT:
                shutil.rmtree(other)
    archive = demo.build_class(course, 1, out=lambda line: None)
    grade.main(from_path=archive, workers=1, timeout=30, sandbox=False, root=course, out=lambda line: None)
    return course


def written_grade(course):
    db_url, _ = grade.course_settings(course)
    with Gradebook(db_url) as gb:
        cell = gb.find_grade(WRITTEN, "forward", ASSIGNMENT, "ada")
        return (cell.needs_manual_grade, cell.manual_score, gb.find_submission(ASSIGNMENT, "ada").score,
                gb.find_submission_notebook("forward", ASSIGNMENT, "ada").id)


def total_on_students_page(page, lab):
    """The 'score' cell of ada's row on formgrader's Manage Students page ('8 / 9')."""
    page.goto(lab.page_url("/formgrader/manage_students"))
    row = page.locator("tr", has=page.locator("td", has_text=re.compile(r"^ada$")))
    row.locator("td.score").filter(has_text="/").wait_for(timeout=60_000)
    return row.locator("td.score").inner_text().strip()


def exported_score(course, tmp_path):
    export.main("csv", root=course, to=tmp_path / "export", out=lambda line: None)
    with open(tmp_path / "export" / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}["ada"]


def test_a_written_answer_graded_in_formgrader_changes_the_students_total(graded_demo, tmp_path):
    needs_grade, manual, before, submission_id = written_grade(graded_demo)
    assert needs_grade and manual is None            # answered: waiting for a person
    assert exported_score(graded_demo, tmp_path / "before") == before
    lab = Lab(tmp_path, root=graded_demo, instructor=True)
    try:
        with chromium(tmp_path / "chromium-profile") as browser:
            page = browser.new_page()
            assert total_on_students_page(page, lab) == f"{before:g} / {before + 1:g}"
            page.goto(lab.page_url(f"/formgrader/submissions/{submission_id}/"))
            waiting = page.locator("input.score.needs_manual_grade")
            waiting.first.wait_for(timeout=60_000)
            assert waiting.count() == 1                  # the written answer, and nothing else
            waiting.fill("1")
            waiting.press("Tab")                         # formgrader saves on change
            deadline = time.monotonic() + 30
            while written_grade(graded_demo)[1] is None and time.monotonic() < deadline:
                time.sleep(0.25)
            assert total_on_students_page(page, lab) == f"{before + 1:g} / {before + 1:g}"
    finally:
        lab.stop()
    needs_grade, manual, after, _ = written_grade(graded_demo)
    assert (needs_grade, manual, after) == (False, 1.0, before + 1)
    assert exported_score(graded_demo, tmp_path / "after") == before + 1
