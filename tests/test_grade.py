"""`course grade` with real nbgrader on a small fixture class (tests/fixtures/build.py).

One class is graded once with 2 workers (module fixture) and the tests read what it
left: grades, report, feedback. Then it is graded again with 1 worker, and a part of
it by plain `nbgrader autograde`: the grades must not change.
"""
import hashlib
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from course.grading import grade
from course.authoring import notebooks
from course.layout import tool_env
import autograde_harness
from fixtures.build import FIXTURE_RULES, SOLUTIONS, fixture_source
from notebook_factory import course_copy

FIXTURES = Path(__file__).parent / "fixtures"
ASSIGNMENT = "02_forward"


def release():
    return notebooks.read(FIXTURES / "forward_release.ipynb")


def jupyter_file(**codes):
    return nbformat.writes(notebooks.fill_solutions(release(), {**SOLUTIONS, **codes})).encode()


# student -> (file name as handed in, content, expected points out of 3)
CLASS = {
    "plain": ("plain_forward.ipynb", jupyter_file(), 3),
    "colab": ("colab_Copy of forward.ipynb", (FIXTURES / "colab_saved.ipynb").read_bytes(), 3),
    "stripped": ("stripped_forward (1).ipynb", (FIXTURES / "colab_saved_stripped_metadata.ipynb").read_bytes(), 3),
    "wrong": ("wrong_forward.ipynb.json", jupyter_file(square="def square(x):\n    return x + x",
                                                       cube="def cube(x):\n    return x * x"), 0),
    "damaged": ("damaged_forward.ipynb", (FIXTURES / "damaged_truncated.ipynb").read_bytes(), 0),
    "loop": ("loop_forward.ipynb", jupyter_file(cube="def cube(x):\n    while True:\n        pass"), 2),
    "killed": ("killed_forward.ipynb", jupyter_file(cube="def cube(x):\n    import os\n    os._exit(1)"), 2),
}


def folder_digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir())}


def gradebook_rows(root):
    """Everything autograde writes, as plain comparable data."""
    return autograde_harness.gradebook_rows(grade.course_settings(root)[0], ASSIGNMENT)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grade")
    root = course_copy(tmp, {ASSIGNMENT: fixture_source()}, rules=FIXTURE_RULES)
    handed_in = tmp / "lms"
    handed_in.mkdir()
    for name, data, _ in CLASS.values():
        (handed_in / name).write_bytes(data)
    before = folder_digest(handed_in)
    lines = []
    records = grade.main([ASSIGNMENT], from_path=handed_in, workers=2, timeout=3, sandbox=False,
                         root=root, out=lines.append)
    return {"root": root, "handed_in": handed_in, "before": before, "lines": lines,
            "records": {r.student: r for r in records}}


def scores(root):
    db_url, _ = grade.course_settings(root)
    with Gradebook(db_url) as gb:
        return {s.student_id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


def test_each_student_gets_the_grade_of_their_own_work(graded):
    assert scores(graded["root"]) == {student: points for student, (_, _, points) in CLASS.items()}


def test_colab_saved_and_stripped_notebooks_are_normalized_and_logged(graded):
    records = graded["records"]
    assert any("'Copy of forward.ipynb' -> 'forward.ipynb'" in line for line in records["colab"].log)
    assert any("restored nbgrader metadata" in line for line in records["stripped"].log)
    assert records["plain"].log == [] and records["plain"].problem is None


def test_damaged_loop_and_killed_kernel_affect_only_their_own_student(graded):
    records = graded["records"]
    last_line = len(CLASS["damaged"][1].decode().splitlines())
    assert records["damaged"].problem == (f"forward.ipynb is not a valid notebook: the file is cut off at line "
                                          f"{last_line} (truncated JSON; download it again from Colab or Jupyter)")
    assert records["loop"].notes == ["cell 5 (test_cube) was stopped by the time limit (infinite loop?)"]
    assert records["killed"].notes == ["the kernel died at cell 5 (test_cube); the cells after it were not run"]
    assert all(not r.problem and not r.notes for s, r in records.items() if s not in ("damaged", "loop", "killed"))


def test_originals_are_never_modified(graded):
    assert folder_digest(graded["handed_in"]) == graded["before"]
    normalized = graded["root"] / "grading" / "normalized" / "stripped" / ASSIGNMENT / "forward.ipynb"
    assert notebooks.grade_id(notebooks.read(normalized).cells[1]) == "square"


def test_results_folder_has_grades_items_report_and_feedback(graded):
    root, results = graded["root"], graded["root"] / "grading"
    grades_csv = (results / "grades.csv").read_text().splitlines()
    assert grades_csv[0].startswith("assignment,duedate,timestamp,student_id") and len(grades_csv) == 1 + len(CLASS)
    items = (results / "items.csv").read_text().splitlines()
    assert "killed,02_forward,test_cube,0.0,1.0" in items and "killed,02_forward,test_square,2.0,2.0" in items
    assert len(items) == 1 + 2 * len(CLASS)
    page = (results / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    for text in ("sandbox: <b>off (--no-sandbox)</b>", "is not a valid notebook", "the kernel died at cell 5",
                 "restored nbgrader metadata", "02_forward / test_cube"):
        assert text in page
    for student in set(CLASS) - {"damaged"}:
        assert (root / "feedback" / student / ASSIGNMENT / "forward.html").exists()
        assert (root / "autograded" / student / ASSIGNMENT / "forward.ipynb").exists()
    assert graded["lines"][-1].startswith(f"graded {len(CLASS)} submissions of {len(CLASS)} students in ")
    assert any(line.startswith(f"[{'#' * 20}] {len(CLASS)}/{len(CLASS)} notebooks ({len(CLASS)}/{len(CLASS)} "
                               "students) graded, 3 with problems") for line in graded["lines"])


def test_feedback_shows_the_messages_but_not_the_hidden_tests(graded):
    root = graded["root"]
    autograded = (root / "autograded" / "wrong" / ASSIGNMENT / "forward.ipynb").read_text()
    assert "cube(2.0) differs from the expected value by 50%" in autograded  # the grader's verdict
    page = (root / "feedback" / "wrong" / ASSIGNMENT / "forward.html").read_text()
    html = unescape(re.sub(r"<[^>]+>", "", page))  # the text a student reads
    assert "✗ cube(2.0): cube(2.0) differs from the expected value by 50% - multiply x by itself three times" in html
    for hidden in ("course.judge", "square(-2) == 4", "HIDDEN TESTS", "check.call(student."):
        assert hidden not in html
    assert "check.call(student." not in autograded      # the rules never enter a notebook
    assert "assert square(3) == 9" in html  # the visible test stays


def test_regrading_with_one_worker_changes_nothing(graded):
    root = graded["root"]
    before = gradebook_rows(root)
    grade.main([ASSIGNMENT], from_path=graded["handed_in"], workers=1, timeout=3, sandbox=False,
               root=root, out=lambda line: None)
    assert gradebook_rows(root) == before


def test_plain_nbgrader_autograde_gives_the_same_grades(graded, tmp_path):
    """The normalized copies, graded by `nbgrader autograde` itself, score what `course grade` gave."""
    root = tmp_path / "course"  # the graded course's config, source and gradebook; new student ids
    root.mkdir()
    for name in ("nbgrader_config.py", "gradebook.db"):
        shutil.copy(graded["root"] / name, root / name)
    shutil.copytree(graded["root"] / "source", root / "source")
    students = ["stripped", "wrong"]
    for student in students:
        shutil.copytree(graded["root"] / "grading" / "normalized" / student, root / "submitted" / f"plain_{student}")
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=root,
                            env=tool_env(BACKPROP_SANDBOX="off"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    ours, theirs = scores(graded["root"]), scores(root)
    assert {s: theirs[f"plain_{s}"] for s in students} == {s: ours[s] for s in students}
